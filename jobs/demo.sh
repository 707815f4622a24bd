#!/bin/bash
# The quick start: installs what is missing, builds, makes a sample archive
# (clickseg generate: 1M events over 14 days, 4 files) and runs the real job
# on it with 2 MPI ranks, then prints where the report is.
#   bash jobs/demo.sh [OUTDIR]      (default: ./clickseg-demo)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${1:-$PWD/clickseg-demo}
bash "$ROOT/jobs/lib/setup.sh" "$ROOT/build"
source "$ROOT/jobs/lib/mpi-env.sh"
CS=$ROOT/build/clickseg
mkdir -p "$OUT"
mpirun -n 2 "$CS" generate --output "$OUT/archive" --events 1M --days 14 --files 4 --force
"$CS" inspect --quick "$OUT/archive"
mpirun -n 2 "$CS" run -c "$ROOT/configs/default.cfg" --input "$OUT/archive" \
    --output "$OUT/report" --sessions --force
echo
# The report's own summary (util-linux's `column` is not on a fresh Debian 12).
"$CS" report "$OUT/report" --no-html
echo
echo "report: $OUT/report/report.html (also report.json, report.h5, segments.csv, periods.csv, customers.h5, sessions.h5)"
