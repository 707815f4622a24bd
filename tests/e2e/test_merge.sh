#!/bin/bash
# clickseg merge: daily runs over inputs cut at midnight, merged, equal one
# run over all days when sessions are cut at midnight too (session.split =
# "day", checked against the independent reference); without the split, the
# merged report counts each session that crosses midnight once per day, as
# docs/checkpoint.md says, and nothing else differs in the totals. The
# profile table given to every run gives the merge the same profile
# cross-tabs, customers' profile columns and currency as the one run.
# Reports of another config, a day given twice, a missing report, another
# currency and other profile columns are refused.
# ranks: 2
set -euo pipefail
source "${SRCDIR:?}/lib/common.sh"
CMP="$PY $SRCDIR/lib/compare.py"
REF="$PY $SRCDIR/lib/reference.py"

mpi 1 "$CLICKSEG" generate -o arch -n 80000 -d 4 -f 2 --seed 13 > /dev/null
$PY "$SRCDIR/lib/split_archive.py" arch days --by day > pieces.txt
mapfile -t DAYS < <(awk '{print $1}' pieces.txt)

for split in day none; do
    SET=(--set "session.split=$split")
    mpi 3 "$CLICKSEG" run -q -i 'days/*' -i arch/profiles.h5 -o "whole_$split" --sessions "${SET[@]}"
    outs=()
    for i in "${!DAYS[@]}"; do
        mpi $((1 + i % 2)) "$CLICKSEG" run -q -i "days/${DAYS[$i]}" -i arch/profiles.h5 -o "${split}_${DAYS[$i]}" \
            --sessions "${SET[@]}"
        outs+=("${split}_${DAYS[$i]}")
    done
    mpi 2 "$CLICKSEG" merge -q "${SET[@]}" -o "merged_$split" "${outs[@]}"
done

# With the split: identical, and the split itself agrees with the reference.
$CMP --same whole_day merged_day --sessions
# The merged page says what the merge read, not "0 windows of up to 0 rows".
grep -Eq "[0-9]+ reports merged, [0-9,]+ rows" merged_day/report.html &&
    grep -q "(clickseg merge)" merged_day/report.html && ! grep -q "0 windows" merged_day/report.html ||
    fail "merged report.html: $(grep -o 'Ranks[^<]*</dt><dd>[^<]*' merged_day/report.html)"
$REF arch --split day --out ref_day > /dev/null
$CMP ref_day whole_day --sessions

# Profiles and currency: the same as the one run's (compare.py checks
# customers.h5's every column, the profile ones among them).
$PY - <<'PY'
import json, h5py
w = json.load(open("whole_day/report.json"))
m = json.load(open("merged_day/report.json"))
assert w["profiles"], "the whole run has profile cross-tabs"
assert m["profiles"] == w["profiles"], "profile cross-tabs differ"
assert w["currency"] == "EUR" and m["currency"] == w["currency"], (w["currency"], m["currency"])
for f in ("profiles.csv", "targets.csv", "prospects.csv", "tiers.csv", "rfm_segments.csv"):
    assert open("merged_day/" + f).read() == open("whole_day/" + f).read(), f + " differs"
with h5py.File("merged_day/customers.h5") as f:
    cols = sorted(k for k in f["customers"] if k.startswith("profile_"))
assert len(cols) >= 1, cols
print("merge: profiles %s and currency as one run" % cols)
PY

# Without it: every session across midnight is counted in both days.
$PY - <<'PY'
import json, h5py, numpy as np
w = json.load(open("whole_none/report.json"))["totals"]
m = json.load(open("merged_none/report.json"))["totals"]
with h5py.File("whole_none/sessions.h5") as f:
    s, e = f["sessions/start_ts"][:], f["sessions/end_ts"][:]
