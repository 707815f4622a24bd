#!/bin/bash
# Progress during `run` in a non-terminal log (a file, like a Slurm log):
# rank 0 writes the plan's line and plain lines for the first and last
# windows (no carriage returns); no other rank writes progress unless
# --verbose, which adds every rank's line for every window, prefixed with
# its rank (checked with mpirun --tag-output, which names the rank that
# wrote each line); --quiet prints nothing; a one-window run prints no
# progress; --progress live forces the live line; after a resume, events
# and percentage count the rows done before it. Then import's and
# generate's steps.
set -euo pipefail
source "${SRCDIR:?}/lib/common.sh"
mpi 1 "$CLICKSEG" generate -o arch -n 60000 -d 5 -f 2 --seed 3 > /dev/null

mpi "$NRANKS" --tag-output "$CLICKSEG" run -i arch -o a --window-events 2000 > out.txt 2> log.txt
$PY - "$NRANKS" <<'PY'
import json, re, sys
n = int(sys.argv[1])
W = json.load(open("a/report.json"))["run"]["windows"]
rows = json.load(open("a/report.json"))["run"]["rows"]
assert W > 4, W
log = open("log.txt", "rb").read().decode()
assert "\r" not in log, "carriage return in a log file"
lines = [l for l in log.splitlines() if l.strip()]
tagged = [re.match(r"\[\d+,(\d+)\]<stderr>:(.*)$", l) for l in lines]
assert all(tagged), [l for l, t in zip(lines, tagged) if not t]
# clickseg's lines (a sanitizer build may add its own reports to stderr)
progress = [(int(t.group(1)), t.group(2)) for t in tagged if t.group(2).startswith("clickseg")]
assert all(r == 0 for r, _ in progress), "progress from a rank other than 0: %r" % progress
texts = [t for _, t in progress]
assert re.match(r"clickseg run: 2 files, 60,000 events in %d windows of up to [\d,]+ on %d ranks?$"
                % (W, n), texts[0]), texts[0]
win = [re.match(r"clickseg run: window (\d+)/(\d+) \((\d+)%\), ([\d,]+)/([\d,]+) events, \S+ "
                r"events/s, elapsed .+, ETA .+, peak RSS [\d.]+ [MG]iB/rank$", t) for t in texts[1:]]
assert all(win), texts
nums = [int(m.group(1)) for m in win]
assert nums[0] == 1 and nums[-1] == W and nums == sorted(nums), nums
assert all(int(m.group(2)) == W for m in win)
last = win[-1]
assert int(last.group(4).replace(",", "")) == rows == int(last.group(5).replace(",", "")), last.group(0)
assert last.group(3) == "100"
print("%d ranks: %d progress lines from rank 0 for %d windows" % (n, len(win), W))
PY

# --verbose: every rank, every window, each line from the rank it names.
mpi "$NRANKS" --tag-output "$CLICKSEG" run -v -i arch -o b --window-events 2000 > /dev/null 2> vlog.txt
$PY - "$NRANKS" <<'PY'
import h5py, json, re, sys
n = int(sys.argv[1])
W = json.load(open("b/report.json"))["run"]["windows"]
seen = set()
for l in open("vlog.txt").read().splitlines():
    m = re.match(r"\[\d+,(\d+)\]<stderr>:clickseg run \[rank (\d+)\]: window (\d+)/(\d+): ", l)
    if m:
        assert m.group(1) == m.group(2), "a line for rank %s from rank %s" % (m.group(2), m.group(1))
        seen.add((int(m.group(2)), int(m.group(3))))
