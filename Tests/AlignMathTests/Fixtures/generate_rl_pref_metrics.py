#!/usr/bin/env python3
"""Reference values for AlignMath's RL, Preference and Metrics tests, generated ONCE and
committed as rl_fixtures.json, pref_fixtures.json and metrics_fixtures.json beside this file.

    python3 Tests/AlignMathTests/Fixtures/generate_rl_pref_metrics.py

Needs numpy, scipy, mpmath, scikit-learn, nltk, rouge-score (test-time generation only; never a
runtime dependency of moonlab). Sources the formulas are taken from:
  - TRL trl/experimental/ppo/ppo_trainer.py: GAE loop, masked_whiten, pg/vf losses, approxkl
  - TRL trl/trainer/grpo_trainer.py (group advantages, eps 1e-4), trl/trainer/rloo_trainer.py
  - TRL trl/trainer/dpo_trainer.py (1.x `_compute_loss`, the loss_type branches), and TRL 0.x's
    `dpo_loss` (sigmoid with label smoothing, named `cdpo` here; bco_pair's running mean)
  - TRL trl/experimental/cpo/cpo_trainer.py (`cpo_loss`, simpo), trl/experimental/orpo/orpo_trainer.py
    (`odds_ratio_loss`, `log1mexp`), trl/trainer/kto_trainer.py (kto loss with the KL reference point)
  - TRL's AdaptiveKLController (Ziegler et al. 2019)
  - openai/human-eval human_eval/evaluation.py `estimate_pass_at_k`
  - nltk.translate.bleu_score.sentence_bleu + SmoothingFunction().method1; rouge_score.rouge_scorer
  - SQuAD v1.1 evaluate-v1.1.py (normalize_answer, exact_match_score, f1_score)
  - Guo et al. 2017 (gpleiss/temperature_scaling `_ECELoss`); sklearn roc_auc_score,
    average_precision_score.
Where TRL writes `1 - sigmoid(x)` the reference uses `expit(-x)` (the same number, exact for
tiny values); log-sigmoid is torch's stable form `min(x, 0) - log1p(exp(-|x|))`.
"""
import json
import os
import re
import string
from collections import Counter

import mpmath as mp
import numpy as np
from scipy.special import expit
from scipy.signal import lfilter
from sklearn.metrics import roc_auc_score, average_precision_score
from nltk.translate.bleu_score import sentence_bleu, SmoothingFunction
from rouge_score import rouge_scorer

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261123)


def L(x):
    # Vectors are written as repr strings: Swift's Double(String) reads them back exactly, while
    # Foundation's JSONSerialization on Linux can be off by an ulp (which ill-conditioned cases
    # such as logp - ref_logp = 1e-9 would amplify).
    return [repr(float(v)) for v in np.asarray(x, dtype=np.float64).ravel()]


def logsigmoid(x):
    x = np.asarray(x, dtype=np.float64)
    return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))


# ---------------------------------------------------------------- RL
def returns_ref(r, gamma, dones, last=0.0):
    out = np.zeros(len(r)); g = last
    for t in reversed(range(len(r))):
        g = r[t] + (0.0 if (dones is not None and dones[t]) else gamma * g)
        out[t] = g
    return out


def gae_ref(r, v, gamma, lam, dones, last_value):
    # TRL ppo_trainer.py loop, with (1 - done[t]) cutting bootstrap after step t.
    n = len(r); adv = np.zeros(n); lastgaelam = 0.0; nextvalues = last_value
    for t in reversed(range(n)):
        nonterminal = 0.0 if (dones is not None and dones[t]) else 1.0
        delta = r[t] + gamma * nextvalues * nonterminal - v[t]
        lastgaelam = delta + gamma * lam * nonterminal * lastgaelam
        adv[t] = lastgaelam
        nextvalues = v[t]
    return adv, adv + np.asarray(v)


def gae_lfilter(r, v, gamma, lam, last_value):
    vnext = np.append(v[1:], last_value)
    delta = r + gamma * vnext - v
    return lfilter([1], [1, -gamma * lam], delta[::-1])[::-1]


