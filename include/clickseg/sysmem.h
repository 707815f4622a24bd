/* sysmem.h — how much memory this node can give the job, and the plan-time
 * check that the job's memory budget fits it.
 *
 * `run` calls sysmem_check_budget on every rank before planning, so a
 * budget the node cannot hold stops the job with a message saying how to
 * fix it, instead of the kernel killing a rank mid-run with nothing
 * printed. Pure C (Linux /proc and /sys), no MPI. */
#ifndef CLICKSEG_SYSMEM_H
#define CLICKSEG_SYSMEM_H

#include <stdint.h>

#include "clickseg/error.h"

typedef struct cs_sysmem {
    int64_t available;      /* bytes the job may still use; 0 = unknown */
    const char *source;     /* where that figure comes from, for messages */
} cs_sysmem;

/* The node's MemAvailable (/proc/meminfo), lowered to the room left under
 * this process's cgroup memory limit (v2 memory.max or v1
 * memory.limit_in_bytes) when one is set, as under Slurm. Never fails:
 * available = 0 when nothing can be read. */
void sysmem_query(cs_sysmem *m);

/* The least room (limit - usage) under a memory limit of the cgroup that
 * proc_cgroup (a /proc/self/cgroup) names and its ancestors, read below
 * fs_root (/sys/fs/cgroup; v1's memory controller under fs_root/memory);
 * 0 when none has one. sysmem_query's cgroup figure; tests give a tree of
 * their own. */
int64_t sysmem_cgroup_room(const char *proc_cgroup, const char *fs_root);

/* CS_OK when node_ranks × per_rank bytes fit m->available (or that is
 * unknown); otherwise CS_ENOMEM naming the node, the figures and the fixes:
 * a smaller budget (what fits is suggested) or fewer ranks per node. The
 * budget is memory_per_rank when event_bytes = 0, else --window-events
 * rows of event_bytes each (the fix is then given in rows). The caller
 * names the key. */
int sysmem_check_budget(int64_t per_rank, int node_ranks, const char *node,
                        int64_t event_bytes, const cs_sysmem *m, cs_err *err);

#endif
