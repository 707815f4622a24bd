#!/bin/bash
# ranks: 3
# cost: 25
# Archives as other HDF5 tools write them (docs/archive-format.md: any
# producer following the format is valid): each gives the reference's
# results (tests/lib/reference.py, which reads through h5py), or a clear
# exit-4 error naming the file, before any event is read.
#   - a user block (h5py userblock_size, h5jam): HDF5's chunk addresses
#     count from its end; plain and Fletcher32 chunks
#   - a column that is an external link into another file
#   - a virtual dataset (VDS) over files of days; with a source missing
#     (HDF5 would read its rows as zeros) it is refused
#   - a filter this HDF5 lacks (h5py's lzf), and a currency attribute
#     that is not one short string (an array once crashed run): refused
#   - /customers profile tables that cannot be used (too many columns, a
#     string, float or 2-D column, one of another length, a value past
#     254, a negative id, a name too long): refused at plan time (they
#     were found after the whole job, or dropped or converted silently)
#   - file order: daily files whose first row is a straggler from two days
#     before (or a corrupt time) are read in the order of their middle
#     rows, so only that row is late (or rejected), not a whole day; files
#     split by user (same size, rows and times) are not taken for copies,
#     and the run says before the job that they overlap in time, then
#     stops at max_late_share (or, let through, counts what the reference
#     counts late); a real copy is refused
set -euo pipefail
source "${SRCDIR:?}/lib/common.sh"

$PY - <<'PY'
import h5py, numpy as np, os
r = np.random.default_rng(3)
n = 60000
cols = {"ts": (1704067200_000000 + np.sort(r.integers(0, 3 * 86400_000000, n))).astype("i8"),
        "user_id": r.integers(1, 3000, n).astype("u8"),
        "event_type": r.choice(8, n, p=[.5, .3, .08, .05, .02, .02, .02, .01]).astype("u1"),
        "price": r.integers(100, 10000, n).astype("i8")}
def write(path, userblock=0, **kw):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with h5py.File(path, "w", userblock_size=userblock) as f:
        for k, a in cols.items():
            f.create_dataset("events/" + k, data=a, chunks=(4096,), **kw)
write("ub/ev.h5", userblock=512)
write("ubf/ev.h5", userblock=4096, fletcher32=True)
os.makedirs("ext", exist_ok=True)
os.makedirs("side", exist_ok=True)
with h5py.File("side/prices.h5", "w") as f:
    f["notes"] = np.arange(20000)   # the linked column does not start where ev.h5's would
    f.create_dataset("price", data=cols["price"], chunks=(4096,), fletcher32=True)
    f.create_dataset("user_id", data=cols["user_id"], chunks=(4096,))
with h5py.File("ext/ev.h5", "w") as f:
    for k in ("ts", "event_type"):
        f.create_dataset("events/" + k, data=cols[k], chunks=(4096,))
    f["events/price"] = h5py.ExternalLink("../side/prices.h5", "/price")
    f["events/user_id"] = h5py.ExternalLink("../side/prices.h5", "/user_id")
# a VDS over two day files, beside them and (for the missing case) alone
os.makedirs("days", exist_ok=True)
half = n // 2
for d, sl in enumerate((slice(0, half), slice(half, n))):
    with h5py.File("days/d%d.h5" % d, "w") as f:
        for k, a in cols.items():
            f.create_dataset(k, data=a[sl], chunks=(4096,))
for where in ("vds", "vds-gone"):
    os.makedirs(where, exist_ok=True)
    with h5py.File(where + "/all.h5", "w") as f:
        for k, a in cols.items():
            lay = h5py.VirtualLayout(shape=(n,), dtype=a.dtype)
            lay[0:half] = h5py.VirtualSource("../days/d0.h5", k, shape=(half,))
            lay[half:n] = h5py.VirtualSource("../days/d1.h5" if where == "vds" else "../days/gone.h5",
                                             k, shape=(n - half,))
            f.create_virtual_dataset("events/" + k, lay)
write("lzf/ev.h5", compression="lzf")
for name, value in (("arr", np.array([b"EUR"] * 50)), ("int", np.int64(978)), ("long", "EUR-and-more-than-15")):
    write("cur-%s/ev.h5" % name)
    with h5py.File("cur-%s/ev.h5" % name, "a") as f:
        f["events"].attrs["currency"] = value
