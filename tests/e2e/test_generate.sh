#!/bin/bash
# clickseg generate + inspect: the archive is the same for any rank count,
# reads in h5py and h5dump with no clickseg code, and inspect accepts an
# archive written by plain h5py (and refuses broken ones).
set -euo pipefail
source "${SRCDIR:?}/lib/common.sh"

mpi "$NRANKS" "$CLICKSEG" generate -o arch -n 50000 -d 2 -f 3 --seed 7 > gen.txt
grep -q "50000 events in 3 file(s)" gen.txt || fail "generate summary: $(cat gen.txt)"
mpi 1 "$CLICKSEG" generate -o arch1 -n 50000 -d 2 -f 3 --seed 7 > /dev/null
$PY "$SRCDIR/lib/h5same.py" arch arch1

# Readable without clickseg: h5dump and h5py.
h5dump -H arch/events-0000.h5 | grep 'DATASET "ts"' > /dev/null || fail "h5dump cannot read the archive"
$PY - <<'PY'
import glob, h5py, numpy as np
rows, prev = 0, None
for f in sorted(glob.glob("arch/events-*.h5")):
    with h5py.File(f, "r") as h:
        ts = h["events/ts"][:]
        assert (np.diff(ts) >= 0).all(), f + " not in time order"
        if prev is not None:
            assert ts[0] >= prev, "files not in time order"
        prev = ts[-1]
        rows += len(ts)
        assert h5py.check_enum_dtype(h["events/event_type"].dtype)["purchase"] == 6
        assert len(h["truth/intent"]) == len(ts)
assert rows == 50000, rows
with h5py.File("arch/profiles.h5", "r") as h:
    assert len(h["customers/user_id"]) > 0
print("h5py reads the generated archive:", rows, "rows")
PY

# inspect: usable archive, exit 0, with the facts a user needs.
"$CLICKSEG" inspect arch > insp.txt || fail "inspect refused a generated archive"
grep -q "total: 50000 event rows in 3 file(s), .* MiB on disk, [0-9]* profile rows" insp.txt || fail "inspect totals: $(cat insp.txt)"
grep -q "in time order" insp.txt || fail "inspect did not report order"
grep -q "result: usable" insp.txt || fail "inspect result"
# Its users estimate is of all the files' users, each once (what a run's
# user table must hold), within HyperLogLog's error of the exact count.
mpi "$NRANKS" "$CLICKSEG" inspect arch > inspn.txt
est=$(sed -n 's/^users (estimated): //p' inspn.txt)
$PY - "$est" <<'PY' || fail "inspect's users estimate: $(grep users inspn.txt)"
import glob, sys, h5py, numpy as np
files = sorted(glob.glob("arch/events-*.h5"))
per = [np.unique(h5py.File(f, "r")["events/user_id"][:]) for f in files]
n = len(np.unique(np.concatenate(per)))
est = int(sys.argv[1])
assert abs(est - n) <= 0.03 * n, (est, n)
print("inspect's users estimate", est, "exact", n, "largest file", max(len(p) for p in per))
PY

# An archive written by plain h5py with none of clickseg's attributes.
$PY "$SRCDIR/lib/make_edge_archive.py" edge > /dev/null
"$CLICKSEG" inspect edge > edge.txt || { cat edge.txt; fail "inspect refused the plain-h5py archive"; }
grep -q "NOT in time order" edge.txt || fail "inspect did not flag the out-of-order file"
grep -q "outside 0..7" edge.txt || fail "inspect did not count bad event types"
grep -q "note: 2 rows have a price beyond +-1000000000000 minor units" edge.txt ||
    { cat edge.txt; fail "inspect did not count the prices out of range"; }

