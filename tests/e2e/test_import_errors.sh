#!/bin/bash
# clickseg import on bad input: a wrong or missing format, a file of another
# format, missing, directory and unreadable inputs, corrupt and truncated
# gzip, a full disk, a header-only file, a bad config key, an existing
# archive (and a tiny memory_per_rank, which now spills and succeeds). Each
# error is one clear message, the documented exit status, no rank left hanging, and nothing under the output name (nor a temporary
# directory beside it).
# ranks: 1 3
set -euo pipefail
source "${SRCDIR:?}/lib/common.sh"
export MPI_TIMEOUT=60
RAW=${SHARED_DATA:?}/rees46/2019-Oct-sample_sidatKSTX.csv
I() { mpi "$NRANKS" "$CLICKSEG" import "$@"; }
nothing_left() {
    [ ! -e out ] || fail "a failed import left 'out': $(ls -la out)"
    ! ls -d out.tmp.* 2>/dev/null || fail "a failed import left a temporary directory"
}

# Usage (exit 2) and config (exit 3) errors are found by rank 0 before any
# parallel work: checked once, at 1 rank, without mpirun's start-up.
if [ "$NRANKS" -eq 1 ]; then
I() { "$CLICKSEG" import "$@"; }
expect_fail 2 "unknown format 'rees47' \(known: rees46, retailrocket, yoochoose, otto, diginetica, ga, csv\)" \
    I --format rees47 "$RAW" -o out
expect_fail 2 "no format: give --format" I "$RAW" -o out
expect_fail 2 "--output DIR is required" I --format rees46 "$RAW"
expect_fail 2 "no input files" I --format rees46 -o out
"$CLICKSEG" import --help | grep "usage: mpirun -n N clickseg import" > /dev/null || fail "import --help"
nothing_left
# config, naming file and line
printf 'import = { csv = { colour = "red"; }; };\n' > bad.cfg
expect_fail 3 "bad.cfg:1: unknown key 'import.csv.colour'" I --format csv "$RAW" -o out -c bad.cfg
printf 'import = {\n  max_reject_share = 1.5;\n};\n' > share.cfg
expect_fail 3 "share.cfg:2: key 'import.max_reject_share'" I --format rees46 "$RAW" -o out -c share.cfg
printf 'import = { format = "foo"; };\n' > fmt.cfg
expect_fail 3 "unknown format 'foo' in import.format" I "$RAW" -o out -c fmt.cfg
# A process substitution is a pipe: refused (run here without mpirun, whose
# ranks would not inherit it and say "no such file").
expect_fail 4 "/dev/fd/[0-9]+: not a regular file" I --format rees46 <(cat "$RAW") -o out
nothing_left
fi
I() { mpi "$NRANKS" "$CLICKSEG" import "$@"; }

# Inputs (exit 4), naming the file.
expect_fail 4 "nothing.csv: no such file" I --format rees46 nothing.csv -o out
mkdir -p somedir
expect_fail 4 "somedir: is a directory" I --format rees46 somedir -o out
# A FIFO: refused before anyone opens it (an open would wait for a writer
# for good); a process substitution is a pipe too.
rm -f stream.csv; mkfifo stream.csv
expect_fail 4 "stream.csv: not a regular file" I --format rees46 stream.csv -o out
expect_fail 4 "train_head.jsonl: line 1 is not a rees46 header" \
    I --format rees46 "$SHARED_DATA/otto/train_head.jsonl" -o out
expect_fail 4 "line 1 is not a JSON object" I --format otto "$RAW" -o out
head -1 "$RAW" > header-only.csv
expect_fail 4 "the inputs hold no rows" I --format rees46 header-only.csv -o out
# gzip: a copy cut in half, and one with bytes overwritten in the middle
seq 1 20 | while read -r k; do tail -n +2 "$RAW"; done | cat <(head -1 "$RAW") - | gzip -c > big.csv.gz
size=$(stat -c %s big.csv.gz)
head -c $((size / 2)) big.csv.gz > truncated.csv.gz
cp big.csv.gz corrupt.csv.gz
printf 'garbage!garbage!garbage!' | dd of=corrupt.csv.gz bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
expect_fail 4 "truncated.csv.gz: gzip data unreadable .*corrupt or truncated" \
    I --format rees46 truncated.csv.gz -o out
