#!/usr/bin/env python3
"""Reference values for rows whose logits are all -inf (issues 11 and 13), computed by torch,
written ONCE to dist_masked.json beside this file. Run by hand, never in CI:

    python -m venv /tmp/torch && /tmp/torch/bin/pip install torch numpy   # torch 2.x, CPU
    /tmp/torch/bin/python Tests/AlignMathTests/Fixtures/generate_dist_masked.py

Written with torch 2.15.0 (CPU); the version that ran is stored in the JSON ("torch").

moonlab's dist functions follow torch on such a row (no token left to give probability to),
one row at a time, so one such row does not lose a batch. The torch calls, with z = x / T
(logits) or z = log(p) / T (probs = true: p^(1/T) renormalised; a row of zeros is an
all -inf row, as torch's p / p.sum() is NaN for it, checked below):
  logsumexp      torch.logsumexp(z, -1)                                   -> -inf
  softmax        torch.softmax(z, -1)                                     -> NaN row
  log_softmax    torch.log_softmax(z, -1)                                 -> NaN row
  entropy        torch.distributions.Categorical(logits=z).entropy()      -> NaN
                 (= torch.special.entr(softmax(z)).sum(-1), checked)
  kl             F.kl_div(log_softmax(zq), log_softmax(zp), log_target=True,
                 reduction="none").sum(-1)                                -> NaN (either side)
                 (= torch.distributions.kl_divergence of the Categoricals, checked)
  js             (kl_div(log M, log P) + kl_div(log M, log Q)).sum(-1) / 2, M = (P + Q) / 2
                 (scipy's jensenshannon(P, Q) ** 2, moonlab's definition)  -> NaN
  tv             (P - Q).abs().sum(-1) / 2                                -> NaN
  cross_entropy  F.cross_entropy(z, target, reduction="none")             -> NaN; 0 for -100
  argmax         torch.argmax(x, -1)                                      -> 0 (first index)
  topk           torch.topk(x, k, -1).values: -inf; ids in moonlab's documented order of ties (the
                 lower id first: 0, 1, ...), which is torch.sort(x, descending=True, stable=True);
                 torch.topk leaves the order of ties unspecified (its CPU kernel gives ids
                 2, 4, 3, 0, 1 for five equal entries, -inf or not)
Other rows of each batch are finite and give their usual values (so a test sees that the
batch is kept). Float cases hold values exact in float32; the references are taken in
float64 from them, and the script checks that torch.float32 gives the same -inf/NaN
pattern (and the same ids).

JSON cannot hold inf/nan: they are written as the strings "inf", "-inf", "nan".
"""
import json
import math
import os

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
NINF = -math.inf


def enc(t):
    out = []
    for v in t.reshape(-1).tolist():
        out.append("nan" if math.isnan(v) else ("inf" if v == math.inf else ("-inf" if v == NINF else float(v))))
    return out


def logits(x, T, probs):
    return (torch.log(x) if probs else x) / T


