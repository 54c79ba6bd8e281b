#!/usr/bin/env python3
"""The Python side of the scoring benchmark (BENCHMARKS.md, "Scoring").

The same reward as Benchmarks/score_reward.lua, as a researcher would write it in Python,
run end to end in a loop: json.loads each line, compute the reward, add it to the record,
json.dumps, write JSON Lines. Also times the reward alone with the records in memory.

Usage: python3 Benchmarks/peers_score.py [IN.jsonl] [OUT.jsonl]
"""
import json
import re
import sys
import time

KEYWORDS = ("because", "therefore", "verify", "answer")
TARGET = 200
FORMAT = re.compile(r"<think>.*?</think>\s*<answer>.*?</answer>\Z", re.S)


def reward(s):
    c = s["completion"]
    fmt = 1 if FORMAT.match(c) else 0
    length = 1 - min(1, abs(len(c.encode()) - TARGET) / TARGET)
    hits = sum(1 for k in KEYWORDS if k in c)
    return fmt + 0.5 * length + hits / len(KEYWORDS)


def loop(src, dst):
    total = 0.0
    with open(src) as f, open(dst, "w") as out:
        for line in f:
            r = json.loads(line)
            v = reward(r)
            total += v
            r["rewards"] = {"bench": v}
            out.write(json.dumps(r) + "\n")
    return total


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else "/tmp/moonlab_score_100k.jsonl"
    dst = sys.argv[2] if len(sys.argv) > 2 else "/tmp/moonlab_score_python.jsonl"
    t0 = time.perf_counter()
    total = loop(src, dst)
    s = time.perf_counter() - t0
    rows = sum(1 for _ in open(src))
    print(json.dumps({"case": "python loop json.loads/reward/json.dumps", "rows": rows, "s": round(s, 3),
                      "rows_per_s": round(rows / s), "sum": round(total, 6)}))
    records = [json.loads(line) for line in open(src)]
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for r in records:
            reward(r)
        best = min(best, time.perf_counter() - t0)
    print(json.dumps({"case": "python reward in memory", "rows": rows, "s": round(best, 3),
                      "rows_per_s": round(rows / best)}))


if __name__ == "__main__":
    main()