# 100 consecutive rows of the last file moved 5 days back: inspect counts
# the rows behind the newest before them, as run counts late rows (it once
# counted one step back, where run then reported 100 late events).
mkdir -p shifted && cp arch/*.h5 shifted/
$PY - <<'PY'
import glob, h5py
f = sorted(glob.glob("shifted/events-*.h5"))[-1]
with h5py.File(f, "a") as h:
    ts = h["events/ts"]
    ts[1000:1100] = ts[1000:1100] - 5 * 86400 * 10**6
PY
"$CLICKSEG" inspect shifted > shifted.txt || { cat shifted.txt; fail "inspect refused the shifted archive"; }
grep -q "note: 100 rows are earlier than a row before them; 100 by more than the default session.max_lateness (1 h 00 min): clickseg run counts them as late_events$" shifted.txt ||
    { cat shifted.txt; fail "inspect did not count the 100 rows behind"; }
mpi "$NRANKS" "$CLICKSEG" run -q -i shifted -o shifted-run
$PY -c 'import json; t = json.load(open("shifted-run/report.json"))["totals"]; assert t["late_events"] == 100, t'

# Broken archives: exit 4 and the problem named with file and dataset.
for v in bad-overflow no-events unequal; do
    $PY "$SRCDIR/lib/make_edge_archive.py" "bad-$v" --variant "$v" > /dev/null
done
expect_fail 4 "archive is not usable" "$CLICKSEG" inspect bad-no-events
grep -q "no /events group" out.txt || fail "no-events message: $(cat out.txt)"
expect_fail 4 "archive is not usable" "$CLICKSEG" inspect bad-unequal
grep -Eq "has [0-9]+ rows but /events/ts has" out.txt || fail "unequal message: $(cat out.txt)"
expect_fail 4 "archive is not usable" "$CLICKSEG" inspect bad-bad-overflow
grep -q "does not fit in uint32" out.txt || fail "overflow message: $(cat out.txt)"
printf 'not hdf5\n' > junk.h5
expect_fail 4 "archive is not usable" "$CLICKSEG" inspect junk.h5
grep -q "not an HDF5 file" out.txt || fail "junk message"
expect_fail 4 "no such file" "$CLICKSEG" inspect does-not-exist.h5
# Under mpirun the ranks take the files in turns and rank 0 prints them in
# order: the same report as one process, for a mix of a generated archive
# (with its profile table), a plain-h5py one and broken files, which some
# ranks of the last round do not get.
for q in "" --quick; do
    rc1=0; "$CLICKSEG" inspect $q arch edge bad-unequal junk.h5 > one.txt 2>/dev/null || rc1=$?
    rcn=0; mpi "$NRANKS" "$CLICKSEG" inspect $q arch edge bad-unequal junk.h5 > many.txt \
        2>/dev/null || rcn=$?
    [ "$rc1" = 4 ] && [ "$rcn" = 4 ] || fail "inspect $q of a mix: exit $rc1 alone, $rcn on $NRANKS ranks"
    cmp -s one.txt many.txt || { diff one.txt many.txt >&2; fail "inspect $q on $NRANKS ranks differs"; }
    grep -q "archive: 15 file(s)" many.txt || fail "inspect $q of a mix: $(cat many.txt)"
    [ "$(grep -c PROBLEM many.txt)" = 2 ] || fail "inspect $q of a mix: two problems: $(cat many.txt)"
done
expect_fail 2 "unknown option" "$CLICKSEG" inspect --bogus arch
"$CLICKSEG" generate --help | grep "usage: mpirun -n N clickseg generate" > /dev/null || fail "generate --help"
expect_fail 2 "is not a count" mpi 1 "$CLICKSEG" generate -o x -n lots
# Two generates into one directory: the second is refused while the first
# runs (its ranks stopped, so it surely does), and what the first leaves
# when killed (its temporary directory) goes with the next generate there.
if [ "$NRANKS" -eq 2 ]; then
    mpirun -n 2 --oversubscribe "$CLICKSEG" generate -q -o busy -n 50000000 -d 2 -f 2 \
        > busy.out 2>&1 < /dev/null &
    BG=$!
    deadline=$((SECONDS + 60))
    until ls -d busy.tmp.[0-9]* > /dev/null 2>&1; do   # made under the lock
        [ $SECONDS -lt $deadline ] && kill -0 $BG 2> /dev/null ||
            { cat busy.out >&2; fail "the first generate made no temporary directory"; }
        sleep 0.02
    done
    ranks=$(pgrep -P $BG)
    kill -STOP $ranks
    expect_fail 5 "busy is being written by another clickseg job \(pid [0-9]+ on .* holds busy.lock\)" \
        mpi 1 "$CLICKSEG" generate -o busy -n 1000 -d 1 -f 1
    kill -KILL $ranks $BG 2> /dev/null || true
    wait $BG 2> /dev/null || true
    ls -d busy.tmp.[0-9]* > /dev/null 2>&1 || fail "the killed generate left no temporary directory"
    mpi 1 "$CLICKSEG" generate -q -o busy -n 1000 -d 1 -f 1
    [ -s busy/events-0000.h5 ] || fail "the generate after the killed one wrote no archive"
    ! ls -d busy.tmp.* 2> /dev/null || fail "the killed generate's temporary directory was left"
    [ ! -e busy.lock ] || fail "generate left its lock file"
fi
echo "test_generate: ok ($NRANKS ranks)"
