#!/usr/bin/env bash
# moonlab generate's throughput against the server's own limit. The limit: llama.cpp's server
# (llama-cpp-python) decodes one request at a time, so its ceiling is the tokens/s of a single
# long request timed alone (best of 3, through Python's standard library). Then generate asks
# for 24 prompts x 64 tokens with 4 requests in flight and reports its own tokens/s.
#   Scripts/servers.sh start; bash Benchmarks/generate_throughput.sh [.build/release/moonlab] [URL]
set -euo pipefail
bin="${1:-.build/release/moonlab}"
url="${2:-http://127.0.0.1:8471/v1}"
python3 - "$url" <<'PY'
import json, sys, time, urllib.request
url = sys.argv[1]
best = 0
for k in range(3):
    body = json.dumps({"prompt": "Write a long story about a lighthouse keeper number %d." % k, "max_tokens": 128,
                       "temperature": 0.8, "seed": k, "stop": []}).encode()
    t0 = time.perf_counter()
    r = json.load(urllib.request.urlopen(urllib.request.Request(url + "/completions", body, {"Content-Type": "application/json"})))
    dt = time.perf_counter() - t0
    best = max(best, r["usage"]["completion_tokens"] / dt)
print("server alone, one request at a time: %.1f tokens/s (best of 3, 128-token completions)" % best)
PY
prompts=$(mktemp)
python3 -c "
import json
for i in range(24): print(json.dumps({'prompt': 'Write a short story about a lighthouse keeper number %d.' % i}))" >"$prompts"
"$bin" generate --data "$prompts" --base-url "$url" --model smollm2 --max-tokens 64 --temperature 0.8 --seed 1 \
  --concurrency 4 --timeout 300 --out /dev/null --no-progress
rm -f "$prompts"
