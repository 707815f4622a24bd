#!/bin/bash
# ranks: 2 3
# SIGKILL of ONE rank in the middle of a window of a checkpointing run (the
# OOM killer, a lost node): the whole job ends within 10 s with a non-zero
# exit (Open MPI's job abort, default settings), nothing under the output's
# final name; then the same command with --resume completes from the last
# checkpoint to results identical to an uninterrupted run: report.json's
# totals, segments and periods, customers.h5 and sessions.h5
# (tests/lib/compare.py --same). The victim rank and the checkpoint after
# which it dies are random (replay with KILL_K=N KILL_RANK=R).
set -euo pipefail
source "${SRCDIR:?}/lib/common.sh"
# Open MPI's default abort, grace included (common.sh shortens it).
unset OMPI_MCA_odls_base_sigkill_timeout
CMP="$PY $SRCDIR/lib/compare.py"
DEADLINE=10
export MPI_TIMEOUT=120

mpi 1 "$CLICKSEG" generate -o arch -n 60000 -d 3 -f 3 --seed 11 > /dev/null
mpi "$NRANKS" "$CLICKSEG" run -q -i arch -o whole --sessions
# About 25 windows, a checkpoint after each.
RUN=(run -v -i arch -o cut --sessions --window-events 1000 --set checkpoint.every=1)

K=${KILL_K:-$((2 + RANDOM % 8))}
VICTIM=${KILL_RANK:-$((RANDOM % NRANKS))}
echo "killing rank $VICTIM during the window after checkpoint $K (replay with KILL_K=$K KILL_RANK=$VICTIM)"

# The processes whose environment holds marker $1 (and rank $2, if given).
procs_of() {
    local f
    for f in $(grep -lsz -- "CLICKSEG_KILL_TEST=$1\$" /proc/[0-9]*/environ 2>/dev/null); do
        if [ -z "${2:-}" ] || grep -qsz -- "^OMPI_COMM_WORLD_RANK=$2\$" "$f"; then
            f=${f#/proc/}; echo "${f%/environ}"
        fi
    done
}

marker=$WORKDIR/killresume
CLICKSEG_KILL_TEST=$marker mpirun -n "$NRANKS" --oversubscribe "$CLICKSEG" "${RUN[@]}" \
    > cut.out 2> cut.err < /dev/null &
job=$!
deadline=$((SECONDS + 60))
# Mid-window: checkpoint K is written and the next window's progress line is out.
until grep -q "checkpoint $K written" cut.err 2>/dev/null; do
    kill -0 "$job" 2>/dev/null || { cat cut.err >&2; fail "the run ended before checkpoint $K"; }
    [ $SECONDS -lt $deadline ] || { kill -KILL "$job"; fail "no checkpoint $K in 60 s"; }
    sleep 0.02
done
total=$(grep -Eo "window [0-9]+/[0-9]+" cut.err | head -1 | cut -d/ -f2)
[ "$total" -ge $((K + 5)) ] || fail "only $total windows: too few to be killed mid-run"
pid=$(procs_of "$marker" "$VICTIM")
[ -n "$pid" ] && [ "$(echo "$pid" | wc -w)" -eq 1 ] || fail "cannot find rank $VICTIM's process"
t0=$(date +%s%N)
kill -KILL "$pid"
while kill -0 "$job" 2>/dev/null; do
    if [ $(( ($(date +%s%N) - t0) / 1000000 )) -gt $((DEADLINE * 1000)) ]; then
        left=$(procs_of "$marker")
        kill -KILL $left "$job" 2>/dev/null || true
        fail "the job still ran ${DEADLINE} s after rank $VICTIM was killed (a hang): $left"
    fi
    sleep 0.05
done
rc=0
wait "$job" || rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$rc" -ne 0 ] || fail "mpirun exited 0 after a rank was killed"
left=$(procs_of "$marker")
[ -z "$left" ] || fail "processes left after mpirun ended: $left"
[ ! -e cut ] || fail "a killed run left its output under the final name"
[ -s cut.checkpoint/MANIFEST ] || fail "no checkpoint to resume from"
last=$(grep -Eo "checkpoint [0-9]+ written" cut.err | tail -1 | tr -dc 0-9)
echo "rank $VICTIM (pid $pid) killed after checkpoint $last of $total windows: mpirun exited $rc after $ms ms"

# The same command with --resume (as a requeued job would) completes to the
# same results as the uninterrupted run.
mpi "$NRANKS" "$CLICKSEG" "${RUN[@]}" --resume > resume.out 2> resume.err \
    || { cat resume.err >&2; fail "the resumed run failed"; }
grep -q "resum" resume.err || { cat resume.err >&2; fail "the rerun did not say it resumed"; }
$CMP --same whole cut --sessions
[ ! -e cut.checkpoint ] || fail "a completed run left its checkpoint"
echo "test_kill_resume: ok ($NRANKS ranks)"
