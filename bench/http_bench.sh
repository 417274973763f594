#!/usr/bin/env bash
# HTTP edge throughput next to nginx, side by side in one run, with the same wrk settings:
#   nginx (one worker) returning a fixed 100-byte body   — the anchor
#   soukd GET /v1/products/{id} on a demo catalog: ids spread over the whole catalog (most
#     pages read for the first time) and a hot set of 2,000 products (pages served from memory)
#   soukd GET /v1/products?q=... search with facets (latency)
# Prints a Markdown table. Needs the release build and wrk + nginx (scripts/setup.sh --bench).
# Usage: bench/http_bench.sh [--products N] [--duration 10s] [--connections 64]
set -euo pipefail
cd "$(dirname "$0")/.."
products=100000 duration=10s connections=64
while (($#)); do
  case "$1" in
    --products) products="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
soukd=build/release/runtime/soukd
[[ -x "$soukd" ]] || { echo "build first: cmake --preset release && cmake --build --preset release" >&2; exit 2; }
command -v wrk >/dev/null && command -v nginx >/dev/null || scripts/setup.sh --bench

work=$(mktemp -d /tmp/souk-http-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
nginx_port=$(free_port) souk_port=$(free_port) cluster_port=$(free_port)

# nginx: one worker, keep-alive, a fixed 100-byte JSON body.
body=$(printf '{"id":1,"title":"Krossovki begovye","price":{"amount":499900,"currency":"RUB"},"in_stock":true,"x":"%s"}' "")
body=${body:0:99}"}"
mkdir -p "$work/nginx"
cat > "$work/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
error_log $work/nginx/error.log;
pid $work/nginx/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $work/nginx; proxy_temp_path $work/nginx; fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;
  server {
    listen 127.0.0.1:$nginx_port;
    location / { default_type application/json; return 200 '$body'; }
  }
}
CONF
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" & pids+=($!)

"$soukd" --data "$work/data" --http "127.0.0.1:$souk_port" --cluster "127.0.0.1:$cluster_port" \
  --demo-catalog "$products" --log-level warn 2> "$work/soukd.log" & pids+=($!)
for _ in $(seq 1 600); do
  curl -sf "127.0.0.1:$souk_port/readyz" >/dev/null 2>&1 && break
  sleep 0.5
done
curl -sf "127.0.0.1:$souk_port/readyz" >/dev/null || { echo "soukd did not become ready" >&2; cat "$work/soukd.log" >&2; exit 1; }

# wrk scripts: product ids spread over the catalog; searches cycling through a word list.
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

run() { # url [script] [connections] -> "req/s p50 p99 non-2xx"
  local out c="${3:-$connections}"
  if [[ -n "${2:-}" ]]; then out=$(wrk -t2 -c"$c" -d"$duration" --latency -s "$2" "$1")
  else out=$(wrk -t2 -c"$c" -d"$duration" --latency "$1"); fi
  local rps p50 p99 errors
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  errors=$(awk '/Non-2xx/ {print $5}' <<<"$out")
  echo "$rps $p50 $p99 ${errors:-0}"
}

echo "| target | requests/s | p50 | p99 | non-2xx | vs nginx |"
echo "|---|---|---|---|---|---|"
read -r n_rps n_p50 n_p99 n_err < <(run "http://127.0.0.1:$nginx_port/")
echo "| nginx, 1 worker, fixed 100-byte body (anchor) | $n_rps | $n_p50 | $n_p99 | $n_err | 1.00 |"
read -r p_rps p_p50 p_p99 p_err < <(run "http://127.0.0.1:$souk_port/" "$work/products.lua")
echo "| soukd GET /v1/products/{id}, ids spread over all $products | $p_rps | $p_p50 | $p_p99 | $p_err | $(awk -v a="$p_rps" -v b="$n_rps" 'BEGIN{printf "%.2f", a/b}') |"
# Search is CPU-bound (bm25 over every match, facets over the filtered set): its latency is
# measured with 2 connections, so that the figure is the query's and not a queue's.
read -r h_rps h_p50 h_p99 h_err < <(run "http://127.0.0.1:$souk_port/" "$work/hot.lua")
echo "| soukd GET /v1/products/{id}, 2,000 hot products | $h_rps | $h_p50 | $h_p99 | $h_err | $(awk -v a="$h_rps" -v b="$n_rps" 'BEGIN{printf "%.2f", a/b}') |"
read -r s_rps s_p50 s_p99 s_err < <(run "http://127.0.0.1:$souk_port/" "$work/search.lua" 2)
echo "| soukd GET /v1/products?q= search with facets, 2 connections | $s_rps | $s_p50 | $s_p99 | $s_err | |"
echo
echo "wrk -t2 -c$connections -d$duration --latency (search: -c2); soukd and nginx on 127.0.0.1, same machine as wrk."
