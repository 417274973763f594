#!/usr/bin/env bash
# The Redis anchor of the hot-SKU benchmark (issue 4, ../shared/research/perf-anchors.md row 2d):
# a Lua check-and-decrement (GET; if stock >= n then DECRBY n, else -1) called by EVALSHA from
# redis-benchmark with 50 clients, no pipelining, against a redis-server of our own on 127.0.0.1
# with no persistence (no RDB, no AOF). Runs it --runs times and prints the median ops/s with the
# min–max and the median p50/p99 as a Markdown table (--raw: only one line "ops p50_ms p99_ms";
# --raw-to FILE: the table, and that line into FILE).
# Checks afterwards that every call really decremented the stock (a NOSCRIPT error would also be
# counted as a request by redis-benchmark). Stops its redis-server on exit.
# Needs redis-server and redis-tools (scripts/setup.sh --bench).
# Usage: bench/redis_anchor.sh [--requests 300000] [--clients 50] [--runs 3] [--raw | --raw-to FILE]
set -euo pipefail
cd "$(dirname "$0")/.."
requests=300000 clients=50 runs=3 raw=0 raw_to=
while (($#)); do
  case "$1" in
    --requests) requests="$2"; shift 2 ;;
    --clients) clients="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --raw) raw=1; shift ;;
    --raw-to) raw_to="$2"; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
if ((requests < 1 || requests > 5000000 || runs < 1 || runs > 9 || clients < 1 || clients > 1000)); then
  echo "redis_anchor: --requests in 1..5,000,000, --runs in 1..9, --clients in 1..1000" >&2
  exit 2
fi
command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null || scripts/setup.sh --bench

work=$(mktemp -d /tmp/souk-redis-anchor.XXXXXX)
redis_pid=
cleanup() {
  if [[ -n "$redis_pid" ]]; then
    kill "$redis_pid" 2>/dev/null || true
    wait "$redis_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no --dir "$work" \
  --logfile "$work/redis.log" --daemonize no --protected-mode yes & redis_pid=$!
cli=(redis-cli -h 127.0.0.1 -p "$port")
for _ in $(seq 1 100); do
  [[ "$("${cli[@]}" ping 2>/dev/null)" == PONG ]] && break
  sleep 0.1
done
[[ "$("${cli[@]}" ping 2>/dev/null)" == PONG ]] || { echo "redis-server did not start" >&2; cat "$work/redis.log" >&2; exit 1; }

initial=1000000000000
"${cli[@]}" SET stock:1 "$initial" >/dev/null
lua='local q = tonumber(redis.call("GET", KEYS[1]) or "0")
local n = tonumber(ARGV[1])
if q >= n then return redis.call("DECRBY", KEYS[1], n) end
return -1'
sha=$("${cli[@]}" SCRIPT LOAD "$lua")
[[ "$sha" =~ ^[0-9a-f]{40}$ ]] || { echo "SCRIPT LOAD failed: $sha" >&2; exit 1; }

# redis-benchmark takes the command to send after its options; --csv prints
# "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
rows=()
for _ in $(seq 1 "$runs"); do
  line=$(redis-benchmark -h 127.0.0.1 -p "$port" -c "$clients" -n "$requests" --csv \
           EVALSHA "$sha" 1 stock:1 1 | tail -n 1)
  rows+=("$(echo "$line" | tr -d '"' | awk -F, '{print $2, $5, $7}')")
done
left=$("${cli[@]}" GET stock:1)
expected=$((initial - requests * runs))
if [[ "$left" != "$expected" ]]; then
  echo "redis_anchor: stock:1 is $left, expected $expected: the script did not run on every call" >&2
  exit 1
fi

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ops=$(printf '%s\n' "${rows[@]}" | awk '{print $1}' | median)
p50=$(printf '%s\n' "${rows[@]}" | awk '{print $2}' | median)
p99=$(printf '%s\n' "${rows[@]}" | awk '{print $3}' | median)
min=$(printf '%s\n' "${rows[@]}" | awk '{print $1}' | sort -g | head -n 1)
max=$(printf '%s\n' "${rows[@]}" | awk '{print $1}' | sort -g | tail -n 1)
[[ -z "$raw_to" ]] || echo "$ops $p50 $p99" > "$raw_to"
if ((raw)); then
  echo "$ops $p50 $p99"
  exit 0
fi
echo "| Figure | Median | Min–max | p50 / p99 (median) | Runs |"
echo "|---|---|---|---|---|"
printf '| Redis %s EVALSHA check-and-decrement, %d clients, no pipelining, no persistence | **%.0f ops/s** | %.0f–%.0f | %s / %s ms | %d × %d requests |\n' \
  "$(redis-server --version | awk '{print $3}' | cut -d= -f2)" "$clients" "$ops" "$min" "$max" "$p50" "$p99" "$runs" "$requests"
