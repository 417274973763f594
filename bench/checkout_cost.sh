#!/usr/bin/env bash
# What one checkout costs soukd, its setup left out: CPU, thread switches, bytes written and page
# faults per checkout, with the simulated bank on soukd's own edge over HTTP (bank.mode = http,
# the default) and as the in-process actor (bank.mode = internal), in alternating runs so that
# the host's drift hits both alike. Checkouts/s alone swings 2x from one minute to the next on a
# shared host; the cost per checkout moves much less, so it is the figure to compare changes by.
#
# Each run starts a fresh soukd (--products demo products), warms it up with one closed-loop
# checkout run, then starts a second one with --pause-ms: the load tool makes its guests and
# carts, says "setup done", waits, and only then checks out. The counters of /proc/<soukd> are
# read in that pause and after the checkouts.
# Prints a Markdown table, one row per run, then the median per mode.
# Usage: bench/checkout_cost.sh [--runs 3] [--products 20000] [--connections 64] [--seconds 5]
#                               [--modes "http internal"]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=3 products=20000 connections=64 seconds=5 modes="http internal"
while (($#)); do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --products) products="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --modes) modes="$2"; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
soukd=build/release/runtime/soukd load=build/release/bench/souk_edge_load
[[ -x "$soukd" && -x "$load" ]] || { echo "build first: cmake --preset release && cmake --build --preset release" >&2; exit 2; }

bench_name=checkout-cost
. bench/common.sh
admin_password=bench-admin-password
ticks_per_second=$(getconf CLK_TCK)

# counters PID -> "cpu_ticks minor_faults switches write_bytes wchar" of the whole process
counters() {
  local pid="$1" cpu flt cs wb wc
  read -r cpu flt < <(awk '{print $14 + $15, $10}' "/proc/$pid/stat")
  cs=$(cat /proc/"$pid"/task/*/status 2>/dev/null | awk '/ctxt_switches/ {s += $2} END {print s + 0}')
  wb=$(awk '/^write_bytes/ {print $2}' "/proc/$pid/io")
  wc=$(awk '/^wchar/ {print $2}' "/proc/$pid/io")
  echo "$cpu $flt $cs $wb $wc"
}

# one_run MODE -> "checkouts/s cpu_ms cs faults write_kb wchar_kb" per checkout
one_run() {
  local mode="$1" port cport pid lp line out n rate a b
  port=$(free_port) cport=$(free_port)
  rm -rf "$work/data"
  SOUK_ADMIN_PASSWORD=$admin_password "$soukd" --data "$work/data" --http "127.0.0.1:$port" \
    --cluster "127.0.0.1:$cport" --demo-catalog "$products" --bank-mode "$mode" --log-level warn \
    2> "$work/soukd.log" &
  pid=$!
  pids+=("$pid")
  wait_ready "$port" "$work/soukd.log" "$pid"
  "$load" --port "$port" --mode max --seconds "$seconds" --connections "$connections" \
    --admin-password "$admin_password" > /dev/null # warm-up
  rm -f "$work/err" && mkfifo "$work/err"
  "$load" --port "$port" --mode max --seconds "$seconds" --connections "$connections" \
    --admin-password "$admin_password" --pause-ms 1500 > "$work/out" 2> "$work/err" &
  lp=$!
  pids+=("$lp")
  exec 3< "$work/err"
  read -r line <&3 || true
  if [[ "$line" != "setup done" ]]; then
    echo "the load tool did not finish its setup: $line" >&2
    exit 1
  fi
  cat <&3 > "$work/load.log" & # the rest of its standard error, so it never writes to a closed pipe
  exec 3<&-
  sleep 1.2 # the checkouts start 1.5 s after "setup done"
  a=$(counters "$pid")
  wait "$lp" || { echo "the load tool failed: $(cat "$work/load.log")" >&2; exit 1; }
  b=$(counters "$pid")
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  pids=()
  out=$(head -1 "$work/out")
  # Only answered checkouts count: any status but 201 (a refusal, a timeout) stops the run.
  n=$(grep -oE ' 201×[0-9]+' <<<"$out" | sed 's/ 201×//')
  rate=$(sed -E 's/.* = ([0-9]+) \/s.*/\1/' <<<"$out")
  if [[ ! "$n" =~ ^[0-9]+$ ]] || grep -oE ' [0-9]+×[0-9]+' <<<"$out" | grep -qv '^ 201×'; then
    echo "not every checkout got 201: $out" >&2
    exit 1
  fi
  awk -v n="$n" -v r="$rate" -v hz="$ticks_per_second" -v a="$a" -v b="$b" 'BEGIN {
    split(a, x, " "); split(b, y, " ");
    printf "%s %.3f %.1f %.1f %.1f %.1f\n", r, (y[1] - x[1]) * 1000 / hz / n, (y[3] - x[3]) / n,
      (y[2] - x[2]) / n, (y[4] - x[4]) / n / 1024, (y[5] - x[5]) / n / 1024 }'
}

echo "| bank.mode | run | checkouts/s | soukd CPU per checkout | thread switches | page faults | disk writes | write() bytes |"
echo "|---|---|---|---|---|---|---|---|"
declare -A rows
for r in $(seq 1 "$runs"); do
  for mode in $modes; do
    one_run "$mode" > "$work/row" # not in a subshell: the exit trap must know soukd's pid
    read -r rate cpu cs flt wb wc < "$work/row"
    rows[$mode]+="$cpu "
    echo "| $mode | $r | $rate | $cpu ms | $cs | $flt | $wb KB | $wc KB |"
  done
done
echo
for mode in $modes; do
  median=$(tr ' ' '\n' <<<"${rows[$mode]}" | grep . | sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}')
  echo "- bank.mode = $mode: median soukd CPU $median ms per checkout over $runs runs"
done
echo
echo "$connections checkouts in flight (bench/souk_edge_load --mode max), one fresh guest and cart per checkout, $products demo products. CPU is utime + stime of /proc/<soukd>/stat; disk writes are write_bytes and write() bytes wchar of /proc/<soukd>/io."
