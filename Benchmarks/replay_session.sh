#!/usr/bin/env bash
# Times `moonlab replay` of a 1,000-entry session of realistic work (tensors, dist, rl,
# rewards, sampling, tables printed). Usage: Benchmarks/replay_session.sh [moonlab binary]
set -euo pipefail
bin=${1:-.build/release/moonlab}
session=/tmp/moonlab_session_1000.jsonl
python3 - "$session" <<'PY'
import json, sys
entries = []
for i in range(100):
    entries += [
        f"x{i} = tensor{{{i % 7}, 1, 2, 3, -1}}",
        f"dist.softmax(x{i})",
        f"dist.entropy(x{i})",
        f"a{i}, r{i} = rl.gae({{1, 0, {i % 3}, 1}}, {{0.5, 0.4, 0.3, 0.2}}, {{gamma = 0.99, lambda = 0.95}})",
        f"a{i}",
        f"metrics.pass_at_k(20, {i % 20}, 5)",
        f"reward.define('r{i}', function(s) return #s.completion / 10 end)",
        f"reward.get('r{i}'){{completion = string.rep('x', {i})}}",
        f"t{i} = {{id = {i}, tags = {{'a', 'b'}}, score = {i}/7}}",
        f"t{i}",
    ]
with open(sys.argv[1], "w") as f:
    f.write(json.dumps({"moonlab_session": 1, "version": "0.1.0", "lua": "Lua 5.4", "seed": 0,
                        "started": "2026-11-23T00:00:00Z", "plugins": []}) + "\n")
    for n, e in enumerate(entries, 1):
        f.write(json.dumps({"n": n, "input": e, "ok": True, "output": "", "error": None, "ms": 0}) + "\n")
PY
"$bin" --no-plugins replay --update "$session" >/dev/null
for run in 1 2 3 4 5; do
  /usr/bin/time -f "%e s wall, %M KB max RSS" "$bin" --no-plugins replay "$session"
done
