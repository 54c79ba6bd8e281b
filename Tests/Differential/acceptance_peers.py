#!/usr/bin/env python3
"""Blind acceptance check of issue 11, sections 1 ("f64 is f64") and 4 ("the peers' edge cases").

Written from the issue text and the Lua contract (lua-api.md, the project's contract document) only, as an
outsider would: every check drives the real `moonlab` binary through Lua and compares
with a float64 reference computed by the peer itself where it is installed (torch 2.15,
transformers 5.25, TRL 1.16) or by the peer's formula transcribed from its source (the
file is named next to each check).

Run by hand (not in CI), with the venv that has torch, transformers and trl:
    /work/venv-torch/bin/python Tests/Differential/acceptance_peers.py \
        [--moonlab .build/debug/moonlab] [--seed 1] [--rows 40] [--only f64_dist,...]
It prints one line per check and a summary; exit status 1 when any check differs.
"""
import argparse
import json
import math
import os
import random
import subprocess
import sys
import tempfile

import numpy as np
import torch

RTOL = 1e-12  # "compare the 12th digit"

# ---------------------------------------------------------------- Lua plumbing

PRELUDE = r'''
local function enc(v)
  local t = type(v)
  if t == "number" then
    if v ~= v then return "NaN" end
    if v == math.huge then return "Infinity" end
    if v == -math.huge then return "-Infinity" end
    if math.type(v) == "integer" then return tostring(v) end
    if v == 0 then return (1 / v < 0) and "-0.0" or "0.0" end
    return string.format("%.17g", v)
  elseif t == "boolean" then return tostring(v)
  elseif t == "nil" then return "null"
  elseif t == "string" then return data.encode(v)
  elseif t == "userdata" and v.totable then return enc(v:totable())
  elseif t == "table" then
    if v == data.null then return "null" end
    local n = #v
    local isarr = n > 0 or next(v) == nil
    if isarr then
      local parts = {}
      for i = 1, n do parts[i] = enc(v[i]) end
      return "[" .. table.concat(parts, ",") .. "]"
    end
    local parts = {}
    for k, x in pairs(v) do
      if type(x) ~= "function" then parts[#parts + 1] = data.encode(tostring(k)) .. ":" .. enc(x) end
    end
    return "{" .. table.concat(parts, ",") .. "}"
  else return data.encode(tostring(v)) end
end
OUT = {}
function case(name, fn)
  local res = table.pack(pcall(fn))
  if res[1] then
    local r = {}
    for k = 2, res.n do r[k - 1] = res[k] == nil and data.null or res[k] end
    OUT[#OUT + 1] = {name = name, r = r}
  else OUT[#OUT + 1] = {name = name, err = tostring(res[2])} end
end
function EMIT() io.write("\n@@JSON@@", enc(OUT), "\n") end
NaN = 0/0
'''


def lua(v):
    """A Python value as a Lua literal (floats round-trip exactly via repr)."""
    if v is None:
        return "nil"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "math.huge" if v > 0 else "-math.huge"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=True).replace("\\u00", "\\x").replace("\\u", "\\u") \
            if False else lua_str(v)
    if isinstance(v, np.ndarray):
        return lua(v.tolist())
    if isinstance(v, dict):
        return "{" + ", ".join("[%s] = %s" % (lua(k), lua(x)) for k, x in v.items()) + "}"
    if isinstance(v, (list, tuple)):
        return "{" + ", ".join(lua(x) for x in v) + "}"
    raise TypeError(type(v))


def lua_str(s):
    out = ['"']
    for b in s.encode("utf-8"):
        c = chr(b)
        if c in '"\\':
            out.append("\\" + c)
        elif 32 <= b < 127:
            out.append(c)
        else:
            out.append("\\%03d" % b)
    out.append('"')
    return "".join(out)


def run_lua(body, moonlab, files=None):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "case.lua")
        with open(path, "w") as f:
            f.write(PRELUDE + "\n" + body + "\nEMIT()\n")
        p = subprocess.run([moonlab, "run", path], capture_output=True, text=True, cwd=d)
        if "@@JSON@@" not in p.stdout:
            raise RuntimeError("moonlab failed: %s\n%s" % (p.stderr[-2000:], p.stdout[-2000:]))
        out = json.loads(p.stdout.split("@@JSON@@")[-1])
        return {o["name"]: o for o in out}


class Report:
    def __init__(self):
        self.checks = 0
        self.fails = []
        self.notes = []

    def note(self, what):
        self.notes.append(what)
        print("NOTE " + what)

    def ok(self, cond, what, detail=""):
        self.checks += 1
        if not cond:
            self.fails.append((what, detail))
            print("DIFF %s %s" % (what, detail))
        return cond

    def res(self, outs, name):
        o = outs.get(name)
        if o is None:
            self.ok(False, name, "no result")
            return None
        if "err" in o:
            self.ok(False, name, "error: " + o["err"][:300])
            return None
        return o["r"]

    def close(self, got, ref, what, rtol=RTOL, atol=0.0, scale=None):
        """Elementwise |got - ref| <= rtol * max(|ref|, scale) + atol; NaN must match NaN, inf inf."""
        g = np.asarray(got if got is not None else np.nan, dtype=np.float64).ravel()
        r = np.asarray(ref, dtype=np.float64).ravel()
        if g.shape != r.shape:
            return self.ok(False, what, "shape %s vs %s" % (g.shape, r.shape))
        bad = []
        for i, (a, b) in enumerate(zip(g, r)):
            if math.isnan(b) or math.isnan(a):
                if not (math.isnan(a) and math.isnan(b)):
                    bad.append((i, a, b))
            elif math.isinf(b) or math.isinf(a):
                if a != b:
                    bad.append((i, a, b))
            else:
                s = max(abs(b), scale or 0.0)
                if abs(a - b) > rtol * s + atol:
                    bad.append((i, a, b))
        detail = ""
        if bad:
            i, a, b = bad[0]
            rel = abs(a - b) / max(abs(b), scale or 0.0, 1e-300) if not (math.isnan(a) or math.isnan(b)) else float("nan")
            detail = "%d/%d differ; first [%d] got %r ref %r (rel %.2e)" % (len(bad), len(r), i, a, b, rel)
        return self.ok(not bad, what, detail)


# ---------------------------------------------------------------- random inputs

def rand_row(rng, v, inf_frac=0.0, scale=3.0, ties=False):
    x = rng.normal(0, scale, v)
    if ties:
        x = np.round(x, 1)
    if inf_frac:
        m = rng.random(v) < inf_frac
        m[int(np.argmax(x))] = False
        x[m] = -np.inf
    return x


def lse(x):
    m = np.max(x)
    if not np.isfinite(m):
        return m
    return m + math.log(np.sum(np.exp(x - m)))


def logsoftmax(x):
    return x - lse(x)


# ---------------------------------------------------------------- 1. dist in f64

def check_f64_dist(R, ml, rng, rows):
    cases = []
    body = []
    for i in range(rows):
        v = int(rng.choice([2, 3, 7, 50, 1000, 5000]))
        x = rand_row(rng, v, inf_frac=0.2 if i % 3 == 0 else 0.0)
        y = rand_row(rng, v, inf_frac=0.0)
        y[~np.isfinite(x)] = -np.inf if i % 2 else y[~np.isfinite(x)]
        t = float(rng.choice([1.0, 0.7, 1.3]))
        tgt = int(rng.integers(0, v))
        while not np.isfinite(x[tgt]):
            tgt = int(rng.integers(0, v))
        cases.append((i, x, y, t, tgt))
        body.append("do local x, y = tensor(%s), tensor(%s)\n" % (lua(x), lua(y)) +
                    "case('sm%d', function() return dist.softmax(x, {temperature = %r}) end)\n" % (i, t) +
                    "case('lsm%d', function() return dist.log_softmax(x, {temperature = %r}) end)\n" % (i, t) +
                    "case('lse%d', function() return dist.logsumexp(x, {temperature = %r}) end)\n" % (i, t) +
                    "case('ent%d', function() return dist.entropy(x, {temperature = %r}) end)\n" % (i, t) +
                    "case('kl%d', function() return dist.kl(x, y, {temperature = %r}) end)\n" % (i, t) +
                    "case('js%d', function() return dist.js(x, y) end)\n" % i +
                    "case('tv%d', function() return dist.tv(x, y) end)\n" % i +
                    "case('ce%d', function() return dist.cross_entropy(x, %d, {temperature = %r}) end)\n" % (i, tgt, t) +
                    "case('pkl%d', function() return dist.kl(dist.softmax(x), dist.softmax(y), {probs = true}) end)\n" % i +
                    "case('pent%d', function() return dist.entropy(dist.softmax(y), {probs = true}) end)\n" % i +
                    "case('lenta%d', function() return dist.entropy({%s}) end)\n" % (i, ", ".join(lua(a) for a in x[:50])) +
                    "end")
    # a batch
    B = rng.normal(0, 2, (5, 33))
    C = rng.normal(0, 2, (5, 33))
    body.append("do local x, y = tensor(%s), tensor(%s)\n" % (lua(B), lua(C)) +
                "case('bkl', function() return dist.kl(x, y) end)\n"
                "case('bent', function() return dist.entropy(x) end)\n"
                "case('blse', function() return dist.logsumexp(x) end)\n"
                "case('bsm', function() return dist.softmax(x) end)\nend")
    outs = run_lua("\n".join(body), ml)
    for i, x, y, t, tgt in cases:
        xs, ys = x / t, y / t
        p = np.exp(logsoftmax(xs))
        lp = logsoftmax(xs)
        lq = logsoftmax(ys)
        R.close(R.res(outs, "sm%d" % i), p, "dist.softmax f64 row %d (V=%d)" % (i, len(x)))
        # scale: |x/T|; moonlab's f64 kernel forms x*s - m with one fma, so a row whose other
        # entries are -inf gives the max a log-probability of +-1e-17 (below an ulp of x/T), not 0
        R.close(R.res(outs, "lsm%d" % i), lp, "dist.log_softmax f64 row %d" % i,
                scale=float(np.max(np.abs(xs[np.isfinite(xs)]))))
        R.close((R.res(outs, "lse%d" % i) or [None])[0], lse(xs), "dist.logsumexp f64 row %d" % i, scale=1.0)
        m = p > 0
        ent = -np.sum(p[m] * lp[m])
        R.close((R.res(outs, "ent%d" % i) or [None])[0], ent, "dist.entropy f64 row %d" % i, scale=1e-3)
        kl = np.sum(p[m] * (lp[m] - lq[m]))
        R.close((R.res(outs, "kl%d" % i) or [None])[0], kl, "dist.kl f64 row %d" % i, scale=1e-3)
        p1, q1 = np.exp(logsoftmax(x)), np.exp(logsoftmax(y))
        mm = 0.5 * (p1 + q1)

        def _kl(a, b):
            k = a > 0
            return np.sum(a[k] * (np.log(a[k]) - np.log(b[k])))
        R.close((R.res(outs, "js%d" % i) or [None])[0], 0.5 * _kl(p1, mm) + 0.5 * _kl(q1, mm),
                "dist.js f64 row %d" % i, rtol=1e-11, scale=1e-3)
        R.close((R.res(outs, "tv%d" % i) or [None])[0], 0.5 * np.sum(np.abs(p1 - q1)), "dist.tv f64 row %d" % i,
                scale=1e-3)
        R.close((R.res(outs, "ce%d" % i) or [None])[0], -lp[tgt], "dist.cross_entropy f64 row %d" % i, scale=1.0)
        kl1 = _kl(p1, q1)
        R.close((R.res(outs, "pkl%d" % i) or [None])[0], kl1, "dist.kl probs=true row %d" % i, rtol=1e-11,
                scale=1e-3)
        R.close((R.res(outs, "pent%d" % i) or [None])[0], -np.sum(q1[q1 > 0] * np.log(q1[q1 > 0])),
                "dist.entropy probs=true row %d" % i, rtol=1e-11, scale=1e-3)
        xa = x[:50]
        pa = np.exp(logsoftmax(xa))
        R.close((R.res(outs, "lenta%d" % i) or [None])[0], -np.sum(pa[pa > 0] * logsoftmax(xa)[pa > 0]),
                "dist.entropy Lua array row %d" % i, scale=1e-3)
    bkl = [np.sum(np.exp(logsoftmax(a)) * (logsoftmax(a) - logsoftmax(b))) for a, b in zip(B, C)]
    R.close(R.res(outs, "bkl")[0], bkl, "dist.kl batch f64")
    R.close(R.res(outs, "bent")[0], [-np.sum(np.exp(logsoftmax(a)) * logsoftmax(a)) for a in B], "dist.entropy batch")
    R.close(R.res(outs, "blse")[0], [lse(a) for a in B], "dist.logsumexp batch")
    R.close(R.res(outs, "bsm")[0], np.exp(np.array([logsoftmax(a) for a in B])), "dist.softmax batch")


# ---------------------------------------------------------------- 1. sample chains in f64 vs transformers

def hf_processors():
    import transformers.generation.logits_process as lp
    return lp


TopK = __import__("collections").namedtuple("TopK", "values indices")


