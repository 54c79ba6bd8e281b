#!/usr/bin/env bash
# synth.dedupe against datasketch's MinHashLSH (128 permutations, threshold 0.85) on 100,000
# records of 40 words with planted near-duplicates, in one run; then the clusters compared.
#   bash Benchmarks/dedupe.sh [.build/release/moonlab] [/work/venv-peers/bin/python]
set -euo pipefail
bin="${1:-.build/release/moonlab}"
py="${2:-/work/venv-peers/bin/python}"
python3 Benchmarks/dedupe_data.py 100000 /tmp/dedupe.jsonl
"$bin" run Benchmarks/dedupe.lua /tmp/dedupe.jsonl 0.85 /tmp/dedupe_moonlab.json
"$py" Benchmarks/dedupe_datasketch.py /tmp/dedupe.jsonl 0.85 /tmp/dedupe_py.json
python3 - <<'PY'
import json
a = {int(k): v for k, v in json.load(open("/tmp/dedupe_py.json"))["dropped"].items()}
m = json.load(open("/tmp/dedupe_moonlab.json"))
b = {int(k): v for k, v in m["dropped"].items()}
recs = [json.loads(l) for l in open("/tmp/dedupe.jsonl")]
planted = {r["id"]: r["dup_of"] for r in recs if r["dup_of"] is not None}
t_py = json.load(open("/tmp/dedupe_py.json"))["seconds"]
print("speed-up: %.1fx (datasketch %.2f s, moonlab %.2f s)" % (t_py / m["seconds"], t_py, m["seconds"]))
for kind, name in ((0, "exact copies"), (1, "case/spacing variants"), (2, "one word changed (J = 0.946)")):
    ids = [i for i in planted if (i // 20) % 3 == kind]
    fa = sum(1 for i in ids if a.get(i) == planted[i]); fb = sum(1 for i in ids if b.get(i) == planted[i])
    same = sum(1 for i in ids if a.get(i) == b.get(i))
    print("  %-30s %5d planted: datasketch found %5d, moonlab %5d, same verdict and kept record for %d" % (name, len(ids), fa, fb, same))
print("  not planted but dropped: datasketch %d, moonlab %d" % (sum(1 for i in a if i not in planted), sum(1 for i in b if i not in planted)))
PY
