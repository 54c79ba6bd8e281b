#!/usr/bin/env python3
"""Reference values for DistTests.swift, written ONCE to dist_cases.json beside this file.

Run: python3 Tests/AlignMathTests/Fixtures/generate_dist.py   (numpy 2.x, scipy 1.17, mpmath)

References (scipy, float64):
  log_softmax    scipy.special.log_softmax(x / T, axis=-1)
  softmax        scipy.special.softmax(x / T, axis=-1)
  logsumexp      scipy.special.logsumexp(x / T, axis=-1)
  entropy        scipy.stats.entropy(softmax(x / T), axis=-1)          (natural log)
  kl             scipy.special.rel_entr(P, Q).sum(-1), P = softmax(p/T), Q = softmax(q/T)
  js             scipy.spatial.distance.jensenshannon(P, Q, axis=-1) ** 2   (divergence)
  tv             0.5 * numpy.abs(P - Q).sum(-1)
  cross_entropy  -log_softmax(x / T)[target]
with probs=True the input is probabilities p and the logits are numpy.log(p).
Every scalar per-row value is cross-checked against mpmath at 40 digits and the mpmath
value is stored; where scipy disagrees by more than 1e-11 relative the script prints a
note (e.g. rel_entr gives inf when Q underflows to 0 in float64 although log Q is finite:
the reason moonlab computes KL from log-probabilities).

For Float cases the input is rounded to float32 first and the reference computed in
float64 from the rounded values (the Float tests allow 1e-4 relative error).

JSON cannot hold inf/nan: they are written as the strings "inf", "-inf", "nan".
Long rows are not stored: {"gen": {"seed": s, "n": n, "rows": r}} means the logits are
logit(i) for i in 0..<rows*n with splitmix64 (see gen_logits, mirrored in DistTests.swift).
"""
import json
import math
import os

import mpmath
import numpy as np
import scipy.spatial.distance as ssd
import scipy.special as sp
import scipy.stats as st

mpmath.mp.dps = 40
HERE = os.path.dirname(os.path.abspath(__file__))
M64 = (1 << 64) - 1


