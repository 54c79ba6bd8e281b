#!/usr/bin/env bash
# Issue 11's figures in one run: moonlab (Benchmarks/lua_numbers.lua, timed from Lua with
# `moonlab run` + timeit) then the numpy/Python peer (Benchmarks/peers_numbers.py) on the same
# data, and the ratios (peer ms / moonlab ms: above 1 means moonlab is faster).
# Usage: Benchmarks/lua_vs_peers.sh [AREA...]   (dist batch rl pref text random data plot selfcheck)
# PYTHON (default python3) must have numpy and scipy; spacy for selfcheck, matplotlib for plot.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product moonlab >&2
BIN="$(swift build -c release --product moonlab --show-bin-path)/moonlab"
PY="${PYTHON:-python3}"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
# the peer first for `data`: it writes the CSV both sides read
"$PY" Benchmarks/peers_numbers.py "$@" | tee "$OUT/peers.jsonl" >&2
"$BIN" run Benchmarks/lua_numbers.lua "$@" | tee "$OUT/moonlab.jsonl" >&2
"$PY" - "$OUT/moonlab.jsonl" "$OUT/peers.jsonl" <<'PY'
import json, sys
def read(path):
    rows = {}
    for line in open(path):
        line = line.strip()
        if line.startswith("{"):
            r = json.loads(line)
            if "case" in r:
                rows[(r["area"], r["case"])] = r
    return rows
ours, peers = read(sys.argv[1]), read(sys.argv[2])
print(f"{'area':<10} {'case':<36} {'moonlab ms':>11} {'peer ms':>10} {'ratio':>7}")
for key, r in ours.items():
    p = peers.get(key)
    ratio = "%.2fx" % (p["ms"] / r["ms"]) if p and r["ms"] > 0 else "-"
    print(f"{key[0]:<10} {key[1]:<36} {r['ms']:>11.3f} {(p['ms'] if p else float('nan')):>10.3f} {ratio:>7}")
PY
