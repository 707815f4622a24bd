#!/bin/bash
# Text from the clickstream in the CSVs clickseg writes cannot run as a
# spreadsheet formula: visitor ids such as =HYPERLINK(...) or -cmd|...
# (a cookie holds whatever the browser sent) show in targets.csv and
# prospects.csv with an apostrophe first, as OWASP advises, while a number
# with a sign (+4917012345) and plain ids stay as they came, and
# report.json keeps every id exactly; so do profiles.csv's labels (from
# a profile table's <column>_values), and a rejected row that starts
# with = shows so in import's rejects.csv. Every field stays one quoted field
# that pandas reads back.
# ranks: 1 3
set -euo pipefail
source "${SRCDIR:?}/lib/common.sh"

$PY - <<'PY'
users = ['=HYPERLINK("http://evil.example/","click")', "-2+3+cmd|' /C calc'!A0",
         "@SUM(1+1)", "+4917012345", "-12.5", "alice", 'say "hi", bob']
t = 1704063600000000
with open("events.csv", "w") as f:
    f.write("ts,user_id,event_type,product_id,category_id,brand_id,price,session_id\n")
    for k, u in enumerate(users):
        q = '"' + u.replace('"', '""') + '"'
        for day in range(3):
            for i, ev in enumerate((0, 1, 3, 5, 6) if k % 2 == 0 or day else (0, 1, 3)):
                f.write(f"{t + (day * 86400 + k * 600 + i * 30) * 1000000},{q},{ev},{k + 1},0,0,"
                        f"{1999 + k if ev == 6 else 0},{k * 10 + day}\n")
    f.write("=1+1,alice,0,1,0,0,0,1\n")          # a bad time: rejected
PY
mpi "$NRANKS" "$CLICKSEG" import -q -c "$SRCDIR/bench/import-csv.cfg" --format csv events.csv -o arch
mpi "$NRANKS" "$CLICKSEG" run -q -i arch -o rep
# a profile table for the same users whose labels (the <column>_values
# attribute, from the customer's data) hold formulas
$PY - <<'PY'
import json
import h5py, numpy as np
rj = json.load(open("rep/report.json"))
ids = sorted({int(e["user_id"]) for name in ("targets", "prospects") for e in rj[name]})
with h5py.File("arch/profiles.h5", "w") as f:
    g = f.create_group("customers")
    g["user_id"] = np.array(ids, dtype=np.uint64)
    g["segment"] = np.array([1 + i % 3 for i in range(len(ids))], dtype=np.uint8)
    g.attrs["segment_values"] = "0=unknown 1==HYPERLINK(x) 2=@SUM(1) 3=plain"
PY
mpi "$NRANKS" "$CLICKSEG" run -q -i arch -o repp
$PY - <<'PY'
import csv, json
import pandas as pd
users = ['=HYPERLINK("http://evil.example/","click")', "-2+3+cmd|' /C calc'!A0",
         "@SUM(1+1)", "+4917012345", "-12.5", "alice", 'say "hi", bob']
risky = {users[0], users[1], users[2]}
shown = {}
for name in ("targets", "prospects"):
    for r in csv.DictReader(open(f"rep/{name}.csv", newline="")):
        shown[r["user_id"]] = r["user_key"]
    df = pd.read_csv(f"rep/{name}.csv", dtype=str, keep_default_na=False)
    assert list(df["user_key"]) == [r["user_key"] for r in csv.DictReader(open(f"rep/{name}.csv", newline=""))]
exact = {}
rj = json.load(open("rep/report.json"))
for name in ("targets", "prospects"):
    for e in rj[name]:
        exact[str(e["user_id"])] = e["user_key"]
assert set(exact.values()) == set(users), sorted(exact.values())
assert set(shown) == set(exact), (shown, exact)
for uid, key in exact.items():
    want = "'" + key if key in risky else key
    assert shown[uid] == want, (key, shown[uid])
rej = list(csv.DictReader(open("arch/rejects.csv", newline="")))
assert len(rej) == 1 and rej[0]["raw"].startswith("'=1+1,alice"), rej
labels = {r["value"]: r["label"] for r in csv.DictReader(open("repp/profiles.csv", newline=""))
          if r["column"] == "segment"}
assert labels == {"1": "'=HYPERLINK(x)", "2": "'@SUM(1)", "3": "plain"}, labels
print("csv formulas: 3 risky ids of 7 and 2 risky profile labels of 3 shown with an apostrophe, "
      "the rest as they came")
PY
echo "test_csv_formulas: ok"
