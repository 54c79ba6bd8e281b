"""The peer of model_overhead.lua: 40 one-token completions, 4 in flight, with Python's
standard library only (urllib.request in a ThreadPoolExecutor), against the same server.
Prints the median wall time of `runs` rounds after one warm-up round.

    python3 Benchmarks/model_overhead.py http://127.0.0.1:8471/v1 5
"""
import json, statistics, sys, time, urllib.request
from concurrent.futures import ThreadPoolExecutor

base = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8471/v1"
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
prompts = ["Item %d:" % i for i in range(40)]


def one(p):
    body = json.dumps({"model": "smollm2", "prompt": p, "max_tokens": 1, "temperature": 0}).encode()
    req = urllib.request.Request(base + "/completions", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.load(r)["choices"][0]["text"]


def round_():
    with ThreadPoolExecutor(4) as ex:
        return list(ex.map(one, prompts))


round_()
times = []
for _ in range(runs):
    t0 = time.perf_counter()
    round_()
    times.append(time.perf_counter() - t0)
print("python stdlib: median %.3f s (min %.3f, max %.3f) over %d runs" % (statistics.median(times), min(times), max(times), runs))
