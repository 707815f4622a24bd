#!/bin/bash
# Checkpoint and resume under mpirun: a run stopped by SIGUSR1 at a random
# window (2 ranks) and resumed with 3 ranks gives a report identical to an
# uninterrupted run; so does a run SIGKILLed while it writes a checkpoint
# (the previous checkpoint stays usable); a checkpoint whose config, archive
# or --sessions differ is refused with a clear message.
# Set CKPT_K=N to replay a given window.
# ranks: 2
# cost: 40
set -euo pipefail
source "${SRCDIR:?}/lib/common.sh"
source "$SRCDIR/lib/background.sh"
CMP="$PY $SRCDIR/lib/compare.py"
export MPI_TIMEOUT=120

mpi 1 "$CLICKSEG" generate -o arch -n 100000 -d 4 -f 3 --seed 5 > /dev/null
mpi 2 "$CLICKSEG" run -q -i arch -o whole --sessions
# 1000 rows per rank per window and a checkpoint after every window: about
# 50 windows of which most of the time goes to checkpoint writes.
RUN=(run -i arch --sessions --window-events 1000 --set checkpoint.every=1)
NWIN=50

# 1. SIGUSR1 after a random window, resumed with 3 ranks.
K=${CKPT_K:-$((2 + RANDOM % (NWIN - 8)))}
echo "signal after checkpoint $K (replay with CKPT_K=$K)"
start_bg sig 2 "${RUN[@]}" -o sig
wait_for sig.err "checkpoint $K written" 60
kill -USR1 "$BG"
wait_rc
[ "$RC" -eq 7 ] || { cat sig.err >&2; fail "a stopped run must exit 7, got $RC"; }
grep -q "stopped by SIGUSR1 after .* rows; checkpoint saved in sig.checkpoint" sig.err \
    || { cat sig.err >&2; fail "no stop message"; }
[ -s sig.checkpoint/MANIFEST ] || fail "no MANIFEST after the stop"
[ ! -e sig ] || fail "a stopped run left an output directory"
done_rows=$(awk '$1 == "next_row" {print $2}' sig.checkpoint/MANIFEST)
[ "$done_rows" -gt 0 ] && [ "$done_rows" -lt 100000 ] || fail "stopped at row $done_rows"

# Refusals, each leaving the checkpoint in place.
expect_fail 5 "holds the checkpoint of an unfinished run .*--resume" mpi 2 "$CLICKSEG" "${RUN[@]}" -o sig
expect_fail 3 "written with another configuration" \
    mpi 2 "$CLICKSEG" "${RUN[@]}" -o sig --resume --set session.gap=600
expect_fail 2 "written by a run with sessions.h5: resume with --sessions" \
    mpi 2 "$CLICKSEG" run -i arch -o sig --resume
cp -p arch/events-0001.h5 saved.h5
touch arch/events-0001.h5
expect_fail 4 "archive changed since checkpoint sig.checkpoint: .*events-0001.h5 was modified" \
    mpi 2 "$CLICKSEG" "${RUN[@]}" -o sig --resume
cp -p saved.h5 arch/events-0001.h5
expect_fail 4 "was made from 3 input files, this run has 2" \
    mpi 2 "$CLICKSEG" run -i arch/events-0000.h5 -i arch/events-0001.h5 --sessions -o sig --resume
# a file joined the input directory since (a requeued job over growing
# logs): said as new files, not as another job's checkpoint
mpi 1 "$CLICKSEG" generate -o extra -n 2000 -d 1 -f 1 --seed 9 --no-profiles > /dev/null
cp extra/events-0000.h5 arch/events-0000a.h5
expect_fail 4 "checkpoint sig.checkpoint was made from 3 input files, and this run finds 1 more \(the first new one: .*events-0000a.h5\): a resume reads the files the run started with" \
    mpi 2 "$CLICKSEG" "${RUN[@]}" -o sig --resume
