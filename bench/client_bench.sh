#!/usr/bin/env bash
# The client API over real HTTP next to nginx, side by side in one run (issue 5's targets):
#   nginx (one worker) returning a fixed 100-byte body          — the anchor (wrk)
#   soukd GET /v1/cart, 1,000 guests' carts of 2 lines           — wrk, same settings
#   soukd POST /v1/cart/items, 1,000 guests, 50 SKUs             — wrk, same settings
#   soukd POST /v1/checkout, a fresh cart per checkout:
#       at full speed (--connections in flight) and offered at a fixed 2,000/s (latency)
#   the flash sale: 50 units of one SKU, 2,000 buyers checking out at once
# soukd runs with its simulated bank on its own edge (bank.mode = http), as by default.
# Prints a Markdown table. Needs the release build and wrk + nginx (scripts/setup.sh --bench).
# Usage: bench/client_bench.sh [--products N] [--duration 10s] [--connections 64]
#                              [--rate 2000] [--rate-seconds 10]
set -euo pipefail
cd "$(dirname "$0")/.."
products=20000 duration=10s connections=64 threads=2 rate=2000 rate_seconds=10
while (($#)); do
  case "$1" in
    --products) products="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --rate) rate="$2"; shift 2 ;;
    --rate-seconds) rate_seconds="$2"; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
soukd=build/release/runtime/soukd load=build/release/bench/souk_edge_load
[[ -x "$soukd" && -x "$load" ]] || { echo "build first: cmake --preset release && cmake --build --preset release" >&2; exit 2; }
command -v wrk >/dev/null && command -v nginx >/dev/null || scripts/setup.sh --bench

bench_name=client-bench
. bench/common.sh
nginx_port=$(free_port) souk_port=$(free_port) cluster_port=$(free_port)
start_nginx "$nginx_port"

admin_password=bench-admin-password
SOUK_ADMIN_PASSWORD=$admin_password "$soukd" --data "$work/data" --http "127.0.0.1:$souk_port" \
  --cluster "127.0.0.1:$cluster_port" --demo-catalog "$products" --log-level warn \
  2> "$work/soukd.log" & pids+=($!)
souk_pid=$!
wait_ready "$souk_port" "$work/soukd.log" "$souk_pid"
api="http://127.0.0.1:$souk_port"

# 1,000 guests with two lines each, and 50 SKUs to add.
skus=$(for id in $(seq 1 50); do curl -s "$api/v1/products/$id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["skus"][0]["sku"])'; done)
python3 - "$api" "$work" $skus <<'PY'
import json, sys, urllib.request
api, work, skus = sys.argv[1], sys.argv[2], sys.argv[3:]
def call(method, path, body=None, token=None):
    req = urllib.request.Request(api + path, method=method, data=json.dumps(body).encode() if body is not None else None)
    req.add_header("Content-Type", "application/json")
    if token: req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req) as r: return json.load(r)
tokens = []
for i in range(1000):
    t = call("POST", "/v1/sessions/guest")["token"]
    for k in range(2): call("POST", "/v1/cart/items", {"sku": skus[(i + k) % len(skus)], "qty": 1}, t)
    tokens.append(t)
with open(work + "/tokens.lua", "w") as f:
    f.write("tokens = {" + ",".join('"%s"' % t for t in tokens) + "}\n")
    f.write("skus = {" + ",".join('"%s"' % s for s in skus) + "}\n")