def whiten_ref(x, shift_mean):
    x = np.asarray(x); mean = x.mean(); var = ((x - mean) ** 2).mean() * (len(x) / (len(x) - 1))
    w = (x - mean) / np.sqrt(var + 1e-8)
    return w + mean if not shift_mean else w


def ppo_ref(logp, old, adv, clip, clip_high):
    diff = logp - old; ratio = np.exp(diff)
    hi = clip if clip_high is None else clip_high
    l1 = -adv * ratio; l2 = -adv * np.clip(ratio, 1 - clip, 1 + hi)
    return dict(loss=np.maximum(l1, l2).mean(), clipfrac=(l2 > l1).mean(),
                approx_kl=0.5 * (diff ** 2).mean(), ratio_mean=ratio.mean())


def vf_ref(v, old, ret, clip):
    vc = np.clip(v, old - clip, old + clip)
    l1 = (v - ret) ** 2; l2 = (vc - ret) ** 2
    return dict(loss=0.5 * np.maximum(l1, l2).mean(), clipfrac=(l2 > l1).mean())


def kl_ref(logp, ref, est):
    logr = ref - logp
    if est == "k1": return -logr
    if est == "k2": return 0.5 * logr ** 2
    # k3 = e^x - 1 - x exactly (mpmath, 50 digits) for the float64 x = ref - logp: numpy's
    # expm1(x) - x loses ~2.2e-16/|x| relative near 0 (1e-7 at x = 1e-9).
    mp.mp.dps = 50
    return np.array([float(mp.expm1(mp.mpf(float(x))) - mp.mpf(float(x))) for x in np.atleast_1d(logr)])


def group_ref(r, G, method, scale):
    r = np.asarray(r); g = r.reshape(-1, G)
    if method == "rloo":
        adv = (r - ((g.sum(1, keepdims=True) - g) / (G - 1)).ravel())
    else:
        adv = r - np.repeat(g.mean(1), G)
    if scale == "group":
        std = np.repeat(g.std(1, ddof=1), G) if G > 1 else np.full(len(r), np.nan)
        adv = adv / (std + 1e-4)
    elif scale == "batch":
        if method == "rloo":
            adv = (adv - adv.mean()) / (adv.std(ddof=1) + 1e-4)
        else:
            adv = adv / (r.std(ddof=1) + 1e-4)
    return np.nan_to_num(adv, nan=0.0)


