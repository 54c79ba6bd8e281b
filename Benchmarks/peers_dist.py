#!/usr/bin/env python3
"""numpy/scipy peers of moonlab-bench's dist cases, on bit-identical data.

The [4096, 32000] float32 logits are a pure function of the element index (splitmix64,
four 16-bit uniforms summed), as in Benchmarks/moonlab-bench/DistBench.swift. Each case is
what a researcher would write with scipy: scipy.special.log_softmax / softmax / logsumexp
along the last axis; entropy and KL from log-probabilities. Median of 5 runs after one
warm-up. Prints one JSON line per case: {"area":"dist","case":...,"ms":...}.
Set DIST_BENCH_ROWS to shrink the batch (must match moonlab-bench's).
"""
import json
import os
import time

import numpy as np
import scipy.special as sp


def logits(rows, cols, seed):
    out = np.empty(rows * cols, dtype=np.float32)
    step = 1 << 22
    m = np.uint64(0xFFFF)
    for s in range(0, rows * cols, step):
        i = np.arange(s, min(s + step, rows * cols), dtype=np.uint64)
        with np.errstate(over="ignore"):
            z = (i + np.uint64(seed << 40)) * np.uint64(0x9E3779B97F4A7C15)
            z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            z = z ^ (z >> np.uint64(31))
        v = (z & m) + ((z >> np.uint64(16)) & m) + ((z >> np.uint64(32)) & m) + (z >> np.uint64(48))
        out[s:s + len(i)] = ((v.astype(np.float64) / 65536.0 - 2.0) * 3.0).astype(np.float32)
    return out.reshape(rows, cols)


def median_ms(fn, runs=5):
    fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return sorted(times)[len(times) // 2]


def report(name, ms):
    print(json.dumps({"area": "dist", "case": name, "ms": round(ms, 2)}), flush=True)


def entropy(x):
    lp = sp.log_softmax(x, axis=-1)
    return -(np.exp(lp) * lp).sum(-1)


def kl(p, q):
    lp, lq = sp.log_softmax(p, axis=-1), sp.log_softmax(q, axis=-1)
    return (np.exp(lp) * (lp - lq)).sum(-1)


def main():
    rows, cols = int(os.environ.get("DIST_BENCH_ROWS", 4096)), 32000
    p, q = logits(rows, cols, 1), logits(rows, cols, 2)
    suffix = f"{rows}x{cols}_f32"
    report(f"log_softmax_{suffix}", median_ms(lambda: sp.log_softmax(p, axis=-1)))
    report(f"softmax_{suffix}", median_ms(lambda: sp.softmax(p, axis=-1)))
    report(f"logsumexp_{suffix}", median_ms(lambda: sp.logsumexp(p, axis=-1)))
    report(f"entropy_{suffix}", median_ms(lambda: entropy(p)))
    report(f"kl_{suffix}", median_ms(lambda: kl(p, q)))


if __name__ == "__main__":
    main()
