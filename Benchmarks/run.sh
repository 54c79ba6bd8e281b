#!/usr/bin/env bash
# Runs moonlab-bench and the numpy/scipy peers on the same data and prints, per case,
# moonlab ms, numpy ms and their ratio (numpy / moonlab: above 1 means moonlab is faster).
# Usage: Benchmarks/run.sh [AREA...]   (areas: dist rl sample; default all)
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product moonlab-bench >&2
BIN="$(swift build -c release --product moonlab-bench --show-bin-path)/moonlab-bench"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
for area in ${@:-dist rl sample}; do
  echo "== $area: moonlab-bench" >&2
  "$BIN" "$area" | tee -a "$OUT/moonlab.jsonl" >&2
  if [[ -f "Benchmarks/peers_$area.py" ]]; then
    echo "== $area: peers_$area.py" >&2
    python3 "Benchmarks/peers_$area.py" | tee -a "$OUT/peers.jsonl" >&2
  else
    echo "== $area: no Benchmarks/peers_$area.py, skipped" >&2
  fi
done
touch "$OUT/peers.jsonl"
python3 - "$OUT/moonlab.jsonl" "$OUT/peers.jsonl" <<'PY'
import json, sys
def read(path):
    rows = {}
    for line in open(path):
        line = line.strip()
        if line.startswith("{"):
            try:
                r = json.loads(line)
            except ValueError:
                continue
            if "case" in r and "ms" in r:
                rows[(r.get("area", ""), r["case"])] = r
    return rows
ours, peers = read(sys.argv[1]), read(sys.argv[2])
print(f"{'case':<44} {'moonlab ms':>11} {'numpy ms':>10} {'ratio':>7}")
for key, r in ours.items():
    p = peers.get(key)
    ratio = "%.1fx" % (p["ms"] / r["ms"]) if p and r["ms"] > 0 else "-"
    theirs = "%.2f" % p["ms"] if p else "-"
    print(f"{key[1]:<44} {r['ms']:>11.2f} {theirs:>10} {ratio:>7}")
PY
