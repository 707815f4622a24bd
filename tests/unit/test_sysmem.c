/* test_sysmem.c — the plan-time memory check: a budget that fits passes,
 * one that does not is CS_ENOMEM with the figures and a fix that fits, an
 * unknown amount never blocks a job, and this machine's figure is read;
 * the cgroup limit is found on the job's cgroup above the task's (Slurm's
 * layout, v2 and v1, in a tree written here). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clickseg/sysmem.h"

#define GIB (INT64_C(1) << 30)

static void test_budget_fits(void **state)
{
    (void)state;
    cs_sysmem m = {8 * GIB, "test"};
    cs_err err;
    cs_err_clear(&err);
    assert_int_equal(sysmem_check_budget(2 * GIB, 4, "n1", 0, &m, &err), CS_OK);   /* exactly */
    assert_int_equal(err.code, CS_OK);
    assert_int_equal(sysmem_check_budget(2 * GIB + 1, 4, "n1", 0, &m, &err), CS_ENOMEM);
}

static void test_budget_message(void **state)
{
    (void)state;
    cs_sysmem m = {8 * GIB, "MemAvailable in /proc/meminfo"};
    cs_err err;
    cs_err_clear(&err);
    assert_int_equal(sysmem_check_budget(1024 * GIB, 3, "node7", 0, &m, &err), CS_ENOMEM);
    assert_non_null(strstr(err.msg, "1.0 TiB per rank x 3 ranks on node node7 = 3.0 TiB"));
    assert_non_null(strstr(err.msg, "only 8.0 GiB is available (MemAvailable"));
    /* 8 GiB / 3 = 2730 MiB fit; the example leaves a quarter free */
    assert_non_null(strstr(err.msg, "below 2730M"));
    assert_non_null(strstr(err.msg, "--set memory_per_rank=2047M"));
    assert_non_null(strstr(err.msg, "more nodes"));
    /* --window-events: the fix is in rows of 256 bytes */
    assert_int_equal(sysmem_check_budget(256 * INT64_C(100000000), 2, "n", 256, &m, &err),
                     CS_ENOMEM);
    assert_non_null(strstr(err.msg, "lower --window-events below 16777216"));
    /* less than 1 MiB a rank: only fewer ranks help */
    cs_sysmem tiny = {3 << 20, "test"};
    assert_int_equal(sysmem_check_budget(GIB, 4, "n", 0, &tiny, &err), CS_ENOMEM);
    assert_non_null(strstr(err.msg, "run fewer ranks on this node"));
}

static void test_budget_unknown_and_huge(void **state)
{
    (void)state;
    cs_sysmem unknown = {0, "none"};
    cs_err err;
    cs_err_clear(&err);
    assert_int_equal(sysmem_check_budget(INT64_MAX, 64, "n", 0, &unknown, &err), CS_OK);
    /* the product saturates instead of wrapping to a small number */
    cs_sysmem m = {8 * GIB, "test"};
    assert_int_equal(sysmem_check_budget(INT64_MAX / 2 + 1, 4, "n", 0, &m, &err), CS_ENOMEM);
}

static void test_query(void **state)
{
    (void)state;
    cs_sysmem m;
    sysmem_query(&m);
    assert_true(m.available > 0);   /* Linux: /proc/meminfo always has it */
    assert_non_null(m.source);
}

