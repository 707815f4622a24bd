#!/bin/bash
# ranks: 2
# The benchmark's script and tools work (docs/benchmark.md), without the
# network or DuckDB: bench.sh on 2*10^5 events (1 and 2 ranks, --peer none)
# prints the table and records every measurement, times generate, runs the
# weak-scaling series (10^5 events per rank, 1 and 2 ranks) with bytes sent
# per event equal to what the shuffle must send, and writes the final table
# and the targets (also in markdown); the floor reader reads
# every row and its column sums equal h5py's (blocks crossing files too);
# and the count check fails when a peer's counts differ from clickseg's and
# passes when they are equal. As root (CI), --cold adds the floor and the
# run with the page cache dropped before each: rows, ratio, the same counts.
set -euo pipefail
source "${SRCDIR:?}/lib/common.sh"
BUILD=$(dirname "$CLICKSEG")
FLOOR=$BUILD/bench_floor
N=200000
COLD=() NCOLD=0
if [ -w /proc/sys/vm/drop_caches ]; then COLD=(--cold); NCOLD=8; fi

timeout 300 bash "$SRCDIR/bench/bench.sh" --no-build --build "$BUILD" --data data --out out \
    --events 2e5 --reps 1 --peer none --no-import --days 7 --files 3 "${COLD[@]}" \
    --weak-events 1e5 --weak-ranks 1,2 --memory 300M > table.txt 2> bench.err ||
    { cat bench.err table.txt >&2; fail "bench.sh failed"; }
cat table.txt
grep -Eq "^floor +1 +1 " table.txt || fail "no floor row for 1 rank in the table"
grep -Eq "^run +2 +1 " table.txt || fail "no clickseg run row for 2 ranks in the table"
grep -q "^check: ok" table.txt || fail "the count check did not pass"
grep -Eq "^run phases, 2 rank\(s\), s \(fastest rank in brackets\): plan [0-9.]+ \([0-9.]+\) " table.txt ||
    fail "no phase line with the fastest rank's times"
# generate 1 + floor 2x2 + run 2x2 + weak 2x2 (+ floor-cold 2x2 + run-cold 2x2)
[ "$(grep -c $'\tok\t' out/results.tsv)" -eq $((13 + NCOLD)) ] ||
    fail "expected $((13 + NCOLD)) ok measurements in results.tsv"
if [ "$NCOLD" -gt 0 ]; then
    grep -Eq "^floor-cold +2 +1 " table.txt || fail "no cold floor row for 2 ranks"
    grep -Eq "^run-cold +2 +1 " table.txt || fail "no cold run row for 2 ranks"
    grep -q "^ratio run/floor in-program, page cache dropped, 2 ranks: " table.txt ||
        fail "no cold run/floor ratio"
    grep -q "^| 200,000 | clickseg run, page cache dropped | 2 |" out/table.md ||
        fail "table.md has no cold run row"
    echo "cold rounds ok (the count check above covers their counts)"
fi
grep -Eq "^generate +2 +1 " table.txt || fail "no timed generate in the table"
grep -Eq "^200,000 +peak RSS / memory_per_rank, run 2 rank\(s\) .* (PASS|MISS) +[0-9]+ of 300 MiB" \
    table.txt || fail "no memory target against the --memory budget"
grep -Eq "^200,000 +strong scaling run 1 -> 2 ranks.* (PASS|MISS)" table.txt ||
    fail "no strong-scaling target"
