#!/usr/bin/env python3
"""transformers' top-p, typical and min-p warpers on rows with tied logits, on the CPU ->
torch_ties.json beside this file, which SamplingTorchTieTests compares moonlab's chains
against: the kept ids exactly and the probabilities.

Run by hand, never in CI, with the torch venv (torch 2.15, transformers 5.25, x86-64 CPU):
    /work/venv-torch/bin/python Tests/AlignMathTests/Fixtures/generate_torch_ties.py

On the CPU, torch.sort (stable=False) and torch.topk order equal values as libstdc++'s
std::sort / std::partial_sort / std::nth_element do over (value, index) pairs, not by
index. TopPLogitsWarper sorts the row ascending and keeps the last positions,
TypicalLogitsWarper keeps the first `min_tokens_to_keep` of its ascending sort and
MinPLogitsWarper restores `torch.topk(probs, min_tokens_to_keep)`: when tied tokens
straddle the cut, which of them stay depends on that order. Only such cases are written
(each one where a stable, lowest-index-first order keeps other ids: `stable_differs`),
plus a few where the cut falls between distinct values. Each case is one row of a
(1, V) batch ("1d") or one row of a (2, V) batch warped in one call ("2d"), float32 or
float64. Logits are q / 4 for small integers q (stored as `q`, base64 of int8), so ties
are common, as in bf16-rounded logits.
"""
import base64
import json
import os

import numpy as np
import torch
import transformers
from transformers.generation import logits_process as lp


def warper(kind, p, mk):
    if kind == "top_p":
        return lp.TopPLogitsWarper(p, min_tokens_to_keep=mk)
    if kind == "min_p":
        return lp.MinPLogitsWarper(p, min_tokens_to_keep=mk)
    return lp.TypicalLogitsWarper(p, min_tokens_to_keep=mk)


def stable_kept(kind, p, mk, row, dtype):
    """The same warper with torch.sort(stable=True) / a lowest-index-first topk."""
    s = torch.tensor([row], dtype=dtype)
    orig_sort, orig_topk = torch.sort, torch.topk

    def ssort(x, *a, **k):
        k["stable"] = True
        return orig_sort(x, *a, **k)

    def stopk(x, k, dim=-1, **kw):
        v, i = orig_sort(x, dim=dim, descending=True, stable=True)
        return torch.return_types.topk((v[..., :k], i[..., :k]))

    torch.sort, torch.topk = ssort, stopk
    try:
        out = warper(kind, p, mk)(torch.zeros((1, 1), dtype=torch.long), s)
    finally:
        torch.sort, torch.topk = orig_sort, orig_topk
    return torch.nonzero(out[0] > -float("inf")).flatten().tolist()


def main():
    rng = np.random.default_rng(54)
    cases = []
    plans = [  # (kind, V, spread of q, (p, min_keep) choices, cases wanted)
        ("top_p", 40, 3, [(0.5, 1), (0.7, 1), (0.9, 1), (0.3, 4)], 4),
        ("top_p", 300, 6, [(0.5, 1), (0.8, 1), (0.9, 1), (0.2, 8)], 4),
        ("top_p", 5000, 10, [(0.5, 1), (0.8, 1), (0.95, 1)], 2),
        ("top_p", 32000, 14, [(0.6, 1), (0.9, 1)], 1),
        ("typical", 40, 3, [(0.1, 6), (0.2, 10)], 4),
        ("typical", 300, 6, [(0.05, 20), (0.1, 30)], 4),
        ("typical", 5000, 10, [(0.05, 50), (0.02, 20)], 2),
        ("min_p", 40, 3, [(0.9, 6), (0.8, 10)], 4),
        ("min_p", 300, 6, [(0.9, 3), (0.9, 8)], 4),
        ("min_p", 5000, 10, [(0.95, 5), (0.9, 40)], 2),
    ]
    for kind, V, spread, choices, wanted in plans:
        for dname, dtype in (("f32", torch.float32), ("f64", torch.float64)):
            for shape in ("1d", "2d"):
                got = same = 0
                for attempt in range(400):
                    if got >= wanted:
                        break
                    p, mk = choices[attempt % len(choices)]
                    nrows = 1 if shape == "1d" else 2
                    q = np.round(rng.standard_normal((nrows, V)) * spread).astype(np.int64)
                    scores = torch.tensor(q, dtype=dtype) / 4
                    out = warper(kind, p, mk)(torch.zeros((nrows, 1), dtype=torch.long), scores.clone())
                    probs = torch.softmax(out, dim=-1)
                    for r in range(nrows):
                        row = scores[r].tolist()
                        kept = torch.nonzero(out[r] > -float("inf")).flatten().tolist()
                        differs = kept != stable_kept(kind, p, mk, row, dtype)
                        if not differs:
                            if same >= 1 or V > 1000:
                                continue
                            same += 1
                        else:
                            got += 1
                        cases.append({"name": f"{kind}/{V}/{dname}/{shape}/{len(cases)}", "kind": kind, "p": p,
                                      "min_keep": mk, "dtype": dname, "shape": shape, "row": r,
                                      "q": base64.b64encode(q[r].astype(np.int8).tobytes()).decode(), "ids": kept, "stable_differs": differs,
                                      "probs": [float(probs[r, i]) for i in kept]})
                print(kind, V, dname, shape, "cases differing from a stable order:", got)
    out = {"torch": torch.__version__, "transformers": transformers.__version__,
           "device": "cpu", "cases": cases}
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch_ties.json")
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"), allow_nan=False)
        f.write("\n")
    print(f"{len(cases)} cases -> {path}")


if __name__ == "__main__":
    main()