expect_fail 4 "corrupt.csv.gz: gzip data unreadable .*corrupt or truncated" \
    I --format rees46 corrupt.csv.gz -o out
I -q --format rees46 big.csv.gz -o whole_gz   # the intact copy imports
grep -q '"rows": 20000,' whole_gz/import.json || fail "the intact gzip copy"
# members one after another (cat a.gz b.gz, pigz) are all read; zero
# padding after the end holds no rows; a plain file appended to a .gz would
# lose its rows without a word (zlib's gzread stops there), so it is refused
head -1 "$RAW" > gz_head.csv
(gzip -c gz_head.csv; tail -n +2 "$RAW" | gzip -c) > members.csv.gz
I -q --format rees46 members.csv.gz -o members_gz
grep -q '"rows": 1000,' members_gz/import.json || fail "a two-member gzip file: $(cat members_gz/import.json)"
(gzip -c "$RAW"; head -c 5000 /dev/zero) > padded.csv.gz
I -q --format rees46 padded.csv.gz -o padded_gz
grep -q '"rows": 1000,' padded_gz/import.json || fail "a zero-padded gzip file"
(gzip -c "$RAW"; tail -n +2 "$RAW") > appended.csv.gz
expect_fail 4 "appended.csv.gz: bytes after the end of the gzip data \(compressed byte [0-9]+\) are not gzip" \
    I --format rees46 appended.csv.gz -o out
nothing_left
# unreadable: root reads any file, so read it as nobody (if setpriv can,
# and nobody can reach the build and this directory: not in a clone under
# /root, mode 700)
mkdir -p asnobody && chmod 777 asnobody && cp "$RAW" asnobody/secret.csv && chmod 000 asnobody/secret.csv
AS_NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
if ! "${AS_NOBODY[@]}" true 2>/dev/null; then
    echo "note: setpriv cannot drop privileges here; unreadable-file case not run"
elif ! "${AS_NOBODY[@]}" test -x "$CLICKSEG" -a -w asnobody 2>/dev/null; then
    echo "note: user nobody cannot reach $CLICKSEG or $PWD/asnobody; unreadable-file case not run"
else
    (cd asnobody && expect_fail 4 "secret.csv: cannot open: Permission denied" \
        "${AS_NOBODY[@]}" env TMPDIR=/tmp HOME=/tmp \
        timeout 60 mpirun -n "$NRANKS" --oversubscribe "$CLICKSEG" import --format rees46 \
        secret.csv -o out)
    [ ! -e asnobody/out ] || fail "an unreadable input left an output"
fi

# More events than memory_per_rank holds: no error any more, the external
# sort spills sorted runs and writes the same archive as in memory.
I -q --format yoochoose "$SHARED_DATA/yoochoose/yoochoose-clicks-100k_train_full.txt" -o lowmem \
    --set memory_per_rank=1M
I -q --format yoochoose "$SHARED_DATA/yoochoose/yoochoose-clicks-100k_train_full.txt" -o inmem
grep -q '"used": true' lowmem/import.json || fail "1M did not use the external sort"
# every rank's sorted-run file is gone before the move into place (one
# removed while rank 0 moved the files failed the import or was left)
ls -a lowmem > lowmem.ls
! grep -q '^\.runs-' lowmem.ls || fail "a sorted-run file among the outputs: $(ls -a lowmem)"
grep -q '"used": false' inmem/import.json || fail "the default used the external sort"
$PY "$SRCDIR/lib/h5same.py" inmem lowmem >/dev/null || fail "the external sort's archive differs"
rm -rf lowmem inmem

