#!/bin/bash
# The jobs/ scripts under a real single-node Slurm (munged, slurmctld,
# slurmd; installed and started here, stopped by PID at the end):
# - run.sbatch: the report equals a direct mpirun run; `srun clickseg
#   inspect` on 3 tasks prints what one process prints;
# - reprocess.sbatch: sent SIGUSR1 (scancel --signal=USR1 --batch) after a
#   random window, it checkpoints and requeues itself, and the requeued job
#   finishes with a report identical to an uninterrupted run; cancelled
#   (scancel), it ends CANCELLED with its checkpoint, not requeued; stopped again
#   on 2 tasks and resubmitted on 3, the same; SIGKILLed (every process of
#   the job) while writing a checkpoint, resubmitted on 3 tasks, the same;
# - periodic.sbatch: a task stopped by SIGUSR1 checkpoints (exit 7) and
#   finishes with --resume; a month-by-month job array (session.split = "month")
#   and its merge step (chained with --dependency=afterok) equal one run
#   over all months.
# Skips (exit 77) only when the Slurm packages cannot be installed.
# ranks: 2
# cost: 70
set -euo pipefail
source "${SRCDIR:?}/lib/common.sh"
CMP="$PY $SRCDIR/lib/compare.py"
JOBS=$SRCDIR/../jobs
export SLURM_RECIPE_DIR=$WORKDIR/slurm SLURM_NODE_CPUS=4
export CLICKSEG

if ! bash "$SRCDIR/lib/slurm.sh" install > install.log 2>&1; then
    tail -5 install.log >&2
    echo "SKIP: the Slurm packages (slurmctld slurmd slurm-client munge) cannot be installed"
    exit 77
fi
trap 'bash "$SRCDIR/lib/slurm.sh" stop > /dev/null 2>&1 || true' EXIT
bash "$SRCDIR/lib/slurm.sh" start > slurm-start.log 2>&1 || { cat slurm-start.log >&2; fail "slurm did not start"; }
source "$SLURM_RECIPE_DIR/slurm.env"

# job_wait JOBID SECONDS: polls until the job has left the queue.
job_wait() {
    local deadline=$((SECONDS + $2))
    while squeue -h -j "$1" 2> /dev/null | grep -q .; do
        if [ $SECONDS -ge "$deadline" ]; then
            scontrol show job "$1" >&2 || true
            scancel "$1" || true
            fail "job $1 still queued after $2 s"
        fi
        sleep 0.3
    done
}
# job_field JOBID KEY: a field of `scontrol show job` (read right after the end:
# there is no accounting database).
job_field() { scontrol show job "$1" | tr ' ' '\n' | grep "^$2=" | head -1 | cut -d= -f2-; }
# expect_done JOBID STATE EXIT
expect_done() {
    local st ex
    st=$(job_field "$1" JobState); ex=$(job_field "$1" ExitCode)
    [ "$st" = "$2" ] && [ "$ex" = "$3" ] || { cat job-*"$1".log >&2 || true; fail "job $1: $st $ex, expected $2 $3"; }
}
# wait_log FILE PATTERN SECONDS
wait_log() {
    local deadline=$((SECONDS + $3))
    until grep -q -- "$2" "$1" 2> /dev/null; do
        [ $SECONDS -lt "$deadline" ] || { cat "$1" >&2 || true; fail "no '$2' in $1 within $3 s"; }
        sleep 0.05
    done
}
submit() { sbatch --parsable -o "$WORKDIR/job-%j.log" "$@"; }

mpi 1 "$CLICKSEG" generate -o arch -n 100000 -d 4 -f 3 --seed 9 > /dev/null
mpi 2 "$CLICKSEG" run -q -i arch -o direct --sessions
ARGS=(-i "$WORKDIR/arch" --sessions)
SLOW=(--window-events 1000 --set checkpoint.every=1)   # ~50 windows, a checkpoint after each