ids = np.arange(1, 3000, dtype="u8")
def profiles(name, **extra):
    os.makedirs(name, exist_ok=True)
    write(name + "/ev.h5")
    with h5py.File(name + "/profiles.h5", "w") as f:
        f["customers/user_id"] = extra.pop("user_id", ids)
        f["customers/gender"] = (ids % 3).astype("u1")
        for k, v in extra.items():
            f["customers/" + k] = v
# pandas' DataFrame.to_hdf layout (what PyTables writes, made here with
# h5py: the names are what the message goes by) and a compound table
os.makedirs("pandas", exist_ok=True)
with h5py.File("pandas/ev.h5", "w") as f:
    f["events/axis0"] = np.array([b"ts", b"user_id", b"event_type"])
    f["events/block0_values"] = np.zeros((10, 3), "i8")
os.makedirs("compound", exist_ok=True)
with h5py.File("compound/ev.h5", "w") as f:
    f["events"] = np.zeros(10, [("ts", "i8"), ("user_id", "u8"), ("event_type", "u1")])
profiles("prof-ok", region=(ids % 7).astype("i2"))
profiles("prof-many", **{"c%d" % i: np.zeros(ids.size, "u1") for i in range(8)})
profiles("prof-str", country=np.array([b"DE"] * ids.size))
profiles("prof-float", score=np.full(ids.size, 1.7))
profiles("prof-2d", region=np.zeros((ids.size, 2), "u1"))
profiles("prof-short", region=np.zeros(ids.size - 1, "u1"))
profiles("prof-300", region=np.where(ids == 4, 300, 1).astype("i2"))
profiles("prof-negid", user_id=np.r_[-1, ids[1:].astype("i8")])
profiles("prof-name", preferred_payment_method_at_first_purchase_in_store=np.zeros(ids.size, "u1"))
for name, t0 in (("straggler", "day0"), ("corrupt", -1), ("corrupt-last", 2**62)):
    os.makedirs(name, exist_ok=True)
    for d in range(3):
        t = 1704067200_000000 + d * 86400_000000 + np.arange(10000, dtype="i8") * 8_000000
        if d == 2 and name != "corrupt-last":
            t[0] = 1704067200_000000 + 12 * 3600_000000 if t0 == "day0" else t0
        if d == 0 and name == "corrupt-last":   # past 9999: rejected, not an end
            t[-1] = t0
        with h5py.File("%s/day%d.h5" % (name, d), "w") as f:
            g = f.create_group("events")
            g["ts"] = t
            g["user_id"] = (np.arange(10000) % 500 + 1).astype("u8")
            g["event_type"] = np.zeros(10000, "u1")
os.makedirs("shards", exist_ok=True)
for k in range(2):
    t = np.sort(r.integers(1704067200, 1704067200 + 86400, 20000)) * 10**6
    t[0], t[-1] = 1704067200 * 10**6, (1704067200 + 86399) * 10**6
    with h5py.File("shards/s%d.h5" % k, "w") as f:
        g = f.create_group("events")
        g["ts"] = t
        g["user_id"] = (r.integers(0, 5000, 20000) * 2 + k).astype("u8")
        g["event_type"] = np.zeros(20000, "u1")
PY
for a in straggler corrupt corrupt-last; do
    mpi "$NRANKS" "$CLICKSEG" run -q -i "$a" -o "out-$a" 2> "$a.err"
    [ ! -s "$a.err" ] || fail "$a: $(cat "$a.err")"
    $PY "$SRCDIR/lib/reference.py" "$a" --out "ref-$a" > /dev/null
    $PY "$SRCDIR/lib/compare.py" "ref-$a" "out-$a" > /dev/null || fail "$a: results differ from the reference"
done
$PY - <<'PY' || fail "a straggler first row made more than itself late or rejected"
import json
s, c, l = (json.load(open("out-%s/report.json" % a))["totals"]
           for a in ("straggler", "corrupt", "corrupt-last"))
assert (s["late_events"], s["rejected_events"]) == (1, 0), s
assert (c["late_events"], c["rejected_events"]) == (0, 1), c
assert (l["late_events"], l["rejected_events"]) == (0, 1), l
PY
# Half the rows late: past max_late_share (5%), the run stops (exit 4);
# let through, its late rows are the reference's.
expect_fail 4 "rows are late .*more than max_late_share \(5%\).*no report written" \
    mpi "$NRANKS" "$CLICKSEG" run -q -i shards -o out-shards
