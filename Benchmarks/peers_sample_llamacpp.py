#!/usr/bin/env python3
"""The sampling chain of sample_chain.lua run by llama.cpp's own samplers (llama-cpp-python
0.3.36's low-level API, no model), per token, on the same logits: penalties(last_n 64,
repeat 1.1, freq 0.1, present 0.1) fed the same 64 history ids, top_k(40), top_p(0.95),
min_p(0.05), temp(0.8), dist(0). Each token starts from a fresh llama_token_data_array
(the samplers shrink and reorder it): the copy is timed alone and subtracted.

Run by hand: ~/.cache/moonlab/venv/bin/python Benchmarks/peers_sample_llamacpp.py
Prints {"area":"sample","case":"llamacpp_chain_<V>","us":...} lines.
"""
import ctypes
import json
import math
import time

import llama_cpp as L

M64 = (1 << 64) - 1


def bench_logits(v):
    out = []
    for i in range(v):
        k = i + 1
        u1 = ((((k * 0x9E3779B97F4A7C15) & M64) >> 11) + 0.5) * 2.0 ** -53
        u2 = ((((k * 0xD1B54A32D192ED03) & M64) >> 11) + 0.5) * 2.0 ** -53
        out.append(2.5 * math.sqrt(-2 * math.log(u1)) * math.cos(2 * math.pi * u2))
    return out, [(i * 2654435761) % v for i in range(64)]


def best_us(fn, iters, repeats=200):
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(iters):
            fn()
        best = min(best, (time.perf_counter() - t0) / iters * 1e6)
    return best


def main():
    for v in (32000, 128256):
        logits, history = bench_logits(v)
        pristine = (L.llama_token_data * v)()
        for i, x in enumerate(logits):
            pristine[i].id, pristine[i].logit, pristine[i].p = i, x, 0.0
        work = (L.llama_token_data * v)()
        nbytes = ctypes.sizeof(pristine)
        chain = L.llama_sampler_chain_init(L.llama_sampler_chain_default_params())
        for s in (L.llama_sampler_init_penalties(v, 64, 1.1, 0.1, 0.1), L.llama_sampler_init_top_k(40),
                  L.llama_sampler_init_top_p(0.95, 1), L.llama_sampler_init_min_p(0.05, 1),
                  L.llama_sampler_init_temp(0.8), L.llama_sampler_init_dist(0)):
            L.llama_sampler_chain_add(chain, s)
        for t in history:
            L.llama_sampler_accept(chain, t)
        arr = L.llama_token_data_array(data=ctypes.cast(work, L.llama_token_data_p), size=v, selected=-1, sorted=False)
        ref = ctypes.byref(arr)

        def reset():
            ctypes.memmove(work, pristine, nbytes)
            arr.data = ctypes.cast(work, L.llama_token_data_p)
            arr.size = v
            arr.sorted = False

        def token():
            reset()
            L.llama_sampler_apply(chain, ref)

        iters = 20 if v < 100000 else 8
        for _ in range(20):
            token()
        us = best_us(token, iters) - best_us(reset, iters)
        L.llama_sampler_free(chain)
        print(json.dumps({"area": "sample", "case": f"llamacpp_chain_{v}", "us": round(us, 2), "ms": round(us / 1000, 5)},
                         separators=(",", ":")))


if __name__ == "__main__":
    main()