day = 86400 * 10**6
cross = int(np.count_nonzero(s // day != e // day))
print("sessions across midnight: %d; whole %d, merged %d" % (cross, w["sessions"], m["sessions"]))
assert cross > 0
assert m["sessions"] == w["sessions"] + cross, "merged = whole + sessions across midnight"
for k in ("events", "users", "rows_read", "late_events", "rejected_events"):
    assert m[k] == w[k], (k, m[k], w[k])
PY

# Refusals.
expect_fail 2 "day_${DAYS[1]}/: named twice among the reports to merge \(also as day_${DAYS[1]}\)" \
    mpi 2 "$CLICKSEG" merge --set session.split=day -o bad "day_${DAYS[1]}" "day_${DAYS[1]}/"
cp -r "day_${DAYS[1]}" again
expect_fail 4 "period ${DAYS[1]} is in the reports of both day_${DAYS[1]} and again" \
    mpi 2 "$CLICKSEG" merge --set session.split=day -o bad "day_${DAYS[1]}" again
expect_fail 3 "was made with another configuration" \
    mpi 2 "$CLICKSEG" merge -o bad "day_${DAYS[1]}" "day_${DAYS[2]}"
expect_fail 4 "nowhere: no report.h5" \
    mpi 2 "$CLICKSEG" merge --set session.split=day -o bad "day_${DAYS[1]}" nowhere
expect_fail 5 "output exists" \
    mpi 2 "$CLICKSEG" merge --set session.split=day -o merged_day "day_${DAYS[1]}"
expect_fail 2 "no report directories" mpi 1 "$CLICKSEG" merge -o bad
cp -r "day_${DAYS[2]}" usd
$PY -c "import h5py; h5py.File('usd/report.h5', 'a').attrs['currency'] = 'USD'"
expect_fail 4 "usd/report.h5: currency is USD, but day_${DAYS[1]}'s is EUR" \
    mpi 2 "$CLICKSEG" merge --set session.split=day -o bad "day_${DAYS[1]}" usd
# Runs that give a user two profile values: the later run's is kept and the
# values are counted, against a count of our own.
cp -r "day_${DAYS[2]}" shifted
$PY - <<'PY'
import h5py
with h5py.File("shifted/customers.h5", "a") as f:
    g = f["customers/profile_gender"]
    v = g[:]
    g[:] = [x if x < 0 else (x + 1) % 3 for x in v]
PY
mpi 2 "$CLICKSEG" merge -q --set session.split=day -o conflicted "day_${DAYS[1]}" shifted 2> conflicted.err
grep -q "give [0-9]* profile values differently" conflicted.err || fail "merge did not note the conflicts"
$PY - "day_${DAYS[1]}" <<'PY'
import h5py, json, sys
def col(d, c):
    with h5py.File(d + "/customers.h5") as f:
        return dict(zip(f["customers/user_id"][:].tolist(), f["customers/" + c][:].tolist()))
want = 0
for c in ("profile_age_band", "profile_gender", "profile_region"):
    a, b = col(sys.argv[1], c), col("shifted", c)
    want += sum(1 for u in a if u in b and a[u] >= 0 and b[u] >= 0 and a[u] != b[u])
    m = col("conflicted", c)
    assert all(m[u] == b[u] for u in b if b[u] >= 0), c + ": the later run's value kept"
got = json.load(open("conflicted/report.json"))["ranking"]["profile_conflicts"]
assert got == want and want > 0, (got, want)
print("merge profile conflicts: %d" % got)
PY
cp -r "day_${DAYS[2]}" otherprof
$PY - <<'PY'
import h5py
with h5py.File("otherprof/customers.h5", "a") as f:
    name = sorted(k for k in f["customers"] if k.startswith("profile_"))[0]
    f["customers"].move(name, "profile_zz_other")
PY
expect_fail 4 "otherprof/customers.h5: its profile columns are not those" \
    mpi 2 "$CLICKSEG" merge --set session.split=day -o bad "day_${DAYS[1]}" otherprof
# A run's customers.h5 without one of its columns: named, every rank
# agreeing on the open before the collective read.
cp -r "day_${DAYS[2]}" nocol
$PY -c "import h5py; del h5py.File('nocol/customers.h5', 'a')['customers/refunds']"
expect_fail 4 "nocol/customers.h5: no dataset refunds" \
    mpi "$NRANKS" "$CLICKSEG" merge --set session.split=day -o bad "day_${DAYS[1]}" nocol
[ ! -e bad ] || fail "a refused merge left an output"
# A report of format 3 (histograms of 64 bins, which stopped at 114,688):
# merged as before, exactly when nothing was in its last bin.
cp -rp "day_${DAYS[1]}" v3day
$PY - <<'PY'
import h5py, numpy as np
with h5py.File("v3day/report.h5", "r+") as f:
    assert f.attrs["version"] == 4
    f.attrs["version"] = 3
    for k in ("hist_duration_s", "hist_events"):
        h = f["segments/" + k][:]
        assert h.shape[1] == 248 and not h[:, 63:].any(), "values past 114,687: no exact v3 copy"
        del f["segments/" + k]
        f["segments/" + k] = h[:, :64]
PY
outs=()
for i in "${!DAYS[@]}"; do outs+=("day_${DAYS[$i]}"); done
mpi 2 "$CLICKSEG" merge -q --set session.split=day -o merged_v3 "${outs[@]/day_${DAYS[1]}/v3day}"
$CMP --same merged_day merged_v3 --sessions
"$CLICKSEG" merge --help | grep "usage: mpirun -n N clickseg merge" > /dev/null || fail "merge --help"
echo "test_merge: ok"
