#!/bin/bash
# ranks: 1 2 3
# Target-customer selection: tiers, RFM segments, top-K targets and prospects,
# profile cross-tabs. The lists and cut points are identical for 1-3 ranks and
# any window size; targets equal the top of customers.h5 by (score desc,
# user_id); planted high-value customers land in the high tier and no
# planted bot is a target; cross-tab totals add up (tests/lib/targets_check.py).
set -euo pipefail
source "${SRCDIR:?}/lib/common.sh"
mpi 1 "$CLICKSEG" generate -o arch -n 150000 -d 4 -f 2 --seed 21 > /dev/null
mpi 1 "$CLICKSEG" run -q -i arch -o one --set rank.top_k=150
mpi "$NRANKS" "$CLICKSEG" run -q -i arch -o many --set rank.top_k=150 --window-events 2000
$PY "$SRCDIR/lib/targets_check.py" arch many
$PY "$SRCDIR/lib/compare.py" --same one many
$PY - <<'PY'
import json
a, b = (json.load(open(d + "/report.json")) for d in ("one", "many"))
for key in ("ranking", "tiers", "rfm_segments", "targets", "prospects", "profiles"):
    assert a[key] == b[key], f"{key} differs between 1 rank and many"
assert len(a["targets"]) == 150 and len(a["prospects"]) == 150
assert set(a["profiles"]) == {"gender", "age_band", "region"}, a["profiles"].keys()
# users without a profile row: value null, apart from the table's own 0 ("unknown")
assert any(r["value"] is None for r in a["profiles"]["gender"]), "users without a profile"
assert all(r["value"] is None or isinstance(r["value"], int) for r in a["profiles"]["gender"])
import pandas as pd
pc = pd.read_csv("many/profiles.csv")
assert pc["value"].dtype.kind == "i", pc.dtypes   # integers for pandas: -1 = no profile row
# the codes' labels, as the generator's profile table gives them
# (gender_values), in report.json, profiles.csv and report.h5
names = {None: None, 0: "unknown", 1: "female", 2: "male", 3: "other"}
got = {r["value"]: r["label"] for r in a["profiles"]["gender"]}
assert len(got) >= 3 and all(names[v] == l for v, l in got.items()), got
assert pc[pc.column == "age_band"].set_index("value").label.to_dict().get(2) == "25-34", pc
import h5py
text = lambda v: v.decode() if isinstance(v, bytes) else str(v)   # fixed-length: bytes
with h5py.File("many/report.h5") as h:
    assert text(h["profiles/gender"].attrs["values"]) == "0=unknown 1=female 2=male 3=other"
    assert "values" not in h["profiles/region"].attrs   # the table gives no labels for it
with h5py.File("many/customers.h5") as h:
    assert text(h["customers/profile_gender"].attrs["values"]) == "0=unknown 1=female 2=male 3=other"
g = pc[pc.column == "gender"]
assert sorted(g.value.tolist()) == sorted(-1 if r["value"] is None else r["value"]
                                          for r in a["profiles"]["gender"]), g
print("ranking sections identical; profiles:", sorted(a["profiles"]))
PY
# A list as long as the customer table: every customer outside the risk
# tier, none in it, and risk-tier customers with scores above some targets'
# (what made the exclusion matter: they were ranked among the targets).
mpi "$NRANKS" "$CLICKSEG" run -q -i arch -o all --set rank.top_k=1000000
$PY "$SRCDIR/lib/targets_check.py" arch all
$PY - <<'PY'
import h5py, json
r = json.load(open("all/report.json"))
with h5py.File("all/customers.h5") as h:
    g = h["customers"]
    names = {v: k for k, v in h5py.check_enum_dtype(g["tier"].dtype).items()}
    tier = [names[int(v)] for v in g["tier"][:]]
    score = g["score"][:].tolist()
risky = [s for s, t in zip(score, tier) if t == "risk"]
assert len(r["targets"]) == len(tier) - len(risky), (len(r["targets"]), len(tier), len(risky))
assert risky and max(risky) > min(t["score"] for t in r["targets"]), \
    "no risk-tier customer outscores a target: the test proves nothing"
