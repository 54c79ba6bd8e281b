#!/usr/bin/env bash
# Client overhead: moonlab's complete_many against Python's standard library, 40 one-token
# requests with 4 in flight, alternating three times against the same server.
#   Scripts/servers.sh start; bash Benchmarks/model_overhead.sh [.build/release/moonlab] [URL]
set -euo pipefail
bin="${1:-.build/release/moonlab}"
url="${2:-http://127.0.0.1:8471/v1}"
for _ in 1 2 3; do
  python3 Benchmarks/model_overhead.py "$url" 5
  "$bin" run Benchmarks/model_overhead.lua "$url" 5
done
