#!/usr/bin/env bash
# The second command: installs what is missing, then builds and runs the whole test suite twice:
# under AddressSanitizer + UndefinedBehaviorSanitizer (Debug, preset dev) and optimised (preset
# release, which also builds bench/ and examples/). Exits non-zero on any failure.
# Options: SOUK_TEST_JOBS=N (parallel tests, default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
jobs="${SOUK_TEST_JOBS:-2}"

echo "== dev: Debug + ASan + UBSan =="
cmake --preset dev >/dev/null
cmake --build --preset dev
ctest --preset dev -j "$jobs"

echo "== release =="
cmake --preset release >/dev/null
cmake --build --preset release
# The header check compiles the same headers in both builds: once is enough.
ctest --preset release -j "$jobs" -E '^headers_compile_alone$'
