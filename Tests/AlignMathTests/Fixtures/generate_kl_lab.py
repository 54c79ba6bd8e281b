#!/usr/bin/env python3
"""Exact KL and the exact expectations and variances of Schulman's estimators, with and
without OpenRLHF's and verl's clamps, in mpmath at 50 digits (run once by hand, output
committed).

    /work/venv-peers/bin/python Tests/AlignMathTests/Fixtures/generate_kl_lab.py

Writes kl_lab.json beside this file; KLLabTests compares RL.klLab with it (the exact fields
to 1e-12 relative, the Monte-Carlo means within 5 standard errors of the expectations).

Per row: logp and ref_logp are float64 log-probabilities (mpmath's log-softmax of the
generated logits, rounded); p = exp(logp). With log r = ref - logp:
  k1 = -log r, k2 = (log r)^2 / 2, k3 = exp(log r) - 1 - log r;
  OpenRLHF 0.11 compute_approx_kl: clamp(k, -10, 10) for every estimator;
  verl 0.7 kl_penalty (low_var_kl): k3 only, log r clamped to [-20, 20] before exp, then the
  estimate to [-10, 10]; k1 and k2 unclamped.
exact = sum p (logp - ref); expected = sum p k; variance = sum p (k - expected)^2.
"""
import json
import os

import mpmath as mp
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
mp.mp.dps = 50


def log_softmax(x):
    m = max(x)
    s = mp.fsum(mp.exp(v - m) for v in x)
    lse = m + mp.log(s)
    return [v - lse for v in x]


def clamp(x, c):
    return max(-c, min(c, x))


def estimator(name, logr, framework):
    if name == "k1":
        k = -logr
    elif name == "k2":
        k = logr * logr / 2
    else:
        l = clamp(logr, 20) if framework == "verl" else logr
        k = mp.expm1(l) - l
    if framework == "openrlhf" or (framework == "verl" and name == "k3"):
        k = clamp(k, 10)
    return k


def main():
    rng = np.random.default_rng(11)
    rows = []
    specs = [
        ("near", 40, 1.0, 0.1, 0.0),        # ref close to the policy: k3's low variance
        ("far", 60, 2.0, 1.5, 0.0),         # large KL
        ("tail", 300, 1.5, 0.8, 0.0),       # a longer vocabulary
        ("clamped", 50, 2.0, 0.5, 30.0),    # ref puts ~e^-30 on the policy's top tokens: clamps bite
    ]
    for name, v, scale, shift, hole in specs:
        a = rng.normal(0, scale, v)
        b = a + rng.normal(0, shift, v)
        if hole:
            top = np.argsort(-a)[:3]
            b[top] -= hole
            b[np.argsort(a)[:3]] += hole / 3
        lp = log_softmax([mp.mpf(float(x)) for x in a])
        lq = log_softmax([mp.mpf(float(x)) for x in b])
        lp64 = [float(x) for x in lp]
        lq64 = [float(x) for x in lq]
        # everything below from the float64 rows, as moonlab sees them
        lpm = [mp.mpf(x) for x in lp64]
        lqm = [mp.mpf(x) for x in lq64]
        lpm = log_softmax(lpm)
        lqm = log_softmax(lqm)
        p = [mp.exp(x) for x in lpm]
        exact = mp.fsum(pi * (x - y) for pi, x, y in zip(p, lpm, lqm))
        row = {"name": name, "logp": lp64, "ref_logp": lq64, "exact": float(exact), "estimators": {}}
        for est in ("k1", "k2", "k3"):
            row["estimators"][est] = {}
            for fw in ("none", "openrlhf", "verl"):
                ks = [estimator(est, y - x, fw) for x, y in zip(lpm, lqm)]
                e = mp.fsum(pi * k for pi, k in zip(p, ks))
                var = mp.fsum(pi * (k - e) ** 2 for pi, k in zip(p, ks))
                row["estimators"][est][fw] = {"expected": float(e), "variance": float(var)}
        rows.append(row)
    with open(os.path.join(HERE, "kl_lab.json"), "w") as f:
        json.dump({"meta": {"mpmath": mp.__version__, "dps": 50}, "rows": rows}, f, indent=1)
    print(f"wrote {len(rows)} rows")
    for r in rows:
        print(r["name"], r["exact"], r["estimators"]["k3"]["none"]["expected"], r["estimators"]["k3"]["verl"]["expected"],
              r["estimators"]["k3"]["openrlhf"]["expected"])


if __name__ == "__main__":
    main()
