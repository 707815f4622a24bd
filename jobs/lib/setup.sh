#!/bin/bash
# Installs what clickseg needs on Debian 12 (as root; skips what is present)
# and builds it. Sourced or run by jobs/demo.sh and tests/run-all.sh.
#   jobs/lib/setup.sh [BUILD_DIR] [extra cmake args...]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${1:-$ROOT/build}
shift || true

# Not on a fresh Debian 12: `time` (GNU /usr/bin/time, the benchmark's peak
# memory); libclang-rt-dev (clang's ASan and libFuzzer runtimes for the fuzz
# targets: only a Recommends of clang, which --no-install-recommends skips).
PKGS=(build-essential cmake pkg-config openmpi-bin libopenmpi-dev libhdf5-openmpi-dev
      hdf5-tools libconfig-dev libcmocka-dev zlib1g-dev python3 python3-h5py python3-numpy
      python3-pandas clang libclang-rt-dev valgrind tzdata time)
missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}" >&2
    if [ "$(id -u)" -ne 0 ]; then
        echo "setup: missing packages (${missing[*]}); run as root or install them" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$BUILD" -j"$(nproc)" 2>&1 | grep -E "warning:|error:" && { echo "setup: build has warnings or errors" >&2; exit 1; }
cmake --build "$BUILD" -j"$(nproc)" >/dev/null
echo "setup: built $BUILD/clickseg" >&2