def check_f64_sample(R, ml, rng, rows):
    lp = hf_processors()
    specs = []  # (lua stage, HF processor factory or custom fn)

    def hf(proc):
        # HF's warpers sort with torch.sort's / torch.argsort's default (stable=False) and pick
        # min_p's min_keep tokens with torch.topk; on CPU (torch 2.15) that is libstdc++'s
        # std::sort / partial_sort / nth_element over (value, index) pairs, so a tie group at the
        # top-p / typical boundary (or min_p's min_keep) is split in that order, which moonlab
        # reproduces (TorchTieOrder.swift). The reference is HF on CPU as it runs; where a stable
        # sort (ties in vocabulary order, as on GPU) splits it otherwise, a NOTE says so.
        def f(x, hist):
            return stable_f(x, hist, stable=False)

        def stable_f(x, hist, stable=True):
            if not hist and isinstance(proc, lp.RepetitionPenaltyLogitsProcessor):
                return x.copy()
            s = torch.tensor(x, dtype=torch.float64).unsqueeze(0)
            ids = torch.tensor([hist if hist else [0]], dtype=torch.long)
            real_sort, real_argsort = torch.sort, torch.argsort

            def stable_sort(t, *a, **k):
                k["stable"] = True
                return real_sort(t, *a, **k)

            def stable_argsort(t, *a, **k):
                k["stable"] = True
                return real_argsort(t, *a, **k)
            real_topk = torch.topk

            def stable_topk(t, k, dim=-1, largest=True, sorted=True):  # ties by the lower position
                v, i = real_sort(t, dim=dim, descending=largest, stable=True)
                return TopK(v.narrow(dim, 0, k), i.narrow(dim, 0, k))
            if stable:
                torch.sort, torch.argsort, torch.topk = stable_sort, stable_argsort, stable_topk
            try:
                return proc(ids, s)[0].numpy()
            finally:
                torch.sort, torch.argsort, torch.topk = real_sort, real_argsort, real_topk
        f.stable = stable_f
        return f

    def n_sigma(n, min_keep=1):
        def f(x, hist):
            fin = x[np.isfinite(x)]
            thr = np.max(fin) - n * np.std(fin)
            out = x.copy()
            keep = x >= thr
            if keep.sum() < min_keep:
                order = np.argsort(-x, kind="stable")
                keep[order[:min_keep]] = True
            out[~keep] = -np.inf
            return out
        return f

    def openai_pen(rep, freq, pres):
        def f(x, hist):
            out = x.copy()
            if rep != 1.0:
                s = torch.tensor(out, dtype=torch.float64).unsqueeze(0)
                out = lp.RepetitionPenaltyLogitsProcessor(rep)(torch.tensor([hist]), s)[0].numpy()
            ids, cnt = np.unique(np.array(hist), return_counts=True)
            for i, c in zip(ids, cnt):
                if i < len(out):
                    out[i] -= c * freq + (pres if c > 0 else 0.0)
            return out
        return f

    def bias(b):
        def f(x, hist):
            out = x.copy()
            for k, v in b.items():
                out[k] += v
            return out
        return f

    def greedy(x, hist):
        out = np.full_like(x, -np.inf)
        i = int(np.argmax(x))
        out[i] = x[i]
        return out

    for i in range(rows):
        v = int(rng.choice([5, 17, 100, 1000, 32000]))
        x = rand_row(rng, v, inf_frac=0.1 if i % 4 == 0 else 0.0, ties=(i % 5 == 1))
        hist = [int(a) for a in rng.integers(0, v, int(rng.choice([0, 10, 100, 300])))]
        k = int(rng.integers(1, min(v, 60) + 1))
        p = float(rng.choice([0.5, 0.9, 0.95, 0.999]))
        t = float(rng.choice([0.3, 0.7, 1.0, 1.5]))
        mp = float(rng.choice([0.01, 0.05, 0.2]))
        mk = int(rng.choice([1, 1, 3]))
        rep = float(rng.choice([1.0, 1.1, 1.3, 0.8]))
        st = [
            ("sample.temperature(%r)" % t, hf(lp.TemperatureLogitsWarper(t))),
            ("sample.top_k(%d, {min_keep = %d})" % (k, mk), hf(lp.TopKLogitsWarper(k, min_tokens_to_keep=mk))),
            ("sample.top_p(%r, {min_keep = %d})" % (p, mk), hf(lp.TopPLogitsWarper(p, min_tokens_to_keep=mk))),
            ("sample.min_p(%r, {min_keep = %d})" % (mp, mk), hf(lp.MinPLogitsWarper(mp, min_tokens_to_keep=mk))),
            ("sample.typical(%r, {min_keep = %d})" % (p, mk), hf(lp.TypicalLogitsWarper(p, min_tokens_to_keep=mk))),
            ("sample.epsilon(%r, {min_keep = %d})" % (mp / 10, mk), hf(lp.EpsilonLogitsWarper(mp / 10, min_tokens_to_keep=mk))),
            ("sample.eta(%r, {min_keep = %d})" % (mp / 10, mk), hf(lp.EtaLogitsWarper(mp / 10, min_tokens_to_keep=mk))),
            ("sample.top_n_sigma(%r, {min_keep = %d})" % (t, mk), n_sigma(t, mk)),
            ("sample.penalties{repetition = %r}" % rep, hf(lp.RepetitionPenaltyLogitsProcessor(rep)) if hist else (lambda x, h: x.copy())),
            ("sample.penalties{repetition = %r, frequency = 0.3, presence = 0.2}" % rep, openai_pen(rep, 0.3, 0.2) if hist else (lambda x, h: x.copy())),
            ("sample.logit_bias{[%d] = 1.25, [0] = -0.5}" % (v - 1), bias({v - 1: 1.25, 0: -0.5})),
            ("sample.greedy()", greedy),
        ]
        specs.append((i, x, hist, st))
    body = []
    for i, x, hist, st in specs:
        body.append("do local x = tensor(%s)\nlocal ctx = {history = %s}" % (lua(x), lua(hist)))
        for j, (s, _) in enumerate(st):
            body.append("case('ap%d_%d', function() return sample.chain{%s}:apply(x, ctx) end)" % (i, j, s))
            body.append("case('pr%d_%d', function() return sample.chain{%s}:probs(x, ctx) end)" % (i, j, s))
            body.append("case('lp%d_%d', function() local c = sample.chain{%s}; local a, b = c:logprob(x, %d, ctx); "
                        "return a, b end)" % (i, j, s, int(np.nanargmax(np.where(np.isfinite(x), x, -1e300)))))
        # whole chains: the HF order penalties -> temperature -> top_k -> top_p -> min_p
        body.append("case('ch%d', function() return sample.chain{%s, %s, %s, %s}:probs(x, ctx) end)" %
                    (i, st[8][0], st[0][0], st[1][0], st[2][0]))
        body.append("case('chd%d', function() return sample.chain{%s, %s, %s, %s}:distribution(x, ctx) end)" %
                    (i, st[8][0], st[0][0], st[1][0], st[2][0]))
        body.append("case('chl%d', function() return sample.chain{%s, %s, %s, %s}:apply({%s}, ctx) end)" %
                    (i, st[8][0], st[0][0], st[1][0], st[2][0], ", ".join(lua(a) for a in x[:200])))
        body.append("end")
    outs = run_lua("\n".join(body), ml)

    def softmax(a):
        return np.exp(logsoftmax(a))
    for i, x, hist, st in specs:
        tok = int(np.nanargmax(np.where(np.isfinite(x), x, -1e300)))
        for j, (s, ref) in enumerate(st):
            y = ref(x, hist)
            if hasattr(ref, "stable"):
                ys = ref.stable(x, hist)
                n = int(np.sum(np.isinf(ys) != np.isinf(y)))
                if n:
                    R.note("chain{%s} row %d: a stable sort (ties by id, as on GPU) splits a tie group otherwise "
                           "(%d tokens); moonlab follows torch's CPU order, as HF on CPU" % (s, i, n))
            R.close(R.res(outs, "ap%d_%d" % (i, j)) and R.res(outs, "ap%d_%d" % (i, j))[0], y,
                    "chain{%s}:apply f64 row %d (V=%d)" % (s, i, len(x)))
            R.close(R.res(outs, "pr%d_%d" % (i, j)) and R.res(outs, "pr%d_%d" % (i, j))[0], softmax(y),
                    "chain{%s}:probs f64 row %d" % (s, i))
            r = R.res(outs, "lp%d_%d" % (i, j))
            if r:
                R.close(r[0], logsoftmax(y)[tok], "chain{%s}:logprob processed row %d" % (s, i), scale=1.0)
                R.close(r[1], logsoftmax(x)[tok], "chain{%s}:logprob raw row %d" % (s, i), scale=1.0)
        y = x
        for j in (8, 0, 1, 2):
            y = st[j][1](y, hist)
        name = "+".join(st[j][0] for j in (8, 0, 1, 2))
        R.close(R.res(outs, "ch%d" % i) and R.res(outs, "ch%d" % i)[0], softmax(y), "chain{%s}:probs row %d" % (name, i))
        R.close(R.res(outs, "chd%d" % i) and R.res(outs, "chd%d" % i)[0], softmax(y),
                "chain{...}:distribution row %d" % i)
        y = x[:200]
        for j in (8, 0, 1, 2):
            y = st[j][1](y, [h for h in hist if h < 200]) if j == 8 else st[j][1](y, hist)
        # the Lua-array run only sees ids < 200 of the history in its vocabulary
        R.close(R.res(outs, "chl%d" % i) and R.res(outs, "chl%d" % i)[0], y,
                "chain:apply on a Lua array row %d" % i)
    # the two examples
    outs = run_lua("case('a', function() return sample.chain{sample.top_k(3)}:probs(tensor{2, 1, 0.1, -1})[1] end)\n"
                   "case('b', function() return sample.chain{sample.temperature(1)}:apply(tensor{0.1})[1] end)", ml)
    e = np.exp(np.array([2, 1, 0.1]))
    R.close(R.res(outs, "a")[0], e[0] / e.sum(), "issue example top_k(3) probs")
    R.close(R.res(outs, "b")[0], 0.1, "issue example temperature(1) apply", rtol=0)


# ---------------------------------------------------------------- 1. rl in f64 (TRL / OpenRLHF / verl formulas)

def nanstd_f64(tensor, dim=None, keepdim=False):
    """TRL 1.16 trl/trainer/utils.py nanstd with its Bessel correction count / (count - 1) in float64.

    TRL's own divides two int64 tensors, which torch does in its default float32: the
    correction 4/3 (count 4), 6/5, ... is rounded to float32 even on float64 rewards, a
    relative error up to 3e-8 in the std. moonlab's f64 std is exact; trl_nanstd_gap
    below measures that TRL's own function differs only by that rounding.
    """
    mean = torch.nanmean(tensor, dim=dim, keepdim=True)
    variance = torch.nanmean((tensor - mean) ** 2, dim=dim, keepdim=True)
    count = torch.sum(~torch.isnan(tensor), dim=dim, keepdim=True).double()
    correction = torch.where(count > 1, count / (count - 1), torch.full_like(count, float("nan")))
    std = torch.sqrt(variance * correction)
    if keepdim:
        return std
    return std.squeeze(dim) if dim is not None else std.squeeze()


def trl_group_advantages(rewards, G, method, scale, nanstd=nanstd_f64):
    """TRL 1.16 trl/trainer/grpo_trainer.py (sum_then_normalize) and rloo_trainer.py, on float64."""
    rewards = torch.tensor(rewards, dtype=torch.float64)
    if method in ("grpo", "dr_grpo"):
        if method == "dr_grpo":
            scale = "none"
        mean = torch.nanmean(rewards.view(-1, G), dim=1).repeat_interleave(G, dim=0)
        if scale in ("group", "none"):
            std = nanstd(rewards.view(-1, G), dim=1).repeat_interleave(G, dim=0) if G > 1 else torch.zeros_like(rewards)
        else:
            std = nanstd(rewards).expand_as(rewards) if rewards.numel() > 1 else torch.zeros_like(rewards)
        adv = rewards - mean
        if scale != "none":
            adv = adv / (std + 1e-4)
    else:
        grouped = rewards.view(-1, G)
        counts = (~torch.isnan(grouped)).sum(dim=1, keepdim=True)
        gsum = torch.nansum(grouped, dim=1, keepdim=True)
        if G > 1:
            adv = rewards - ((gsum - grouped) / (counts - 1)).view(-1)
        else:
            adv = torch.zeros_like(rewards)
        if scale == "batch":
            adv = (adv - torch.nanmean(adv)) / (nanstd(adv) + 1e-4)
    return torch.nan_to_num(adv, nan=0.0).numpy()


