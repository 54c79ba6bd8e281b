#!/usr/bin/env python3
"""Reference values for dist rows at the edges of the float range, computed by torch, written
ONCE to dist_extreme.json beside this file. Run by hand, never in CI:

    /path/to/venv/bin/python Tests/AlignMathTests/Fixtures/generate_dist_extreme.py   # torch 2.x, CPU

Written with torch 2.15.0 (CPU); the version that ran is stored in the JSON ("torch").

Two classes, each in a batch whose other rows are ordinary (so a test sees that they are kept):
- rows holding +inf (with and without a NaN): torch's logsumexp is +inf (NaN with a NaN),
  everything through log_softmax/softmax is NaN;
- tiny and huge temperatures: z = x / T as TemperatureLogitsWarper computes it, in the
  tensor's own dtype (T = 1e-30 is one-hot; an f32 row over 3.4e38 is inf, its row NaN).
The calls are generate_dist_masked.py's (entropy as torch.special.entr(softmax).sum(-1)), in
float64 and in float32 (each dtype's own values, since the f32 rows round x / T in f32); js
takes 0·log 0 as 0 where kl_div's formula gives NaN (disjoint one-hot rows: ln 2).

JSON cannot hold inf/nan: they are written as the strings "inf", "-inf", "nan".
"""
import json
import math
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from generate_dist_masked import enc  # noqa: E402
import torch.nn.functional as F  # noqa: E402

INF, NAN = math.inf, math.nan


def refs(x, y, targets, T):
    """generate_dist_masked.py's torch calls for the temperature-dependent functions."""
    zx, zy = x / T, y / T
    lp, lq = torch.log_softmax(zx, -1), torch.log_softmax(zy, -1)
    P, Q = lp.exp(), lq.exp()
    lm = ((P + Q) / 2).log()

    def kl_m(lx, X):  # Σ X (log X − log M) with 0·log 0 = 0 (kl_div gives 0·(-inf + inf) = NaN there)
        term = F.kl_div(lm, lx, log_target=True, reduction="none")
        return torch.where(X == 0, torch.zeros_like(term), term).sum(-1)
    return {
        "logsumexp": torch.logsumexp(zx, -1), "softmax": torch.softmax(zx, -1), "log_softmax": lp,
        "entropy": torch.special.entr(torch.softmax(zx, -1)).sum(-1),
        "kl": F.kl_div(lq, lp, log_target=True, reduction="none").sum(-1),
        "js": 0.5 * (kl_m(lp, P) + kl_m(lq, Q)),
        "tv": 0.5 * (P - Q).abs().sum(-1),
        "cross_entropy": F.cross_entropy(zx, torch.tensor(targets), reduction="none"),
    }


def main():
    R = [0.5, -1.25, 2.0, 0.0, 1.5]
    S = [1.0, 0.25, -0.75, 3.0, -2.0]
    L = [30.1, 30.1 - 3e-6, 29.9, 10.0, -4.0]
    inputs = [
        # name, x rows, y rows, targets (one per row), k (unused), temperatures
        ("rows holding +inf", [R, [INF, 1.0, 2.0, INF, 0.0], [INF, NAN, 0.0, 1.0, 2.0], S],
         [S, R, R, [1.0, INF, 0.0, 0.0, 0.0]], [2, 0, 1, 3], 2, (1.0, 0.7)),
        ("tiny and huge temperatures", [R, L, S, [1.0, 2.0, 3.0, 2.0, 1.0]],
         [S, R, L, [3.0, 2.0, 1.0, 0.0, -1.0]], [2, 0, 3, 1], 3, (1e-30, 1e-12, 1e-6, 1e30)),
        ("f32 overflow of x / T", [R, S], [S, R], [1, 4], 2, (1e-40, 1e-300)),
    ]
    cases = []
    for name, xr, yr, targets, k, temps in inputs:
        for T in temps:
            for dt, tag in ((torch.float64, "f64"), (torch.float32, "f32")):
                x = torch.tensor(xr, dtype=torch.float64).to(dt)
                y = torch.tensor(yr, dtype=torch.float64).to(dt)
                r = refs(x, y, targets, T)
                cases.append({"name": name, "dtype": tag, "shape": list(x.shape), "temperature": T, "k": k,
                              "targets": targets, "x": enc(x.double()), "y": enc(y.double()),
                              "expected": {key: (v.reshape(-1).tolist() if v.dtype == torch.int64 else enc(v.double()))
                                           for key, v in r.items()}})
    with open(os.path.join(HERE, "dist_extreme.json"), "w") as f:
        json.dump({"generator": "generate_dist_extreme.py", "torch": torch.__version__, "cases": cases}, f, indent=0)
        f.write("\n")
    print(f"{len(cases)} cases, torch {torch.__version__}")


if __name__ == "__main__":
    main()
