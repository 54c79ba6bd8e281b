#!/usr/bin/env python3
"""Writes a deterministic JSON Lines file of ~200 MB for the data-parsing benchmark:
records {"prompt": ..., "completion": "<~200 chars>", "answer": ..., "id": n, "score": x}.
The same seed gives the same bytes on every machine.

    python3 Benchmarks/make_data.py [/tmp/moonlab_bench_200mb.jsonl] [--records N]
"""
import json
import random
import sys

WORDS = ("the of and to in is that for it as was with be by on not he this are or his from at "
         "which but have an they you were her she there been one all we their has would when if "
         "so what out up about who them into more answer think step because therefore total "
         "value equation solve number result first second then finally check").split()


def sentence(rng, chars):
    out, n = [], 0
    while n < chars:
        w = rng.choice(WORDS)
        out.append(w)
        n += len(w) + 1
    return " ".join(out)


def main():
    path = "/tmp/moonlab_bench_200mb.jsonl"
    records = 560_000
    args = sys.argv[1:]
    if args and not args[0].startswith("--"):
        path = args.pop(0)
    if args[:1] == ["--records"]:
        records = int(args[1])
    rng = random.Random(20260101)
    with open(path, "w", encoding="utf-8") as f:
        for i in range(records):
            a, b = rng.randrange(1000), rng.randrange(1000)
            rec = {
                "prompt": f"Question {i}: what is {a} + {b}? Think step by step.",
                "completion": "<think>" + sentence(rng, 150) + "</think> <answer>" + str(a + b) + "</answer> \u2713",
                "answer": str(a + b),
                "id": i,
                "score": round(rng.random(), 6),
                "tags": ["math", "gsm" if i % 2 else "synthetic"],
            }
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    print(path)


if __name__ == "__main__":
    main()
