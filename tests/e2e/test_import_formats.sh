#!/bin/bash
# clickseg import of every other format: the real samples (yoochoose,
# otto, diginetica, Google Analytics) and files written here (yoochoose
# raw clicks + buys, retailrocket, a generic csv with its own delimiter,
# time pattern, zone, event names and string ids). Each archive must hold
# exactly the rows pandas reads from the raw file, be the same for any
# rank count, and clickseg run on it must give the pandas events, users,
# source-mode sessions and revenue.
# ranks: 2 3
# cost: 40
set -euo pipefail
source "${SRCDIR:?}/lib/common.sh"
source "$SRCDIR/lib/background.sh"
D=${SHARED_DATA:?}
CHECK="$PY $SRCDIR/lib/import_check.py"
I() { mpi "$NRANKS" "$CLICKSEG" import -q "$@"; }
RUN() { mpi "$NRANKS" "$CLICKSEG" run -q --set session.mode=source "$@"; }

# Real samples: FORMAT ARCHIVE SPLIT FILES...
sample() {
    local fmt=$1 out=$2 split=$3; shift 3
    I --format "$fmt" "$@" -o "$out" --set import.split="$split"
    grep -q '"rows_rejected": 0,' "$out/import.json" || fail "$fmt: rejects: $(head "$out/rejects.csv")"
    RUN -i "$out" -o "rep_$out"
    $CHECK "$fmt" "$out" "$@" --split "$split" --report "rep_$out"
}
sample yoochoose yc day "$D/yoochoose/yoochoose-clicks-100k_train_full.txt" \
    "$D/yoochoose/yoochoose-clicks-100k_test.txt"
sample otto otto week "$D/otto/train_head.jsonl"
sample diginetica dg month "$D/diginetica/sample_train-item-views.csv"
sample ga ga month "$D/google_merch_store_ga/all_sessions.csv"
mpi 1 "$CLICKSEG" import -q --format ga "$D/google_merch_store_ga/all_sessions.csv" -o ga1 \
    --set import.split=month
$PY "$SRCDIR/lib/h5same.py" ga ga1

# Imported archives carry a Fletcher32 checksum in every chunk, as
# generated ones do (h5py's reads above verified them): a flipped bit in a
# stored chunk is then a read error naming file and dataset, not a
# plausible wrong user id.
$PY - yc otto dg ga <<'PY'
import glob, sys
import h5py
for arch in sys.argv[1:]:
    files = sorted(glob.glob(f"{arch}/events*.h5"))
    assert files, arch
    for p in files:
        with h5py.File(p) as f:
            for name, ds in f["events"].items():
                assert ds.fletcher32, f"{p}: /events/{name} has no checksum"
PY
cp -r dg dg_flip
$PY - dg_flip <<'PY'
import glob, sys
import h5py
p = sorted(glob.glob(f"{sys.argv[1]}/events*.h5"))[0]
with h5py.File(p) as f:
    info = f["events/user_id"].id.get_chunk_info(0)