def check_f64_rl(R, ml, rng, rows):
    import mpmath
    mpmath.mp.dps = 40
    body = []
    cases = []
    for i in range(rows):
        T = int(rng.choice([1, 2, 5, 64, 300]))
        r = rng.normal(0, 1, T)
        v = rng.normal(0, 1, T)
        d = rng.random(T) < 0.1
        g = float(rng.choice([1.0, 0.99, 0.9]))
        lam = float(rng.choice([0.95, 1.0, 0.5]))
        lv = float(rng.normal())
        logp = -np.abs(rng.normal(0, 2, T))
        if i % 3 == 0:
            ref = logp + rng.normal(0, 1e-9, T)  # r near 1: k3's cancellation
        elif i % 3 == 1:
            ref = logp + rng.normal(0, 15, T)  # beyond the clamps
        else:
            ref = -np.abs(rng.normal(0, 2, T))
        adv = rng.normal(0, 1, T)
        old = logp + rng.normal(0, 0.3, T)
        ret = rng.normal(0, 1, T)
        ov = v + rng.normal(0, 0.3, T)
        beta = float(rng.choice([0.05, 0.1]))
        score = float(rng.normal())
        cases.append((i, T, r, v, d, g, lam, lv, logp, ref, adv, old, ret, ov, beta, score))
        body.append(
            "do local r, v, d = tensor(%s), tensor(%s), %s\n" % (lua(r), lua(v), lua([bool(a) for a in d])) +
            "local lp, ref, adv, old, ret, ov = tensor(%s), tensor(%s), tensor(%s), tensor(%s), tensor(%s), tensor(%s)\n"
            % (lua(logp), lua(ref), lua(adv), lua(old), lua(ret), lua(ov)) +
            "case('ret_%d', function() return rl.returns(r, {gamma = %r, dones = d, last_value = %r}) end)\n" % (i, g, lv) +
            "case('gae_%d', function() return rl.gae(r, v, {gamma = %r, lambda = %r, dones = d, last_value = %r}) end)\n"
            % (i, g, lam, lv) +
            "case('gaet_%d', function() return rl.gae(r, v, {gamma = %r, lambda = %r, dones = tensor(%s), last_value = %r}) end)\n"
            % (i, g, lam, lua([float(a) for a in d]), lv) +
            ("case('wh_%d', function() return rl.whiten(r), rl.whiten(r, {shift_mean = false}) end)\n" % i if T > 1 else "") +
            "case('ppo_%d', function() return rl.ppo_loss{logp = lp, old_logp = old, advantages = adv, clip = 0.2, clip_high = 0.28} end)\n" % i +
            "case('vl_%d', function() return rl.value_loss{values = v, old_values = ov, returns = ret, clip = 0.2} end)\n" % i +
            "case('k1_%d', function() return rl.kl(lp, ref, {estimator = 'k1'}) end)\n" % i +
            "case('k2_%d', function() return rl.kl(lp, ref, {estimator = 'k2'}) end)\n" % i +
            "case('k3_%d', function() return rl.kl(lp, ref, {estimator = 'k3'}) end)\n" % i +
            "case('k3o_%d', function() return rl.kl(lp, ref, {estimator = 'k3', clamp = 10}) end)\n" % i +
            "case('k1o_%d', function() return rl.kl(lp, ref, {estimator = 'k1', clamp = 10}) end)\n" % i +
            "case('k3v_%d', function() return rl.kl(lp, ref, {estimator = 'k3', clamp = 'verl'}) end)\n" % i +
            "case('k1v_%d', function() return rl.kl(lp, ref, {estimator = 'k1', clamp = 'verl'}) end)\n" % i +
            "case('kp_%d', function() return rl.kl_penalty(%r, lp, ref, {beta = %r, estimator = 'k1'}) end)\n" % (i, score, beta) +
            "case('kp3_%d', function() return rl.kl_penalty(%r, lp, ref, {beta = %r, estimator = 'k3'}) end)\n" % (i, score, beta) +
            "end")
    # kl_penalty batch with lengths (TRL 0.11 compute_rewards: score on the last real token)
    B, T = 4, 7
    blp = -np.abs(rng.normal(0, 1, (B, T)))
    bref = -np.abs(rng.normal(0, 1, (B, T)))
    bsc = rng.normal(0, 1, B)
    blen = [int(a) for a in rng.integers(1, T + 1, B)]
    body.append("case('kpb', function() return rl.kl_penalty(%s, tensor(%s), tensor(%s), {beta = 0.1, lengths = %s}) end)"
                % (lua(bsc), lua(blp), lua(bref), lua(blen)))
    outs = run_lua("\n".join(body), ml)
    for (i, T, r, v, d, g, lam, lv, logp, ref, adv, old, ret, ov, beta, score) in cases:
        G = np.zeros(T)
        nxt = lv
        for t in range(T - 1, -1, -1):
            nxt = r[t] + g * (0.0 if d[t] else nxt)
            G[t] = nxt
        R.close(R.res(outs, "ret_%d" % i) and R.res(outs, "ret_%d" % i)[0], G, "rl.returns f64 T=%d" % T, scale=1.0)
        A = np.zeros(T)
        last = 0.0
        for t in range(T - 1, -1, -1):
            nv = lv if t == T - 1 else v[t + 1]
            nd = 0.0 if d[t] else 1.0
            delta = r[t] + g * nv * nd - v[t]
            last = delta + g * lam * nd * last
            A[t] = last
        for key in ("gae_%d", "gaet_%d"):
            o = R.res(outs, key % i)
            if o:
                R.close(o[0], A, "rl.gae adv f64 T=%d (%s)" % (T, key[:-2]), scale=1.0)
                R.close(o[1], A + v, "rl.gae returns f64 T=%d" % T, scale=1.0)
        if T > 1:
            o = R.res(outs, "wh_%d" % i)
            if o:
                mu, var = r.mean(), r.var(ddof=1)
                w = (r - mu) / math.sqrt(var + 1e-8)  # TRL masked_whiten: (x - mean) * rsqrt(var + 1e-8)
                R.close(o[0], w, "rl.whiten f64 T=%d" % T, scale=1.0)
                R.close(o[1], w + mu, "rl.whiten shift_mean=false T=%d" % T, scale=1.0)
        o = R.res(outs, "ppo_%d" % i)
        if o:
            ratio = np.exp(logp - old)
            l1 = -adv * ratio
            l2 = -adv * np.clip(ratio, 0.8, 1.28)
            R.close(o[0], np.mean(np.maximum(l1, l2)), "rl.ppo_loss f64 T=%d" % T, scale=1.0)
            st = o[1] or {}
            R.close(st.get("clipfrac"), np.mean(l2 > l1), "rl.ppo_loss clipfrac T=%d" % T, scale=1.0)
            R.close(st.get("approx_kl"), 0.5 * np.mean((logp - old) ** 2), "rl.ppo_loss approx_kl T=%d" % T, scale=1e-3)
            R.close(st.get("ratio_mean"), np.mean(ratio), "rl.ppo_loss ratio_mean T=%d" % T)
        o = R.res(outs, "vl_%d" % i)
        if o:
            vc = np.clip(v, ov - 0.2, ov + 0.2)
            e1, e2 = (v - ret) ** 2, (vc - ret) ** 2
            R.close(o[0], 0.5 * np.mean(np.maximum(e1, e2)), "rl.value_loss f64 T=%d" % T, scale=1e-3)
            R.close((o[1] or {}).get("clipfrac"), np.mean(e2 > e1), "rl.value_loss clipfrac T=%d" % T, scale=1.0)
        lr = ref - logp  # log r
        k1 = logp - ref
        k2 = lr ** 2 / 2
        k3 = np.array([float(mpmath.expm1(mpmath.mpf(a)) - mpmath.mpf(a)) for a in lr])
        R.close(R.res(outs, "k1_%d" % i) and R.res(outs, "k1_%d" % i)[0], k1, "rl.kl k1 f64 T=%d" % T)
        R.close(R.res(outs, "k2_%d" % i) and R.res(outs, "k2_%d" % i)[0], k2, "rl.kl k2 f64 T=%d" % T)
        R.close(R.res(outs, "k3_%d" % i) and R.res(outs, "k3_%d" % i)[0], k3, "rl.kl k3 f64 (mpmath exact) T=%d" % T,
                rtol=1e-13)
        # OpenRLHF 0.11 compute_approx_kl: log_ratio.clamp(-10, 10) on the estimate
        R.close(R.res(outs, "k3o_%d" % i) and R.res(outs, "k3o_%d" % i)[0], np.clip(k3, -10, 10),
                "rl.kl k3 clamp=10 (OpenRLHF) T=%d" % T, rtol=1e-13)
        R.close(R.res(outs, "k1o_%d" % i) and R.res(outs, "k1o_%d" % i)[0], np.clip(k1, -10, 10),
                "rl.kl k1 clamp=10 (OpenRLHF) T=%d" % T)
        # verl kl_penalty low_var_kl: kl = clamp(ref - logp, -20, 20); ratio = exp(kl); kld = ratio - kl - 1; clamp +-10
        kl = np.clip(ref - logp, -20, 20)
        k3v = np.clip(np.array([float(mpmath.expm1(mpmath.mpf(a)) - mpmath.mpf(a)) for a in kl]), -10, 10)
        R.close(R.res(outs, "k3v_%d" % i) and R.res(outs, "k3v_%d" % i)[0], k3v, "rl.kl k3 clamp=verl T=%d" % T, rtol=1e-13)
        R.close(R.res(outs, "k1v_%d" % i) and R.res(outs, "k1v_%d" % i)[0], k1, "rl.kl k1 clamp=verl (verl: none) T=%d" % T)
        rw = -beta * k1
        rw[-1] += score
        R.close(R.res(outs, "kp_%d" % i) and R.res(outs, "kp_%d" % i)[0], rw, "rl.kl_penalty k1 T=%d" % T, scale=1e-3)
        rw = -beta * k3
        rw[-1] += score
        R.close(R.res(outs, "kp3_%d" % i) and R.res(outs, "kp3_%d" % i)[0], rw, "rl.kl_penalty k3 T=%d" % T, scale=1e-3)
    ref = -0.1 * (blp - bref)
    for b in range(B):
        ref[b, blen[b]:] = 0
        ref[b, blen[b] - 1] += bsc[b]
    R.close(R.res(outs, "kpb") and R.res(outs, "kpb")[0], ref, "rl.kl_penalty batch with lengths (TRL 0.11)", scale=1e-3)