# run.sbatch on 3 tasks.
j=$(submit -n 3 "$JOBS/run.sbatch" "${ARGS[@]}" -o "$WORKDIR/run3" -q)
job_wait "$j" 60
expect_done "$j" COMPLETED 0:0
$CMP --same direct run3 --sessions

# run.sbatch stopped by `scancel --signal=USR1 --batch`: the script passes
# it to the ranks, which checkpoint and exit 7; resubmitted with --resume
# (on another task count) it finishes with the direct run's report.
j=$(submit -n 2 "$JOBS/run.sbatch" "${ARGS[@]}" -o "$WORKDIR/ru" "${SLOW[@]}")
wait_log "job-$j.log" "checkpoint 3 written" 60
scancel --signal=USR1 --batch "$j"
job_wait "$j" 60
grep -q "clickseg run exited with 7" "job-$j.log" || { cat "job-$j.log" >&2; fail "run.sbatch: no exit 7 after USR1"; }
j=$(submit -n 3 "$JOBS/run.sbatch" "${ARGS[@]}" -o "$WORKDIR/ru" "${SLOW[@]}" --resume)
job_wait "$j" 90
expect_done "$j" COMPLETED 0:0
grep -q "resuming from $WORKDIR/ru.checkpoint" "job-$j.log" || fail "run.sbatch --resume did not resume"
$CMP --same direct ru --sessions

# inspect under srun on 3 tasks (the ranks share the archive's 4 files):
# the same report as one process.
"$CLICKSEG" inspect "$WORKDIR/arch" > inspect1.txt
j=$(submit -n 3 --wrap "srun --mpi=pmix $CLICKSEG inspect $WORKDIR/arch > $WORKDIR/inspect3.txt")
job_wait "$j" 60
expect_done "$j" COMPLETED 0:0
cmp -s inspect1.txt inspect3.txt || { diff inspect1.txt inspect3.txt >&2; fail "inspect under srun differs"; }

# reprocess.sbatch: USR1 after a random checkpoint, requeue, finish.
K=$((2 + RANDOM % 40))
echo "reprocess: signal after checkpoint $K"
j=$(submit -n 2 "$JOBS/reprocess.sbatch" "${ARGS[@]}" -o "$WORKDIR/rq" "${SLOW[@]}")
wait_log "job-$j.log" "checkpoint $K written" 60
scancel --signal=USR1 --batch "$j"
wait_log "job-$j.log" "requeueing job $j" 30
# A requeued batch job becomes eligible 2 minutes later; start it now.
deadline=$((SECONDS + 30))
until [ "$(job_field "$j" JobState)" = PENDING ] && [ "$(job_field "$j" Restarts)" = 1 ]; do
    [ $SECONDS -lt $deadline ] || fail "job $j was not requeued"
    sleep 0.2
done
# Not in the second of the requeue: slurmd refuses a launch whose job
# credential is no newer (one-second resolution) than the revocation of
# the first run's ("Job credential revoked"; the job then ends FAILED 1:0,
# seen once in CI). Slurm's own 2-minute delay keeps clear of it.
sleep 2
scontrol update JobId="$j" StartTime=now
job_wait "$j" 90
expect_done "$j" COMPLETED 0:0
grep -q "stopped by SIGUSR1" "job-$j.log" || fail "job $j: no stop in the log"
grep -q "start 2 on 2 tasks" "job-$j.log" || fail "job $j: no second start"
grep -q "resuming from $WORKDIR/rq.checkpoint" "job-$j.log" || fail "job $j did not resume"
$CMP --same direct rq --sessions
[ ! -e rq.checkpoint ] || fail "the finished job left its checkpoint"