grep -q "^| 200,000 | clickseg generate | 2 |" out/table.md || fail "table.md has no generate row"
grep -q "^| 2 | 200,000 |" out/table.md || fail "table.md has no weak-scaling row for 2 ranks"
# Bytes per event: the shuffle sends each event record (48 bytes) to its
# user's home rank, so about half of them on 2 ranks and none on 1, as an
# independent count from the data (user_id modulo 2 is not the home, so only
# the bounds are checked: 1 rank exactly 0, 2 ranks within 21-34 bytes: about
# half of each 48-byte record crosses).
$PY - out/summary.json <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
weak = {e["ranks"]: e for e in s["weak"]["measures"]}
assert s["weak"]["events_per_rank"] == 100000, s["weak"]
assert sorted(weak) == [1, 2] and weak[2]["events"] == 200000, weak
assert weak[1]["bytes_per_event"] == 0, weak[1]
assert 11 <= weak[2]["bytes_per_event"] <= 17, weak[2]   # 24-byte records, half sent
runs = {e["ranks"]: e for e in s["sizes"]["200000"]["measures"] if e["tool"] == "run"}
assert runs[1]["budget_mib"] == 300 and runs[2]["budget_mib"] == 300, runs
t = {x["what"]: x for x in s["sizes"]["200000"]["targets"]}
x = t["peak RSS / memory_per_rank, run 2 rank(s)"]
assert abs(x["value"] - runs[2]["peak_mib_per_rank"] / 300) < 1e-9, x
assert x["status"] == ("PASS" if x["value"] <= 1.2 else "MISS"), x
for r, e in runs.items():   # the slowest and the fastest rank's phases, medians
    assert list(e["phase_s_fastest"]) == list(e["phase_s"]), e
    assert all(e["phase_s_fastest"][k] <= e["phase_s"][k] for k in e["phase_s"]), e
print("weak scaling, bytes per event, the memory target and the phases ok")
PY
for f in out/ev$N/floor-r*-*.txt; do
    grep -q " rows=$N " "$f" || fail "$f: the floor did not read $N rows"
done

# The floor's sums of every column it reads equal h5py's, with small blocks
# so that reads cross block and file boundaries.
arch=$(ls -d data/ev$N-*/)
mpi "$NRANKS" "$FLOOR" --check --block-rows 7777 --columns ts,user_id,event_type,price,session_id \
    "$arch" > floor.txt
$PY - "$arch" floor.txt <<'PY'
import glob, sys
import h5py, numpy as np
files = sorted(glob.glob(sys.argv[1] + "/events-*.h5"))
line = [l for l in open(sys.argv[2]) if "check" in l][0]
got = dict(kv.split("=") for kv in line.split()[2:])
for col in ("ts", "user_id", "event_type", "price", "session_id"):
    s = np.uint64(0)
    for f in files:
        with h5py.File(f) as h:
            s += h["events"][col][:].astype(np.uint64).sum(dtype=np.uint64)
    assert int(got["sum_" + col]) == int(s), (col, got["sum_" + col], int(s))
print("floor sums equal h5py's for", len(files), "files")
PY

# The count check: a peer that found one session fewer fails, an exact one passes.
run_json=$(ls out/ev$N/run-r2-1.json)
for delta in 1 0; do
    $PY - "$run_json" "$delta" > peer-$delta.json <<'PY'
import json, sys
rep, delta = json.load(open(sys.argv[1])), int(sys.argv[2])
segs = {s["name"]: {"sessions": s["sessions"], "events": s["events"], "revenue": s["revenue"]}
        for s in rep["segments"]}
segs["simple_browser"]["sessions"] -= delta
print(json.dumps({"wall_s": 1.0, "sessions": rep["totals"]["sessions"] - delta,
                  "events": rep["totals"]["events"], "segments": segs}))
PY
    cp out/results.tsv results-$delta.tsv
    printf '%s\tduckdb\t2\t1\tok\t1.0\t1024\t%s\n' "$N" "$PWD/peer-$delta.json" >> results-$delta.tsv
done
expect_fail 1 "DuckDB \(round 1\) differs from clickseg: sessions" \
    $PY "$SRCDIR/bench/summarize.py" results-1.tsv
grep -q "segment simple_browser" err.txt || fail "the mismatch does not name the segment"
$PY "$SRCDIR/bench/summarize.py" results-0.tsv > ok.txt || fail "equal counts did not pass the check"
grep -q "^check: ok (clickseg runs, DuckDB):" ok.txt || fail "equal counts: no 'check: ok'"
echo "bench: script, floor and count check ok"
