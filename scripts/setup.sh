#!/usr/bin/env bash
# Installs what souk needs to build and run, from Debian 12 packages only. Idempotent: a
# package already installed is not touched, and nothing is asked when all are there.
# Usage: scripts/setup.sh [--bench]   (--bench adds wrk and nginx for the HTTP benchmarks, and
#                                     redis-server + redis-tools for bench/redis_anchor.sh)
set -euo pipefail

packages=(
  g++ cmake ninja-build ccache pkg-config clang-format   # toolchain
  libcaf-dev                                            # actors (CAF 0.17.6)
  libboost-dev                                          # Asio + Beast: the HTTP edge
  libsqlite3-dev                                        # the node's store, FTS5
  nlohmann-json3-dev                                    # JSON
  libcli11-dev                                          # command-line flags
  libtomlplusplus-dev                                   # the TOML config file (toml++)
  libspdlog-dev libfmt-dev                              # log sink
  libssl-dev                                            # TLS, HMAC, PBKDF2
  libjemalloc-dev                                       # malloc of soukd and the benchmarks
  libgtest-dev libgmock-dev googletest                  # tests
  libbenchmark-dev                                      # bench/
  curl jq                                               # the README tour, health checks
  clang libclang-rt-14-dev                              # fuzz/: clang + libFuzzer (test.sh stage 3)
)
if [[ "${1:-}" == "--bench" ]]; then
  packages+=(wrk nginx-light redis-server redis-tools)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "setup: installing ${missing[*]}" >&2
sudo=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null; then
    sudo=(sudo)
  else
    echo "setup: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# nginx-light starts a system nginx on port 80 when installed; the benchmarks run their own.
if [[ " ${missing[*]} " == *" nginx-light "* ]] && command -v nginx >/dev/null; then
  "${sudo[@]}" nginx -s stop 2>/dev/null || true
fi
# redis-server likewise may start a system Redis on port 6379; bench/redis_anchor.sh runs its own.
if [[ " ${missing[*]} " == *" redis-server "* ]]; then
  if command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
    "${sudo[@]}" systemctl stop redis-server 2>/dev/null || true
  elif command -v service >/dev/null; then
    "${sudo[@]}" service redis-server stop >/dev/null 2>&1 || true
  fi
fi
