#!/bin/bash
# clickseg merge: daily runs over inputs cut at midnight, merged, equal one
# run over all days when sessions are cut at midnight too (session.split =
# "day", checked against the independent reference); without the split, the
# merged report counts each session that crosses midnight once per day, as
# docs/checkpoint.md says, and nothing else differs in the totals. Reports of
# another config, a day given twice and a missing report are refused.
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
    mpi 3 "$CLICKSEG" run -q -i 'days/*' -o "whole_$split" --sessions "${SET[@]}"
    outs=()
    for i in "${!DAYS[@]}"; do
        mpi $((1 + i % 2)) "$CLICKSEG" run -q -i "days/${DAYS[$i]}" -o "${split}_${DAYS[$i]}" \
            --sessions "${SET[@]}"
        outs+=("${split}_${DAYS[$i]}")
    done
    mpi 2 "$CLICKSEG" merge -q "${SET[@]}" -o "merged_$split" "${outs[@]}"
done

# With the split: identical, and the split itself agrees with the reference.
$CMP --same whole_day merged_day --sessions
$REF arch --split day --out ref_day > /dev/null
$CMP ref_day whole_day --sessions

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
expect_fail 4 "period ${DAYS[1]} is in the reports of both" \
    mpi 2 "$CLICKSEG" merge --set session.split=day -o bad "day_${DAYS[1]}" "day_${DAYS[1]}"
expect_fail 3 "was made with another configuration" \
    mpi 2 "$CLICKSEG" merge -o bad "day_${DAYS[1]}" "day_${DAYS[2]}"
expect_fail 4 "nowhere: no report.h5" \
    mpi 2 "$CLICKSEG" merge --set session.split=day -o bad "day_${DAYS[1]}" nowhere
expect_fail 5 "output exists" \
    mpi 2 "$CLICKSEG" merge --set session.split=day -o merged_day "day_${DAYS[1]}"
expect_fail 2 "no report directories" mpi 1 "$CLICKSEG" merge -o bad
[ ! -e bad ] || fail "a refused merge left an output"
"$CLICKSEG" merge --help | grep "usage: mpirun -n N clickseg merge" > /dev/null || fail "merge --help"
echo "test_merge: ok"