want = {(r, w) for r in range(n) for w in range(1, W + 1)}
assert seen == want, sorted(want - seen)[:5]
print("--verbose: %d per-rank lines, each tagged with its rank" % len(seen))
# The phase times: the issue's eight phases in order, as report.json has
# them; features (the sampled time sessions take to close, unit-tested
# against a known cost in test_sessionize_windows) is some of the run's time.
run = json.load(open("b/report.json"))["run"]
names = ["plan", "read", "shuffle", "sort", "sessionize", "features", "reduce", "write"]
assert list(run["phase_s"]) == names, list(run["phase_s"])
line = [l for l in open("vlog.txt").read().splitlines() if "phase times" in l]
assert len(line) == 1, line
got = re.findall(r"(\w+) (\d+\.\d+) s \((\d+\.\d+)\)", line[0].split(":", 2)[-1])
assert [k for k, _, _ in got] == names, got
# The fastest rank's times beside the slowest's: one rank's own, so never
# above the slowest's, and with one rank the same.
fast = run["phase_s_fastest"]
assert list(fast) == names, list(fast)
for k, v, f in got:
    assert abs(float(v) - run["phase_s"][k]) < 0.0015, (k, v, run["phase_s"][k])
    assert abs(float(f) - fast[k]) < 0.0015, (k, f, fast[k])
    assert fast[k] <= run["phase_s"][k], (k, fast[k], run["phase_s"][k])
    if run["ranks"] == 1:
        assert fast[k] == run["phase_s"][k], (k, fast[k], run["phase_s"][k])
with h5py.File("b/report.h5") as h:
    assert [x.decode() for x in h["run/phase"][:]] == names
    assert h["run/seconds_fastest"][:].tolist() == [fast[k] for k in names]
assert run["phase_s"]["features"] > 0, run["phase_s"]
assert run["phase_s"]["features"] < run["wall_s"], (run["phase_s"], run["wall_s"])
print("--verbose: phase times (slowest, fastest) %s" % " ".join("%s %s %s" % kv for kv in got))
PY

# --quiet: nothing at all; one window: no progress.
mpi "$NRANKS" "$CLICKSEG" run -q -i arch -o c --window-events 2000 > q.out 2> q.err
[ ! -s q.out ] || fail "--quiet printed: $(cat q.out)"
grep -q "clickseg" q.err && fail "--quiet printed: $(cat q.err)"
mpi "$NRANKS" "$CLICKSEG" run -i arch -o d > d.out 2> d.err
grep -q "window" d.err && fail "progress for a one-window run: $(cat d.err)"
grep -q "clickseg run: 60000 events" d.out || fail "no summary line: $(cat d.out)"
# --progress live: the line is rewritten in place and ends with a newline.
mpi "$NRANKS" "$CLICKSEG" run --progress live -i arch -o e --window-events 2000 > /dev/null 2> live.txt
grep -q $'\r' live.txt || fail "--progress live wrote no carriage return"
[ "$(tail -c 1 live.txt | od -An -c | tr -d ' ')" = '\n' ] || fail "the live line does not end"
# After a resume the rows done before it count: the first line's events
# and percentage are at least the resume point's (they once started from
# 0, and the ETA counted on rows already done). The run is stopped
# deterministically: its ranks are paused, sent SIGUSR1 and continued, so
# they stop at the end of a window that is not the last.
mpirun -n "$NRANKS" --oversubscribe "$CLICKSEG" run -i arch -o r --window-events 2000 \
    --set checkpoint.every=1 > /dev/null 2> r1.txt &
BG=$!
deadline=$((SECONDS + 60))
until grep -q "checkpoint 1 written" r1.txt; do
    [ $SECONDS -lt $deadline ] && kill -0 $BG 2> /dev/null || { cat r1.txt >&2; fail "no checkpoint"; }
    sleep 0.01
done
ranks=$(pgrep -P $BG)
kill -STOP $ranks
kill -USR1 $ranks
kill -CONT $ranks
rc=0; wait $BG || rc=$?
[ "$rc" -eq 7 ] || { cat r1.txt >&2; fail "the stopped run: exit $rc, expected 7"; }
mpi "$NRANKS" "$CLICKSEG" run -i arch -o r --window-events 2000 --resume --progress lines \
    > /dev/null 2> r2.txt
$PY <<'PY'
import re
log = open("r2.txt").read()
m = re.search(r"resuming from r.checkpoint: (\d+) of (\d+) rows done", log)
assert m, log
start, total = int(m.group(1)), int(m.group(2))
assert 0 < start < total, (start, total)
assert re.search(r"clickseg run: 2 files, 60,000 events \(%s done before this start\) in \d+ windows"
                 % format(start, ","), log), log
