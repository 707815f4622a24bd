#!/bin/bash
# cost: 15
# clickseg run equals an independent numpy computation (tests/lib/reference.py)
# on a generated archive and on an edge-case archive, and gives the same
# report for any window size (and so, run under 1-4 ranks, any rank count).
set -euo pipefail
source "${SRCDIR:?}/lib/common.sh"
REF="$PY $SRCDIR/lib/reference.py"
CMP="$PY $SRCDIR/lib/compare.py"

mpi 1 "$CLICKSEG" generate -o arch -n 60000 -d 3 -f 3 --seed 11 > /dev/null
mpi "$NRANKS" "$CLICKSEG" run -q -i arch -o whole --sessions
mpi "$NRANKS" "$CLICKSEG" run -q -i arch -o tiny --sessions --window-events 150
# (without --sessions: the features no rule reads are left out, the rest equal)
mpi "$NRANKS" "$CLICKSEG" run -q -i 'arch/*.h5' -o glob
$REF arch --out ref > /dev/null
$CMP ref whole --sessions
$CMP --same whole tiny --sessions
$CMP --same whole glob

# Edge cases (gaps of exactly gap and gap+1us, equal timestamps, midnight and
# file-boundary crossings, a 10^5-event user, an empty file, int32 ids, enum
# and plain types, late and rejected rows, a profile-only file).
$PY "$SRCDIR/lib/make_edge_archive.py" edge --expect edge.json > /dev/null
mpi "$NRANKS" "$CLICKSEG" run -q -i edge -o e_whole --sessions
mpi "$NRANKS" "$CLICKSEG" run -q -i edge -o e_tiny --sessions --window-events 97
$REF edge --out e_ref > /dev/null
$CMP e_ref e_whole --sessions
$CMP --same e_whole e_tiny --sessions
$PY - <<'PY'
import json
exp, got = json.load(open("edge.json")), json.load(open("e_whole/report.json"))["totals"]
for k in ("late_events", "rejected_events"):
    if k in exp:
        assert got[k] == exp[k], (k, got[k], exp[k])
assert got["rows_read"] == got["events"] + got["late_events"] + got["rejected_events"]
print("late/rejected as planted:", got["late_events"], got["rejected_events"])
# user 301's bot session buys: business money only, in the tiers as in the totals
rep = json.load(open("e_whole/report.json"))
for t in ("tiers", "rfm_segments"):
    assert sum(x["revenue"] for x in rep[t]) == got["revenue"], (t, got["revenue"])
PY

# Session options: max_duration, a shorter gap, source mode.
mpi "$NRANKS" "$CLICKSEG" run -q -i edge -o e_md --sessions --window-events 500 \
    --set session.max_duration=600 --set session.gap=300
$REF edge --max-duration 600 --gap 300 --out e_md_ref > /dev/null
$CMP e_md_ref e_md --sessions
mpi "$NRANKS" "$CLICKSEG" run -q -i arch -o src --sessions --set session.mode=source
$REF arch --mode source --out src_ref > /dev/null
$CMP src_ref src --sessions

# A rule that reads distinct brands and the entry hour: without --sessions
# run still works those features out (it leaves out only what nothing
# reads), so the segment counts equal those of the reference's sessions.
cat > hop.cfg <<'CFG'
rules = (
  { segment = "brand_hopper"; when = ( "distinct_brands >= 2", "entry_hour >= 12" ); },
  { segment = "weekend"; when = ( "entry_weekday >= 5" ); },
  { segment = "other"; }
);
CFG
mpi "$NRANKS" "$CLICKSEG" run -q -c hop.cfg -i arch -o hop
$PY - <<'PY'
import h5py, json, numpy as np
with h5py.File("ref/sessions.h5", "r") as h:
    g = h["sessions"]
    b, hr, wd = g["distinct_brands"][:], g["entry_hour"][:], g["entry_weekday"][:]
hop = (b >= 2) & (hr >= 12)
want = {"brand_hopper": int(hop.sum()), "weekend": int((~hop & (wd >= 5)).sum())}
want["other"] = len(b) - want["brand_hopper"] - want["weekend"]
got = {s["name"]: s["sessions"] for s in json.load(open("hop/report.json"))["segments"]}
assert all(want[k] > 0 for k in want), want
assert got == want, (got, want)
print("rules on distinct brands and entry time without --sessions:", got)
PY

# Outputs are readable the way users read them.
$PY - <<'PY'
import h5py, json, pandas as pd
r = json.load(open("whole/report.json"))
seg = pd.read_csv("whole/segments.csv")
assert list(seg.segment) == [s["name"] for s in r["segments"]]
assert int(seg.sessions.sum()) == r["totals"]["sessions"]
per = pd.read_csv("whole/periods.csv")
assert int(per.sessions.sum()) == r["totals"]["sessions"]
# Ratios are reals however they fall: immediate buyers convert exactly 1
# and bots 0, which written "1" and "0" made a whole column int64.
for col in ("share", "conversion"):
    assert seg[col].dtype == "float64", (col, seg[col].dtype)
    assert all(isinstance(s[col], float) for s in r["segments"] if s[col] is not None), col
