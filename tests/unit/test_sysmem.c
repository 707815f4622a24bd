/* test_sysmem.c — the plan-time memory check: a budget that fits passes,
 * one that does not is CS_ENOMEM with the figures and a fix that fits, an
 * unknown amount never blocks a job, and this machine's figure is read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_budget_fits),
        cmocka_unit_test(test_budget_message),
        cmocka_unit_test(test_budget_unknown_and_huge),
        cmocka_unit_test(test_query),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
