#!/bin/bash
# ranks: 1 3
# Archives as other HDF5 tools write them (docs/archive-format.md: any
# producer following the format is valid): each gives the reference's
# results (tests/lib/reference.py, which reads through h5py), or a clear
# exit-4 error naming the file, before any event is read.
#   - a user block (h5py userblock_size, h5jam): HDF5's chunk addresses
#     count from its end; plain and Fletcher32 chunks
#   - a column that is an external link into another file
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
PY
$PY "$SRCDIR/lib/reference.py" ub --out ref > /dev/null
for a in ub ubf ext; do
    "$CLICKSEG" inspect "$a" > /dev/null || fail "inspect refused $a"
    mpi "$NRANKS" "$CLICKSEG" run -q -i "$a" -o "out-$a" --window-events 7919
    $PY "$SRCDIR/lib/compare.py" ref "out-$a" > /dev/null || fail "$a: results differ from the reference"
done
echo "user block (plain, Fletcher32) and external-link columns: the reference's results"
