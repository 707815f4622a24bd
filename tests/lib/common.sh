# Shared helpers for the end-to-end tests (sourced, not run).
# Every test gets CLICKSEG, NRANKS, SRCDIR, WORKDIR from CTest.
set -euo pipefail
: "${CLICKSEG:?CLICKSEG must point at the clickseg binary}"
: "${NRANKS:=2}"
: "${SRCDIR:?}"
: "${WORKDIR:?}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_mpi_yield_when_idle=1
# No network interfaces but loopback are needed on one machine; ob1 over
# them starts 0.2 s faster than UCX (jobs/lib/mpi-env.sh).
export OMPI_MCA_btl=self,vader OMPI_MCA_pml=ob1
# mpirun waits odls_base_sigkill_timeout (1 s), twice, after a rank exits
# non-zero before it returns: 2 s of every failing case at 1 and 2 ranks
# (0.2 s with it at 0). The tests check messages and exit codes, not that
# grace; test_kill and test_kill_resume restore the default, which is what
# they check, and test_valgrind, whose ranks write their reports as they end.
export OMPI_MCA_odls_base_sigkill_timeout=0
PY=/usr/bin/python3
rm -rf "$WORKDIR"
mkdir -p "$WORKDIR"
cd "$WORKDIR"

# mpi N cmd... : run under mpirun with N ranks, with a deadline so that a
# hang fails the test instead of stalling CI.
mpi() {
    local n=$1; shift
    timeout --kill-after=5 "${MPI_TIMEOUT:-300}" mpirun -n "$n" --oversubscribe "$@"
}

fail() { echo "FAIL: $*" >&2; exit 1; }

# expect_fail CODE PATTERN cmd... : the command must exit with CODE and
# print PATTERN (grep -E) on stderr.
expect_fail() {
    local code=$1 pat=$2; shift 2
    local rc=0
    "$@" >out.txt 2>err.txt || rc=$?
    [ "$rc" -eq "$code" ] || { cat err.txt >&2; fail "expected exit $code, got $rc: $*"; }
    grep -Eq -- "$pat" err.txt || { cat err.txt >&2; fail "stderr lacks /$pat/: $*"; }
}

# preload_shim NAME: builds tests/lib/NAME.c into ./NAME.so, for
# LD_PRELOAD; the test is skipped (exit 77) under ASan, whose runtime must
# be the first library.
preload_shim() {
    ldd "$CLICKSEG" > ldd.txt
    if grep -q libasan ldd.txt; then echo "skipped under ASan"; exit 77; fi
    cc -shared -fPIC -O1 -o "$1.so" "$SRCDIR/lib/$1.c" -ldl
}