PY
cat "$work/tokens.lua" - > "$work/cart_get.lua" <<'LUA'
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", "/v1/cart", {["Authorization"] = "Bearer " .. tokens[n % #tokens + 1]})
end
LUA
cat "$work/tokens.lua" - > "$work/cart_add.lua" <<'LUA'
local n = 0
-- A global: setup() runs in wrk's main state and gives each thread its own. (A `local tid`
-- here hid that one from request(): both threads drove the same 500 carts.)
tid = 0
function setup(thread) thread:set("tid", tid); tid = tid + 1 end
request = function()
  n = n + 1
  local k = n * 2 + tid
  return wrk.format("POST", "/v1/cart/items",
    {["Authorization"] = "Bearer " .. tokens[k % #tokens + 1], ["Content-Type"] = "application/json"},
    '{"sku":"' .. skus[math.floor(k / #tokens) % #skus + 1] .. '","qty":1}')
end
LUA

run() { # url [script] -> "req/s p50 p99 non-2xx"
  local out
  if [[ -n "${2:-}" ]]; then out=$(wrk -t"$threads" -c"$connections" -d"$duration" --latency -s "$2" "$1")
  else out=$(wrk -t"$threads" -c"$connections" -d"$duration" --latency "$1"); fi
  echo "$(awk '/Requests\/sec/ {print $2}' <<<"$out") $(awk '$1=="50%" {print $2}' <<<"$out") $(awk '$1=="99%" {print $2}' <<<"$out") $(awk '/Non-2xx/ {print $5}' <<<"$out" | grep . || echo 0)"
}
ratio() { awk -v a="$1" -v b="$n_rps" 'BEGIN{printf "%.2f", a/b}'; }

echo "| target | requests/s | p50 | p99 | non-2xx | vs nginx | target |"
echo "|---|---|---|---|---|---|---|"
read -r n_rps n_p50 n_p99 n_err < <(run "http://127.0.0.1:$nginx_port/")
echo "| nginx, 1 worker, fixed 100-byte body (anchor) | $n_rps | $n_p50 | $n_p99 | $n_err | 1.00 | |"
read -r g_rps g_p50 g_p99 g_err < <(run "$api/" "$work/cart_get.lua")
echo "| soukd GET /v1/cart, 1,000 carts of 2 lines | $g_rps | $g_p50 | $g_p99 | $g_err | $(ratio "$g_rps") | ≥ 0.50 |"
read -r a_rps a_p50 a_p99 a_err < <(run "$api/" "$work/cart_add.lua")
# The workload itself: every one of the 1,000 carts took adds (the script spreads them evenly).
untouched=$(python3 - "$api" "$work" <<'PY'
import json, re, sys, urllib.request
api, work = sys.argv[1], sys.argv[2]
tokens = re.findall(r'"([^"]+)"', open(work + "/tokens.lua").readline())
def lines(t):
    req = urllib.request.Request(api + "/v1/cart", headers={"Authorization": "Bearer " + t})
    with urllib.request.urlopen(req) as r: return len(json.load(r)["items"])
print(sum(1 for t in tokens if lines(t) <= 2))
PY
)
[[ "$untouched" == 0 ]] || { echo "client_bench: $untouched of the 1,000 carts took no add; the cart_add.lua workload is broken" >&2; exit 1; }
echo "| soukd POST /v1/cart/items, 1,000 carts, 50 SKUs | $a_rps | $a_p50 | $a_p99 | $a_err | $(ratio "$a_rps") | ≥ 0.40 |"
echo
max=$("$load" --port "$souk_port" --mode max --seconds 5 --connections "$connections" --admin-password "$admin_password")
echo "- $max (target ≥ 5,000/s)"
fixed=$("$load" --port "$souk_port" --mode rate --rate "$rate" --seconds "$rate_seconds" --connections 512 --admin-password "$admin_password")
echo "- $fixed (target p99 ≤ 50 ms at 2,000/s)"
flash=$("$load" --port "$souk_port" --mode flash --buyers 2000 --units 50 --admin-password "$admin_password" || true)
echo "- $flash (target: exactly 50 orders, the rest 409, within 2 s)"
rss_mib=$(awk '/VmRSS/ {printf "%d", $2 / 1024}' "/proc/$souk_pid/status" 2>/dev/null || true)
echo
echo "wrk -t$threads -c$connections -d$duration --latency; checkouts by build/release/bench/souk_edge_load (one guest and cart per checkout, bank on soukd's own edge over HTTP)."
echo "soukd resident memory at the end: ${rss_mib:-?} MiB."