print(f"targets: {len(r['targets'])} customers; {len(risky)} in the risk tier left out "
      f"(best score {max(risky)})")
PY
# CSV and report.h5 copies of the lists.
$PY - <<'PY'
import h5py, json, pandas as pd
r = json.load(open("many/report.json"))
t = pd.read_csv("many/targets.csv")
assert t.user_id.tolist() == [x["user_id"] for x in r["targets"]]
with h5py.File("many/report.h5", "r") as h:
    assert h["targets/user_id"][:].tolist() == t.user_id.tolist()
    assert h["tiers/users"][:].tolist() == [x["users"] for x in r["tiers"]]
    for k in ("user_share", "revenue_share"):   # what report.html's tier table shows
        assert h["tiers/" + k][:].tolist() == [x[k] for x in r["tiers"]], k
    for s, v in r["tiers"][0]["sessions"].items():
        assert h["tiers/sessions_" + s][:].tolist() == [x["sessions"][s] for x in r["tiers"]], s
print("targets.csv and report.h5 agree with report.json")
PY
# Two profile tables that disagree: the one read last wins, and the values
# that differ are counted (report.json) and noted, against a count of our own.
mpi 1 "$CLICKSEG" generate -o arch2 -n 20000 -d 2 --seed 22 > /dev/null
mpi "$NRANKS" "$CLICKSEG" run -i arch -i arch2/profiles.h5 -o conflict 2> conflict.err > /dev/null
grep -q "the profile tables give [0-9]* values differently" conflict.err || fail "no note on the conflicts"
$PY - <<'PY'
import glob, h5py, json, numpy as np
users = np.unique(np.concatenate([h5py.File(f)["events/user_id"][:]
                                  for f in sorted(glob.glob("arch/events-*.h5"))]))
p1, p2 = (h5py.File(d + "/profiles.h5")["customers"] for d in ("arch", "arch2"))
want, last = 0, {}
for col in ("age_band", "gender", "region"):
    a = dict(zip(p1["user_id"][:].tolist(), p1[col][:].tolist()))
    b = dict(zip(p2["user_id"][:].tolist(), p2[col][:].tolist()))
    want += sum(1 for u in users.tolist() if u in a and u in b and a[u] != b[u])
    last[col] = {u: b.get(u, a.get(u, -1)) for u in users.tolist()}
got = json.load(open("conflict/report.json"))["ranking"]["profile_conflicts"]
assert got == want and want > 0, (got, want)
with h5py.File("conflict/customers.h5") as f:
    c = f["customers"]
    for col in last:
        vals = dict(zip(c["user_id"][:].tolist(), c["profile_" + col][:].tolist()))
        bad = [u for u in vals if vals[u] != last[col][u]]
        assert not bad, (col, bad[:5])
print("profile conflicts: %d, the later table's values kept" % got)
PY
# One large table after arch's (800,000 rows: the ranks read it in turns of
# 262,144 rows and send each row to its user's rank) in which users come
# back with other values far apart, across turns and rounds: the row read
# last wins and every change of a known value counts, as worked out here
# row by row. A bad value deep in the table is refused before the job
# starts (rank 0 checks every value of a profile table in the plan), one
# message naming the row; unit test_profiles covers the same refusal in the
# ranks' turns (a file changed after the plan).
$PY - <<'PY'
import glob, h5py, numpy as np
users = np.unique(np.concatenate([h5py.File(f)["events/user_id"][:]
                                  for f in sorted(glob.glob("arch/events-*.h5"))]))
rng = np.random.default_rng(5)
n = 800000
ids = np.concatenate([users, rng.choice(users, n - len(users) - 1000),
                      rng.integers(1, 2**63, 1000, dtype=np.uint64)])
ids = ids[rng.permutation(len(ids))]
cols = {"gender": rng.integers(0, 3, n), "age_band": rng.integers(0, 7, n),
        "region": rng.integers(0, 200, n)}
