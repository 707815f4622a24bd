#!/bin/bash
# The benchmark (docs/benchmark.md): clickseg against the I/O floor and DuckDB.
#
#   bash tests/bench/bench.sh [--events 1e7,1e8] [--reps 3] [options]
#
# Builds if needed, makes (and caches) the archives with `clickseg generate`
# and their CSV and Parquet copies, then measures in one run, alternating
# (one warm-up round, then --reps rounds; medians reported):
#   floor      bench_floor (plain HDF5 hyperslab reads of the needed columns), 1 and 2 ranks
#   run        clickseg run, 1 and 2 ranks
#   duckdb     the same job in SQL (tests/bench/duckdb/peer.js), 2 threads, from Parquet
#   import     clickseg import of the CSV, 1 and 2 ranks (only when the binary has `import`)
#   generate   clickseg generate, once per size per run (the cache fill, or into a scratch dir)
#   weak       clickseg run on --weak-events per rank, ranks 1, 2, 4 (4 oversubscribed)
#   cold       with --cold: floor and run again, the page cache dropped before each
# and prints events/s, wall time, peak memory per rank against memory_per_rank,
# bytes sent per event, the ratios and each target of issue #9 with PASS/MISS
# (also as markdown in OUT/table.md). It
# checks that DuckDB's session and per-segment counts equal clickseg's, and
# exits 1 when they differ (or when any measured command fails).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$ROOT/tests/bench
PY=/usr/bin/python3

usage() {
    cat <<EOF
usage: bash tests/bench/bench.sh [options]

  --events LIST    archive sizes, comma-separated (1e7, 10M, 100000000; default 1e7,1e8)
  --reps N         measured rounds after one warm-up round (default 3; medians reported)
  --ranks LIST     MPI ranks for floor, run and import (default 1,2)
  --threads N      DuckDB threads (default 2)
  --peer NAME      duckdb (default) or none (no peer, no count check)
  --no-import      skip clickseg import even when the binary has it
  --build DIR      build directory (default ./build); built with jobs/lib/setup.sh
  --no-build       use the binaries in the build directory as they are
  --data DIR       cache of archives, CSV and Parquet (default BUILD/bench-data)
  --out DIR        outputs and results (default BUILD/bench-out; emptied first)
  --seed S --days D --files F   generate parameters (default 1, 30, 8)
  --memory SIZE    memory_per_rank for every clickseg run (--set memory_per_rank=SIZE);
                   "auto" (default): for archives of 10^8 events or more 2.5G over the ranks
                   (1 rank 2560M, 2 ranks 1280M: the user table must fit), 512M below
  --gen-ranks N    ranks of the timed clickseg generate (default 2)
  --weak-events N  weak scaling: events per rank (default 5e6; 0 skips weak scaling)
  --weak-ranks L   weak scaling rank counts (default 1,2,4; more than the cores oversubscribe)
  --run-args STR   extra arguments for clickseg run (e.g. "--set session.gap=900")
  --cold           also measure floor and run with the page cache dropped before each
                   (floor-cold, run-cold: the archive read from disk; needs root)
  -h, --help       this help

Every measured command has a deadline of BENCH_TIMEOUT seconds (default 3600).

Results: OUT/results.tsv (every measurement), OUT/summary.json (medians,
ratios, targets), OUT/table.md (the final table in markdown), the tables on
stdout. Exit 0 when every command succeeded and the counts
agree, 1 otherwise, 2 on a usage error.
EOF
}

