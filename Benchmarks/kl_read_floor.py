#!/usr/bin/env python3
"""The numpy/scipy peer of Benchmarks/kl_read_floor.lua: KL(softmax(p) || softmax(q)) per row
of two [4096, 32000] float32 arrays (normals with sd 2.5; the kernels' time does not depend on
the values) as a researcher writes it with scipy, and numpy's read of both arrays
(p.max() + q.max(), one core). Best and median wall ms of RUNS calls (default 5, one warm-up)
and CPU ms per call (time.process_time). Run: python3 Benchmarks/kl_read_floor.py [RUNS]
"""
import json
import sys
import time

import numpy as np
import scipy.special as sp


def timed(fn, runs):
    fn()
    times, c0 = [], time.process_time()
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    cpu = (time.process_time() - c0) / runs * 1e3
    times.sort()
    return times[0], times[len(times) // 2], cpu


def kl(p, q):
    lp, lq = sp.log_softmax(p, axis=-1), sp.log_softmax(q, axis=-1)
    return (np.exp(lp) * (lp - lq)).sum(-1)


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    g = np.random.default_rng(11)
    p = (g.standard_normal((4096, 32000), dtype=np.float32) * 2.5)
    q = (g.standard_normal((4096, 32000), dtype=np.float32) * 2.5)
    for name, fn in [("read_floor_4096x32000_f32_x2", lambda: p.max() + q.max()), ("kl_4096x32000_f32", lambda: kl(p, q))]:
        best, median, cpu = timed(fn, runs)
        print(json.dumps({"peer": "numpy", "case": name, "ms": round(best, 2), "median_ms": round(median, 2),
                          "cpu_ms": round(cpu, 2)}), flush=True)


if __name__ == "__main__":
    main()