[ ! -e out-shards ] || fail "a run refused for its late rows left its output"
mpi "$NRANKS" "$CLICKSEG" run -q -i shards -o out-shards --set max_late_share=1 2> shards.err
grep -q "note: 1 input file(s) overlap in time with a file ahead of them by more than session.max_lateness (1 h 00 min), e.g. the middle row of shards/s1.h5 is 1[12] h [0-9]* min older than the end of shards/s0.h5" shards.err \
    || fail "no note on files that overlap in time: $(cat shards.err)"
$PY "$SRCDIR/lib/reference.py" shards --out ref-shards > /dev/null
$PY "$SRCDIR/lib/compare.py" ref-shards out-shards > /dev/null || fail "shards: results differ from the reference"
# inspect notes the overlap and counts the late rows as the run does
# (across files, in archive order), so it says before the job that run
# would stop at max_late_share; for the straggler it counts the one row.
rc=0
"$CLICKSEG" inspect shards > inspect-shards.txt || rc=$?
[ "$rc" = 4 ] || fail "inspect of shards: exit $rc, want 4: $(cat inspect-shards.txt)"
grep -q "note (the default session.max_lateness): 1 input file(s) overlap in time with a file ahead of them by more than session.max_lateness (1 h 00 min), e.g. the middle row of shards/s1.h5" inspect-shards.txt \
    || fail "inspect does not note the overlap: $(cat inspect-shards.txt)"
"$CLICKSEG" inspect straggler > inspect-straggler.txt || fail "inspect refused straggler"
$PY - <<'PY' || fail "inspect's late rows are not the run's"
import json, re
for a, verdict in (("shards", "UNUSABLE"), ("straggler", "usable")):
    text = open(f"inspect-{a}.txt").read()
    late = json.load(open(f"out-{a}/report.json"))["totals"]["late_events"]
    got = re.search(r"late rows, as clickseg run counts them in archive order \(the default "
                    r"session.max_lateness, 1 h 00 min\): (\d+) \(", text)
    assert got and int(got.group(1)) == late, (a, late, text)
    assert f"result: {verdict}" in text, (a, text)
    if a == "shards":
        assert re.search(rf"PROBLEM: {late} of the 40000 rows \([0-9.]+%\) would be late .*more "
                         r"than max_late_share \(default 5%\)", text), text
PY
# ... judged by the job's config when given one (-c, --set, as run loads
# it): a max_lateness past the overlap leaves the late rows run would
# count under it (the two agree), a max_late_share of 1 makes shards usable.
printf 'session = { max_lateness = 86400; };\n' > wide.cfg
"$CLICKSEG" inspect -c wide.cfg shards > inspect-wide.txt || fail "inspect -c wide.cfg refused shards: $(cat inspect-wide.txt)"
mpi "$NRANKS" "$CLICKSEG" run -q -c wide.cfg -i shards -o out-wide
"$CLICKSEG" inspect --set max_late_share=1 shards > inspect-share.txt || fail "inspect --set max_late_share=1 refused shards"
# Without paths inspect reads the config's inputs, as run -c would.
printf 'input = ["shards"];\nsession = { max_lateness = 86400; };\n' > wide-in.cfg
mpi "$NRANKS" "$CLICKSEG" inspect -c wide-in.cfg > inspect-wide-in.txt || fail "inspect -c wide-in.cfg: $(cat inspect-wide-in.txt)"
cmp -s inspect-wide.txt inspect-wide-in.txt || fail "inspect of the config's inputs differs from inspect of the same paths: $(diff inspect-wide.txt inspect-wide-in.txt | head -5)"
expect_fail 2 "no archive given \(see --help\): the config has no input either" "$CLICKSEG" inspect -c wide.cfg
$PY - <<'PY' || fail "inspect with a config: late rows not the run's"
import json, re
for txt, out in (("inspect-wide.txt", "out-wide"), ("inspect-share.txt", "out-shards")):
    text = open(txt).read()
    late = json.load(open(out + "/report.json"))["totals"]["late_events"]
    got = re.search(r"late rows, as clickseg run counts them in archive order \(the config's "
                    r"session.max_lateness, [^)]*\): (\d+) \(", text)
    assert got and int(got.group(1)) == late, (txt, late, text)
    assert "result: usable" in text and "PROBLEM" not in text, text
