#!/usr/bin/env python3
"""Randomized differential test of "the lab" (lua-api.md: sample.compare, chain:distribution,
chain:logprob, rl.kl_lab, rl.dry_run) and of reward.normalize, reward.check and
reward.combine against the peers' formulas. Hand-run, never in CI (moonlab never runs Python).

    swift build
    /work/venv-torch/bin/python Tests/Differential/lab_diff.py     # --seed N --only CATEGORY --keep

It needs numpy, scipy, torch and transformers (the venv of sampling_diff.py) and reuses
peer_diff.py's runner (one `moonlab run` script per batch, the answers as JSON lines) and its
TRL 1.16 group-advantage formula. Peers, each re-stated here with its source named beside it
(no peer code is copied into moonlab):

- compare: sample.compare's "vllm" engine against vLLM's v1 sampler re-stated op by op in
  torch float32 from vLLM's source (vllm-project/vllm: vllm/v1/sample/sampler.py at
  3e342658 (Sampler.forward / sample: float32, logit bias, penalties, greedy when
  temperature < 1e-5, temperature, min-p, top-k/top-p), vllm/v1/sample/ops/topk_topp_sampler.py
  at 3babc05a and 01fa3fe7 (apply_top_k_top_p[_pytorch], apply_top_k_only),
  vllm/v1/sample/logits_processor/builtin.py at 0272a72c (MinPLogitsProcessor,
  LogitBiasLogitsProcessor), vllm/model_executor/layers/utils.py at 00358600
  (apply_penalties) with vllm/_custom_ops.py (apply_repetition_penalties_torch) and the input
  batch's switches (vllm/v1/worker/gpu_input_batch.py: top_p applied below 1, top_k in
  (0, vocab)); and its "transformers" engine against transformers 5.25's own processors in
  GenerationMixin._get_logits_processor's order (generation/utils.py: SequenceBias,
  RepetitionPenalty, then with do_sample Temperature (t != 1), TopK (k != 0), TopP (p < 1),
  MinP, Typical (p < 1), Epsilon/Eta (0 < e < 1); greedy = argmax without warpers). llama.cpp's
  engine is left to the llama.cpp differential. Pairs: the ids kept by one engine only and the
  total variation, from the two reference distributions.
- logprob: chain:logprob (processed, raw) and chain:distribution against transformers' warpers
  (the same chain as a LogitsProcessorList, torch's default sorts as sampling_diff.py) and
  torch.log_softmax in float64.
- kl_lab: the exact KL per row against scipy.special.log_softmax / rel_entr in log space
  (-inf entries, supports that differ, rows where the reference excludes a policy token: +inf;
  reference rows of only -inf: NaN for that row and all its statistics, as torch's log_softmax);
  the Monte-Carlo statistics recomputed in numpy from the draws moonlab reports (mean, bias =
  mean - exact, ddof-1 variance, stderr, expected, expected_bias, expected_variance; OpenRLHF
  0.11's clamp of every estimate to [-10, 10]; verl's k3 clamp of log r to [-20, 20] then the
  estimate to [-10, 10]); the draws must be tokens of the policy's support.
- dry_run: grpo and rloo against TRL 1.16 (peer_diff.group_peer: GRPOTrainer /
  RLOOTrainer._generate_and_score_completions), group_std and frac_reward_zero_std against
  GRPOTrainer's nanstd / torch.isclose (zeros for num_generations = 1), dr_grpo (r - nanmean),
  reinforce_baseline against OpenRLHF 0.11's experience_maker (r - group mean; "batch" the
  token-weighted whitening with rsqrt(clamp(var, 1e-8))), zero_fraction = mean(isclose(adv, 0)),
  and the per-token weights as d loss / d per_token_loss of TRL 1.16's compute_loss
  (bnpo: sum / clamp(mask.sum(), 1); grpo: per-sequence sum / clamp(len, 1) then mean; luspo:
  per-sequence sum then mean; dr_grpo: sum / (N * max_completion_length)), by torch autograd;
  and against verl's agg_loss (volcengine/verl verl/trainer/ppo/core_algos.py at b178a3cd:
  token-mean, seq-mean-token-sum, seq-mean-token-mean) where no completion is empty.
- normalize: reward.normalize against scipy.stats.zscore (ddof 0, nan_policy "omit"),
  scipy.stats.rankdata (method "average", scaled to [0, 1]) and numpy's min-max, with the
  docstring's "all equal gives zeros".
- reward: reward.check on Lua rewards that are deterministic, count their calls, return NaN,
  nil, a string or raise on chosen rows, against the report the docstring defines; and
  reward.combine with constant and state-dependent weights against TRL's nansum of weighted
  parts (None parts left out, all None gives None).

Exit status 0 when nothing differs; each difference is printed with its Lua chunk.
Accepted differences are counted as "known" (Tests/Differential/README.md, lab_diff.py).
"""
import argparse
import math
import os
import shutil
import sys
import tempfile

import numpy as np
import scipy
import scipy.special
import scipy.stats
import torch
import transformers
from transformers import (EpsilonLogitsWarper, EtaLogitsWarper, LogitsProcessorList,
                          MinPLogitsWarper, RepetitionPenaltyLogitsProcessor,
                          SequenceBiasLogitsProcessor, TemperatureLogitsWarper, TopKLogitsWarper,
                          TopPLogitsWarper, TypicalLogitsWarper)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_diff as pd  # noqa: E402  (the runner, Lua literals, TRL's group advantages)



class Case:
    def __init__(self, cat, lua, check, note=""):
        self.cat = cat
        self.lua = lua      # Lua statements ending in `return ...`
        self.check = check  # vals -> None | message | ("known", reason, message)
        self.note = note


RAISES = object()  # a check's answer to a Lua error it expects


def expect_error(cat, lua, why):
    return Case(cat, lua, lambda vals: RAISES if vals is None else f"moonlab answered where it must refuse ({why})", note=why)


def npy(a):
    return pd.lua_npy(a)


def ids_of(v):
    if isinstance(v, dict) and "__t" in v:
        return [int(x) for x in v["v"]]
    return [int(x) for x in v]


def arr_of(v):
    a, _ = pd.as_array(v)
    return None if a is None else np.asarray(a, dtype=np.float64)


def close(got, want, rtol, atol=0.0):
    return pd.close(np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64), rtol, atol)


_torch_sort, _torch_argsort = torch.sort, torch.argsort


def stable_sorts(on):
    """As sampling_diff.py: `on` makes torch's sorts stable (ties by id). moonlab's
    transformers semantics follow torch 2.15's default CPU order for ties (TorchTieOrder.swift),
    so the references run with `on` False."""
    if on:
        torch.sort = lambda *a, **k: _torch_sort(*a, **{**k, "stable": True})
        torch.argsort = lambda *a, **k: _torch_argsort(*a, **{**k, "stable": True})
        torch.Tensor.sort = lambda self, *a, **k: _torch_sort(self, *a, **{**k, "stable": True})
    else:
        torch.sort, torch.argsort = _torch_sort, _torch_argsort
        torch.Tensor.sort = lambda self, *a, **k: _torch_sort(self, *a, **k)


def softmax64(x):
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros_like(x)
    fin = np.isfinite(x)
    if fin.any():
        m = x[fin].max()
        e = np.exp(x[fin] - m)
        out[fin] = e / math.fsum(e.tolist())
    return out


# ------------------------------------------------------------------------- rows
def make_row(g, big=False):
    rng = g.rng
    sizes = [2, 3, 5, 8, 17, 50, 100, 257, 1000] + ([4096, 32000] if big else [])
    v = int(g.choice(sizes))
    kind = g.i(0, 5)
    if kind == 0:
        x = rng.normal(0, 1, v)
    elif kind == 1:
        x = np.round(rng.normal(0, 2, v), g.i(0, 1))  # many ties
    elif kind == 2:
        x = rng.normal(0, 1, v) * float(g.choice([1e-3, 10, 40]))
    elif kind == 3:
        x = np.full(v, float(rng.normal()))
    elif kind == 4:
        x = rng.integers(-3, 4, v).astype(np.float64)
    else:
        x = rng.normal(5, 3, v)
    if g.prob(0.25) and v > 2:
        m = rng.random(v) < float(g.choice([0.1, 0.5, 0.9]))
        m[g.i(0, v - 1)] = False
        x[m] = -np.inf
    dtype = np.float64 if g.prob(0.7) else np.float32
    return x.astype(dtype)


