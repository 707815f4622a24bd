#!/bin/bash
# A checkpoint.dir shared by runs over other inputs (set in one job.cfg
# that every task of a job array reads): a run holds the directory's lock
# for its whole life, so a second run is refused (exit 5, naming the
# holder and the fix) before it reads or removes anything there, and the
# first finishes to the report of an uninterrupted run (once, the first to
# save or finish deleted the other's snapshots). A run without --resume
# that finds another run's checkpoint (other inputs, other config) says
# so instead of only offering --force, and leaves it; the owner then
# resumes it. A checkpoint.dir that is the output directory itself still
# works (its output lock covers it).
# ranks: 2
set -euo pipefail
source "${SRCDIR:?}/lib/common.sh"
source "$SRCDIR/lib/background.sh"
CMP="$PY $SRCDIR/lib/compare.py"
export MPI_TIMEOUT=120

mpi 1 "$CLICKSEG" generate -o arch -n 60000 -d 6 -f 6 --seed 11 > /dev/null
mkdir -p pA pB
cp arch/events-000[0-2].h5 pA/
cp arch/events-000[3-5].h5 pB/
mpi 2 "$CLICKSEG" run -q -i pA -o wholeA
CK=$PWD/sharedck
printf 'checkpoint = { dir = "%s"; every = 1; };\n' "$CK" > shared.cfg
# 300 rows a rank a window: some 50 windows, each checkpointed.
A=(run -c shared.cfg -i pA --window-events 300)
B=(run -c shared.cfg -i pB --window-events 300)

ck_state() { (cd "$CK" && ls -l --time-style=+%s.%N . && md5sum -- *); }

# 1. Run A in the background, its ranks stopped once it has a checkpoint
# (so that it surely still runs while B tries, whatever the machine's speed).
start_bg a 2 "${A[@]}" -o oA
wait_for a.err "checkpoint 2 written" 60
ranks=$(pgrep -P "$BG")
kill -STOP $ranks
before=$(ck_state)
holder="checkpoint.dir: $CK is being written by another clickseg job \(pid [0-9]+ on [^)]+ holds $CK.lock\)"
fix="give each run its own checkpoint.dir \(the default is OUTPUT.checkpoint"
expect_fail 5 "$holder.*$fix" mpi 2 "$CLICKSEG" "${B[@]}" -o oB
[ "$(grep -c "clickseg run: error" err.txt)" -eq 1 ] || { cat err.txt >&2; fail "not one message"; }
# neither --force (which once removed A's checkpoint) nor a requeue's --resume=auto
expect_fail 5 "$holder" mpi 2 "$CLICKSEG" "${B[@]}" -o oB --force
expect_fail 5 "$holder" mpi 2 "$CLICKSEG" "${B[@]}" -o oB --resume=auto
[ ! -e oB ] && [ ! -e oB.lock ] && ! ls -d oB.tmp.* 2> /dev/null || fail "a refused run left output"
[ "$(ck_state)" = "$before" ] || { echo "$before"; ck_state; fail "a refused run touched A's checkpoint"; }
kill -0 "$BG" 2> /dev/null || fail "run A ended before the checks (they prove nothing)"
kill -CONT $ranks
wait_rc
[ "$RC" = 0 ] || { cat a.err >&2; fail "run A failed: exit $RC"; }
$CMP --same wholeA oA
[ ! -e "$CK" ] && [ ! -e "$CK.lock" ] || fail "run A left its checkpoint or its lock file"

# 2. Run A stopped (SIGUSR1) leaves its checkpoint; B, and A with another
# config, are told it is another run's, and leave it; A resumes it.
start_bg a2 2 "${A[@]}" -o oA2
wait_for a2.err "checkpoint 1 written" 60
kill -USR1 "$BG"
wait_rc
[ "$RC" = 7 ] || { cat a2.err >&2; fail "the stopped run A: exit $RC, expected 7"; }
before=$(ck_state)
expect_fail 5 "$CK holds the checkpoint of another run, over other input files \(its file 1 is .*pA/events-0000.h5, this run's .*pB/events-0003.h5\).*$fix, here oB.checkpoint\); --force would delete that run's checkpoint" \
    mpi 2 "$CLICKSEG" "${B[@]}" -o oB
expect_fail 5 "$CK holds the checkpoint of another run, with another configuration \(config hash [0-9a-f]+, this run [0-9a-f]+\).*--force would delete" \
    mpi 2 "$CLICKSEG" "${A[@]}" -o oA2 --set session.gap=600
# the same run without --resume: as before
expect_fail 5 "$CK holds the checkpoint of an unfinished run .*--resume" mpi 2 "$CLICKSEG" "${A[@]}" -o oA2
[ "$(ck_state)" = "$before" ] || fail "a refused run touched A's checkpoint"
mpi 2 "$CLICKSEG" "${A[@]}" -q -o oA2 --resume
$CMP --same wholeA oA2
[ ! -e "$CK" ] && [ ! -e "$CK.lock" ] || fail "the resumed run left its checkpoint or its lock file"

# 3. checkpoint.dir = the output directory: no lock of its own (the output's
# covers it; a second one would refuse the run itself).
mpi 2 "$CLICKSEG" run -q -i pA -o self --window-events 3000 --set checkpoint.dir=self \
    --set checkpoint.every=1
$CMP --same wholeA self
echo "test_checkpoint_dir: ok"