PY
cp shards/s0.h5 shards/s0-copy.h5
expect_fail 4 "not usable: 1 problem" "$CLICKSEG" inspect shards
grep -q "PROBLEM: shards/s0-copy.h5 and shards/s0.h5 are copies of each other" out.txt || fail "inspect: $(cat out.txt)"
expect_fail 4 "shards/s0-copy.h5 and shards/s0.h5 are copies of each other|shards/s0.h5 and shards/s0-copy.h5 are copies of each other" \
    mpi "$NRANKS" "$CLICKSEG" run -q -i shards -o out-copy
echo "file order by middle rows, shards not copies, overlap noted, a copy refused"
$PY "$SRCDIR/lib/reference.py" ub --out ref > /dev/null
for a in ub ubf ext vds; do
    "$CLICKSEG" inspect "$a" > /dev/null || fail "inspect refused $a"
    mpi "$NRANKS" "$CLICKSEG" run -q -i "$a" -o "out-$a" --window-events 7919
    $PY "$SRCDIR/lib/compare.py" ref "out-$a" > /dev/null || fail "$a: results differ from the reference"
done
echo "user block (plain, Fletcher32), external-link columns, VDS: the reference's results"

# refused PATTERN ARCHIVE: run exits 4 with PATTERN on stderr, inspect
# lists it as the one problem (stdout) and exits 4
refused() {
    expect_fail 4 "$1" mpi "$NRANKS" "$CLICKSEG" run -q -o out-bad -i "$2"
    expect_fail 4 "the archive is not usable: 1 problem\(s\)" "$CLICKSEG" inspect "$2"
    grep -Eq -- "PROBLEM: $1" out.txt || fail "inspect $2: $(cat out.txt)"
}
refused "vds-gone/all.h5: dataset /events/ts is virtual and its source ../days/gone.h5:ts is missing" vds-gone
refused "lzf/ev.h5: dataset /events/ts is compressed with a filter this HDF5 does not have \(filter 32000, lzf \(h5py\)\); rewrite the file with a built-in one, e.g. h5repack -f GZIP=1" lzf
for c in arr int long; do
    refused "cur-$c/ev.h5: attribute /events/currency is not one string of at most 15 characters" "cur-$c"
done
mpi "$NRANKS" "$CLICKSEG" run -q -i prof-ok -o out-prof
$PY - <<'PY' || fail "profile columns of prof-ok"
import h5py, numpy as np
with h5py.File("out-prof/customers.h5") as f:
    c = f["customers"]
    uid, g, r = c["user_id"][:], c["profile_gender"][:], c["profile_region"][:]
assert (g == uid % 3).all() and (r == uid % 7).all()
PY
refused "pandas/ev.h5: required dataset /events/ts is missing \(/events is a pandas/PyTables table, as DataFrame.to_hdf writes; format v1 needs one 1-D dataset per column" pandas
refused "compound/ev.h5: /events is not a group \(a compound table\?\); format v1 needs a group /events of one 1-D dataset per column" compound
P="prof-[a-z0-9]+/profiles.h5: /customers"
refused "$P has 9 profile columns; the cross-tabs take at most 8" prof-many
refused "$P/country has type .*; profile columns are small integer category codes" prof-str
refused "$P/score has type .*; profile columns are small integer category codes" prof-float
refused "$P/region has 2 dimensions; profile columns are 1-D" prof-2d
refused "$P/region has 2998 rows but /customers/user_id has 2999" prof-short
refused "$P/region row 3: value 300 outside 0..254" prof-300
refused "$P/user_id row 0: value -1 is not a user id" prof-negid
# --quick reads no values: the shape is fine, so the table passes.
"$CLICKSEG" inspect --quick prof-300 > out.txt || fail "inspect --quick prof-300: $(cat out.txt)"
grep -q "result: usable" out.txt || fail "inspect --quick prof-300: $(cat out.txt)"
refused "$P/preferred_payment_method_at_first_purchase_in_store: a profile column's name has at most 47 characters" prof-name
[ ! -e out-bad ] || fail "a refused archive left output"
echo "a VDS with a missing source, an unavailable filter, bad currency attributes and eight kinds of unusable profile tables: refused"