rm arch/events-0000a.h5
# the profile table too (read at the end: a resume without it, or with
# another, would write another report)
mv arch/profiles.h5 profiles.saved
expect_fail 4 "checkpoint sig.checkpoint was made from 1 profile tables, this run has 0 \(.*profiles.h5 is missing\)" \
    mpi 2 "$CLICKSEG" "${RUN[@]}" -o sig --resume
cp -p profiles.saved arch/profiles.h5
touch arch/profiles.h5
expect_fail 4 "archive changed since checkpoint sig.checkpoint: .*profiles.h5 was modified" \
    mpi 2 "$CLICKSEG" "${RUN[@]}" -o sig --resume
mv profiles.saved arch/profiles.h5   # the time it had when the checkpoint was made
expect_fail 2 "nothing to resume: nock.checkpoint holds no checkpoint" \
    mpi 2 "$CLICKSEG" "${RUN[@]}" -o nock --resume
cp sig.checkpoint/MANIFEST manifest.bak
echo "next_row twelve" >> sig.checkpoint/MANIFEST
expect_fail 4 "sig.checkpoint/MANIFEST:[0-9]+: not a clickseg checkpoint manifest" \
    mpi 2 "$CLICKSEG" "${RUN[@]}" -o sig --resume
cp manifest.bak sig.checkpoint/MANIFEST
snap=sig.checkpoint/$(awk '$1 == "snapshot" {print $2}' sig.checkpoint/MANIFEST)
cp "$snap" snap.bak
$PY -c "import h5py, sys; f = h5py.File(sys.argv[1], 'r+'); f.attrs['layout'] = 'cs_user=1'" "$snap"
expect_fail 4 "written by a clickseg build with another record layout" \
    mpi 2 "$CLICKSEG" "${RUN[@]}" -o sig --resume
cp snap.bak "$snap"
# Bytes of a dataset overwritten on disk (what a bad block does): each
# dataset's checksum refuses the snapshot instead of resuming to a wrong
# report. Every dataset with rows, one at a time.
damaged=0
for ds in users open open_ids carry sessions stats_totals stats_period_rows; do
    rc=0
    $PY - "$snap" "$ds" <<'PY' || rc=$?
import h5py, sys
with h5py.File(sys.argv[1], "r") as f:
    d = f[sys.argv[2]]
    if d.shape[0] == 0:
        sys.exit(3)   # nothing to damage
    off, size = d.id.get_offset(), d.id.get_storage_size()
