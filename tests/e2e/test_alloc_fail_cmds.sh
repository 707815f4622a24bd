#!/bin/bash
# ranks: 3
# cost: 30
# test_alloc_fail.sh's sweep (tests/lib/alloc_fail.sh) over the other
# commands: an allocation of clickseg's own fails on one rank, and the job
# ends with exit 6, one error line naming out of memory and nothing left
# under the output name (nor a temporary beside it), no rank waiting in a
# collective and none killed by a signal; or, where the failure has a
# fallback, exit 0 and what the unfailed command gave.
#   import   a csv of 3,000 rows over 3 days with 15 bad ones (rejects.csv
#            written), on rank 1 (the first 5, evenly and log spread) and
#            rank 0 (which sniffs the inputs, writes the rejects and the
#            summary): the same archive, rejects.csv and import.json
#   merge    two runs over disjoint days with sessions.h5, on rank 1 and
#            rank 0 (which writes the report, report.html last): the same
#            report, sessions, customers, CSV tables and page
#   report   re-rendering the merged report.h5 into another page, one
#            process without mpirun: the same page and JSON summary
set -euo pipefail
source "${SRCDIR:?}/lib/common.sh"
source "$SRCDIR/lib/alloc_fail.sh"
CMP="$PY $SRCDIR/lib/compare.py"
$PY - <<'PY'
import random
R = random.Random(5)
lines = ["ts,user,event,product,category,brand,price,visit"]
for i in range(3000):
    ts, u = 1569888000 + R.randrange(3 * 86400), f"u{R.randrange(400)}@example.com"
    lines.append(f"{ts},{u},{R.choice(['view', 'cart', 'buy', 'search'])},{R.randrange(1, 300)},"
                 f"{R.randrange(1, 20)},b{R.randrange(15)},{R.choice(['', '1.5', '19.99', '200'])},"
                 f"v{R.randrange(900)}")
    if i % 500 == 7:
        lines.append(f"{ts},{u},wave,1,1,b1,1,v1")        # unknown_event
    if i % 700 == 9:
        lines.append(f"yesterday,{u},view,1,1,b1,1,v1")   # bad_time
    if i % 900 == 11:
        lines.append(f"{ts},{u},view")                    # field_count
open("clicks.csv", "w").write("\n".join(lines) + "\n")
PY
cat > imp.cfg <<'CFG'
import = {
  split = "day";
  csv = {
    time = "ts"; time_format = "unix_s"; user = "user"; event = "event";
    events = "view=product_view, cart=add_to_cart, buy=purchase, search=search";
    product = "product"; category = "category"; brand = "brand"; price = "price"; session = "visit";
  };
};
CFG
mpi "$NRANKS" "$CLICKSEG" import -q --format csv clicks.csv -o whole_import -c imp.cfg
grep -q '"rows_rejected": 15,' whole_import/import.json || fail "the csv's bad rows: $(cat whole_import/rejects.csv)"
SPLIT=(--set session.split=day)
mpi "$NRANKS" "$CLICKSEG" run -q -i 'whole_import/events-2019-10-0[12].h5' -o r1 --sessions "${SPLIT[@]}"
mpi "$NRANKS" "$CLICKSEG" run -q -i whole_import/events-2019-10-03.h5 -o r2 --sessions "${SPLIT[@]}"
mpi "$NRANKS" "$CLICKSEG" merge -q "${SPLIT[@]}" -o whole_merge r1 r2
"$CLICKSEG" report whole_merge --html whole.html --format json > report.json

# CMD OUT: ARGV, the command under test writing to OUT, and its ranks.
argv_of() {
    NP=$NRANKS
    case $1 in
    import) ARGV=(import -q --format csv clicks.csv -o "$2" -c imp.cfg) ;;
    merge) ARGV=(merge -q "${SPLIT[@]}" -o "$2" r1 r2) ;;
    report) ARGV=(report whole_merge --html "$2" --format json); NP=0 ;;
    esac
}

same_result() {
    case $1 in
    import)
        $PY "$SRCDIR/lib/h5same.py" whole_import "$2" >&2 && cmp whole_import/rejects.csv "$2/rejects.csv" &&
            diff <(grep -v '"seconds"' whole_import/import.json) <(grep -v '"seconds"' "$2/import.json") >&2 ;;
    merge)
        $CMP --same whole_merge "$2" --sessions > cmp.txt 2>&1 || { cat cmp.txt >&2; return 1; }
        same_page whole_merge "$2" || return 1
        local f
        for f in whole_merge/*.csv; do cmp "$f" "$2/${f##*/}" || return 1; done ;;
    report) cmp whole.html "$2" && cmp report.json out.txt ;;
    esac
}

sweep "import 1 5 5 4" "import 0 0 3 4" "merge 1 5 5 4" "merge 0 0 3 4" "report 0 4 6 6"
echo "test_alloc_fail_cmds: ok ($TRIED positions)"
