#!/bin/bash
# ranks: 2 4
# With memory_per_rank an eighth of the archive's size the job runs in many
# windows, gives the same results, and reports its per-rank peak memory.
set -euo pipefail
source "${SRCDIR:?}/lib/common.sh"
mpi 2 "$CLICKSEG" generate -o arch -n 400000 -d 4 -f 2 --seed 5 > /dev/null
bytes=$(du -cb arch/events-*.h5 | tail -1 | cut -f1)
budget=$((bytes / 8))
mpi "$NRANKS" "$CLICKSEG" run -q -i arch -o big --set memory_per_rank=1G
mpi "$NRANKS" "$CLICKSEG" run -q -i arch -o small --set "memory_per_rank=$budget"
$PY "$SRCDIR/lib/compare.py" --same big small
$PY - "$bytes" "$budget" <<'PY'
import json, sys
b, s = (json.load(open(d + "/report.json"))["run"] for d in ("big", "small"))
assert s["windows"] > 4, s["windows"]
print(f"archive {int(sys.argv[1])/2**20:.1f} MiB, memory_per_rank {int(sys.argv[2])/2**20:.1f} MiB: "
      f"{s['windows']} windows, peak RSS {s['peak_rss_mib_max']:.1f} MiB per rank "
      f"(one window: {b['peak_rss_mib_max']:.1f} MiB)")
PY