# ------------------------------------------------------------------------- compare
def vllm_ref(row, cfg, prompt, output):
    """vLLM's v1 sampler on one row (see the module docstring for the files and commits)."""
    x = torch.from_numpy(np.asarray(row)).to(torch.float32).clone()   # Sampler.forward: logits.to(float32)
    v = x.numel()
    if "logit_bias" in cfg:                                              # LogitBiasLogitsProcessor.apply
        for tid, b in cfg["logit_bias"].items():
            x[tid] += torch.tensor(b, dtype=torch.float32)
    if "penalties" in cfg:                                               # apply_penalties
        rep, freq, pres = cfg["penalties"][:3]
        pm = torch.zeros(v, dtype=torch.bool)
        cnt = torch.zeros(v, dtype=torch.long)
        for t in prompt:
            pm[t] = True
        for t in output:
            cnt[t] += 1
        om = cnt > 0
        # apply_repetition_penalties_torch
        pen = torch.where(pm | om, torch.tensor(rep, dtype=torch.float32), torch.tensor(1.0, dtype=torch.float32))
        scaling = torch.where(x > 0, 1.0 / pen, pen)
        x *= scaling
        x -= torch.tensor(freq, dtype=torch.float32) * cnt
        x -= torch.tensor(pres, dtype=torch.float32) * om
    t = cfg.get("temperature", 1.0)
    if 0 < t < 1e-2:                                                     # SamplingParams.__post_init__: _MAX_TEMP
        t = 1e-2
    if cfg.get("greedy") or t < 1e-5:                                   # greedy_sample: argmax
        k = int(torch.argmax(x))
        out = torch.full_like(x, -math.inf)
        out[k] = x[k]
        return out.numpy()
    x = x.div_(torch.tensor(t, dtype=torch.float32))                    # apply_temperature
    if cfg.get("min_p", 0.0) > 0:                                        # MinPLogitsProcessor.apply
        probs = torch.nn.functional.softmax(x, dim=-1)
        thr = torch.amax(probs, dim=-1, keepdim=True) * torch.tensor(cfg["min_p"], dtype=torch.float32)
        x[probs < thr] = -math.inf
    k = cfg.get("top_k", 0)
    k = k if 0 < k < v else None                                         # gpu_input_batch: k in (0, vocab)
    p = cfg.get("top_p", 1.0)
    p = p if p < 1.0 else None                                           # gpu_input_batch: top_p < 1
    if k is not None or p is not None:                                   # apply_top_k_top_p(_pytorch)
        xs = x.unsqueeze(0)
        logits_sort, logits_idx = _torch_sort(xs, dim=-1, descending=False, stable=True)
        if k is not None:
            kk = torch.tensor([k], dtype=torch.long)
            top_k_mask = logits_sort.size(1) - kk
            top_k_mask = logits_sort.gather(1, top_k_mask.unsqueeze(dim=1))
            top_k_mask = logits_sort < top_k_mask
            logits_sort.masked_fill_(top_k_mask, -float("inf"))
        if p is not None:
            pp = torch.tensor([p], dtype=torch.float32)
            probs_sort = logits_sort.softmax(dim=-1)
            probs_sum = torch.cumsum(probs_sort, dim=-1)
            top_p_mask = probs_sum <= 1 - pp.unsqueeze(dim=1)
            top_p_mask[:, -1] = False
            logits_sort.masked_fill_(top_p_mask, -float("inf"))
        x = xs.scatter(dim=-1, index=logits_idx, src=logits_sort)[0]
    return x.numpy()


def vllm_given(row, cfg, prompt, output):
    """order = "given": vLLM's rule for each stage, in the order given (top-k and top-p as
    separate apply_top_k_top_p calls); any greedy setting makes the request greedy, so
    temperature, min-p, top-k and top-p are not run (SamplingParams: temperature < 1e-5
    resets them) and the argmax is taken where the greedy setting stands."""
    x = torch.from_numpy(np.asarray(row)).to(torch.float32).clone()
    greedy = cfg.get("greedy") or cfg.get("temperature", 1.0) == 0  # (0, 0.01) is raised to 0.01
    for n in cfg["order"]:
        if n == "logit_bias":
            x = torch.from_numpy(vllm_ref(x.numpy(), {"logit_bias": cfg[n], "temperature": 1.0}, [], []))
        elif n == "penalties":
            x = torch.from_numpy(vllm_ref(x.numpy(), {"penalties": cfg[n], "temperature": 1.0}, prompt, output))
        elif n == "greedy" or (n == "temperature" and cfg[n] == 0):
            x = torch.from_numpy(vllm_ref(x.numpy(), {"greedy": True}, [], []))
        elif greedy or n not in ("temperature", "min_p", "top_k", "top_p"):
            continue
        else:
            x = torch.from_numpy(vllm_ref(x.numpy(), {n: cfg[n]} if n != "temperature" else {"temperature": cfg[n]}, [], []))
    return x.numpy()


def hf_given(row, cfg, input_ids):
    """order = "given": transformers' processors in the order given (greedy an argmax mask where
    it stands; temperature 0 likewise), each with generate()'s switches."""
    x = np.asarray(row).copy()
    for n in cfg["order"]:
        sub = {k: cfg[k] for k in ("min_keep",) if k in cfg}
        if n == "greedy" or (n == "temperature" and cfg[n] == 0):
            sub["greedy"] = True
        else:
            sub[n] = cfg[n]
        x = hf_ref(x, sub, input_ids)
    return x


def hf_ref(row, cfg, input_ids):
    """transformers 5.25: the processors generate() builds for these settings, in its order."""
    scores = torch.from_numpy(np.asarray(row).copy()).unsqueeze(0)
    ids = torch.tensor([input_ids if input_ids else [0]], dtype=torch.long)
    mk = cfg.get("min_keep", 1)
    procs = []
    if "logit_bias" in cfg:
        if scores.dtype == torch.float32:
            procs.append(SequenceBiasLogitsProcessor(sequence_bias=[[[t], float(b)] for t, b in cfg["logit_bias"].items()]))
        else:
            # SequenceBiasLogitsProcessor builds its bias in float32 and its index_put refuses
            # float64 scores ("Index put requires the source and destination dtypes match"):
            # the reference adds each bias in float64
            scores = scores.clone()
            for t, b in cfg["logit_bias"].items():
                scores[0, t] += b
    if "penalties" in cfg and cfg["penalties"][0] != 1.0 and input_ids:
        procs.append(RepetitionPenaltyLogitsProcessor(penalty=cfg["penalties"][0]))
    t = cfg.get("temperature", 1.0)
    greedy = cfg.get("greedy") or t == 0
    if not greedy:
        if t != 1.0:
            procs.append(TemperatureLogitsWarper(t))
        if cfg.get("top_k", 0) != 0:
            procs.append(TopKLogitsWarper(top_k=cfg["top_k"], min_tokens_to_keep=mk))
        if cfg.get("top_p", 1.0) < 1.0:
            procs.append(TopPLogitsWarper(top_p=cfg["top_p"], min_tokens_to_keep=mk))
        if "min_p" in cfg:
            procs.append(MinPLogitsWarper(min_p=cfg["min_p"], min_tokens_to_keep=mk))
        if cfg.get("typical", 1.0) < 1.0:
            procs.append(TypicalLogitsWarper(mass=cfg["typical"], min_tokens_to_keep=mk))
        if 0 < cfg.get("epsilon", 0) < 1:
            procs.append(EpsilonLogitsWarper(epsilon=cfg["epsilon"], min_tokens_to_keep=mk))
        if 0 < cfg.get("eta", 0) < 1:
            procs.append(EtaLogitsWarper(epsilon=cfg["eta"], min_tokens_to_keep=mk, device="cpu"))
    out = LogitsProcessorList(procs)(ids, scores)[0]
    if greedy:  # do_sample = False: argmax of the processed scores, no warpers
        k = int(torch.argmax(out))
        o = torch.full_like(out, -math.inf)
        o[k] = out[k]
        out = o
    return out.numpy()


def lua_stages(cfg, v):
    s = []
    mk = cfg.get("min_keep", 1)
    mko = f", {{min_keep = {mk}}}" if mk != 1 else ""
    order = cfg["order"]
    for name in order:
        if name == "temperature":
            s.append(f"sample.temperature({cfg['temperature']!r})")
        elif name == "top_k":
            s.append(f"sample.top_k({cfg['top_k']}{mko})")
        elif name == "top_p":
            s.append(f"sample.top_p({cfg['top_p']!r}{mko})")
        elif name == "min_p":
            s.append(f"sample.min_p({cfg['min_p']!r}{mko})")
        elif name == "typical":
            s.append(f"sample.typical({cfg['typical']!r}{mko})")
        elif name == "epsilon":
            s.append(f"sample.epsilon({cfg['epsilon']!r}{mko})")
        elif name == "eta":
            s.append(f"sample.eta({cfg['eta']!r}{mko})")
        elif name == "penalties":
            r, f, p = cfg["penalties"][:3]
            ln = f", last_n = {cfg['penalties'][3]}" if len(cfg["penalties"]) > 3 else ""
            s.append(f"sample.penalties{{repetition = {r!r}, frequency = {f!r}, presence = {p!r}{ln}}}")
        elif name == "logit_bias":
            s.append("sample.logit_bias({" + ", ".join(f"[{t}] = {pd.lua_num(b)}" for t, b in cfg["logit_bias"].items()) + "})")
        elif name == "greedy":
            s.append("sample.greedy()")
    return "{" + ", ".join(s) + "}"


def make_cfg(g, v):
    cfg = {}
    names = ["temperature", "top_k", "top_p", "min_p", "penalties", "logit_bias", "greedy", "typical", "epsilon", "eta"]
    weights = [0.6, 0.45, 0.55, 0.4, 0.35, 0.2, 0.06, 0.12, 0.08, 0.08]
    for n, w in zip(names, weights):
        if not g.prob(w):
            continue
        if n == "temperature":
            cfg[n] = float(g.choice([0.0, 5e-6, 0.005, 0.3, 0.7, 1.0, 1.3, 2.5, round(g.r() * 3 + 0.05, 3)]))
        elif n == "top_k":
            cfg[n] = int(g.choice([0, 1, 2, 3, 5, 10, 40, v, v + 3]))
        elif n == "top_p":
            cfg[n] = float(g.choice([0.1, 0.5, 0.8, 0.9, 0.95, 1.0, round(g.r(), 3) or 0.5]))
        elif n == "min_p":
            cfg[n] = float(g.choice([0.0, 1e-6, 0.01, 0.05, 0.1, 0.3, 1.0, round(g.r(), 3)]))
        elif n == "penalties":
            cfg[n] = (float(g.choice([1.0, 0.8, 1.1, 1.3, 2.0])), float(g.choice([0.0, 0.0, 0.5, -0.3, 1.5])),
                      float(g.choice([0.0, 0.0, 0.4, -1.0, 2.0])))
            if g.prob(0.15):
                cfg[n] = cfg[n] + (int(g.choice([-1, 0, 3, 64])),)  # a window: vLLM and transformers lack it
        elif n == "logit_bias":
            cfg[n] = {g.i(0, v - 1): float(g.choice([-100.0, -1.5, 0.3, 2.0, 7.25, -math.inf, 0.1]))
                      for _ in range(g.i(1, 3))}
        elif n == "greedy":
            cfg[n] = True
        elif n == "typical":
            cfg[n] = float(g.choice([0.2, 0.5, 0.9, 0.95]))
        elif n in ("epsilon", "eta"):
            cfg[n] = float(g.choice([1e-4, 3e-4, 1e-3, 0.01, 0.1]))
    if g.prob(0.2):
        cfg["min_keep"] = int(g.choice([2, 3, 10]))
    order = [n for n in names if n in cfg]
    g.rng.shuffle(order)
    cfg["order"] = order
    return cfg


