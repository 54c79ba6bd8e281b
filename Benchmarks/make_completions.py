#!/usr/bin/env python3
"""Writes the records of the scoring benchmark (BENCHMARKS.md, "Scoring").

100,000 JSON Lines records {"id", "prompt", "completion", "answer"}, each completion about
200 characters: most in the <think>...</think> <answer>...</answer> format, some not, with
a varying number of the reward's keywords. Deterministic (a fixed LCG, no `random`), so
every run and machine gets the same bytes.
Also writes the completions alone, one per line, for the in-memory `lua5.4` reference.

Usage: python3 Benchmarks/make_completions.py [OUT.jsonl] [N]
       (default /tmp/moonlab_score_100k.jsonl and 100000; the text file is OUT with .txt)
"""
import json
import sys

WORDS = ("the model checks each step because the sum of two numbers is then compared "
         "with the expected value therefore we add carry digits and verify answer "
         "parity first next count terms").split()


def lcg(seed):
    x = seed
    while True:
        x = (x * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        yield x >> 33


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/moonlab_score_100k.jsonl"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    rng = lcg(42)
    with open(out, "w") as f, open(out.rsplit(".", 1)[0] + ".txt", "w") as t:
        for i in range(n):
            a, b = next(rng) % 1000, next(rng) % 1000
            words = []
            target = 150 + next(rng) % 100
            while sum(len(w) + 1 for w in words) < target:
                words.append(WORDS[next(rng) % len(WORDS)])
            think = " ".join(words)
            kind = next(rng) % 10
            if kind < 7:
                completion = f"<think>{think}</think> <answer>{a + b}</answer>"
            elif kind < 9:
                completion = f"{think} so the answer is {a + b}"
            else:
                completion = f"<think>{think}</think> {a + b}"
            rec = {"id": i, "prompt": f"What is {a} + {b}?", "completion": completion, "answer": str(a + b)}
            f.write(json.dumps(rec) + "\n")
            t.write(completion + "\n")


if __name__ == "__main__":
    main()
