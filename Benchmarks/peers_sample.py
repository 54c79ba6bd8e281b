#!/usr/bin/env python3
"""The sampling chain of Benchmarks/moonlab-bench/SamplingBench.swift and sample_chain.lua in
numpy, on the same logits as f64 and f32, printing JSON lines
({"area":"sample","case":"chain_f64_<V>","us":...}).

Chain per token: penalties{repetition=1.1, frequency=0.1, presence=0.1, last_n=64} over 64
history ids, top_k(40) (np.argpartition first, then HF's keep-ties rule on the 40 values),
top_p(0.95) (HF: ascending stable sort, cumsum <= 1 - p removed), min_p(0.05),
temperature(0.8), then one categorical draw. Run: python3 Benchmarks/peers_sample.py
"""
import json, math, time
import numpy as np

M64 = (1 << 64) - 1


def bench_logits(v):
    k = np.arange(1, v + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        a = (k * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(11)
        b = (k * np.uint64(0xD1B54A32D192ED03)) >> np.uint64(11)
    u1 = (a.astype(np.float64) + 0.5) * 2.0 ** -53
    u2 = (b.astype(np.float64) + 0.5) * 2.0 ** -53
    logits = (2.5 * np.sqrt(-2 * np.log(u1)) * np.cos(2 * math.pi * u2)).astype(np.float32)
    history = np.array([(i * 2654435761) % v for i in range(64)], dtype=np.int64)
    return logits, history


def sample_token(logits, history, rng):
    s = logits.copy()
    f = s.dtype.type
    # penalties (RepetitionPenaltyLogitsProcessor + OpenAI frequency/presence)
    ids, counts = np.unique(history[-64:], return_counts=True)
    x = s[ids]
    x = np.where(x < 0, x * f(1.1), x / f(1.1))
    s[ids] = x - (counts.astype(s.dtype) * f(0.1) + f(0.1))
    # top_k(40): candidates by argpartition, HF keeps every tie with the 40th value
    part = np.argpartition(-s, 40)[:40]
    kth = s[part].min()
    cand = np.nonzero(s >= kth)[0]
    c = s[cand].astype(np.float64)
    # top_p(0.95)
    order = np.argsort(c, kind="stable")
    p = np.exp(c[order] - c.max()); p /= p.sum()
    remove = np.cumsum(p) <= 1 - 0.95
    remove[-1:] = False
    keep = np.sort(order[~remove])
    cand, c = cand[keep], c[keep]
    # min_p(0.05)
    p = np.exp(c - c.max()); p /= p.sum()
    keep = p >= 0.05 * p.max()
    cand, c = cand[keep], c[keep]
    # temperature(0.8) and the draw
    c = c / 0.8
    p = np.exp(c - c.max()); p /= p.sum()
    return int(cand[np.searchsorted(np.cumsum(p), rng.random() * p.sum(), side="right")])


def main():
    rng = np.random.default_rng(0)
    for v in (32000, 128256):
        logits32, history = bench_logits(v)
        # f64 (the dtype of tensors made in Lua) holding the same values, and the f32 row
        for name, logits in ((f"chain_f64_{v}", logits32.astype(np.float64)), (f"chain_f32_{v}", logits32)):
            for _ in range(20):
                sample_token(logits, history, rng)
            # many short repetitions, the fastest kept (as SamplingBench.swift does)
            iters = 10 if v < 100000 else 4
            best = float("inf")
            for _ in range(200):
                t0 = time.perf_counter()
                for _ in range(iters):
                    sample_token(logits, history, rng)
                best = min(best, (time.perf_counter() - t0) / iters * 1e6)
            # "us", plus "ms" (the key Benchmarks/run.sh reads)
            print(json.dumps({"area": "sample", "case": name, "us": round(best, 2), "ms": round(best / 1000, 5)},
                             separators=(",", ":")))


if __name__ == "__main__":
    main()
