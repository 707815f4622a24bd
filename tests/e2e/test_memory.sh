#!/bin/bash
# ranks: 2 4
# With a memory_per_rank far below the archive size the job runs in many
# windows, gives the same results, and reports its per-rank peak memory.
set -euo pipefail
source "${SRCDIR:?}/lib/common.sh"
mpi 2 "$CLICKSEG" generate -o arch -n 400000 -d 4 -f 2 --seed 5 > /dev/null
bytes=$(du -cb arch/events-*.h5 | tail -1 | cut -f1)
# 8 MiB: windows of 49,152 rows a rank (3/4 of it at 128 bytes an event:
# this job moves 24-byte records), cut into parts once the users a rank
# holds take a share of the budget (see docs/run.md).
budget=$((8 * 1048576))
mpi "$NRANKS" "$CLICKSEG" run -q -i arch -o big --set memory_per_rank=1G
mpi "$NRANKS" "$CLICKSEG" run -q -i arch -o small --set "memory_per_rank=$budget"
$PY "$SRCDIR/lib/compare.py" --same big small
$PY - "$bytes" "$budget" <<'PY'
import json, sys
b, s = (json.load(open(d + "/report.json"))["run"] for d in ("big", "small"))
assert s["windows"] >= 3, s["windows"]
# the users (about 500 bytes each, 16,000 over the ranks) take a good share
# of 8 MiB on 2 ranks: windows must have been cut into parts
assert s["passes"] >= s["windows"] and b["passes"] == b["windows"], (s, b)
if s["ranks"] == 2:
    assert s["passes"] > s["windows"], s
print(f"archive {int(sys.argv[1])/2**20:.1f} MiB, memory_per_rank {int(sys.argv[2])/2**20:.1f} MiB: "
      f"{s['windows']} windows in {s['passes']} passes, peak RSS {s['peak_rss_mib_max']:.1f} MiB per rank "
      f"(one window: {b['peak_rss_mib_max']:.1f} MiB)")
PY

# A budget the users alone outgrow (about 16,000 users, 4 MiB over all
# ranks): the run stops with exit 6 and the figures, within seconds, with
# nothing under the output's name.
expect_fail 6 "rank [0-9]+ holds [0-9]+ users in [0-9]+ MiB, more than 7/8 of memory_per_rank \(. MiB\); raise memory_per_rank \(this rank needs at least [0-9]+ MiB by now\) or run with more ranks" \
    mpi "$NRANKS" "$CLICKSEG" run -q -i arch -o tiny --set "memory_per_rank=$((4 * 1048576 / NRANKS))"
[ "$(grep -c 'error' err.txt)" = 1 ] || fail "expected one error line: $(cat err.txt)"
[ ! -e tiny ] && ! ls -d tiny.tmp.* 2>/dev/null || fail "a stopped run left output"
