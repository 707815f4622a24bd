#!/bin/bash
# ranks: 1 2 3
# HDF5 files that fill the disk (an LD_PRELOAD shim, tests/lib/fail_space.c,
# gives the files it matches a disk of FAIL_SPACE bytes each): a checkpoint
# snapshot, a --state save, customers.h5, report.h5, the archive files of
# generate and import. Each time the job stops with exit 5 and one error
# line, no rank hangs or dies of a signal, no half-written file is left,
# and after a failed checkpoint the earlier one resumes to the report of an
# uninterrupted run. The parallel files have their room set aside before
# HDF5 writes (h5_reserve: a write failing on some ranks only hangs or
# crashes parallel HDF5 1.10), so their full disk is "not enough space";
# report.h5 (rank 0, from memory) is a failed write. Skipped under ASan,
# whose runtime must be the first library.
set -euo pipefail
source "${SRCDIR:?}/lib/common.sh"
CMP="$PY $SRCDIR/lib/compare.py"
preload_shim fail_space
mpi 1 "$CLICKSEG" generate -o arch -n 100000 -d 4 -f 3 --seed 5 > /dev/null
# The room set aside and not used is given back: no file keeps blocks past
# its end.
for f in arch/*.h5; do
    [ $(($(stat -c '%b * %B' "$f"))) -le $(($(stat -c %s "$f") + 65536)) ] ||
        fail "$f keeps space past its end: $(stat -c '%s bytes, %b blocks' "$f")"
done
mpi "$NRANKS" "$CLICKSEG" run -q -i arch -o whole
shim() { mpi "$NRANKS" -x LD_PRELOAD="$PWD/fail_space.so" -x FAIL_MATCH -x FAIL_SPACE "$@"; }
# clean_fail CODE PATTERN cmd...: expect_fail, with one error line of
# clickseg's (Open MPI prints its own for each failed write) and no rank
# killed by a signal.
clean_fail() {
    expect_fail "$@"
    ! grep -Eq "Segmentation fault|signal [0-9]+|Signal:" err.txt || { cat err.txt >&2; fail "a rank crashed"; }
    [ "$(grep -c 'clickseg [a-z]*: error' err.txt)" = 1 ] || { cat err.txt >&2; fail "expected one error line"; }
}

# 1. The disk fills while a checkpoint is written, after earlier ones
# were (each snapshot a little larger than the one before).
export FAIL_MATCH=snapshot- FAIL_SPACE=1200000
RUN=(run -q -i arch -o ck --window-events 5000 --set checkpoint.every=1)
clean_fail 5 "checkpoint in ck.checkpoint: ck.checkpoint/snapshot-[0-9]+\.h5\.tmp: .*(write failed|No space left on device)" \
    shim "$CLICKSEG" "${RUN[@]}"
! ls ck.checkpoint/*.tmp 2> /dev/null || fail "a half-written snapshot was left: $(ls ck.checkpoint)"
snap=$(awk '$1 == "snapshot" {print $2}' ck.checkpoint/MANIFEST)
[ -n "$snap" ] && [ -s "ck.checkpoint/$snap" ] || fail "no earlier checkpoint to resume from: $(ls ck.checkpoint)"
[ "$(ls ck.checkpoint | grep -c '^snapshot-')" = 1 ] || fail "snapshots besides $snap: $(ls ck.checkpoint)"
[ ! -e ck ] && ! ls -d ck.tmp.* 2> /dev/null || fail "a failed run left output"
unset FAIL_MATCH FAIL_SPACE
mpi "$NRANKS" "$CLICKSEG" "${RUN[@]}" --resume
$CMP --same whole ck
[ ! -e ck.checkpoint ] || fail "a completed run left its checkpoint"

# 2. The disk fills while the state of a --state chain is saved.
export FAIL_MATCH=chain.state.tmp FAIL_SPACE=300000
mkdir -p st
clean_fail 5 "saving the state \(--state st/chain.state\): st/chain.state.tmp.[0-9]+: .*(write failed|No space left on device)" \
    shim "$CLICKSEG" run -q -i arch -o st1 --state st/chain.state
! ls st/chain.state* 2> /dev/null || fail "a failed save left a state file: $(ls st)"
[ ! -e st1 ] && ! ls -d st1.tmp.* 2> /dev/null || fail "a failed run left output"

# 3. ... while customers.h5 is written.
export FAIL_MATCH=/customers.h5 FAIL_SPACE=100000
clean_fail 5 "customers.h5: .*(write failed|No space left on device)" \
    shim "$CLICKSEG" run -q -i arch -o cu
[ ! -e cu ] && ! ls -d cu.tmp.* 2> /dev/null || fail "a failed run left output"
# ... on a file system that cannot set space aside (fallocate fails), where
# statvfs shows room that is not there (a quota, or another job takes it)
# and the file and its ballast share one disk (FAIL_POOL). Too little for
# the ballast (HDF5's share, 0.25 MiB here): a clean error before HDF5
# writes. Room for the ballast but not the data: the write fails, and the
# ranks agree on it and leave the file unclosed (its close writes metadata
# collectively: on 3 ranks MPI-IO lost the ENOSPC there and HDF5 hung, or
# crashed in MPI_Finalize; docs/checkpoint.md). Room for all: the run
# completes, equal to one with space set aside, and no ballast is left.
export FAIL_MATCH=customers.h5 FAIL_POOL=1 FAIL_NOFALLOCATE=1 FAIL_STATVFS=1000000000
pool() { shim -x FAIL_POOL -x FAIL_NOFALLOCATE -x FAIL_STATVFS "$@"; }
export FAIL_SPACE=40000
clean_fail 5 "customers.h5: not enough space \(No space left on device\): writing 0.25 MiB beside the file failed" \
    pool "$CLICKSEG" run -q -i arch -o cu
[ ! -e cu ] && ! ls -d cu.tmp.* 2> /dev/null || fail "a failed run left output"
export FAIL_SPACE=400000
clean_fail 5 "customers.h5: .*(write failed|No space left on device)" pool "$CLICKSEG" run -q -i arch -o cu
! grep -q "not enough space" err.txt || fail "statvfs's lie was not believed"
[ ! -e cu ] && ! ls -d cu.tmp.* 2> /dev/null || fail "a failed run left output"
export FAIL_SPACE=100000000
pool "$CLICKSEG" run -q -i arch -o cu
$CMP --same whole cu
! ls cu/*.room 2> /dev/null || fail "a ballast was left: $(ls cu)"
rm -rf cu
unset FAIL_POOL FAIL_NOFALLOCATE FAIL_STATVFS

# 4. ... while report.h5 is written (rank 0 alone, built in memory and
# written as one image: a full disk is a failed write, not a failed close).
export FAIL_MATCH=/report.h5 FAIL_SPACE=20000
clean_fail 5 "report.h5: write failed \(disk full\?\)" shim "$CLICKSEG" run -q -i arch -o rh
[ ! -e rh ] && ! ls -d rh.tmp.* 2> /dev/null || fail "a failed run left output"

# 5. ... while generate makes an archive file; then on a file system that
# cannot set space aside (fallocate fails with EOPNOTSUPP), where statvfs
# finds it; then while import makes one. Parallel HDF5 allocates a
# dataset's chunks collectively as it makes it: without the room set aside
# first, a rank whose write failed there left the others waiting.
GEN=(generate -q -o ge -n 200000 -f 2)
no_output() { [ ! -e "$1" ] && ! ls -d "$1".tmp.* 2> /dev/null || fail "a failed $2 left output"; }
export FAIL_MATCH=/events- FAIL_SPACE=2000000
NOSPACE="not enough space \(No space left on device\): [^ ]+ has [0-9.]+ MiB free, the file needs about"
clean_fail 5 "clickseg generate: error: ge.tmp.[0-9]+/events-0000.h5: $NOSPACE" shim "$CLICKSEG" "${GEN[@]}"
no_output ge generate
export FAIL_NOFALLOCATE=1
clean_fail 5 "clickseg generate: error: ge.tmp.[0-9]+/events-0000.h5: $NOSPACE" \
    shim -x FAIL_NOFALLOCATE "$CLICKSEG" "${GEN[@]}"
no_output ge generate
unset FAIL_NOFALLOCATE
awk 'BEGIN { print "event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session"
    for (i = 0; i < 3000; i++)
        printf "2019-10-01 %02d:%02d:%02d UTC,view,%d,2053013552326770905,,aqua,%d.99,%d,s-%d\n",
            i / 3600 % 24, i / 60 % 60, i % 60, 1000 + i % 97, i % 50, 500000 + i % 211, i % 211 }' > ev.csv
export FAIL_SPACE=200000
clean_fail 5 "clickseg import: error: im.tmp.[0-9]+/events-2019-10-01.h5: $NOSPACE" \
    shim "$CLICKSEG" import -q --format rees46 ev.csv -o im
no_output im import
# A file system without flock (Lustre's noflock): the lock that keeps two
# jobs off one output cannot be taken; named with its cause and fix, exit
# 5, before any output is made.
clean_fail 5 "nolock.lock: cannot lock: Function not implemented: the file system holding it has no flock .*write nolock to a file system with locks" \
    mpi "$NRANKS" -x LD_PRELOAD="$PWD/fail_space.so" -x FAIL_NOFLOCK=nolock.lock "$CLICKSEG" run -q -i arch -o nolock
[ ! -e nolock ] && ! ls -d nolock.tmp.* 2> /dev/null || fail "a run without its lock left output"
echo "test_full_disk: ok"
