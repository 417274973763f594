#!/usr/bin/env bash
# The first command: installs what is missing, builds the release soukd and starts a complete
# single-node marketplace in the foreground (HTTP on 127.0.0.1:8080, data in ./data).
# Extra arguments go to soukd, e.g. scripts/run.sh --http 127.0.0.1:9090. Stop it with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release --target soukd
exec build/release/runtime/soukd "$@"
