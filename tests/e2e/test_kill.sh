#!/bin/bash
# ranks: 3
# A rank killed with SIGKILL mid-run (the kernel's OOM killer, a node
# failure) ends the whole job within 10 s with a non-zero exit: no other rank
# waits forever in a collective (Open MPI's default job abort, which this
# test runs with), nothing appears under the output's final name, and no
# process of the job is left. Done once for a worker rank and once for rank 0.
# (Resuming such a job is the checkpoint feature's test.)
set -euo pipefail
source "${SRCDIR:?}/lib/common.sh"
# Open MPI's default abort, grace included (common.sh shortens it).
unset OMPI_MCA_odls_base_sigkill_timeout
DEADLINE=10

mpi 2 "$CLICKSEG" generate -o arch -n 1.2M -d 4 -f 4 --seed 9 > /dev/null

# The processes whose environment holds marker $1 (and rank $2, if given).
procs_of() {
    local f
    for f in $(grep -lsz -- "CLICKSEG_KILL_TEST=$1\$" /proc/[0-9]*/environ 2>/dev/null); do
        if [ -z "${2:-}" ] || grep -qsz -- "^OMPI_COMM_WORLD_RANK=$2\$" "$f"; then
            f=${f#/proc/}; echo "${f%/environ}"
        fi
    done
}

# kill_one VICTIM_RANK: starts a run, waits until it is some windows in,
# kills that rank's process with SIGKILL and times the end of mpirun.
kill_one() {
    local victim=$1 out=$WORKDIR/out$1 marker="$WORKDIR/kill$1"
    CLICKSEG_KILL_TEST=$marker mpirun -n "$NRANKS" --oversubscribe "$CLICKSEG" run -v -i arch \
        -o "$out" --window-events 5000 > "run$victim.out" 2> "run$victim.err" < /dev/null &
    local job=$! t=0
    # Mid-run: the third window's progress line is out.
    until grep -q "window 3/" "run$victim.err"; do
        kill -0 "$job" 2>/dev/null || { cat "run$victim.err" >&2; fail "the run ended before it could be killed"; }
        sleep 0.05
        t=$((t + 1))
        [ "$t" -lt 600 ] || { kill "$job"; fail "the run did not reach window 3 in 30 s"; }
    done
    grep -Eq "window [0-9]+/([0-9]+)" "run$victim.err"
    local total pid
    total=$(grep -Eo "window [0-9]+/[0-9]+" "run$victim.err" | head -1 | cut -d/ -f2)
    [ "$total" -ge 10 ] || fail "only $total windows: the run is too short to be killed mid-run"
    pid=$(procs_of "$marker" "$victim")
    [ -n "$pid" ] && [ "$(echo "$pid" | wc -w)" -eq 1 ] || fail "cannot find rank $victim's process"
    local t0 rc=0 waited=0
    t0=$(date +%s%N)
    kill -KILL "$pid"
    while kill -0 "$job" 2>/dev/null; do
        sleep 0.05
        if [ $(( ($(date +%s%N) - t0) / 1000000 )) -gt $((DEADLINE * 1000)) ]; then
            waited=1
            break
        fi
    done
    if [ "$waited" = 1 ]; then
        local left
        left=$(procs_of "$marker")
        kill -KILL $left "$job" 2>/dev/null || true
        fail "killing rank $victim: the job still ran ${DEADLINE} s later (a hang); processes: $left"
    fi
    wait "$job" || rc=$?
    local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    [ "$rc" -ne 0 ] || fail "killing rank $victim: mpirun exited 0"
    local left
    left=$(procs_of "$marker")
    [ -z "$left" ] || fail "killing rank $victim: processes left after mpirun ended: $left"
    [ ! -e "$out" ] || fail "killing rank $victim: a killed run left $out"
    local done_windows
    done_windows=$(grep -Eo "window [0-9]+/" "run$victim.err" | tail -1 | tr -dc 0-9)
    echo "killed rank $victim (pid $pid) after window $done_windows/$total: mpirun exited $rc" \
         "after $ms ms; no process left, no output under its final name" \
         "$(ls -d "$out".tmp.* > /dev/null 2>&1 && echo "(its temporary directory remains)")"
}

kill_one 1
kill_one 0
echo "test_kill: ok ($NRANKS ranks)"
