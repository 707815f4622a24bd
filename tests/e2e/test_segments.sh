#!/bin/bash
# Rules with more segments than a user-table entry holds (users.h keeps the
# first CS_HOT_SEGMENTS there, the rest in a second array): per-user
# segment counts in customers.h5, users per segment in report.json and per
# period in periods.csv, and the ranking's intent and risk (which read the
# information_collector and bot segments, both past the fourth) all agree
# with the same figures worked out from sessions.h5 in pandas; a chain of
# two runs through --state (a snapshot of those counters) gives the report
# of one run, whatever the window size; periods by local ISO week in
# America/New_York agree with pandas too.
# ranks: 1 3
set -euo pipefail
source "${SRCDIR:?}/lib/common.sh"
CMP="$PY $SRCDIR/lib/compare.py"

mpi 1 "$CLICKSEG" generate -o arch -n 60000 -d 4 -f 2 --seed 9 > /dev/null
cat > seg7.cfg <<'CFG'
report = { period = "day"; timezone = "UTC"; };
rules = (
  { segment = "long"; when = ( "events >= 12" ); },
  { segment = "medium"; when = ( "events >= 7" ); },
  { segment = "short"; when = ( "events >= 4" ); },
  { segment = "viewer"; when = ( "product_views >= 2" ); },
  { segment = "bot"; when = ( "events >= 3", "duration_s <= 60" ); },
  { segment = "information_collector"; when = ( "searches >= 1" ); },
  { segment = "rest"; }
);
CFG
mpi "$NRANKS" "$CLICKSEG" run -q -c seg7.cfg -i arch -o whole --sessions --window-events 2000

$PY - <<'PY'
import h5py, json, numpy as np, pandas as pd
r = json.load(open("whole/report.json"))
names = [s["name"] for s in r["segments"]]
assert names == ["long", "medium", "short", "viewer", "bot", "information_collector", "rest"], names
with h5py.File("whole/sessions.h5") as f:
    g = f["sessions"]
    s = pd.DataFrame({"user_id": g["user_id"][:], "segment": g["segment"][:].astype(int),
                      "start_ts": g["start_ts"][:]})
with h5py.File("whole/customers.h5") as f:
    c = pd.DataFrame({k: f["customers"][k][:] for k in f["customers"].keys()})
c = c.set_index("user_id")

# Every segment has sessions, so each counter is exercised.
per = s.groupby(["user_id", "segment"]).size().unstack(fill_value=0)
for k, n in enumerate(names):
    assert per[k].sum() > 0, n
    want = per[k].reindex(c.index, fill_value=0)
    got = c["sessions_" + n]
    bad = (want != got).sum()
    assert bad == 0, f"sessions_{n}: {bad} users differ"
    users = int((per[k] > 0).sum())
    assert r["segments"][k]["users"] == users, (n, r["segments"][k]["users"], users)

# Users per (day, segment): distinct users with a session starting that day.
s["day"] = pd.to_datetime(s.start_ts, unit="us").dt.strftime("%Y-%m-%d")
want = s.groupby(["day", "segment"]).user_id.nunique()
p = pd.read_csv("whole/periods.csv")
p["k"] = p.segment.map({n: k for k, n in enumerate(names)})
got = p.set_index(["period", "k"]).users
got.index.names = want.index.names
assert got[got > 0].sort_index().equals(want.sort_index()), "users per period and segment differ"

