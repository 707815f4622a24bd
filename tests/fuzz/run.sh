#!/bin/bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and fuzzes each for
# SECONDS (default 15), starting from the seed corpus: the shipped and the
# corpus configs for fuzz_config, tests/fuzz/conditions.txt (one a line) for
# fuzz_rules_cond, the public samples' first lines and handmade files
# (make_import_seeds.py) for fuzz_import, with a dictionary each. A crash, sanitizer report, leak,
# timeout (10 s per input) or a broken round trip fails the script; the
# input that did it is saved in BUILD/fuzz/artifacts/. The corpus grown by
# earlier runs is kept in BUILD/fuzz/corpus-*/ and reused.
#   bash tests/fuzz/run.sh [SECONDS] [BUILD_DIR] [TARGET...]   (docs/testing.md)
# TARGETs: fuzz_config fuzz_rules_cond fuzz_import (default: all three).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SECONDS_EACH=${1:-15}
BUILD=${2:-$ROOT/build-fuzz}
FUZZ=$ROOT/tests/fuzz
shift $(( $# < 2 ? $# : 2 ))
TARGETS=("$@")
[ "${#TARGETS[@]}" -gt 0 ] || TARGETS=(fuzz_config fuzz_rules_cond fuzz_import)
for t in "${TARGETS[@]}"; do
    case $t in fuzz_config|fuzz_rules_cond|fuzz_import) ;;
    *) echo "fuzz: unknown target '$t' (fuzz_config, fuzz_rules_cond, fuzz_import)" >&2; exit 2 ;;
    esac
done
SHARED_DATA=${SHARED_DATA:-$ROOT/../shared/data}
command -v clang > /dev/null || { echo "fuzz: clang is not installed (apt-get install clang)" >&2; exit 1; }

cmake -S "$ROOT" -B "$BUILD" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCLICKSEG_WERROR=ON > /dev/null
cmake --build "$BUILD" -j"$(nproc)" --target "${TARGETS[@]}" 2>&1 \
    | grep -E "warning:|error:" && { echo "fuzz: build has warnings or errors" >&2; exit 1; }
cmake --build "$BUILD" -j"$(nproc)" --target "${TARGETS[@]}" > /dev/null

W=$BUILD/fuzz
mkdir -p "$W/seeds-config" "$W/seeds-cond" "$W/corpus-config" "$W/corpus-cond" "$W/artifacts" \
    "$W/corpus-import"
rm -rf "$W/seeds-import"
/usr/bin/python3 "$FUZZ/make_import_seeds.py" "$W/seeds-import" "$SHARED_DATA" > /dev/null
cp "$ROOT"/configs/*.cfg "$ROOT"/tests/corpus/configs/*.cfg "$W/seeds-config/"
i=0
while IFS= read -r line; do
    printf '%s' "$line" > "$W/seeds-cond/c$i"
    i=$((i + 1))
done < "$FUZZ/conditions.txt"

# fuzz NAME DICT CORPUS SEEDS: one timed run; prints runs, exec/s, coverage.
fuzz() {
    local name=$1 dict=$2 corpus=$3 seeds=$4 log=$W/$1.log rc=0
    local max_len=4096
    [ "$name" = fuzz_import ] && max_len=16384   # room for a few lines of every format
    # Leak checking stays on (these targets start no MPI), except for
    # libconfig's own known leak (lsan.supp says which).
    LSAN_OPTIONS=suppressions=$FUZZ/lsan.supp:print_suppressions=0 "$BUILD/tests/fuzz/$name" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
        -max_len="$max_len" -dict="$dict" -print_final_stats=1 \
        -artifact_prefix="$W/artifacts/$name-" "$corpus" "$seeds" > "$log" 2>&1 || rc=$?
    local runs eps cov
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1 || true)
    if [ "$rc" -ne 0 ]; then
        tail -40 "$log" >&2
        echo "fuzz: $name FAILED (exit $rc); input saved in $W/artifacts/" >&2
        return 1
    fi
    echo "fuzz: $name ok: ${runs:-?} inputs in ${SECONDS_EACH} s (${eps:-?} exec/s), $cov, corpus $(ls "$corpus" | wc -l) files"
}

for t in "${TARGETS[@]}"; do
    case $t in
    fuzz_config) fuzz fuzz_config "$FUZZ/config.dict" "$W/corpus-config" "$W/seeds-config" ;;
    fuzz_rules_cond) fuzz fuzz_rules_cond "$FUZZ/cond.dict" "$W/corpus-cond" "$W/seeds-cond" ;;
    fuzz_import) fuzz fuzz_import "$FUZZ/import.dict" "$W/corpus-import" "$W/seeds-import" ;;
    esac
done
