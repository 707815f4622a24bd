#!/bin/bash
# ranks: 2
# cost: 25
# report.html of a 3-year daily report (1,100 days, 2M events): self-contained,
# under 5 MB, opens in headless Chromium (Debian's; installed here if missing)
# without console errors and fast; every chart holds the numbers of
# report.json (tests/lib/check_html.py); `clickseg report` re-renders the same
# bytes from report.h5 and prints text/JSON/CSV summaries; the optional
# sections (tiers, targets, prospects, profiles) appear when report.h5 holds
# their tables and are absent otherwise; bad input gives clear errors.
set -euo pipefail
source "${SRCDIR:?}/lib/common.sh"

# Chromium and a font, for this test only (the main set-up stays light).
missing=()
command -v chromium >/dev/null || missing+=(chromium)
dpkg-query -W -f='${Status}' fonts-dejavu-core 2>/dev/null | grep -q "install ok installed" || missing+=(fonts-dejavu-core)
if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" -eq 0 ] || fail "needs ${missing[*]} (apt-get install ${missing[*]})"
    echo "installing ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# chrome ARGS... : headless Chromium with no network services and a fresh profile.
chrome() {
    local ud
    ud=$(mktemp -d "$WORKDIR/profile.XXXXXX")
    timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --hide-scrollbars --user-data-dir="$ud" "$@"
}
# console_clean LOG: Chromium logs console messages (errors included) as CONSOLE lines.
console_clean() {
    if grep -E "CONSOLE|Uncaught|Refused to|Failed to load" "$1"; then
        fail "console messages in $1"
    fi
}

mpi 2 "$CLICKSEG" generate -o arch -n 2M -d 1100 -f 4 --seed 8 > /dev/null
mpi "$NRANKS" "$CLICKSEG" run -q -i arch -o out --window-events 400k
bytes=$(stat -c %s out/report.html)
[ "$bytes" -lt $((5 * 1024 * 1024)) ] || fail "report.html is $bytes bytes (limit 5 MiB)"
$PY "$SRCDIR/lib/check_html.py" out out/report.html

# Re-rendering from report.h5 gives the same bytes, in place and in a copy.
cp out/report.html first.html
"$CLICKSEG" report out -q
cmp first.html out/report.html || fail "clickseg report changed report.html"
cp -r out copy && rm copy/report.html
"$CLICKSEG" report copy -q
cmp first.html copy/report.html || fail "a copy of the run re-renders differently"
"$CLICKSEG" report out --html elsewhere.html -q
grep -q "href=\"$(cd out && pwd)/periods.csv\"" elsewhere.html || fail "a page elsewhere links the CSV absolutely"
# A run kept in a directory whose name has URL and HTML characters: the
# links are percent-encoded (a "#" once cut them at an anchor) and no name
# turns into markup.
odd='we<b onmouseover=x> "dir"#1 %20&'
mkdir -p "$odd" && cp -r out "$odd/run"
"$CLICKSEG" report "$odd/run" --html odd.html -q
! grep -q "<b onmouseover" odd.html || fail "a directory name became markup in the page"
grep -q 'href="[^"]*/we%3Cb%20onmouseover%3Dx%3E%20%22dir%22%231%20%2520%26/run/periods.csv"' odd.html ||
    fail "the periods.csv link is not the URL-encoded path"
$PY "$SRCDIR/lib/check_html.py" "$odd/run" odd.html
# Bots only: no business sessions to share out, so every business share
# is null in report.json and a dash on the page.
mkdir -p botonly
$PY - <<'PY'
import h5py, numpy as np
t0 = 1714521600 * 10**6
with h5py.File("botonly/events.h5", "w") as f:
    f["events/ts"] = np.array([t0 + k * 10**6 for k in range(200)], np.int64)
    f["events/user_id"] = np.full(200, 5, np.uint64)
    f["events/event_type"] = np.zeros(200, np.uint8)
    f["events/price"] = np.zeros(200, np.int64)