with open(sys.argv[1], "r+b") as f:
    f.seek(off + size // 2)
    b = f.read(1)
    f.seek(off + size // 2)
    f.write(bytes([b[0] ^ 0x5a]))
PY
    [ "$rc" -eq 3 ] && continue
    [ "$rc" -eq 0 ] || fail "could not damage $ds"
    expect_fail 4 "dataset $ds fails its checksum: the file is damaged" \
        mpi 2 "$CLICKSEG" "${RUN[@]}" -o sig --resume
    cp snap.bak "$snap"
    damaged=$((damaged + 1))
done
[ "$damaged" -ge 5 ] || fail "only $damaged snapshot datasets had rows to damage"
# A snapshot from before checksums (no attribute) is read unchecked, as before.
$PY -c "import h5py, sys; f = h5py.File(sys.argv[1], 'r+'); del f['users'].attrs['checksum']" "$snap"

cp -rp sig.checkpoint sig.ckpt.bak
mpi 3 "$CLICKSEG" run -q -i arch -o sig --sessions --window-events 3000 --resume
$CMP --same whole sig --sessions
[ ! -e sig.checkpoint ] || fail "a completed run left its checkpoint"
# The run id: one for the run and its resumes, in MANIFEST, report.json
# and report.h5.
id=$(awk '$1 == "run_id" {print $2}' sig.ckpt.bak/MANIFEST)
[[ "$id" =~ ^[0-9a-f]{16}$ ]] || fail "MANIFEST has no run id: '$id'"
$PY - "$id" <<'PY'
import h5py, json, sys
assert json.load(open("sig/report.json"))["run"]["run_id"] == sys.argv[1]
with h5py.File("sig/report.h5") as h:
    assert h["run"].attrs["run_id"].decode() == sys.argv[1]
assert json.load(open("whole/report.json"))["run"]["run_id"] != sys.argv[1]
PY
# Killed after it published its outputs, before it removed its checkpoint
# (a node failure, a SIGKILL past the time limit's grace): the requeued
# job (--resume=auto, or --resume) finds the outputs carry the
# checkpoint's run id, removes the checkpoint and ends with 0, the
# outputs untouched.
sum=$(cat sig/*.csv sig/report.json | md5sum)
for how in --resume=auto --resume; do
    cp -rp sig.ckpt.bak sig.checkpoint
    mpi 2 "$CLICKSEG" "${RUN[@]}" -o sig "$how" 2> pub.err || { cat pub.err >&2; fail "$how after publishing failed"; }
    grep -q "the run of checkpoint sig.checkpoint had finished (run id $id): it published sig" pub.err \
        || { cat pub.err >&2; fail "no note that the run had finished"; }
    [ ! -e sig.checkpoint ] || fail "$how left the finished run's checkpoint"
    [ "$(cat sig/*.csv sig/report.json | md5sum)" = "$sum" ] || fail "$how changed the outputs"
done
# The same outputs and checkpoint, but the requeued job is another one (a
# corrected config): not done, refused as before, the checkpoint kept.
cp -rp sig.ckpt.bak sig.checkpoint
expect_fail 5 "sig/[a-z_0-9.]+: output exists; use --force" \
    mpi 2 "$CLICKSEG" "${RUN[@]}" -o sig --resume=auto --set session.gap=600
expect_fail 3 "written with another configuration" \
    mpi 2 "$CLICKSEG" "${RUN[@]}" -o sig --resume=auto --set session.gap=600 --force
[ -s sig.checkpoint/MANIFEST ] || fail "another job's requeue removed the checkpoint"
[ "$(cat sig/*.csv sig/report.json | md5sum)" = "$sum" ] || fail "a refused requeue changed the outputs"
rm -rf sig.checkpoint
# Outputs of another run (another id) are no proof: refused as before, the
# checkpoint kept.
cp -rp sig.ckpt.bak sig.checkpoint
sed -i 's/^run_id .*/run_id 0123456789abcdef/' sig.checkpoint/MANIFEST
expect_fail 5 "sig/[a-z_0-9.]+: output exists; use --force" mpi 2 "$CLICKSEG" "${RUN[@]}" -o sig --resume=auto
[ -s sig.checkpoint/MANIFEST ] || fail "the checkpoint of a run that did not finish was removed"
rm -rf sig.checkpoint

# 2. SIGKILL of the whole job while it writes a checkpoint; resume.
hit=0
for attempt in 1 2 3 4 5 6 7 8; do
    rm -rf kill kill.checkpoint
    start_bg kill 2 "${RUN[@]}" -o kill
    wait_for kill.err "checkpoint $((3 + attempt)) written" 60
    ranks=$(pgrep -P "$BG")   # read first: the kill follows the start of a write at once
    deadline=$((SECONDS + 20))
    until ls kill.checkpoint/*.tmp > /dev/null 2>&1; do
        [ $SECONDS -lt $deadline ] || fail "no checkpoint write seen"
        sleep 0.002
    done
    kill -KILL "$BG" $ranks 2> /dev/null || true
    wait_rc
    # Mid-checkpoint: a temporary file, or a snapshot MANIFEST does not name yet.
    cur=$(awk '$1 == "snapshot" {print $2}' kill.checkpoint/MANIFEST)
    if ls kill.checkpoint/*.tmp > /dev/null 2>&1 ||
       ls kill.checkpoint/snapshot-*.h5 | grep -qv "/$cur\$"; then
        hit=1
        break
    fi
    echo "attempt $attempt: the kill came between two checkpoints; again"
done
[ "$hit" -eq 1 ] || fail "could not kill the job in the middle of a checkpoint in 8 attempts"
echo "killed mid-checkpoint: $(ls kill.checkpoint | tr '\n' ' ')"
snap=$(awk '$1 == "snapshot" {print $2}' kill.checkpoint/MANIFEST)
[ -s "kill.checkpoint/$snap" ] || fail "MANIFEST names a missing snapshot $snap"
[ -e kill.lock ] || fail "the killed job's lock file is not there (the test no longer shows it is no obstacle)"
ls -d kill.tmp.[0-9]* > /dev/null 2>&1 ||
    fail "the killed job's temporary directory is not there (the test no longer shows it is removed)"
mpi 3 "$CLICKSEG" run -q -i arch -o kill --sessions --resume
$CMP --same whole kill --sessions
[ ! -e kill.checkpoint ] || fail "a completed run left its checkpoint"
[ ! -e kill.lock ] || fail "a completed run left its lock file"
! ls -d kill.tmp.* 2> /dev/null || fail "the killed job's temporary directory was left"

# 3. The edge-case archive (late and rejected rows, a 10^5-event user, equal
# timestamps, an empty file): killed after a random checkpoint, resumed.
$PY "$SRCDIR/lib/make_edge_archive.py" edge > /dev/null
mpi 2 "$CLICKSEG" run -q -i edge -o e_whole --sessions
K2=$((2 + RANDOM % 80))
echo "edge archive: kill after checkpoint $K2"
start_bg edge 2 run -i edge -o e_kill --sessions --window-events 500 --set checkpoint.every=1
wait_for edge.err "checkpoint $K2 written" 60
kill -KILL "$BG" $(pgrep -P "$BG") 2> /dev/null || true
wait_rc
mpi 3 "$CLICKSEG" run -q -i edge -o e_kill --sessions --window-events 700 --resume
$CMP --same e_whole e_kill --sessions

# 4. --resume=auto starts when there is nothing to resume; periodic
# checkpoints do not change the result.
mpi 2 "$CLICKSEG" "${RUN[@]}" -q -o auto --resume=auto
$CMP --same whole auto --sessions

# 5. Some 100,000 sessions: the checkpoints copy them from the spool files
# and back a block of 4,096 at a time, every rank as many collective writes
# and reads as the rank with the most blocks; killed after checkpoint 3 of
# 2 ranks, resumed with 3.
mpi 2 "$CLICKSEG" generate -o big -n 400000 -d 3 --seed 8 > /dev/null
mpi 2 "$CLICKSEG" run -q -i big -o b_whole --sessions
start_bg big 2 run -i big -o b_kill --sessions --window-events 40000 --set checkpoint.every=1
wait_for big.err "checkpoint 3 written" 60
kill -KILL "$BG" $(pgrep -P "$BG") 2> /dev/null || true
wait_rc
mpi 3 "$CLICKSEG" run -q -i big -o b_kill --sessions --window-events 30000 --resume
$CMP --same b_whole b_kill --sessions

# 6. SIGUSR1 while the plan runs (1,500 small files take some 0.4 s to
# plan), sent once both ranks catch it (their SigCgt, from the start of
# main): exit 7 with a clean stop instead of the signal's default action,
# which killed the ranks (exit 138) and once left mpirun waiting. No
# checkpoint is written; the same command then runs to the end.
$PY - <<'PY'
import h5py, numpy as np, os
os.makedirs("hourly", exist_ok=True)
r = np.random.default_rng(2)
T = 1546300800 * 10**6
for h in range(1500):
    with h5py.File("hourly/h%05d.h5" % h, "w") as f:
        g = f.create_group("events")
        g["ts"] = T + h * 3600 * 10**6 + np.sort(r.integers(0, 3600 * 10**6, 20))
        g["user_id"] = r.integers(1, 800, 20).astype("u8")
        g["event_type"] = r.choice(8, 20).astype("u1")
PY
start_bg early 2 run -i hourly -o early --set checkpoint.every=1
deadline=$((SECONDS + 30))
catching() {   # every rank of $BG catches SIGUSR1 (bit 9 of SigCgt)
    local n=0 pid mask
    for pid in $(pgrep -P "$BG"); do
        mask=$(awk '/^SigCgt/ {print $2}' "/proc/$pid/status" 2> /dev/null) || return 1
        [ -n "$mask" ] && (( 0x$mask & 0x200 )) && n=$((n + 1))
    done
    [ "$n" -ge 2 ]
}
until catching; do
    [ $SECONDS -lt $deadline ] || fail "the ranks never caught SIGUSR1"
    sleep 0.005
done
kill -USR1 "$BG"
wait_rc
[ "$RC" = 7 ] || { cat early.err >&2; fail "a stop in the plan: exit $RC, expected 7"; }
grep -q "stopped by SIGUSR1 before the first window" early.err || { cat early.err >&2; fail "no stop message"; }
[ ! -e early ] && ! ls -d early.tmp.* 2> /dev/null || fail "a stopped run left output"
! ls early.checkpoint/snapshot-* 2> /dev/null || fail "a checkpoint was written"
mpi 2 "$CLICKSEG" run -q -i hourly -o early --set checkpoint.every=1
[ -s early/report.json ] || fail "the rerun did not finish"

# 7. Two jobs on one output (a requeued job and a resubmitted one, or a
# --force rerun over a running job): the second is refused with exit 5
# naming the holder, and the first finishes unharmed (a --force run once
# removed its checkpoint and made it fail).
LONG=(run -i arch --sessions --window-events 500 --set checkpoint.every=1)   # ~100 windows
start_bg lock 2 "${LONG[@]}" -o locked
wait_for lock.err "checkpoint 2 written" 60
# Its ranks stopped while the others try, so that it surely still runs
# (it once ended before the checks on a fast machine, or took 60 s of
# checkpoints on a loaded one).
ranks=$(pgrep -P "$BG")
kill -STOP $ranks
expect_fail 5 "locked is being written by another clickseg job \(pid [0-9]+ on [^)]+ holds .*locked.lock\)" \
    mpi 2 "$CLICKSEG" "${LONG[@]}" -q -o locked --force
expect_fail 5 "being written by another clickseg job" mpi 2 "$CLICKSEG" "${LONG[@]}" -q -o locked --resume=auto
# the same directory written with a trailing slash is the same output
expect_fail 5 "locked is being written by another clickseg job" \
    mpi 2 "$CLICKSEG" "${LONG[@]}" -q -o locked/ --resume=auto
kill -0 "$BG" 2> /dev/null || fail "the first job ended before the checks (they prove nothing)"
kill -CONT $ranks
wait_rc
[ "$RC" = 0 ] || { cat lock.err >&2; fail "the first job failed: exit $RC"; }
$CMP --same whole locked --sessions
[ ! -e locked.lock ] || fail "the lock file was left"

# 8. SIGTERM twice within milliseconds to every rank, as slurmstepd sends
# it at a time limit: one stop, not "a second signal, exit at once" (which
# lost every timed-out job's checkpoint); the run checkpoints, exits 7 and
# resumes to the uninterrupted report.
start_bg term 2 "${RUN[@]}" -o term
wait_for term.err "checkpoint 3 written" 60
ranks=$(pgrep -P "$BG")
# The second only once the first is taken (no longer pending, bit 15 of
# ShdPnd): two kills in a row often merge into one pending signal, and the
# test then passed with the old handler too.
for pid in $ranks; do
    kill -TERM "$pid"
    while p=$(awk '/^ShdPnd/ {print $2}' "/proc/$pid/status" 2> /dev/null) && [ -n "$p" ] &&
          (( 0x$p & 0x4000 )); do :; done
    kill -TERM "$pid" 2> /dev/null || true
done
wait_rc
[ "$RC" -eq 7 ] || { cat term.err >&2; fail "a doubled SIGTERM: exit $RC, expected 7"; }
grep -q "stopped by SIGTERM after .* rows; checkpoint saved in term.checkpoint" term.err \
    || { cat term.err >&2; fail "no stop message after a doubled SIGTERM"; }
mpi 2 "$CLICKSEG" "${RUN[@]}" -q -o term --resume
$CMP --same whole term --sessions
echo "test_checkpoint: ok"