def kept_check(name, got_ids, got_probs, want_logits, rtol, row_dtype):
    """The kept tokens are those the engine can draw: a nonzero probability in the engine's
    own softmax (transformers: the row's dtype; vLLM: float32, Sampler.get_probs / random_sample);
    their probabilities against the float64 softmax over them."""
    own = torch.softmax(torch.from_numpy(np.asarray(want_logits).astype(row_dtype)), dim=-1).numpy()
    kept = own > 0
    want_p = softmax64(np.where(kept, np.asarray(want_logits, dtype=np.float64), -np.inf))
    wk = set(np.flatnonzero(kept).tolist())
    gk = set(got_ids)
    if gk != wk and row_dtype == np.float32 and all(own[t] < 1.1754944e-38 for t in (gk ^ wk) if t < len(own)):
        # a float32 probability in the subnormal range: torch rounds exp(x - max) to the
        # subnormal grid and then divides, moonlab rounds the double quotient once
        return None, ("known", "float32 subnormal probability at the kept boundary",
                      f"{name}: only moonlab {sorted(gk - wk)[:8]}, only the peer {sorted(wk - gk)[:8]}")
    if gk != wk:
        return None, f"{name}: kept {len(gk)} tokens, the peer {len(wk)}; only moonlab {sorted(gk - wk)[:8]}, only the peer {sorted(wk - gk)[:8]}"
    order = np.asarray(got_ids)
    # float32 probabilities below the normal range (1.2e-38) carry fewer digits
    m = close(got_probs, want_p[order], rtol, 1e-44 if row_dtype == np.float32 else 1e-300)
    if m:
        return None, f"{name}.probs: {m}"
    return want_p, None


def tie_or_boundary(row, got_ids, want_logits):
    """The same logits kept, other tokens among tied ones (as sampling_diff.py: torch's
    unstable sorts and torch.topk pick among ties in their own order, which moonlab follows on CPU)."""
    r = np.asarray(row, dtype=np.float64)
    wk = sorted(np.flatnonzero(np.isfinite(want_logits)).tolist())
    gk = sorted(set(got_ids))
    return len(wk) == len(gk) and np.array_equal(np.sort(r[wk]), np.sort(r[gk]))


def cases_compare_large(g, out):
    """Vocabularies of 4,096 to 128,256 tokens (rows as .npy) with the cuts that sum
    probabilities: top-p and min-p, with temperature and top-k."""
    cases_compare(g, out, n=40, large=True, cat="compare_large")


def cases_compare(g, out, n=260, large=False, cat="compare"):
    for _ in range(n):
        row = make_row(g, big=g.prob(0.1))
        if large:
            v = int(g.choice([4096, 32000, 50000, 128256]))
            row = (g.rng.normal(0, float(g.choice([1, 2, 4])), v) + (np.round(g.rng.normal(0, 3, v)) if g.prob(0.3) else 0)).astype(g.choice([np.float64, np.float32]))
        v = len(row)
        cfg = make_cfg(g, v)
        if large and "top_p" not in cfg and "min_p" not in cfg:
            cfg["top_p" if g.prob(0.6) else "min_p"] = float(g.choice([0.5, 0.8, 0.9, 0.95])) if g.prob(0.6) else 0.05
            cfg["order"].append("top_p" if "top_p" in cfg else "min_p")
        if not cfg["order"]:
            cfg["top_p"] = 0.9
            cfg["order"] = ["top_p"]
        prompt = [int(t) for t in g.rng.integers(0, v, int(g.choice([0, 0, 3, 10])))]
        hist = [int(t) for t in g.rng.integers(0, v, int(g.choice([0, 1, 5, 30])))]
        stages = lua_stages(cfg, v)
        given = g.prob(0.25)
        opts = ["engines = {'transformers', 'vllm'}"] + (["order = 'given'"] if given else [])
        if prompt:
            opts.append(f"prompt = {pd.lua_arr(prompt)}")
        if hist:
            opts.append(f"history = {pd.lua_arr(hist)}")
        if g.prob(0.2):
            stages = "sample.chain" + stages  # a chain is taken as its stages
        rowl = pd.lua_arr(row) if (row.dtype == np.float64 and v <= 64 and g.prob(0.3)) else npy(row)
        lua = (f"local r = sample.compare({rowl}, {stages}, {{{', '.join(opts)}}})\n"
               "local pr = r.pairs['transformers|vllm']\n"
               "return r.transformers.ids, r.transformers.probs, r.vllm.ids, r.vllm.probs, pr.only_transformers, pr.only_vllm, pr.tv, r.vllm.ignored, r.pairs['vllm|transformers'] == pr")
        # references
        hf_err = None
        try:
            stable_sorts(False)  # torch's own CPU order, as moonlab
            hf = (hf_given if given else hf_ref)(row, cfg, prompt + hist)
        except Exception as e:  # noqa: BLE001 - a refusal of transformers
            hf, hf_err = None, e
        finally:
            stable_sorts(False)
        vl = (vllm_given if given else vllm_ref)(row, cfg, prompt, hist)
        # what vLLM lacks is listed in its `ignored` (min_keep too when set)
        want_ign = sorted([n for n in cfg["order"] if n in ("typical", "epsilon", "eta")]
                          + (["penalties.last_n"] if "penalties" in cfg and len(cfg["penalties"]) > 3 and cfg["penalties"][3] != -1 else [])
                          + (["min_keep"] if cfg.get("min_keep", 1) > 1 and any(n in cfg for n in ("top_k", "top_p", "min_p", "typical", "epsilon", "eta")) else []))

        def check(vals, row=row, cfg=cfg, hf=hf, hf_err=hf_err, vl=vl, want_ign=want_ign):
            if vals is None and (hf is None or not np.isfinite(hf).any() or not np.isfinite(vl).any()):
                # every token masked (logit_bias -inf on the last finite one): a Lua error naming
                # the row, as every sampler of moonlab (nothing to draw; transformers and vLLM
                # sample NaN; dist.softmax gives NaN for such a row, as torch.softmax)
                return ("known", "every token masked: a Lua error", "moonlab raised")
            if hf is None:
                return ("known", f"transformers refuses this configuration ({hf_err!s:.80})", "moonlab answered") if vals else None
            tid, tp, vid, vp, ot, ov, tv, ign, same = [vals[k] for k in range(9)]
            if same is not True:
                return "pairs['vllm|transformers'] is not the entry of pairs['transformers|vllm']"
            if sorted(ign or []) != want_ign:
                return f"vllm.ignored {ign!r}, expected {want_ign!r}"
            tid, vid = ids_of(tid), ids_of(vid)
            rt = 1e-5 if row.dtype == np.float32 else 1e-12
            hp, m = kept_check("transformers", tid, arr_of(tp), hf, rt, row.dtype)
            if isinstance(m, tuple):
                return m
            if m:
                if tie_or_boundary(row, tid, hf):
                    return ("known", "tied tokens at a cut", m)
                if row.dtype == np.float32 and len(row) >= 4096:
                    return ("known", "float32 boundary at 4096+ tokens", m)
                if row.dtype == np.float32 and "typical" in cfg and len(set(tid) ^ set(np.flatnonzero(np.isfinite(hf)).tolist())) <= 4:
                    # sampling_diff.py's known one: transformers orders by |-log p - H| computed in
                    # float32 (torch's lane widths), moonlab in double
                    return ("known", "typical on a float32 row", m)
                return m
            vpp, m = kept_check("vllm", vid, arr_of(vp), vl, 1e-12, np.float32)
            if isinstance(m, tuple):
                return m
            if m:
                if tie_or_boundary(row, vid, vl):
                    return ("known", "tied tokens at a cut", m)
                if len(row) >= 4096 and len(set(vid) ^ set(np.flatnonzero(np.isfinite(vl)).tolist())) <= 3:
                    # vLLM's float32 softmax and cumsum as torch vectorises them (lane order) against
                    # moonlab's once-rounded sums: a cut within that rounding of 1 - p or min_p
                    return ("known", "float32 boundary at 4096+ tokens", m)
                return m
            only_t = sorted(set(tid) - set(vid))
            only_v = sorted(set(vid) - set(tid))
            if sorted(ids_of(ot)) != only_t or sorted(ids_of(ov)) != only_v:
                return f"pairs: only_transformers {sorted(ids_of(ot))[:8]} only_vllm {sorted(ids_of(ov))[:8]}, the peers' {only_t[:8]} {only_v[:8]}"
            # transformers' probabilities of a float32 row are float32 ones (its dtype)
            hq = hp.astype(row.dtype).astype(np.float64)
            want_tv = 0.5 * math.fsum(np.abs(hq - vpp).tolist())
            # float32 rows: moonlab's and the harness's double softmaxes may differ by an ulp and
            # round to float32 apart at a half-ulp tie (~6e-8 of a probability each)
            m = close(tv, want_tv, 1e-9, 1e-11 if row.dtype == np.float32 else 1e-13)
            return f"pairs.tv: {m}" if m else None
        out.append(Case(cat, lua, check, note=f"V={v} {row.dtype.name} cfg={ {k: cfg[k] for k in cfg if k != 'order'} } order={cfg['order']}{' given' if given else ''}"))