EVENTS=1e7,1e8 REPS=3 RANKS=1,2 THREADS=2 PEER=duckdb DO_IMPORT=1 BUILD=$ROOT/build
DO_BUILD=1 DATA= OUT= SEED=1 DAYS=30 FILES=8 RUN_ARGS= MEMORY=auto GEN_RANKS=2
WEAK_EVENTS=5e6 WEAK_RANKS=1,2,4 COLD=0
while [ $# -gt 0 ]; do
    case $1 in
        --events) EVENTS=$2; shift ;;
        --reps) REPS=$2; shift ;;
        --ranks) RANKS=$2; shift ;;
        --threads) THREADS=$2; shift ;;
        --peer) PEER=$2; shift ;;
        --no-import) DO_IMPORT=0 ;;
        --build) BUILD=$(cd "$2" 2>/dev/null && pwd || echo "$2"); shift ;;
        --no-build) DO_BUILD=0 ;;
        --data) DATA=$2; shift ;;
        --out) OUT=$2; shift ;;
        --seed) SEED=$2; shift ;;
        --days) DAYS=$2; shift ;;
        --files) FILES=$2; shift ;;
        --run-args) RUN_ARGS=$2; shift ;;
        --memory) MEMORY=$2; shift ;;
        --gen-ranks) GEN_RANKS=$2; shift ;;
        --weak-events) WEAK_EVENTS=$2; shift ;;
        --weak-ranks) WEAK_RANKS=$2; shift ;;
        --cold) COLD=1 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "bench.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done
