#!/usr/bin/env bash
# The second command: installs what is missing, then builds and runs the whole test suite twice:
# under AddressSanitizer + UndefinedBehaviorSanitizer (Debug, preset dev) and optimised (preset
# release, which also builds bench/ and examples/), then, when clang++ is there, runs the HTTP
# fuzzer (preset fuzz) for a bounded time. Exits non-zero on any failure.
# Options: SOUK_TEST_JOBS=N (parallel tests, default 2); SOUK_FUZZ_SECONDS=N (fuzzing time,
# default 60; 0 skips the stage).
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

fuzz_seconds="${SOUK_FUZZ_SECONDS:-60}"
if [[ "$fuzz_seconds" != 0 ]] && command -v clang++ >/dev/null; then
  echo "== fuzz: clang + libFuzzer, ${fuzz_seconds} s =="
  cmake --preset fuzz >/dev/null
  cmake --build --preset fuzz
  # New inputs go to a scratch corpus in the build folder; the seeds in the repository stay as
  # they are. A crash or broken invariant stops the run and saves the input as crash-*.
  corpus=build/fuzz/corpus/http_request
  mkdir -p "$corpus"
  (cd build/fuzz && fuzz/souk_fuzz_http -max_total_time="$fuzz_seconds" -timeout=10 \
     -rss_limit_mb=2048 -max_len=16384 -print_final_stats=1 \
     "corpus/http_request" "../../fuzz/corpus/http_request")
elif [[ "$fuzz_seconds" != 0 ]]; then
  echo "== fuzz: skipped (no clang++) =="
fi