win = re.findall(r"window (\d+)/(\d+) \((\d+)%\), ([\d,]+)/([\d,]+) events", log)
assert len(win) >= 2, log
first, last = win[0], win[-1]
assert first[0] == "1", first
assert int(first[2]) >= int(100 * start / total), (first, start, total)
assert start < int(first[3].replace(",", "")) <= total, (first, start)
assert last[2] == "100" and int(last[3].replace(",", "")) == total, last
print("resumed at %d of %d rows: first line %s%%, %s events" % (start, total, first[2], first[3]))
PY
$PY "$SRCDIR/lib/compare.py" --same a r
expect_fail 2 "--progress: 'tty' is not auto, live or lines" mpi "$NRANKS" "$CLICKSEG" run --progress tty -i arch -o f

# import: with --progress lines, rank 0 alone names each step from the
# start (parsing, sorting N events, writing); by default (auto) a short
# import prints nothing (it stays quiet for its first 5 s), nor with -q.
awk 'BEGIN { print "event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session"
    for (i = 0; i < 5000; i++)
        printf "2019-10-0%d %02d:%02d:%02d UTC,view,%d,2053013552326770905,,aqua,%d.99,%d,s-%d\n",
            1 + i % 3, i / 3600 % 24, i / 60 % 60, i % 60, 1000 + i % 97, i % 50, 500000 + i % 211, i % 211 }' > ev.csv
mpi "$NRANKS" --tag-output "$CLICKSEG" import --progress lines --format rees46 ev.csv -o im > im.out 2> im.log
$PY <<'PY'
import re
lines = [l for l in open("im.log").read().splitlines() if "clickseg import" in l]
tagged = [re.match(r"\[\d+,(\d+)\]<stderr>:(clickseg import: .*)$", l) for l in lines]
assert all(tagged) and all(t.group(1) == "0" for t in tagged), lines
steps = [re.sub(r" \(elapsed [^)]*\)$", "", t.group(2)) for t in tagged]
assert steps == ["clickseg import: parsing", "clickseg import: sorting 5,000 events",
                 "clickseg import: writing"], steps
PY
grep -q "imported im: 5000 rows" im.out || fail "import summary: $(cat im.out)"
mpi "$NRANKS" "$CLICKSEG" import --format rees46 ev.csv -o im2 > im2.out 2> im2.log
! grep -q "clickseg import:" im2.log || fail "a short import printed progress: $(cat im2.log)"
mpi "$NRANKS" "$CLICKSEG" import -q --progress lines --format rees46 ev.csv -o im3 > im3.out 2> im3.log
! grep -q "clickseg import" im3.log im3.out || fail "import -q printed: $(cat im3.log im3.out)"
expect_fail 2 "--progress: 'tty' is not auto, live or lines" mpi "$NRANKS" "$CLICKSEG" import --progress tty --format rees46 ev.csv -o f

# generate: the same ticker. With --progress lines rank 0 alone names the
# events step and the profiles step; a short generate prints none by
# default, nor with -q.
mpi "$NRANKS" --tag-output "$CLICKSEG" generate --progress lines -o g1 -n 20000 -d 2 -f 2 \
    > g1.out 2> g1.log
$PY <<'PY'
import re
lines = [l for l in open("g1.log").read().splitlines() if "clickseg generate" in l]
tagged = [re.match(r"\[\d+,(\d+)\]<stderr>:(clickseg generate: .*)$", l) for l in lines]
assert all(tagged) and all(t.group(1) == "0" for t in tagged), lines
steps = [re.sub(r" \(elapsed [^)]*\)$", "", t.group(2)) for t in tagged]
assert steps == ["clickseg generate: writing 20,000 events into 2 files",
                 "clickseg generate: writing profiles"], steps
PY
grep -q "generated g1: 20000 events" g1.out || fail "generate summary: $(cat g1.out)"
mpi "$NRANKS" "$CLICKSEG" generate -o g2 -n 20000 -d 2 > g2.out 2> g2.log
! grep -q "clickseg generate:" g2.log || fail "a short generate printed progress: $(cat g2.log)"
mpi "$NRANKS" "$CLICKSEG" generate -q --progress lines -o g3 -n 20000 -d 2 > g3.out 2> g3.log
! grep -q "generate" g3.log g3.out || fail "generate -q printed: $(cat g3.log g3.out)"
expect_fail 2 "--progress: 'tty' is not auto, live or lines" mpi "$NRANKS" "$CLICKSEG" generate --progress tty -o g4
echo "test_progress: ok ($NRANKS ranks)"