# ------------------------------------------------------------------------- logprob / distribution
def hf_chain(row, cfg, history):
    scores = torch.from_numpy(np.asarray(row).copy()).unsqueeze(0)
    ids = torch.tensor([history if history else [0]], dtype=torch.long)
    mk = cfg.get("min_keep", 1)
    procs = []
    for n in cfg["order"]:
        if n == "temperature":
            procs.append(TemperatureLogitsWarper(cfg[n]))
        elif n == "top_k":
            procs.append(TopKLogitsWarper(top_k=cfg[n], min_tokens_to_keep=mk))
        elif n == "top_p":
            procs.append(TopPLogitsWarper(top_p=cfg[n], min_tokens_to_keep=mk))
        elif n == "min_p":
            procs.append(MinPLogitsWarper(min_p=cfg[n], min_tokens_to_keep=mk))
        elif n == "typical":
            procs.append(TypicalLogitsWarper(mass=cfg[n], min_tokens_to_keep=mk))
        elif n == "epsilon":
            procs.append(EpsilonLogitsWarper(epsilon=cfg[n], min_tokens_to_keep=mk))
        elif n == "eta":
            procs.append(EtaLogitsWarper(epsilon=cfg[n], min_tokens_to_keep=mk, device="cpu"))
        elif n == "penalties" and history:
            procs.append(RepetitionPenaltyLogitsProcessor(penalty=cfg[n][0]))
    return LogitsProcessorList(procs)(ids, scores)[0].numpy()


def cases_logprob(g, out):
    for _ in range(200):
        row = make_row(g)
        v = len(row)
        cfg = make_cfg(g, v)
        for n in ("greedy", "logit_bias"):
            if n in cfg:
                del cfg[n]
                cfg["order"].remove(n)
        if "temperature" in cfg and cfg["temperature"] < 0.05:
            cfg["temperature"] = 0.5
        if "top_k" in cfg and cfg["top_k"] == 0:
            cfg["top_k"] = 1
        if "min_p" in cfg and cfg["min_p"] == 0:
            cfg["min_p"] = 0.05
        if "penalties" in cfg:
            cfg["penalties"] = (cfg["penalties"][0], 0.0, 0.0)  # HF semantics: the whole history
        hist = [int(t) for t in g.rng.integers(0, v, int(g.choice([0, 1, 5, 30])))]
        spike = g.prob(0.25) and np.isfinite(row).sum() > 1 and row.dtype == np.float64
        if spike:
            # one logit 800 above the rest: the others' probabilities underflow in double, and
            # a kept one still has its finite log-probability (torch's log_softmax). Only stages
            # that cut by logits: a cut by probability among underflowed (equal, 0) ones is a
            # tie that transformers breaks by its sort order
            for n in ("min_p", "top_p", "typical", "epsilon", "eta"):
                if n in cfg:
                    del cfg[n]
                    cfg["order"].remove(n)
            cfg["min_keep"] = 1
            k = int(np.flatnonzero(np.isfinite(row))[g.i(0, int(np.isfinite(row).sum()) - 1)])
            row = row.copy()
            row[k] = np.nanmax(np.where(np.isfinite(row), row, -np.inf)) + row.dtype.type(800)
        try:
            stable_sorts(False)  # torch's own CPU order, as moonlab
            proc = hf_chain(row, cfg, hist)
            err = None
        except Exception as e:  # noqa: BLE001
            proc, err = None, e
        finally:
            stable_sorts(False)
        tid = g.i(0, v - 1)
        if spike and proc is not None:
            pk = np.asarray(proc, dtype=np.float64)
            under = np.flatnonzero(np.isfinite(pk) & (softmax64(proc) == 0))
            if len(under):
                tid = int(under[g.i(0, len(under) - 1)])
        lua = (f"local row = {npy(row)}\nlocal c = sample.chain{lua_stages(cfg, v)}\n"
               f"local ctx = {{history = {pd.lua_arr(hist)}}}\n"
               f"local p, r = c:logprob(row, {tid}, ctx)\nlocal d, se = c:distribution(row, ctx)\n"
               "local dm, sem = c:distribution(row, ctx, {samples = 3, rng = random.new(1)})\n"
               "return p, r, d, se, (dm - d):abs():max(), sem:abs():max()")
        raw = scipy.special.log_softmax(np.asarray(row, dtype=np.float64)[np.isfinite(row)]) if np.isfinite(row).any() else None
        rawfull = np.full(v, -np.inf)
        rawfull[np.isfinite(row)] = raw

        def check(vals, row=row, proc=proc, err=err, tid=tid, rawfull=rawfull):
            if proc is None:
                return ("known", f"transformers refuses ({err!s:.80})", "moonlab answered")
            p, r, d, se = vals[:4]
            want_d = softmax64(proc)
            lp = np.full(len(row), -np.inf)
            fin = want_d > 0
            # the processed log-probability of every kept token (finite processed logit), its
            # probability underflowing or not: torch's log_softmax in float64
            pf = np.asarray(proc, dtype=np.float64)
            kept = np.isfinite(pf)
            if kept.any():
                lp[kept] = scipy.special.log_softmax(pf[kept])
            rt = 1e-5 if row.dtype == np.float32 else 1e-12
            gd = arr_of(d)
            if set(np.flatnonzero(gd > 0).tolist()) != set(np.flatnonzero(fin).tolist()):
                kept = sorted(np.flatnonzero(gd > 0).tolist())
                m = f"distribution: kept {len(kept)}, transformers {int(fin.sum())}"
                if tie_or_boundary(row, kept, proc):
                    return ("known", "tied tokens at a cut", m)
                return m
            m = close(gd, want_d, rt, 1e-300)
            if m:
                return f"distribution: {m}"
            if np.any(arr_of(se) != 0):
                return "distribution: a nonzero stderr for a deterministic chain"
            m = close(p, lp[tid], rt, 1e-13 if np.isfinite(lp[tid]) else 0)
            if m:
                return f"processed: {m}"
            m = close(r, rawfull[tid], 1e-12, 1e-13)
            if m:
                return f"raw: {m}"
            # samples given for a deterministic chain: the Monte-Carlo path, every run the same
            if vals[4] > 1e-15 or vals[5] > 1e-15:
                return f"distribution with samples = 3: max |mc - exact| {vals[4]!r}, max stderr {vals[5]!r}"
            return None
        out.append(Case("logprob", lua, check, note=f"V={v} {row.dtype.name} id={tid} order={cfg['order']} cfg={ {k: cfg[k] for k in cfg if k != 'order'} }"))


# ------------------------------------------------------------------------- kl_lab
def k3_of(lr):
    with np.errstate(all="ignore"):
        return np.where(np.isneginf(lr), np.inf, np.expm1(lr) - lr)


def est_values(lr, clamp):
    """k1, k2, k3 of log r = ref - logp per draw, clamped as OpenRLHF 0.11 (compute_approx_kl:
    every estimate to [-10, 10]) or verl (kl_penalty_forward low_var_kl: log r to [-20, 20], k3 to
    [-10, 10]; k1 and k2 as they are)."""
    with np.errstate(all="ignore"):
        k1 = -lr
        k2 = 0.5 * lr * lr
        if clamp == "verl":
            k3 = np.clip(k3_of(np.clip(lr, -20, 20)), -10, 10)
        else:
            k3 = k3_of(lr)
        ks = [k1, k2, k3]
        if clamp == "openrlhf":
            ks = [np.clip(k, -10, 10) for k in ks]
    return ks


def kl_rows(g):
    rows = g.choice([None, None, 1, 2, 3])
    v = int(g.choice([2, 3, 5, 10, 50, 300]))
    n = rows or 1
    lp = g.rng.normal(0, float(g.choice([0.5, 1, 3, 8])), (n, v))
    ref = lp + g.rng.normal(0, float(g.choice([0.01, 0.3, 1, 5, 20])), (n, v))
    if g.prob(0.3):
        ref = g.rng.normal(0, 2, (n, v))
    if g.prob(0.3):  # policy -inf entries (a smaller support)
        m = g.rng.random((n, v)) < 0.3
        m[:, 0] = False
        lp[m] = -np.inf
    if g.prob(0.2):  # reference -inf where the policy has mass: KL = +inf
        m = g.rng.random((n, v)) < 0.2
        ref[m] = -np.inf
        ref[:, -1] = np.where(np.isfinite(ref[:, -1]), ref[:, -1], 0.0)
    if g.prob(0.2):  # reference -inf only where the policy is -inf too (mismatched but safe)
        ref[np.isneginf(lp)] = -np.inf
    ref[:, -1] = np.where(np.isneginf(ref).all(axis=1), 0.0, ref[:, -1])  # no row of all -inf
    if g.prob(0.4):  # already log-probabilities (or logits: moonlab log-softmaxes each row)
        lp = scipy.special.log_softmax(lp, axis=1)
        ref = scipy.special.log_softmax(ref, axis=1)
    if g.prob(0.1):  # a reference row of only -inf: NaN for that row (torch's log_softmax), draws as usual
        ref[g.i(0, n - 1), :] = -np.inf
    return rows, lp, ref


