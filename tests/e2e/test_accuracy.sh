#!/bin/bash
# ranks: 2
# The default rules agree with the generator's planted intent on at least 95%
# of non-bot sessions and flag every planted bot; prints the confusion matrix.
set -euo pipefail
source "${SRCDIR:?}/lib/common.sh"
mpi 2 "$CLICKSEG" generate -o arch -n 300000 -d 7 -f 2 --seed 3 > /dev/null
mpi "$NRANKS" "$CLICKSEG" run -q -i arch -o out --sessions
$PY "$SRCDIR/lib/accuracy.py" arch out --min 0.95