# A time limit hardly longer than the header's 300 s warning lead: the
# warning comes at once; the run checkpoints, and the job is not requeued
# (it would be warned at once again, for ever) but ends 7 saying why. The
# limit is cut to 4 minutes once the ranks run (a warning before they
# catch signals is lost, by design) and they are held with SIGSTOP until
# the warning has come, so that the run surely outlasts it on any machine.
j=$(submit -n 2 --time=60 "$JOBS/reprocess.sbatch" "${ARGS[@]}" -o "$WORKDIR/tl" "${SLOW[@]}")
wait_log "job-$j.log" "checkpoint 2 written" 60
tl_ranks=""   # the ranks only: the batch shell must stay free to take the warning
for p in $(pgrep -f -- "-o $WORKDIR/tl --window-events"); do
    [ "$(ps -o comm= -p "$p")" = clickseg ] && tl_ranks+=" $p"
done
[ -n "$tl_ranks" ] || fail "job $j: no ranks found to hold"
kill -STOP $tl_ranks 2> /dev/null || true
scontrol update JobId="$j" TimeLimit=4
wait_log "job-$j.log" "reprocess.sbatch: SIGUSR1 at" 90
kill -CONT $tl_ranks 2> /dev/null || true
job_wait "$j" 60
expect_done "$j" FAILED 7:0
grep -q "the time-limit warning came .* after the start.*not requeued" "job-$j.log" ||
    { cat "job-$j.log" >&2; fail "job $j: no word on why it was not requeued"; }
[ "$(job_field "$j" Restarts)" = 0 ] || fail "job $j requeued itself with no time to work"
[ -s tl.checkpoint/MANIFEST ] || fail "job $j left no checkpoint"

# scancel (SIGTERM): the job checkpoints and ends CANCELLED, not requeued
# (it once requeued itself: exit 7 was taken for the USR1 stop); the
# resubmitted job continues from the checkpoint.
j=$(submit -n 2 "$JOBS/reprocess.sbatch" "${ARGS[@]}" -o "$WORKDIR/cn" "${SLOW[@]}")
wait_log "job-$j.log" "checkpoint 3 written" 60
scancel "$j"
job_wait "$j" 60
[ "$(job_field "$j" JobState)" = CANCELLED ] && [ "$(job_field "$j" Restarts)" = 0 ] ||
    { cat "job-$j.log" >&2; fail "job $j after scancel: $(job_field "$j" JobState), $(job_field "$j" Restarts) restarts"; }
! grep -q "requeueing" "job-$j.log" || fail "job $j requeued itself after scancel"
[ -s cn.checkpoint/MANIFEST ] || fail "the cancelled job left no checkpoint"
j=$(submit -n 2 "$JOBS/reprocess.sbatch" "${ARGS[@]}" -o "$WORKDIR/cn")
job_wait "$j" 60
expect_done "$j" COMPLETED 0:0
grep -q "resuming from" "job-$j.log" || fail "job $j did not resume"
$CMP --same direct cn --sessions

# Stopped on 2 tasks, resubmitted on 3.
K=$((2 + RANDOM % 40))
echo "resubmit: signal after checkpoint $K"
j=$(CLICKSEG_REQUEUE=0 submit -n 2 "$JOBS/reprocess.sbatch" "${ARGS[@]}" -o "$WORKDIR/rs" "${SLOW[@]}")
wait_log "job-$j.log" "checkpoint $K written" 60
scancel --signal=USR1 --batch "$j"
job_wait "$j" 60
expect_done "$j" FAILED 7:0
j=$(submit -n 3 "$JOBS/reprocess.sbatch" "${ARGS[@]}" -o "$WORKDIR/rs" --window-events 3000)
job_wait "$j" 60
expect_done "$j" COMPLETED 0:0
grep -q "resuming from" "job-$j.log" || fail "job $j did not resume"
$CMP --same direct rs --sessions