with open(p, "r+b") as f:
    f.seek(info.byte_offset + info.size // 2)
    b = f.read(1)
    f.seek(-1, 1)
    f.write(bytes([b[0] ^ 0x10]))
PY
expect_fail 4 'events[^ ]*\.h5: cannot read dataset /events/user_id rows [0-9]+\.\.[0-9]+: data error detected by Fletcher32 checksum' \
    mpi "$NRANKS" "$CLICKSEG" run -q -i dg_flip -o rep_flip
[ ! -e rep_flip/report.json ] || fail "a damaged imported archive gave a report"
# Visitor ids past 2^63 are hashed on import; the target lists show the
# visitor id the source used (user_key) beside every id: the dictionary's
# text for a hashed one, "" for one that was a number. Checked against the
# raw file's fullVisitorId values and the archive's dictionary.
$PY - "$D/google_merch_store_ga/all_sessions.csv" ga rep_ga <<'PY'
import json, sys
import h5py, pandas as pd
raw, arch, rep = sys.argv[1:]
visitors = set(pd.read_csv(raw, usecols=["fullVisitorId"], dtype=str)["fullVisitorId"])
with h5py.File(f"{arch}/dictionaries.h5") as f:
    g = f["dictionaries/user"]
    text = dict(zip(g["id"][()].tolist(), (k.decode() for k in g["key"][()])))
report = json.load(open(f"{rep}/report.json"))
hashed = 0
for name in ("targets", "prospects"):
    t = pd.read_csv(f"{rep}/{name}.csv", dtype={"user_key": str}, keep_default_na=False)
    assert list(t.columns[:3]) == ["rank", "user_id", "user_key"], t.columns
    js = report[name]
    assert [e["user_key"] for e in js] == list(t["user_key"]), name
    with h5py.File(f"{rep}/report.h5") as h:   # report.html's source
        assert [k.decode() for k in h[name]["user_key"][()]] == list(t["user_key"]), name
    page = open(f"{rep}/report.html").read()
    shown = [k for k in t["user_key"][:5] if k]
    assert all(k in page for k in shown), (name, shown)
    for uid, key in zip(t["user_id"].tolist(), t["user_key"]):
        if uid in text:
            assert key == text[uid] and key in visitors, (uid, key)
            hashed += 1
        else:
            assert key == "" and str(uid) in visitors, (uid, key)
assert hashed > 0, "no hashed visitor among the targets: the test shows nothing"
print(f"ga: {hashed} hashed visitor ids shown with their text in targets/prospects")
PY
# Merged runs show the same keys: merge reads them in the runs' user
# dictionaries (report.h5 /run attribute `dictionaries`). The sample cut
# by year, sessions by month, merged, equals one run, user_key included;
# with one run's dictionary gone, its keys come from the other's.
SPLIT=(--set session.split=month --set report.period=month)
mkdir -p gaA gaB
cp ga/events-2016-*.h5 ga/dictionaries.h5 gaA/ && cp ga/events-2017-*.h5 gaB/ && cp ga/dictionaries.h5 gaB/dict.h5
for x in ga gaA gaB; do RUN "${SPLIT[@]}" -i "$x" -o "rep_m_$x"; done
mpi "$NRANKS" "$CLICKSEG" merge -q --set session.mode=source "${SPLIT[@]}" -o merged_ga rep_m_gaA rep_m_gaB
rm gaA/dictionaries.h5
mpi "$NRANKS" "$CLICKSEG" merge -q --set session.mode=source "${SPLIT[@]}" -o merged_ga2 rep_m_gaA rep_m_gaB \
    2> merged_ga2.err
grep -q "gaA/dictionaries.h5, the user dictionary of a run, is gone" merged_ga2.err || fail "no note on the missing dictionary"
# A run whose user dictionary is removed while it runs (its ranks stopped
# after a checkpoint, so the run surely still runs) keeps its results and
# says the keys are gone; the targets are those of the run with it.
mkdir -p gaC && cp ga/*.h5 gaC/
start_bg gone "$NRANKS" run --set session.mode=source -i gaC -o rep_gone --window-events 100 \
    --set checkpoint.every=1
wait_for gone.err "checkpoint 2 written" 60
kill -STOP $(pgrep -P "$BG")
rm gaC/dictionaries.h5
kill -CONT $(pgrep -P "$BG")
wait_rc
[ "$RC" = 0 ] || { cat gone.err >&2; fail "the run without its dictionary failed ($RC)"; }
grep -q "note: the user dictionary in .*gaC/dictionaries.h5 is gone" gone.err ||
    { cat gone.err >&2; fail "no note on the dictionary removed during the run"; }
$PY - <<'PY'
import csv
with open("rep_ga/targets.csv") as f:
    want = [(r["user_id"], r["user_key"]) for r in csv.DictReader(f)]
with open("rep_gone/targets.csv") as f:
    got = list(csv.DictReader(f))
assert [r["user_id"] for r in got] == [u for u, _ in want], "other targets without the dictionary"
assert any(k for _, k in want) and not any(r.get("user_key") for r in got), "keys without a dictionary"
PY
# A merge of merged reports (months, then the year) finds the keys too: a
# merged report lists its runs' dictionaries.
for x in gaA gaB; do
    mpi "$NRANKS" "$CLICKSEG" merge -q --set session.mode=source "${SPLIT[@]}" -o "m_$x" "rep_m_$x" 2> /dev/null
done
mpi "$NRANKS" "$CLICKSEG" merge -q --set session.mode=source "${SPLIT[@]}" -o merged_ga3 m_gaA m_gaB 2> /dev/null
$PY - <<'PY'
import json
one = json.load(open("rep_m_ga/report.json"))
for d in ("merged_ga", "merged_ga2", "merged_ga3"):
    m = json.load(open(d + "/report.json"))
    for name in ("targets", "prospects"):
        assert [(e["user_id"], e["user_key"]) for e in m[name]] == \
               [(e["user_id"], e["user_key"]) for e in one[name]], (d, name)
        assert any(e["user_key"] for e in m[name]), (d, name)
print("ga: merged targets and prospects keep their user keys")
PY
# One run over several archives, each imported on its own with its own
# dictionaries.h5 (imports of successive periods, run together or in
# either order): the keys are those of one import of all the rows. The
# run used to look only in the first input's dictionary (the order of the
# inputs changed the keys, and users of the other archives showed "", the
# mark of an id that was a number).
$PY - "$D/google_merch_store_ga/all_sessions.csv" <<'PY'
import sys
import pandas as pd
raw = sys.argv[1]
lines = open(raw, encoding="utf-8").read().splitlines()
date = pd.read_csv(raw, usecols=["date"], dtype=str)["date"]
assert len(date) == len(lines) - 1
for name, keep in (("gaY1.csv", date < "20170101"), ("gaY2.csv", date >= "20170101")):
    with open(name, "w", encoding="utf-8") as f:
        f.write("\n".join([lines[0]] + [l for l, k in zip(lines[1:], keep) if k]) + "\n")
PY
I --format ga gaY1.csv -o impY1 --set import.split=month
I --format ga gaY2.csv -o impY2 --set import.split=month
RUN -i impY1 -i impY2 -o rep_Y12
RUN -i impY2 -i impY1 -o rep_Y21
$PY - <<'PY'
import json
one = json.load(open("rep_ga/report.json"))
for d in ("rep_Y12", "rep_Y21"):
    m = json.load(open(d + "/report.json"))
    for name in ("targets", "prospects"):
        got = [(e["user_id"], e.get("user_key")) for e in m[name]]
        want = [(e["user_id"], e["user_key"]) for e in one[name]]
        bad = [(g, w) for g, w in zip(got, want) if g != w]
        assert got == want, (d, name, len(bad), bad[:3])
    assert open(d + "/targets.csv").read() == open("rep_ga/targets.csv").read(), d
print("ga: a run over two imports finds the keys in both dictionaries, in either order")
PY
# The same two imports as a --state chain (2016, then 2017): the last run
# gives the targets and prospects of one run over both, user_key included.
# The state file records the dictionaries of the chain so far, and the
# second run looks in the first import's too (it used to look in its own
# input's only: the users of 2016 showed ""). So does a run of the chain
# resumed from its checkpoint (the checkpoint keeps the list). A state file
# written before the list was kept still loads; an earlier run's dictionary
# that is gone since costs its keys, with a note, not the run.
RUN -i impY1 -o rep_S1 --state Y.state
cp Y.state Yold.state
cp Y.state Ycp.state
RUN -i impY2 -o rep_S2 --state Y.state
for f in targets.csv prospects.csv; do
    cmp -s "rep_S2/$f" "rep_Y12/$f" || fail "a --state chain over impY1, impY2 gives another $f than one run over both: $(diff "rep_S2/$f" "rep_Y12/$f" | head -4)"
done
start_bg chk "$NRANKS" run --set session.mode=source -i impY2 -o rep_S2r --state Ycp.state \
    --window-events 500 --set checkpoint.every=1
wait_for chk.err "checkpoint 1 written" 60
kill -STOP $(pgrep -P "$BG")
kill -USR1 $(pgrep -P "$BG")
kill -CONT $(pgrep -P "$BG")
wait_rc
[ "$RC" = 7 ] || { cat chk.err >&2; fail "the stopped chain run must exit 7, got $RC"; }
RUN -i impY2 -o rep_S2r --state Ycp.state --window-events 700 --resume
$PY -c 'import h5py; f = h5py.File("Yold.state", "a"); del f["dictionary_path"]'
RUN -i impY2 -o rep_Sold --state Yold.state
mkdir -p impG1 && cp impY1/*.h5 impG1/
RUN -i impG1 -o rep_G1 --state G.state
rm impG1/dictionaries.h5
RUN -i impY2 -o rep_G2 --state G.state 2> G2.err ||
    { cat G2.err >&2; fail "a chain run failed for an earlier run's dictionary gone"; }
grep -q "note: the user dictionary in .*impG1/dictionaries.h5 is gone" G2.err ||
    { cat G2.err >&2; fail "no note on the earlier run's dictionary gone"; }
# An earlier run's dictionary that cannot be read costs its keys with a
# note, not the run, as one gone does (the run failed at its end, after
# its work): replaced by a file that is not HDF5, or with its key dataset
# made 2-D (its keys were read at two coordinates an id from a buffer of
# one). chain_spoiled X SPOIL NOTE: a two-run chain whose first run's
# dictionary the function SPOIL (given its path) spoils between the runs.
chain_spoiled() {
    local x=$1 spoil=$2 note=$3
    mkdir -p "imp${x}1" && cp impY1/*.h5 "imp${x}1/"
    RUN -i "imp${x}1" -o "rep_${x}1" --state "$x.state"
    "$spoil" "imp${x}1/dictionaries.h5"
    RUN -i impY2 -o "rep_${x}2" --state "$x.state" 2> "${x}2.err" ||
        { cat "${x}2.err" >&2; fail "a chain run failed for an earlier dictionary ($spoil)"; }
    grep -q "$note" "${x}2.err" || { cat "${x}2.err" >&2; fail "no note on the $spoil dictionary"; }
    for f in targets.csv prospects.csv; do
        cmp -s "rep_${x}2/$f" "rep_G2/$f" || fail "a $spoil dictionary gives another $f than a gone one"
    done
}
not_hdf5() { echo "not an HDF5 file" > "$1"; }
key_2d() {
    $PY - "$1" <<'PY'
import sys, h5py
with h5py.File(sys.argv[1], "r+") as f:
    old = f["dictionaries/user/key"]
    n, tid = old.shape[0], old.id.get_type()
    del f["dictionaries/user/key"]
    h5py.h5d.create(f["dictionaries/user"].id, b"key", tid, h5py.h5s.create_simple((n, 2)))
PY
}
chain_spoiled U not_hdf5 \
    "note: the user dictionary in .*impU1/dictionaries.h5 cannot be read (.*impU1/dictionaries.h5: cannot open"
chain_spoiled V key_2d \
    "note: the user dictionary in .*impV1/dictionaries.h5 cannot be read (.*a dataset of 2 dimensions"
# Once every target and prospect has its key, the chain's earlier
# dictionaries are not opened (every run of a chain read them all at its
# end): a chain whose first run's users all come back in the second, whose
# own dictionary so knows them all, does not notice the first one's
# dictionary unreadable.
$PY - gaY1.csv gaY2.csv gaT.csv <<'PY'
import sys
import pandas as pd
y1, y2, out = sys.argv[1:]
later = set(pd.read_csv(y2, usecols=["fullVisitorId"], dtype=str)["fullVisitorId"])
ids = pd.read_csv(y1, usecols=["fullVisitorId"], dtype=str)["fullVisitorId"]
lines = open(y1, encoding="utf-8").read().splitlines()
keep = [l for l, v in zip(lines[1:], ids) if v in later]
assert 0 < len(keep) < len(lines) - 1, len(keep)
with open(out, "w", encoding="utf-8") as f:
    f.write("\n".join([lines[0]] + keep) + "\n")
PY
I --format ga gaT.csv -o impT --set import.split=month
RUN -i impT -o rep_T1 --state T.state
echo "not an HDF5 file" > impT/dictionaries.h5
RUN -i impY2 -o rep_T2 --state T.state 2> T2.err ||
    { cat T2.err >&2; fail "a chain run failed for an earlier dictionary it did not need"; }
! grep -q "note: the user dictionary" T2.err ||
    { cat T2.err >&2; fail "an earlier dictionary was read though the run's own knew every key"; }
$PY - <<'PY'
import csv
hashed = 0
for name in ("targets.csv", "prospects.csv"):
    rows = [r for r in csv.DictReader(open(f"rep_T2/{name}")) if int(r["user_id"]) >= 2**63]
    assert all(r["user_key"] for r in rows), (name, [r for r in rows if not r["user_key"]][:3])
    hashed += len(rows)
assert hashed, "no hashed visitor id among the chain's targets and prospects"
PY
$PY - <<'PY'
import json, os
import h5py
for d in ("rep_S2", "rep_S2r"):
    for name in ("targets.csv", "prospects.csv"):
        assert open(f"{d}/{name}").read() == open(f"rep_Y12/{name}").read(), (d, name)
    with h5py.File(f"{d}/report.h5") as h:
        dicts = h["run"].attrs["dictionaries"]
        dicts = (dicts.decode() if isinstance(dicts, bytes) else dicts).split("\n")
    want = [os.path.realpath(f"{a}/dictionaries.h5") for a in ("impY2", "impY1")]
    assert dicts == want, (d, dicts, want)
with h5py.File("Y.state") as f:
    got = [p.decode() for p in f["dictionary_path"][()]]
    assert got == [os.path.realpath(f"{a}/dictionaries.h5") for a in ("impY2", "impY1")], got
one = json.load(open("rep_Y12/report.json"))
for d in ("rep_Sold", "rep_G2"):   # no keys of 2016's users, the same targets
    m = json.load(open(d + "/report.json"))
    for name in ("targets", "prospects"):
        assert [e["user_id"] for e in m[name]] == [e["user_id"] for e in one[name]], (d, name)
    assert any(e["user_key"] != w["user_key"] for e, w in zip(m["targets"], one["targets"])), d
print("ga: a --state chain over two imports finds the keys in both dictionaries, resumed too")
PY


# Written here: the files and, beside them, the truth (canonical CSV).
$PY - <<'PY'
import csv, datetime as dt, random
from zoneinfo import ZoneInfo
R = random.Random(5)
US = 1_000_000
T0 = int(dt.datetime(2014, 4, 6, tzinfo=dt.timezone.utc).timestamp())
def iso(us):
    t = dt.datetime.fromtimestamp(us // US, dt.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % (us % US // 1000)
truth_cols = ["ts", "user", "type", "product", "session", "price", "category", "brand"]

# yoochoose raw: clicks (Category 0, S, 1-12 or a brand number) and buys.
clicks, buys, truth = [], [], []
for s in range(1, 41):
    t = (T0 + R.randrange(3 * 86400)) * US + R.randrange(1000) * 1000
    for k in range(R.randrange(1, 6)):
        t += R.randrange(1, 600) * US
        item = 214500000 + R.randrange(400)
        cat = R.choice(["0", "S", str(R.randrange(1, 13)), str(R.randrange(10**8, 2 * 10**9))])
        clicks.append(f"{s},{iso(t)},{item},{cat}")
        c, b = ("0", "0") if cat == "0" else ("S", "0") if cat == "S" else \
               (cat, "0") if int(cat) <= 12 else ("0", cat)
        truth.append([t, s, "product_view", item, s, 0, c, b])
    if s % 4 == 0:
        price, qty = R.randrange(100, 20000), R.randrange(1, 4)
        t += 60 * US
        buys.append(f"{s},{iso(t)},{item},{price},{qty}")
        truth.append([t, s, "purchase", item, s, price * qty, "0", "0"])
open("clicks.dat", "w").write("\n".join(clicks) + "\n")
open("buys.dat", "w").write("\n".join(buys) + "\n")
csv.writer(open("yc_truth.csv", "w", newline="")).writerows([truth_cols] + truth)

# retailrocket events.csv (no sample here): ms times, three event kinds.
rows, truth = [], []
kinds = {"view": "product_view", "addtocart": "add_to_cart", "transaction": "purchase"}
for i in range(300):
    ms = 1433221332117 + R.randrange(10 * 86400 * 1000)
    v, item, ev = R.randrange(50), R.randrange(1000), R.choice(list(kinds) + ["view"] * 4)
    tx = str(R.randrange(9000)) if ev == "transaction" else ""
    rows.append([ms, v, ev, item, tx])
    truth.append([ms * 1000, v, kinds[ev], item, 0, 0])
csv.writer(open("events.csv", "w", newline="")).writerows(
    [["timestamp", "visitorid", "event", "itemid", "transactionid"]] + rows)
csv.writer(open("rr_truth.csv", "w", newline="")).writerows([truth_cols[:6]] + truth)

# Generic csv: ';', times "%d.%m.%Y %H:%M:%S" in Europe/Berlin (across the
# October DST change), own event names, e-mail users, quoted brands.
zone = ZoneInfo("Europe/Berlin")
names = {"pv": "page_view", "look": "product_view", "find": "search", "basket": "add_to_cart",
         "unbasket": "remove_from_cart", "pay": "checkout", "buy": "purchase", "back": "refund"}
brands = ["Acme", "Smith; Sons", 'The "Best"', "", "4711"]
lines, truth = ["when;who;what;item;price;brand;visit"], []
for i in range(400):
    local = dt.datetime(2019, 10, 26, 12) + dt.timedelta(seconds=R.randrange(2 * 86400))
    local = local.replace(fold=0)
    utc_us = int(local.replace(tzinfo=zone).timestamp()) * US
    who, what = f"user{R.randrange(30)}@example.com", R.choice(list(names))
    price, brand = R.choice(["", "12.5", "0.99", "100"]), R.choice(brands)
    visit = f"v-{R.randrange(80)}"
    q = '"' + brand.replace('"', '""') + '"' if (";" in brand or '"' in brand) else brand
    lines.append(f"{local.strftime('%d.%m.%Y %H:%M:%S')};{who};{what};{R.randrange(1, 50)};{price};{q};{visit}")
    truth.append([utc_us, who, names[what], lines[-1].split(";")[3], visit,
                  round(float(price or 0) * 100), "0", brand])
lines.append("01.01.2020 00:00:00;x@example.com;wave;1;;;v-1")   # an unknown event name
open("generic.csv", "w").write("\n".join(lines) + "\n")
csv.writer(open("csv_truth.csv", "w", newline="")).writerows([truth_cols] + truth)
PY

I --format yoochoose clicks.dat buys.dat -o ycraw
RUN -i ycraw -o rep_ycraw
$CHECK truth ycraw yc_truth.csv --report rep_ycraw

I --format retailrocket events.csv -o rr --set import.split=week
RUN -i rr -o rep_rr
$CHECK truth rr rr_truth.csv --split week --report rep_rr

cat > generic.cfg <<'CFG'
import = {
  timezone = "Europe/Berlin";
  split = "none";
  csv = {
    delimiter = ";";
    time = "when"; time_format = "%d.%m.%Y %H:%M:%S";
    user = "who"; event = "what";
    events = "pv=page_view, look=product_view, find=search, basket=add_to_cart, unbasket=remove_from_cart, pay=checkout, buy=purchase, back=refund";
    product = "item"; price = "price"; brand = "brand"; session = "visit";
  };
};
CFG
I --format csv generic.csv -o gen -c generic.cfg
RUN -i gen -o rep_gen
$CHECK truth gen csv_truth.csv --split none --report rep_gen
$PY - <<'PY'
import csv
r = list(csv.DictReader(open("gen/rejects.csv", newline="")))
assert [(x["line"], x["reason"]) for x in r] == [("402", "unknown_event")], r
assert r[0]["raw"].startswith("01.01.2020 00:00:00;x@example.com;wave"), r
print("generic csv: the unknown event name rejected at line 402")
PY
# Without a header, line 1 gives every row's field count: a row with more
# (or fewer) fields is a field_count reject, not a row read from the first
# fields.
printf '1569888000,42,click,7,12345678\n1569888001,43,click,8,5000\n1569888004,46,click,10,1,extra,extra\n1569888005,47,click\n' > nohdr.csv
printf 'import = { split = "none"; csv = { header = false; time = "1"; time_format = "unix_s"; user = "2"; event = "3";\n  events = "click=product_view"; product = "4"; price = "5"; price_unit = "micros"; }; };\n' > nohdr.cfg
I --format csv nohdr.csv -o nohdr -c nohdr.cfg --set import.max_reject_share=1
# More dictionaries than report.h5's /run dictionaries once held (4 KiB,
# some 40 paths, the rest left out without a word): impY2's and 60 copies
# of impY1's under long names. The run's report.h5 lists all 61, and so
# does a merge of that report (it read the list into 4 KiB and, when it did
# not fit, took none).
LONG=$(printf 'd%.0s' $(seq 90))
for i in $(seq 60); do mkdir -p "many/$LONG-$i" && cp impY1/dictionaries.h5 "many/$LONG-$i/"; done
RUN -i impY2 -o rep_many many/*/dictionaries.h5
mpi "$NRANKS" "$CLICKSEG" merge -q --set session.mode=source -o mer_many rep_many
$PY - <<'PY'
import glob, os
import h5py
want = {os.path.realpath("impY2/dictionaries.h5")} | {os.path.realpath(p) for p in glob.glob("many/*/dictionaries.h5")}
assert len(want) == 61, len(want)
for d in ("rep_many", "mer_many"):
    with h5py.File(f"{d}/report.h5") as h:
        got = h["run"].attrs["dictionaries"]
        got = (got.decode() if isinstance(got, bytes) else got).split("\n")
    assert len(got) == 61 and set(got) == want, (d, len(got))
print("61 dictionaries: all listed in report.h5, by the run and by a merge")
PY

$PY - <<'PY'
import csv
r = list(csv.DictReader(open("nohdr/rejects.csv", newline="")))
assert [(x["line"], x["reason"]) for x in r] == [("3", "field_count"), ("4", "field_count")], r
print("headerless csv: rows of another field count rejected")
PY
echo "test_import_formats: ok ($NRANKS ranks)"