def gen_logits(seed, count):
    """Roughly normal logits (std ~2) from splitmix64 of the index: exact in f32 and f64."""
    i = np.arange(count, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = (i + np.uint64(seed << 40)) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    m = np.uint64(0xFFFF)
    v = (z & m) + ((z >> np.uint64(16)) & m) + ((z >> np.uint64(32)) & m) + (z >> np.uint64(48))
    return ((v.astype(np.float64) / 65536.0 - 2.0) * 3.0).astype(np.float32).astype(np.float64)


def enc(a):
    out = []
    for v in np.asarray(a, dtype=np.float64).ravel():
        out.append("nan" if math.isnan(v) else ("inf" if v == math.inf else ("-inf" if v == -math.inf else float(v))))
    return out


def mp_row(x, T, q=None, target=None):
    """lse, entropy, kl, js, tv, ce of one row in 40-digit arithmetic."""
    def logp(row):
        xs = [mpmath.mpf(float(v)) / T for v in row if v != -math.inf]
        lse = mpmath.log(mpmath.fsum(mpmath.exp(v) for v in xs))
        return lse, [(mpmath.mpf(float(v)) / T - lse) if v != -math.inf else None for v in row]
    lse, lp = logp(x)
    res = {"logsumexp": lse, "entropy": -mpmath.fsum(mpmath.exp(a) * a for a in lp if a is not None)}
    if target is not None:
        res["cross_entropy"] = -lp[target] if lp[target] is not None else mpmath.inf
    if q is not None:
        _, lq = logp(q)
        kl = mpmath.mpf(0)
        js = mpmath.mpf(0)
        tv = mpmath.mpf(0)
        for a, b in zip(lp, lq):
            P = mpmath.exp(a) if a is not None else mpmath.mpf(0)
            Q = mpmath.exp(b) if b is not None else mpmath.mpf(0)
            if a is not None:
                kl = mpmath.inf if b is None else kl + P * (a - b)
            Mm = (P + Q) / 2
            if P > 0:
                js += P * mpmath.log(P / Mm) / 2
            if Q > 0:
                js += Q * mpmath.log(Q / Mm) / 2
            tv += abs(P - Q) / 2
        res.update(kl=kl, js=js, tv=tv)
    return res


def reference(x, T, q=None, targets=None):
    x = np.atleast_2d(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        lsm = sp.log_softmax(x / T, axis=-1)
        out = {"softmax": enc(sp.softmax(x / T, axis=-1)), "log_softmax": enc(lsm),
               "logsumexp": enc(sp.logsumexp(x / T, axis=-1)),
               "entropy": enc(st.entropy(sp.softmax(x / T, axis=-1), axis=-1))}
        if targets is not None:
            out["cross_entropy"] = enc([-lsm[r, t] for r, t in enumerate(targets)])
        if q is not None:
            q = np.atleast_2d(q)
            P, Q = sp.softmax(x / T, axis=-1), sp.softmax(q / T, axis=-1)
            out["kl"] = enc(sp.rel_entr(P, Q).sum(-1))
            out["js"] = enc(ssd.jensenshannon(P, Q, axis=-1) ** 2)
            out["tv"] = enc(0.5 * np.abs(P - Q).sum(-1))
    # Cross-check every per-row scalar against mpmath.
    for r in range(x.shape[0]):
        m = mp_row(x[r], T, None if q is None else q[r], None if targets is None else targets[r])
        for k, v in m.items():
            ref = out[k][r]
            ref = float(ref) if not isinstance(ref, str) else float(ref)
            v = float(v)
            if v == ref:
                continue
            err = abs(v - ref) / max(abs(v), 1e-300) if not (math.isinf(v) or math.isinf(ref)) else math.inf
            if err > 1e-11 and abs(v - ref) > 1e-15:
                # scipy lost digits (cancellation); keep the 40-digit value instead.
                print(f"note: {k} row {r}: scipy {ref!r} vs mpmath {v!r}; using mpmath")
            out[k][r] = v
    return out


def case(name, x, dtype="f64", T=1.0, q=None, targets=None, probs=False, shape=None, gen=None):
    x = np.asarray(x, dtype=np.float64)
    shape = list(shape or x.shape)
    if dtype == "f32":
        x = x.astype(np.float32).astype(np.float64)
        if q is not None:
            q = np.asarray(q, dtype=np.float32).astype(np.float64)
    with np.errstate(divide="ignore"):
        lx = np.log(x) if probs else x
        lq = None if q is None else (np.log(np.asarray(q, dtype=np.float64)) if probs else np.asarray(q, dtype=np.float64))
    n = shape[-1]
    rows = int(np.prod(shape[:-1])) if len(shape) > 1 else 1
    exp = reference(lx.reshape(rows, n), T, None if lq is None else lq.reshape(rows, n), targets)
    c = {"name": name, "dtype": dtype, "shape": shape, "temperature": T, "probs": probs, "expected": exp}
    if gen is not None:
        c["gen"] = gen
    else:
        c["x"] = enc(x)
        if q is not None:
            c["q"] = enc(q)
    if targets is not None:
        c["targets"] = list(map(int, targets))
    return c


def main():
    rng = np.random.default_rng(20261123)
    inf = math.inf
    cases = []
    for dt in ("f64", "f32"):
        b = rng.normal(0, 2, size=(3, 7))
        bq = rng.normal(0, 2, size=(3, 7))
        cases.append(case(f"batch_3x7_{dt}", b, dt, q=bq, targets=[0, 6, 3]))
        cases.append(case(f"batch_3x7_T0.7_{dt}", b, dt, T=0.7, q=bq, targets=[1, 2, 3]))
        cases.append(case(f"vector_5_T2_{dt}", [2.0, 1.0, 0.5, -1.0, 3.0], dt, T=2.0,
                          q=[1.0, 1.0, 1.0, 1.0, -2.0], targets=[4], shape=[5]))
        cases.append(case(f"extreme_pm1e4_{dt}", [[1e4, -1e4, 0.0, 9999.0], [-1e4, -1e4, -1e4 + 1, -1e4 + 2]], dt,
                          q=[[-1e4, 1e4, 0.0, 1.0], [0.0, 0.0, 0.0, 1e4]], targets=[1, 3]))
        cases.append(case(f"masked_{dt}", [[0.5, -inf, 1.5, -inf, 0.0], [-inf, -inf, 2.0, -inf, -inf]], dt,
                          q=[[0.1, -inf, 0.2, 3.0, -inf], [1.0, 2.0, 0.0, -inf, -inf]], targets=[2, 2]))
        # P has mass on token 3 where Q is -inf: KL is exactly +inf.
        cases.append(case(f"kl_inf_{dt}", [[0.0, 1.0, 2.0, 3.0]], dt, q=[[0.0, 1.0, 2.0, -inf]], targets=[3]))
        cases.append(case(f"length1_{dt}", [[3.5], [-2.0]], dt, q=[[1.0], [7.0]], targets=[0, 0]))
        cases.append(case(f"batch3d_2x2x6_{dt}", rng.normal(0, 3, size=(2, 2, 6)), dt,
                          q=rng.normal(0, 3, size=(2, 2, 6)), targets=[5, 0, 2, 3]))
        p = np.array([[0.5, 0.25, 0.0, 0.25], [0.1, 0.2, 0.3, 0.4]])
        cases.append(case(f"probs_{dt}", p, dt, q=np.array([[0.25, 0.25, 0.25, 0.25], [0.4, 0.3, 0.2, 0.1]]),
                          probs=True, targets=[0, 3]))
        cases.append(case(f"probs_T1.5_{dt}", p, dt, T=1.5, q=np.array([[0.2, 0.2, 0.2, 0.4], [0.4, 0.3, 0.2, 0.1]]),
                          probs=True, targets=[1, 2]))
        cases.append(case(f"offset_1e4_{dt}", 1e4 + rng.normal(0, 1, size=(2, 9)), dt,
                          q=1e4 + rng.normal(0, 1, size=(2, 9)), targets=[0, 8]))
        # A GPT-2 vocabulary row (generated, not stored).
        n = 50257
        x = gen_logits(3, 2 * n).reshape(2, n)
        qx = gen_logits(4, 2 * n).reshape(2, n)
        c = case(f"vocab50257_{dt}", x, dt, q=qx, targets=[50256, 17], gen={"seed": 3, "qseed": 4, "n": n, "rows": 2})
        # Only keep a few softmax entries of the long rows.
        idx = [0, 1, 12345, 50256, n + 7, 2 * n - 1]
        c["expected"]["softmax_at"] = {"index": idx, "value": [c["expected"]["softmax"][i] for i in idx]}
        c["expected"]["log_softmax_at"] = {"index": idx, "value": [c["expected"]["log_softmax"][i] for i in idx]}
        del c["expected"]["softmax"], c["expected"]["log_softmax"]
        cases.append(c)
    with open(os.path.join(HERE, "dist_cases.json"), "w") as f:
        json.dump({"generator": "generate_dist.py", "cases": cases}, f, indent=0)
    print("wrote", len(cases), "cases")


if __name__ == "__main__":
    main()