# SIGKILL of every rank while it writes a checkpoint (then of the batch
# script); resubmitted on 3 tasks. Retried until the kill lands mid-write.
hit=0
for attempt in 1 2 3; do
    rm -rf rk rk.checkpoint
    j=$(CLICKSEG_REQUEUE=0 submit -n 2 "$JOBS/reprocess.sbatch" "${ARGS[@]}" -o "$WORKDIR/rk" "${SLOW[@]}")
    wait_log "job-$j.log" "checkpoint $((3 + attempt)) written" 60
    # By PID: Slurm turns `scancel --signal=KILL` into a cancel (SIGTERM
    # first), which clickseg answers with a checkpoint. The PIDs are read
    # first so that the kill follows the start of a write at once.
    pids=$(scontrol listpids "$j" | awk 'NR > 1 && $3 != "batch" {print $1}')
    bpids=$(scontrol listpids "$j" | awk 'NR > 1 && $3 == "batch" {print $1}')
    deadline=$((SECONDS + 20))
    until ls rk.checkpoint/*.tmp > /dev/null 2>&1; do
        [ $SECONDS -lt $deadline ] || fail "no checkpoint write seen"
        sleep 0.002
    done
    kill -KILL $pids $bpids 2> /dev/null || true
    job_wait "$j" 60
    left=$(ls rk.checkpoint | tr '\n' ' ')
    echo "killed: $(job_field "$j" JobState) $(job_field "$j" ExitCode); left: $left"
    # Mid-checkpoint: a temporary file, or a snapshot MANIFEST does not name yet.
    cur=$(awk '$1 == "snapshot" {print $2}' rk.checkpoint/MANIFEST)
    if ls rk.checkpoint/*.tmp > /dev/null 2>&1 ||
       ls rk.checkpoint/snapshot-*.h5 | grep -qv "/$cur\$"; then
        hit=1
        break
    fi
done
[ $hit -eq 1 ] || fail "could not kill the job in the middle of a checkpoint in 3 attempts"
# (a --resume of the user's is dropped: it made the first start fail with
# "nothing to resume")
j=$(submit -n 3 "$JOBS/reprocess.sbatch" "${ARGS[@]}" -o "$WORKDIR/rk" --resume)
job_wait "$j" 60
expect_done "$j" COMPLETED 0:0
grep -q "reprocess.sbatch: --resume ignored" "job-$j.log" || fail "reprocess.sbatch kept the user's --resume"
$CMP --same direct rk --sessions
# periodic.sbatch: one task per month, then the merge step it chains with
# --dependency=afterok; equal to one direct run over all months.
mpi 1 "$CLICKSEG" generate -o marc -n 40000 -d 70 -f 2 --seed 17 > /dev/null
$PY "$SRCDIR/lib/split_archive.py" marc months --by month > months.txt
# tab-separated, through a path with a space (a line with a tab splits at
# tabs), with blanks before a comment (not part of the path)
ln -sfn months "month dirs"
awk -v w="$WORKDIR" '{print $1 "\t" w "/month dirs/" $1 "   # " $1}' months.txt > periods.txt
printf 'session = { split = "month"; };\n' > job.cfg
nper=$(wc -l < periods.txt)
mpi 2 "$CLICKSEG" run -q -c job.cfg -i 'months/*' -o direct_months --sessions
a=$(submit --array=0-$((nper - 1)) -n 2 --mem-per-cpu=400M --time=00:50:00 -o "$WORKDIR/job-%A_%a.log" "$JOBS/periodic.sbatch" \
    "$WORKDIR/periods.txt" "$WORKDIR/periodic" -c"$WORKDIR/job.cfg" --sessions -q)
wait_log "job-${a}_0.log" "merge step is job" 60
m=$(sed -n 's/.*merge step is job \([0-9]*\).*/\1/p' "job-${a}_0.log")
job_wait "$a" 120
job_wait "$m" 60
expect_done "$m" COMPLETED 0:0
# The merge step asked for what the array did (sbatch reads no SLURM_* variables).
# and is cancelled, not left pending for ever, if a task fails
scontrol show job "$m" | grep -Eqi "KillO[a-z]*InvalidDep[a-z]*=Yes" ||
    fail "merge step without --kill-on-invalid-dep: $(scontrol show job "$m" | grep -io 'Kill[a-z]*Invalid[^ ]*')"