# The ranking reads the two segments past the fourth.
intent = np.minimum(c.sessions_information_collector + c.cart_abandons, 5)
assert (c.intent == intent).all(), "intent"
risk = np.where(c.refunds > 0,
                np.where(c.revenue > 0, (5 * c.refunds + c.revenue - 1) // c.revenue.clip(lower=1), 3),
                0)
risk = np.minimum(risk + 5 * (c.sessions_bot > 0) + (c.cart_removes >= 10), 5)
assert (c.risk == risk).all(), "risk"
assert (c.sessions_bot > 0).sum() > 0 and (c.risk == 5).sum() > 0
print(f"{len(c)} customers, {len(s)} sessions in 7 segments: counts, users, periods, "
      "intent and risk agree")
PY

# Periods by local ISO week in a zone west of UTC (sessions near midnight
# UTC fall on the day before there): sessions and users per (week,
# segment) as pandas works them out from the same sessions.
mpi "$NRANKS" "$CLICKSEG" run -q -c seg7.cfg -i arch -o weekly --window-events 2000 \
    --set report.period=week --set report.timezone=America/New_York
$PY - <<'PY'
import h5py, json, pandas as pd
names = [s["name"] for s in json.load(open("weekly/report.json"))["segments"]]
with h5py.File("whole/sessions.h5") as f:
    g = f["sessions"]
    s = pd.DataFrame({"user_id": g["user_id"][:], "segment": g["segment"][:].astype(int),
                      "start_ts": g["start_ts"][:]})
local = pd.to_datetime(s.start_ts, unit="us", utc=True).dt.tz_convert("America/New_York")
iso = local.dt.isocalendar()
s["period"] = iso.year.astype(str) + "-W" + iso.week.astype(str).str.zfill(2)
s["segment"] = s.segment.map(dict(enumerate(names)))
want = s.groupby(["period", "segment"]).agg(sessions=("user_id", "size"), users=("user_id", "nunique"))
p = pd.read_csv("weekly/periods.csv").set_index(["period", "segment"])[["sessions", "users"]]
p = p[p.sessions > 0].sort_index()
assert len(want) > len(names), want
assert p.equals(want.sort_index()), (p, want)
print(f"weekly periods in America/New_York: {len(want)} (week, segment) rows agree")
PY

# The chain: the first file, then the second (with the profile table, read
# at the end of a run), through a state file.
mpi "$NRANKS" "$CLICKSEG" run -q -c seg7.cfg -i arch/events-0000.h5 -o part1 --sessions \
    --state seg.state --window-events 700
mpi "$NRANKS" "$CLICKSEG" run -q -c seg7.cfg -i arch/events-0001.h5 -i arch/profiles.h5 -o part2 --sessions \
    --state seg.state
$CMP --same whole part2 --sessions
# A segment no session falls into has no quantiles and no rates: missing in
# segments.csv (NaN in pandas), null in report.json, -1 (quantiles) or NaN
# (rates) in report.h5; the others' agree across the three.
sed 's/  { segment = "rest"; }/  { segment = "never"; when = ( "events >= 1000000" ); },\n  { segment = "rest"; }/' \
    seg7.cfg > seg8.cfg
grep -q never seg8.cfg || fail "seg8.cfg lacks the empty segment"
mpi "$NRANKS" "$CLICKSEG" run -q -c seg8.cfg -i arch -o empty8
$PY - <<'PY'
import h5py, json, pandas as pd
csv = pd.read_csv("empty8/segments.csv").set_index("segment")
js = {s["name"]: s for s in json.load(open("empty8/report.json"))["segments"]}
with h5py.File("empty8/report.h5") as f:
    g = f["segments"]
    h5 = {n.decode(): {q: int(g[q][i]) for q in ("duration_s_p50", "events_p90")}
          for i, n in enumerate(g["name"][:])}
assert csv.loc["never", "sessions"] == 0 and js["never"]["sessions"] == 0
for q in ("duration_s_p50", "duration_s_p90", "events_p50", "events_p90"):
    assert pd.isna(csv.loc["never", q]), (q, csv.loc["never", q])
assert js["never"]["duration_s"] == {"p50": None, "p90": None, "p99": None}, js["never"]
assert h5["never"] == {"duration_s_p50": -1, "events_p90": -1}, h5["never"]
# nor rates: a conversion of no sessions is not 0% but undefined (NaN in
# report.h5's float columns); a segment with sessions but no cart session
# has no cart abandonment either
with h5py.File("empty8/report.h5") as f:
    g = f["segments"]
    i = [n.decode() for n in g["name"][:]].index("never")
    for k in ("conversion", "cart_abandonment", "mean_duration_s", "mean_events"):
        assert js["never"][k] is None and pd.isna(g[k][i]), (k, js["never"][k], g[k][i])
    assert g["share"][i] == 0 and js["never"]["share"] == 0   # 0 of the sessions: defined
for k in ("conversion", "cart_abandonment"):
    assert pd.isna(csv.loc["never", k]), (k, csv.loc["never", k])
for name, seg in js.items():
    if seg["cart_sessions"] == 0:
        assert seg["cart_abandonment"] is None and pd.isna(csv.loc[name, "cart_abandonment"]), name
    else:
        assert seg["cart_abandonment"] == seg["abandoned_cart_sessions"] / seg["cart_sessions"], name
for n in ("long", "rest"):
    assert csv.loc[n, "duration_s_p50"] == js[n]["duration_s"]["p50"] == h5[n]["duration_s_p50"] >= 0
    assert csv.loc[n, "events_p90"] == js[n]["events_per_session"]["p90"] == h5[n]["events_p90"] >= 1
print("an empty segment's quantiles and rates: NaN in segments.csv, null in report.json, -1 / NaN in report.h5")
PY
echo "test_segments: ok ($NRANKS ranks)"
