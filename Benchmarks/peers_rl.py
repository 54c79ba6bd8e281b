#!/usr/bin/env python3
"""The RL benchmark cases of moonlab-bench (Benchmarks/moonlab-bench/RLBench.swift) done the way
a researcher would in numpy/scipy, on the same data (closed-form integer functions of the index).
Prints one JSON line per case: {"area":"rl","case":...,"ms":...}; Benchmarks/run.sh joins them
with moonlab-bench's lines by case name. Each case: one warm-up, median of 5 runs.

    python3 Benchmarks/peers_rl.py
"""
import json
import time

import numpy as np
from scipy.signal import lfilter

N = 1_000_000


def median_ms(fn, runs=5):
    fn()
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t0) * 1e3)
    return sorted(ts)[len(ts) // 2]


def emit(case, ms):
    print(json.dumps({"area": "rl", "case": case, "ms": round(ms, 4)}, separators=(",", ":")), flush=True)


i = np.arange(N, dtype=np.int64)
rewards = ((i * 7919) % 1000) / 1000 - 0.5
values = ((i * 104729) % 1000) / 1000
dones = (i % 128) == 127


def gae_loop(r, v, d, gamma=0.99, lam=0.95, last_value=0.0):
    # TRL's PPO trainer loop (trl/experimental/ppo/ppo_trainer.py), with (1 - done) as RL libraries do.
    n = len(r)
    adv = np.empty(n)
    lastgaelam = 0.0
    nextvalues = last_value
    r_ = r.tolist(); v_ = v.tolist(); nt = (1.0 - d.astype(np.float64)).tolist()
    for t in range(n - 1, -1, -1):
        delta = r_[t] + gamma * nextvalues * nt[t] - v_[t]
        lastgaelam = delta + gamma * lam * nt[t] * lastgaelam
        adv[t] = lastgaelam
        nextvalues = v_[t]
    return adv, adv + v


def gae_lfilter(r, v, gamma=0.99, lam=0.95, last_value=0.0):
    vnext = np.append(v[1:], last_value)
    delta = r + gamma * vnext - v
    adv = lfilter([1.0], [1.0, -gamma * lam], delta[::-1])[::-1]
    return adv, adv + v


emit("gae_1e6", median_ms(lambda: gae_loop(rewards, values, dones)))
emit("gae_1e6_lfilter_nodones", median_ms(lambda: gae_lfilter(rewards, values)))

pc = -50 - ((i * 31) % 1000) / 20
pr = -55 - ((i * 17) % 1000) / 20
rc = pc + ((i * 13) % 100) / 50 - 1
rr = pr + ((i * 7) % 100) / 50 - 1


def dpo_sigmoid(beta=0.1):
    # TRL 1.x dpo_trainer.py, loss_type="sigmoid": -logsigmoid(beta * delta_score), plus rewards and stats.
    chosen_logratios = pc - rc
    rejected_logratios = pr - rr
    x = beta * (chosen_logratios - rejected_logratios)
    losses = -(np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x))))
    cr = beta * chosen_logratios
    rj = beta * rejected_logratios
    return losses.mean(), (cr > rj).mean(), (cr - rj).mean()


emit("dpo_sigmoid_1e6", median_ms(dpo_sigmoid))


def estimate_pass_at_k(num_samples, num_correct, k):
    # openai/human-eval human_eval/evaluation.py
    def estimator(n, c, k):
        if n - c < k:
            return 1.0
        return 1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1))
    return np.array([estimator(int(n), int(c), k) for n, c in zip(num_samples, num_correct)])


P = 100_000
ns = np.full(P, 200)
cs = (np.arange(P) * 37) % 201
emit("pass_at_k_1e5", median_ms(lambda: estimate_pass_at_k(ns, cs, 10).mean()))
