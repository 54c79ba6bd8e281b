#!/usr/bin/env python3
"""The Python side of the `re` benchmark (BENCHMARKS.md, "re"): the TRL-style format reward
of Benchmarks/re_reward.lua, per row with the records in memory, then as a `moonlab score`
peer: a loop of json.loads / reward / json.dumps writing JSON Lines.

Usage: python3 Benchmarks/peers_re.py [IN.jsonl] [OUT.jsonl]
"""
import json
import re
import sys
import time

FORMAT = re.compile(r"^<think>.*?</think>\s*<answer>.*?</answer>$", re.S)


def format_reward(s):
    return 1.0 if FORMAT.match(s["completion"]) else 0.0


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else "/tmp/moonlab_score_100k.jsonl"
    dst = sys.argv[2] if len(sys.argv) > 2 else "/tmp/moonlab_re_python.jsonl"
    records = [{"completion": json.loads(line)["completion"]} for line in open(src)]
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        total = sum(format_reward(r) for r in records)
        best = min(best, time.perf_counter() - t0)
    print(json.dumps({"case": "python re.match compiled, in memory", "rows": len(records),
                      "us_per_row": round(best / len(records) * 1e6, 3), "sum": total}))
    t0 = time.perf_counter()
    with open(src) as f, open(dst, "w") as out:
        for line in f:
            r = json.loads(line)
            r["rewards"] = {"format_re": format_reward(r)}
            out.write(json.dumps(r) + "\n")
    print(json.dumps({"case": "python loop json.loads/reward/json.dumps", "rows": len(records),
                      "s": round(time.perf_counter() - t0, 3)}))


if __name__ == "__main__":
    main()