# A full disk (exit 5): a 256 KiB tmpfs when mounting is allowed, else a
# file-size limit (ulimit -f) standing in for it.
mkdir -p small
if mount -t tmpfs -o size=256k tmpfs small 2>/dev/null; then
    trap 'umount small 2>/dev/null || true' EXIT
    expect_fail 5 "small/out: not enough space for the archive .*No space left on device" \
        I --format ga "$SHARED_DATA/google_merch_store_ga/all_sessions.csv" -o small/out
    [ -z "$(ls -A small)" ] || fail "a full disk left files: $(ls -A small)"
    umount small
    trap - EXIT
else
    echo "note: cannot mount a tmpfs; a file-size limit stands in for a full disk"
    expect_fail 5 "small/out: not enough space for the archive .*File too large" \
        bash -c "ulimit -f 256; trap '' XFSZ; exec timeout 60 mpirun -n $NRANKS --oversubscribe \
        $CLICKSEG import --format ga $SHARED_DATA/google_merch_store_ga/all_sessions.csv -o small/out"
    [ -z "$(ls -A small)" ] || fail "a full disk left files: $(ls -A small)"
fi

# Rows whose user id is blank (spaces) are rejected as bad_user, not merged
# into a made-up user 0; a GA session key too long for its buffer is a
# bad_id (it was read past the buffer's end).
{ head -2 "$RAW"; head -2 "$RAW" | tail -1 | awk -F, -v OFS=, '{$8 = "   "; print}'; } > blank_user.csv
I -q --format rees46 blank_user.csv -o blank --set import.max_reject_share=1
grep -q '^"blank_user.csv",3,bad_user,"user id is blank"' blank/rejects.csv || fail "blank user: $(cat blank/rejects.csv)"
{ echo "fullVisitorId,visitId,visitStartTime,time,eCommerceAction_type,productSKU,v2ProductName,productPrice,currencyCode"
  echo "0123,$(printf 'v%.0s' $(seq 700)),1473757371,1000,0,SKU1,Name,2990000,USD"; } > long_visit.csv
I -q --format ga long_visit.csv -o longv --set import.max_reject_share=1
grep -q ',2,bad_id,"fullVisitorId-visitId of [0-9]* characters' longv/rejects.csv || fail "long visit id: $(cut -c1-200 longv/rejects.csv)"

# Blank lines before the first row are blank lines, wherever they are; a
# header after them is refused (the parse takes line 1 as the header).
{ echo; echo "  "; head -3 "$SHARED_DATA/otto/train_head.jsonl"; } > lead_blank.jsonl
I -q --format otto lead_blank.jsonl -o leadb
grep -q '"blank_lines": 2' leadb/import.json || fail "leading blank lines: $(grep -o '"blank_lines": [0-9]*' leadb/import.json)"
{ echo; head -3 "$RAW"; } > lead_blank.csv
expect_fail 4 "lead_blank.csv: the header is on line 2, after blank lines" I --format rees46 lead_blank.csv -o leadh

# OTTO: values of unknown keys are skipped when they are JSON, not any run
# of number-like characters.
cat > otto_values.jsonl <<'J'
{"session":1,"events":[{"aid":5,"ts":1659304800025,"type":"clicks"}],"f":-1.5e+3,"g":[true,null,{"a":0}]}
{"session":2,"events":[{"aid":5,"ts":1659304800025,"type":"clicks"}],"f":+-+-}
{"session":3,"events":[{"aid":5,"ts":1659304800025,"type":"clicks"}],"f":01}
J
I -q --format otto otto_values.jsonl -o ottov --set import.max_reject_share=1
$PY - <<'PY'
import csv
r = list(csv.DictReader(open("ottov/rejects.csv", newline="")))
assert [(x["line"], x["reason"]) for x in r] == [("2", "bad_json"), ("3", "bad_json")], r
PY

