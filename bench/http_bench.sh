#!/usr/bin/env bash
# HTTP edge throughput next to nginx, side by side in one run, with the same wrk settings:
#   nginx (one worker) returning a fixed 100-byte body   — the anchor
#   soukd GET /v1/products/{id} on a demo catalog:
#     cold  — first reads only: every request asks for a page not read before (SQLite read and
#             attribute parse per request); a short run, its own row, so that cost stays visible
#     then a WARM-UP pass, not measured: every id of the catalog is read at least once, so that
#             the page cache (catalog.page_cache_entries, default 100,000) holds every page
#     spread — ids spread over the whole catalog, after the warm-up (pages served from memory)
#     hot    — a hot set of 2,000 products
#   soukd GET /v1/products?q=... search with facets (latency)
#   soukd GET /v1/suggest?q=... prefix completion (latency)
# Prints a Markdown table. Needs the release build and wrk + nginx (scripts/setup.sh --bench).
# Usage: bench/http_bench.sh [--products N] [--duration 10s] [--connections 64]
#                            [--cold-duration 3s] [--warmup 20s]
set -euo pipefail
cd "$(dirname "$0")/.."
products=100000 duration=10s connections=64 cold_duration=3s warmup=20s threads=2
while (($#)); do
  case "$1" in
    --products) products="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --cold-duration) cold_duration="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
soukd=build/release/runtime/soukd
[[ -x "$soukd" ]] || { echo "build first: cmake --preset release && cmake --build --preset release" >&2; exit 2; }
command -v wrk >/dev/null && command -v nginx >/dev/null || scripts/setup.sh --bench

bench_name=http-bench
. bench/common.sh
nginx_port=$(free_port) souk_port=$(free_port) cluster_port=$(free_port)
start_nginx "$nginx_port"

"$soukd" --data "$work/data" --http "127.0.0.1:$souk_port" --cluster "127.0.0.1:$cluster_port" \
  --demo-catalog "$products" --log-level warn 2> "$work/soukd.log" & pids+=($!)
souk_pid=$!
wait_ready "$souk_port" "$work/soukd.log" "$souk_pid"

# wrk scripts: product ids spread over the catalog; searches cycling through a word list.
# First reads (cold) and the warm-up: wrk thread t asks for k = t, t+T, t+2T, ... (T threads) and
# id = k*7919 mod N + 1, a permutation of the ids (7919 is prime), so no id is asked twice until a
# thread has walked its whole share. The warm-up also counts the distinct ids answered 200.
for kind in cold warm; do
  cat > "$work/$kind.lua" <<LUA
local threads = {}
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
local n = 0
request = function()
  local k = n * $threads + tid
  if k >= $products then n = 0; k = tid end
  n = n + 1
  return wrk.format("GET", "/v1/products/" .. ((k * 7919) % $products + 1))
end
LUA
done
cat >> "$work/warm.lua" <<'LUA'
distinct = 0
local seen = {}
response = function(status, headers, body)
  if status ~= 200 then return end
  local id = string.match(body, '^{"id":(%d+)')
  if id and not seen[id] then seen[id] = true; distinct = distinct + 1 end
end
function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("distinct") end
  io.write(string.format("warm-up distinct ids: %d\n", total))
end
LUA
cat > "$work/products.lua" <<LUA
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", "/v1/products/" .. ((n * 7919) % $products + 1))
end
LUA
cat > "$work/hot.lua" <<LUA
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", "/v1/products/" .. ((n * 7919) % 2000 + 1))
end
LUA
cat > "$work/search.lua" <<'LUA'
local words = {"krossovki", "smartfon", "plate", "kurtka zimnyaya", "naushniki", "krem", "krossovki begovye", "nike"}
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", "/v1/products?q=" .. string.gsub(words[n % #words + 1], " ", "+"))
end
LUA
cat > "$work/suggest.lua" <<'LUA'
local prefixes = {"kr", "kros", "smar", "pl", "kurt", "nau", "kre", "ni", "sumk", "fut"}
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", "/v1/suggest?q=" .. prefixes[n % #prefixes + 1])
end
LUA

run() { # url [script] [connections] [duration] -> "req/s p50 p99 non-2xx requests"
  local out c="${3:-$connections}" d="${4:-$duration}"
  if [[ -n "${2:-}" ]]; then out=$(wrk -t"$threads" -c"$c" -d"$d" --latency -s "$2" "$1")
  else out=$(wrk -t"$threads" -c"$c" -d"$d" --latency "$1"); fi
  local rps p50 p99 errors requests
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  errors=$(awk '/Non-2xx/ {print $5}' <<<"$out")
  requests=$(awk '/requests in/ {print $1}' <<<"$out")
  echo "$rps $p50 $p99 ${errors:-0} ${requests:-0}"
}
ratio() { awk -v a="$1" -v b="$n_rps" 'BEGIN{printf "%.2f", a/b}'; }

souk="http://127.0.0.1:$souk_port/"
echo "| target | requests/s | p50 | p99 | non-2xx | vs nginx |"
echo "|---|---|---|---|---|---|"
read -r n_rps n_p50 n_p99 n_err _ < <(run "http://127.0.0.1:$nginx_port/")
echo "| nginx, 1 worker, fixed 100-byte body (anchor) | $n_rps | $n_p50 | $n_p99 | $n_err | 1.00 |"
# Cold: first reads only, before anything has read a product page. Short, so that it stays
# below one request per product; if it does not, the row says how many requests were repeats.
read -r c_rps c_p50 c_p99 c_err c_n < <(run "$souk" "$work/cold.lua" "$connections" "$cold_duration")
cold_note="first reads only, $c_n requests in $cold_duration"
if ((c_n > products)); then
  cold_note="$c_n requests in $cold_duration, $((c_n - products)) of them repeats"
fi
echo "| soukd GET /v1/products/{id}, cold: each page read for the first time ($cold_note) | $c_rps | $c_p50 | $c_p99 | $c_err | $(ratio "$c_rps") |"
# Warm-up, not measured: every id read at least once (bounded by --warmup), so that the spread
# row below measures pages served from the page cache; the cold row above is their first read.
warm_out=$(wrk -t"$threads" -c"$connections" -d"$warmup" -s "$work/warm.lua" "$souk")
warm_ids=$(awk '/warm-up distinct ids/ {print $4}' <<<"$warm_out")
warm_note="after a warm-up that read all $products ids"
if [[ "${warm_ids:-0}" -lt "$products" ]]; then
  warm_note="after a warm-up that read only ${warm_ids:-0} of $products ids in $warmup (the rest are first reads)"
  echo "warning: the warm-up read only ${warm_ids:-0} of $products ids; raise --warmup" >&2
fi
read -r p_rps p_p50 p_p99 p_err _ < <(run "$souk" "$work/products.lua")
echo "| soukd GET /v1/products/{id}, ids spread over all $products, $warm_note | $p_rps | $p_p50 | $p_p99 | $p_err | $(ratio "$p_rps") |"
read -r h_rps h_p50 h_p99 h_err _ < <(run "$souk" "$work/hot.lua")
echo "| soukd GET /v1/products/{id}, 2,000 hot products | $h_rps | $h_p50 | $h_p99 | $h_err | $(ratio "$h_rps") |"
# Search is CPU-bound (bm25 over every match, facets over the filtered set): its latency is
# measured with 2 connections, so that the figure is the query's and not a queue's.
read -r s_rps s_p50 s_p99 s_err _ < <(run "$souk" "$work/search.lua" 2)
echo "| soukd GET /v1/products?q= search with facets, 2 connections | $s_rps | $s_p50 | $s_p99 | $s_err | |"
read -r g_rps g_p50 g_p99 g_err _ < <(run "$souk" "$work/suggest.lua" 2)
echo "| soukd GET /v1/suggest?q= prefix completion, 2 connections | $g_rps | $g_p50 | $g_p99 | $g_err | |"
rss_mib=$(awk '/VmRSS/ {printf "%d", $2 / 1024}' "/proc/$souk_pid/status" 2>/dev/null || true)
echo
echo "wrk -t$threads -c$connections -d$duration --latency (cold: -d$cold_duration; search and suggest: -c2); warm-up: wrk -d$warmup, not measured."
echo "soukd and nginx on 127.0.0.1, same machine as wrk; soukd resident memory at the end: ${rss_mib:-?} MiB."