def cases_kl_lab(g, out, n=90, large=False, cat="kl_lab"):
    for _ in range(n):
        rows, lp, ref = kl_rows(g)
        samples = int(g.choice([2, 3, 10, 100, 1000]))
        if large:
            v = int(g.choice([4096, 32000]))
            rows = int(g.choice([1, 2, 4]))
            lp = g.rng.normal(0, 3, (rows, v))
            ref = lp + g.rng.normal(0, float(g.choice([0.1, 1, 5])), (rows, v))
            if g.prob(0.3):
                ref[g.rng.random((rows, v)) < 0.01] = -np.inf
            samples = int(g.choice([20000, 100000]))
        seed = g.i(0, 10 ** 6)
        f32 = g.prob(0.2)
        if f32:
            lp, ref = lp.astype(np.float32).astype(np.float64), ref.astype(np.float32).astype(np.float64)
        a = lp if rows else lp[0]
        b = ref if rows else ref[0]
        dt = ", {dtype = 'f32'}" if f32 else ""
        if large:
            ta, tb = npy(a.astype(np.float32) if f32 else a), npy(b.astype(np.float32) if f32 else b)
        else:
            ta, tb = f"tensor.from({pd.lua_arr(a)}{dt})", f"tensor.from({pd.lua_arr(b)}{dt})"
        lua = (f"local r = rl.kl_lab({ta}, {tb}, {{samples = {samples}, rng = random.new({seed})}})\n"
               "local function est(k) return {k.mean, k.bias, k.variance, k.stderr, k.expected, k.expected_bias, k.expected_variance} end\n"
               "local function all(k) return {est(k), est(k.clamped.openrlhf), est(k.clamped.verl)} end\n"
               "return r.exact, r.draws, all(r.k1), all(r.k2), all(r.k3), r.samples")

        def check(vals, lp=lp, ref=ref, rows=rows, samples=samples, f32=f32):
            exact_g, draws = vals[0], vals[1]
            LP = scipy.special.log_softmax(lp, axis=1)
            LQ = scipy.special.log_softmax(ref, axis=1)
            P = np.exp(LP)
            n = LP.shape[0]
            with np.errstate(all="ignore"):
                terms = np.where(P > 0, P * (LP - LQ), 0.0)
                exact = terms.sum(axis=1)
                # scipy's rel_entr on the probabilities, where no probability underflows
                re = scipy.special.rel_entr(P, np.exp(LQ)).sum(axis=1)
            ge = arr_of(exact_g).reshape(n)
            if f32:
                # f32 rows: moonlab's log-softmax in float32 (as torch), the rest in double
                m = close(ge, exact, 1e-4, 1e-6 * (1 + np.nanmax(np.abs(np.where(np.isfinite(terms), terms, 0)))))
                return f"exact (f32): {m}" if m else None
            m = close(ge, exact, 1e-10, 1e-13 * (1 + np.nanmax(np.abs(np.where(np.isfinite(terms), terms, 0)))))
            if m:
                return f"exact: {m}"
            ok_re = np.all(np.exp(LQ)[P > 0] > 1e-300) if np.isfinite(exact).all() else False
            if ok_re:
                m = close(ge, re, 1e-9, 1e-12)
                if m:
                    return f"exact against scipy.special.rel_entr: {m}"
            d = np.asarray(ids_of(draws)).reshape(n, samples)
            if np.any(P[np.arange(n)[:, None], d] <= 0):
                return "draws: a token outside the policy's support"
            for i in range(n):
                # the draws follow the policy (Pearson's chi-square over the tokens expected 5+ times,
                # the rest pooled): a p-value below 1e-6 is a sampler bug, not chance
                exp_c = P[i] * samples
                big = exp_c >= 5
                if big.sum() >= 2:
                    cnt = np.bincount(d[i], minlength=P.shape[1])
                    o, e = cnt[big].astype(np.float64), exp_c[big].copy()
                    if exp_c[~big].sum() >= 5:
                        o, e = np.append(o, cnt[~big].sum()), np.append(e, exp_c[~big].sum())
                    else:  # a pooled cell expected under 5 times joins the smallest big one
                        k = int(np.argmin(e))
                        o[k] += cnt[~big].sum()
                        e[k] += exp_c[~big].sum()
                    keep = e > 0
                    pv = scipy.stats.chisquare(o[keep], e[keep] * o[keep].sum() / e[keep].sum()).pvalue
                    if pv < 1e-6:
                        return f"draws of row {i + 1}: chi-square p = {pv:.3g} against the policy"
            for ki, kname in enumerate(["k1", "k2", "k3"]):
                block = vals[2 + ki]
                for ci, clamp in enumerate([None, "openrlhf", "verl"]):
                    got = [arr_of(x).reshape(n) for x in block[ci]]
                    want = [[] for _ in range(7)]
                    for i in range(n):
                        lr_draw = LQ[i, d[i]] - LP[i, d[i]]
                        kv = est_values(lr_draw, clamp)[ki]
                        sup = P[i] > 0
                        lr_all = LQ[i, sup] - LP[i, sup]
                        ka = est_values(lr_all, clamp)[ki]
                        with np.errstate(all="ignore"):
                            mean = np.mean(kv)
                            var = np.var(kv, ddof=1) if np.all(np.isfinite(kv)) else (np.nan if np.any(np.isinf(kv)) and not np.all(np.isinf(kv)) else np.var(kv, ddof=1))
                            expd = math.fsum((P[i, sup] * ka).tolist()) if np.all(np.isfinite(ka)) else np.sum(P[i, sup] * ka)
                            evar = np.sum(P[i, sup] * (ka - expd) ** 2)
                        want[0].append(mean)
                        want[1].append(mean - exact[i])
                        want[2].append(var)
                        want[3].append(math.sqrt(var / samples) if np.isfinite(var) else var)
                        want[4].append(expd)
                        want[5].append(expd - exact[i])
                        want[6].append(evar)
                    names = ["mean", "bias", "variance", "stderr", "expected", "expected_bias", "expected_variance"]
                    for j in range(7):
                        w = np.asarray(want[j])
                        gv = got[j]
                        both_inf_or_nan = (~np.isfinite(w)) & (~np.isfinite(gv))
                        w2 = np.where(both_inf_or_nan, gv, w)
                        sc = np.max(np.abs(np.where(np.isfinite(w), w, 0))) + 1
                        m = close(gv, w2, 1e-9, 1e-12 * sc * (sc if j in (2, 3, 6) else 1))
                        if m:
                            return f"{kname}{'.clamped.' + clamp if clamp else ''}.{names[j]}: {m}"
                    if clamp == "openrlhf" or (clamp == "verl" and kname == "k3"):
                        if np.any(np.abs(got[0]) > 10 + 1e-12):
                            return f"{kname}.clamped.{clamp}.mean outside [-10, 10]"
            return None
        out.append(Case(cat, lua, check, note=f"rows={rows} V={lp.shape[1]} samples={samples}"))
    if large:
        return
    for bad, why in [("{samples = 1}", "samples below 2"), ("{samples = 1000001}", "samples above 10^6"),
                     ("{samples = 2.5}", "samples not an integer")]:
        out.append(expect_error("kl_lab", f"return rl.kl_lab(tensor{{0.0, -1.0}}, tensor{{-1.0, 0.0}}, {bad})", why))
    out.append(expect_error("kl_lab", "return rl.kl_lab(tensor{0.0, -1.0}, tensor{-1.0, 0.0, 0.5})", "vocabularies differ"))
    out.append(expect_error("kl_lab", "return rl.kl_lab(tensor{0.0, 0/0}, tensor{-1.0, 0.0})", "NaN"))


# ------------------------------------------------------------------------- dry_run
def trl_weights(lengths, maxlen):
    """d loss / d per_token_loss[i, t] of TRL 1.16 GRPOTrainer.compute_loss for each loss type
    (trl/trainer/grpo_trainer.py; gradient accumulation 1) and verl's agg_loss, by autograd."""
    n = len(lengths)
    T = int(max(max(lengths), 1))
    mask = torch.zeros(n, T, dtype=torch.float64)
    for i, L in enumerate(lengths):
        mask[i, :int(L)] = 1
    res = {}
    forms = {
        "token-mean": lambda x: (x * mask).sum() / mask.sum().clamp(min=1.0),                     # bnpo
        "seq-mean-token-sum": lambda x: (x * mask).sum(-1).mean(),                                # luspo
        "seq-mean-token-mean": lambda x: ((x * mask).sum(-1) / mask.sum(-1).clamp(min=1.0)).mean(),  # grpo
        "dr_grpo": lambda x: (x * mask).sum() / (x.size(0) * maxlen),                             # dr_grpo
    }
    for k, f in forms.items():
        x = torch.zeros(n, T, dtype=torch.float64, requires_grad=True)
        f(x).backward()
        gr = x.grad.numpy()
        res[k] = np.array([gr[i, 0] if lengths[i] > 0 else np.nan for i in range(n)])
    return res


def verl_weights(lengths):
    # verl verl/trainer/ppo/core_algos.py agg_loss at b178a3cd (dp_size 1, defaults)
    n = len(lengths)
    T = int(max(max(lengths), 1))
    mask = torch.zeros(n, T, dtype=torch.float64)
    for i, L in enumerate(lengths):
        mask[i, :int(L)] = 1

    def tm(x):
        return (x * mask).sum() / mask.sum()

    def sts(x):
        seq = torch.sum(x * mask, dim=-1)
        sm = (torch.sum(mask, dim=-1) > 0).float()
        return (seq * sm).sum() / sm.sum()

    def stm(x):
        cnt = torch.sum(mask, dim=-1)
        seq = torch.sum(x * mask, dim=-1) / (cnt + 1e-8)
        sm = (cnt > 0).float()
        return (seq * sm).sum() / sm.sum()
    res = {}
    for k, f in {"token-mean": tm, "seq-mean-token-sum": sts, "seq-mean-token-mean": stm}.items():
        x = torch.zeros(n, T, dtype=torch.float64, requires_grad=True)
        f(x).backward()
        gr = x.grad.numpy()
        res[k] = np.array([gr[i, 0] if lengths[i] > 0 else np.nan for i in range(n)])
    return res


