#!/bin/bash
# The whole test suite, as README's second command and .ci/run call it:
# installs what is missing, builds (warnings are errors), runs every CTest
# test (cmocka unit tests; end-to-end tests under 1, 2, 3 and 4 MPI ranks),
# then builds with ASan+UBSan and runs the unit tests and the end-to-end
# tests at 2 ranks again (a test whose `# ranks:` line lacks 2 at its largest
# count: tests/CMakeLists.txt), then fuzzes the config loader, the rule parser and the CSV importer
# for CLICKSEG_FUZZ_SECONDS (default 15) each (tests/fuzz/run.sh). The MPI
# end-to-end run under valgrind is one of the CTest tests (test_valgrind).
#   bash tests/run-all.sh
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/jobs/lib/mpi-env.sh"
# One test more than there are cores: the end-to-end tests wait about a
# quarter of their time (mpirun's start-up, Slurm's daemons); on the 2-core
# VMs -j3 took the release tests from 493 s to 405 s.
JOBS=${CLICKSEG_TEST_JOBS:-$(( $(nproc) + 1 ))}

echo "== build (release, warnings as errors)"
bash "$ROOT/jobs/lib/setup.sh" "$ROOT/build" -DCLICKSEG_WERROR=ON
echo "== tests"
ctest --test-dir "$ROOT/build" --output-on-failure -j "$JOBS"

echo "== build (ASan+UBSan)"
bash "$ROOT/jobs/lib/setup.sh" "$ROOT/build-asan" -DCLICKSEG_WERROR=ON -DCLICKSEG_SANITIZE=ON \
    -DCMAKE_BUILD_TYPE=Debug "-DCLICKSEG_E2E_RANKS=2"
echo "== tests under ASan+UBSan"
# Open MPI's own start-up allocations are reported as leaks by LeakSanitizer;
# leak checking stays on for the unit tests that do not start MPI (all but
# test_comm and test_profiles).
ASAN_OPTIONS=detect_leaks=0 ctest --test-dir "$ROOT/build-asan" --output-on-failure -j "$JOBS" \
    -R '^(e2e\.|unit\.test_(comm|profiles)\.)'
ctest --test-dir "$ROOT/build-asan" --output-on-failure -j "$JOBS" -R '^unit\.' -E '^unit\.test_(comm|profiles)\.'
echo "== fuzzing (libFuzzer, clang): ${CLICKSEG_FUZZ_SECONDS:-15} s per target"
bash "$ROOT/tests/fuzz/run.sh" "${CLICKSEG_FUZZ_SECONDS:-15}" "$ROOT/build-fuzz"