PY
mpi "$NRANKS" "$CLICKSEG" run -q -i botonly -o botonly-out
$PY -c '
import json
s = json.load(open("botonly-out/report.json"))["segments"]
assert [x["share"] for x in s if x["business"]] == [None] * 3 and [x["share"] for x in s if not x["business"]] == [1], s'
$PY "$SRCDIR/lib/check_html.py" botonly-out botonly-out/report.html

# Chromium: the parsed page holds the same numbers; no console message.
chrome --enable-logging=stderr --v=0 --dump-dom "file://$PWD/out/report.html" > dom.html 2> chrome.log
console_clean chrome.log
$PY "$SRCDIR/lib/check_html.py" out out/report.html --dom dom.html
# Opening time: the whole page parsed, laid out and painted (a screenshot of
# its full height), less Chromium's own start-up on an empty page; once
# each (tests/bench/html_report.sh takes medians on an idle machine).
echo '<!DOCTYPE html><title>empty</title>' > blank.html
timed() {
    local t0 t1
    t0=$(date +%s%N)
    chrome --window-size=1280,9000 --screenshot="$PWD/$2" "file://$PWD/$1" 2>/dev/null >/dev/null
    t1=$(date +%s%N)
    echo $(( (t1 - t0) / 1000000 ))
}
blank=$(timed blank.html blank.png)
page=$(timed out/report.html report.png)
[ "$(stat -c %s report.png)" -gt 100000 ] || fail "screenshot too small"
$PY - "$bytes" "$blank" "$page" <<'PY'
import sys
b = int(sys.argv[1]); blank, page = (int(x) / 1000 for x in sys.argv[2:])
print("report.html %.2f MB, 1,100 days: whole page painted in %.2f s, empty page %.2f s, "
      "the report's own cost %.2f s" % (b / 1e6, page, blank, page - blank))
# A figure, not a speed target (tests/bench/html_report.sh measures it on
# an idle machine: under ctest -j2 beside other tests it took 2-4x as
# long): only a page that takes far too long to lay out fails here.
assert page - blank < 30.0, "opening the report took %.2f s beyond Chromium's start-up" % (page - blank)
PY

# Summaries on stdout.
"$CLICKSEG" report out --no-html > text.txt
grep -q "Simple browser" text.txt || fail "text summary lacks the segment table"
"$CLICKSEG" report out --no-html --format json > summary.json
"$CLICKSEG" report out --no-html --format csv > summary.csv
$PY - <<'PY'
import json, pandas as pd
r = json.load(open("out/report.json"))
s = json.load(open("summary.json"))
for k, v in s["totals"].items():
    assert v == r["totals"][k], k
assert [x["name"] for x in s["segments"]] == [x["name"] for x in r["segments"]]
for a, b in zip(s["segments"], r["segments"]):
    for k in ("sessions", "share", "users", "conversion", "revenue"):
        assert a[k] == b[k], (a["name"], k, a[k], b[k])
assert s["periods"] == len(r["periods"]) and s["last_period"] == r["periods"][-1]["period"]
c = pd.read_csv("summary.csv")
assert list(c.segment) == [x["name"] for x in r["segments"]]
assert list(c.sessions) == [x["sessions"] for x in r["segments"]]
# the same digits as segments.csv, not more
a, b = (pd.read_csv(f, dtype=str) for f in ("summary.csv", "out/segments.csv"))
for k in ("share", "conversion"):
    assert list(a[k]) == list(b[k]), (k, list(a[k]), list(b[k]))
print("summaries agree with report.json")
PY

# Optional sections: shown when report.h5 holds their tables (a run writes the
# ranking tables; the generated archive's profiles.h5 gives the cross-tabs).
for id in tiers targets profiles; do
    grep -q "id=\"$id\"" out/report.html || fail "section $id missing though report.h5 has its table"
