#!/bin/bash
# Long paths. Open MPI 4.1's OMPIO probes its `lockedfile` component on
# every MPI_File_open by printing the path and ".locktest.RANK" into 256
# bytes: an archive, report or state file whose path passed about 244 bytes
# aborted every rank (glibc's "buffer overflow detected", exit 134), in
# generate, import, run and merge alike. clickseg leaves that component
# out (src/cli/main.c), so here generate, import, run (a --state chain,
# checkpoints) and merge work under a directory whose path is some 560
# bytes long and give what they give under a short one.
# A path of 1024 bytes or more, which the config, the plan, the --state
# history and report.h5 would have cut (a run then named a file that is
# not there, or kept a wrong history), is refused with one message: as a
# flag's value exit 2, as an input file's path or real path exit 4; an
# output directory, --state file or report directory keeps 64 bytes for
# the names made from it, so 960 bytes or more there is refused (exit 2;
# output.dir in a config, exit 3), and 959 works.
# ranks: 1 3
set -euo pipefail
source "${SRCDIR:?}/lib/common.sh"
CMP="$PY $SRCDIR/lib/compare.py"

seg() { printf "%${2}s" | tr ' ' "$1"; }
LONG="$WORKDIR/$(seg a 100)/$(seg b 100)/$(seg c 100)/$(seg d 100)/$(seg e 100)"
mkdir -p "$LONG"
[ "${#LONG}" -gt 500 ] || fail "the long directory is only ${#LONG} bytes"

# generate, run (with --state and a checkpoint every window) and merge,
# short and long
GEN=(generate -q -n 6000 -d 2 -f 2 --seed 11)
mpi "$NRANKS" "$CLICKSEG" "${GEN[@]}" -o arch
mpi "$NRANKS" "$CLICKSEG" "${GEN[@]}" -o "$LONG/arch"
RUN=(run -q --window-events 1500 --set checkpoint.every=1)
mpi "$NRANKS" "$CLICKSEG" "${RUN[@]}" -i arch/events-0000.h5 -o r1 --state chain.state
mpi "$NRANKS" "$CLICKSEG" "${RUN[@]}" -i arch/events-0001.h5 -o r2 --state chain.state
mpi "$NRANKS" "$CLICKSEG" "${RUN[@]}" -i "$LONG/arch/events-0000.h5" -o "$LONG/r1" \
    --state "$LONG/chain.state"
mpi "$NRANKS" "$CLICKSEG" "${RUN[@]}" -i "$LONG/arch/events-0001.h5" -o "$LONG/r2" \
    --state "$LONG/chain.state"
$CMP --same r2 "$LONG/r2" > /dev/null || fail "the --state chain under the long path differs"
# merge: runs over days, cut at midnight
$PY "$SRCDIR/lib/split_archive.py" arch days --by day > days.txt
mapfile -t DAYS < <(awk '{print $1}' days.txt)
[ "${#DAYS[@]}" -ge 2 ] || fail "expected at least 2 days: $(cat days.txt)"
cp -r days "$LONG/days"
for dir in . "$LONG"; do
    for d in "${DAYS[@]}"; do
        mpi "$NRANKS" "$CLICKSEG" run -q --set session.split=day -i "$dir/days/$d" \
            -o "$dir/day-$d"
    done
    mpi "$NRANKS" "$CLICKSEG" merge -q --set session.split=day -o "$dir/m" "${DAYS[@]/#/$dir/day-}"
done
$CMP --same m "$LONG/m" > /dev/null || fail "the merge under the long path differs"

# import of a CSV into the long directory, then a run over it
$PY - "$LONG/events.csv" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("ts,user_id,event_type,product_id,category_id,brand_id,price,session_id\n")
    for i in range(3000):
        f.write(f"{1704063600000000 + i * 7000000},{i % 97 + 1},{i % 8},{i % 13},0,0,"
                f"{(i % 5) * 100 if i % 8 in (6, 7) else 0},{i % 97}\n")
PY
cp "$LONG/events.csv" events.csv
IMP=(import -q -c "$SRCDIR/bench/import-csv.cfg" --format csv)
mpi "$NRANKS" "$CLICKSEG" "${IMP[@]}" events.csv -o imp
mpi "$NRANKS" "$CLICKSEG" "${IMP[@]}" "$LONG/events.csv" -o "$LONG/imp"
mpi "$NRANKS" "$CLICKSEG" run -q -i imp -o ri
mpi "$NRANKS" "$CLICKSEG" run -q -i "$LONG/imp" -o "$LONG/ri"
$CMP --same ri "$LONG/ri" > /dev/null || fail "the run of the import under the long path differs"