for name, bad in (("big.h5", None), ("bad.h5", 700000)):
    with h5py.File(name, "w") as f:
        g = f.create_group("customers")
        g["user_id"] = ids.astype(np.uint64)
        for c, v in cols.items():
            v = v.astype(np.int16)
            if bad is not None and c == "region":
                v[bad] = 300
            g[c] = v
PY
mpi "$NRANKS" "$CLICKSEG" run -q -i arch -i big.h5 -o big 2> big.err
$PY - <<'PY'
import glob, h5py, json, numpy as np
users = set(np.concatenate([h5py.File(f)["events/user_id"][:]
                            for f in sorted(glob.glob("arch/events-*.h5"))]).tolist())
t, t0 = h5py.File("big.h5")["customers"], h5py.File("arch/profiles.h5")["customers"]
ids = t["user_id"][:].tolist()
want, last = 0, {}
for col in ("age_band", "gender", "region"):
    # arch's own profiles.h5 comes first (an input too), then big.h5.
    cur = {u: v for u, v in zip(t0["user_id"][:].tolist(), t0[col][:].tolist()) if u in users}
    for u, v in zip(ids, t[col][:].tolist()):
        if u in users:
            want += u in cur and cur[u] != v
            cur[u] = v
    last[col] = cur
got = json.load(open("big/report.json"))["ranking"]["profile_conflicts"]
assert got == want and want > 100000, (got, want)
with h5py.File("big/customers.h5") as f:
    c = f["customers"]
    for col in last:
        vals = dict(zip(c["user_id"][:].tolist(), c["profile_" + col][:].tolist()))
        assert vals == last[col], col
print("800,000-row profile table: %d conflicts, the last row's values kept" % got)
PY
expect_fail 4 "bad.h5: /customers/region row 700000: value 300 outside 0..254" \
    mpi "$NRANKS" "$CLICKSEG" run -q -i arch -i bad.h5 -o bad
[ "$(grep -c 'error:' err.txt)" = 1 ] || fail "not one message: $(cat err.txt)"
# A profile table that does not say what its codes mean (no *_values
# attributes, or another coding): no label is guessed, the page shows the
# codes.
mkdir -p nolabels && cp arch/events-*.h5 nolabels/
$PY - <<'PY'
import h5py
with h5py.File("arch/profiles.h5") as src, h5py.File("nolabels/profiles.h5", "w") as dst:
    src.copy("customers", dst)
    for k in list(dst["customers"].attrs):
        if k.endswith("_values"):
            del dst["customers"].attrs[k]
PY
mpi "$NRANKS" "$CLICKSEG" run -q -i nolabels -o nolab
$PY - <<'PY'
import json, re
r = json.load(open("nolab/report.json"))["profiles"]["gender"]
assert all(x["label"] is None for x in r), r
page = open("nolab/report.html").read()
sec = page[page.index('<section id="profiles"'):]
assert "female" not in sec and re.search(r">2</td>", sec) and "no profile" in sec, "the page guessed labels"
print("no labels given, none shown")
PY
# No purchase at all: no revenue to share out, so each tier's revenue_share
# is null (NaN in report.h5, a dash on the page), not 0; user shares stay.
mkdir -p nobuy && cp arch/events-*.h5 nobuy/
$PY - <<'PY'
import glob, h5py
for f in glob.glob("nobuy/events-*.h5"):
    with h5py.File(f, "r+") as h:
        t = h["events/event_type"][:]
        t[t == 6] = 1   # purchase -> product_view
        h["events/event_type"][:] = t
PY
mpi "$NRANKS" "$CLICKSEG" run -q -i nobuy -o nobuy-out
$PY - <<'PY'
import h5py, json, math, re
r = json.load(open("nobuy-out/report.json"))
assert r["totals"]["revenue"] == 0, r["totals"]
assert all(t["revenue_share"] is None for t in r["tiers"]), r["tiers"]
assert abs(sum(t["user_share"] for t in r["tiers"]) - 1) < 1e-9, r["tiers"]
with h5py.File("nobuy-out/report.h5") as h:
    assert all(math.isnan(v) for v in h["tiers/revenue_share"][:]), h["tiers/revenue_share"][:]