assert set(seg.conversion[seg.segment.isin(["bot", "immediate_buyer"])]) <= {0.0, 1.0}
tiers = pd.read_csv("whole/tiers.csv")
assert list(tiers.tier) == [t["name"] for t in r["tiers"]]
for col in ("users", "revenue", "user_share", "revenue_share"):
    want = [t[col] for t in r["tiers"]]
    assert all(abs(a - b) <= 1e-9 * max(1, abs(b)) for a, b in zip(tiers[col], want)), (col, list(tiers[col]), want)
assert abs(tiers.user_share.sum() - 1) < 1e-8
with h5py.File("whole/report.h5", "r") as h:
    assert int(h["totals/sessions"][0]) == r["totals"]["sessions"]
    assert [n.decode() for n in h["segments/name"][:]] == list(seg.segment)
    # docs/outputs.md's recipe: every 1-D column of a table into a DataFrame
    for t in ("segments", "periods", "tiers", "rfm_segments"):
        df = pd.DataFrame({k: v[:] for k, v in h[t].items() if v.ndim == 1})
        assert len(df) == h[t]["name" if t == "segments" else next(iter(h[t]))].shape[0], t
    df = pd.DataFrame({k: v[:] for k, v in h["segments"].items() if v.ndim == 1})
    assert list(df.sessions) == list(seg.sessions)
    # ... in the order they were written (name first), not by name
    assert list(df.columns[:3]) == ["name", "sessions", "users"], list(df.columns)
    assert list(h["tiers"])[:3] == ["name", "users", "user_share"], list(h["tiers"])
with h5py.File("whole/customers.h5", "r") as h:
    assert list(h["customers"])[:3] == ["user_id", "events", "sessions"], list(h["customers"])
print("report.json, CSVs and report.h5 agree")
PY
# Columns with a unit say it (h5py readers need not look it up).
$PY - <<'PY'
import h5py
us, money = "microseconds since 1970-01-01 00:00:00 UTC", "minor currency units (cents)"
want = {"customers": {"first_ts": us, "last_ts": us, "revenue": money, "refunds": money,
                      "monetary": money, "recency_days": "days", "events": None},
        "sessions": {"start_ts": us, "end_ts": us, "revenue": money, "refund_amount": money,
                     "refunds": None, "duration_s": "seconds", "min_gap_ms": "milliseconds"}}
for t, cols in want.items():
    with h5py.File("whole/%s.h5" % t) as f:
        for c, u in cols.items():
            got = f[t][c].attrs.get("units")
            assert (got.decode() if got is not None else None) == u, (t, c, got)
print("units attributes as documented")
PY
# --input with a glob the shell expanded (the files after the first are
# operands): the same report as the directory.
mpi "$NRANKS" "$CLICKSEG" run -q -i arch/*.h5 -o globbed
mpi "$NRANKS" "$CLICKSEG" run -q -i arch -o dir
$CMP --same dir globbed
# Two servers' logs of the same minutes (equal first, middle and last
# times: second resolution), one user in both at one second: a view on one,
# a purchase on the other. Files of equal times are ordered by path, so the
# view comes first or not, and views_before_purchase (here a rule) follows
# the order. However the inputs are spelled (./, absolute, directories),
# the order is the same, so is the report.
mkdir -p tie/web1 tie/web2
$PY - <<'PY'
import h5py, numpy as np
T0 = int(np.datetime64("2024-05-01T10:00:00", "us").astype(np.int64)); S = 1_000_000
def w(p, u, et, pr):
    with h5py.File(p, "w") as f:
        f["events/ts"] = np.array([T0, T0 + 300 * S, T0 + 600 * S], dtype=np.int64)
        f["events/user_id"] = np.array(u, dtype=np.uint64)
        f["events/event_type"] = np.array(et, dtype=np.uint8)
        f["events/price"] = np.array(pr, dtype=np.int64)
w("tie/web1/a.h5", [1, 7, 2], [0, 1, 0], [0, 0, 0])       # user 7 views a product at 10:05
w("tie/web2/a.h5", [3, 7, 4], [0, 6, 0], [0, 5000, 0])    # ... and buys it at 10:05
PY
cat > tie.cfg <<'CFG'
rules = (
  { segment = "direct_buyer"; when = ( "purchases >= 1", "views_before_purchase == 0" ); },
  { segment = "buyer"; when = ( "purchases >= 1" ); },
  { segment = "other"; }
);
CFG
mpi "$NRANKS" "$CLICKSEG" run -q -c tie.cfg -i tie/web1/a.h5 -i tie/web2/a.h5 -o tie_a
mpi "$NRANKS" "$CLICKSEG" run -q -c tie.cfg -i ./tie/web2/a.h5 -i tie/web1/a.h5 -o tie_b
mpi "$NRANKS" "$CLICKSEG" run -q -c tie.cfg -i tie/web2 -i "$PWD/tie/web1/" -o tie_c
for o in tie_b tie_c; do
    cmp tie_a/segments.csv "$o/segments.csv" || fail "$o: the spelling of the inputs changed the report"
done
echo "test_run: ok ($NRANKS ranks)"
