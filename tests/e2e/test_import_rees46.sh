#!/bin/bash
# clickseg import on the real REES46 sample: the archive holds every raw row
# exactly once (pandas reads the raw file independently), the same archive
# for any rank count, from gzip and CRLF copies; clickseg run on it gives
# the pandas events/users/sessions/revenue (source mode) and the reference
# report (gap mode); planted defects land in rejects.csv with line, reason
# and raw line; too many rejects write no archive; duplicates are counted,
# and dropped on request.
set -euo pipefail
source "${SRCDIR:?}/lib/common.sh"
RAW=${SHARED_DATA:?}/rees46/2019-Oct-sample_sidatKSTX.csv
[ -r "$RAW" ] || fail "sample missing: $RAW"
CHECK="$PY $SRCDIR/lib/import_check.py"
I() { mpi "$NRANKS" "$CLICKSEG" import -q "$@"; }

I --format rees46 "$RAW" -o arch
mpi 1 "$CLICKSEG" import -q --format rees46 "$RAW" -o arch1
$PY "$SRCDIR/lib/h5same.py" arch arch1
mpi "$NRANKS" "$CLICKSEG" run -q -i arch -o rep_src --set session.mode=source
$CHECK rees46 arch "$RAW" --report rep_src
grep -q '"rows_rejected": 0,' arch/import.json || fail "sample rows rejected: $(cat arch/rejects.csv)"
[ "$(wc -l < arch/rejects.csv)" -eq 1 ] || fail "rejects.csv should hold the header only"

# Gap mode: the report equals the independent reference on the archive.
mpi "$NRANKS" "$CLICKSEG" run -q -i arch -o rep_gap --sessions
$PY "$SRCDIR/lib/reference.py" arch --out ref_gap > /dev/null
$PY "$SRCDIR/lib/compare.py" ref_gap rep_gap --sessions

# The same archive from a gzip copy and from a CRLF copy.
gzip -c "$RAW" > sample.csv.gz
sed 's/$/\r/' "$RAW" > crlf.csv
I --format rees46 sample.csv.gz -o arch_gz
I --format rees46 crlf.csv -o arch_crlf
$PY "$SRCDIR/lib/h5same.py" arch arch_gz
$PY "$SRCDIR/lib/h5same.py" arch arch_crlf

# Planted defects: each row rejected with its file line number and reason.
$PY - "$RAW" <<'PY'
import sys
lines = open(sys.argv[1]).read().split("\n")
assert lines[-1] == ""
defects = {  # file line -> (reason, how the row is broken)
    5: ("bad_time", lambda l: l.replace("2019-10-01", "2019-13-01", 1)),
    10: ("unknown_event", lambda l: l.replace(",view,", ",wishlist,", 1)),
    20: ("field_count", lambda l: l.rsplit(",", 1)[0]),
    30: ("bad_price", lambda l: ",".join(l.split(",")[:6] + ["12.3x"] + l.split(",")[7:])),
    # 5e17 cents: two of them would wrap an int64 sum (an id read as a price)
    35: ("bad_price", lambda l: ",".join(l.split(",")[:6] + ["5000000000000000.00"] + l.split(",")[7:])),
    40: ("bad_user", lambda l: ",".join(l.split(",")[:7] + [""] + l.split(",")[8:])),
    50: ("bad_quotes", lambda l: l.replace(",view,", ',"view,', 1)),
}
out, expect = [], []
for n, l in enumerate(lines[:-1], start=1):
    if n in defects:
        reason, f = defects[n]
        l = f(l)
        expect.append((n, reason, l))
    out.append(l)
    if n == 60:
        out.append("")   # a blank line: skipped and counted, not a row
open("defects.csv", "w").write("\n".join(out) + "\n")
# a blank line after line 60 shifts the file line numbers of later rows by one
with open("expect.csv", "w") as f:
    for n, r, l in expect:
        f.write(f"{n},{r},{l}\n")
PY
I --format rees46 defects.csv -o arch_def
$PY - <<'PY'
import csv, json
exp = [l.rstrip("\n").split(",", 2) for l in open("expect.csv")]
got = list(csv.DictReader(open("arch_def/rejects.csv", newline="")))
assert len(got) == len(exp), (len(got), len(exp))
for (line, reason, raw), g in zip(exp, got):
    assert g["file"] == "defects.csv", g
    assert int(g["line"]) == int(line) and g["reason"] == reason and g["raw"] == raw, (g, line, reason)
    assert g["detail"], g
s = json.load(open("arch_def/import.json"))
assert s["rows"] == 1000 and s["rows_rejected"] == 7 and s["inputs"][0]["blank_lines"] == 1, s
for line, reason, raw in exp:
    assert s["rejects_by_reason"][reason] == (2 if reason == "bad_price" else 1), (reason, s["rejects_by_reason"])
assert s["events_written"] == 993
big = [g for g in got if g["line"] == "35"][0]
assert "above 1000000000000" in big["detail"], big
print("defects: 7 rows rejected with line, reason and raw line; 1 blank line counted")
PY
$CHECK rees46 arch_def "$RAW" --skip-lines 5,10,20,30,35,40,50

# More rejects than import.max_reject_share: no archive, but the reasons.
expect_fail 4 "7 of 1000 rows rejected .* no archive written" \
    mpi "$NRANKS" "$CLICKSEG" import --format rees46 defects.csv -o arch_strict \
    --set import.max_reject_share=0.005
ls arch_strict/*.h5 2>/dev/null && fail "an archive was written despite too many rejects"
[ "$(wc -l < arch_strict/rejects.csv)" -eq 8 ] || fail "rejects.csv of the failed import"
grep -q '"status": "too_many_rejects"' arch_strict/import.json || fail "import.json status"

# Duplicates: kept and counted by default, dropped (into rejects.csv) on request.
{ cat "$RAW"; sed -n '2,11p' "$RAW"; } > dups.csv
I --format rees46 dups.csv -o arch_dupkeep
I --format rees46 dups.csv -o arch_dupdrop --set import.duplicates=drop
$PY - <<'PY'
import csv, json
k, d = (json.load(open(f"arch_dup{m}/import.json")) for m in ("keep", "drop"))
assert k["duplicates"] == 10 and k["duplicates_dropped"] == 0 and k["events_written"] == 1010, k
assert d["duplicates"] == 10 and d["duplicates_dropped"] == 10 and d["events_written"] == 1000, d
rej = list(csv.DictReader(open("arch_dupdrop/rejects.csv", newline="")))
assert sorted(int(r["line"]) for r in rej) == list(range(1002, 1012)), rej
assert all(r["reason"] == "duplicate" and "line" in r["detail"] for r in rej), rej
print("duplicates: 10 counted; dropped on request, each in rejects.csv")
PY
$PY "$SRCDIR/lib/h5same.py" arch arch_dupdrop
echo "test_import_rees46: ok ($NRANKS ranks)"
