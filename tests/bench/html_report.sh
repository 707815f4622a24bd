#!/bin/bash
# Benchmark: report.html of a 3-year daily report in headless Chromium.
# Makes a 2M-event archive over 1,100 days (clickseg generate), runs the job
# on 2 ranks, then measures the page's size and how long Chromium takes to
# open it: the first screen painted (1280x900 screenshot), the whole page
# laid out and painted (a screenshot of its full height), and parsed
# (--dump-dom); each against an empty page to separate Chromium's own
# start-up. Medians of 5 runs, alternating. Needs chromium (apt-get install
# chromium); builds clickseg if needed.
#   bash tests/bench/html_report.sh [WORKDIR]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
W=${1:-$(mktemp -d /tmp/clickseg-html-bench.XXXXXX)}
mkdir -p "$W" && cd "$W"
[ -x "$ROOT/build/clickseg" ] || bash "$ROOT/jobs/lib/setup.sh" "$ROOT/build"
command -v chromium >/dev/null || { echo "needs chromium: apt-get install chromium" >&2; exit 1; }
source "$ROOT/jobs/lib/mpi-env.sh"
CS=$ROOT/build/clickseg
rm -rf arch out
mpirun -n 2 "$CS" generate -o arch -n 2M -d 1100 -f 4 --seed 8 > /dev/null
mpirun -n 2 "$CS" run -q -i arch -o out
echo '<!DOCTYPE html><title>empty</title>' > blank.html
chrome() {
    local ud
    ud=$(mktemp -d "$W/profile.XXXXXX")
    timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --hide-scrollbars --user-data-dir="$ud" "$@" > /dev/null 2>&1
    rm -rf "$ud"
}
ms() { local t0 t1; t0=$(date +%s%N); "$@"; t1=$(date +%s%N); echo $(( (t1 - t0) / 1000000 )); }
H=9000   # taller than the page: the whole of it is painted
declare -A T
for i in 1 2 3 4 5; do
    for page in blank.html out/report.html; do
        T[$page.first]+=" $(ms chrome --window-size=1280,900 --screenshot="$W/s.png" "file://$W/$page")"
        T[$page.full]+=" $(ms chrome --window-size=1280,$H --screenshot="$W/s.png" "file://$W/$page")"
        T[$page.dom]+=" $(ms chrome --dump-dom "file://$W/$page")"
    done
done
/usr/bin/python3 - "$W/out/report.html" "${T[blank.html.first]}" "${T[out/report.html.first]}" \
    "${T[blank.html.full]}" "${T[out/report.html.full]}" "${T[blank.html.dom]}" "${T[out/report.html.dom]}" <<'PY'
import json, os, statistics, sys
page = sys.argv[1]
med = [statistics.median(map(int, a.split())) / 1000 for a in sys.argv[2:]]
rep = json.load(open(os.path.join(os.path.dirname(page), "report.json")))
print("report.html: %.2f MB for %d %s periods, %d segments" % (
    os.path.getsize(page) / 1e6, len(rep["periods"]), rep["period"], len(rep["segments"])))
print("%-34s %8s %8s %8s" % ("headless Chromium, median of 5", "empty", "report", "report-empty"))
for name, (a, b) in zip(("first screen painted (1280x900)", "whole page painted (1280x9000)",
                         "parsed (--dump-dom)"), (med[0:2], med[2:4], med[4:6])):
    print("%-34s %7.2fs %7.2fs %7.2fs" % (name, a, b, b - a))
PY