def openrlhf_rb(r, G, lengths, scale):
    """OpenRLHF 0.11 openrlhf/trainer/ppo_utils/experience_maker.py: reinforce_baseline is
    rewards - rewards.mean(-1) per group; the advantages of "gae"/"reinforce"/"reinforce_baseline"
    are then whitened over the batch's action tokens (mean and population variance over the
    masked tokens, rsqrt(var.clamp(min=1e-8))). The per-token advantage of an outcome reward
    with gamma 1 and no KL is the completion's reward at every token, so a completion counts
    lengths[i] times. NaN rewards: nanmean (moonlab's choice, as TRL; OpenRLHF has none)."""
    g = r.reshape(-1, G)
    with np.errstate(all="ignore"):
        a = (g - np.nanmean(g, 1, keepdims=True)).ravel()
        if scale == "batch":
            w = np.asarray(lengths, dtype=np.float64) if lengths is not None else np.ones_like(a)
            ok = ~np.isnan(a)
            mean = np.sum(w[ok] * a[ok]) / np.sum(w[ok])
            var = np.sum(w[ok] * (a[ok] - mean) ** 2) / np.sum(w[ok])
            a = (a - mean) / math.sqrt(max(var, 1e-8)) if np.isfinite(var) else (a - mean) * np.nan
        elif scale == "group":
            # not OpenRLHF's (its group_norm divides by torch.std + 1e-9): moonlab's documented
            # "as grpo": TRL's nanstd + 1e-4 (zeros for a group of one)
            sd = np.repeat(pd.nanstd(g, axis=1), G) if G > 1 else np.zeros_like(a)
            a = a / (sd + 1e-4)
    return np.nan_to_num(a, nan=0.0)


def cases_large(g, out):
    """kl_lab on 4,096 and 32,000-token rows with 2*10^4 and 10^5 draws; dry_run on 4,096 to
    65,536 completions."""
    cases_kl_lab(g, out, n=6, large=True, cat="large")
    cases_dry_run(g, out, n=6, large=True, cat="large")


