#!/bin/bash
# Target-customer selection: tiers, RFM segments, top-K targets and prospects,
# profile cross-tabs. The lists and cut points are identical for 1-4 ranks and
# any window size; targets equal the top of customers.h5 by (score desc,
# user_id); planted high-value customers land in the high tier and no
# planted bot is a target; cross-tab totals add up (tests/lib/targets_check.py).
set -euo pipefail
source "${SRCDIR:?}/lib/common.sh"
mpi 1 "$CLICKSEG" generate -o arch -n 150000 -d 4 -f 2 --seed 21 > /dev/null
mpi 1 "$CLICKSEG" run -q -i arch -o one --set rank.top_k=150
mpi "$NRANKS" "$CLICKSEG" run -q -i arch -o many --set rank.top_k=150 --window-events 2000
$PY "$SRCDIR/lib/targets_check.py" arch many
$PY "$SRCDIR/lib/compare.py" --same one many
$PY - <<'PY'
import json
a, b = (json.load(open(d + "/report.json")) for d in ("one", "many"))
for key in ("ranking", "tiers", "rfm_segments", "targets", "prospects", "profiles"):
    assert a[key] == b[key], f"{key} differs between 1 rank and many"
assert len(a["targets"]) == 150 and len(a["prospects"]) == 150
assert set(a["profiles"]) == {"gender", "age_band", "region"}, a["profiles"].keys()
assert any(r["value"] == "unknown" for r in a["profiles"]["gender"]), "users without a profile"
print("ranking sections identical; profiles:", sorted(a["profiles"]))
PY
# CSV and report.h5 copies of the lists.
$PY - <<'PY'
import h5py, json, pandas as pd
r = json.load(open("many/report.json"))
t = pd.read_csv("many/targets.csv")
assert t.user_id.tolist() == [x["user_id"] for x in r["targets"]]
with h5py.File("many/report.h5", "r") as h:
    assert h["targets/user_id"][:].tolist() == t.user_id.tolist()
    assert h["tiers/users"][:].tolist() == [x["users"] for x in r["tiers"]]
print("targets.csv and report.h5 agree with report.json")
PY
echo "test_targets: ok ($NRANKS ranks)"