def rl_fixtures():
    f = {}
    n = 64
    r = rng.normal(size=n); v = rng.normal(size=n); d = rng.random(n) < 0.12; d[-1] = False; d[5] = True
    f["returns"] = [
        dict(rewards=L(r), gamma=0.99, dones=None, last=0.0, expected=L(returns_ref(r, 0.99, None))),
        dict(rewards=L(r), gamma=0.9, dones=[bool(x) for x in d], last=0.5, expected=L(returns_ref(r, 0.9, d, 0.5))),
        dict(rewards=[2.5], gamma=0.9, dones=None, last=1.0, expected=L(returns_ref([2.5], 0.9, None, 1.0))),
        dict(rewards=[], gamma=0.9, dones=None, last=0.0, expected=[]),
    ]
    cases = []
    for dones, gamma, lam, last in [(None, 0.99, 0.95, 0.0), (d, 0.99, 0.95, 0.7), (d, 1.0, 1.0, -0.3)]:
        a, ret = gae_ref(r, v, gamma, lam, dones, last)
        if dones is None:
            assert np.allclose(a, gae_lfilter(r, v, gamma, lam, last), rtol=1e-12, atol=1e-12)
        cases.append(dict(rewards=L(r), values=L(v), gamma=gamma, lam=lam, last=last,
                          dones=None if dones is None else [bool(x) for x in dones], adv=L(a), ret=L(ret)))
    a, ret = gae_ref([1.0], [0.25], 0.9, 0.8, [True], 3.0)
    cases.append(dict(rewards=[1.0], values=[0.25], gamma=0.9, lam=0.8, last=3.0, dones=[True], adv=L(a), ret=L(ret)))
    a, ret = gae_ref([1.0], [0.25], 0.9, 0.8, None, 3.0)
    cases.append(dict(rewards=[1.0], values=[0.25], gamma=0.9, lam=0.8, last=3.0, dones=None, adv=L(a), ret=L(ret)))
    cases.append(dict(rewards=[], values=[], gamma=0.9, lam=0.8, last=0.0, dones=None, adv=[], ret=[]))
    f["gae"] = cases
    x = rng.normal(2.0, 3.0, size=20)
    f["whiten"] = [dict(x=L(x), shift_mean=s, expected=L(whiten_ref(x, s))) for s in (True, False)] + [
        dict(x=[1.0, 3.0], shift_mean=True, expected=L(whiten_ref(np.array([1.0, 3.0]), True)))]
    logp = rng.normal(-1, 0.5, 100); old = logp + rng.normal(0, 0.2, 100); adv = rng.normal(size=100)
    f["ppo"] = [dict(logp=L(logp), old=L(old), adv=L(adv), clip=c, clip_high=h, expected=ppo_ref(logp, old, adv, c, h))
                for c, h in [(0.2, None), (0.2, 0.28), (0.1, 0.0)]]
    vals = rng.normal(size=100); oldv = vals + rng.normal(0, 0.3, 100); rets = rng.normal(size=100)
    f["value_loss"] = [dict(values=L(vals), old=L(oldv), returns=L(rets), clip=c, expected=vf_ref(vals, oldv, rets, c))
                       for c in (0.2, 0.05)]
    lp = rng.normal(-2, 1, 50); rp = lp + rng.normal(0, 0.3, 50); rp[0] = lp[0]; rp[1] = lp[1] + 1e-9
    f["kl"] = [dict(logp=L(lp), ref=L(rp), estimator=e, expected=L(kl_ref(lp, rp, e))) for e in ("k1", "k2", "k3")]
    pen = []
    for e, beta in (("k1", 0.1), ("k3", 0.05)):
        k = -beta * kl_ref(lp[:10], rp[:10], e); k[-1] += 1.5
        pen.append(dict(score=1.5, logp=L(lp[:10]), ref=L(rp[:10]), beta=beta, estimator=e, expected=L(k)))
    f["kl_penalty"] = pen
    # batched: 3 rows of 6 tokens, lengths 6, 2, 4
    lens = [6, 2, 4]; scores = [0.5, -1.0, 2.0]; B = np.zeros(18)
    for i, ln in enumerate(lens):
        seg = -0.1 * kl_ref(lp[i * 6:i * 6 + ln], rp[i * 6:i * 6 + ln], "k1"); seg[-1] += scores[i]
        B[i * 6:i * 6 + ln] = seg
    f["kl_penalty_batch"] = dict(scores=scores, logp=L(lp[:18]), ref=L(rp[:18]), lengths=lens, expected=L(B))
    rw = rng.normal(size=24); rw[6:12] = 0.75  # a group with zero std
    rw[12:18] = np.round(rw[12:18])           # ties
    g = []
    for method, scale in [("grpo", "group"), ("grpo", "batch"), ("grpo", "none"), ("rloo", "none"),
                          ("rloo", "group"), ("rloo", "batch"), ("dr_grpo", "none")]:
        g.append(dict(rewards=L(rw), group_size=6, method=method, scale=scale, expected=L(group_ref(rw, 6, method, scale))))
    g.append(dict(rewards=L(rw[:5]), group_size=1, method="grpo", scale="group", expected=[0.0] * 5))
    f["group_advantages"] = g
    value = 0.2; seq = []
    for cur, steps in [(8.0, 256), (1.0, 256), (6.6, 512), (5.5, 100), (100.0, 10000)]:
        pe = np.clip(cur / 6.0 - 1, -0.2, 0.2); value *= 1 + pe * steps / 10000
        seq.append(dict(kl=cur, steps=steps, value=value))
    f["adaptive_kl"] = dict(init=0.2, target=6.0, horizon=10000.0, steps=seq)
    return f


