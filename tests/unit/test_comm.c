/* test_comm.c — comm.c's collectives under several ranks (ctest runs it
 * with mpirun at 1, 2 and 3 ranks): comm_agree hands every rank the lowest
 * failing rank's code and message, prefixed once; comm_gatherv gathers blocks of every
 * size in rank order, and a block or a whole too large for MPI's int counts
 * is an error on every rank, not a rank left in a gather the others have
 * left (a later collective still meets). Every rank runs every test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clickseg/comm.h"

static cs_comm g_comm;   /* MPI_COMM_WORLD, set once in main */

static void test_agree(void **state)
{
    (void)state;
    const cs_comm *c = &g_comm;
    cs_err err;
    cs_err_clear(&err);
    assert_int_equal(comm_agree(c, &err), CS_OK);
    /* The last rank and, with three or more, rank 1 fail: rank 1's wins. */
    int last = c->size - 1, first = c->size > 2 ? 1 : last;
    if (c->rank == last)
        cs_err_set(&err, CS_EINPUT, "bad rows at the end");
    if (c->rank == 1 && c->size > 2)
        cs_err_set(&err, CS_ENOMEM, "no memory for rows");
    int rc = comm_agree(c, &err);
    assert_int_equal(rc, first == last ? CS_EINPUT : CS_ENOMEM);
    char want[128];
    if (c->size > 1)
        snprintf(want, sizeof want, "rank %d: %s", first,
                 first == last ? "bad rows at the end" : "no memory for rows");
    else
        snprintf(want, sizeof want, "bad rows at the end");
    assert_string_equal(err.msg, want);
    /* Agreed again (an error passed up through a second agreement): every
     * rank fails now, rank 0 is the lowest, and the message keeps its one
     * prefix instead of growing "rank 0: rank 1: ...". */
    assert_int_equal(comm_agree(c, &err), rc);
    assert_string_equal(err.msg, want);
}

/* Rank 0 failing (the plan, the outputs) gives its message as it is,
 * without "rank 0: ", on every rank; so does a message already agreed. */
static void test_agree_rank0(void **state)
{
    (void)state;
    const cs_comm *c = &g_comm;
    cs_err err;
    cs_err_clear(&err);
    if (c->rank == 0 || c->rank == c->size - 1)
        cs_err_set(&err, CS_EIO, "archive.h5: cannot open (rank %d)", c->rank);
    assert_int_equal(comm_agree(c, &err), CS_EIO);
    assert_string_equal(err.msg, "archive.h5: cannot open (rank 0)");
}

static void test_gatherv(void **state)
{
    (void)state;
    const cs_comm *c = &g_comm;
    cs_err err;
    cs_err_clear(&err);
    /* Rank r sends r + 1 bytes of value r (rank 0 one byte, and so on). */
    unsigned char mine[64];
    memset(mine, c->rank, sizeof mine);
    void *all = NULL;
    uint64_t counts[64];
    assert_int_equal(comm_gatherv(c, mine, (uint64_t)c->rank + 1, &all, counts, &err), CS_OK);
    if (c->rank == 0) {
        const unsigned char *p = all;
        for (int r = 0; r < c->size; r++) {
            assert_int_equal(counts[r], r + 1);
            for (int i = 0; i <= r; i++)
                assert_int_equal(*p++, r);
        }
    } else {
        assert_null(all);
    }
    free(all);
    /* Nothing from anyone: rank 0 still gets a buffer and zero counts. */
    all = NULL;
    assert_int_equal(comm_gatherv(c, mine, 0, &all, counts, &err), CS_OK);
    if (c->rank == 0) {
        assert_non_null(all);
        for (int r = 0; r < c->size; r++)
            assert_int_equal(counts[r], 0);
    }
    free(all);
}

/* Sizes past MPI's int counts fail on every rank before any data moves
 * (the buffers are never read, so a small one stands for the large block). */
static void test_gatherv_too_large(void **state)
{
    (void)state;
    const cs_comm *c = &g_comm;
    cs_err err;
    unsigned char small[8] = {0};
    uint64_t counts[64];
    void *all = NULL;
    /* One rank's block (the last one's) is over 2 GiB. */
    cs_err_clear(&err);
    uint64_t bytes = c->rank == c->size - 1 ? (uint64_t)INT_MAX + 1 : 1;
    assert_int_equal(comm_gatherv(c, small, bytes, &all, counts, &err), CS_EINTERNAL);
    assert_non_null(strstr(err.msg, "gather block of 2147483648 bytes is too large"));
    assert_null(all);
    /* Each block fits, the whole does not (only with two ranks or more). */
    if (c->size > 1) {
        cs_err_clear(&err);
        bytes = (uint64_t)INT_MAX / 2 + 1;
        assert_int_equal(comm_gatherv(c, small, bytes, &all, counts, &err), CS_EINTERNAL);
        assert_non_null(strstr(err.msg, "gathered blocks of"));
        assert_null(all);
    }
    /* Every rank left both calls together: the next collective meets. */
    cs_err_clear(&err);
    int64_t one = 1;
    assert_int_equal(comm_sum_i64(c, &one, 1, 1, &err), CS_OK);
    assert_int_equal(one, c->size);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    comm_world(&g_comm);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_agree),
        cmocka_unit_test(test_agree_rank0),
        cmocka_unit_test(test_gatherv),
        cmocka_unit_test(test_gatherv_too_large),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    MPI_Finalize();
    return failed;
}
