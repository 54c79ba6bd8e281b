#!/usr/bin/env python3
"""Writes the body of the serving benchmark: 64 rows of OpenRLHF's /get_reward request
({"query": prompt + completion, "prompts", "labels"}) from the first records of
/tmp/moonlab_score_100k.jsonl (Benchmarks/make_completions.py).

Usage: python3 Benchmarks/make_serve_body.py [IN.jsonl] [OUT.json] [ROWS]
"""
import json
import sys

src = sys.argv[1] if len(sys.argv) > 1 else "/tmp/moonlab_score_100k.jsonl"
dst = sys.argv[2] if len(sys.argv) > 2 else "/tmp/moonlab_serve_body.json"
rows = int(sys.argv[3]) if len(sys.argv) > 3 else 64
records = [json.loads(line) for _, line in zip(range(rows), open(src))]
body = {"query": [r["prompt"] + r["completion"] for r in records], "prompts": [r["prompt"] for r in records],
        "labels": [r["answer"] for r in records]}
with open(dst, "w") as f:
    json.dump(body, f)
print(f"{rows} rows, {len(json.dumps(body))} bytes -> {dst}")
