#!/bin/bash
# --state FILE: a chain of 7 daily runs (1-3 ranks, any window size) gives
# the report of one run over the whole week, sessions across midnight
# included (the state carries open sessions and late-arrival events); after
# each run the report equals one run over the days so far; a run of the
# chain killed and resumed from its checkpoint changes nothing, and is
# refused when the state changed since its checkpoint; a day given twice
# (by path or as a copy), another config or another --sessions choice is
# refused and leaves the state as it was.
# ranks: 2
# cost: 20
set -euo pipefail
source "${SRCDIR:?}/lib/common.sh"
CMP="$PY $SRCDIR/lib/compare.py"

mpi 1 "$CLICKSEG" generate -o arch -n 100000 -d 7 -f 3 --seed 21 > /dev/null
# Daily files cut at UTC midnight: 2023-12-31 (the generator's first hour), then 2024-01-01..07.
$PY "$SRCDIR/lib/split_archive.py" arch days --by day > pieces.txt
mapfile -t DAYS < <(awk '{print $1}' pieces.txt)
[ "${#DAYS[@]}" -eq 8 ] || { cat pieces.txt; fail "expected 8 daily pieces"; }
mpi 2 "$CLICKSEG" run -q -i 'days/*' -o week --sessions

# Sessions that cross midnight, at a boundary between two runs of the chain.
$PY - <<'PY'
import h5py, numpy as np
with h5py.File("week/sessions.h5") as f:
    s, e = f["sessions/start_ts"][:], f["sessions/end_ts"][:]
