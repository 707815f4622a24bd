#!/bin/bash
# The shuffle through shared memory (every rank on this node, the default)
# and through MPI (shared_memory = false) give identical reports, with whole
# windows, 300-row windows and windows that shrink as users fill a small
# memory_per_rank (the shared buffers then give their pages back and grow
# again); report.json says which way the records went. Ranks in separate
# PID namespaces cannot open each other's buffers: the run says why, falls
# back to MPI and still gives the same report; so does a rank with a file
# size limit.
# ranks: 2 3
set -euo pipefail
source "${SRCDIR:?}/lib/common.sh"
CMP="$PY $SRCDIR/lib/compare.py"

mpi 1 "$CLICKSEG" generate -o arch -n 200000 -d 5 -f 3 --seed 17 > /dev/null
shuffle_of() { $PY -c "import json, sys; print(json.load(open(sys.argv[1]))['run']['shuffle'])" "$1/report.json"; }

mpi "$NRANKS" "$CLICKSEG" run -q -i arch -o mpi --sessions --set shared_memory=false
[ "$(shuffle_of mpi)" = mpi ] || fail "shared_memory=false: run.shuffle is $(shuffle_of mpi)"
for args in "" "--window-events 300" "--set memory_per_rank=3M"; do
    rm -rf shm
    # shellcheck disable=SC2086
    mpi "$NRANKS" "$CLICKSEG" run -i arch -o shm --sessions $args 2> shm.err
    [ "$(shuffle_of shm)" = shared_memory ] || { cat shm.err >&2; fail "$args: run.shuffle is $(shuffle_of shm)"; }
    ! grep -q "not shared memory" shm.err || { cat shm.err >&2; fail "$args: sharing was refused"; }
    $CMP --same mpi shm --sessions
done
passes=$($PY -c "import json; r = json.load(open('shm/report.json'))['run']; print(r['passes'] - r['windows'])")
[ "$passes" -gt 0 ] || fail "memory_per_rank=3M cut no window into parts: the shrinking buffers were not exercised"

# A file size limit would let a growing memfd kill a rank with SIGXFSZ:
# such a rank does not share, and says so.
(ulimit -f 100000000; mpi "$NRANKS" "$CLICKSEG" run -i arch -o fsz --sessions 2> fsz.err)
grep -q "not shared memory: rank [0-9] has a file size limit (ulimit -f 100000000)" fsz.err \
    || { cat fsz.err >&2; fail "no note on the file size limit"; }
$CMP --same mpi fsz --sessions

# One PID namespace per rank (as some container launchers do): /proc/<pid>
# names another process there. Open MPI's shared-memory transport cannot
# work across them either, so this uses TCP between the ranks.
if unshare --pid --fork --mount-proc true 2> /dev/null; then
    OMPI_MCA_btl=self,tcp mpi "$NRANKS" unshare --pid --fork --mount-proc \
        "$CLICKSEG" run -i arch -o ns --sessions 2> ns.err
    grep -q "note: the shuffle goes through MPI, not shared memory: rank [0-9]" ns.err \
        || { cat ns.err >&2; fail "no fallback note"; }
    [ "$(shuffle_of ns)" = mpi ] || fail "separate PID namespaces: run.shuffle is $(shuffle_of ns)"
    $CMP --same mpi ns --sessions
    echo "separate PID namespaces: $(grep -o 'rank [0-9].*' ns.err | head -1)"
else
    echo "unshare --pid is not permitted here: the PID-namespace case was not run"
fi
echo "test_shm: ok ($NRANKS ranks)"