# An existing archive is kept unless --force (exit 5); --force replaces it
# whole: files of the earlier split do not survive.
I -q --format rees46 "$RAW" -o done --set import.split=none
expect_fail 5 "done: holds an archive already; use --force" I --format rees46 "$RAW" -o done
[ -e done/events.h5 ] || fail "the refused import touched the archive"
I -q --format rees46 "$RAW" -o done --force
[ ! -e done/events.h5 ] && [ -e done/events-2019-10-01.h5 ] || fail "--force left files: $(ls done)"
# Another .h5 put there (a profile table) is not the import's to remove but
# would be read with it: refused, forced or not, and kept.
: > done/profiles.h5
expect_fail 5 "done/profiles.h5: not a file of an imported archive" \
    I --format rees46 "$RAW" -o done --force
[ -e done/profiles.h5 ] && [ -e done/events-2019-10-01.h5 ] || fail "a refused import removed files"
# Two imports into one directory: the second is refused while the first
# holds the output's lock (here held by flock(1) as a running job would),
# also when the directory is written with a trailing slash.
rm -f done/profiles.h5
sum=$(cat done/*.h5 | md5sum)
expect_fail 5 "done is being written by another clickseg job" \
    flock -n done.lock "$CLICKSEG" import --format rees46 "$RAW" -o done/ --force
[ "$(cat done/*.h5 | md5sum)" = "$sum" ] || fail "an import refused for the lock changed the archive"
! ls -d done.tmp.* 2> /dev/null || fail "an import refused for the lock left its temporary directory"
I -q --format rees46 "$RAW" -o done/ --force
[ ! -e done.lock ] || fail "the import left its lock file"
# An import killed while it spills sorted runs to disk (a time limit's
# SIGTERM, or SIGKILL) leaves no run files: each rank's is unlinked as soon
# as it is open, so its space goes back when the rank dies. Seen from
# /proc: the rank's descriptor names it "(deleted)".
if [ "$NRANKS" -eq 2 ]; then
    mpi 1 "$CLICKSEG" generate -o kgen -n 400000 -d 2 -f 2 --seed 4 --no-profiles > /dev/null
    "$(dirname "$CLICKSEG")/bench_h5csv" -o k.csv kgen > /dev/null
    mpirun -n 2 --oversubscribe "$CLICKSEG" import -q -c "$SRCDIR/bench/import-csv.cfg" k.csv -o kimp \
        --set memory_per_rank=16M --set import.split=none > kimp.out 2>&1 &
    KBG=$!
    deadline=$((SECONDS + 60)) seen=""
    until [ -n "$seen" ]; do
        [ $SECONDS -lt $deadline ] && kill -0 $KBG 2> /dev/null ||
            { cat kimp.out >&2; fail "the import ended and no rank held an unlinked sorted-run file"; }
        # this mpirun's ranks only: other tests' imports may run beside it
        for p in $(pgrep -P $KBG || true); do
            seen+=$(ls -l "/proc/$p/fd" 2> /dev/null | grep -o '\.runs-[0-9]* (deleted)' || true)
        done
        sleep 0.05
    done
    kill -KILL $(pgrep -P $KBG) $KBG 2> /dev/null || true
    wait $KBG 2> /dev/null || true
    left=$(find kimp.tmp.* -name '.runs-*' 2> /dev/null)
    [ -z "$left" ] || fail "a killed import left its sorted runs: $left"
    # the next import into the same directory removes the killed one's
    ls -d kimp.tmp.[0-9]* > /dev/null 2>&1 || fail "the killed import left no temporary directory"
    mpi 2 "$CLICKSEG" import -q -c "$SRCDIR/bench/import-csv.cfg" k.csv -o kimp > /dev/null
    ls kimp/*.h5 > /dev/null || fail "the import after the killed one wrote no archive"
    ! ls -d kimp.tmp.* 2> /dev/null || fail "the killed import's temporary directory was left"
    [ ! -e kimp.lock ] || fail "the import left its lock file"
fi
echo "test_import_errors: ok ($NRANKS ranks)"
