#!/bin/bash
# Benchmark of `clickseg import` (not part of the test suite): generates a
# CSV of N rows (default 10^8, about 4.3 GB) and imports it on 1 and on 2
# ranks, a warm-up run first, printing wall time, rows/s, the phases from
# import.json and the peak memory (RSS) of each rank.
#   [MEM=1G] [RANKS="1 2"] bash tests/bench/import_bench.sh [ROWS] [WORKDIR]
# Needs about 17 GB of disk per 10^8 rows (the CSV, the external sort's
# runs and one archive at a time). Memory: memory_per_rank (MEM) per rank.
# Measured (2 cores, 24 GiB, load average 4-5), 10^8 rows, 31 daily files:
#   MEM=1G, 1 rank: 102.1 s (0.98 M rows/s), peak RSS 780 MiB
#   MEM=1G, 2 ranks: 80.2 s (1.25 M rows/s), peak RSS 690 MiB per rank
#   MEM=16G (in memory), 2 ranks: 125.4 s, peak RSS 6.9 GiB per rank
# (docs/import.md has the phases).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ROWS=${1:-100000000}
WORK=${2:-/tmp/clickseg-import-bench}
RANKS=${RANKS:-1 2}
CLICKSEG=${CLICKSEG:-$ROOT/build/clickseg}
source "$ROOT/jobs/lib/mpi-env.sh"
mkdir -p "$WORK"
cd "$WORK"

CSV=bench-$ROWS.csv
if [ ! -s "$CSV" ]; then
    echo "generating $ROWS rows into $WORK/$CSV" >&2
    # 30 days from 2024-01-01, times increasing with jitter (a mostly sorted
    # log, as exports are), 10^6 users, 8 event names, 10^5 products, a
    # decimal price on a third of the rows, numeric session ids.
    time awk -v n="$ROWS" 'BEGIN {
        srand(7); t0 = 1704067200000; span = 30 * 86400 * 1000;
        split("view,view,view,view,search,cart,uncart,buy", ev, ",");
        print "ts,user,event,product,price,session";
        for (i = 0; i < n; i++) {
            r = rand(); u = int(r * 1000000);
            t = t0 + int(i / n * span) + int(rand() * 60000);
            e = ev[1 + int(rand() * 8)];
            p = (rand() < 0.33) ? sprintf("%d.%02d", int(rand() * 500), int(rand() * 100)) : "";
            printf "%.0f,%d,%s,%d,%s,%.0f\n", t, u, e, int(rand() * 100000), p, u * 16 + int(t / 1800000) % 16;
        }
    }' > "$CSV"
fi
ls -la "$CSV"

# memory_per_rank (MEM, default 1G): beyond it each rank spills sorted runs
# (the external sort); 16G keeps 10^8 events in memory on one rank.
cat > bench.cfg <<CFG
memory_per_rank = "${MEM:-1G}";
import = {
  split = "day";
  csv = {
    time = "ts"; time_format = "unix_ms"; user = "user"; event = "event";
    events = "view=product_view, search=search, cart=add_to_cart, uncart=remove_from_cart, buy=purchase";
    product = "product"; price = "price"; session = "session";
  };
};
CFG

one() {   # one() RANKS: imports, prints the figures
    local n=$1
    rm -rf "arch$n"
    local t0 t1
    t0=$(date +%s.%N)
    mpirun -n "$n" bash -c '/usr/bin/time -f "%M" -o rss.$OMPI_COMM_WORLD_RANK "$0" "$@"' \
        "$CLICKSEG" import -q --format csv "$CSV" -o "arch$n" -c bench.cfg
    t1=$(date +%s.%N)
    echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores" >&2
    local rss
    rss=$(for r in $(seq 0 $((n - 1))); do printf "%s " "$(awk '{printf "%.0f MiB", $1/1024}' rss.$r)"; done)
    /usr/bin/python3 - "$n" "$t0" "$t1" "arch$n/import.json" "$rss" <<'PY'
import json, sys
n, t0, t1, path, rss = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]
s = json.load(open(path))
wall = t1 - t0
print(f"ranks {n}: {s['rows']} rows in {wall:.1f} s wall ({s['rows'] / wall / 1e6:.2f} M rows/s), "
      f"phases {s['seconds']}, files {len(s['files'])}, peak RSS per rank: {rss}")
PY
}

echo "== warm-up (1 rank, small)"
head -1000001 "$CSV" > warm.csv
mpirun -n 1 "$CLICKSEG" import -q --format csv warm.csv -o warm -c bench.cfg --force
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores" >&2
for n in $RANKS; do
    echo "== $n rank(s), memory_per_rank ${MEM:-1G}"
    one "$n"
    rm -rf "arch$n"
done
rm -rf warm warm.csv