def check_group_advantages(R, ml, rng, rows):
    body = []
    cases = []
    for i in range(rows):
        G = int(rng.choice([1, 2, 3, 4, 8, 16]))
        ng = int(rng.choice([1, 2, 5, 9]))
        r = rng.normal(0, 1, G * ng)
        kind = i % 6
        if kind == 1:
            r = np.round(r)  # ties and std = 0 groups
        if kind == 2:
            r[:G] = 0.5  # one std = 0 group
        m = rng.random(G * ng) < (0.0 if kind == 0 else 0.25)
        r[m] = np.nan
        if kind == 3 and ng > 1:
            r[G:2 * G] = np.nan  # an all-NaN group
        if kind == 4:
            r[0:G - 1] = np.nan  # a group with one scorable member
        if kind == 5 and len(r) > 2:
            r[int(rng.integers(0, len(r)))] = float(rng.choice([np.inf, -np.inf]))  # TRL: nan_to_num maps +-inf too
        for method, scale in (("grpo", "group"), ("grpo", "batch"), ("grpo", "none"), ("grpo", True), ("grpo", False),
                              ("rloo", "none"), ("rloo", "batch"), ("dr_grpo", None)):
            cases.append((i, r, G, method, scale))
            opt = "{method = %s%s}" % (lua(method), "" if scale is None else ", scale = %s" % lua(scale))
            body.append("case('ga%d_%s_%s', function() return rl.group_advantages(tensor(%s), %d, %s) end)"
                        % (i, method, scale, lua(r), G, opt))
    outs = run_lua("\n".join(body), ml)
    for i, r, G, method, scale in cases:
        s = {True: "group", False: "none"}.get(scale, scale) if scale is not None else None
        ref = trl_group_advantages(r, G, method, s or "none")
        o = R.res(outs, "ga%d_%s_%s" % (i, method, scale))
        from trl.trainer.utils import nanstd as trl_nanstd
        R.close(o and o[0], trl_group_advantages(r, G, method, s or "none", nanstd=trl_nanstd),
                "rl.group_advantages %s scale=%s vs TRL's own nanstd (its f32 Bessel factor)" % (method, scale),
                rtol=1e-7, scale=1.0)
        R.close(o and o[0], ref, "rl.group_advantages %s scale=%s G=%d n=%d NaNs=%d (TRL 1.16)"
                % (method, scale, G, len(r) // G, int(np.isnan(r).sum())), scale=1.0)


# ---------------------------------------------------------------- 1. pref in f64 (TRL 1.16 dpo_trainer.py formulas)

def logsig(x):
    return torch.nn.functional.logsigmoid(torch.tensor(x, dtype=torch.float64)).numpy()


def sig(x):
    return torch.sigmoid(torch.tensor(x, dtype=torch.float64)).numpy()


def trl_dpo(loss, pc, pr, rc, rr, beta, ls, cl, rl_, tau):
    cr, rj = pc - rc, pr - rr
    d = cr - rj
    if loss == "sigmoid":
        return -logsig(beta * d)
    if loss == "hinge":
        return np.maximum(0, 1 - beta * d)
    if loss == "ipo":
        return ((cr / np.maximum(cl, 1) - rj / np.maximum(rl_, 1)) - 1 / (2 * beta)) ** 2
    if loss == "exo_pair":
        return sig(beta * d) * (logsig(beta * d) - math.log1p(-ls)) + sig(-beta * d) * (logsig(-beta * d) - math.log(ls))
    if loss == "nca_pair":
        return -logsig(beta * cr) - 0.5 * logsig(-beta * cr) - 0.5 * logsig(-beta * rj)
    if loss == "robust":
        return (-(1 - ls) * logsig(beta * d) + ls * logsig(-beta * d)) / (1 - 2 * ls)
    if loss == "bco_pair":
        return -logsig(beta * cr) - logsig(-beta * rj)
    if loss == "sppo_hard":
        return (cr - 0.5 / beta) ** 2 + (rj + 0.5 / beta) ** 2
    if loss == "aot":
        dd = np.sort(pc - pr) - np.sort(rc - rr)
        return -logsig(beta * dd) * (1 - ls) - logsig(-beta * dd) * ls
    if loss == "aot_unpaired":
        dd = np.sort(cr) - np.sort(rj)
        return -logsig(beta * dd) * (1 - ls) - logsig(-beta * dd) * ls
    if loss == "apo_zero":
        return 1 - sig(beta * cr) + sig(beta * rj)
    if loss == "apo_down":
        return sig(beta * cr) + 1 - sig(beta * (cr - rj))
    if loss == "discopop":
        lg = d * beta
        mod = sig(lg / tau)
        return -logsig(lg) * (1 - mod) + np.exp(-lg) * mod
    if loss == "sigmoid_norm":
        return -logsig(beta * (cr / np.maximum(cl, 1) - rj / np.maximum(rl_, 1)))
    raise ValueError(loss)


def check_f64_pref(R, ml, rng, rows):
    losses = ["sigmoid", "hinge", "ipo", "exo_pair", "nca_pair", "robust", "bco_pair", "sppo_hard", "aot",
              "aot_unpaired", "apo_zero", "apo_down", "discopop", "sigmoid_norm"]
    body = []
    cases = []
    for i in range(rows):
        n = int(rng.choice([1, 3, 8]))
        pc, pr, rc, rr = (-np.abs(rng.normal(0, 30, n)) for _ in range(4))
        cl = rng.integers(1, 50, n).astype(float)
        rl_ = rng.integers(1, 50, n).astype(float)
        beta = float(rng.choice([0.1, 0.5]))
        ls = float(rng.choice([0.1, 0.2]))
        for loss in losses:
            cases.append((i, loss, pc, pr, rc, rr, beta, ls, cl, rl_))
            body.append("case('dpo%d_%s', function() return pref.dpo_loss{policy_chosen = tensor(%s), policy_rejected = tensor(%s),"
                        " ref_chosen = tensor(%s), ref_rejected = tensor(%s), beta = %r, loss = '%s', label_smoothing = %r,"
                        " chosen_len = tensor(%s), rejected_len = tensor(%s)} end)"
                        % (i, loss, lua(pc), lua(pr), lua(rc), lua(rr), beta, loss, ls, lua(cl), lua(rl_)))
        a, b = rng.normal(0, 3, n), rng.normal(0, 3, n)
        mg = float(rng.normal())
        body.append("case('bt%d', function() return pref.bt_loss(tensor(%s), tensor(%s), {margin = %r}) end)" % (i, lua(a), lua(b), mg))
        cases.append((i, "bt", a, b, mg))
        S = rng.normal(0, 3, (n, 5))
        best = [int(x) for x in rng.integers(1, 6, n)]
        body.append("case('lw%d', function() return pref.listwise_loss(tensor(%s), %s) end)" % (i, lua(S), lua(best)))
        cases.append((i, "lw", S, best))
    outs = run_lua("\n".join(body), ml)
    for c in cases:
        if c[1] == "bt":
            i, _, a, b, mg = c
            o = R.res(outs, "bt%d" % i)
            if o:
                R.close(o[0], np.mean(-logsig(a - b - mg)), "pref.bt_loss f64 (TRL reward trainer)", scale=1.0)
                R.close(o[1], np.mean(a > b), "pref.bt_loss accuracy")
            continue
        if c[1] == "lw":
            i, _, S, best = c
            ref = torch.nn.functional.cross_entropy(torch.tensor(S), torch.tensor(best) - 1, reduction="none").numpy()
            o = R.res(outs, "lw%d" % i)
            R.close(o and o[0], ref, "pref.listwise_loss f64 (torch F.cross_entropy)", scale=1.0)
            continue
        i, loss, pc, pr, rc, rr, beta, ls, cl, rl_ = c
        ref = trl_dpo(loss, pc, pr, rc, rr, beta, ls, cl, rl_, 0.05)
        o = R.res(outs, "dpo%d_%s" % (i, loss))
        if o:
            R.close(o[0], ref, "pref.dpo_loss %s f64 n=%d (TRL 1.16)" % (loss, len(pc)), scale=1e-3)
            R.close(o[1], beta * (pc - rc), "pref.dpo_loss %s chosen_rewards" % loss, scale=1.0)
            R.close(o[2], beta * (pr - rr), "pref.dpo_loss %s rejected_rewards" % loss, scale=1.0)


# ---------------------------------------------------------------- 1. metrics and detect scores in f64

def check_f64_metrics(R, ml, rng, rows):
    from math import comb
    from fractions import Fraction
    body = []
    cases = []
    for i in range(rows):
        n = int(rng.integers(1, 300))
        c = int(rng.integers(0, n + 1))
        k = int(rng.integers(1, n + 1))
        cases.append(("pk", i, n, c, k))
        body.append("case('pk%d', function() return metrics.pass_at_k(%d, %d, %d) end)" % (i, n, c, k))
        m = int(rng.integers(2, 200))
        conf = rng.random(m)
        if i % 2:
            conf = np.round(conf, 1)
        corr = (rng.random(m) < conf).astype(int)
        corr[0], corr[1] = 1, 0
        bins = int(rng.choice([5, 10, 15]))
        cases.append(("cal", i, conf, corr, bins))
        body.append("do local cf, co = tensor(%s), %s\n" % (lua(conf), lua([int(a) for a in corr])) +
                    "case('ece%d', function() return metrics.ece(cf, co, {bins = %d}) end)\n" % (i, bins) +
                    "case('br%d', function() return metrics.brier(cf, co) end)\n" % i +
                    "case('roc%d', function() return metrics.auroc(cf, co) end)\n" % i +
                    "case('prc%d', function() return metrics.auprc(cf, co) end)\nend" % i)
        T = int(rng.integers(1, 40))
        lps = -np.abs(rng.normal(0, 2, T))
        tops = []
        for t in range(T):
            kk = int(rng.integers(1, 6))
            tops.append(list(-np.abs(rng.normal(0, 3, kk))))
        cases.append(("tu", i, lps, tops))
        body.append("case('tu%d', function() local u = detect.token_uncertainty({logprobs = %s, top_logprobs = %s});"
                    " return u.avg_neg_logprob, u.max_neg_logprob, u.avg_entropy, u.max_entropy end)" % (i, lua(lps), lua(tops)))
        body.append("case('tur%d', function() local u = detect.token_uncertainty({logprobs = %s, top_logprobs = %s}, {renormalize = false});"
                    " return u.avg_entropy, u.max_entropy end)" % (i, lua(lps), lua(tops)))
        body.append("case('ppl%d', function() return detect.perplexity({logprobs = tensor(%s)}) end)" % (i, lua(lps)))
        ns = int(rng.integers(1, 10))
        ans = [str(a) for a in rng.integers(0, 3, ns)]
        sl = -np.abs(rng.normal(0, 5, ns))
        cases.append(("se", i, ans, sl))
        body.append("case('se%d', function() return detect.semantic_entropy(%s) end)" % (i, lua(ans)))
        body.append("case('sel%d', function() return detect.semantic_entropy(%s, {logprobs = tensor(%s)}) end)" % (i, lua(ans), lua(sl)))
    outs = run_lua("\n".join(body), ml)
    for c in cases:
        if c[0] == "pk":
            _, i, n, cc, k = c
            exact = 1.0 if n - cc < k else float(1 - Fraction(comb(n - cc, k), comb(n, k)))
            R.close((R.res(outs, "pk%d" % i) or [None])[0], exact, "metrics.pass_at_k(%d, %d, %d)" % (n, cc, k),
                    rtol=1e-12, scale=1e-3)
        elif c[0] == "cal":
            _, i, conf, corr, bins = c
            # Guo et al. _ECELoss: bins (lo, hi] from torch.linspace(0, 1, bins + 1)
            edges = torch.linspace(0, 1, bins + 1, dtype=torch.float64).numpy()
            ece = 0.0
            for lo, hi in zip(edges[:-1], edges[1:]):
                inb = (conf > lo) & (conf <= hi)
                if inb.mean() > 0:
                    ece += abs(conf[inb].mean() - corr[inb].mean()) * inb.mean()
            R.close((R.res(outs, "ece%d" % i) or [None])[0], ece, "metrics.ece bins=%d" % bins, scale=1e-3)
            R.close((R.res(outs, "br%d" % i) or [None])[0], np.mean((conf - corr) ** 2), "metrics.brier", scale=1e-3)
            pos, neg = conf[corr == 1], conf[corr == 0]
            auc = (np.sum(pos[:, None] > neg[None, :]) + 0.5 * np.sum(pos[:, None] == neg[None, :])) / (len(pos) * len(neg))
            R.close((R.res(outs, "roc%d" % i) or [None])[0], auc, "metrics.auroc (Mann-Whitney = sklearn)", scale=1e-3)
            # sklearn average_precision_score: sum (R_n - R_{n-1}) P_n over distinct thresholds, descending
            order = np.argsort(-conf, kind="mergesort")
            s, y = conf[order], corr[order]
            idx = np.r_[np.where(np.diff(s))[0], len(s) - 1]
            tps = np.cumsum(y)[idx]
            fps = 1 + idx - tps
            prec = tps / (tps + fps)
            rec = tps / tps[-1]
            ap = -np.sum(np.diff(np.r_[rec[::-1], 0]) * np.r_[prec[::-1]])  # sklearn's reversed sum
            R.close((R.res(outs, "prc%d" % i) or [None])[0], ap, "metrics.auprc (sklearn AP formula)", scale=1e-3)
        elif c[0] == "tu":
            _, i, lps, tops = c
            o = R.res(outs, "tu%d" % i)
            ents, entsr = [], []
            for tl in tops:
                a = np.array(tl)
                pn = np.exp(a - lse(a))
                ents.append(-np.sum(pn * np.log(pn)))
                entsr.append(-np.sum(np.exp(a) * a))
            if o:
                R.close(o[0], np.mean(-lps), "detect.token_uncertainty avg_neg_logprob", scale=1e-3)
                R.close(o[1], np.max(-lps), "detect.token_uncertainty max_neg_logprob")
                R.close(o[2], np.mean(ents), "detect.token_uncertainty avg_entropy", scale=1e-3)
                R.close(o[3], np.max(ents), "detect.token_uncertainty max_entropy", scale=1e-3)
            o = R.res(outs, "tur%d" % i)
            if o:
                R.close(o[0], np.mean(entsr), "detect.token_uncertainty avg_entropy renormalize=false", scale=1e-3)
                R.close(o[1], np.max(entsr), "detect.token_uncertainty max_entropy renormalize=false", scale=1e-3)
            R.close((R.res(outs, "ppl%d" % i) or [None])[0], math.exp(np.mean(-lps)), "detect.perplexity")
        elif c[0] == "se":
            _, i, ans, sl = c
            ids = []
            for a in ans:
                ids.append(ans.index(a))
            uniq = sorted(set(ids))
            # jlko cluster_assignment_entropy
            cnt = np.array([ids.count(u) for u in uniq], dtype=float) / len(ids)
            R.close((R.res(outs, "se%d" % i) or [None])[0], -np.sum(cnt * np.log(cnt)),
                    "detect.semantic_entropy (cluster_assignment_entropy)", scale=1e-3)
            # jlko logsumexp_by_id(normalize) + predictive_entropy_rao
            lnorm = sl - lse(sl)
            lc = np.array([lse(lnorm[[j for j, x in enumerate(ids) if x == u]]) for u in uniq])
            R.close((R.res(outs, "sel%d" % i) or [None])[0], -np.sum(np.exp(lc) * lc),
                    "detect.semantic_entropy logprobs (predictive_entropy_rao)", scale=1e-3)


# ---------------------------------------------------------------- 4. the peers' edge cases

def check_sort(R, ml, rng, rows):
    body, cases = [], []
    for i in range(rows):
        n = int(rng.choice([1, 2, 5, 40, 1000, 70000]))
        x = np.round(rng.normal(0, 2, n), 1 if i % 2 else 8)
        m = rng.random(n)
        x[m < 0.1] = np.nan
        x[(m >= 0.1) & (m < 0.13)] = np.inf
        x[(m >= 0.13) & (m < 0.16)] = -np.inf
        x[(m >= 0.16) & (m < 0.18)] = -0.0
        x[(m >= 0.18) & (m < 0.20)] = 0.0
        dtype = ["f64", "f32", "f64"][i % 3]
        cases.append((i, x, dtype))
        body.append("do local x = tensor(%s, {dtype = '%s'})\n" % (lua(x), dtype) +
                    "case('sd%d', function() return x:sort{descending = true} end)\n" % i +
                    "case('sa%d', function() return x:sort{} end)\n" % i +
                    "case('ad%d', function() return x:argsort{descending = true} end)\nend" % i)
    outs = run_lua("\n".join(body), ml)
    for i, x, dtype in cases:
        tt = torch.tensor(x, dtype=torch.float64 if dtype == "f64" else torch.float32)
        for key, desc in (("sd", True), ("sa", False)):
            v, p = torch.sort(tt, descending=desc, stable=True)
            o = R.res(outs, "%s%d" % (key, i))
            if o:
                ok = np.array_equal(np.array(o[0], dtype=float), v.double().numpy(), equal_nan=True)
                R.ok(ok, "t:sort descending=%s %s n=%d values (torch.sort stable)" % (desc, dtype, len(x)),
                     "" if ok else "first values %s vs %s" % (o[0][:6], v[:6].tolist()))
                okp = list(o[1]) == (p + 1).tolist()
                R.ok(okp, "t:sort descending=%s %s n=%d positions" % (desc, dtype, len(x)))
                # -0.0 before/after 0.0 is kept in stable order by torch: compare signs too
                sg = np.signbit(np.array(o[0], dtype=float)) == np.signbit(v.double().numpy())
                R.ok(bool(np.all(sg)), "t:sort descending=%s %s signed zeros" % (desc, dtype))
        o = R.res(outs, "ad%d" % i)
        if o:
            _, p = torch.sort(tt, descending=True, stable=True)
            R.ok(list(o[0]) == (p + 1).tolist(), "t:argsort descending %s n=%d (torch)" % (dtype, len(x)))


def jlko_semantic_ids(n, implication, strict):
    """jlko/semantic_uncertainty uncertainty/uncertainty_measures/semantic_entropy.py get_semantic_ids."""
    def are_equivalent(a, b):
        i1, i2 = implication(a, b), implication(b, a)
        if strict:
            return i1 == 2 and i2 == 2
        return (0 not in (i1, i2)) and ([1, 1] != [i1, i2])
    ids = [-1] * n
    nxt = 0
    for i in range(n):
        if ids[i] == -1:
            ids[i] = nxt
            for j in range(i + 1, n):
                if are_equivalent(i, j):
                    ids[j] = nxt
            nxt += 1
    return ids


def check_semantic_entropy(R, ml, rng, rows):
    body, cases = [], []
    for i in range(rows):
        n = int(rng.integers(1, 12))
        L = rng.integers(0, 3, (n, n))  # NLI labels, not symmetric, not transitive
        Bm = rng.random((n, n)) < 0.5  # boolean one-direction judgments
        lps = -np.abs(rng.normal(0, 4, n))
        samples = ["s%d" % j for j in range(n)]
        mode = ["bool", "strict", "loose"][i % 3]
        cases.append((i, n, L, Bm, lps, mode))
        if mode == "bool":
            eq = "local E = %s; local eq = function(a, b) return E[tonumber(a:sub(2)) + 1][tonumber(b:sub(2)) + 1] end" % lua(Bm.tolist())
            opt = "equivalent = eq"
        else:
            eq = "local E = %s; local eq = function(a, b) return E[tonumber(a:sub(2)) + 1][tonumber(b:sub(2)) + 1] end" % lua(L.tolist())
            opt = "equivalent = eq, strict = %s" % ("true" if mode == "strict" else "false")
        body.append("do %s\nlocal S = %s\n" % (eq, lua(samples)) +
                    "case('se%d', function() local h, c = detect.semantic_entropy(S, {%s}); return h, c end)\n" % (i, opt) +
                    "case('sel%d', function() local h, c = detect.semantic_entropy(S, {%s, logprobs = tensor(%s)}); return h, c end)\nend"
                    % (i, opt, lua(lps)))
    outs = run_lua("\n".join(body), ml)
    for i, n, L, Bm, lps, mode in cases:
        if mode == "bool":
            ids = jlko_semantic_ids(n, lambda a, b: 2 if Bm[a][b] else 0, True)
        else:
            ids = jlko_semantic_ids(n, lambda a, b: int(L[a][b]), mode == "strict")
        uniq = sorted(set(ids))
        clusters = [[j + 1 for j in range(n) if ids[j] == u] for u in uniq]
        o = R.res(outs, "se%d" % i)
        if o:
            R.ok(o[1] == clusters, "detect.semantic_entropy clusters %s n=%d (jlko get_semantic_ids)" % (mode, n),
                 "got %s ref %s" % (o[1], clusters))
            cnt = np.array([len(c) for c in clusters], dtype=float) / n
            R.close(o[0], -np.sum(cnt * np.log(cnt)), "detect.semantic_entropy %s entropy n=%d" % (mode, n), scale=1e-3)
        o = R.res(outs, "sel%d" % i)
        if o:
            ln = lps - lse(lps)
            lc = np.array([lse(ln[[j - 1 for j in c]]) for c in clusters])
            R.close(o[0], -np.sum(np.exp(lc) * lc), "detect.semantic_entropy logprobs %s n=%d (predictive_entropy_rao)"
                    % (mode, n), scale=1e-3)


def check_logprobs(R, ml, rng, rows):
    """vLLM offline SampleLogprobs (list of {token_id: Logprob}) written with json.dump: keys become strings."""
    body, cases = [], []
    with tempfile.TemporaryDirectory() as d:
        for i in range(rows):
            T = int(rng.integers(1, 20))
            ids, lps_, tops = [], [], []
            pos = []
            for t in range(T):
                k = int(rng.integers(1, 6))
                cand = [int(a) for a in rng.choice(50000, k, replace=False)]
                lp = sorted((-abs(float(a)) for a in rng.normal(0, 3, k)), reverse=True)
                tok = cand[int(rng.integers(0, k))]
                entry = {}
                for rank, (c, l) in enumerate(zip(cand, lp)):
                    entry[c] = {"logprob": l, "rank": rank + 1, "decoded_token": "t%d" % c}
                pos.append(entry)
                ids.append(tok)
                lps_.append(entry[tok]["logprob"])
                tops.append(sorted(((("t%d" % c), l) for c, l in zip(cand, lp)), key=lambda z: -z[1]))
            path = os.path.join(d, "lp%d.json" % i)
            with open(path, "w") as f:
                json.dump({"token_ids": ids, "logprobs": pos}, f)
            cases.append((i, ids, lps_, tops))
            body.append("case('lp%d', function() local x = data.logprobs(data.json(%s)); return x.tokens, x.logprobs, x.top_logprobs end)"
                        % (i, lua_str(path)))
            # a plain float per id too (older vLLM dumps)
            path2 = os.path.join(d, "lpf%d.json" % i)
            with open(path2, "w") as f:
                json.dump({"token_ids": ids, "logprobs": [{k: v["logprob"] for k, v in e.items()} for e in pos]}, f)
            body.append("case('lpf%d', function() local x = data.logprobs(data.json(%s)); return x.tokens, x.logprobs end)"
                        % (i, lua_str(path2)))
        outs = run_lua("\n".join(body), ml)
    for i, ids, lps_, tops in cases:
        o = R.res(outs, "lp%d" % i)
        if o:
            R.ok(o[0] == ["t%d" % a for a in ids], "data.logprobs vLLM json.dump tokens (decoded_token)", "got %s" % o[0][:3])
            R.close(o[1], lps_, "data.logprobs vLLM json.dump logprobs", rtol=0)
            got = [[(e["token"], e["logprob"]) for e in pos] for pos in o[2]]
            R.ok(got == tops, "data.logprobs vLLM json.dump top_logprobs", "got %s ref %s" % (got[:1], tops[:1]))
        o = R.res(outs, "lpf%d" % i)
        if o:
            R.close(o[1], lps_, "data.logprobs vLLM json.dump (float values) logprobs", rtol=0)


WS = [" ", "\t", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f", "\x85", "\xa0", "\u1680", "\u2000",
      "\u2003", "\u200a", "\u2028", "\u2029", "\u202f", "\u205f", "\u3000"]
WORDS = ["the", "cat", "sat", "on", "a", "mat", "The", "dog", "an", "é", "Cat!", "x1", "dog,", "naïve", "zürich", "—", "42"]


def squad_normalize(s):
    """SQuAD v1.1 evaluate script's normalize_answer."""
    import re
    import string

    def remove_articles(text):
        return re.sub(r'\b(a|an|the)\b', ' ', text)

    def white_space_fix(text):
        return ' '.join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return ''.join(ch for ch in text if ch not in exclude)
    return white_space_fix(remove_articles(remove_punc(s.lower())))


def squad_f1(pred, truth):
    from collections import Counter
    p, t = squad_normalize(pred).split(), squad_normalize(truth).split()
    common = Counter(p) & Counter(t)
    same = sum(common.values())
    if same == 0:
        return 0.0
    prec, rec = same / len(p), same / len(t)
    return 2 * prec * rec / (prec + rec)


def check_whitespace(R, ml, rng, rows):
    def text(k):
        parts = []
        for j in range(k):
            parts.append(str(rng.choice(WORDS)))
            parts.append("".join(rng.choice(WS, int(rng.integers(1, 3)))))
        if rng.random() < 0.5:
            parts.insert(0, str(rng.choice(WS)))
        return "".join(parts)
    body, cases = [], []
    for i in range(rows):
        texts = [text(int(rng.integers(0, 12))) for _ in range(int(rng.integers(2, 6)))]
        plain = [" ".join(t.split()) for t in texts]
        n = int(rng.integers(1, 4))
        a, b = text(int(rng.integers(1, 6))), text(int(rng.integers(1, 6)))
        cases.append((i, texts, n, a, b))
        body.append("do local T, P = %s, %s\n" % (lua(texts), lua(plain)) +
                    "case('dn%d', function() return metrics.distinct_n(T, %d) end)\n" % (i, n) +
                    "case('sb%d', function() return metrics.self_bleu(T, {n = 2}), metrics.self_bleu(P, {n = 2}) end)\n" % i +
                    "case('em%d', function() return metrics.exact_match(%s, %s), metrics.exact_match(%s, %s) end)\n"
                    % (i, lua(a), lua(b), lua(a), lua(" ".join(a.split()))) +
                    "case('f1%d', function() return metrics.token_f1(%s, %s) end)\n" % (i, lua(a), lua(b)) +
                    # the same word splitting in the text rewards and detectors (odd whitespace == single spaces)
                    "case('rp%d', function() local o, q = T[1] .. ' ' .. T[2], P[1] .. ' ' .. P[2];"
                    " return detect.repetition(o), detect.repetition(q), reward.get('repetition'){completion = o},"
                    " reward.get('repetition'){completion = q}, reward.get('ngram_novelty'){completion = T[1], group = T},"
                    " reward.get('ngram_novelty'){completion = P[1], group = P}, reward.get('group_distinct_n'){completion = T[1], group = T},"
                    " reward.get('group_distinct_n'){completion = P[1], group = P},"
                    " reward.length{unit = 'words', target = 5}{completion = o}, reward.length{unit = 'words', target = 5}{completion = q} end)\nend" % i)
    outs = run_lua("\n".join(body), ml)
    for i, texts, n, a, b in cases:
        grams = [tuple(t.split()[j:j + n]) for t in texts for j in range(len(t.split()) - n + 1)]
        ref = len(set(grams)) / len(grams) if grams else 0.0
        R.close((R.res(outs, "dn%d" % i) or [None])[0], ref, "metrics.distinct_n n=%d str.split() whitespace" % n)
        o = R.res(outs, "sb%d" % i)
        if o:
            R.close(o[0], o[1], "metrics.self_bleu odd whitespace == single spaces")
        o = R.res(outs, "em%d" % i)
        if o:
            R.close(o[0], float(squad_normalize(a) == squad_normalize(b)), "metrics.exact_match (SQuAD v1.1)",
                    atol=0, rtol=0)
            R.close(o[1], 1.0, "metrics.exact_match vs its own str.split() join", rtol=0)
        R.close((R.res(outs, "f1%d" % i) or [None])[0], squad_f1(a, b), "metrics.token_f1 (SQuAD v1.1)", scale=1e-3)
        o = R.res(outs, "rp%d" % i)
        if o:
            for j, nm in enumerate(["detect.repetition", "reward repetition", "reward ngram_novelty", "reward group_distinct_n",
                                    "reward.length words"]):
                R.close(o[2 * j], o[2 * j + 1], "%s: odd whitespace == single spaces (str.split())" % nm, scale=1e-3)


SQUAD_PAIRS = [("ÉTÉ", "été"), ("éthe cat", "é cat"), ("the ÀB", "àb"), ("Straße", "STRASSE"), ("the_cat", "cat"),
               ("a—the b", "a— b"), ("3the", "3"), ("ΑΒΓ the", "αβγ"), ("İstanbul", "istanbul"), ("the\u00adcat", "cat"),
               ("ǅ", "ǆ"), ("an:the", ""), ("Ⅻ", "ⅻ"), ("x the’s", "x ’s")]


def check_squad_unicode(R, ml, rng, rows):
    """SQuAD v1.1 normalize_answer on Unicode: str.lower(), ASCII string.punctuation, re's Unicode \b."""
    body = "\n".join("case('e%d', function() return metrics.exact_match(%s, %s), metrics.token_f1(%s, %s) end)"
                     % (i, lua_str(a), lua_str(b), lua_str(a), lua_str(b)) for i, (a, b) in enumerate(SQUAD_PAIRS))
    outs = run_lua(body, ml)
    for i, (a, b) in enumerate(SQUAD_PAIRS):
        o = R.res(outs, "e%d" % i)
        if o:
            R.close(o[0], float(squad_normalize(a) == squad_normalize(b)), "metrics.exact_match %r %r (SQuAD v1.1)" % (a, b), rtol=0)
            R.close(o[1], squad_f1(a, b), "metrics.token_f1 %r %r (SQuAD v1.1)" % (a, b), scale=1e-3)


def check_rewards(R, ml, rng, rows):
    """TRL: a reward function returning None is NaN and left out of the group statistics; conversational records."""
    from trl.trainer.utils import nanstd  # noqa: F401  (TRL present)
    body, cases = [], []
    for i in range(rows):
        G = int(rng.choice([2, 3, 4, 6]))
        ng = int(rng.integers(1, 5))
        vals = [None if rng.random() < 0.3 else float(np.round(rng.normal(), 3)) for _ in range(G * ng)]
        vals2 = [None if rng.random() < 0.3 else float(np.round(rng.normal(), 3)) for _ in range(G * ng)]
        cases.append((i, G, vals, vals2))
        recs = [{"prompt": "p", "completion": "c%d" % j, "v": (v if v is not None else "none"),
                 "w": (w if w is not None else "none")} for j, (v, w) in enumerate(zip(vals, vals2))]
        body.append(
            "do local recs = %s\n" % lua(recs) +
            "local r = reward.define('nilr%d', function(s) if s.v == 'none' then return nil end return s.v end)\n" % i +
            "local r2 = reward.define('nilw%d', function(s) if s.w == 'none' then return nil end return s.w end)\n" % i +
            "case('sc%d', function() local sc, errs = reward.score(r, recs); return sc, #errs, "
            "rl.group_advantages(sc, %d, {method = 'grpo'}), rl.group_advantages(sc, %d, {method = 'rloo'}) end)\n" % (i, G, G) +
            "case('cb%d', function() local sc, errs = reward.score(reward.combine{{r, 1}, {r2, 0.5}}, recs); return sc, #errs end)\nend" % i)
    outs = run_lua("\n".join(body), ml)
    for i, G, vals, vals2 in cases:
        o = R.res(outs, "sc%d" % i)
        ref = np.array([np.nan if v is None else v for v in vals])
        if o:
            R.close(o[0], ref, "reward returning nil -> NaN score (TRL None)", rtol=0)
            R.ok(o[1] == 0, "reward returning nil is not an error", "errors: %s" % o[1])
            R.close(o[2], trl_group_advantages(ref, G, "grpo", "group"), "nil rewards -> group_advantages grpo (TRL 1.16)", scale=1.0)
            R.close(o[3], trl_group_advantages(ref, G, "rloo", "none"), "nil rewards -> group_advantages rloo (TRL 1.16)", scale=1.0)
        o = R.res(outs, "cb%d" % i)
        if o:
            # TRL: rewards_per_func (NaN for None) * weights, nansum over functions; all-None rows NaN
            rp = np.array([[np.nan if v is None else v, np.nan if w is None else w] for v, w in zip(vals, vals2)])
            s = np.nansum(rp * np.array([1.0, 0.5]), axis=1)
            s[np.isnan(rp).all(axis=1)] = np.nan
            R.close(o[0], s, "reward.combine nil parts as TRL nansum over reward funcs", scale=1.0)

    # conversational records in every built-in reward and in `moonlab score`
    comps = ["<think>a b c</think>\n<answer>42</answer>", "The answer is \\boxed{7}.", "yes", "no, it is not",
             "word word word word word word", "#### 3.5", "<think>x</think><answer>no</answer>"]
    recs_plain, recs_conv = [], []
    for j in range(rows):
        c = str(rng.choice(comps)) + (" extra" if rng.random() < 0.3 else "")
        grp = [str(rng.choice(comps)) for _ in range(3)] + [c]
        base = {"answer": str(rng.choice(["42", "7", "3.5", "yes", "no"])), "label": str(rng.choice(["yes", "no"])),
                "target_length": 20}
        recs_plain.append(dict(base, prompt="What?", completion=c, group=grp))
        recs_conv.append(dict(base, prompt=[{"role": "user", "content": "What?"}],
                              completion=[{"role": "assistant", "content": c}],
                              group=[[{"role": "assistant", "content": g}] for g in grp]))
    names_out = run_lua("case('names', function() return reward.list() end)", ml)
    names = R.res(names_out, "names")[0]
    body = ["local P, C = %s, %s" % (lua(recs_plain), lua(recs_conv))]
    for nm in names:
        body.append("case('bp_%s', function() return reward.score('%s', P) end)" % (nm, nm))
        body.append("case('bc_%s', function() local s, e = reward.score('%s', C); return s, e end)" % (nm, nm))
    outs = run_lua("\n".join(body), ml)
    for nm in names:
        p, c = R.res(outs, "bp_%s" % nm), R.res(outs, "bc_%s" % nm)
        if p and c:
            R.close(c[0], p[0], "built-in reward %s on TRL conversational records == plain strings" % nm, rtol=0)
            R.ok(not c[1], "built-in reward %s conversational: no errors" % nm, str(c[1])[:200])
    # a reward must read the completion a trainer hands it (POPE's parse: "No..." -> no)
    outs = run_lua("case('pope', function() local r = reward.get('pope_correct'); return"
                   " r{completion = 'No, there is none.', label = 'no'}, r{completion = {{role = 'assistant', content = 'No.'}}, label = 'no'},"
                   " r{completion = 'Yes, one.', label = 'no'} end)", ml)
    o = R.res(outs, "pope")
    if o:
        R.ok(o == [1, 1, 0], "pope_correct reads s.completion (plain and conversational)", "got %s ref [1, 1, 0]" % o)
    with tempfile.TemporaryDirectory() as d:
        for tag, recs in (("plain", recs_plain), ("conv", recs_conv)):
            with open(os.path.join(d, tag + ".jsonl"), "w") as f:
                for r in recs:
                    f.write(json.dumps(r) + "\n")
        res = {}
        for tag in ("plain", "conv"):
            cmd = [ml, "score", "--data", tag + ".jsonl", "--out", tag + ".out.jsonl", "--no-progress", "--workers", "2"]
            for nm in names:
                cmd += ["--reward", nm]
            p = subprocess.run(cmd, cwd=d, capture_output=True, text=True)
            R.ok(p.returncode == 0, "moonlab score %s exit status" % tag, p.stderr[-300:])
            with open(os.path.join(d, tag + ".out.jsonl")) as f:
                res[tag] = [json.loads(line) for line in f]
        for a, b in zip(res["plain"], res["conv"]):
            R.ok(a.get("rewards") == b.get("rewards") and "error" not in b,
                 "moonlab score conversational record == plain", "plain %s conv %s %s" % (a.get("rewards"), b.get("rewards"), b.get("error", "")))


# ---------------------------------------------------------------- 1. more f64 paths: Lua arrays, grads, lab

def check_f64_more(R, ml, rng, rows):
    body, cases = [], []
    for i in range(rows):
        n = int(rng.choice([1, 2, 5, 17]))
        T = int(rng.choice([2, 6, 33]))
        r = rng.normal(0, 1, T)
        v = rng.normal(0, 1, T)
        logp = -np.abs(rng.normal(0, 2, T))
        ref = -np.abs(rng.normal(0, 2, T))
        pc, pr, rc, rr = (-np.abs(rng.normal(0, 20, n)) for _ in range(4))
        cl = rng.integers(1, 40, n).astype(float)
        rl_ = rng.integers(1, 40, n).astype(float)
        beta = float(rng.choice([0.1, 0.5, 2.0]))
        G = int(rng.choice([2, 4]))
        gr = rng.normal(0, 1, G * 3)
        gr[rng.random(G * 3) < 0.2] = np.nan
        # ORPO wants average log-probabilities in (-inf, 0)
        ac, ar = -np.abs(rng.normal(0, 1.5, n)) - 1e-3, -np.abs(rng.normal(0, 1.5, n)) - 1e-3
        kp, kr = rng.normal(0, 1, 4), rng.normal(0, 1, 4)
        cases.append(dict(i=i, n=n, T=T, r=r, v=v, logp=logp, ref=ref, pc=pc, pr=pr, rc=rc, rr=rr, cl=cl, rl=rl_,
                          beta=beta, G=G, gr=gr, ac=ac, ar=ar, kp=kp, kr=kr))
        A = lambda a: "{" + ", ".join(lua(float(z)) for z in a) + "}"  # a Lua array, not a tensor
        body.append(
            "case('ar_ret%d', function() return rl.returns(%s, {gamma = 0.9}) end)\n" % (i, A(r)) +
            "case('ar_gae%d', function() return rl.gae(%s, %s, {gamma = 0.99, lambda = 0.9}) end)\n" % (i, A(r), A(v)) +
            "case('ar_wh%d', function() return rl.whiten(%s) end)\n" % (i, A(r)) +
            "case('ar_k3%d', function() return rl.kl(%s, %s, {estimator = 'k3'}) end)\n" % (i, A(logp), A(ref)) +
            "case('ar_kp%d', function() return rl.kl_penalty(0.7, %s, %s, {beta = 0.05, estimator = 'k2'}) end)\n" % (i, A(logp), A(ref)) +
            "case('ar_ga%d', function() return rl.group_advantages(%s, %d) end)\n" % (i, A(gr), G) +
            "case('ar_ppo%d', function() return rl.ppo_loss{logp = %s, old_logp = %s, advantages = %s} end)\n" % (i, A(logp), A(ref), A(r)) +
            "case('ar_dpo%d', function() return pref.dpo_loss{policy_chosen = %s, policy_rejected = %s, ref_chosen = %s,"
            " ref_rejected = %s, beta = %r, grad = true} end)\n" % (i, A(pc), A(pr), A(rc), A(rr), beta) +
            "case('ar_ipo%d', function() return pref.dpo_loss{policy_chosen = %s, policy_rejected = %s, ref_chosen = %s,"
            " ref_rejected = %s, beta = %r, loss = 'ipo', chosen_len = %s, rejected_len = %s, grad = true} end)\n"
            % (i, A(pc), A(pr), A(rc), A(rr), beta, A(cl), A(rl_)) +
            "case('ar_bt%d', function() return pref.bt_loss(%s, %s, {grad = true}) end)\n" % (i, A(pc), A(pr)) +
            "case('simpo%d', function() return pref.simpo_loss{policy_chosen = %s, policy_rejected = %s, beta = %r,"
            " gamma = 0.7, label_smoothing = 0.1, chosen_len = %s, rejected_len = %s, grad = true} end)\n"
            % (i, A(pc), A(pr), beta, A(cl), A(rl_)) +
            "case('orpo%d', function() return pref.orpo_loss{policy_chosen = %s, policy_rejected = %s, beta = %r, grad = true} end)\n"
            % (i, A(ac), A(ar), beta) +
            "case('kto%d', function() return pref.kto_loss{policy_chosen = %s, ref_chosen = %s, policy_rejected = %s,"
            " ref_rejected = %s, kl_policy = %s, kl_ref = %s, beta = %r, desirable_weight = 1.3, undesirable_weight = 0.7,"
            " grad = true} end)\n" % (i, A(pc), A(rc), A(pr), A(rr), A(kp), A(kr), beta) +
            "case('ar_ent%d', function() return dist.entropy({%s, %s}) end)\n" % (i, A(r), A(v)) +
            "case('ar_pk%d', function() return metrics.pass_at_k({%d, %d}, {%d, %d}, %d) end)\n" % (i, 50 + i, 10 + i, i % 7, i, 3))
    V = 64
    L1 = rng.normal(0, 2, (3, V))
    L2 = rng.normal(0, 2, (3, V))
    body.append("case('lab', function() local r = rl.kl_lab(tensor(%s), tensor(%s), {samples = 100, rng = random.new(3)});"
                " return r.exact, r.k2.expected, r.k3.expected_variance, r.k1.expected_variance end)" % (lua(L1), lua(L2)))
    X3 = rng.normal(0, 2, (2, 3, 9))
    body.append("case('d3', function() return dist.logsumexp(tensor(%s)), dist.kl(tensor(%s), tensor(%s), {temperature = 0.6}) end)"
                % (lua(X3), lua(X3), lua(X3[::-1].copy())))
    outs = run_lua("\n".join(body), ml)

    def lsig(t):
        return torch.nn.functional.logsigmoid(t)
    for c in cases:
        i = c["i"]
        r, v, logp, ref = c["r"], c["v"], c["logp"], c["ref"]
        G_ = np.zeros(len(r)); acc = 0.0
        for t in range(len(r) - 1, -1, -1):
            acc = r[t] + 0.9 * acc; G_[t] = acc
        R.close((R.res(outs, "ar_ret%d" % i) or [None])[0], G_, "rl.returns Lua array", scale=1.0)
        A_ = np.zeros(len(r)); last = 0.0
        for t in range(len(r) - 1, -1, -1):
            nv = 0.0 if t == len(r) - 1 else v[t + 1]
            last = r[t] + 0.99 * nv - v[t] + 0.99 * 0.9 * last; A_[t] = last
        o = R.res(outs, "ar_gae%d" % i)
        if o:
            R.close(o[0], A_, "rl.gae Lua arrays", scale=1.0)
        R.close((R.res(outs, "ar_wh%d" % i) or [None])[0], (r - r.mean()) / math.sqrt(r.var(ddof=1) + 1e-8),
                "rl.whiten Lua array", scale=1.0)
        import mpmath
        mpmath.mp.dps = 40
        k3 = np.array([float(mpmath.expm1(mpmath.mpf(a)) - mpmath.mpf(a)) for a in ref - logp])
        R.close((R.res(outs, "ar_k3%d" % i) or [None])[0], k3, "rl.kl k3 Lua arrays", rtol=1e-13)
        kp = -0.05 * (ref - logp) ** 2 / 2
        kp[-1] += 0.7
        R.close((R.res(outs, "ar_kp%d" % i) or [None])[0], kp, "rl.kl_penalty Lua arrays (number score)", scale=1e-3)
        R.close((R.res(outs, "ar_ga%d" % i) or [None])[0], trl_group_advantages(c["gr"], c["G"], "grpo", "group"),
                "rl.group_advantages Lua array with NaN", scale=1.0)
        o = R.res(outs, "ar_ppo%d" % i)
        if o:
            ratio = np.exp(logp - ref)
            R.close(o[0], np.mean(np.maximum(-r * ratio, -r * np.clip(ratio, 0.8, 1.2))), "rl.ppo_loss Lua arrays", scale=1.0)
        # torch autograd in float64 is the peer for every grad
        tpc = torch.tensor(c["pc"], requires_grad=True)
        tpr = torch.tensor(c["pr"], requires_grad=True)
        trc, trr = torch.tensor(c["rc"]), torch.tensor(c["rr"])
        b = c["beta"]
        loss = (-lsig(b * ((tpc - trc) - (tpr - trr)))).mean()
        loss.backward()
        o = R.res(outs, "ar_dpo%d" % i)
        if o:
            R.close(o[3]["loss"], loss.item(), "pref.dpo_loss sigmoid stats.loss Lua arrays", scale=1e-3)
            gr_ = o[3].get("grads") or (o[4] if len(o) > 4 else None) or {}
            R.close(gr_.get("policy_chosen"), tpc.grad.numpy(), "pref.dpo_loss grad policy_chosen (torch autograd f64)", scale=1e-6)
            R.close(gr_.get("policy_rejected"), tpr.grad.numpy(), "pref.dpo_loss grad policy_rejected (torch autograd f64)", scale=1e-6)
        tpc.grad = None; tpr.grad = None
        tcl, trl = torch.tensor(c["cl"]), torch.tensor(c["rl"])
        loss = ((((tpc - trc) / tcl - (tpr - trr) / trl) - 1 / (2 * b)) ** 2).mean()
        loss.backward()
        o = R.res(outs, "ar_ipo%d" % i)
        if o:
            R.close(o[3]["loss"], loss.item(), "pref.dpo_loss ipo stats.loss", scale=1e-3)
            gr_ = o[3].get("grads") or {}
            R.close(gr_.get("policy_chosen"), tpc.grad.numpy(), "pref.dpo_loss ipo grad (torch autograd f64)", scale=1e-6)
        tpc.grad = None; tpr.grad = None
        loss = (-lsig(tpc - tpr)).mean()
        loss.backward()
        o = R.res(outs, "ar_bt%d" % i)
        if o:
            R.close(o[0], loss.item(), "pref.bt_loss Lua arrays", scale=1e-3)
            g = o[3] if len(o) > 3 and isinstance(o[3], dict) else {}
            R.close(g.get("chosen"), tpc.grad.numpy(), "pref.bt_loss grad chosen (torch autograd f64)", scale=1e-6)
        tpc.grad = None; tpr.grad = None
        # TRL CPO trainer loss_type="simpo" on average log-probabilities
        lg = (tpc / tcl - tpr / trl) - 0.7 / b
        loss_v = -lsig(b * lg) * 0.9 - lsig(-b * lg) * 0.1
        loss_v.mean().backward()
        o = R.res(outs, "simpo%d" % i)
        if o:
            R.close(o[0], loss_v.detach().numpy(), "pref.simpo_loss (TRL CPO simpo) f64", scale=1e-3)
            gr_ = (o[3] or {}).get("grads") or {}
            R.close(gr_.get("policy_chosen"), tpc.grad.numpy(), "pref.simpo_loss grad (torch autograd f64)", scale=1e-6)
            R.close(gr_.get("policy_rejected"), tpr.grad.numpy(), "pref.simpo_loss grad rejected", scale=1e-6)
        tac = torch.tensor(c["ac"], requires_grad=True)
        tar = torch.tensor(c["ar"], requires_grad=True)

        def log1mexp(x):  # TRL experimental/orpo/orpo_trainer.py log1mexp (TRL casts to float32 first; not here)
            return torch.where(x < -0.6931471805599453, torch.log1p(-torch.exp(x)), torch.log(-torch.expm1(x)))
        lo = (tac - tar) - (log1mexp(tac) - log1mexp(tar))
        lv = -b * lsig(lo)
        lv.mean().backward()
        o = R.res(outs, "orpo%d" % i)
        if o:
            R.close(o[0], lv.detach().numpy(), "pref.orpo_loss (TRL odds_ratio_loss in f64)", scale=1e-3)
            R.close((o[3] or {}).get("log_odds"), lo.mean().item(), "pref.orpo_loss stats.log_odds", scale=1e-3)
            gr_ = (o[3] or {}).get("grads") or {}
            R.close(gr_.get("policy_chosen"), tac.grad.numpy(), "pref.orpo_loss grad (torch autograd f64)", scale=1e-6)
        tpc.grad = None; tpr.grad = None
        z = max(float(np.mean(c["kp"] - c["kr"])), 0.0)  # TRL KTO: kl.mean().clamp(min=0)
        ch = 1.3 * (1 - torch.sigmoid(b * ((tpc - trc) - z)))
        rj = 0.7 * (1 - torch.sigmoid(b * (z - (tpr - trr))))
        allv = torch.cat([ch, rj])
        allv.mean().backward()
        o = R.res(outs, "kto%d" % i)
        if o:
            R.close(o[0], allv.detach().numpy(), "pref.kto_loss (TRL KTO kto) f64", scale=1e-3)
            R.close((o[3] or {}).get("kl"), z, "pref.kto_loss stats.kl", scale=1e-3)
            gr_ = (o[3] or {}).get("grads") or {}
            # torch's sigmoid backward forms y * (1 - y), which cancels where the loss saturates
            # (a relative 1e-9 at y = 1 - 1e-7): the reference gradient is mpmath's, at 40 digits
            N = 2 * len(c["pc"])
            sg = lambda u: 1 / (1 + mpmath.exp(-u))
            gch = [float(-1.3 * b * sg(b * (mpmath.mpf(a) - mpmath.mpf(q) - z)) * sg(-b * (mpmath.mpf(a) - mpmath.mpf(q) - z)) / N)
                   for a, q in zip(c["pc"], c["rc"])]
            grj = [float(0.7 * b * sg(b * (z - (mpmath.mpf(a) - mpmath.mpf(q)))) * sg(-b * (z - (mpmath.mpf(a) - mpmath.mpf(q)))) / N)
                   for a, q in zip(c["pr"], c["rr"])]
            R.close(tpc.grad.numpy(), gch, "(harness) torch autograd vs mpmath kto grad", rtol=1e-6, scale=1e-6)
            R.close(gr_.get("policy_chosen"), gch, "pref.kto_loss grad chosen (mpmath)", scale=1e-6)
            R.close(gr_.get("policy_rejected"), grj, "pref.kto_loss grad rejected (mpmath)", scale=1e-6)
        M = np.array([r, v])
        R.close((R.res(outs, "ar_ent%d" % i) or [None])[0],
                [-np.sum(np.exp(logsoftmax(a)) * logsoftmax(a)) for a in M], "dist.entropy Lua array of arrays", scale=1e-3)
        from math import comb
        from fractions import Fraction
        pk = []
        for n_, c_ in ((50 + i, i % 7), (10 + i, i)):
            pk.append(1.0 if n_ - c_ < 3 else float(1 - Fraction(comb(n_ - c_, 3), comb(n_, 3))))
        R.close((R.res(outs, "ar_pk%d" % i) or [None])[0], pk, "metrics.pass_at_k arrays", scale=1e-3)
    o = R.res(outs, "lab")
    if o:
        lp1 = np.array([logsoftmax(a) for a in L1])
        lp2 = np.array([logsoftmax(a) for a in L2])
        p1 = np.exp(lp1)
        R.close(o[0], np.sum(p1 * (lp1 - lp2), axis=1), "rl.kl_lab exact KL per row f64", scale=1e-3)
        lr = lp2 - lp1
        R.close(o[1], np.sum(p1 * lr ** 2 / 2, axis=1), "rl.kl_lab k2 expected f64", scale=1e-3)
        k3 = np.expm1(lr) - lr
        e3 = np.sum(p1 * k3, axis=1)
        R.close(o[2], np.sum(p1 * (k3 - e3[:, None]) ** 2, axis=1), "rl.kl_lab k3 expected_variance f64", rtol=1e-11, scale=1e-3)
        e1 = np.sum(p1 * -lr, axis=1)
        R.close(o[3], np.sum(p1 * (-lr - e1[:, None]) ** 2, axis=1), "rl.kl_lab k1 expected_variance f64", rtol=1e-11, scale=1e-3)
    o = R.res(outs, "d3")
    if o:
        R.close(o[0], np.array([[lse(a) for a in m] for m in X3]), "dist.logsumexp 3-d")
        Y3 = X3[::-1]
        kl = [[np.sum(np.exp(logsoftmax(a / 0.6)) * (logsoftmax(a / 0.6) - logsoftmax(b / 0.6))) for a, b in zip(m, q)]
              for m, q in zip(X3, Y3)]
        R.close(o[1], kl, "dist.kl 3-d temperature", scale=1e-3)


def check_f64_detect_more(R, ml, rng, rows):
    """selfcheckgpt modeling_ngram.py UnigramModel (k smoothing) on token arrays; rouge_score's rougeL; reward.normalize."""
    import re
    from scipy.stats import rankdata
    body, cases = [], []
    vocab = ["a", "b", "c", "d", "e", "f", "g", "h"]
    for i in range(rows):
        sents = [[str(rng.choice(vocab)) for _ in range(int(rng.integers(1, 7)))] for _ in range(int(rng.integers(1, 4)))]
        passage = [t for s in sents for t in s]
        samples = [[str(rng.choice(vocab)) for _ in range(int(rng.integers(1, 20)))] for _ in range(int(rng.integers(1, 5)))]
        k = int(rng.choice([0, 1]))
        cases.append(("sc", i, sents, passage, samples, k))
        body.append("case('sc%d', function() local r = detect.selfcheck_ngram(%s, %s, %s, {n = 1, k = %d});"
                    " local a, m = {}, {} for j, s in ipairs(r.sentences) do a[j] = s.avg_neg_logprob; m[j] = s.max_neg_logprob end;"
                    " return a, m, r.doc.avg_neg_logprob, r.doc.avg_max_neg_logprob end)"
                    % (i, lua(sents), lua(passage), lua(samples), k))
        words = ["The", "cat", "sat", "on", "the", "mat", "dog", "ran", "a", "big", "x-ray", "it's", "42", "ÉTÉ"]
        ca = " ".join(str(rng.choice(words)) for _ in range(int(rng.integers(1, 12))))
        rf = " ".join(str(rng.choice(words)) for _ in range(int(rng.integers(1, 12))))
        cases.append(("rl", i, ca, rf))
        body.append("case('rl%d', function() return metrics.rouge_l(%s, %s) end)" % (i, lua_str(ca), lua_str(rf)))
        x = np.round(rng.normal(0, 1, int(rng.integers(2, 30))), 1)
        x[rng.random(len(x)) < 0.15] = np.nan
        cases.append(("nz", i, x))
        body.append("case('nz%d', function() local x = tensor(%s); return reward.normalize(x, 'zscore'), reward.normalize(x, 'rank'),"
                    " reward.normalize(x, 'minmax') end)" % (i, lua(x)))
    outs = run_lua("\n".join(body), ml)
    for c in cases:
        if c[0] == "sc":
            _, i, sents, passage, samples, k = c
            counts = {"<unk>": 0}
            ntok = 0
            for text in [passage] + samples:
                for t in text:
                    counts[t] = counts.get(t, 0) + 1
                    ntok += 1
            probs = {t: (cnt + k) / (ntok + k * len(counts)) for t, cnt in counts.items()}
            avg, mx, doc = [], [], []
            with np.errstate(divide="ignore"):
                for s in sents:
                    ls = [np.log(probs.get(t, probs["<unk>"])) for t in s]
                    doc += ls
                    avg.append(-np.mean(ls)); mx.append(-np.min(ls))
            o = R.res(outs, "sc%d" % i)
            if o:
                R.close(o[0], avg, "detect.selfcheck_ngram sentence avg_neg_logprob k=%d (selfcheckgpt)" % k, scale=1e-3)
                R.close(o[1], mx, "detect.selfcheck_ngram sentence max_neg_logprob k=%d" % k, scale=1e-3)
                R.close(o[2], -np.mean(doc), "detect.selfcheck_ngram doc avg_neg_logprob k=%d" % k, scale=1e-3)
                R.close(o[3], np.mean(mx), "detect.selfcheck_ngram doc avg_max_neg_logprob k=%d" % k, scale=1e-3)
        elif c[0] == "rl":
            _, i, ca, rf = c

            def tok(t):  # rouge_score tokenize.tokenize without stemmer
                t = re.sub(r"[^a-z0-9]+", " ", t.lower())
                return [x for x in t.split() if re.match(r"^[a-z0-9]+$", x)]
            a, b = tok(ca), tok(rf)
            L = [[0] * (len(a) + 1) for _ in range(len(b) + 1)]
            for ii in range(1, len(b) + 1):
                for jj in range(1, len(a) + 1):
                    L[ii][jj] = L[ii - 1][jj - 1] + 1 if b[ii - 1] == a[jj - 1] else max(L[ii - 1][jj], L[ii][jj - 1])
            lcs = L[len(b)][len(a)]
            pr = lcs / len(a) if a else 0.0
            rc = lcs / len(b) if b else 0.0
            f = 2 * pr * rc / (pr + rc) if pr + rc > 0 else 0.0
            o = R.res(outs, "rl%d" % i)
            if o:
                R.close(o, [f, pr, rc, None][:len(o)] if len(o) < 3 else o[:0] + [f, pr, rc] + o[3:], "metrics.rouge_l (rouge_score rougeL)", scale=1e-3)
        else:
            _, i, x = c
            o = R.res(outs, "nz%d" % i)
            if not o:
                continue
            m = ~np.isnan(x)
            xv = x[m]
            z = np.full_like(x, np.nan)
            sd = xv.std()
            z[m] = (xv - xv.mean()) / sd if sd > 0 else 0.0
            R.close(o[0], z, "reward.normalize zscore (ddof 0, NaN left out)", scale=1.0)
            rk = np.full_like(x, np.nan)
            rk[m] = (rankdata(xv) - 1) / (len(xv) - 1) if len(xv) > 1 else 0.0
            R.close(o[1], rk, "reward.normalize rank (scipy rankdata average)", scale=1.0)
            mm = np.full_like(x, np.nan)
            rg = xv.max() - xv.min() if len(xv) else 0
            mm[m] = (xv - xv.min()) / rg if rg > 0 else 0.0
            R.close(o[2], mm, "reward.normalize minmax", scale=1.0)


def check_edge_more(R, ml, rng, rows):
    """rl.dry_run against TRL 1.16's logging; topk with NaN against torch; batch forms; moonlab score with nil."""
    body, cases = [], []
    for i in range(rows):
        G = int(rng.choice([1, 2, 3, 4, 8]))
        ng = int(rng.choice([1, 2, 4]))
        r = np.round(rng.normal(0, 1, G * ng), int(rng.choice([0, 3])))
        r[rng.random(G * ng) < 0.25] = np.nan
        if ng > 1 and i % 4 == 0:
            r[:G] = np.nan
        cases.append(("dr", i, r, G))
        body.append("case('dr%d', function() local d = rl.dry_run(tensor(%s), %d); return d.grpo.group.advantages,"
                    " d.grpo.batch.advantages, d.rloo.none.advantages, d.rloo.batch.advantages, d.dr_grpo.none.advantages,"
                    " d.frac_reward_zero_std, d.zero_spread_groups end)" % (i, lua(r), G))
        n = int(rng.choice([3, 10, 100, 5000]))
        x = np.round(rng.normal(0, 1, n), 1)
        x[rng.random(n) < 0.1] = np.nan
        x[rng.random(n) < 0.05] = np.inf
        k = int(rng.integers(1, n + 1))
        cases.append(("tk", i, x, k))
        body.append("case('tk%d', function() local x = tensor(%s); local v, p = x:topk(%d); local v2, p2 = x:topk(%d, {largest = false});"
                    " return v, p, v2, p2 end)" % (i, lua(x), k, k))
        B, T = int(rng.integers(1, 4)), int(rng.integers(1, 9))
        rr = rng.normal(0, 1, (B, T))
        vv = rng.normal(0, 1, (B, T))
        dd = rng.random((B, T)) < 0.2
        lvv = rng.normal(0, 1, B)
        cases.append(("bt", i, rr, vv, dd, lvv))
        body.append("case('bg%d', function() return rl.gae(tensor(%s), tensor(%s), {gamma = 0.97, lambda = 0.9, dones = %s,"
                    " last_value = tensor(%s)}) end)" % (i, lua(rr), lua(vv), lua(dd.tolist()), lua(lvv)))
        body.append("case('br%d', function() return rl.returns(%s, {gamma = 0.97, dones = tensor(%s), last_value = %s}) end)"
                    % (i, lua(rr.tolist()), lua(dd.astype(float)), lua(lvv.tolist())))
    outs = run_lua("\n".join(body), ml)
    for c in cases:
        if c[0] == "dr":
            _, i, r, G = c
            o = R.res(outs, "dr%d" % i)
            if not o:
                continue
            R.close(o[0], trl_group_advantages(r, G, "grpo", "group"), "rl.dry_run grpo group (TRL 1.16)", scale=1.0)
            R.close(o[1], trl_group_advantages(r, G, "grpo", "batch"), "rl.dry_run grpo batch", scale=1.0)
            R.close(o[2], trl_group_advantages(r, G, "rloo", "none"), "rl.dry_run rloo none", scale=1.0)
            R.close(o[3], trl_group_advantages(r, G, "rloo", "batch"), "rl.dry_run rloo batch", scale=1.0)
            R.close(o[4], trl_group_advantages(r, G, "dr_grpo", "none"), "rl.dry_run dr_grpo", scale=1.0)
            t = torch.tensor(r)
            std = nanstd_f64(t.view(-1, G), dim=1) if G > 1 else torch.zeros(len(r) // G, dtype=torch.float64)
            z = torch.isclose(std, torch.zeros_like(std))
            R.close(o[5], z.repeat_interleave(G).double().mean().item(),
                    "rl.dry_run frac_reward_zero_std (TRL: isclose(std, 0), NaN std not zero)", scale=1.0)
            got = list(o[6] or [])
            R.ok(got == [j + 1 for j in range(len(z)) if z[j]], "rl.dry_run zero_spread_groups",
                 "got %s ref %s (r=%s)" % (got, [j + 1 for j in range(len(z)) if z[j]], r.tolist()))
        elif c[0] == "tk":
            _, i, x, k = c
            o = R.res(outs, "tk%d" % i)
            if not o:
                continue
            tv, tp = torch.topk(torch.tensor(x), k)
            ok = np.array_equal(np.array(o[0], dtype=float), tv.numpy(), equal_nan=True)
            R.ok(ok, "t:topk largest values with NaN/inf (torch.topk) n=%d k=%d" % (len(x), k),
                 "" if ok else "got %s ref %s" % (o[0][:5], tv[:5].tolist()))
            # positions: among ties, torch.topk's order is unspecified; the contract says lower position first
            sv, sp = torch.sort(torch.tensor(x), descending=True, stable=True)
            R.ok(list(o[1]) == (sp[:k] + 1).tolist(), "t:topk positions (ties by lower position)")
            tv, tp = torch.topk(torch.tensor(x), k, largest=False)
            ok = np.array_equal(np.array(o[2], dtype=float), tv.numpy(), equal_nan=True)
            R.ok(ok, "t:topk smallest values with NaN/inf (torch.topk) n=%d k=%d" % (len(x), k),
                 "" if ok else "got %s ref %s" % (o[2][:5], tv[:5].tolist()))
        else:
            _, i, rr, vv, dd, lvv = c
            A = np.zeros_like(rr)
            Gr = np.zeros_like(rr)
            for b in range(rr.shape[0]):
                last, acc = 0.0, lvv[b]
                for t in range(rr.shape[1] - 1, -1, -1):
                    nv = lvv[b] if t == rr.shape[1] - 1 else vv[b, t + 1]
                    nd = 0.0 if dd[b, t] else 1.0
                    last = rr[b, t] + 0.97 * nv * nd - vv[b, t] + 0.97 * 0.9 * nd * last
                    A[b, t] = last
                    acc = rr[b, t] + 0.97 * nd * acc
                    Gr[b, t] = acc
            o = R.res(outs, "bg%d" % i)
            if o:
                R.close(o[0], A, "rl.gae batch with per-row last_value and dones", scale=1.0)
            R.close((R.res(outs, "br%d" % i) or [None])[0], Gr, "rl.returns batch (arrays of arrays, tensor dones)", scale=1.0)
    # moonlab score with a Lua reward returning nil and one raising
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "r.lua"), "w") as f:
            f.write("reward.define('maybe', function(s) if s.x < 0 then return nil end return s.x end)\n"
                    "reward.define('half', function(s) return s.x / 2 end)\n")
        xs = [float(a) for a in np.round(rng.normal(0, 1, 20), 3)]
        with open(os.path.join(d, "in.jsonl"), "w") as f:
            for x in xs:
                f.write(json.dumps({"prompt": [{"role": "user", "content": "q"}],
                                    "completion": [{"role": "assistant", "content": "a"}], "x": x}) + "\n")
        p = subprocess.run([ml, "score", "--data", "in.jsonl", "--reward", "r.lua", "--out", "out.jsonl", "--no-progress",
                            "--workers", "2"], cwd=d, capture_output=True, text=True)
        R.ok(p.returncode == 0, "moonlab score with a nil-returning reward: exit 0", p.stderr[-300:])
        with open(os.path.join(d, "out.jsonl")) as f:
            out = [json.loads(line) for line in f]
        for x, o in zip(xs, out):
            rw = o.get("rewards", {})
            R.ok(("maybe" in rw and rw["maybe"] is None) if x < 0 else rw.get("maybe") == x,
                 "moonlab score: nil -> null, not an error", "x=%r got %s %s" % (x, rw, o.get("error", "")))
            R.ok(rw.get("half") == x / 2 and "error" not in o, "moonlab score: the other reward kept beside a nil", str(o)[:200])


def check_f64_sample_more(R, ml, rng, rows):
    """xtc (probability 1: deterministic) and mirostat v2's first step as llama.cpp's code reads, in f64;
    chain:explain's mass and entropy; sample.compare's transformers row against HF in f64."""
    lpm = hf_processors()
    body, cases = [], []
    for i in range(rows):
        v = int(rng.choice([4, 30, 1000]))
        x = rand_row(rng, v, scale=float(rng.choice([1.0, 3.0])), inf_frac=0.1 if i % 3 == 0 else 0.0)
        thr = float(rng.choice([0.05, 0.1, 0.2]))
        tau = float(rng.choice([1.0, 3.0, 5.0]))
        k = int(rng.integers(1, v + 1))
        t = float(rng.choice([0.7, 1.0, 1.3]))
        p = float(rng.choice([0.8, 0.95]))
        cases.append((i, x, thr, tau, k, t, p))
        body.append("do local x = tensor(%s); local ctx = {rng = random.new(%d)}\n" % (lua(x), i) +
                    "case('xtc%d', function() return sample.chain{sample.xtc{probability = 1, threshold = %r}}:probs(x, ctx) end)\n" % (i, thr) +
                    "case('mir%d', function() return sample.chain{sample.mirostat{tau = %r, eta = 0.1}}:probs(x, ctx) end)\n" % (i, tau) +
                    "case('ex%d', function() local e = sample.chain{sample.temperature(%r), sample.top_k(%d), sample.top_p(%r)}:explain(x);"
                    " local m, h, c = {}, {}, {} for j = 1, #e do m[j] = e[j].mass; h[j] = e[j].entropy; c[j] = e[j].count end; return m, h, c end)\n"
                    % (i, t, k, p) +
                    "case('cmp%d', function() local r = sample.compare(x, {sample.temperature(%r), sample.top_k(%d), sample.top_p(%r)},"
                    " {engines = {'transformers'}}); return r.transformers.ids, r.transformers.probs end)\nend" % (i, t, k, p))
    outs = run_lua("\n".join(body), ml)
    for i, x, thr, tau, k, t, p in cases:
        pr = np.exp(logsoftmax(x))
        order = np.argsort(-pr, kind="stable")
        ps = pr[order]
        # llama.cpp llama_sampler_xtc_apply: pos_last = last index with p >= threshold; cut before it when >= 1
        ref = pr.copy()
        if thr <= 0.5 and np.sum(np.isfinite(x)) >= 2:
            pos_last = 0
            for j in range(len(ps)):
                if ps[j] >= thr:
                    pos_last = j
                else:
                    break
            if len(ps) - pos_last >= 1 and pos_last > 0:
                ref[order[:pos_last]] = 0
                ref = ref / ref.sum()
        R.close((R.res(outs, "xtc%d" % i) or [None])[0], ref, "chain{xtc{probability = 1}}:probs f64 (llama.cpp xtc rule)")
        # mirostat v2: keep the prefix with -log2 p <= mu = 2 tau (at least one), renormalise
        mu = 2 * tau
        keep = 0
        while keep < len(ps) and not (-np.log2(ps[keep]) > mu):
            keep += 1
        keep = max(keep, 1)
        ref = np.zeros_like(pr)
        ref[order[:keep]] = ps[:keep] / ps[:keep].sum()
        R.close((R.res(outs, "mir%d" % i) or [None])[0], ref, "chain{mirostat v2}:probs first step f64 (llama.cpp rule)")
        # explain: per stage the count kept, the mass of the input distribution kept, entropy of what is left
        y0 = x
        y1 = lpm.TemperatureLogitsWarper(t)(None, torch.tensor(y0).unsqueeze(0))[0].numpy()
        y2 = lpm.TopKLogitsWarper(k)(None, torch.tensor(y1).unsqueeze(0))[0].numpy()
        y3 = lpm.TopPLogitsWarper(p)(None, torch.tensor(y2).unsqueeze(0))[0].numpy()
        o = R.res(outs, "ex%d" % i)
        if o:
            ents = []
            for y in (y0, y1, y2, y3):
                q = np.exp(logsoftmax(y))
                ents.append(-np.sum(q[q > 0] * np.log(q[q > 0])))
            R.close(o[1], ents, "chain:explain entropy per stage f64", scale=1e-3)
            R.ok(list(o[2]) == [int(np.sum(np.isfinite(y))) for y in (y0, y1, y2, y3)], "chain:explain count per stage")
            masses = [float(np.sum(np.exp(logsoftmax(y0))[np.isfinite(y)])) for y in (y0, y1, y2, y3)]
            R.close(o[0], masses, "chain:explain mass (input probability kept) f64", scale=1e-3)
        o = R.res(outs, "cmp%d" % i)
        if o:
            q = np.exp(logsoftmax(y3))
            ids = np.array(o[0], dtype=int)
            R.ok(sorted(ids.tolist()) == sorted(np.where(q > 0)[0].tolist()), "sample.compare transformers ids (HF)")
            R.close(o[1], q[ids], "sample.compare transformers probs f64 (HF warpers)")


def nltk_sentence_bleu(references, hypothesis, n):
    """NLTK 3.x nltk/translate/bleu_score.py sentence_bleu (= corpus_bleu of one) with
    uniform weights 1/n and SmoothingFunction().method1 (epsilon 0.1), transcribed."""
    from collections import Counter
    from fractions import Fraction

    def ngrams(seq, k):
        return [tuple(seq[i:i + k]) for i in range(len(seq) - k + 1)]

    def modified_precision(refs, hyp, k):
        counts = Counter(ngrams(hyp, k)) if len(hyp) >= k else Counter()
        max_counts = {}
        for ref in refs:
            rc = Counter(ngrams(ref, k)) if len(ref) >= k else Counter()
            for g in counts:
                max_counts[g] = max(max_counts.get(g, 0), rc[g])
        clipped = {g: min(c, max_counts[g]) for g, c in counts.items()}
        return sum(clipped.values()), max(1, sum(counts.values()))
    p = [modified_precision(references, hypothesis, k) for k in range(1, n + 1)]
    hyp_len = len(hypothesis)
    ref_len = min((len(r) for r in references), key=lambda rl: (abs(rl - hyp_len), rl))
    if p[0][0] == 0:
        return 0.0
    bp = 1.0 if hyp_len > ref_len else (0.0 if hyp_len == 0 else math.exp(1 - ref_len / hyp_len))
    pn = [(num + 0.1) / den if num == 0 else Fraction(num, den) for num, den in p]
    return bp * math.exp(math.fsum((1 / n) * math.log(x) for x in pn))


def check_self_bleu(R, ml, rng, rows):
    """metrics.self_bleu against NLTK's sentence_bleu (method1) transcribed, f64."""
    words = ["the", "cat", "sat", "on", "a", "mat", "dog", "ran", "big", "red"]
    body, cases = [], []
    for i in range(rows):
        texts = [" ".join(str(rng.choice(words)) for _ in range(int(rng.integers(1, 14)))) for _ in range(int(rng.integers(2, 6)))]
        n = int(rng.choice([1, 2, 3, 4]))
        cases.append((i, texts, n))
        body.append("case('sb%d', function() return metrics.self_bleu(%s, {n = %d}) end)" % (i, lua(texts), n))
    outs = run_lua("\n".join(body), ml)
    for i, texts, n in cases:
        toks = [t.split() for t in texts]
        ref = np.mean([nltk_sentence_bleu(toks[:j] + toks[j + 1:], toks[j], n) for j in range(len(toks))])
        R.close((R.res(outs, "sb%d" % i) or [None])[0], ref, "metrics.self_bleu n=%d (NLTK sentence_bleu method1)" % n, scale=1e-3)


def check_explore(R, ml, rng, rows):
    """pref.explore: losses of the margin m and d loss / d m against torch autograd in f64 (TRL 1.16 formulas)."""
    lsg = torch.nn.functional.logsigmoid
    forms = {
        "sigmoid": lambda m, b, ls, tau: -lsg(m),
        "hinge": lambda m, b, ls, tau: torch.relu(1 - m),
        "ipo": lambda m, b, ls, tau: (m / b - 1 / (2 * b)) ** 2,
        "robust": lambda m, b, ls, tau: (-(1 - ls) * lsg(m) + ls * lsg(-m)) / (1 - 2 * ls),
        "exo_pair": lambda m, b, ls, tau: torch.sigmoid(m) * (lsg(m) - math.log1p(-ls)) + torch.sigmoid(-m) * (lsg(-m) - math.log(ls)),
        "discopop": lambda m, b, ls, tau: -lsg(m) * (1 - torch.sigmoid(m / tau)) + torch.exp(-m) * torch.sigmoid(m / tau),
        "aot": lambda m, b, ls, tau: -lsg(m) * (1 - ls) - lsg(-m) * ls,
    }
    body, cases = [], []
    for i in range(rows):
        m = rng.normal(0, 3, int(rng.integers(1, 30)))
        m = m[np.abs(1 - m) > 1e-6]  # hinge's kink
        if len(m) == 0:
            continue
        b = float(rng.choice([0.1, 0.5, 2.0]))
        ls = float(rng.choice([0.1, 0.25]))
        for name in forms:
            cases.append((i, name, m, b, ls))
            body.append("case('ex%d_%s', function() return pref.explore{loss = '%s', beta = %r, margins = tensor(%s), label_smoothing = %r} end)"
                        % (i, name, name, b, lua(m), ls))
    outs = run_lua("\n".join(body), ml)
    for i, name, m, b, ls in cases:
        o = R.res(outs, "ex%d_%s" % (i, name))
        if not o:
            continue
        t = torch.tensor(m, requires_grad=True)
        L = forms[name](t, b, ls, 0.05)
        L.sum().backward()
        R.close(o[0], L.detach().numpy(), "pref.explore %s losses f64" % name, scale=1e-3)
        R.close(o[1], t.grad.numpy(), "pref.explore %s d loss / d m (torch autograd f64)" % name, rtol=1e-11, scale=1e-3)


SECTIONS = {
    "f64_dist": check_f64_dist,
    "f64_sample": check_f64_sample,
    "f64_rl": check_f64_rl,
    "group_advantages": check_group_advantages,
    "f64_pref": check_f64_pref,
    "f64_metrics": check_f64_metrics,
    "sort": check_sort,
    "semantic_entropy": check_semantic_entropy,
    "logprobs": check_logprobs,
    "whitespace": check_whitespace,
    "squad_unicode": check_squad_unicode,
    "rewards": check_rewards,
    "f64_more": check_f64_more,
    "f64_detect_more": check_f64_detect_more,
    "edge_more": check_edge_more,
    "f64_sample_more": check_f64_sample_more,
    "self_bleu": check_self_bleu,
    "explore": check_explore,
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--moonlab", default=os.path.join(os.path.dirname(__file__), "..", "..", ".build", "debug", "moonlab"))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rows", type=int, default=30)
    ap.add_argument("--only", default="")
    ap.add_argument("--max-print", type=int, default=1000)
    a = ap.parse_args()
    ml = os.path.abspath(a.moonlab)
    R = Report()
    only = [s for s in a.only.split(",") if s]
    for name, fn in SECTIONS.items():
        if only and name not in only:
            continue
        rng = np.random.default_rng([a.seed, sum(map(ord, name))])
        before = (R.checks, len(R.fails))
        try:
            fn(R, ml, rng, a.rows)
        except Exception as e:  # a harness bug or a crash: count it, go on
            import traceback
            traceback.print_exc()
            R.ok(False, name, "section raised %r" % e)
        print("== %-18s %5d checks, %d differ" % (name, R.checks - before[0], len(R.fails) - before[1]))
    print("TOTAL %d checks, %d differ, %d notes (seed %d)" % (R.checks, len(R.fails), len(R.notes), a.seed))
    sys.exit(1 if R.fails else 0)


if __name__ == "__main__":
    main()
