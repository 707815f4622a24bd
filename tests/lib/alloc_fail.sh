# The allocation-failure sweep of test_alloc_fail.sh and
# test_alloc_fail_cmds.sh (sourced after common.sh; not run): the shim
# (tests/lib/fail_alloc.c) built, a command run with it, the positions to
# try and the checks of one. The test defines
#   argv_of CMD OUT      sets ARGV, the arguments of CMD writing to OUT (a
#                        directory or a file; stdout goes to out.txt), and NP,
#                        its ranks (0: one process without mpirun, rank 0)
#   same_result CMD OUT  succeeds when OUT and out.txt are what the unfailed
#                        CMD gave (a failed allocation with a fallback)
# and calls sweep "CMD RANK FIRST EVEN LOG"... A failure prints the position
# to replay:
#   mpirun -n N -x LD_PRELOAD=fail_alloc.so -x FAIL_ALLOC_RANK=R \
#       -x FAIL_ALLOC_AT=K clickseg CMD ...
# (FAIL_ALLOC_WHERE=1 also prints the failing call's address, for
# addr2line -f -i -e clickseg). Skipped under ASan, whose runtime must be
# the first library.
preload_shim fail_alloc

# NP cmd...: cmd with the shim, on NP ranks under mpirun (0: one process
# without it), with a deadline.
shim() {
    local np=$1; shift
    if [ "$np" = 0 ]; then
        LD_PRELOAD="$PWD/fail_alloc.so" timeout --kill-after=5 60 "$@"
    else
        MPI_TIMEOUT=60 mpi "$np" -x LD_PRELOAD="$PWD/fail_alloc.so" -x FAIL_ALLOC_RANK \
            -x FAIL_ALLOC_AT -x FAIL_ALLOC_COUNT "$@"
    fi
}

# Allocations clickseg makes on rank R during an unfailed CMD.
count_allocs() {
    argv_of "$1" counted
    FAIL_ALLOC_RANK=$2 FAIL_ALLOC_AT=0 FAIL_ALLOC_COUNT=1 \
        shim "$NP" "$CLICKSEG" "${ARGV[@]}" > /dev/null 2> count.txt
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

# CMD R K: CMD with allocation K failing on rank R: no hang, no signal;
# exit 6 with one error line saying out of memory and nothing left under
# OUT (nor OUT.tmp.*), or exit 0 and the unfailed result.
try_position() {
    local cmd=$1 r=$2 k=$3 out=o_$2_$3 rc=0
    argv_of "$cmd" "$out"
    local replay="replay $cmd with FAIL_ALLOC_RANK=$r FAIL_ALLOC_AT=$k ($NP ranks, 0: no mpirun)"
    FAIL_ALLOC_RANK=$r FAIL_ALLOC_AT=$k FAIL_ALLOC_COUNT=0 \
        shim "$NP" "$CLICKSEG" "${ARGV[@]}" > out.txt 2> err.txt || rc=$?
    [ "$rc" != 124 ] && [ "$rc" != 137 ] || { cat err.txt >&2; fail "hang: $replay"; }
    [ "$rc" -lt 128 ] && ! grep -Eq "Segmentation fault|signal [0-9]+|Signal:" err.txt ||
        { cat err.txt >&2; fail "a rank died of a signal (exit $rc): $replay"; }
    if [ "$rc" = 0 ]; then   # a fallback: the same results as without it
        same_result "$cmd" "$out" || fail "exit 0, another result: $replay"
        rm -rf "$out"
        return
    fi
    [ "$(grep -c "clickseg $cmd: error" err.txt)" = 1 ] ||
        { cat err.txt >&2; fail "expected one error line (exit $rc): $replay"; }
    [ "$rc" = 6 ] && grep -q "clickseg $cmd: error: .*out of memory" err.txt ||
        { cat err.txt >&2; fail "expected exit 6, out of memory (exit $rc): $replay"; }
    [ ! -e "$out" ] && ! ls -d "$out".tmp.* > /dev/null 2>&1 || fail "output left behind: $replay"
}

# DIR_A DIR_B: report.html has the same sections, figures, charts and
# tables (the numbers in them come from report.h5, which compare.py
# checks; the page's times differ from run to run).
same_page() {
    local a b
    a=$(grep -o '<section id="[^"]*"\|data-chart="[^"]*"\|<figure\|<table' "$1/report.html" | sort | uniq -c)
    b=$(grep -o '<section id="[^"]*"\|data-chart="[^"]*"\|<figure\|<table' "$2/report.html" | sort | uniq -c)
    [ "$a" = "$b" ] || { diff <(echo "$a") <(echo "$b") >&2; return 1; }
}

# "CMD R FIRST EVEN LOG"...: each CMD with every position positions()
# gives failing on rank R; TRIED counts them.
TRIED=0
sweep() {
    local c n k
    for c in "$@"; do
        set -- $c
        n=$(count_allocs "$1" "$2")
        for k in $(positions "$3" "$4" "$5" "$n"); do
            try_position "$1" "$2" "$k"
            TRIED=$((TRIED + 1))
        done
        echo "$1 on rank $2: $n allocations"
    done
}