# inputs of 1024 bytes or more: refused, as typed and as real paths
HUGE="$LONG/$(seg f 100)/$(seg g 100)/$(seg h 100)/$(seg i 100)/$(seg j 100)"
mkdir -p "$HUGE"
cp -r arch "$HUGE/arch"
cp events.csv "$HUGE/events.csv"
[ "${#HUGE}" -ge 1024 ] || fail "the huge directory is only ${#HUGE} bytes"
expect_fail 2 "--input: the path is [0-9]+ bytes long; clickseg takes paths of up to 1023 bytes" \
    mpi "$NRANKS" "$CLICKSEG" run -q -i "$HUGE/arch" -o rh
expect_fail 2 "--output: the path is [0-9]+ bytes long" \
    mpi "$NRANKS" "$CLICKSEG" run -q -i arch -o "$HUGE/out"
expect_fail 2 "--state: the path is [0-9]+ bytes long" \
    mpi "$NRANKS" "$CLICKSEG" run -q -i arch -o rh --state "$HUGE/x.state"
expect_fail 4 "the path is [0-9]+ bytes long; clickseg keeps input paths of up to 1023 bytes" \
    mpi "$NRANKS" "$CLICKSEG" import -q -c "$SRCDIR/bench/import-csv.cfg" --format csv \
    "$HUGE/events.csv" -o ih
ln -s "$HUGE" short
expect_fail 4 "its real path is [0-9]+ bytes long; clickseg keeps input paths of up to 1023 bytes" \
    mpi "$NRANKS" "$CLICKSEG" run -q -i short/arch -o rh
[ ! -e rh ] || fail "a refused run left output behind"
expect_fail 4 "its real path is [0-9]+ bytes long" \
    mpi "$NRANKS" "$CLICKSEG" import -q -c "$SRCDIR/bench/import-csv.cfg" --format csv \
    short/events.csv -o ih
for cmd in "import -q -c $SRCDIR/bench/import-csv.cfg --format csv events.csv -o" \
           "generate -q -o" "merge -q --set session.split=day day-${DAYS[0]} -o"; do
    # shellcheck disable=SC2086
    expect_fail 2 "--output: the path is [0-9]+ bytes long; clickseg takes paths of up to 959 bytes" \
        mpi "$NRANKS" "$CLICKSEG" $cmd "$HUGE/out"
done
expect_fail 2 "a report directory: the path is [0-9]+ bytes long" \
    mpi "$NRANKS" "$CLICKSEG" merge -q -o mh "$HUGE/r"
expect_fail 2 "the report directory: the path is [0-9]+ bytes long" \
    "$CLICKSEG" report "$HUGE/r"

# Outputs just inside the limit: files are made inside them and beside
# them (DIR.tmp.<pid>/report.html, DIR.checkpoint/snapshot-*.h5, the
# state's DIR/x.state.tmp.<pid>.room): a run that checkpoints every window
# and keeps a --state there gives the short run's report; one byte more
# is refused at once (it used to run, then cut DIR.checkpoint to
# "DIR." or fail at the report with a path that was not there).
EDGE="$LONG/$(seg k 100)/$(seg l 100)/$(seg m 100)"
mkdir -p "$EDGE"
pad=$((959 - ${#EDGE} - 1))
[ "$pad" -gt 10 ] || fail "the edge directory is already ${#EDGE} bytes"
OUT="$EDGE/$(seg o "$pad")"
[ "${#OUT}" -eq 959 ] || fail "the edge output is ${#OUT} bytes"
mpi "$NRANKS" "$CLICKSEG" "${RUN[@]}" -i arch/events-0000.h5 -o "$OUT" --state "$EDGE/$(seg s $((pad - 1)))x"
mpi "$NRANKS" "$CLICKSEG" "${RUN[@]}" -i arch/events-0000.h5 -o r1e --state e.state
$CMP --same r1e "$OUT" > /dev/null || fail "the run into a 959-byte output differs"
expect_fail 2 "--output: the path is 960 bytes long" \
    mpi "$NRANKS" "$CLICKSEG" "${RUN[@]}" -i arch -o "${OUT}p"
printf 'output = { dir = "%s"; };\n' "${OUT}p" > edge.cfg
expect_fail 3 "edge.cfg:1: key 'output.dir': 960 bytes long, at most 959" \
    mpi "$NRANKS" "$CLICKSEG" run -q -c edge.cfg -i arch
echo "test_long_paths: ok"
