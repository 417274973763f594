#!/usr/bin/env bash
# Issue 4's benchmarks next to their anchor, one after the other in one run: first the Redis
# EVALSHA check-and-decrement anchor (bench/redis_anchor.sh), then souk_saga_bench, which gets the
# anchor's figures and prints them beside its own (hot-SKU reservations, checkouts through the
# saga, memory per idle entity). Before each part it waits (at most 60 s) for the machine to be
# mostly idle, and prints the idle share it saw, since both parts share the same 2 cores with
# whatever else runs. Needs the release build of souk_saga_bench and redis (setup.sh --bench).
# Usage: bench/saga_vs_redis.sh [--build DIR] [--redis-requests N] [saga_bench flags ...]
#   --build  the build folder holding bench/souk_saga_bench (default build/release)
set -euo pipefail
cd "$(dirname "$0")/.."
build=build/release redis_requests=300000
args=()
while (($#)); do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --redis-requests) redis_requests="$2"; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
bench="$build/bench/souk_saga_bench"
[[ -x "$bench" ]] || { echo "build first: cmake --preset release && cmake --build --preset release -j2 --target souk_saga_bench" >&2; exit 2; }

# Percentage of both cores idle over one second (from /proc/stat).
idle_share() {
  read -r _ u n s i w x y z _ < /proc/stat
  local t0=$((u + n + s + i + w + x + y + z)) i0=$((i + w))
  sleep 1
  read -r _ u n s i w x y z _ < /proc/stat
  local t1=$((u + n + s + i + w + x + y + z)) i1=$((i + w))
  echo $(((i1 - i0) * 100 / (t1 - t0 > 0 ? t1 - t0 : 1)))
}
wait_quiet() {
  local idle
  for _ in $(seq 1 60); do
    idle=$(idle_share)
    ((idle >= 70)) && break
  done
  echo "$idle"
}

echo "## Redis anchor and souk saga benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores"
echo
idle=$(wait_quiet)
echo "Redis anchor (machine ${idle}% idle before it):"
echo
raw=$(mktemp /tmp/souk-anchor.XXXXXX)
trap 'rm -f "$raw"' EXIT
bench/redis_anchor.sh --requests "$redis_requests" --raw-to "$raw"
read -r ops p50 p99 < "$raw"
echo
idle=$(wait_quiet)
echo "souk_saga_bench (machine ${idle}% idle before it):"
echo
"$bench" --anchor-ops "$ops" --anchor-p50 "$p50" --anchor-p99 "$p99" "${args[@]}"