/* Writes text into dir/rel, making the directories on the way. */
static void put(const char *dir, const char *rel, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    for (char *s = p + strlen(dir) + 1; (s = strchr(s, '/')) != NULL; s++) {
        *s = '\0';
        mkdir(p, 0755);
        *s = '/';
    }
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_cgroup_ancestors(void **state)
{
    (void)state;
    char dir[] = "/tmp/cs_sysmem_XXXXXX", proc[600];
    assert_non_null(mkdtemp(dir));
    /* v2, as Slurm's task/cgroup lays it out: --mem on the job (4 GiB, 1 GiB
     * used), the step looser (8 GiB), the task unlimited ("max") */
    snprintf(proc, sizeof proc, "%s/cgroup-v2", dir);
    put(dir, "cgroup-v2", "0::/system.slice/slurmstepd.scope/job_5/step_0/user/task_0\n");
    put(dir, "fs/system.slice/slurmstepd.scope/job_5/memory.max", "4294967296\n");
    put(dir, "fs/system.slice/slurmstepd.scope/job_5/memory.current", "1073741824\n");
    put(dir, "fs/system.slice/slurmstepd.scope/job_5/step_0/memory.max", "8589934592\n");
    put(dir, "fs/system.slice/slurmstepd.scope/job_5/step_0/memory.current", "536870912\n");
    put(dir, "fs/system.slice/slurmstepd.scope/job_5/step_0/user/task_0/memory.max", "max\n");
    put(dir, "fs/system.slice/slurmstepd.scope/job_5/step_0/user/task_0/memory.current", "1\n");
    char root[600];
    snprintf(root, sizeof root, "%s/fs", dir);
    assert_int_equal(sysmem_cgroup_room(proc, root), 3 * GIB);
    /* v1: the job's limit under the memory controller, the task's "none" */
    snprintf(proc, sizeof proc, "%s/cgroup-v1", dir);
    put(dir, "cgroup-v1", "12:pids:/slurm\n4:memory:/slurm/uid_0/job_7/step_0/task_0\n");
    put(dir, "fs/memory/slurm/uid_0/job_7/memory.limit_in_bytes", "2147483648\n");
    put(dir, "fs/memory/slurm/uid_0/job_7/memory.usage_in_bytes", "536870912\n");
    put(dir, "fs/memory/slurm/uid_0/job_7/step_0/task_0/memory.limit_in_bytes",
        "9223372036854771712\n");
    assert_int_equal(sysmem_cgroup_room(proc, root), GIB + GIB / 2);
    /* the job's cgroup full, but 3 GiB of it inactive page cache an earlier
     * step left (v2 inactive_file, v1 total_inactive_file): that is room */
    put(dir, "fs/system.slice/slurmstepd.scope/job_5/memory.current", "4294967296\n");
    put(dir, "fs/system.slice/slurmstepd.scope/job_5/memory.stat",
        "anon 1073741824\nfile 3221225472\nactive_file 0\ninactive_file 3221225472\n");
    snprintf(proc, sizeof proc, "%s/cgroup-v2", dir);
    assert_int_equal(sysmem_cgroup_room(proc, root), 3 * GIB);
    put(dir, "fs/memory/slurm/uid_0/job_7/memory.usage_in_bytes", "2147483648\n");
    put(dir, "fs/memory/slurm/uid_0/job_7/memory.stat",
        "cache 1610612736\ninactive_file 1\ntotal_inactive_file 1610612736\n");
    snprintf(proc, sizeof proc, "%s/cgroup-v1", dir);
    assert_int_equal(sysmem_cgroup_room(proc, root), GIB + GIB / 2);
    /* a path outside the namespace's view is not walked up */
    snprintf(proc, sizeof proc, "%s/cgroup-out", dir);
    put(dir, "cgroup-out", "0::/../../job_5\n");
    assert_int_equal(sysmem_cgroup_room(proc, root), 0);
    /* no limit anywhere, and no such file */
    snprintf(proc, sizeof proc, "%s/cgroup-free", dir);
    put(dir, "cgroup-free", "0::/user.slice/session-1.scope\n");
    assert_int_equal(sysmem_cgroup_room(proc, root), 0);
    snprintf(proc, sizeof proc, "%s/none", dir);
    assert_int_equal(sysmem_cgroup_room(proc, root), 0);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_budget_fits),
        cmocka_unit_test(test_budget_message),
        cmocka_unit_test(test_budget_unknown_and_huge),
        cmocka_unit_test(test_query),
        cmocka_unit_test(test_cgroup_ancestors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
