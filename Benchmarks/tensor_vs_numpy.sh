#!/usr/bin/env bash
# Issue 13's tensor figures in one run: moonlab (Benchmarks/tensor_ops.lua, timed from Lua with
# `moonlab run` + timeit) then numpy (Benchmarks/peers_tensor.py) on data of the same shapes,
# and the ratios (numpy ms / moonlab ms: above 1 means moonlab is faster). The memory loop
# runs in a process of its own on each side, so its peak memory is the loop's.
# Usage: Benchmarks/tensor_vs_numpy.sh [AREA...]   (loop elementwise reduce sort files matmul big)
# PYTHON (default python3) must have numpy.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product moonlab >&2
BIN="$(swift build -c release --product moonlab --show-bin-path)/moonlab"
PY="${PYTHON:-python3}"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
areas=("$@")
[ ${#areas[@]} -eq 0 ] && areas=(loop elementwise reduce sort files matmul big)
for a in "${areas[@]}"; do
  "$BIN" run Benchmarks/tensor_ops.lua "$a" | tee -a "$OUT/moonlab.jsonl" >&2
  "$PY" Benchmarks/peers_tensor.py "$a" | tee -a "$OUT/peers.jsonl" >&2
done
"$PY" - "$OUT/moonlab.jsonl" "$OUT/peers.jsonl" <<'PY'
import json, sys
def read(path):
    rows = {}
    for line in open(path):
        line = line.strip()
        if line.startswith("{"):
            r = json.loads(line)
            rows[(r["area"], r["case"])] = r
    return rows
ours, peers = read(sys.argv[1]), read(sys.argv[2])
print(f"{'area':<12} {'case':<44} {'moonlab ms':>11} {'numpy ms':>10} {'ratio':>7}")
for key, r in ours.items():
    p = peers.get(key)
    ratio = "%.2fx" % (p["ms"] / r["ms"]) if p and r["ms"] > 0 else "-"
    extra = ""
    if "peak_mb" in r:
        extra = f"  peak {r['peak_mb']:.0f} MB vs {p['peak_mb']:.0f} MB" if p else ""
    if "over_table" in r:
        extra = f"  {r['over_table']:.2f}x the Lua table loop"
    print(f"{key[0]:<12} {key[1]:<44} {r['ms']:>11.3f} {(p['ms'] if p else float('nan')):>10.3f} {ratio:>7}{extra}")
PY