# ---------------------------------------------------------------- Preference
def dpo_ref(pc, pr, rc, rr, beta, loss_type, ls=0.0, lc=None, lr=None, tau=0.05, bco_delta=0.0):
    """TRL 1.x DPOTrainer._compute_loss (trl/trainer/dpo_trainer.py), reverse_kl scores, one branch per
    loss_type, in float64; `cdpo` is TRL 0.x's sigmoid with label smoothing."""
    chosen_logratios = pc - rc
    rejected_logratios = pr - rr
    chosen_scores, rejected_scores = chosen_logratios, rejected_logratios
    delta_score = chosen_scores - rejected_scores
    if loss_type == "sigmoid":
        per = -logsigmoid(beta * delta_score)
    elif loss_type == "cdpo":
        logits = (pc - pr) - (rc - rr)
        per = -logsigmoid(beta * logits) * (1 - ls) - logsigmoid(-beta * logits) * ls
    elif loss_type == "hinge":
        per = np.maximum(0.0, 1 - beta * delta_score)
    elif loss_type == "ipo":
        ipo_delta = chosen_scores / np.maximum(lc, 1.0) - rejected_scores / np.maximum(lr, 1.0)
        per = (ipo_delta - 1 / (2 * beta)) ** 2
    elif loss_type == "exo_pair":
        qw = expit(beta * delta_score); log_qw = logsigmoid(beta * delta_score); log_pw = np.log1p(-ls)
        ql = expit(-beta * delta_score); log_ql = logsigmoid(-beta * delta_score); log_pl = np.log(ls)
        per = qw * (log_qw - log_pw) + ql * (log_ql - log_pl)
    elif loss_type == "nca_pair":
        c = beta * chosen_scores; r = beta * rejected_scores
        per = -logsigmoid(c) - 0.5 * logsigmoid(-c) - 0.5 * logsigmoid(-r)
    elif loss_type == "robust":
        clean = -(1 - ls) * logsigmoid(beta * delta_score)
        flipped = -ls * logsigmoid(-beta * delta_score)
        per = (clean - flipped) / (1 - 2 * ls)
    elif loss_type == "bco_pair":
        # TRL 1.x has no running mean (delta 0); TRL 0.x subtracted RunningMoments.mean.
        per = -logsigmoid(beta * chosen_scores - bco_delta) - logsigmoid(-(beta * rejected_scores - bco_delta))
    elif loss_type == "sppo_hard":
        per = (chosen_scores - 0.5 / beta) ** 2 + (rejected_scores + 0.5 / beta) ** 2
    elif loss_type == "aot":
        d = np.sort(pc - pr) - np.sort(rc - rr)
        per = -logsigmoid(beta * d) * (1 - ls) - logsigmoid(-beta * d) * ls
    elif loss_type == "aot_unpaired":
        d = np.sort(chosen_logratios) - np.sort(rejected_logratios)
        per = -logsigmoid(beta * d) * (1 - ls) - logsigmoid(-beta * d) * ls
    elif loss_type == "apo_zero":
        per = expit(-beta * chosen_logratios) + expit(beta * rejected_logratios)  # 1 - sigmoid(x) = expit(-x)
    elif loss_type == "apo_down":
        per = expit(beta * chosen_logratios) + expit(-beta * delta_score)
    elif loss_type == "discopop":
        logits = delta_score * beta
        mod = expit(logits / tau)
        with np.errstate(over="ignore", invalid="ignore"):
            literal = -logsigmoid(logits) * (1 - mod) + np.exp(-logits) * mod
        # TRL's literal form is NaN (inf * 0) where exp(-logits) overflows, and loses tiny values in
        # (1 - mod); there the same quantity is taken as -logsigmoid(l)*expit(-l/tau) + exp(-l + logsigmoid(l/tau)).
        stable = -logsigmoid(logits) * expit(-logits / tau) + np.exp(-logits + logsigmoid(logits / tau))
        per = np.where(np.isfinite(literal) & (mod < 0.5), literal, stable)
    elif loss_type == "sigmoid_norm":
        d = chosen_scores / np.maximum(lc, 1.0) - rejected_scores / np.maximum(lr, 1.0)
        per = -logsigmoid(beta * d)
    else:
        raise ValueError(loss_type)
    cr = beta * chosen_logratios; rjr = beta * rejected_logratios
    return dict(losses=L(per), chosen_rewards=L(cr), rejected_rewards=L(rjr), loss=float(per.mean()),
                accuracy=float((cr > rjr).mean()), margin=float((cr - rjr).mean()))