scontrol show job "$m" | grep -q "TimeLimit=00:50:00" || fail "merge step without the array's --time: $(scontrol show job "$m" | grep -o 'TimeLimit=[^ ]*')"
scontrol show job "$m" | grep -q "MinMemoryCPU=400M" || fail "merge step without the array's --mem-per-cpu: $(scontrol show job "$m" | grep -o 'MinMemory[^ ]*')"
for i in $(seq 0 $((nper - 1))); do
    grep -q "clickseg run exited with 0" "job-${a}_$i.log" || { cat "job-${a}_$i.log"; fail "task $i"; }
done
grep -q "clickseg merge exited with 0" "clickseg-merge-$m.log" || fail "merge step"
$CMP --same direct_months periodic/merged --sessions
# (the config given as -cFILE reached the merge step: without session.split
# its config would differ from the runs' and merge refuse them.) A last
# --set without its value is a usage error naming it, not the script's
# "unbound variable".
rc=0
CLICKSEG_PERIODIC_STEP=merge bash "$JOBS/periodic.sbatch" periods.txt periodic -q --set > trail.log 2>&1 || rc=$?
[ $rc -eq 2 ] && grep -q -- "periodic.sbatch: --set needs a value" trail.log && ! grep -q unbound trail.log ||
    { cat trail.log >&2; fail "periodic.sbatch merge step with a trailing --set: exit $rc"; }
# Usage errors, each exit 2 naming the problem: a periods file that is not
# there, an -o among the run arguments (every task would write there), no
# --array.
periodic_usage() {   # PATTERN ARGS...
    local pat=$1 rc=0; shift
    env -u SLURM_ARRAY_TASK_ID bash "$JOBS/periodic.sbatch" "$@" > usage.log 2>&1 || rc=$?
    [ $rc -eq 2 ] && grep -q -- "$pat" usage.log || { cat usage.log >&2; fail "periodic.sbatch $*: exit $rc"; }
}
periodic_usage "cannot read the periods file 'periods-typo.txt'" periods-typo.txt out
periodic_usage "'--output=x' among the run arguments" periods.txt out -q --output=x
periodic_usage "'-o' among the run arguments" periods.txt out -o x
periodic_usage "'-qvo' among the run arguments" periods.txt out -qvo x
periodic_usage "runs as a job array, one task a period: sbatch --array=0-$((nper - 1))" periods.txt out -q
# A periodic task stopped by `scancel --signal=USR1 --batch` checkpoints
# and exits 7 as run.sbatch does (its batch shell died of the signal, and
# no checkpoint was written); the task resubmitted with --resume finishes.
printf 'all %s\n' "$WORKDIR/arch" > one.txt
a=$(submit --array=0 -n 2 --export=ALL,CLICKSEG_MERGE=0 -o "$WORKDIR/job-%A_%a.log" \
    "$JOBS/periodic.sbatch" "$WORKDIR/one.txt" "$WORKDIR/pu" --sessions "${SLOW[@]}")
wait_log "job-${a}_0.log" "checkpoint 3 written" 60
scancel --signal=USR1 --batch "$a"
job_wait "$a" 60
grep -q "clickseg run exited with 7" "job-${a}_0.log" ||
    { cat "job-${a}_0.log" >&2; fail "periodic.sbatch: no exit 7 after USR1"; }
a=$(submit --array=0 -n 2 --export=ALL,CLICKSEG_MERGE=0 -o "$WORKDIR/job-%A_%a.log" \
    "$JOBS/periodic.sbatch" "$WORKDIR/one.txt" "$WORKDIR/pu" --sessions "${SLOW[@]}" --resume)
job_wait "$a" 90
grep -q "clickseg run exited with 0" "job-${a}_0.log" ||
    { cat "job-${a}_0.log" >&2; fail "periodic.sbatch --resume"; }
$CMP --same direct pu/all --sessions
echo "test_slurm: ok"