page = open("nobuy-out/report.html").read()
sec = page[page.index('<div id="tiers"'):]
sec = sec[:sec.index("</table>")]
cols = re.findall(r'data-col="(\w+)"', sec)
rows = [re.findall(r"<td[^>]*>([^<]*)</td>", tr) for tr in re.findall(r"<tr><td.*?</tr>", sec)]
assert len(rows) == 4 and all(r[cols.index("revenue_share")] == "\u2013" for r in rows), rows
assert "nan" not in sec.lower(), sec
print("no purchases: revenue_share null in report.json, NaN in report.h5")
PY
"$CLICKSEG" report nobuy-out --format text > nobuy.txt || fail "report --format text failed"
# Large values keep their own histogram bins: a crawler's 3-day session
# (4320 page views a minute apart, a bot by its events) and purchases of
# 10.00 to 50,000.00. Until format 4 every value from 114,688 up shared one
# last bin: the bot's duration quantiles read INT64_MAX, and every buyer of
# 1,146.88 or more got the same middling M.
$PY - <<'PY'
import h5py, numpy as np, os
os.makedirs("large", exist_ok=True)
t0 = 1714521600 * 10**6
ts, user, typ, price = [t0 + k * 60 * 10**6 for k in range(4320)], [7] * 4320, [0] * 4320, [0] * 4320
for uid, p in [(100, 200000), (101, 5000000), (102, 150000), (103, 1000), (104, 2000),
               (105, 3000), (106, 120000)]:
    for k, ev in enumerate([1, 3, 5, 6]):
        ts.append(t0 + 86400 * 10**6 + k * 30 * 10**6); user.append(uid); typ.append(ev)
        price.append(p if ev == 6 else 0)
o = np.argsort(ts, kind="stable")
with h5py.File("large/events.h5", "w") as f:
    for n, v, d in [("ts", ts, np.int64), ("user_id", user, np.uint64), ("event_type", typ, np.uint8),
                    ("price", price, np.int64)]:
        f["events/" + n] = np.array(v, d)[o]
PY
mpi "$NRANKS" "$CLICKSEG" run -q -i large -o large-out --window-events 500
$PY - <<'PY'
import h5py, json
def bin_of(v):   # stats.h, written out again: 0..7 exact, then 4 bins a power of two
    if v < 8:
        return v
    e = v.bit_length() - 1
    return 8 + (e - 3) * 4 + ((v >> (e - 2)) & 3)
def bin_max(b):
    if b < 8:
        return b
    e, sub = (b - 8) // 4 + 3, (b - 8) % 4
    return ((4 + sub) << (e - 2)) + (1 << (e - 2)) - 1
r = json.load(open("large-out/report.json"))
bot = next(s for s in r["segments"] if s["name"] == "bot")
dur = 4319 * 60
for q in ("p50", "p90", "p99"):
    assert bot["duration_s"][q] == bin_max(bin_of(dur)) and dur <= bot["duration_s"][q] <= dur * 1.25, bot
# quintile cuts of the 7 buyers' spend: the 2nd, 3rd, 5th and 6th of 7 (ceil(q * 7))
spend = sorted([200000, 5000000, 150000, 1000, 2000, 3000, 120000])
cuts = [bin_of(spend[k - 1]) for k in (2, 3, 5, 6)]
assert r["ranking"]["cut_points"]["monetary_bin"] == cuts, (r["ranking"]["cut_points"], cuts)
with h5py.File("large-out/customers.h5") as f:
    c = f["customers"]
    m = dict(zip(c["user_id"][:].tolist(), c["m_score"][:].tolist()))
    mon = dict(zip(c["user_id"][:].tolist(), c["monetary"][:].tolist()))
for u, v in mon.items():
    if u != 7:
        assert m[u] == 1 + sum(bin_of(v) > k for k in cuts), (u, v, m[u], cuts)
assert m[101] == 5 and m[100] == 4 and m[106] < m[101], m
print("large values: bot duration p50 %d s (true %d); M of the 50,000.00 buyer %d, 2,000.00 %d"
      % (bot["duration_s"]["p50"], dur, m[101], m[100]))
PY
echo "test_targets: ok ($NRANKS ranks)"
