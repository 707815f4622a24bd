#!/bin/bash
# Tables read by every rank in a collective read, each rank its slab, whose
# columns are not all as long as the one that sizes the slabs: a report's
# customers.h5 or sessions.h5 with a column cut short or made 2-D (merge),
# a --state file whose open_ids is shorter than its unfinished sessions'
# id counts (run). The rank whose slab lies past the column's end is
# refused by HDF5 before the collective read; the other ranks, in that
# read, once waited for it for ever (exit 124 here). Now: exit 4, one
# message naming the file, the dataset and the rows, no rank left waiting.
# A state file's table made 32-D is refused the same way (its extent was
# read into one size, written past).
# ranks: 1 3
set -euo pipefail
source "${SRCDIR:?}/lib/common.sh"
export MPI_TIMEOUT=60
SPLIT=(--set session.split=day)

mpi 1 "$CLICKSEG" generate -o arch -n 20000 -d 3 -f 3 --seed 7 > /dev/null
$PY "$SRCDIR/lib/split_archive.py" arch days --by day > days.txt
mapfile -t DAYS < <(awk '{print $1}' days.txt)
[ "${#DAYS[@]}" -ge 3 ] || fail "expected at least 3 days: $(cat days.txt)"
last=${DAYS[${#DAYS[@]}-1]}
first=()
for d in "${DAYS[@]}"; do [ "$d" = "$last" ] || first+=(-i "days/$d"); done
mpi "$NRANKS" "$CLICKSEG" run -q "${first[@]}" -o r1 --sessions "${SPLIT[@]}"
mpi "$NRANKS" "$CLICKSEG" run -q -i "days/$last" -o r2 --sessions "${SPLIT[@]}"
mpi "$NRANKS" "$CLICKSEG" merge -q "${SPLIT[@]}" -o whole r1 r2   # the undamaged ones merge

# DIR FILE GROUP COLUMN HOW: a copy of report r2 as DIR with GROUP/COLUMN
# of FILE cut short by 7 rows (short) or stacked into two columns (2d).
damage() {
    rm -rf "$1"
    cp -r r2 "$1"
    $PY - "$1/$2" "$3" "$4" "$5" <<'PY'
import sys, h5py, numpy as np
path, group, col, how = sys.argv[1:]
with h5py.File(path, "r+") as f:
    g = f[group]
    v, attrs = g[col][:], dict(g[col].attrs)
    del g[col]
    d = g.create_dataset(col, data=v[:-7] if how == "short" else np.stack([v, v], axis=1))
    for k, a in attrs.items():
        d.attrs[k] = a
PY
}
damage cshort customers.h5 customers events short
damage sshort sessions.h5 sessions end_ts short
damage c2d customers.h5 customers revenue 2d
M() { mpi "$NRANKS" "$CLICKSEG" merge -q "${SPLIT[@]}" "$@"; }
expect_fail 4 "cshort/customers.h5: reading events: rows [0-9]+\.\.[0-9]+ asked for, the dataset has [0-9]+" \
    M -o out r1 cshort
expect_fail 4 "sshort/sessions.h5: reading end_ts: rows [0-9]+\.\.[0-9]+ asked for, the dataset has [0-9]+" \
    M -o out r1 sshort
expect_fail 4 "c2d/customers.h5: reading revenue: a dataset of 2 dimensions where 1 is read" \
    M -o out r1 c2d
[ ! -e out ] && ! ls -d out.tmp.* > /dev/null 2>&1 || fail "a refused merge left output behind"

# A --state file whose open_ids lost rows: its unfinished sessions' counts
# ask for more ids than it holds.
# (a file of the generated archive ends in the middle of the day: sessions
# are open at its end, with their distinct ids kept for sessions.h5)
mpi "$NRANKS" "$CLICKSEG" run -q -i arch/events-0000.h5 -o s1 --sessions --state chain.state
$PY - <<'PY'
import h5py
with h5py.File("chain.state", "r+") as f:
    v, attrs = f["open_ids"][:], dict(f["open_ids"].attrs)
    assert len(v) > 2, f"the state keeps too few open session ids ({len(v)}) to cut"
    del f["open_ids"]
    d = f.create_dataset("open_ids", data=v[: len(v) // 2])
    for k, a in attrs.items():
        d.attrs[k] = a
PY
cp chain.state chain.ok
expect_fail 4 "chain.state: (rank [0-9]+: )?reading open_ids: rows [0-9]+\.\.[0-9]+ asked for, the dataset has [0-9]+" \
    mpi "$NRANKS" "$CLICKSEG" run -q -i arch/events-0001.h5 -o s2 --sessions --state chain.state
[ ! -e s2 ] || fail "a refused state load left output behind"

# A --state file whose tables were made 32-D: reading one's extent into a
# single size once wrote past it (the users are read in blocks, the open
# sessions in one slab a rank).
for ds in users open; do
    cp chain.ok "chain-$ds.state"
    $PY - "chain-$ds.state" "$ds" <<'PY'
import sys, h5py
path, name = sys.argv[1:]
with h5py.File(path, "r+") as f:
    # the records' own type (numpy cannot convert it), n x 2 of them
    old = f[name]
    n, tid = old.shape[0], old.id.get_type()
    assert n > 0, f"the state has no {name} to reshape"
    del f[name]
    # 32 dimensions (HDF5's most): an extent read into one size writes
    # 31 more past it, which no stack survives unnoticed
    h5py.h5d.create(f.id, name.encode(), tid, h5py.h5s.create_simple((n, 2) + (1,) * 30))
PY
    expect_fail 4 "chain-$ds.state: (rank [0-9]+: )?reading $ds: a dataset of 32 dimensions where 1 is read" \
        mpi "$NRANKS" "$CLICKSEG" run -q -i arch/events-0001.h5 -o s2 --sessions --state "chain-$ds.state"
    [ ! -e s2 ] || fail "a refused state load ($ds 32-D) left output behind"
done
echo "test_short_columns: ok"
