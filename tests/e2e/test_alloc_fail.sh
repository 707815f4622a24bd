#!/bin/bash
# ranks: 3
# cost: 40
# An allocation of clickseg's own that fails on one rank (an LD_PRELOAD
# shim, tests/lib/fail_alloc.c, fails the FAIL_ALLOC_AT-th malloc, calloc,
# realloc or strdup called from the executable on rank FAIL_ALLOC_RANK;
# Open MPI's, HDF5's and libc's own are never failed), for `run`, `inspect`
# and `generate` (test_alloc_fail_cmds.sh: `import`, `merge`, `report`).
# For positions spread over the whole of a run (on rank 1 the first 10,
# then evenly and log-uniformly spread up to the count the shim reports;
# on rank 0 the same spread), the job ends (no rank left waiting in a
# collective the failing rank has left), with exit 6 and one error line
# naming out of memory, no rank dies of a signal, and no output is left;
# or, where a failed allocation has a fallback, exit 0 and the report of
# an unfailed run (report.h5's numbers, and a page with the same sections
# and charts). The same for `inspect` at 6 positions on rank 1 (exit 6,
# not a PROBLEM line calling the archive unusable), and `generate` at its
# first 12 on rank 1 (an archive equal to the unfailed one where it ends
# 0). The sweep and its replay line: tests/lib/alloc_fail.sh. Run at 3
# ranks only: at 2 as well, it cost the suite another 80 s.
set -euo pipefail
source "${SRCDIR:?}/lib/common.sh"
source "$SRCDIR/lib/alloc_fail.sh"
CMP="$PY $SRCDIR/lib/compare.py"
mpi 1 "$CLICKSEG" generate -o arch -n 20000 -d 3 -f 3 --seed 7 > /dev/null
mpi "$NRANKS" "$CLICKSEG" run -q -i arch -o whole
mpi "$NRANKS" "$CLICKSEG" inspect arch > inspect.txt

# CMD OUT: ARGV, the command under test, writing to OUT (run, generate)
# or stdout (inspect).
argv_of() {
    NP=$NRANKS
    case $1 in
    run) ARGV=(run -q -i arch -o "$2") ;;
    generate) ARGV=(generate -q -o "$2" -n 20000 -d 3 -f 3 --seed 7) ;;
    *) ARGV=(inspect arch) ;;
    esac
}

same_result() {
    case $1 in
    run) $CMP --same whole "$2" > cmp.txt 2>&1 && same_page whole "$2" || { cat cmp.txt >&2; return 1; } ;;
    generate) $PY "$SRCDIR/lib/h5same.py" arch "$2" >&2 ;;
    *) diff inspect.txt out.txt >&2 ;;
    esac
}

# run on both ranks; inspect (fewer allocations: each rank inspects its
# files) on rank 1; generate on rank 1 (its 11th allocation, the second
# file's writer, once left the other ranks waiting in the file's
# collective create).
sweep "run 1 10 8 8" "run 0 3 8 6" "inspect 1 0 6 0" "generate 1 12 0 0"
echo "test_alloc_fail: ok ($TRIED positions)"