day = 86400 * 10**6
cross = np.count_nonzero((s // day != e // day) & (s >= np.datetime64("2024-01-01", "us").astype(np.int64)))
print("sessions across a midnight between two runs of the chain:", cross)
assert cross > 0, "the archive has no session across midnight: the test would prove nothing"
PY

# The chain: run 1 takes the first two pieces, runs 2..7 one day each.
chain_run() {   # chain_run I RANKS WINDOW INPUT...
    local i=$1 n=$2 w=$3; shift 3
    local inputs=()
    for d in "$@"; do inputs+=(-i "days/$d"); done
    mpi "$n" "$CLICKSEG" run -q "${inputs[@]}" -o "run$i" --sessions --state week.state --window-events "$w"
}
chain_run 1 1 4000 "${DAYS[0]}" "${DAYS[1]}"
chain_run 2 3 700 "${DAYS[2]}"
chain_run 3 2 100000 "${DAYS[3]}"
# After three runs: the report of one run over the same four days.
mpi 2 "$CLICKSEG" run -q -i "days/${DAYS[0]}" -i "days/${DAYS[1]}" -i "days/${DAYS[2]}" \
    -i "days/${DAYS[3]}" -o upto3 --sessions
$CMP --same upto3 run3 --sessions

# Refusals leave the state unchanged.
sum=$(md5sum < week.state)
expect_fail 4 "already processed into state week.state" \
    mpi 2 "$CLICKSEG" run -i "days/${DAYS[3]}" -o again --sessions --state week.state
mkdir -p redelivered && cp "days/${DAYS[3]}"/*.h5 redelivered/   # the same day again, by another name
expect_fail 4 "redelivered/.*looks like a copy of .*already processed into state week.state" \
    mpi 2 "$CLICKSEG" run -i redelivered -o again --sessions --state week.state
# the same rows and times but other users (a shard of the day) is no copy:
# its bytes differ from the processed file's (a throwaway state takes it)
mkdir -p shard && cp "days/${DAYS[3]}"/*.h5 shard/
$PY -c '
import glob, h5py
for p in glob.glob("shard/*.h5"):
    with h5py.File(p, "a") as f:
        u = f["events/user_id"]
        u[...] = u[:] + 10**9'
cp week.state shard.state
# ... but its rows are hours older than the state's newest: late, past
# max_late_share (5%), so the run is refused unless let through; the next
# day's run of that chain is then judged on its own rows (late_base from
# the state), not on the shard's.
expect_fail 4 "[0-9]+ of the (first )?[0-9]+ rows are late .*more than max_late_share \(5%\).*no report written" \
    mpi 2 "$CLICKSEG" run -q -i shard -o shardrun --sessions --state shard.state
[ ! -e shardrun ] || fail "a run refused for its late rows left its output"
mpi 2 "$CLICKSEG" run -q -i shard -o shardrun --sessions --state shard.state --set max_late_share=1
mpi 2 "$CLICKSEG" run -q -i "days/${DAYS[4]}" -o shardnext --sessions --state shard.state ||
    fail "a clean run was refused for the late rows of an earlier run of its chain"
$PY - <<'PY'
import json
r3, a, b = (json.load(open(d + "/report.json"))["totals"] for d in ("run3", "shardrun", "shardnext"))
shard_rows, shard_late = a["rows_read"] - r3["rows_read"], a["late_events"] - r3["late_events"]
assert shard_late > shard_rows // 2 and b["late_events"] == a["late_events"], (r3, a, b)
print("late rows judged per run of the chain: %d of the shard's %d, then none" % (shard_late, shard_rows))
PY
expect_fail 3 "state week.state was saved with another configuration" \
    mpi 2 "$CLICKSEG" run -i "days/${DAYS[4]}" -o other --sessions --state week.state --set session.gap=900
expect_fail 2 "saved by runs with sessions.h5" \
    mpi 2 "$CLICKSEG" run -i "days/${DAYS[4]}" -o nosess --state week.state
# A state that could not be saved is found before the job, not after it.
expect_fail 5 "--state nodir/week.state cannot be saved: its directory nodir does not exist" \
    mpi 2 "$CLICKSEG" run -i "days/${DAYS[4]}" -o nostate --sessions --state nodir/week.state
[ -e nostate ] && fail "a run refused for its --state path left its output"
mkdir -p statedir
expect_fail 5 "--state statedir is a directory" \
    mpi 2 "$CLICKSEG" run -i "days/${DAYS[4]}" -o nostate --sessions --state statedir
expect_fail 5 "--state newdir/ is a directory" \
    mpi 2 "$CLICKSEG" run -i "days/${DAYS[4]}" -o nostate --sessions --state newdir/
[ "$(md5sum < week.state)" = "$sum" ] || fail "a refused run changed the state"
ls week.state.tmp.* 2> /dev/null && fail "a refused run left a temporary state"

# Run 4 is killed after a checkpoint and resumed with another rank count.
mpirun -n 2 --oversubscribe "$CLICKSEG" run -i "days/${DAYS[4]}" -o run4 --sessions --state week.state \
    --window-events 300 --set checkpoint.every=1 > r4.out 2> r4.err &
BG=$!
deadline=$((SECONDS + 60))
until grep -q "checkpoint 3 written" r4.err; do
    [ $SECONDS -lt $deadline ] && kill -0 $BG 2> /dev/null || { cat r4.err >&2; fail "run 4 did not checkpoint"; }
    sleep 0.02
done
# Another run of the chain while it runs (a day submitted without a
# dependency on the one before) is refused before it loads the state: its
# save would drop run 4's day from the chain, or run 4's would drop its.
# Run 4's ranks are stopped meanwhile, so that it is still running.
kill -STOP $(pgrep -P $BG)
expect_fail 5 "--state: week.state is being written by another clickseg job \(pid [0-9]+ on .* holds week.state.lock\).*--dependency=afterok" \
    mpi 2 "$CLICKSEG" run -i "days/${DAYS[5]}" -o concurrent --sessions --state week.state
[ -e concurrent ] && fail "the refused concurrent run left its output"
kill -KILL $BG $(pgrep -P $BG) 2> /dev/null || true
wait $BG 2> /dev/null || true
[ "$(md5sum < week.state)" = "$sum" ] || fail "a killed run changed the state"
# what a run killed while saving the state leaves (a partial snapshot, an
# HDF5 file) goes with the next run of the chain; a user's file of such a
# name that is no HDF5 file stays
$PY -c 'import h5py; h5py.File("week.state.tmp.999999", "w").create_group("partial")'
echo mine > week.state.tmp.424242
# A state saved by another run since the checkpoint (here: only its time
# changed) is refused: the resumed run's save would undo that run's.
was=$(stat -c %y week.state)
touch week.state
expect_fail 4 "state week.state changed since checkpoint" \
    mpi 3 "$CLICKSEG" run -q -i "days/${DAYS[4]}" -o run4 --sessions --state week.state --resume
touch -d "$was" week.state
cp -p week.state state.before4
cp -rp run4.checkpoint ck4.bak
mpi 3 "$CLICKSEG" run -q -i "days/${DAYS[4]}" -o run4 --sessions --state week.state --resume
# Killed after it published run4 and saved the state, before it removed
# its checkpoint: the requeued job finds its outputs and state done.
cp -rp run4 run4.done
sum4=$(md5sum < week.state)
cp -rp ck4.bak run4.checkpoint
mpi 2 "$CLICKSEG" run -q -i "days/${DAYS[4]}" -o run4 --sessions --state week.state --resume=auto \
    2> fin.err || { cat fin.err >&2; fail "a finished run's requeue failed"; }
grep -q "had finished (run id [0-9a-f]*): it published run4 before it was stopped and saved its state" fin.err \
    || { cat fin.err >&2; fail "no note that the run had finished"; }
[ ! -e run4.checkpoint ] && [ "$(md5sum < week.state)" = "$sum4" ] || fail "the finished run's requeue changed something"
# Killed after it published run4, before it saved the state: the state is
# as the checkpoint found it, so the requeued job resumes to save it and
# replaces run4 (its own outputs) with the same; the chain below ends
# equal to one run over the week only if that state is right.
cp -p state.before4 week.state
cp -rp ck4.bak run4.checkpoint
mpi 2 "$CLICKSEG" run -q -i "days/${DAYS[4]}" -o run4 --sessions --state week.state --resume=auto \
    2> own.err || { cat own.err >&2; fail "the requeue of a run stopped before its state save failed"; }
grep -q "published run4 but was stopped before it saved --state week.state: resuming" own.err \
    || { cat own.err >&2; fail "no note on the resume to save the state"; }
[ ! -e run4.checkpoint ] || fail "the resumed run left its checkpoint"
$CMP --same run4.done run4 --sessions
# A state file written before format 4 (histograms of 64 bins): a chain
# outlives an upgrade of clickseg. The state before run 4, rewritten so,
# continues the chain to the same report.
cp state.before4 v3.state
$PY - <<'PY'
import h5py, numpy as np
with h5py.File("v3.state", "r+") as f:
    sig = f.attrs["layout"]
    sig = sig.decode() if isinstance(sig, bytes) else sig
    new, old = "cs_segstat=%d" % (8 * (12 + 2 * 248)), "cs_segstat=%d" % (8 * (12 + 2 * 64))
    assert new in sig, sig
    f.attrs["layout"] = np.bytes_(sig.replace(new, old))
    v = f["stats_segments"][:].reshape(-1, 12 + 2 * 248)
    assert not v[:, 12 + 63:12 + 248].any() and not v[:, 12 + 248 + 63:].any(), \
        "values past 114,687: no exact copy in 64 bins"
    old_v = np.concatenate([v[:, :12 + 64], v[:, 12 + 248:12 + 248 + 64]], axis=1).ravel()
    del f["stats_segments"]
    f["stats_segments"] = old_v   # no checksum attribute: as before checksums
PY
mpi 2 "$CLICKSEG" run -q -i "days/${DAYS[4]}" -o run4v3 --sessions --state v3.state
$CMP --same run4.done run4v3 --sessions
[ ! -e week.state.tmp.999999 ] || fail "a killed run's temporary state was left"
[ -e week.state.tmp.424242 ] || fail "a file that is no snapshot was removed"
rm week.state.tmp.424242
[ ! -e week.state.lock ] || fail "the run left the state's lock file"
chain_run 5 2 2000 "${DAYS[5]}"
chain_run 6 1 900 "${DAYS[6]}"
chain_run 7 3 5000 "${DAYS[7]}"
$CMP --same week run7 --sessions

# max_reject_share judges each run of a chain on its own rows: a heavily
# rejected first day (let through with a raised share) neither makes the
# next, clean day fail nor hides a broken later one, also when that run is
# resumed from its checkpoint. Copies of the days with every k-th ts in
# nanoseconds (rejected).
spoil() {   # spoil DAY EVERY: bad/DAY, every EVERY-th row's ts x 1000
    mkdir -p "bad/$1"
    $PY - "days/$1" "bad/$1" "$2" <<'PY'
import glob, os, shutil, sys, h5py
src, dst, k = sys.argv[1], sys.argv[2], int(sys.argv[3])
for p in sorted(glob.glob(src + "/*.h5")):
    q = os.path.join(dst, os.path.basename(p))
    shutil.copy(p, q)
    with h5py.File(q, "a") as f:
        ts = f["events/ts"][:]
        ts[::k] *= 1000
        f["events/ts"][...] = ts
PY
}
spoil "${DAYS[1]}" 3     # a third of the rows
spoil "${DAYS[3]}" 30    # about 3%
mpi 2 "$CLICKSEG" run -q -i "bad/${DAYS[1]}" -o rej1 --state rej.state --set max_reject_share=0.5
mpi 2 "$CLICKSEG" run -q -i "days/${DAYS[2]}" -o rej2 --state rej.state ||
    fail "a clean run was refused for the rejects of an earlier run of its chain"
sum=$(md5sum < rej.state)
expect_fail 4 "[0-9]+ of the (first )?[0-9]+ rows are rejected .*more than max_reject_share \(1%\).*add --resume to continue from the checkpoint in rej3.checkpoint" \
    mpi 2 "$CLICKSEG" run -q -i "bad/${DAYS[3]}" -o rej3 --state rej.state --window-events 1000 \
    --set checkpoint.every=1
[ "$(md5sum < rej.state)" = "$sum" ] || fail "a run refused for its rejects changed the state"
# Resumed with a share above this run's ~3% but below the chain's (the
# first day's third): the checkpoint kept the chain's counts apart.
mpi 3 "$CLICKSEG" run -q -i "bad/${DAYS[3]}" -o rej3 --state rej.state --window-events 700 \
    --set max_reject_share=0.05 --resume
$PY - <<'PY'
import json
r1, r2, r3 = (json.load(open(d + "/report.json"))["totals"] for d in ("rej1", "rej2", "rej3"))
assert r1["rejected_events"] > r1["rows_read"] // 4 and r2["rejected_events"] == r1["rejected_events"]
run3 = r3["rejected_events"] - r2["rejected_events"], r3["rows_read"] - r2["rows_read"]
assert 0 < run3[0] / run3[1] < 0.05 < r3["rejected_events"] / r3["rows_read"], (run3, r3)
print("rejects judged per run of the chain: %d of %d rows, then %d of %d" %
      (r1["rejected_events"], r1["rows_read"], run3[0], run3[1]))
PY

# A checkpoint of a chain run written before snapshots kept late_base (the
# attribute removed here): resumed, the chain's earlier late rows (the
# shard's) are not counted against this run's rows (they were: "13249 of
# the first 6000 rows are late").
spoil "${DAYS[5]}" 30
cp shard.state old.state
expect_fail 4 "rows are rejected .*more than max_reject_share \(1%\)" \
    mpi 2 "$CLICKSEG" run -q -i "bad/${DAYS[5]}" -o old5 --sessions --state old.state \
    --window-events 1000 --set checkpoint.every=1
$PY -c '
import glob, h5py
snaps = glob.glob("old5.checkpoint/snapshot-*.h5")
assert snaps, "no checkpoint to resume"
for p in snaps:
    with h5py.File(p, "a") as f:
        del f.attrs["late_base"]'
mpi 2 "$CLICKSEG" run -q -i "bad/${DAYS[5]}" -o old5 --sessions --state old.state \
    --window-events 1000 --set checkpoint.every=1 --set max_reject_share=0.05 --resume ||
    fail "a resumed chain run was judged on its chain's earlier late rows"
echo "test_state: ok"
