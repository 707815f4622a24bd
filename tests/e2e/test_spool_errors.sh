#!/bin/bash
# ranks: 3
# The sessions spool when the disk fails it (an LD_PRELOAD shim,
# tests/lib/fail_spool.c): one rank's spool cannot be created, or its
# writes fail with ENOSPC while sessions close, or while a checkpoint copies
# the sessions; each time the job stops with exit 5 and one error line that
# names the spool (prefixed with one rank), no rank left running, nothing
# under the output's name, and no half-written snapshot in the checkpoint
# directory. Skipped under ASan, whose runtime must be the first library.
set -euo pipefail
source "${SRCDIR:?}/lib/common.sh"
preload_shim fail_spool
mpi 2 "$CLICKSEG" generate -o arch -n 200000 -d 3 --seed 4 > /dev/null
shim() { mpi "$NRANKS" -x LD_PRELOAD="$PWD/fail_spool.so" -x FAIL_RANK -x FAIL_OPEN -x FAIL_AFTER "$@"; }
one_error() {
    [ "$(grep -c 'error' err.txt)" = 1 ] || fail "expected one error line: $(cat err.txt)"
    ! grep -q "rank [0-9]*: rank" err.txt || fail "a doubled rank prefix: $(cat err.txt)"
    [ ! -e "$1" ] && ! ls -d "$1".tmp.* 2> /dev/null || fail "a failed run left output: $(ls -d "$1"*)"
}

# rank 1 cannot create its spool (a read-only file system)
export FAIL_RANK=1 FAIL_OPEN=1 FAIL_AFTER=
expect_fail 5 "rank 1: .*cannot create the sessions spool: Read-only file system" \
    shim "$CLICKSEG" run -q -i arch -o ro --sessions
one_error ro

# the last rank's disk fills while sessions close (its first block of 4,096)
export FAIL_RANK=$((NRANKS - 1)) FAIL_OPEN= FAIL_AFTER=0
expect_fail 5 "rank $((NRANKS - 1)): .*writing the sessions spool: No space left on device" \
    shim "$CLICKSEG" run -q -i arch -o full --sessions
one_error full

# ... or while the first checkpoint copies the sessions (fewer than 4,096
# a rank by then, so its flush is the first write): the temporary snapshot
# is removed, the checkpoint directory keeps no snapshot
expect_fail 5 "checkpoint in ck.checkpoint: .*rank $((NRANKS - 1)): .*writing the sessions spool: No space left on device" \
    shim "$CLICKSEG" run -q -i arch -o ck --sessions --window-events 5000 --set checkpoint.every=1
one_error ck
! ls ck.checkpoint/*.tmp 2> /dev/null || fail "a half-written snapshot was left: $(ls ck.checkpoint)"
! ls ck.checkpoint/snapshot-* 2> /dev/null || fail "a snapshot of the failed checkpoint: $(ls ck.checkpoint)"

# the same run without the shim completes
unset FAIL_RANK FAIL_OPEN FAIL_AFTER
mpi "$NRANKS" "$CLICKSEG" run -q -i arch -o ok --sessions --window-events 5000 --set checkpoint.every=1
[ -s ok/sessions.h5 ] || fail "no sessions.h5"
echo "test_spool_errors: ok"
