#!/bin/bash
# ranks: 3
# clickseg import past memory_per_rank (the external sort): with
# memory_per_rank = 1M every rank spills many sorted runs and the merge
# runs in many windows, and the archive, rejects.csv and the counts of
# import.json are those of the in-memory import, on 1, 2 and 3 ranks, with
# duplicates dropped (the first in input order kept, named in rejects.csv)
# or kept; pandas checks the surviving events independently. A disk that
# fills up with runs is a clear error that leaves nothing behind.
set -euo pipefail
source "${SRCDIR:?}/lib/common.sh"

# A shuffled log over 3 days: 60000 rows in a plain file and 12000 in a
# gzip one, with planted exact duplicates far apart (so they land in other
# runs and ranks), groups of repeats, and a few unknown event names (rejects).
$PY - <<'PY'
import gzip, random
random.seed(11)
ev = ["pv", "look", "basket", "buy"]
def rows(n):
    out = []
    for i in range(n):
        ts = 1704067200 + random.randrange(3 * 86400)
        out.append(f"{ts},{random.randrange(2000)},{random.choice(ev)},{random.randrange(500)},"
                   f"{random.randrange(10000) / 100:.2f},s{random.randrange(50)}")
    return out
a, b = rows(60000), rows(12000)
for k in range(0, 60000, 97):        # a copy of an earlier row, or of one in the other file
    a[k] = a[(k * 7919) % k] if k else a[k]
for k in range(5, 12000, 89):
    b[k] = a[(k * 31) % 60000]
# groups of one event repeated, scattered: bucket bounds fall inside them
# (one group is larger than a bucket: a slice made only of duplicates)
pos = random.sample(range(60000), 150 * 40 + 6000)
for g in range(151):
    n = 40 if g < 150 else 6000
    row = a[pos[g * 40]]
    for p in pos[g * 40:g * 40 + n]:
        a[p] = row
for k in range(3, 60000, 1001):
    f = a[k].split(",")
    a[k] = ",".join(f[:2] + ["wishlist"] + f[3:])
open("a.csv", "w").write("when,who,what,item,price,visit\n" + "\n".join(a) + "\n")
with gzip.open("b.csv.gz", "wt") as f:
    f.write("when,who,what,item,price,visit\n" + "\n".join(b) + "\n")
PY
cat > imp.cfg <<'CFG'
import = {
  split = "day";
  duplicates = "drop";
  max_reject_share = 0.05;
  csv = {
    time = "when"; time_format = "unix_s"; user = "who"; event = "what";
    events = "pv=page_view, look=product_view, basket=add_to_cart, buy=purchase";
    product = "item"; price = "price"; session = "visit";
  };
};
CFG
I() { local n=$1; shift; mpi "$n" "$CLICKSEG" import -q --format csv a.csv b.csv.gz -c imp.cfg "$@"; }

# same REF OTHER: the same archive files, rejects.csv and counts
same() {
    $PY "$SRCDIR/lib/h5same.py" "$1" "$2" >/dev/null || fail "$2: archive differs from $1"
    cmp -s "$1/rejects.csv" "$2/rejects.csv" || { diff "$1/rejects.csv" "$2/rejects.csv" | head >&2;
        fail "$2: rejects.csv differs from $1"; }
    $PY - "$1/import.json" "$2/import.json" <<'PY' || fail "$2: import.json counts differ from $1"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
keys = ["rows", "rows_rejected", "rejects_by_reason", "events_parsed", "events_written",
        "duplicates", "duplicates_dropped", "event_types", "files", "inputs"]
for k in keys:
    if k in a and a.get(k) != b.get(k):
        sys.exit(f"{k}: {a.get(k)} != {b.get(k)}")
PY
}
# ext DIR WANT: external_sort.used is WANT; when used, more than 2 runs and windows
ext() {
    $PY - "$1/import.json" "$2" <<'PY' || fail "$1: external sort not as expected"
import json, sys
e = json.load(open(sys.argv[1]))["external_sort"]
want = sys.argv[2] == "true"
assert e["used"] == want, e
if want:
    assert e["runs"] > 2 and e["windows"] > 2 and e["spill_bytes"] > 0, e
PY
}

I 1 -o ref
ext ref false
# the dropped duplicates and the written events, independently
$PY - <<'PY' || fail "pandas disagrees with the reference archive"
import glob, json, h5py, numpy as np, pandas as pd
raw = pd.concat([pd.read_csv("a.csv", dtype=str), pd.read_csv("b.csv.gz", dtype=str)])
raw = raw[raw["what"] != "wishlist"]
uniq = raw.drop_duplicates()
s = json.load(open("ref/import.json"))
n = 0
for f in glob.glob("ref/events-*.h5"):
    with h5py.File(f) as h:
        ts = h["events/ts"][()]
        assert np.all(np.diff(ts) >= 0), f
        n += len(ts)
assert n == len(uniq), (n, len(uniq))
dropped = len(raw) - len(uniq)
rej = pd.read_csv("ref/rejects.csv")
assert (rej["reason"] == "duplicate").sum() == dropped, ((rej["reason"] == "duplicate").sum(), dropped)
assert (rej["reason"] == "unknown_event").sum() == 60, (rej["reason"] == "unknown_event").sum()
assert dropped > 10000, dropped
PY

for n in 1 2 3; do
    I "$n" -o small$n --set memory_per_rank=1M
    ext small$n true
    same ref small$n
done
# a rank count the reference did not use, in memory
I 2 -o ref2
ext ref2 false
same ref ref2

# one gzip file is read by one rank: the others spill nothing but still
# own buckets and write
mpi 1 "$CLICKSEG" import -q --format csv b.csv.gz -c imp.cfg -o gz1
mpi 3 "$CLICKSEG" import -q --format csv b.csv.gz -c imp.cfg -o gz3 --set memory_per_rank=1M
ext gz3 true
same gz1 gz3

# duplicates kept: the same again, and every parsed event is written
I 1 -o keep --set import.duplicates=keep
I 3 -o keep3 --set import.duplicates=keep --set memory_per_rank=1M
ext keep3 true
same keep keep3
$PY - <<'PY' || fail "keep mode"
import json
a, b = json.load(open("keep/import.json")), json.load(open("keep3/import.json"))
assert b["duplicates"] == a["duplicates"] > 10000 and b["duplicates_dropped"] == 0, (a["duplicates"], b)
PY

# A full disk while spilling runs (exit 5), nothing left behind.
mkdir -p small
if mount -t tmpfs -o size=1m tmpfs small 2>/dev/null; then
    trap 'umount small 2>/dev/null || true' EXIT
    expect_fail 5 "small/out: cannot write a sorted run of the external sort .*No space left on device" \
        I "$NRANKS" -o small/out --set memory_per_rank=1M
    [ -z "$(ls -A small)" ] || fail "a full disk left files: $(ls -A small)"
    umount small
    trap - EXIT
else
    echo "note: cannot mount a tmpfs; a file-size limit stands in for a full disk"
    expect_fail 5 "small/out: cannot write a sorted run of the external sort .*File too large" \
        bash -c "ulimit -f 1024; trap '' XFSZ; exec timeout 60 mpirun -n $NRANKS --oversubscribe \
        $CLICKSEG import -q --format csv a.csv b.csv.gz -c imp.cfg -o small/out --set memory_per_rank=1M"
    [ -z "$(ls -A small)" ] || fail "a full disk left files: $(ls -A small)"
fi
echo "test_import_external: ok"
