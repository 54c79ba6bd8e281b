#!/usr/bin/env python3
"""The Python side of the JSON Lines parsing benchmark (Benchmarks/data_parse.lua): read FILE
line by line, parse each line into a dict, count records and touch one field, with
json.loads and with orjson.loads. Prints MB/s (file bytes / wall seconds), best of 3 runs.

    python3 Benchmarks/make_data.py            # -> /tmp/moonlab_bench_200mb.jsonl
    python3 Benchmarks/peers_data.py /tmp/moonlab_bench_200mb.jsonl
"""
import json
import os
import sys
import time


def run(loads, path):
    n = 0
    total = 0
    with open(path, "rb") as f:
        for line in f:
            if not line.strip():
                continue
            rec = loads(line)
            n += 1
            total += len(rec["completion"])
    return n, total


def bench(name, loads, path, size):
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        n, total = run(loads, path)
        best = min(best, time.perf_counter() - t0)
    print(f"{name:<14} {n} records  {best:7.3f} s  {size / best / 1e6:7.1f} MB/s")


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "/tmp/moonlab_bench_200mb.jsonl"
    size = os.path.getsize(path)
    print(f"file: {path} ({size / 1e6:.1f} MB)")
    bench("python json", json.loads, path, size)
    try:
        import orjson
    except ImportError:
        print("orjson         not installed")
        return
    bench("orjson", orjson.loads, path, size)


if __name__ == "__main__":
    main()