def pref_fixtures():
    f = {}
    n = 40
    rc_ = rng.normal(size=n) * 2; rj = rng.normal(size=n) * 2; rj[0] = rc_[0]; m = rng.random(n)
    rc_[1], rj[1] = 1000.0, -1000.0; rc_[2], rj[2] = -1000.0, 1000.0; rc_[3], rj[3] = 500.0, 0.0
    f["bt"] = [dict(chosen=L(rc_), rejected=L(rj), margin=None, losses=L(-logsigmoid(rc_ - rj)),
                    accuracy=float((rc_ > rj).mean())),
               dict(chosen=L(rc_), rejected=L(rj), margin=L(m), losses=L(-logsigmoid(rc_ - rj - m)),
                    accuracy=float((rc_ > rj).mean()))]
    S = rng.normal(size=(5, 4)); S[1] = [50.0, 0.0, -10.0, 0.0]; S[2] = [800.0, -np.inf, 0.0, 1.0]
    best = [2, 0, 0, 3, 1]
    mx = S.max(1, keepdims=True)
    lse = (mx + np.log(np.exp(S - mx).sum(1, keepdims=True))).ravel()
    ll = lse - S[np.arange(5), best]
    for i in range(5):  # tiny losses: log1p of the others when best is the max
        if S[i, best[i]] == mx[i, 0]:
            others = np.delete(S[i], best[i])
            ll[i] = np.log1p(np.exp(others - mx[i, 0]).sum())
    f["listwise"] = dict(scores=L(S), width=4, best=best,
                         expected=L(ll))
    pc = rng.normal(-60, 15, n); pr = rng.normal(-65, 15, n); rcf = pc + rng.normal(0, 3, n); rrf = pr + rng.normal(0, 3, n)
    pc[0], pr[0], rcf[0], rrf[0] = -10.0, -12.0, -11.0, -13.0      # exact tie of rewards (both +1)
    pc[1], rcf[1] = 0.0, -1000.0                                    # extreme +margin
    pr[2], rrf[2] = 0.0, -1000.0                                    # extreme -margin
    pc[3], rcf[3], pr[3], rrf[3] = -5000.0, -1.0, -1.0, -5000.0    # huge negative delta
    lc = rng.integers(0, 60, n).astype(float); lr = rng.integers(1, 60, n).astype(float); lc[4] = 0.0
    cases = []
    for lt in ["sigmoid", "hinge", "ipo", "robust", "exo_pair", "nca_pair", "bco_pair", "sppo_hard", "apo_zero",
               "apo_down", "discopop", "sigmoid_norm", "aot", "aot_unpaired", "cdpo"]:
        for beta, ls in [(0.1, 0.0), (0.5, 0.1)]:
            if lt == "exo_pair" and ls == 0.0:
                ls = 1e-3
            exp_ = dpo_ref(pc, pr, rcf, rrf, beta, lt, ls, lc, lr)
            cases.append(dict(loss_type=lt, beta=beta, label_smoothing=ls, **exp_))
    # bco_pair with TRL 0.x's running mean after one batch: the batch mean of all rewards
    beta = 0.1
    delta = float(np.concatenate([beta * (pc - rcf), beta * (pr - rrf)]).mean())
    cases.append(dict(loss_type="bco_pair", beta=beta, label_smoothing=0.0, bco_delta="batch",
                      **dpo_ref(pc, pr, rcf, rrf, beta, "bco_pair", bco_delta=delta)))
    cases.append(dict(loss_type="discopop", beta=0.1, label_smoothing=0.0, discopop_tau=0.5,
                      **dpo_ref(pc, pr, rcf, rrf, 0.1, "discopop", tau=0.5)))
    f["dpo_inputs"] = dict(pc=L(pc), pr=L(pr), rc=L(rcf), rr=L(rrf), lc=L(lc), lr=L(lr))
    f["dpo"] = cases
    # SimPO (CPO trainer): inputs are average log-probs
    ca = rng.normal(-1.0, 0.4, 30); ra = rng.normal(-1.3, 0.4, 30); ca[0] = ra[0]
    sim = []
    for beta, gamma, ls in [(2.0, 0.5, 0.0), (0.1, 0.5, 0.1)]:
        logits = (ca - ra) - gamma / beta
        per = -logsigmoid(beta * logits) * (1 - ls) - logsigmoid(-beta * logits) * ls
        sim.append(dict(beta=beta, gamma=gamma, label_smoothing=ls, losses=L(per), loss=float(per.mean()),
                        chosen_rewards=L(beta * ca), rejected_rewards=L(beta * ra)))
    f["simpo"] = dict(chosen=L(ca), rejected=L(ra), cases=sim)

    def log1mexp(x):
        return np.where(x < -0.6931471805599453, np.log1p(-np.exp(x)), np.log(-np.expm1(x)))
    ca2 = ca.copy(); ca2[1] = -1e-9; ra2 = ra.copy(); ra2[2] = -40.0
    log_odds = (ca2 - ra2) - (log1mexp(ca2) - log1mexp(ra2)); ratio = logsigmoid(log_odds)
    f["orpo"] = dict(chosen=L(ca2), rejected=L(ra2), beta=0.1, nll=1.25, losses=L(-0.1 * ratio),
                     loss=float(1.25 - (0.1 * ratio).mean()), log_odds=float(log_odds.mean()), ratio=float(ratio.mean()))
    kc = rng.normal(-50, 10, 12); krc = kc + rng.normal(0, 2, 12); ku = rng.normal(-55, 10, 9); kru = ku + rng.normal(0, 2, 9)
    klp = rng.normal(-60, 5, 8); klr = klp - np.abs(rng.normal(0, 1, 8))
    kto = []
    for beta, dw, uw in [(0.1, 1.0, 1.0), (0.5, 1.33, 0.75)]:
        kl = max((klp - klr).mean(), 0.0)
        cl = expit(-(beta * ((kc - krc) - kl))); ul = expit(-(beta * (kl - (ku - kru))))
        losses = np.concatenate([dw * cl, uw * ul])
        kto.append(dict(beta=beta, dw=dw, uw=uw, kl=kl, losses=L(losses), loss=float(losses.mean())))
    f["kto"] = dict(pc=L(kc), rc=L(krc), pr=L(ku), rr=L(kru), klp=L(klp), klr=L(klr), cases=kto)
    return f