def refs(x, y, targets, k, T, probs):
    """Every dist function's torch value for inputs x, y (float64 tensors of one shape)."""
    zx, zy = logits(x, T, probs), logits(y, T, probs)
    lp, lq = torch.log_softmax(zx, -1), torch.log_softmax(zy, -1)
    P, Q = lp.exp(), lq.exp()
    ent = torch.distributions.Categorical(logits=zx, validate_args=False).entropy()
    ent2 = torch.special.entr(torch.softmax(zx, -1)).sum(-1)
    assert torch.equal(ent.isnan(), ent2.isnan())
    kl = F.kl_div(lq, lp, log_target=True, reduction="none").sum(-1)
    kl2 = torch.distributions.kl_divergence(torch.distributions.Categorical(logits=zx, validate_args=False),
                                            torch.distributions.Categorical(logits=zy, validate_args=False))
    assert torch.equal(kl.isnan(), kl2.isnan()), (x, y, kl, kl2)
    lm = ((P + Q) / 2).log()
    js = 0.5 * (F.kl_div(lm, lp, log_target=True, reduction="none").sum(-1)
                + F.kl_div(lm, lq, log_target=True, reduction="none").sum(-1))
    tv = 0.5 * (P - Q).abs().sum(-1)
    V = x.shape[-1]
    ce = F.cross_entropy(zx.reshape(-1, V), torch.tensor(targets), reduction="none")
    if probs:  # the renormalised p^(1/T) directly: NaN for a row of zeros, as the softmax of its logs
        pt = x ** (1 / T)
        direct = pt / pt.sum(-1, keepdim=True)
        assert torch.equal(direct.isnan(), torch.softmax(zx, -1).isnan())
    # torch.topk leaves the order of ties unspecified (its CPU kernel gives [2, 4, 3, 0, 1] for five
    # equal entries); moonlab's documented order, the lower id first, is torch's stable descending sort,
    # whose first k values are torch.topk's
    top = torch.sort(x, stable=True, dim=-1, descending=True)
    top = torch.return_types.topk((top.values[..., :k], top.indices[..., :k]))
    assert torch.equal(top.values, torch.topk(x, k, -1).values)
    return {
        "logsumexp": torch.logsumexp(zx, -1), "softmax": torch.softmax(zx, -1),
        "log_softmax": torch.log_softmax(zx, -1), "entropy": ent, "kl": kl, "js": js, "tv": tv,
        "cross_entropy": ce, "argmax": torch.argmax(x, -1), "topk_ids": top.indices, "topk_values": top.values,
    }


def same_pattern(a, b):
    """torch.float32 against float64: the same NaN and infinities, the same ids."""
    if a.dtype in (torch.int64,):
        return torch.equal(a, b)
    a, b = a.double(), b.double()
    return torch.equal(a.isnan(), b.isnan()) and torch.equal(a.isinf(), b.isinf()) and \
        torch.equal(a[a.isinf()], b[b.isinf()])


def main():
    R = [0.5, -1.25, 2.0, 0.0, 1.5]
    S = [1.0, 0.25, -0.75, 3.0, -2.0]
    M = [NINF] * 5
    inputs = [
        # name, x rows, y rows, shape, targets (one per row), k, probs
        ("one row, V=3", [M[:3]], [R[:3]], [3], [1], 2, False),
        ("one row, V=5", [M], [M], [5], [0], 5, False),
        ("batch: p masked in rows 2, 4; q in rows 1, 4", [R, M, S, M], [M, S, R, M], [4, 5], [2, 0, 4, -100], 3, False),
        ("batch 3-d", [R[:4], M[:4], M[:4], S[:4]], [S[:4], S[:4], M[:4], R[:4]], [2, 2, 4], [3, -100, 1, 0], 2, False),
        ("probs with a row of zeros", [[0.2, 0.5, 0.3], [0, 0, 0], [0.5, 1.0, 3.0]], [[0, 0, 0], [0.1, 0.1, 0.8], [1, 1, 1]],
         [3, 3], [1, 2, 0], 2, True),
    ]
    cases = []
    for name, xr, yr, shape, targets, k, probs in inputs:
        for T in (1.0, 0.7):
            x = torch.tensor(xr, dtype=torch.float64).reshape(shape)
            y = torch.tensor(yr, dtype=torch.float64).reshape(shape)
            r64 = refs(x, y, targets, k, T, probs)
            r32 = refs(x.float(), y.float(), targets, k, T, probs)
            for key in r64:
                assert same_pattern(r32[key], r64[key]), (name, T, key, r32[key], r64[key])
            cases.append({"name": name, "shape": shape, "temperature": T, "probs": probs, "k": k,
                          "targets": targets, "x": enc(x), "y": enc(y),
                          "expected": {key: (v.reshape(-1).tolist() if v.dtype == torch.int64 else enc(v))
                                       for key, v in r64.items()}})
    with open(os.path.join(HERE, "dist_masked.json"), "w") as f:
        json.dump({"generator": "generate_dist_masked.py", "torch": torch.__version__, "cases": cases}, f, indent=0)
        f.write("\n")
    print(f"{len(cases)} cases, torch {torch.__version__}")


if __name__ == "__main__":
    main()