case $PEER in duckdb|none) ;; *) echo "bench.sh: --peer must be duckdb or none" >&2; exit 2 ;; esac
[[ $REPS =~ ^[1-9][0-9]*$ ]] || { echo "bench.sh: --reps must be a positive integer" >&2; exit 2; }
[[ $THREADS =~ ^[1-9][0-9]*$ ]] || { echo "bench.sh: --threads must be a positive integer" >&2; exit 2; }
[[ $RANKS =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || { echo "bench.sh: --ranks: e.g. 1,2" >&2; exit 2; }
[[ $WEAK_RANKS =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || { echo "bench.sh: --weak-ranks: e.g. 1,2,4" >&2; exit 2; }
[[ $GEN_RANKS =~ ^[1-9][0-9]*$ ]] || { echo "bench.sh: --gen-ranks must be a positive integer" >&2; exit 2; }
# A size as clickseg's config reads it (512M, 1.5G, 1073741824); clickseg
# itself rejects what is out of range, naming the key.
[[ $MEMORY =~ ^(auto|[0-9]+(\.[0-9]+)?[kKmMgGtT]?)$ ]] ||
    { echo "bench.sh: --memory: '$MEMORY' is not auto or a size such as 512M, 1536M, 2G" >&2; exit 2; }
if [ "$COLD" = 1 ] && ! [ -w /proc/sys/vm/drop_caches ]; then
    echo "bench.sh: --cold drops the page cache before each cold round, which needs root" \
         "(/proc/sys/vm/drop_caches is not writable here)" >&2
    exit 2
fi
DATA=${DATA:-$BUILD/bench-data}
OUT=${OUT:-$BUILD/bench-out}

# 1e7, 10M, 2.5e6, 100000 -> an integer; fails on anything else.
to_int() {
    $PY - "$1" <<'PY'
import re, sys
m = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?(?:[eE][0-9]+)?)([kKmMgG]?)", sys.argv[1].strip())
if not m:
    sys.exit(1)
v = float(m.group(1)) * {"": 1, "k": 1e3, "m": 1e6, "g": 1e9}[m.group(2).lower()]
if v < 1 or v != int(v):
    sys.exit(1)
print(int(v))
PY
}
SIZES=()
for e in ${EVENTS//,/ }; do
    n=$(to_int "$e") || { echo "bench.sh: --events: '$e' is not a whole number of events" >&2; exit 2; }
    SIZES+=("$n")
done
[ ${#SIZES[@]} -gt 0 ] || { echo "bench.sh: --events is empty" >&2; exit 2; }
if [ "$WEAK_EVENTS" = 0 ]; then
    WEAK_N=0
else
    WEAK_N=$(to_int "$WEAK_EVENTS") ||
        { echo "bench.sh: --weak-events: '$WEAK_EVENTS' is not a whole number of events" >&2; exit 2; }
fi

# memory_per_rank N R: the budget of clickseg run on R ranks over an
# archive of N events. auto: clickseg's default 512M below 10^8 events; at
# 10^8 the user table (3.9 million users, about 280 bytes each with the
# index, spread over the ranks) needs more: 2.5G shared by the ranks, 1280M
# each on 2 ranks. Measured at 10^8 on 2 ranks: 1280M runs as fast as 1536M
# or 2G (windows of 2-3 million events a rank suit the caches; 1G cuts them
# into twice as many parts and is slower), with a lower peak.
memory_per_rank() {
    if [ "$MEMORY" != auto ]; then echo "$MEMORY"
    elif [ "$1" -ge 100000000 ]; then echo "$((2560 / ${2:-1}))M"
    else echo 512M
    fi
}

source "$ROOT/jobs/lib/mpi-env.sh"
say() { echo "bench: $*" >&2; }

# ---- build and tools ----
if [ "$DO_BUILD" = 1 ]; then
    bash "$ROOT/jobs/lib/setup.sh" "$BUILD"
fi
CLICKSEG=$BUILD/clickseg FLOOR=$BUILD/bench_floor H5CSV=$BUILD/bench_h5csv
for b in "$CLICKSEG" "$FLOOR" "$H5CSV"; do
    [ -x "$b" ] || { echo "bench.sh: $b is missing (build first, or drop --no-build)" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "bench.sh: /usr/bin/time is missing (apt-get install time)" >&2; exit 1; }

HAVE_IMPORT=0
if [ "$DO_IMPORT" = 1 ] && "$CLICKSEG" import --help >/dev/null 2>&1; then
    HAVE_IMPORT=1
fi

NODE_MODULES=
if [ "$PEER" = duckdb ]; then
    command -v node >/dev/null && command -v npm >/dev/null || {
        echo "bench.sh: the DuckDB peer needs Node.js and npm (apt-get install nodejs npm), or use --peer none" >&2
        exit 1; }
    # @duckdb/node-api (prebuilt binary inside) from the npm registry, under
    # the build tree; reinstalled when package.json changes.
    DDIR=$BUILD/bench-duckdb
    mkdir -p "$DDIR"
    if ! cmp -s "$HERE/duckdb/package.json" "$DDIR/package.json" ||
       [ ! -d "$DDIR/node_modules/@duckdb/node-api" ]; then
        say "installing @duckdb/node-api into $DDIR"
        cp "$HERE/duckdb/package.json" "$DDIR/package.json"
        (cd "$DDIR" && npm install --no-package-lock --no-audit --no-fund --loglevel=error >&2)
    fi
    NODE_MODULES=$DDIR/node_modules
fi

# ---- data (cached by size, seed, days and files) ----
mkdir -p "$DATA"
rm -rf "$OUT"
mkdir -p "$OUT"
RESULTS=$OUT/results.tsv
printf 'events\ttool\tranks\tround\tstatus\twall_s\ttime_maxrss_kib\tdetail\n' > "$RESULTS"
FAILED=0

# gen_cmd N DIR: the command that generates the benchmark's archive of N events.
gen_cmd() {
    echo mpirun -n "$GEN_RANKS" "$CLICKSEG" generate -o "$2" -n "$1" -d "$DAYS" -f "$FILES" \
        --seed "$SEED" --no-profiles
}

# archive N [timed]: sets ARCH to the archive of N events, generating it when
# not cached. With "timed", that generation is the size's measured generate
# (GEN_TIMED=1), so a cold cache is not generated twice.
archive() {
    local n=$1
    ARCH=$DATA/ev$n-s$SEED-d$DAYS-f$FILES GEN_TIMED=0
    local stamp="events=$n seed=$SEED days=$DAYS files=$FILES"
    [ "$(cat "$ARCH/.complete" 2>/dev/null)" = "$stamp" ] && return 0
    say "generating $n events into $ARCH"
    rm -rf "$ARCH"
    if [ "${2:-}" = timed ]; then
        # shellcheck disable=SC2046  # gen_cmd's words are the command
        measure "$n" generate "$GEN_RANKS" 1 "$OUT/ev$n/generate-r$GEN_RANKS-1.txt" $(gen_cmd "$n" "$ARCH")
        GEN_TIMED=1
    else
        # shellcheck disable=SC2046
        $(gen_cmd "$n" "$ARCH") >&2 || { say "generate of $n events failed"; FAILED=1; return 1; }
    fi
    [ -d "$ARCH" ] || return 1
    echo "$stamp" > "$ARCH/.complete"
}

# timed_generate N: when the archive was cached, one measured generate of the
# same N events into a scratch directory (deleted after), which must hold the
# same data as the cached archive (the floor reader's column sums), so the
# figure is for a complete, identical archive. Done before the size's warm-up
# round, which re-reads the archive into the page cache.
timed_generate() {
    local n=$1 scratch=$OUT/ev$1/generate-scratch
    [ "$GEN_TIMED" = 1 ] && return 0
    # shellcheck disable=SC2046
    measure "$n" generate "$GEN_RANKS" 1 "$OUT/ev$n/generate-r$GEN_RANKS-1.txt" $(gen_cmd "$n" "$scratch")
    if [ -d "$scratch" ]; then
        local a b
        local all=ts,user_id,event_type,product_id,category_id,brand_id,price
        a=$(mpirun -n 1 "$FLOOR" --check --columns "$all" "$ARCH" | grep 'check ')
        b=$(mpirun -n 1 "$FLOOR" --check --columns "$all" "$scratch" | grep 'check ')
        if [ -z "$a" ] || [ "$a" != "$b" ]; then
            say "the timed generate of $n events differs from the cached archive: $b vs $a"
            FAILED=1
        fi
    fi
    rm -rf "$scratch"
}

# csv N DIR / parquet N CSV: the peers' copies, cached beside the archive.
csv_copy() {
    local csv=$2.csv
    if [ ! -s "$csv" ] || [ "$csv" -ot "$2/.complete" ]; then
        say "exporting $2 to CSV"
        "$H5CSV" -o "$csv" "$2" >&2
    fi
    echo "$csv"
}
parquet_copy() {
    local pq=${1%.csv}.parquet
    if [ ! -s "$pq" ] || [ "$pq" -ot "$1" ]; then
        say "converting $1 to Parquet"
        NODE_PATH=$NODE_MODULES node "$HERE/duckdb/peer.js" convert "$1" "$pq" --threads 2 >/dev/null
    fi
    echo "$pq"
}

# measure N TOOL RANKS ROUND DETAIL cmd...: runs cmd under /usr/bin/time with
# stdout to DETAIL (stderr to DETAIL.err) and appends one line to RESULTS.
# Reads the files under each path into the page cache (untimed): every
# measure is of a warm cache, and this VM's kernel pages out what has not
# been touched for a minute (DAMON's proactive reclaim, kdamond: the
# "pageout" scheme in /sys/kernel/mm/damon/admin), which a round's DuckDB
# and imports take longer than; without it the floor and the runs read
# part of the archive from disk, more in some rounds than others.
warm() {
    local p
    for p in "$@"; do
        find "$p" -type f -exec cat {} + > /dev/null 2>&1 || true
    done
}

# The page cache dropped (--cold): the next command reads the archive
# from disk, as a first pass over years of logs does.
cold() {
    sync
    echo 3 > /proc/sys/vm/drop_caches
}

measure() {
    local n=$1 tool=$2 ranks=$3 round=$4 detail=$5; shift 5
    local tf=$detail.time status=ok
    # The previous command's output (an import writes gigabytes, every run
    # half a GB of customers.h5) goes to disk first: its writeback would
    # otherwise take CPU and I/O from whichever command comes next (on 2
    # cores, a kworker flushing pages is a third process). Not timed.
    sync
    # A deadline (BENCH_TIMEOUT seconds, default 3600) so a hang fails the round.
    if ! /usr/bin/time -f '%e %M' -o "$tf" timeout --kill-after=10 "${BENCH_TIMEOUT:-3600}" \
            "$@" > "$detail" 2> "$detail.err"; then
        status=failed
        FAILED=1
        say "$tool (ranks $ranks, round $round) FAILED: $*"
        tail -n 5 "$detail.err" | sed 's/^/    /' >&2
    fi
    local wall maxrss
    read -r wall maxrss < <(tail -n 1 "$tf" | grep -E '^[0-9.]+ [0-9]+$' || echo "0 0")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$tool" "$ranks" "$round" "$status" \
        "$wall" "$maxrss" "$detail" >> "$RESULTS"
    say "$(printf '%-6s ranks %s round %s: %6.2f s wall%s' "$tool" "$ranks" "$round" "$wall" \
        "$([ $status = ok ] || echo ' (failed)')")"
}

say "$(date -u +%FT%TZ) on $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); sizes ${SIZES[*]}, $REPS reps, memory_per_rank $MEMORY, weak $WEAK_N per rank"
[ "$PEER" = duckdb ] || say "no peer: DuckDB is not run and counts are not compared"
if [ "$DO_IMPORT" = 1 ] && [ "$HAVE_IMPORT" = 0 ]; then
    say "clickseg has no import command yet: the import rows are skipped"
fi

for n in "${SIZES[@]}"; do
    w=$OUT/ev$n
    mkdir -p "$w"
    archive "$n" timed || continue
    arch=$ARCH
    timed_generate "$n"
    csv= pq=
    if [ "$PEER" = duckdb ] || [ "$HAVE_IMPORT" = 1 ]; then csv=$(csv_copy "$n" "$arch"); fi
    if [ "$PEER" = duckdb ]; then pq=$(parquet_copy "$csv"); fi
    for round in $(seq 0 "$REPS"); do
        for r in ${RANKS//,/ }; do
            warm "$arch"
            measure "$n" floor "$r" "$round" "$w/floor-r$r-$round.txt" \
                mpirun -n "$r" "$FLOOR" "$arch"
        done
        for r in ${RANKS//,/ }; do
            # Into an empty directory, as import: replacing the previous
            # round's outputs (half a GB at 10^8) is not part of the job.
            rm -rf "$w/run-r$r"
            warm "$arch"
            # shellcheck disable=SC2086  # RUN_ARGS is split on purpose
            measure "$n" run "$r" "$round" "$w/run-r$r-$round.txt" \
                mpirun -n "$r" "$CLICKSEG" run -q -i "$arch" -o "$w/run-r$r" --force \
                --set memory_per_rank="$(memory_per_rank "$n" "$r")" $RUN_ARGS
            cp "$w/run-r$r/report.json" "$w/run-r$r-$round.json" 2>/dev/null || true
        done
        if [ "$PEER" = duckdb ]; then
            warm "$pq"
            measure "$n" duckdb "$THREADS" "$round" "$w/duckdb-$round.json" \
                env NODE_PATH="$NODE_MODULES" node "$HERE/duckdb/peer.js" job "$pq" \
                --threads "$THREADS"
        fi
    done
    # Cold rounds after the warm ones (each drops the cache the warm rounds
    # rely on): floor and run, each after the page cache is dropped.
    for round in $(seq 0 "$REPS"); do
        [ "$COLD" = 1 ] || break
        for r in ${RANKS//,/ }; do
            cold
            measure "$n" floor-cold "$r" "$round" "$w/floor-cold-r$r-$round.txt" \
                mpirun -n "$r" "$FLOOR" "$arch"
            rm -rf "$w/run-cold-r$r"
            cold
            # shellcheck disable=SC2086  # RUN_ARGS is split on purpose
            measure "$n" run-cold "$r" "$round" "$w/run-cold-r$r-$round.txt" \
                mpirun -n "$r" "$CLICKSEG" run -q -i "$arch" -o "$w/run-cold-r$r" --force \
                --set memory_per_rank="$(memory_per_rank "$n" "$r")" $RUN_ARGS
            cp "$w/run-cold-r$r/report.json" "$w/run-cold-r$r-$round.json" 2>/dev/null || true
        done
    done
    # The imports in rounds of their own, after the others: an import reads
    # the CSV and writes an archive as large as the one measured above,
    # which would push that archive out of the page cache between the
    # floor's and the run's rounds (they are measured warm). Each imported
    # archive is removed once measured, for the same reason.
    for round in $(seq 0 "$REPS"); do
        [ "$HAVE_IMPORT" = 1 ] || break
        for r in ${RANKS//,/ }; do
            rm -rf "$w/import-r$r"
            warm "$csv"
            measure "$n" import "$r" "$round" "$w/import-r$r-$round.txt" \
                mpirun -n "$r" "$CLICKSEG" import --format csv -c "$HERE/import-csv.cfg" \
                --output "$w/import-r$r" "$csv"
            cp "$w/import-r$r/import.json" "$w/import-r$r-$round.json" 2>/dev/null || true
            # Once per rank count: the imported archive holds every row (the
            # floor reader counts them) and clickseg run on it finds the same
            # sessions and segments (summarize.py checks "run-imported").
            if [ "$round" = 0 ] && [ -d "$w/import-r$r" ]; then
                got=$(mpirun -n 1 "$FLOOR" --columns ts "$w/import-r$r" |
                      sed -n 's/.* rows=\([0-9]*\) .*/\1/p')
                if [ "$got" != "$n" ]; then
                    say "import (ranks $r) wrote ${got:-no} rows, expected $n"
                    FAILED=1
                fi
                measure "$n" run-imported "$r" 0 "$w/run-imported-r$r-0.txt" \
                    mpirun -n "$r" "$CLICKSEG" run -q -i "$w/import-r$r" \
                    -o "$w/run-imported-r$r" --force --set memory_per_rank="$(memory_per_rank "$n" "$r")"
                cp "$w/run-imported-r$r/report.json" "$w/run-imported-r$r-0.json" \
                    2>/dev/null || true
                rm -rf "$w/run-imported-r$r"
            fi
            rm -rf "$w/import-r$r"
        done
    done
done

# Weak scaling: WEAK_N events per rank, so the archive of r ranks holds
# r * WEAK_N events; alternating rank counts in each round, as above.
if [ "$WEAK_N" -gt 0 ]; then
    declare -A WARCH
    for r in ${WEAK_RANKS//,/ }; do
        n=$((WEAK_N * r))
        archive "$n" || continue
        WARCH[$r]=$ARCH
    done
    w=$OUT/weak
    mkdir -p "$w"
    for round in $(seq 0 "$REPS"); do
        for r in ${WEAK_RANKS//,/ }; do
            [ -n "${WARCH[$r]:-}" ] || continue
            n=$((WEAK_N * r))
            rm -rf "$w/run-r$r"
            warm "${WARCH[$r]}"
            # shellcheck disable=SC2086
            measure "$n" weak "$r" "$round" "$w/run-r$r-$round.txt" \
                mpirun -n "$r" "$CLICKSEG" run -q -i "${WARCH[$r]}" -o "$w/run-r$r" --force \
                --set memory_per_rank="$(memory_per_rank "$n" "$r")" $RUN_ARGS
            cp "$w/run-r$r/report.json" "$w/run-r$r-$round.json" 2>/dev/null || true
        done
    done
fi

rc=0
$PY "$HERE/summarize.py" "$RESULTS" --json "$OUT/summary.json" --markdown "$OUT/table.md" \
    --weak-per-rank "$WEAK_N" || rc=$?
[ "$FAILED" = 0 ] || { say "some measured commands failed (see above and $OUT)"; rc=1; }
exit "$rc"