done
# About this run: the phases' fastest rank beside the slowest, and the
# dictionaries /run lists (one a line, escaped) when it lists any.
grep -q "(fastest [0-9]" out/report.html || fail "the phase chart lacks the fastest rank's times"
# Session-length quantiles are whole seconds: "47 s", never "47.0 s".
! grep -Eq '<td class="num">[0-9]+\.0 s /' out/report.html || fail "a whole-second quantile shown with a decimal"
cp -r out dicts
$PY -c 'import h5py; h5py.File("dicts/report.h5", "a")["run"].attrs["dictionaries"] = "/d/a/dictionaries.h5\n/d/<b>/dictionaries.h5"'
"$CLICKSEG" report dicts -q
grep -q "User dictionaries</dt><dd>/d/a/dictionaries.h5<br>/d/&lt;b&gt;/dictionaries.h5</dd>" dicts/report.html ||
    fail "the page does not list report.h5's dictionaries: $(grep -o 'User dict[^/]*' dicts/report.html)"
cp -r out opt
$PY "$SRCDIR/lib/add_optional.py" opt
"$CLICKSEG" report opt -q
$PY "$SRCDIR/lib/check_html.py" opt opt/report.html --optional
chrome --enable-logging=stderr --v=0 --dump-dom "file://$PWD/opt/report.html" > dom2.html 2> chrome2.log
console_clean chrome2.log
$PY "$SRCDIR/lib/check_html.py" opt opt/report.html --dom dom2.html --optional
chrome --window-size=1280,9000 --screenshot="$PWD/optional.png" "file://$PWD/opt/report.html" 2> /dev/null

# Quiet spells: the charts walk the calendar, so days, weeks and months
# without sessions show as 0 sessions (gaps in the ratios) instead of the
# line joining the periods either side. Sessions on 2024-01-01..03, 01-10,
# 03-05 and 2025-01-02 (a year boundary for ISO weeks).
$PY - <<'PY'
import h5py, numpy as np
from datetime import datetime, timezone
days = ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-10", "2024-03-05", "2025-01-02"]
ts, users, types = [], [], []
for k, d in enumerate(days):
    t0 = int(datetime.fromisoformat(d + "T12:00:00").replace(tzinfo=timezone.utc).timestamp()) * 10**6
    for u in range(5):
        for e, typ in enumerate([0, 1, 1, 3, 6][: 2 + (u + k) % 4]):
            ts.append(t0 + u * 10**6 + e * 60 * 10**6); users.append(u + 1); types.append(typ)
o = np.argsort(ts, kind="stable")
with h5py.File("gaps.h5", "w") as f:
    g = f.create_group("events")
    g["ts"] = np.array(ts, "i8")[o]
    g["user_id"] = np.array(users, "u8")[o]
    g["event_type"] = np.array(types, "u1")[o]
    g["price"] = np.where(np.array(types)[o] == 6, 1999, 0).astype("i8")
    g.attrs["currency"] = "EUR"
PY
for per in day week month; do
    mpi "$NRANKS" "$CLICKSEG" run -q -i gaps.h5 -o gaps-$per --set report.period=$per
    $PY "$SRCDIR/lib/check_html.py" gaps-$per gaps-$per/report.html
done
grep -q "368 days, 2024-01-01 to 2025-01-02, in UTC; 6 with sessions" gaps-day/report.html \
    || fail "the day chart's note: $(grep -o '[0-9,]* days, [^;]*; [0-9]* with' gaps-day/report.html)"
grep -q "53 weeks, 2024-W01 to 2025-W01, in UTC; 4 with sessions" gaps-week/report.html \
    || fail "the week chart's note: $(grep -o '[0-9,]* weeks, [^;]*; [0-9]* with' gaps-week/report.html)"
grep -q "13 months, 2024-01 to 2025-01, in UTC; 3 with sessions" gaps-month/report.html \
    || fail "the month chart's note: $(grep -o '[0-9,]* months, [^;]*; [0-9]* with' gaps-month/report.html)"