# ---------------------------------------------------------------- Metrics
def estimate_pass_at_k(n, c, k):
    # human_eval/evaluation.py
    if n - c < k:
        return 1.0
    return 1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1))


def normalize_answer(s):
    # SQuAD v1.1 evaluate-v1.1.py
    def remove_articles(text): return re.sub(r'\b(a|an|the)\b', ' ', text)
    def white_space_fix(text): return ' '.join(text.split())
    def remove_punc(text):
        exclude = set(string.punctuation); return ''.join(ch for ch in text if ch not in exclude)
    return white_space_fix(remove_articles(remove_punc(s.lower())))


def f1_score(prediction, ground_truth):
    p = normalize_answer(prediction).split(); g = normalize_answer(ground_truth).split()
    common = Counter(p) & Counter(g); num_same = sum(common.values())
    if num_same == 0:
        return 0.0
    precision = 1.0 * num_same / len(p); recall = 1.0 * num_same / len(g)
    return (2 * precision * recall) / (precision + recall)


def ece_ref(conf, acc, n_bins):
    # gpleiss/temperature_scaling _ECELoss
    b = np.linspace(0, 1, n_bins + 1); ece = 0.0
    for lo, hi in zip(b[:-1], b[1:]):
        inb = (conf > lo) & (conf <= hi); prop = inb.mean()
        if prop > 0:
            ece += abs(acc[inb].mean() - conf[inb].mean()) * prop
    return float(ece)


