#!/usr/bin/env python3
"""Reference values for rows of only -inf outside `dist` (issues 11 and 13, after
generate_dist_masked.py), computed by torch, written ONCE to masked_rows.json beside this
file. Run by hand, never in CI:

    python -m venv /tmp/torch && /tmp/torch/bin/pip install torch numpy   # torch 2.x, CPU
    /tmp/torch/bin/python Tests/AlignMathTests/Fixtures/generate_masked_rows.py

Written with torch 2.15.0 (CPU); the version that ran is stored in the JSON ("torch").

  listwise   pref.listwise_loss(scores, best): F.cross_entropy(scores, best, reduction="none")
             (the Plackett-Luce top-1 / ListNet top-1 loss, -log_softmax(scores)[best]); a
             row of only -inf gives NaN, its other rows their values. No mean is returned;
             F.cross_entropy's mean of such a batch would be NaN (written as "mean").
  kl_lab     rl.kl_lab(logp, ref_logp): exact KL(policy || ref) per row as
             F.kl_div(log_softmax(ref), log_softmax(logp), log_target=True,
             reduction="none").sum(-1); a ref row of only -inf gives NaN (its log_softmax is
             NaN, and so is every estimator k1 = lp - lq, k2, k3 of it). A policy row of only
             -inf has nothing to draw tokens from: torch.multinomial(exp(log_softmax(row)))
             raises ("invalid multinomial distribution"), and moonlab raises too (as sample).
  entropy    dist.entropy(p, {probs = true}) = torch.special.entr(p / p.sum(-1)).sum(-1),
             and dist.entropy(x) = torch.special.entr(torch.softmax(x / T, -1)).sum(-1)
             (= Categorical(logits=x / T).entropy(), checked): exactly 0 for a one-hot row
             (entr(0) = 0, entr(1) = 0) and for logits {0, -inf, ...}, and the exact tiny value
             for nearly one-hot rows such as {0, -700}. (Categorical(probs=p).entropy() is not
             the peer for one-hot rows: it clamps p to [eps, 1 - eps] and gives eps, 2.2e-16.)

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
    for v in torch.as_tensor(t).reshape(-1).tolist():
        out.append("nan" if math.isnan(v) else ("inf" if v == math.inf else ("-inf" if v == NINF else float(v))))
    return out


def listwise():
    cases = []
    for name, rows, best in [
        ("batch, row 2 all -inf", [[2.0, 1.0, 0.0], [NINF, NINF, NINF], [0.0, 3.0, 1.0]], [0, 1, 1]),
        ("batch, rows 1 and 3 all -inf, best excluded in row 2",
         [[NINF, NINF], [1.0, NINF], [NINF, NINF], [0.5, 0.25]], [0, 1, 1, 0]),
        ("one row, all -inf", [[NINF, NINF, NINF, NINF]], [2]),
    ]:
        s = torch.tensor(rows, dtype=torch.float64)
        t = torch.tensor(best)
        got = F.cross_entropy(s, t, reduction="none")
        assert torch.allclose(got, -torch.log_softmax(s, -1)[torch.arange(len(best)), t], equal_nan=True)
        cases.append({"name": name, "width": len(rows[0]), "scores": enc(s), "best": best,
                      "expected": enc(got), "mean": enc(F.cross_entropy(s, t))})
    return cases


def kl_lab():
    cases = []
    for name, lp, lq in [
        ("ref row 2 all -inf", [[0.0, 1.0, -1.0], [1.0, 2.0, 0.5], [0.3, 0.3, 0.3]],
         [[0.5, 0.0, 0.0], [NINF, NINF, NINF], [1.0, NINF, 0.0]]),
        ("one row, ref all -inf", [[2.0, NINF, 0.0, 1.0]], [[NINF, NINF, NINF, NINF]]),
    ]:
        P, Q = torch.tensor(lp, dtype=torch.float64), torch.tensor(lq, dtype=torch.float64)
        lP, lQ = torch.log_softmax(P, -1), torch.log_softmax(Q, -1)
        exact = F.kl_div(lQ, lP, log_target=True, reduction="none").sum(-1)
        k1 = lP - lQ
        masked = torch.isneginf(Q).all(-1)
        assert torch.equal(exact.isnan(), masked) and torch.equal(k1.isnan().all(-1), masked)
        cases.append({"name": name, "width": len(lp[0]), "logp": enc(P), "ref": enc(Q), "exact": enc(exact)})
    try:
        torch.multinomial(torch.log_softmax(torch.tensor([NINF, NINF]), -1).exp(), 4, replacement=True)
        draw_error = None
    except RuntimeError as e:
        draw_error = str(e)
    assert draw_error is not None
    return cases, draw_error


def entropy():
    cases = []
    for name, rows, probs, T in [
        ("probs one-hot", [[0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 2.0], [0.5, 0.5]], True, 1.0),
        ("probs one-hot, T 0.7", [[0.0, 1.0], [0.0, 0.0, 3.0]], True, 0.7),
        ("probs one-hot of 1000", [[0.0] * 999 + [1.0], [0.0] * 500 + [1.0] + [0.0] * 499], True, 1.0),
        ("logits with -inf", [[0.0, NINF], [NINF, 3.0, NINF], [NINF, NINF, NINF, NINF, -2.5], [1.0, 0.0]], False, 1.0),
        ("logits with -inf, T 0.7", [[0.0, NINF], [NINF, 3.0, NINF, NINF, NINF]], False, 0.7),
        ("nearly one-hot (f64 only)", [[0.0, -700.0], [0.0, -720.0, NINF], [-5.0, -5.0 - 710.0], [0.0, -30.0]], False, 1.0),
    ]:
        for dt in (torch.float64, torch.float32):
            if "f64 only" in name and dt == torch.float32:
                continue
            width = max(len(r) for r in rows)
            groups = {}
            for r in rows:  # rows of one width form one batch
                groups.setdefault(len(r), []).append(r)
            for w, rs in groups.items():
                x = torch.tensor(rs, dtype=dt)
                z = (torch.log(x / x.sum(-1, keepdim=True)) if probs else x) / T
                if probs and T == 1.0:
                    want = torch.special.entr(x / x.sum(-1, keepdim=True)).sum(-1)
                else:
                    want = torch.special.entr(torch.softmax(z, -1)).sum(-1)
                cat = torch.distributions.Categorical(logits=z, validate_args=False).entropy()
                if "nearly" not in name:  # Categorical(logits) agrees (not for the tiny values)
                    assert torch.allclose(cat, want, rtol=1e-6, atol=0), (name, cat, want)
                cases.append({"name": name, "dtype": "f32" if dt == torch.float32 else "f64", "probs": probs,
                              "temperature": T, "shape": list(x.shape), "x": enc(x.double()),
                              "expected": enc(want.double())})
    return cases


def main():
    kl, draw_error = kl_lab()
    out = {"generator": "generate_masked_rows.py", "torch": torch.__version__,
           "listwise": listwise(), "kl_lab": kl, "multinomial_error": draw_error, "entropy": entropy()}
    with open(os.path.join(HERE, "masked_rows.json"), "w") as f:
        json.dump(out, f, indent=0)
        f.write("\n")
    print(f"torch {torch.__version__}: {len(out['listwise'])} listwise, {len(kl)} kl_lab, "
          f"{len(out['entropy'])} entropy cases")
    for c in out["entropy"]:
        print(c["name"], c["dtype"], c["expected"])


if __name__ == "__main__":
    main()