# Errors name the problem.
expect_fail 4 "nowhere: no such file" "$CLICKSEG" report nowhere
mkdir jsononly && cp out/report.json jsononly/
expect_fail 4 "jsononly/report.h5: no such file" "$CLICKSEG" report jsononly
cp -r out old
$PY -c 'import h5py; f = h5py.File("old/report.h5", "a"); del f.attrs["version"]; f.close()'
expect_fail 4 "report format version 1, written by an older clickseg" "$CLICKSEG" report old
# version 2 (rates of nothing 0, not NaN) still renders
$PY -c 'import h5py; f = h5py.File("old/report.h5", "a"); f.attrs["version"] = 2; f.close()'
"$CLICKSEG" report old -q --no-html || fail "a version 2 report.h5 was refused"
expect_fail 4 "not an HDF5 file" "$CLICKSEG" report out/report.json
cp -r out cut && truncate -s 20000 cut/report.h5   # damaged: exit 4, as docs/report.md says
expect_fail 4 "cut/report.h5: cannot open \(damaged\?\)" "$CLICKSEG" report cut --no-html
expect_fail 2 "--format: 'xml' is not text, json or csv" "$CLICKSEG" report out --format xml
expect_fail 2 "which report" "$CLICKSEG" report
mkdir kept && echo "<p>mine</p>" > kept/report.html
expect_fail 5 "" mpi "$NRANKS" "$CLICKSEG" run -q -i arch -o kept
grep -q mine kept/report.html || fail "run overwrote report.html without --force"
# Currency: the config overrides the archive's attribute; files that
# disagree cannot be summed.
mpi "$NRANKS" "$CLICKSEG" run -q -i arch -o usd --set report.currency=USD --window-events 1M
grep -q '"currency": "USD"' usd/report.json || fail "report.currency not in report.json"
grep -q '>\$[0-9]' usd/report.html || fail "no dollar amounts in the page"
cp -r arch mixed
$PY -c 'import h5py; f = h5py.File("mixed/events-0001.h5", "a"); f["events"].attrs["currency"] = "USD"; f.close()'
expect_fail 4 "currency is (USD|EUR), but another input file's is (EUR|USD)" mpi "$NRANKS" "$CLICKSEG" run -q -i mixed -o m
# "unknown" (an import's source without a currency) is no currency: shown
# without a symbol, and it sums with the other files' EUR.
$PY -c 'import h5py; f = h5py.File("mixed/events-0001.h5", "a"); f["events"].attrs["currency"] = "unknown"; f.close()'
mpi "$NRANKS" "$CLICKSEG" run -q -i mixed -o unk
grep -q '"currency": "EUR"' unk/report.json || fail "unknown + EUR: $(grep -o '"currency": "[^"]*"' unk/report.json)"
for f in mixed/events-*.h5; do $PY -c 'import h5py, sys; f = h5py.File(sys.argv[1], "a"); f["events"].attrs["currency"] = "unknown"; f.close()' "$f"; done
mpi "$NRANKS" "$CLICKSEG" run -q -i mixed -o unk2
grep -q '"currency": ""' unk2/report.json || fail "all unknown: $(grep -o '"currency": "[^"]*"' unk2/report.json)"
grep -q 'currency not given' unk2/report.html || fail "the page names a currency for 'unknown'"
$PY "$SRCDIR/lib/check_html.py" unk2 unk2/report.html   # its figures, amounts without a symbol
# A segment without sessions shows dashes for its lengths, not -1 and 0 ms.
printf 'rules = ( { segment = "never"; when = ( "events >= 100000000" ); }, { segment = "all"; } );\n' > never.cfg
mpi "$NRANKS" "$CLICKSEG" run -q -c never.cfg -i arch -o never
$PY - <<'PY'
import re
h = open("never/report.html").read()
t = h[h.index('id="length-table"'):]
row = re.search(r"<tr><td>Never</td>(.*?)</tr>", t).group(1)
assert "-1" not in row and "0 ms" not in row and row.count("–") >= 4, row
print("empty segment's lengths:", re.sub("<[^>]+>", " ", row).split())
PY
echo "test_html: ok ($NRANKS ranks)"
