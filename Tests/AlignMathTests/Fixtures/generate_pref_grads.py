#!/usr/bin/env python3
"""Gradients of the preference losses by torch autograd (run once by hand, output committed).

    /work/venv-peers/bin/python Tests/AlignMathTests/Fixtures/generate_pref_grads.py

Writes pref_grads.json beside this file; PreferenceGradientTests compares
Preference.dpoGradients / simpoGradients / orpoGradients / ktoGradients with it.

Each loss is written out in torch float64 line by line from TRL 1.16
(trl/trainer/dpo_trainer.py `_compute_loss` for the DPO family, TRL 0.x's label-smoothed
sigmoid for cdpo, trl/experimental/cpo/cpo_trainer.py `cpo_loss` with loss_type="simpo",
trl/experimental/orpo/orpo_trainer.py `odds_ratio_loss`, trl/trainer/kto_trainer.py with
loss_type="kto"), its mean taken, and `backward()` gives d(mean loss) / d(policy log-probs).
Where TRL's own function can be called without a model (cpo_loss, odds_ratio_loss), the
script also calls it on the same inputs (float32 inside ORPO's) and checks that the losses
agree, so the float64 copies are TRL's formulas.
"""
import json
import math
import os
import types

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
torch.set_default_dtype(torch.float64)


def dpo_losses(kind, pc, pr, rc, rr, beta, ls, tau, lc=None, lr=None, delta=0.0):
    chosen_logratios = pc - rc
    rejected_logratios = pr - rr
    delta_score = chosen_logratios - rejected_logratios
    if kind == "sigmoid":
        return -F.logsigmoid(beta * delta_score)
    if kind == "hinge":
        return torch.relu(1 - beta * delta_score)
    if kind == "ipo":
        d = chosen_logratios / lc.clamp(min=1.0) - rejected_logratios / lr.clamp(min=1.0)
        return (d - 1 / (2 * beta)) ** 2
    if kind == "exo_pair":
        eps = torch.tensor(ls)
        qw = torch.sigmoid(beta * delta_score)
        log_qw = F.logsigmoid(beta * delta_score)
        ql = torch.sigmoid(-beta * delta_score)
        log_ql = F.logsigmoid(-beta * delta_score)
        return qw * (log_qw - torch.log1p(-eps)) + ql * (log_ql - torch.log(eps))
    if kind == "nca_pair":
        c, r = beta * chosen_logratios, beta * rejected_logratios
        return -F.logsigmoid(c) - 0.5 * F.logsigmoid(-c) - 0.5 * F.logsigmoid(-r)
    if kind == "robust":
        clean = -(1 - ls) * F.logsigmoid(beta * delta_score)
        flipped = -ls * F.logsigmoid(-beta * delta_score)
        return (clean - flipped) / (1 - 2 * ls)
    if kind == "bco_pair":
        c, r = beta * chosen_logratios, beta * rejected_logratios
        return -F.logsigmoid(c - delta) - F.logsigmoid(-(r - delta))
    if kind == "sppo_hard":
        return (chosen_logratios - 0.5 / beta) ** 2 + (rejected_logratios + 0.5 / beta) ** 2
    if kind == "aot":
        a, _ = torch.sort(pc - pr, dim=0, stable=True)
        b, _ = torch.sort(rc - rr, dim=0, stable=True)
        d = a - b
        return -F.logsigmoid(beta * d) * (1 - ls) - F.logsigmoid(-beta * d) * ls
    if kind == "aot_unpaired":
        a, _ = torch.sort(chosen_logratios, dim=0, stable=True)
        b, _ = torch.sort(rejected_logratios, dim=0, stable=True)
        d = a - b
        return -F.logsigmoid(beta * d) * (1 - ls) - F.logsigmoid(-beta * d) * ls
    if kind == "apo_zero":
        return (1 - torch.sigmoid(beta * chosen_logratios)) + torch.sigmoid(beta * rejected_logratios)
    if kind == "apo_down":
        return torch.sigmoid(beta * chosen_logratios) + (1 - torch.sigmoid(beta * delta_score))
    if kind == "discopop":
        logits = delta_score * beta
        m = torch.sigmoid(logits / tau)
        return -F.logsigmoid(logits) * (1 - m) + torch.exp(-logits) * m
    if kind == "sigmoid_norm":
        d = chosen_logratios / lc.clamp(min=1.0) - rejected_logratios / lr.clamp(min=1.0)
        return -F.logsigmoid(beta * d)
    if kind == "cdpo":
        x = beta * ((pc - pr) - (rc - rr))
        return -F.logsigmoid(x) * (1 - ls) - F.logsigmoid(-x) * ls
    raise ValueError(kind)