def cases_dry_run(g, out, n=220, large=False, cat="dry_run"):
    for _ in range(n):
        G = int(g.choice([1, 2, 2, 3, 4, 8]))
        ng = int(g.choice([1, 1, 2, 3, 5]))
        if large:
            G = int(g.choice([4, 8, 16, 64]))
            ng = int(g.choice([4096, 65536])) // G
        n = G * ng
        x = g.vec(n, ties=0.5, special=0.15 if g.prob(0.4) else 0.0,
                  pool=(np.nan, np.nan, np.inf, -np.inf) if g.prob(0.2) else (np.nan,))
        if g.prob(0.3):
            x = np.round(x)
        if g.prob(0.15):
            x = np.repeat(x[::G], G)  # every group of equal rewards
        if g.prob(0.1):
            x = np.full(n, 0.1) * float(g.choice([1, 3, 7]))  # equal, not exactly representable sums
        lengths = None
        if g.prob(0.6):
            lengths = [int(v) for v in g.rng.integers(0, 6, n)] if g.prob(0.4) else [int(v) for v in g.rng.integers(1, 400, n)]
            if g.prob(0.2):
                lengths[g.i(0, n - 1)] = int(g.choice([0, 1]))
            if all(L == 0 for L in lengths):
                lengths[0] = 1
        maxlen = None
        if lengths is not None and g.prob(0.3):
            # TRL's max_completion_length is a config value: usually the cap, but any positive
            maxlen = int(max(lengths) + g.i(0, 100)) if g.prob(0.8) else g.i(1, max(1, max(lengths)))
        opts = []
        if lengths is not None:
            opts.append(f"lengths = {pd.lua_arr(lengths)}")
        if maxlen is not None:
            opts.append(f"max_completion_length = {maxlen}")
        o = (", {" + ", ".join(opts) + "}") if opts else ""
        xl = npy(x) if large else pd.lua_vec(g, x)
        if large and lengths is not None:
            opts[0] = f"lengths = {npy(np.asarray(lengths, dtype=np.float64))}"
            o = ", {" + ", ".join(opts) + "}"
        lua = (f"local r = rl.dry_run({xl}, {G}{o})\n"
               "local a = {}\nfor _, m in ipairs({'grpo', 'dr_grpo', 'rloo', 'reinforce_baseline'}) do for _, s in ipairs({'group', 'batch', 'none'}) do\n"
               "  a[#a + 1] = r[m][s].advantages; a[#a + 1] = r[m][s].zero_fraction end end\n"
               "local w = r.weights or {}\n"
               "return a, r.zero_spread_groups, r.frac_reward_zero_std, r.group_std, {w['token-mean'], w['seq-mean-token-sum'], w['seq-mean-token-mean'], w.dr_grpo}, r.max_completion_length")

        def check(vals, x=x, G=G, lengths=lengths, maxlen=maxlen):
            adv, zsg, frac, gstd, wts, mcl = vals[:6]
            n = len(x)
            grp = x.reshape(-1, G)
            # TRL 1.16 GRPOTrainer: std_rewards = nanstd per group (zeros when num_generations == 1),
            # is_std_zero = torch.isclose(std_rewards, 0)
            std = pd.nanstd(grp, axis=1) if G > 1 else np.zeros(n // G)
            with np.errstate(invalid="ignore"):
                zero = np.abs(std) <= 1e-8
            want_z = [i + 1 for i in range(len(std)) if zero[i]]
            sc = pd.scale_of(x) + 1e-300
            k = 0
            for m in ["grpo", "dr_grpo", "rloo", "reinforce_baseline"]:
                for s in ["group", "batch", "none"]:
                    if m == "grpo":
                        want = pd.group_peer(x, G, "grpo", s)
                        tol = (1e-11, 1e-12 * sc / 1e-4)
                    elif m == "rloo":
                        want = pd.group_peer(x, G, "rloo", s if s != "group" else "none")
                        if s == "group" and G > 1:
                            # not in TRL (RLOOTrainer has no per-group scale): moonlab divides
                            # TRL's leave-one-out advantages by the group's nanstd + 1e-4
                            cnt = (~np.isnan(grp)).sum(1, keepdims=True)
                            raw = x - ((np.nansum(grp, 1, keepdims=True) - grp) / (cnt - 1)).ravel()
                            want = np.nan_to_num(raw / (np.repeat(pd.nanstd(grp, axis=1), G) + 1e-4), nan=0.0)
                        tol = (1e-11, 1e-12 * sc / 1e-4)
                    elif m == "dr_grpo":
                        want = pd.group_peer(x, G, "grpo", "none")
                        tol = (1e-12, 1e-13 * sc)
                    else:
                        want = openrlhf_rb(x, G, lengths, s)
                        tol = (1e-10, 1e-12 * sc / 1e-4)
                    got = arr_of(adv[k])
                    mm = close(got, want, *tol)
                    if mm:
                        return f"{m}.{s}.advantages: {mm}"
                    # zero_fraction: mean(torch.isclose(adv, 0)) of moonlab's advantages
                    zf = float(np.mean(np.abs(got) <= 1e-8))
                    if abs(adv[k + 1] - zf) > 1e-15:
                        return f"{m}.{s}.zero_fraction: {adv[k + 1]!r} vs {zf!r}"
                    k += 2
            if sorted(ids_of(zsg)) != want_z:
                return f"zero_spread_groups: {ids_of(zsg)} vs TRL's is_std_zero groups {want_z}"
            want_frac = float(np.mean(np.repeat(zero, G)))
            if abs(frac - want_frac) > 1e-15:
                return f"frac_reward_zero_std: {frac!r} vs TRL's {want_frac!r}"
            mm = close(arr_of(gstd), std, 1e-12, 1e-14 * sc)
            if mm:
                return f"group_std: {mm}"
            if lengths is None:
                return None if not wts else f"weights without lengths: {wts}"
            L = max(lengths)
            want_max = maxlen if maxlen is not None else L
            if mcl != want_max:
                return f"max_completion_length {mcl!r} vs {want_max!r}"
            tw = trl_weights(lengths, want_max)
            names = ["token-mean", "seq-mean-token-sum", "seq-mean-token-mean", "dr_grpo"]
            for j, nm in enumerate(names):
                got = arr_of(wts[j])
                ok = ~np.isnan(tw[nm])
                mm = close(got[ok], tw[nm][ok], 1e-14)
                if mm:
                    return f"weights[{nm}] against TRL 1.16's compute_loss: {mm}"
            vw = verl_weights(lengths)
            for nm, w in vw.items():
                got = arr_of(wts[names.index(nm)])
                ok = ~np.isnan(w)
                # verl's seq-mean-token-mean divides by (count + 1e-8): 1e-8 / L relative
                mm = close(got[ok], w[ok], 1e-8 if nm == "seq-mean-token-mean" else 1e-14)
                if mm:
                    if 0 in lengths and nm != "token-mean":
                        return ("known", "verl leaves empty completions out of N (TRL counts them)", f"weights[{nm}] against verl's agg_loss: {mm}")
                    return f"weights[{nm}] against verl's agg_loss: {mm}"
            return None
        out.append(Case(cat, lua, check, note=f"G={G} n={n} lengths={(lengths[:8] + ['...']) if lengths and len(lengths) > 8 else lengths} max={maxlen}"))
    if large:
        return
    for bad, why in [("{1, 2, 3}, 2", "3 rewards in groups of 2"), ("{}, 1", "no rewards"), ("{1, 2}, 0", "group size 0"),
                     ("{1, 2}, 2, {lengths = {1}}", "lengths of another size"), ("{1, 2}, 2, {lengths = {1, -1}}", "a negative length"),
                     ("{1, 2}, 2, {lengths = {1, 0/0}}", "a NaN length"), ("{1, 2}, 2, {lengths = {0, 0}}", "no token at all"),
                     ("{1, 2}, 2, {lengths = {1, 2}, max_completion_length = 0}", "max_completion_length 0")]:
        out.append(expect_error("dry_run", f"return rl.dry_run({bad})", why))


# ------------------------------------------------------------------------- normalize
def cases_normalize(g, out):
    for _ in range(200):
        n = g.length(14)
        x = g.vec(n, ties=0.5, special=0.2 if g.prob(0.4) else 0.0,
                  pool=(np.nan, np.nan, np.inf, -np.inf) if g.prob(0.2) else (np.nan,))
        if n and g.prob(0.15):
            x = np.full(n, float(g.choice([0.1, 0.7, 1 / 3, 1e300, -2.5])))
            if g.prob(0.3):
                x[g.i(0, n - 1)] = np.nan
        method = g.choice(["zscore", "rank", "minmax"])
        lua = f"return reward.normalize({pd.lua_vec(g, x)}, '{method}')"

        def check(vals, x=x, method=method):
            got = arr_of(vals[0]) if vals else None
            if got is None:
                return f"no tensor: {vals!r}"
            ok = ~np.isnan(x)
            xs = x[ok]
            want = np.full(len(x), np.nan)
            with np.errstate(all="ignore"):
                if xs.size:
                    equal = np.all(xs == xs[0])
                    if method == "zscore":
                        # scipy.stats.zscore(x, ddof=0, nan_policy="omit"); all equal: the docstring's zeros
                        w = scipy.stats.zscore(x, ddof=0, nan_policy="omit")
                        want = np.where(ok, 0.0, np.nan) if equal and np.all(np.isfinite(xs)) else np.asarray(w, dtype=np.float64)
                    elif method == "rank":
                        rk = scipy.stats.rankdata(xs, method="average")
                        want[ok] = (rk - 1) / (len(xs) - 1) if len(xs) > 1 else 0.0
                    else:
                        lo, hi = xs.min(), xs.max()
                        want[ok] = (xs - lo) / (hi - lo) if hi > lo else 0.0
            sc = pd.scale_of(x)
            atol = 1e-13 if method != "zscore" else 1e-12
            m = close(got, want, 1e-12, atol)
            if m and method == "zscore" and np.all(np.isfinite(xs)) and xs.size and not equal:
                # a spread within rounding of the mean: numpy's pairwise sums and moonlab's differ
                sd = np.std(xs)
                if sd < 1e-12 * (sc + 1e-300):
                    return ("known", "std within rounding of the values", m)
            return m
        out.append(Case("normalize", lua, check, note=method))
    out.append(expect_error("normalize", "return reward.normalize({1, 2}, 'l2')", "an unknown method"))


# ------------------------------------------------------------------------- reward.check / combine
def cases_reward(g, out):
    for _ in range(80):
        n = g.i(1, 12)
        runs = int(g.choice([1, 2, 2, 3]))
        vals = [float(np.round(g.rng.normal() * 3, 2)) for _ in range(n)]
        kinds = [g.choice(["num", "num", "num", "nan", "inf", "nil", "err", "str", "nondet", "int", "flaky"]) for _ in range(n)]
        rng_lo = g.prob(0.4)
        lo, hi = -1.0, 2.0
        rows = "{" + ", ".join(f"{{k = '{k}', v = {pd.lua_num(v)}}}" for k, v in zip(kinds, vals)) + "}"
        bump = float(g.choice([0, 0, 0.5, -3]))
        opts = [f"runs = {runs}"] + ([f"state = {{bump = {bump!r}}}"] if bump else [])
        vals = [v - bump if k == "num" else v for k, v in zip(kinds, vals)] if False else vals
        if rng_lo:
            opts.append(f"range = {{{lo}, {hi}}}")
        lua = f"""local calls = {{}}
local function r(s, state)
  calls[s] = (calls[s] or 0) + 1
  if s.k == 'nan' then return 0/0 elseif s.k == 'inf' then return -math.huge
  elseif s.k == 'nil' then return nil elseif s.k == 'err' then error('bad row')
  elseif s.k == 'str' then return 'x' elseif s.k == 'nondet' then return s.v + calls[s]
  elseif s.k == 'int' then return math.tointeger(math.floor(s.v))
  elseif s.k == 'flaky' then if calls[s] == 1 then error('first call fails') end return s.v end
  return s.v
end
local rep = reward.check(function(s, st) local v = r(s, st) if type(v) == 'number' and s.k == 'num' then return v + (st.bump or 0) end return v end, {rows}, {{{', '.join(opts)}}})
return rep.deterministic, rep.nondeterministic, rep.nan_rows, rep.not_applicable, rep.errors, rep.min, rep.max, rep.out_of_range"""

        def check(res, kinds=kinds, vals=vals, runs=runs, rng_lo=rng_lo, bump=bump):
            vals = [v + bump if k == "num" else v for k, v in zip(kinds, vals)]  # the state reached r
            det, nondet, nan_rows, na, errs, mn, mx, oor = (res + [None] * 8)[:8]
            # flaky: an error on the first run, the value after it (not the same every run)
            want_nd = [i + 1 for i, k in enumerate(kinds) if k in ("nondet", "flaky") and runs > 1]
            want_nan = [i + 1 for i, k in enumerate(kinds) if k in ("nan", "inf")]
            want_na = [i + 1 for i, k in enumerate(kinds) if k == "nil"]
            want_err = [i + 1 for i, k in enumerate(kinds) if k in ("err", "str", "flaky")]
            fin = []
            for k, v in zip(kinds, vals):
                if k == "num":
                    fin.append(v)
                elif k == "int":
                    fin.append(float(math.floor(v)))
                elif k == "nondet":
                    fin.extend(v + c for c in range(1, runs + 1))
                elif k == "flaky" and runs > 1:
                    fin.append(v)
            if det is not (len(want_nd) == 0):
                return f"deterministic {det!r}, expected {len(want_nd) == 0}"
            for name, got, want in [("nondeterministic", nondet, want_nd), ("nan_rows", nan_rows, want_nan),
                                    ("not_applicable", na, want_na)]:
                if sorted(ids_of(got or [])) != want:
                    return f"{name}: {got!r} vs {want!r}"
            er = sorted(e["row"] for e in (errs or []))
            if er != want_err:
                return f"errors rows {er} vs {want_err}"
            if fin:
                if mn != min(fin) or mx != max(fin):
                    return f"min/max {mn!r}/{mx!r} vs {min(fin)!r}/{max(fin)!r}"
            elif mn is not None or mx is not None:
                if not (isinstance(mn, float) and math.isnan(mn)) and mn is not None:
                    return f"min {mn!r} with no finite value"
            if rng_lo:
                # rows whose values fall outside [lo, hi] (any run; non-finite values are nan_rows)
                want_o = []
                for i, (k, v) in enumerate(zip(kinds, vals)):
                    vs = [v] if k == "num" else [float(math.floor(v))] if k == "int" else [v + c for c in range(1, runs + 1)] if k == "nondet" else [v] if (k == "flaky" and runs > 1) else []
                    if any(u < lo or u > hi for u in vs):
                        want_o.append(i + 1)
                if sorted(ids_of(oor or [])) != want_o:
                    return f"out_of_range {oor!r} vs {want_o!r}"
            return None
        out.append(Case("reward_check", lua, check, note=f"runs={runs} kinds={kinds}"))

    for _ in range(80):
        k = g.i(1, 4)
        parts, luaparts = [], []
        for j in range(k):
            kind = g.choice(["const", "nil_sometimes", "state", "nan_sometimes", "inf"])
            w = g.choice(["num", "num", "fn", "default"])
            wv = float(np.round(g.rng.normal() * 2, 2))
            fn = {"const": f"function(s) return s.x * {j + 1} end",
                  "nil_sometimes": f"function(s) if s.x > 0 then return nil end return s.x - {j} end",
                  "state": f"function(s, st) return (st.step or 0) + s.x * {j + 1} end",
                  "nan_sometimes": f"function(s) if s.x < 0 then return 0/0 end return s.x + {j} end",
                  "inf": "function(s) return math.huge end"}[kind]
            if kind == "inf" and g.prob(0.5):
                w, wv = "num", 0.0  # 0 * inf: NaN, which nansum skips
            parts.append((kind, w, wv, j))
            if w == "num":
                luaparts.append(f"{{{fn}, {pd.lua_num(wv)}}}")
            elif w == "fn":
                luaparts.append(f"{{{fn}, function(st) return {pd.lua_num(wv)} * ((st.step or 0) + 1) end}}")
            else:
                luaparts.append(f"{{{fn}}}")
        xs = [float(np.round(g.rng.normal(), 2)) for _ in range(g.i(1, 5))]
        steps = [g.choice([None, 0, 3, 10]) for _ in xs]
        calls = []
        for xv, st in zip(xs, steps):
            sl = "{}" if st is None else f"{{step = {st}}}"
            calls.append(f"c({{x = {pd.lua_num(xv)}}}, {sl})")
        wrapped = ", ".join("(function() local r = " + cl + " if r == nil then return 'nil' end return r end)()" for cl in calls)
        lua = (f"local c = reward.combine{{{', '.join(luaparts)}}}\n"
               f"local out = {{}}\nfor i, v in ipairs({{{wrapped}}}) do out[i] = v end\n"
               f"local pv, info = c:parts({{x = {pd.lua_num(xs[0])}}}, {'{}' if steps[0] is None else '{step = ' + str(steps[0]) + '}'})\n"
               "local ws = {}\nfor i, p in ipairs(info.parts) do ws[i] = {p.raw == nil and 'nil' or p.raw, p.weight, p.weighted == nil and 'nil' or p.weighted} end\n"
               "return out, pv == nil and 'nil' or pv, info.total == nil and 'nil' or info.total, ws")

        def check(res, parts=parts, xs=xs, steps=steps):
            got = res[0] if res else None
            want = []
            for xv, st in zip(xs, steps):
                step = st or 0
                tot, any_ = [], False
                for kind, w, wv, j in parts:
                    if kind == "const":
                        v = xv * (j + 1)
                    elif kind == "nil_sometimes":
                        v = None if xv > 0 else xv - j
                    elif kind == "nan_sometimes":
                        v = math.nan if xv < 0 else xv + j
                    elif kind == "inf":
                        v = math.inf
                    else:
                        v = step + xv * (j + 1)
                    # TRL 1.16 GRPOTrainer: rewards_per_func (None -> NaN) * weights, nansum over
                    # the functions; a completion whose every function gave NaN is NaN (nil here)
                    if v is None or math.isnan(v):
                        continue
                    any_ = True
                    weight = wv if w == "num" else 1.0 if w == "default" else wv * (step + 1)
                    wvv = weight * v
                    if not math.isnan(wvv):
                        tot.append(wvv)
                want.append((sum(tot) if any(math.isinf(t) for t in tot) else math.fsum(tot)) if any_ else "nil")
            if not isinstance(got, list) or len(got) != len(want):
                return f"{got!r} vs {want!r}"
            pv, total, ws = res[1], res[2], res[3]
            if not all(x == got[0] or (isinstance(x, float) and math.isnan(x) and isinstance(got[0], float) and math.isnan(got[0])) for x in (pv, total)):
                return f"parts: value {pv!r}, info.total {total!r}, the call gave {got[0]!r}"
            step0 = steps[0] or 0
            for (kind, w, wv, j), row in zip(parts, ws):
                weight = wv if w == "num" else 1.0 if w == "default" else wv * (step0 + 1)
                if abs(row[1] - weight) > 1e-12 * (1 + abs(weight)):
                    return f"parts: weight {row[1]!r} of part {j + 1}, expected {weight!r}"
            for a, b in zip(got, want):
                if b == "nil" or a == "nil":
                    if a != b:
                        return f"{got!r} vs {want!r}"
                elif not (a == b or (math.isnan(a) and math.isnan(b)) or abs(a - b) <= 1e-12 * (1 + abs(b))):
                    return f"{got!r} vs {want!r}"
            return None
        out.append(Case("reward_combine", lua, check, note=str(parts)))

    # sample.best_of_n with a registered reward (issue 11 §4): nil is TRL's None (NaN, never
    # the best), NaN never wins, ties go to the first; candidates as strings or in TRL's
    # conversational format (a list of {role, content} messages, given as the completion).
    for k in range(60):
        n = g.i(1, 8)
        kinds = [g.choice(["num", "num", "num", "nil", "nan", "tie"]) for _ in range(n)]
        base = float(np.round(g.rng.normal(), 2))
        vals = [None if kd == "nil" else math.nan if kd == "nan" else base if kd == "tie" else float(np.round(g.rng.normal(), 2))
                for kd in kinds]
        chat = [g.prob(0.5) for _ in range(n)]
        texts = [f"cand {j} " + g.choice(["", "x", "\x1c"]) for j in range(n)]
        table = ", ".join(f"[{pd.lua_str(t)}] = {'nil_' if v is None else 'nan_' if math.isnan(v) else pd.lua_num(v)}"
                          for t, v in zip(texts, vals))
        cands = ", ".join(f"{{{{role = 'assistant', content = {pd.lua_str(t)}}}}}" if c else pd.lua_str(t) for t, c in zip(texts, chat))
        lua = (f"local nil_, nan_ = {{}}, {{}}\nlocal vals = {{{table}}}\n"
               f"reward.define('bon_{k}', function(s) local v = vals[reward.text(s)] if v == nil_ then return nil "
               f"elseif v == nan_ then return 0/0 end return v end)\n"
               f"local ok, best, i, sc = pcall(sample.best_of_n, {{{cands}}}, 'bon_{k}')\n"
               "if not ok then return 'error', tostring(best) end\n"
               "local out = {} for j = 1, #sc do out[j] = string.format('%.17g', sc[j]) end\n"
               "return i, out")

        def check(res, vals=vals):
            finite = [(j, v) for j, v in enumerate(vals) if v is not None and not math.isnan(v)]
            if not finite:
                return None if res and res[0] == "error" and "every score is NaN" in str(res[1]) else f"{res!r}: expected the every-NaN error"
            best = max(finite, key=lambda jv: (jv[1], -jv[0]))[0] + 1  # the first of the maximal
            if not res or res[0] != best:
                return f"index {res[0] if res else None!r}, expected {best}"
            got = [float(x) for x in res[1]]
            for a, v in zip(got, vals):
                w = math.nan if v is None else v
                if not (a == w or (math.isnan(a) and math.isnan(w))):
                    return f"scores {got!r} vs {vals!r}"
            return None
        out.append(Case("best_of_n", lua, check, note=f"kinds={kinds} chat={chat}"))

    # reward.length in words and characters: Python's len(text.split()) and len(text), on
    # texts with every whitespace str.isspace knows (U+001C..U+001F, U+0085, Unicode spaces),
    # plain and conversational.
    for _ in range(80):
        t = pd.rand_text(g)
        unit = g.choice(["words", "chars"])
        chat = g.prob(0.5)
        comp = f"{{{{role = 'assistant', content = {pd.lua_str(t)}}}}}" if chat else pd.lua_str(t)
        lua = f"return reward.length{{unit = '{unit}', target = 1000}}{{completion = {comp}}}"
        n = len(t.split()) if unit == "words" else len(t)
        want = max(0.0, 1 - abs((n - 1000) / 1000))

        def check(res, want=want, n=n):
            return None if res and res[0] == want else f"{res!r} vs {want!r} ({n})"
        out.append(Case("length", lua, check, note=f"{unit} {t!r}"))


# ------------------------------------------------------------------------- runner
CATS = {
    "compare": cases_compare,
    "compare_large": cases_compare_large,
    "logprob": cases_logprob,
    "kl_lab": cases_kl_lab,
    "dry_run": cases_dry_run,
    "normalize": cases_normalize,
    "reward": cases_reward,
    "large": cases_large,
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--moonlab", default=None)
    ap.add_argument("--only", action="append", help="a category: " + ", ".join(CATS))
    ap.add_argument("--batch", type=int, default=200)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--show-known", action="store_true")
    ap.add_argument("--max-per-cat", type=int, default=8)
    args = ap.parse_args()
    np.seterr(all="ignore")
    import warnings
    warnings.simplefilter("ignore")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    moonlab = args.moonlab or next((p for p in (os.path.join(root, ".build/debug/moonlab"), os.path.join(root, ".build/release/moonlab")) if os.path.exists(p)), "moonlab")
    for name in args.only or []:
        if name not in CATS:
            ap.error(f"unknown category {name!r}; one of {', '.join(CATS)}")
    work = tempfile.mkdtemp(prefix="moonlab-lab-")
    pd.NPY["dir"] = work
    cases = []
    for name, f in CATS.items():
        sub = pd.Gen(args.seed * 1000003 + sum(map(ord, name)))
        if not args.only or name in args.only:
            f(sub, cases)
    results, crashes = {}, []
    todo = list(range(len(cases)))
    while todo:
        ids, todo = todo[:args.batch], todo[args.batch:]
        res, crashed = pd.run_batch(moonlab, cases, ids, work)
        results.update(res)
        if crashed:
            cid = crashed[0]
            if cid is None:
                print("batch failed before a case started:", crashed[2], file=sys.stderr)
                break
            crashes.append((cid, crashed[1], crashed[2]))
            results[cid] = {"error": "CRASH"}
            todo = [i for i in ids if i > cid] + todo
    counts, shown, bad, reasons = {}, {}, 0, {}
    for i, c in enumerate(cases):
        r = results.get(i)
        counts.setdefault(c.cat, [0, 0, 0])
        counts[c.cat][0] += 1
        if r is None:
            msg = "not run"
        elif r.get("error") == "CRASH":
            msg = "moonlab CRASHED"
        elif "error" in r:
            try:
                msg = c.check(None)
                if msg is RAISES:
                    continue
                msg = f"Lua error: {r['error'][:300]}" if msg is None or not isinstance(msg, tuple) else msg
            except Exception:  # noqa: BLE001 - the check expected values
                msg = f"Lua error: {r['error'][:300]}"
        else:
            try:
                msg = c.check(r.get("vals", []))
            except Exception as e:  # noqa: BLE001 - a harness failure is shown as a difference
                msg = f"harness: {type(e).__name__}: {e}"
        if msg is None:
            continue
        known = None
        if isinstance(msg, tuple):
            _, known, msg = msg
        if known:
            counts[c.cat][2] += 1
            reasons[(c.cat, known.split(" (")[0])] = reasons.get((c.cat, known.split(" (")[0]), 0) + 1
            if not args.show_known:
                continue
        else:
            counts[c.cat][1] += 1
            bad += 1
        shown[c.cat] = shown.get(c.cat, 0) + 1
        if shown[c.cat] > args.max_per_cat:
            continue
        tag = f"known: {known}" if known else "differ"
        lua = c.lua if len(c.lua) < 1500 else c.lua[:700] + f" ... <{len(c.lua) - 1400} characters> ... " + c.lua[-700:]
        print(f"[{tag}] {c.cat} #{i} {c.note}\n    {lua.replace(chr(10), chr(10) + '    ')}\n    -> {msg}")
    for cid, rc, err in crashes:
        print(f"CRASH in case #{cid} ({cases[cid].cat}), exit {rc}: {err.strip()[-600:]}")
    print()
    print(f"{'category':<16} {'cases':>6} {'differ':>7} {'known':>6}")
    for cat, (n, d, k) in counts.items():
        print(f"{cat:<16} {n:>6} {d:>7} {k:>6}")
    for (cat, why), k in sorted(reasons.items()):
        print(f"  known in {cat}: {k} x {why}")
    print(f"numpy {np.__version__}, scipy {scipy.__version__}, torch {torch.__version__}, transformers "
          f"{transformers.__version__}; seed {args.seed}, {len(cases)} cases, {bad} differ, moonlab {moonlab}")
    if args.keep:
        print("work directory:", work)
    else:
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
