#!/bin/bash
# ranks: 2 3
# An allocation of clickseg's own that fails on one rank (an LD_PRELOAD
# shim, tests/lib/fail_alloc.c, fails the FAIL_ALLOC_AT-th malloc, calloc,
# realloc or strdup called from the executable on rank FAIL_ALLOC_RANK;
# Open MPI's, HDF5's and libc's own are never failed). For positions spread
# over the whole of a run (on rank 1 the first 10, then evenly and
# log-uniformly spread up to the count the shim reports; on rank 0 the
# same spread), the
# job ends (no rank left waiting in a collective the failing rank has
# left), with exit 6 and one error line naming out of memory, no rank dies
# of a signal, and no output is left; or, where a failed allocation has a
# fallback, exit 0 and the report of an unfailed run. The same for
# `inspect` at 6 positions on rank 1 (exit 6, not a PROBLEM line calling the
# archive unusable), and `generate` at its first 12 on rank 1 (an archive equal to
# the unfailed one where it ends 0). A failure prints the position to replay:
#   mpirun -n N -x LD_PRELOAD=fail_alloc.so -x FAIL_ALLOC_RANK=R \
#       -x FAIL_ALLOC_AT=K clickseg run -q -i arch -o out
# (FAIL_ALLOC_WHERE=1 also prints the failing call's address, for
# addr2line -f -i -e clickseg). Skipped under ASan, whose runtime must be
# the first library.
set -euo pipefail
source "${SRCDIR:?}/lib/common.sh"
CMP="$PY $SRCDIR/lib/compare.py"
preload_shim fail_alloc
mpi 1 "$CLICKSEG" generate -o arch -n 20000 -d 3 -f 3 --seed 7 > /dev/null
mpi "$NRANKS" "$CLICKSEG" run -q -i arch -o whole
mpi "$NRANKS" "$CLICKSEG" inspect arch > inspect.txt
shim() {
    MPI_TIMEOUT=60 mpi "$NRANKS" -x LD_PRELOAD="$PWD/fail_alloc.so" -x FAIL_ALLOC_RANK \
        -x FAIL_ALLOC_AT -x FAIL_ALLOC_COUNT "$@"
}

# CMD OUT: ARGV, the command under test, writing to OUT (run) or stdout
# (inspect).
argv_of() {
    case $1 in
    run) ARGV=(run -q -i arch -o "$2") ;;
    generate) ARGV=(generate -q -o "$2" -n 20000 -d 3 -f 3 --seed 7) ;;
    *) ARGV=(inspect arch) ;;
    esac
}

# Allocations clickseg makes on rank R during an unfailed CMD.
count_allocs() {
    argv_of "$1" counted
    FAIL_ALLOC_RANK=$2 FAIL_ALLOC_AT=0 FAIL_ALLOC_COUNT=1 \
        shim "$CLICKSEG" "${ARGV[@]}" > /dev/null 2> count.txt
    rm -rf counted
    local n
    n=$(awk '/^fail_alloc: [0-9]+ allocations/ {print $2}' count.txt)
    [ -n "$n" ] && [ "$n" -gt 0 ] || { cat count.txt >&2; fail "the shim counted nothing: $1 on rank $2"; }
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

# CMD R K: CMD with allocation K failing on rank R.
try_position() {
    local cmd=$1 r=$2 k=$3 out=o_$2_$3 rc=0
    local replay="replay $cmd with FAIL_ALLOC_RANK=$r FAIL_ALLOC_AT=$k ($NRANKS ranks)"
    argv_of "$cmd" "$out"
    FAIL_ALLOC_RANK=$r FAIL_ALLOC_AT=$k FAIL_ALLOC_COUNT=0 \
        shim "$CLICKSEG" "${ARGV[@]}" > out.txt 2> err.txt || rc=$?
    [ "$rc" != 124 ] && [ "$rc" != 137 ] || { cat err.txt >&2; fail "hang: $replay"; }
    ! grep -Eq "Segmentation fault|signal [0-9]+|Signal:" err.txt ||
        { cat err.txt >&2; fail "a rank died of a signal (exit $rc): $replay"; }
    if [ "$rc" = 0 ]; then   # a fallback: the same results as without it
        if [ "$cmd" = run ]; then
            $CMP --same whole "$out" > cmp.txt 2>&1 || { cat cmp.txt >&2; fail "exit 0, another report: $replay"; }
        elif [ "$cmd" = generate ]; then
            $PY "$SRCDIR/lib/h5same.py" arch "$out" >&2 || fail "exit 0, another archive: $replay"
        else
            diff inspect.txt out.txt >&2 || fail "exit 0, another inspection: $replay"
        fi
        rm -rf "$out"
        return
    fi
    [ "$(grep -c "clickseg $cmd: error" err.txt)" = 1 ] ||
        { cat err.txt >&2; fail "expected one error line (exit $rc): $replay"; }
    [ "$rc" = 6 ] && grep -q "clickseg $cmd: error: .*out of memory" err.txt ||
        { cat err.txt >&2; fail "expected exit 6, out of memory (exit $rc): $replay"; }
    [ ! -e "$out" ] && ! ls -d "$out".tmp.* > /dev/null 2>&1 || fail "output left behind: $replay"
}

tried=0
# run on both ranks; inspect (fewer allocations: each rank inspects its
# files) on rank 1; generate on rank 1 (its 11th allocation, the second
# file's writer, once left the other ranks waiting in the file's
# collective create).
for case in "run 1 10 8 8" "run 0 3 8 6" "inspect 1 0 6 0" "generate 1 12 0 0"; do
    set -- $case
    n=$(count_allocs "$1" "$2")
    for k in $(positions "$3" "$4" "$5" "$n"); do
        try_position "$1" "$2" "$k"
        tried=$((tried + 1))
    done
    echo "$1 on rank $2: $n allocations"
done
echo "test_alloc_fail: ok ($tried positions)"