def grads(loss_fn, *leaves):
    leaves = [torch.tensor(x, requires_grad=True) for x in leaves]
    losses = loss_fn(*leaves)
    mean = losses.mean()
    mean.backward()
    return float(mean), [l.grad.tolist() for l in leaves]


def main():
    rng = np.random.default_rng(16)
    cases = []
    kinds = ["sigmoid", "hinge", "ipo", "exo_pair", "nca_pair", "robust", "bco_pair", "sppo_hard", "aot",
             "aot_unpaired", "apo_zero", "apo_down", "discopop", "sigmoid_norm", "cdpo"]
    smoothing = {"exo_pair": 0.01, "robust": 0.1, "aot": 0.1, "aot_unpaired": 0.2, "cdpo": 0.15}
    for kind in kinds:
        for beta in (0.1, 0.5):
            n = 7
            pc = (rng.normal(-40, 15, n)).tolist()
            pr = (rng.normal(-45, 15, n)).tolist()
            rc = (rng.normal(-42, 15, n)).tolist()
            rr = (rng.normal(-43, 15, n)).tolist()
            lc = rng.integers(1, 60, n).astype(float).tolist()
            lr = rng.integers(0, 60, n).astype(float).tolist()  # a 0 length is clamped to 1
            ls = smoothing.get(kind, 0.0)
            tau = 0.05
            delta = 0.3 if kind == "bco_pair" and beta == 0.5 else 0.0
            L = lambda a, b: dpo_losses(kind, a, b, torch.tensor(rc), torch.tensor(rr), beta, ls, tau,
                                         torch.tensor(lc), torch.tensor(lr), delta)
            mean, (gc, gr) = grads(L, pc, pr)
            cases.append({"family": "dpo", "loss": kind, "beta": beta, "label_smoothing": ls, "discopop_tau": tau,
                          "bco_delta": delta, "policy_chosen": pc, "policy_rejected": pr, "ref_chosen": rc,
                          "ref_rejected": rr, "chosen_len": lc, "rejected_len": lr, "mean_loss": mean,
                          "grad_chosen": gc, "grad_rejected": gr})

    # SimPO (cpo_loss with loss_type="simpo") on average log-probabilities from sums / lengths.
    for beta, gamma, ls in ((2.0, 0.5, 0.0), (0.1, 0.5, 0.1)):
        n = 6
        c = rng.normal(-60, 20, n).tolist()
        r = rng.normal(-70, 20, n).tolist()
        lc = rng.integers(1, 50, n).astype(float).tolist()
        lr = rng.integers(1, 50, n).astype(float).tolist()

        def simpo(a, b):
            ca, ra = a / torch.tensor(lc).clamp(min=1.0), b / torch.tensor(lr).clamp(min=1.0)
            logits = (ca - ra) - gamma / beta
            return -F.logsigmoid(beta * logits) * (1 - ls) - F.logsigmoid(-beta * logits) * ls

        mean, (gc, gr) = grads(simpo, c, r)
        from trl.experimental.cpo.cpo_trainer import CPOTrainer
        fake = types.SimpleNamespace(alpha=0.0, loss_type="simpo", simpo_gamma=gamma, beta=beta, label_smoothing=ls,
                                     accelerator=types.SimpleNamespace(device="cpu"))
        ca = torch.tensor(c) / torch.tensor(lc)
        ra = torch.tensor(r) / torch.tensor(lr)
        trl_losses, _, _ = CPOTrainer.cpo_loss(fake, ca, ra)
        assert abs(float(trl_losses.mean()) - mean) < 1e-12, "simpo copy differs from TRL's cpo_loss"
        cases.append({"family": "simpo", "beta": beta, "gamma": gamma, "label_smoothing": ls, "chosen": c,
                      "rejected": r, "chosen_len": lc, "rejected_len": lr, "mean_loss": mean,
                      "grad_chosen": gc, "grad_rejected": gr})

    # ORPO (odds_ratio_loss): the preference term -beta * logsigmoid(log_odds), mean.
    for beta, lengths in ((0.1, False), (0.25, True)):
        n = 6
        lc = rng.integers(1, 40, n).astype(float).tolist()
        lr = rng.integers(1, 40, n).astype(float).tolist()
        avg_c = -rng.uniform(0.05, 3.0, n)
        avg_r = -rng.uniform(0.05, 3.0, n)
        c = (avg_c * lc).tolist() if lengths else avg_c.tolist()
        r = (avg_r * lr).tolist() if lengths else avg_r.tolist()

        def log1mexp(x):
            return torch.where(x < -0.6931471805599453, torch.log1p(-torch.exp(x)), torch.log(-torch.expm1(x)))

        def orpo(a, b):
            ca = a / torch.tensor(lc) if lengths else a
            ra = b / torch.tensor(lr) if lengths else b
            log_odds = (ca - ra) - (log1mexp(ca) - log1mexp(ra))
            return -(beta * F.logsigmoid(log_odds))

        mean, (gc, gr) = grads(orpo, c, r)
        from trl.experimental.orpo.orpo_trainer import ORPOTrainer
        fake = types.SimpleNamespace(beta=beta, accelerator=types.SimpleNamespace(device="cpu"))
        trl_losses, *_ = ORPOTrainer.odds_ratio_loss(fake, torch.tensor(avg_c), torch.tensor(avg_r))
        assert abs(-float(trl_losses.mean()) - mean) < 1e-6, "orpo copy differs from TRL's odds_ratio_loss"
        case = {"family": "orpo", "beta": beta, "chosen": c, "rejected": r, "mean_loss": mean,
                "grad_chosen": gc, "grad_rejected": gr}
        if lengths:
            case["chosen_len"], case["rejected_len"] = lc, lr
        cases.append(case)

    # KTO: unpaired, a detached reference point, weights.
    for beta, kl, wd, wu, nc, nr in ((0.1, 0.4, 1.0, 1.0, 5, 3), (0.5, None, 1.33, 0.8, 2, 6)):
        pc = rng.normal(-30, 10, nc).tolist()
        rc = rng.normal(-31, 10, nc).tolist()
        pr = rng.normal(-35, 10, nr).tolist()
        rr = rng.normal(-33, 10, nr).tolist()
        klp = rng.normal(-50, 5, 4).tolist()
        klr = rng.normal(-51, 5, 4).tolist()
        z = max(kl, 0.0) if kl is not None else max(float(np.mean(np.array(klp) - np.array(klr))), 0.0)

        def kto(a, b):
            zt = torch.tensor(z)
            chosen = 1 - torch.sigmoid(beta * ((a - torch.tensor(rc)) - zt))
            rejected = 1 - torch.sigmoid(beta * (zt - (b - torch.tensor(rr))))
            return torch.cat((wd * chosen, wu * rejected), 0)

        mean, (gc, gr) = grads(kto, pc, pr)
        case = {"family": "kto", "beta": beta, "desirable_weight": wd, "undesirable_weight": wu,
                "policy_chosen": pc, "ref_chosen": rc, "policy_rejected": pr, "ref_rejected": rr,
                "mean_loss": mean, "grad_chosen": gc, "grad_rejected": gr}
        if kl is not None:
            case["kl"] = kl
        else:
            case["kl_policy"], case["kl_ref"] = klp, klr
        cases.append(case)

    meta = {"torch": torch.__version__, "source": "TRL 1.16 formulas in float64, torch autograd"}
    with open(os.path.join(HERE, "pref_grads.json"), "w") as f:
        json.dump({"meta": meta, "cases": cases}, f, indent=1)
    print(f"wrote {len(cases)} cases")


if __name__ == "__main__":
    main()
