/* sysmem.c — available memory of the node and the budget check (see
 * sysmem.h). */
#include "clickseg/sysmem.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* MemAvailable from /proc/meminfo in bytes; 0 when absent. */
static int64_t meminfo_available(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f)
        return 0;
    char line[256];
    long long kb = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %lld kB", &kb) == 1)
            break;
    fclose(f);
    return kb > 0 ? (int64_t)kb * 1024 : 0;
}

/* Reads one integer from a file; 0 when absent or "max". */
static int64_t read_i64(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    long long v = 0;
    if (fscanf(f, "%lld", &v) != 1)
        v = 0;
    fclose(f);
    return v > 0 ? (int64_t)v : 0;
}

/* The value of `key` in a memory.stat file ("key N" lines); 0 when absent. */
static int64_t stat_value(const char *path, const char *key)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char name[64];
    long long v, found = 0;
    while (fscanf(f, "%63s %lld", name, &v) == 2)
        if (strcmp(name, key) == 0) {
            found = v;
            break;
        }
    fclose(f);
    return found > 0 ? (int64_t)found : 0;
}

/* The least room under a memory limit of cgroup `path` (below `root`) and
 * its ancestors: Slurm's task/cgroup sets --mem on the job's cgroup, and
 * the task's own, a few levels down, says "max". The usage counts the page
 * cache the cgroup's earlier steps left (a copy to scratch, a generate
 * before the run): its inactive part, which the kernel reclaims before it
 * would kill anyone, is room (as in MemAvailable). 0 when none has a limit
 * (v1 reports "no limit" as a huge number). */
static int64_t room_up(const char *root, const char *path, const char *limf, const char *usef,
                       const char *inactive)
{
    char p[1024], lim[1200], use[1200], st[1200];
    if (strstr(path, ".."))   /* a cgroup outside this namespace's view */
        return 0;
    snprintf(p, sizeof p, "%s", path);
    int64_t room = 0;
    for (;;) {
        size_t n = strlen(p);
        while (n > 0 && p[n - 1] == '/')
            p[--n] = '\0';
        snprintf(lim, sizeof lim, "%s%s/%s", root, p, limf);
        snprintf(use, sizeof use, "%s%s/%s", root, p, usef);
        snprintf(st, sizeof st, "%s%s/memory.stat", root, p);
        int64_t l = read_i64(lim), u = read_i64(use);
        if (l > 0 && l < (INT64_C(1) << 60)) {
            int64_t cache = stat_value(st, inactive);
            u = cache < u ? u - cache : 0;
            int64_t r = l > u ? l - u : 1;
            if (!room || r < room)
                room = r;
        }
        char *s = strrchr(p, '/');
        if (!s)
            break;
        *s = '\0';
    }
    return room;
}

int64_t sysmem_cgroup_room(const char *proc_cgroup, const char *fs_root)
{
    FILE *f = fopen(proc_cgroup, "r");
    if (!f)
        return 0;
    char line[1024], root[1100];
    int64_t room = 0;
    while (!room && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *path = NULL;
        if (strncmp(line, "0::", 3) == 0) {
            room = room_up(fs_root, line + 3, "memory.max", "memory.current", "inactive_file");
        } else if ((path = strstr(line, ":memory:")) != NULL) {
            snprintf(root, sizeof root, "%s/memory", fs_root);
            room = room_up(root, path + 8, "memory.limit_in_bytes", "memory.usage_in_bytes",
                           "total_inactive_file");
        }
    }
    fclose(f);
    return room;
}

void sysmem_query(cs_sysmem *m)
{
    m->available = meminfo_available();
    m->source = "MemAvailable in /proc/meminfo";
    int64_t room = sysmem_cgroup_room("/proc/self/cgroup", "/sys/fs/cgroup");
    if (room > 0 && (m->available == 0 || room < m->available)) {
        m->available = room;
        m->source = "room left under the cgroup memory limit (e.g. Slurm's --mem)";
    }
}

/* "1.5 GiB"-style text of a byte count. */
/* In double: the product of a huge budget and the node's ranks is named as
 * it is, not as the int64 it saturates to. */
static void human(double b, char *buf, size_t n)
{
    static const char *const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double v = b;
    int u = 0;
    while (v >= 1024 && u < 6) {
        v /= 1024;
        u++;
    }
    snprintf(buf, n, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

int sysmem_check_budget(int64_t per_rank, int node_ranks, const char *node,
                        int64_t event_bytes, const cs_sysmem *m, cs_err *err)
{
    if (m->available <= 0 || node_ranks <= 0 || per_rank <= 0)
        return CS_OK;
    int64_t need = per_rank > INT64_MAX / node_ranks ? INT64_MAX : per_rank * node_ranks;
    if (need <= m->available)
        return CS_OK;
    char a[32], b[32], c[32], fix[256];
    human((double)per_rank, a, sizeof a);
    human((double)per_rank * node_ranks, b, sizeof b);
    human((double)m->available, c, sizeof c);
    /* What fits, less a quarter for the user table and carried events. */
    int64_t fit = m->available / node_ranks, hint = fit / 4 * 3;
    if (fit < (1 << 20))
        snprintf(fix, sizeof fix, "run fewer ranks on this node");
    else if (event_bytes > 0)
        snprintf(fix, sizeof fix, "lower --window-events below %" PRId64 " (e.g. --window-events "
                 "%" PRId64 "; results stay the same), or spread the job over more nodes (fewer "
                 "ranks per node)", fit / event_bytes, hint / event_bytes);
    else
        snprintf(fix, sizeof fix, "lower memory_per_rank below %" PRId64 "M, leaving room for "
                 "the user table (e.g. --set memory_per_rank=%" PRId64 "M; windows get smaller, "
                 "results stay the same), or spread the job over more nodes (fewer ranks per "
                 "node)", fit >> 20, hint >> 20);
    return cs_err_set(err, CS_ENOMEM, "%s per rank x %d rank%s on node %s = %s, but only %s is "
                      "available (%s): %s", a, node_ranks, node_ranks == 1 ? "" : "s", node, b,
                      c, m->source, fix);
}