def metrics_fixtures():
    f = {}
    pk = []
    for n in (1, 5, 10, 50, 200):
        for c in sorted({0, 1, 2, n // 3, n // 2, n - 1, n}):
            if c < 0 or c > n: continue
            for k in (1, 5, 10, 100):
                if k > n: continue
                pk.append(dict(n=n, c=c, k=k, expected=float(estimate_pass_at_k(n, c, k))))
    f["pass_at_k"] = pk
    texts = ["the cat sat on the mat", "the cat sat on the hat", "a dog ran in the park today",
             "the the the the", "", "one", "The cat, sat on the mat!"]
    dist = []
    for n in (1, 2, 3):
        grams = []
        for t in texts:
            tok = t.split(); grams += [tuple(tok[i:i + n]) for i in range(len(tok) - n + 1)]
        dist.append(dict(n=n, expected=len(set(grams)) / len(grams)))
    f["distinct"] = dict(texts=texts, cases=dist)
    sb = []
    for group in (texts[:4], ["a b c d e", "a b c d f", "x y z", "a b c d e"], ["hello world", "goodbye moon"]):
        for n in (1, 2, 4):
            toks = [t.split() for t in group]; sm = SmoothingFunction().method1
            vals = [sentence_bleu(toks[:i] + toks[i + 1:], toks[i], weights=tuple([1.0 / n] * n), smoothing_function=sm)
                    for i in range(len(toks))]
            sb.append(dict(texts=group, n=n, expected=float(np.mean(vals))))
    f["self_bleu"] = sb
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    pairs = [("The quick brown fox jumps over the lazy dog", "the quick brown dog jumps on the log."),
             ("Hello, World! 42 times", "hello world 42"), ("", "something"), ("abc", "xyz"),
             ("naïve café déjà vu", "naive cafe deja vu"), ("a b a b a", "b a b"), ("police killed the gunman", "the gunman police killed")]
    f["rouge_l"] = [dict(candidate=c, reference=r, expected=scorer.score(r, c)["rougeL"].fmeasure) for c, r in pairs]
    qa = [("The Eiffel Tower", "eiffel tower"), ("Paris, France.", "paris"), ("an apple a day", "apple day"),
          ("", ""), ("the", "a"), ("1,000 people", "1000 people"), ("Barack Obama", "Obama Barack Hussein"),
          ("a a b", "a b b"), ("New-York's  finest", "newyorks finest"), ("the the cat", "cat cat")]
    f["squad"] = [dict(prediction=p, truth=g, em=float(normalize_answer(p) == normalize_answer(g)), f1=f1_score(p, g))
                  for p, g in qa]
    conf = rng.random(200); conf[:8] = [0.0, 0.1, 0.2, 0.3, 0.7, 1.0, 0.05, 0.95]
    correct = (rng.random(200) < conf).astype(float)
    f["calibration"] = dict(conf=L(conf), correct=L(correct),
                            ece=[dict(bins=b, expected=ece_ref(conf, correct, b)) for b in (1, 10, 15)],
                            brier=float(((conf - correct) ** 2).mean()))
    s = np.round(rng.normal(size=300), 1); y = (rng.random(300) < expit(2 * s)).astype(float)
    s2 = np.array([0.5, 0.5, 0.5, 0.5, 0.1, 0.9]); y2 = np.array([1, 0, 1, 0, 0, 1.0])
    f["ranking"] = [dict(scores=L(a), labels=L(b), auroc=float(roc_auc_score(b, a)),
                         auprc=float(average_precision_score(b, a))) for a, b in [(s, y), (s2, y2)]]
    return f


if __name__ == "__main__":
    for name, fn in [("rl_fixtures.json", rl_fixtures), ("pref_fixtures.json", pref_fixtures),
                     ("metrics_fixtures.json", metrics_fixtures)]:
        with open(os.path.join(HERE, name), "w") as fh:
            json.dump(fn(), fh, indent=None, allow_nan=False)
            fh.write("\n")
        print("wrote", name)
