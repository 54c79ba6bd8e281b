#!/usr/bin/env python3
"""Randomized differential test of moonlab's {semantics = "llama.cpp"} sampler stages and
its llama.cpp generator (random.new(seed, {engine = "llama.cpp"})) against llama.cpp
itself, driven through llama-cpp-python's low-level sampler API (no model). Hand-run,
never in CI.

    ~/.cache/moonlab/venv/bin/pip install 'llama-cpp-python==0.3.36' numpy   # llama.cpp 0c1e570
    swift build
    ~/.cache/moonlab/venv/bin/python Tests/Differential/llamacpp_diff.py --seed 1
    ~/.cache/moonlab/venv/bin/python Tests/Differential/llamacpp_diff.py --seed 7 --only stage --only seq --keep

Every run draws new rows: arbitrary float values (Gaussian, decimals with many ties,
integer logits, one repeated value, f64 values closer than a float ulp that become ties
in float32, wide scales beyond llama.cpp's bucket range [-10, 10] and beyond int's range
once scaled by it (to 1e37), spikes), -inf entries
and rows where all but one entry is -inf, vocabularies from 1 to 128,256. moonlab gets each
row as a Lua array of decimal literals, an f64 tensor or an f32 tensor (tensor.load of a
.npy), or a strided column of a [V, 2] tensor; llama.cpp gets the row as float32, as its
logits are.

Categories:
- stage: every stage alone with random parameters, edges included (top_k 0/1/V/>V,
  top_p tiny/1, min_p 0/1, typical 1, temperature 0, temp_ext, top_n_sigma 0, xtc with
  probability 0/1 and threshold 0/0.5/>0.5, penalties with repeated ids, ids outside the
  vocabulary and last_n 0/-1/1, logit_bias with -inf, mirostat v1/v2, greedy, min_keep).
- chain: random chains of 2 to 5 stages (mirostat or greedy last when present).
- default: llama.cpp's common_sampler order (logit_bias, penalties, top_n_sigma, top_k,
  typical, top_p, min_p, xtc, temp_ext) with random parameters around its defaults.
- domain: parameters llama.cpp takes that lie outside moonlab's documented ranges
  (top_k < 0, top_p 0 and > 1, min_p > 1, typical > 1, temperature < 0, top_n_sigma < 0,
  min_keep 0).
- compare: sample.compare(row, stages, {engines = {"llama.cpp"}, history = ...}) with one
  nominal configuration in moonlab's default semantics and a random order: its llama.cpp
  engine's kept ids and distribution against llama.cpp running the settings in
  common_sampler's order (logit_bias, penalties (64 ids unless last_n is set), top_n_sigma,
  top_k, typical, top_p, min_p, temperature), then dist.
- rng: g:uniform() of random.new(seed, {engine = "llama.cpp"}) against libstdc++'s
  uniform_real_distribution<double> over std::mt19937(seed) (numpy's legacy MT19937
  seeding is std::mt19937's), 1 to 700 numbers, bit for bit.
- seq: stateful sequences: one chain and one generator drawing 5 to 80 tokens over new
  rows (or the same row again), each token accepted into the history (penalties) and
  mirostat's mu carried, against one llama.cpp chain with llama_sampler_accept; half of
  them also through sample.replay_logits on the [T, V] tensor of the same rows.

Per case, moonlab runs `chain:apply(row, ctx)`, `chain:probs(row, ctx)`,
`chain:distribution(row, ctx)` (chains without xtc, mirostat or greedy) and
`chain:sample(row, random.new(seed, {engine = "llama.cpp"}), ctx)` (each with a fresh
chain and a fresh generator, ctx.rng a fresh llama.cpp generator for xtc), and llama.cpp
applies the same samplers then `dist(seed)` (every seeded sampler gets the seed) to a
llama_token_data_array. Compared:
- the kept set (entries whose logit is not -inf; +inf where a temperature overflows) exactly;
- the kept logits as float32, bitwise (temperature, penalties, logit_bias change them);
- the probabilities against llama.cpp's p after dist: within 4 float32 ulps (relative
  2^-21) plus 1e-44 (llama.cpp stores p as a float; moonlab keeps the double quotient);
- the drawn token exactly (greedy last: the selected token only, as llama.cpp's greedy does
  not shrink its array).
moonlab does not expose llama.cpp's array order from Lua; the draws depend on it (dist's
inverse-CDF walk runs in array order), so every case's draw checks it.

Exit status 0 when nothing differs.
"""
import argparse
import ctypes
import math
import os
import shutil
import subprocess
import sys
import tempfile
import zlib

import numpy as np

import llama_cpp as L

LLAMA_COMMIT = "0c1e570"
TOKEN_DTYPE = np.dtype([("id", "<i4"), ("logit", "<f4"), ("p", "<f4")])
assert TOKEN_DTYPE.itemsize == ctypes.sizeof(L.llama_token_data)
CATS = ["stage", "chain", "default", "domain", "seq", "compare", "rng"]
# sample.compare's llama.cpp engine runs the settings in common_sampler's order
LLAMA_ORDER = ["logit_bias", "penalties", "top_n_sigma", "top_k", "typical", "top_p", "min_p", "temperature"]
KNOWN = {c: 0 for c in CATS}  # accepted differences met, per category (see the README)
VOCABS = [1, 2, 3, 5, 8, 17, 40, 64, 100, 127, 128, 129, 257, 1000, 4096, 32000, 50000, 50257, 65536, 128256]
VOCAB_W = np.array([3, 4, 3, 4, 4, 4, 4, 4, 4, 3, 3, 3, 4, 5, 4, 2, 1, 1, 1, 0.5], dtype=float)


# ---------------------------------------------------------------- rows

def make_row(rng, v=None):
    """A row of logits as float64 values (what moonlab is handed as f64)."""
    if v is None:
        v = int(rng.choice(VOCABS, p=VOCAB_W / VOCAB_W.sum()))
    kind = int(rng.integers(0, 10))
    if kind == 0:
        x = rng.normal(0, float(rng.choice([0.5, 1, 2, 4])), v)
    elif kind == 1:
        x = np.round(rng.normal(0, 2, v), int(rng.integers(0, 3)))  # decimals, many ties
    elif kind == 2:
        x = rng.integers(-3, 4, v).astype(np.float64)  # integer logits, heavy ties
    elif kind == 3:
        x = np.full(v, float(np.round(rng.normal(0, 3), 3)))  # one repeated value
    elif kind == 4:
        x = rng.normal(0, 1, v) * float(rng.choice([15, 40, 300, 1e4]))  # beyond the buckets
    elif kind == 5:
        # f64 values closer than a float ulp: distinct in f64, ties in float32
        base = np.round(rng.normal(0, 2, v), 1)
        x = base + rng.normal(0, 1e-9, v)
    elif kind == 6:
        x = rng.normal(0, 1.5, v)
        for j in range(int(rng.integers(1, 6))):
            x[int(rng.integers(0, v))] = 8.0 - 0.5 * j + float(rng.normal(0, 0.01))
    elif kind == 7:
        x = rng.normal(float(rng.choice([-30, -5, 5, 30])), 2, v)  # offset rows
    elif kind == 8:
        x = rng.uniform(-12, 12, v)  # across the whole bucket range and its ends
    else:
        # beyond int's range once scaled by the bucket sort (|x| > 3.4e8: C's int(float) is
        # INT_MIN there) and near float's largest values
        x = rng.normal(0, 1, v) * float(rng.choice([1e8, 1e9, 1e20, 1e37]))
    if rng.random() < 0.1:
        x[rng.random(v) < 0.2] = -0.0  # negative zeros among the ties at 0
    r = rng.random()
    if v > 1 and r < 0.25:
        m = rng.random(v) < float(rng.choice([0.1, 0.5, 0.9, 0.99]))
        m[int(rng.integers(0, v))] = False
        x[m] = -np.inf
    elif v > 1 and r < 0.3:
        keep = int(rng.integers(0, v))
        x[:] = -np.inf
        x[keep] = float(np.round(rng.normal(), 2))  # all but one -inf
    return x


def rand_p(rng, edges):
    if rng.random() < 0.35:
        return float(rng.choice(edges))
    return float(np.round(rng.uniform(0, 1), int(rng.integers(1, 8))) or 0.5)


def rand_mk(rng):
    return int(rng.choice([1, 1, 1, 1, 2, 3, 5, 10, 50, 100000]))


def make_stage(rng, v, kinds=None, domain=False):
    kinds = kinds or ["top_k", "top_p", "min_p", "typical", "temperature", "temp_ext",
                      "top_n_sigma", "xtc", "penalties", "logit_bias"]
    k = str(rng.choice(kinds))
    if k == "top_k":
        kk = int(rng.choice([0, 1, 2, 3, 5, 10, 40, 100, 128, 129, 200, v - 1, v, v + 7,
                             int(rng.integers(1, v + 2))]))
        if domain:
            kk = int(rng.choice([-1, -40]))
        return {"kind": "top_k", "k": max(kk, 0) if not domain else kk}
    if k == "top_p":
        p = rand_p(rng, [1.0, 0.999, 0.95, 0.9, 0.5, 0.1, 1e-6, 1e-30])
        if domain:
            p = float(rng.choice([0.0, 1.5, 2.0]))
        return {"kind": "top_p", "p": p or 1e-6, "min_keep": 0 if domain and rng.random() < 0.3 else rand_mk(rng)}
    if k == "min_p":
        p = rand_p(rng, [0.0, 1.0, 0.05, 0.1, 0.99, 1e-8])
        if domain:
            p = float(rng.choice([1.5, -0.5]))
        return {"kind": "min_p", "p": p, "min_keep": rand_mk(rng)}
    if k == "typical":
        p = rand_p(rng, [1.0, 0.95, 0.5, 0.2, 1e-4])
        if domain:
            p = float(rng.choice([1.5, 0.0]))
        return {"kind": "typical", "p": p or 0.5, "min_keep": 0 if domain and rng.random() < 0.5 else rand_mk(rng)}
    if k == "temperature":
        t = float(rng.choice([0.0, 1e-3, 0.1, 0.5, 0.7, 0.8, 1.0, 1.5, 3.0, 100.0,
                              float(np.round(rng.uniform(0.01, 2.5), int(rng.integers(1, 6))))]))
        if domain:
            t = float(rng.choice([-1.0, -0.5]))
        return {"kind": "temperature", "t": t}
    if k == "temp_ext":
        t = float(rng.choice([0.0, 0.5, 0.8, 1.0, 1.7, float(np.round(rng.uniform(0.05, 2), 3))]))
        delta = float(rng.choice([0.0, 0.1, 0.5, 1.0, 2.0, -0.5, float(np.round(rng.uniform(0, 1.5), 3))]))
        expo = float(rng.choice([1.0, 0.5, 2.0, 0.0, float(np.round(rng.uniform(0.1, 3), 2))]))
        return {"kind": "temperature", "t": t, "delta": delta, "exponent": expo}
    if k == "top_n_sigma":
        n = float(rng.choice([0.0, 0.5, 1.0, 1.5, 2.5, 10.0, float(np.round(rng.uniform(0, 4), 3))]))
        if domain:
            n = float(rng.choice([-1.0, -0.5]))
        return {"kind": "top_n_sigma", "n": n}
    if k == "xtc":
        prob = float(rng.choice([0.0, 1.0, 0.5, 0.99, float(np.round(rng.uniform(0, 1), 3))]))
        thr = float(rng.choice([0.0, 0.5, 0.51, 1.0, 0.1, 0.05, 0.01, 1e-4,
                                float(np.round(rng.uniform(0, 0.5), 4))]))
        return {"kind": "xtc", "probability": prob, "threshold": thr,
                "min_keep": 0 if domain else rand_mk(rng)}
    if k == "penalties":
        last_n = int(rng.choice([0, -1, 1, 2, 4, 16, 64, 300, int(rng.integers(1, 100))]))
        return {"kind": "penalties", "last_n": last_n,
                "repetition": float(rng.choice([1.0, 0.8, 1.1, 1.3, 2.0, float(np.round(rng.uniform(0.5, 2), 3))])),
                "frequency": float(rng.choice([0.0, 0.1, 0.5, -0.3, float(np.round(rng.uniform(-1, 1), 3))])),
                "presence": float(rng.choice([0.0, 0.25, 1.5, -0.5, float(np.round(rng.uniform(-1, 1), 3))]))}
    if k == "logit_bias":
        n = int(rng.integers(1, min(v, 12) + 1))
        ids = sorted(set(int(i) for i in rng.integers(0, v, n)))
        bias = {}
        for i in ids:
            bias[i] = float(rng.choice([2.5, -1.25, 0.1, 30.0, -30.0, -math.inf, 1e-3,
                                        float(np.round(rng.normal(0, 3), 4))]))
        return {"kind": "logit_bias", "bias": bias}
    if k == "mirostat":
        if rng.random() < 0.5:
            return {"kind": "mirostat", "version": 1,
                    "tau": float(rng.choice([0.5, 2.0, 3.0, 5.0, 10.0, float(np.round(rng.uniform(0, 8), 3))])),
                    "eta": float(rng.choice([0.0, 0.1, 0.3, 1.0, float(np.round(rng.uniform(0, 1), 3))])),
                    "m": int(rng.choice([1, 2, 8, 100, 1000]))}
        return {"kind": "mirostat", "version": 2,
                "tau": float(rng.choice([0.0, 0.5, 3.0, 5.0, 10.0, float(np.round(rng.uniform(0, 8), 3))])),
                "eta": float(rng.choice([0.0, 0.1, 0.3, 1.0, float(np.round(rng.uniform(0, 1), 3))]))}
    if k == "greedy":
        return {"kind": "greedy"}
    raise ValueError(k)


def sanitize(stages, row):
    """No stage may leave llama.cpp an array without a finite logit (dist then reads NaN):
    logit_bias does not ban every finite entry."""
    finite = set(np.flatnonzero(np.isfinite(row)).tolist())
    for st in stages:
        if st["kind"] == "logit_bias":
            banned = {i for i, b in st["bias"].items() if b == -math.inf}
            if finite and finite <= banned:
                keep = min(finite)
                st["bias"][keep] = 1.0
    return stages


def history_for(rng, v, stages):
    if not any(s["kind"] == "penalties" for s in stages):
        return []
    n = int(rng.choice([0, 1, 3, 12, 64, 200]))
    pool = rng.integers(0, v, int(rng.integers(1, 6)))
    hist = [int(rng.choice(pool)) if rng.random() < 0.5 else int(rng.integers(0, v)) for _ in range(n)]
    if hist and rng.random() < 0.2:
        hist[int(rng.integers(0, len(hist)))] = v + int(rng.integers(0, 5))  # outside the vocabulary
    return hist


# ---------------------------------------------------------------- llama.cpp

def llama_stage(st, n_vocab, seed, history_len):
    k = st["kind"]
    mk = st.get("min_keep", 1)
    if k == "top_k":
        return L.llama_sampler_init_top_k(st["k"])
    if k == "top_p":
        return L.llama_sampler_init_top_p(st["p"], mk)
    if k == "min_p":
        return L.llama_sampler_init_min_p(st["p"], mk)
    if k == "typical":
        return L.llama_sampler_init_typical(st["p"], mk)
    if k == "temperature":
        if "delta" in st:
            return L.llama_sampler_init_temp_ext(st["t"], st["delta"], st["exponent"])
        return L.llama_sampler_init_temp(st["t"])
    if k == "top_n_sigma":
        return L.llama_sampler_init_top_n_sigma(st["n"])
    if k == "xtc":
        return L.llama_sampler_init_xtc(st["probability"], st["threshold"], mk, seed)
    if k == "penalties":
        # moonlab's last_n = -1 is the whole history; llama.cpp's common_params maps -1 to
        # the context size before it builds the sampler: give it the history's length.
        last_n = st["last_n"]
        if last_n is None:
            last_n = 64  # llama.cpp's default window (moonlab's llama.cpp semantics too)
        elif last_n < 0:
            last_n = max(history_len, 1)
        return L.llama_sampler_init_penalties(n_vocab, last_n, st["repetition"], st["frequency"], st["presence"])
    if k == "logit_bias":
        items = sorted(st["bias"].items())
        arr = (L.llama_logit_bias * len(items))()
        for j, (tok, b) in enumerate(items):
            arr[j].token = int(tok)
            arr[j].bias = float(b)
        return L.llama_sampler_init_logit_bias(n_vocab, len(items), arr)
    if k == "mirostat":
        if st["version"] == 1:
            return L.llama_sampler_init_mirostat(n_vocab, seed, st["tau"], st["eta"], st["m"])
        return L.llama_sampler_init_mirostat_v2(seed, st["tau"], st["eta"])
    if k == "greedy":
        return L.llama_sampler_init_greedy()
    raise ValueError(k)


class LlamaChain:
    def __init__(self, stages, n_vocab, seed, history_len):
        self.ptr = L.llama_sampler_chain_init(L.llama_sampler_chain_default_params())
        for st in stages:
            L.llama_sampler_chain_add(self.ptr, llama_stage(st, n_vocab, seed, history_len))
        if not stages or stages[-1]["kind"] not in ("mirostat", "greedy"):
            L.llama_sampler_chain_add(self.ptr, L.llama_sampler_init_dist(seed))

    def accept(self, tok):
        L.llama_sampler_accept(self.ptr, int(tok))

    def apply(self, row32):
        n = len(row32)
        data = np.zeros(n, TOKEN_DTYPE)
        data["id"] = np.arange(n, dtype=np.int32)
        data["logit"] = row32
        arr = L.llama_token_data_array(data=ctypes.cast(data.ctypes.data, L.llama_token_data_p),
                                       size=n, selected=-1, sorted=False)
        L.llama_sampler_apply(self.ptr, ctypes.byref(arr))
        # read the array where it points after the samplers (they shrink it in place)
        nbytes = arr.size * TOKEN_DTYPE.itemsize
        buf = (ctypes.c_char * nbytes).from_address(ctypes.cast(arr.data, ctypes.c_void_p).value)
        out = np.frombuffer(buf, TOKEN_DTYPE).copy()
        sel = int(out["id"][arr.selected]) if 0 <= arr.selected < arr.size else -1
        return out, sel

    def free(self):
        L.llama_sampler_free(self.ptr)


def llama_case(case):
    row32 = case["row"].astype(np.float32)
    v = len(row32)
    ch = LlamaChain(case["stages"], v, case["seed"], len(case["history"]))
    for t in case["history"]:
        ch.accept(t)
    out, sel = ch.apply(row32)
    ch.free()
    return out, sel


def llama_seq(case):
    v = case["rows"].shape[1]
    ch = LlamaChain(case["stages"], v, case["seed"], case["last_n_len"])
    for t in case["history"]:
        ch.accept(t)
    toks = []
    case["dead_at"] = None  # the first step whose array holds only -inf logits
    case["nan_at"] = None   # the first such step with more than one entry (dist draws from NaN)
    for s in range(case["steps"]):
        out, sel = ch.apply(case["rows"][case["row_of"][s]].astype(np.float32))
        if (out["logit"] == -np.inf).all():
            if case["dead_at"] is None:
                case["dead_at"] = s
            if case["nan_at"] is None and len(out) > 1:
                case["nan_at"] = s
        ch.accept(sel)
        toks.append(sel)
    ch.free()
    return toks


# ---------------------------------------------------------------- moonlab

def lua_num(x):
    if x == math.inf:
        return "math.huge"
    if x == -math.inf:
        return "-math.huge"
    return repr(float(x))


def lua_stage(st):
    k = st["kind"]
    sem = 'semantics = "llama.cpp"'
    mk = f", min_keep = {st['min_keep']}" if "min_keep" in st else ""
    if k == "top_k":
        return f"sample.top_k({st['k']}, {{{sem}}})"
    if k in ("top_p", "min_p", "typical"):
        return f"sample.{k}({lua_num(st['p'])}, {{{sem}{mk}}})"
    if k == "temperature":
        if "delta" in st:
            return (f"sample.temperature({lua_num(st['t'])}, {{delta = {lua_num(st['delta'])}, "
                    f"exponent = {lua_num(st['exponent'])}, {sem}}})")
        return f"sample.temperature({lua_num(st['t'])}, {{{sem}}})"
    if k == "top_n_sigma":
        return f"sample.top_n_sigma({lua_num(st['n'])}, {{{sem}}})"
    if k == "xtc":
        return (f"sample.xtc{{probability = {lua_num(st['probability'])}, threshold = "
                f"{lua_num(st['threshold'])}{mk}, {sem}}}")
    if k == "penalties":
        return (f"sample.penalties{{repetition = {lua_num(st['repetition'])}, frequency = "
                f"{lua_num(st['frequency'])}, presence = {lua_num(st['presence'])}, "
                f"last_n = {'nil' if st['last_n'] is None else st['last_n']}, {sem}}}")
    if k == "logit_bias":
        items = ", ".join(f"[{i}] = {lua_num(b)}" for i, b in sorted(st["bias"].items()))
        return f"sample.logit_bias({{{items}}}, {{{sem}}})"
    if k == "mirostat":
        m = f", m = {st['m']}" if st["version"] == 1 else ""
        return (f"sample.mirostat{{tau = {lua_num(st['tau'])}, eta = {lua_num(st['eta'])}, "
                f"version = {st['version']}{m}, {sem}}}")
    if k == "greedy":
        return f"sample.greedy{{{sem}}}"
    raise ValueError(k)


def plain_src(st):
    """The stage in moonlab's default (transformers) semantics: how sample.compare is given it."""
    src = lua_stage(st)
    for o, n in [('{semantics = "llama.cpp", ', '{'), ('{semantics = "llama.cpp"}', '{}'),
                 (', semantics = "llama.cpp"', '')]:
        src = src.replace(o, n)
    return src


def lua_compare(case, i, indir, outdir):
    hist = "{" + ", ".join(str(h) for h in case["history"]) + "}"
    stages = "{" + ", ".join(plain_src(s) for s in case["given"]) + "}"
    return f"""
do
  local ok, err = pcall(function()
    local row = {row_src(case, i, indir)}
    local r = sample.compare(row, {stages}, {{engines = {{"llama.cpp"}}, history = {hist}}})
    tensor.save('{outdir}/p{i}.npy', r["llama.cpp"].distribution)
    tensor.save('{outdir}/k{i}.npy', r["llama.cpp"].ids)
    io.write('S {i} ', -1, '\\n')
  end)
  if not ok then io.write('E {i} ', (tostring(err):gsub('\\n', ' ')), '\\n') end
end"""


def chain_src(stages, cat=None):
    """Half of the chains (by a checksum of their stages, so a case is reproducible) give the
    semantics once, to sample.chain, for stages made without it; not the domain category's,
    whose parameters transformers semantics refuses when the stage is made."""
    if cat != "domain" and zlib.crc32(repr(stages).encode()) % 2:
        return "sample.chain({" + ", ".join(plain_src(s) for s in stages) + '}, {semantics = "llama.cpp"})'
    return "sample.chain{" + ", ".join(lua_stage(s) for s in stages) + "}"


def row_src(case, i, indir, row=None, tag="r"):
    rep = case["rep"]
    if rep == "lua":
        vals = row if row is not None else case["row"]
        finite = [x for x in vals if math.isfinite(x)]
        if finite and all(float(x).is_integer() and abs(x) < 2**53 for x in finite):
            # Lua integers where the row is integer-valued (-0.0 stays a float)
            return "{" + ", ".join(str(int(x)) if math.isfinite(x) and not (x == 0 and math.copysign(1, x) < 0)
                                   else lua_num(x) for x in vals) + "}"
        return "{" + ", ".join(lua_num(x) for x in vals) + "}"
    if rep.endswith("view"):
        return f"tensor.load('{indir}/{tag}{i}.npy')[{{{{}}, 2}}]"
    return f"tensor.load('{indir}/{tag}{i}.npy')"


def lua_case(case, i, indir, outdir):
    hist = "{" + ", ".join(str(h) for h in case["history"]) + "}"
    seed = case["seed"]
    dist = ""
    if not any(st["kind"] in ("xtc", "mirostat", "greedy") for st in case["stages"]):
        # a deterministic chain: chain:distribution is exact (Monte-Carlo only for xtc/mirostat)
        dist = f"tensor.save('{outdir}/d{i}.npy', (mk():distribution(row, {{history = {hist}}})))"
    return f"""
do
  local ok, err = pcall(function()
    local row = {row_src(case, i, indir)}
    local function mk() return {chain_src(case["stages"], case["cat"])} end
    local function g() return random.new({seed}, LL) end
    tensor.save('{outdir}/a{i}.npy', mk():apply(row, {{history = {hist}, rng = g()}}))
    tensor.save('{outdir}/p{i}.npy', mk():probs(row, {{history = {hist}, rng = g()}}))
    {dist}
    io.write('S {i} ', mk():sample(row, g(), {{history = {hist}, rng = g()}}), '\\n')
  end)
  if not ok then io.write('E {i} ', (tostring(err):gsub('\\n', ' ')), '\\n') end
end"""


def lua_seq(case, i, indir, outdir):
    hist = "{" + ", ".join(str(h) for h in case["history"]) + "}"
    if case["rep"] == "lua":
        rows = "{" + ", ".join(row_src(case, i, indir, row=r) for r in case["rows"]) + "}"
        get = "rows[k + 1]"
    else:
        rows = f"tensor.load('{indir}/q{i}.npy')"
        get = "rows[k + 1]"
    order = "{" + ", ".join(str(k) for k in case["row_of"]) + "}"
    replay = ""
    if case.get("replay"):
        # sample.replay_logits over the [T, V] rows in step order, a new chain and generator
        replay = (f"local ids = sample.replay_logits(tensor.load('{indir}/o{i}.npy'), "
                  f"{chain_src(case['stages'], case['cat'])}, random.new({case['seed']}, LL), {{history = {hist}}}) "
                  f"local t = {{}} for j = 1, #ids do t[j] = ids[j] end "
                  f"io.write('R {i} ', table.concat(t, ' '), '\\n')")
    return f"""
do
  local ok, err = pcall(function()
    local rows = {rows}
    local order = {order}
    local c = {chain_src(case["stages"], case["cat"])}
    local g = random.new({case["seed"]}, LL)
    local hist = {hist}
    local toks = {{}}
    local ok2, err2 = pcall(function()
      for s = 1, {case["steps"]} do
        local k = order[s]
        local tok = c:sample({get}, g, {{history = hist}})
        hist[#hist + 1] = tok
        toks[#toks + 1] = tok
      end
    end)
    io.write('Q {i} ', table.concat(toks, ' '), '\\n')
    if not ok2 then error(err2, 0) end
    {replay}
  end)
  if not ok then io.write('E {i} ', (tostring(err):gsub('\\n', ' ')), '\\n') end
end"""


# ---------------------------------------------------------------- cases

def rand_seed(rng):
    r = rng.random()
    if r < 0.1:
        return int(rng.choice([0, 1, 2, 42, 2**31 - 1, 2**31, 2**32 - 2]))
    return int(rng.integers(0, 2**32 - 1))


def rand_rep(rng, v):
    r = rng.random()
    if v <= 2000 and r < 0.3:
        return "lua"
    if r > 0.9:
        return "f32view" if r > 0.95 else "f64view"  # a strided column of a [V, 2] tensor
    return "f32" if r < 0.65 else "f64"


def stage_kinds_all():
    return ["top_k", "top_p", "min_p", "typical", "temperature", "temp_ext", "top_n_sigma",
            "xtc", "penalties", "logit_bias", "mirostat", "greedy"]


def make_case(rng, cat):
    row = make_row(rng)
    v = len(row)
    if cat == "stage":
        stages = [make_stage(rng, v, stage_kinds_all())]
    elif cat == "domain":
        stages = [make_stage(rng, v, ["top_k", "top_p", "min_p", "typical", "temperature",
                                      "top_n_sigma", "xtc"], domain=True)]
    elif cat == "chain":
        n = int(rng.integers(2, 6))
        stages = [make_stage(rng, v) for _ in range(n)]
        r = rng.random()
        if r < 0.15:
            stages.append(make_stage(rng, v, ["mirostat"]))
        elif r < 0.25:
            stages.append({"kind": "greedy"})
    elif cat == "compare":
        # one nominal configuration (each setting once, in a random order), as
        # sample.compare's llama.cpp engine runs it: in common_sampler's order
        kinds = ["logit_bias", "penalties", "top_n_sigma", "top_k", "typical", "top_p", "min_p", "temperature"]
        pick = [str(k) for k in rng.permutation(kinds)[: int(rng.integers(1, 6))]]
        given = [make_stage(rng, v, [k]) for k in pick]
        for st in given:
            if st["kind"] == "penalties" and rng.random() < 0.5:
                st["last_n"] = None  # not set: llama.cpp's 64
        given = sanitize(given, row)
        stages = sorted((dict(st) for st in given), key=lambda st: LLAMA_ORDER.index(st["kind"]))
        for st in stages:
            if st["kind"] == "penalties" and st["last_n"] == -1:
                # -1 is the transformers stage's own default, which compare reads as "not
                # set": each engine's default window, llama.cpp's 64
                st["last_n"] = None
        case = {"cat": cat, "row": row, "rep": rand_rep(rng, v), "stages": stages, "given": given,
                "seed": rand_seed(rng), "history": history_for(rng, v, stages)}
        return case
    else:  # default: common_sampler's order, parameters around its defaults
        stages = default_chain(rng, v)
    stages = sanitize(stages, row)
    if v > 2000 and any(s["kind"] == "mirostat" and s["version"] == 1 for s in stages):
        pass
    case = {"cat": cat, "row": row, "rep": rand_rep(rng, v), "stages": stages,
            "seed": rand_seed(rng), "history": history_for(rng, v, stages)}
    return case


def default_chain(rng, v):
    def pick(default, others):
        return default if rng.random() < 0.5 else float(rng.choice(others))
    st = []
    if rng.random() < 0.3:
        st.append(make_stage(rng, v, ["logit_bias"]))
    st.append({"kind": "penalties", "last_n": int(rng.choice([64, 64, 0, -1, 16])),
               "repetition": pick(1.0, [1.1, 1.18, 1.5, 0.9]), "frequency": pick(0.0, [0.1, 0.5]),
               "presence": pick(0.0, [0.1, 0.6])})
    st.append({"kind": "top_n_sigma", "n": pick(0.0, [1.0, 2.0, 0.5])})  # llama.cpp's -1 = off
    st.append({"kind": "top_k", "k": int(pick(40, [0, 1, 20, 100, v]))})
    st.append({"kind": "typical", "p": pick(1.0, [0.9, 0.95, 0.5]), "min_keep": 1})
    st.append({"kind": "top_p", "p": pick(0.95, [0.9, 0.5, 1.0, 0.8]), "min_keep": 1})
    st.append({"kind": "min_p", "p": pick(0.05, [0.0, 0.1, 0.2]), "min_keep": 1})
    st.append({"kind": "xtc", "probability": pick(0.0, [0.5, 1.0]), "threshold": pick(0.1, [0.05, 0.2]),
               "min_keep": 1})
    st.append({"kind": "temperature", "t": pick(0.8, [0.0, 0.6, 1.0, 1.3]),
               "delta": pick(0.0, [0.3, 1.0]), "exponent": pick(1.0, [1.5, 0.5])})
    if rng.random() < 0.15:
        st.append(make_stage(rng, v, ["mirostat"]))
    return st


def make_seq(rng):
    v = int(rng.choice([2, 3, 8, 40, 100, 257, 1000, 4096, 32000], p=[.05, .05, .1, .15, .15, .15, .15, .1, .1]))
    steps = int(rng.choice([5, 20, 50, 80]))
    n_rows = int(rng.choice([1, 3, steps]))
    if v * n_rows > 400000:
        n_rows = max(1, 400000 // v)
    rows = np.stack([make_row(rng, v) for _ in range(n_rows)])
    r = rng.random()
    if r < 0.3:
        stages = []  # dist alone
        if rng.random() < 0.5:
            stages = [make_stage(rng, v, ["temperature"])]
    elif r < 0.55:
        stages = default_chain(rng, v)
    else:
        stages = [make_stage(rng, v) for _ in range(int(rng.integers(1, 5)))]
        if rng.random() < 0.3:
            stages.append(make_stage(rng, v, ["mirostat"]))
        elif rng.random() < 0.1:
            stages.append({"kind": "greedy"})
    for k in range(n_rows):
        stages = sanitize(stages, rows[k])
    # a row whose only finite entries the chain could ban is avoided by sanitize; a
    # history of tokens the chain drew is built up as the sequence goes
    history = history_for(rng, v, stages)
    pen = [s for s in stages if s["kind"] == "penalties"]
    last_n_len = len(history) + steps  # what llama.cpp's -1 (context size) covers
    row_of = [int(rng.integers(0, n_rows)) for _ in range(steps)]
    rep = "lua" if v * n_rows <= 20000 and rng.random() < 0.25 else ("f32" if rng.random() < 0.5 else "f64")
    replay = rep != "lua" and v * steps <= 400000 and rng.random() < 0.5
    del pen
    return {"cat": "seq", "rows": rows, "rep": rep, "stages": stages, "seed": rand_seed(rng),
            "history": history, "steps": steps, "row_of": row_of, "last_n_len": last_n_len,
            "replay": replay}


# ---------------------------------------------------------------- compare

def describe(case, i):
    if case["cat"] == "rng":
        return f"case {i} [rng]: random.new({case['seed']}, {{engine = 'llama.cpp'}}), {case['steps']} uniforms"
    v = len(case["row"]) if "row" in case else case["rows"].shape[1]
    return (f"case {i} [{case['cat']}]: V={v} {case['rep']} seed {case['seed']} chain "
            f"{chain_src(case['stages'], case['cat'])} history[{len(case['history'])}]")


def reproducer(case, i, indir):
    """A Lua snippet that rebuilds the case (rows inline when short)."""
    if case["cat"] == "rng":
        return f"    g = random.new({case['seed']}, {{engine = 'llama.cpp'}}); print(g:uniform())"
    row = case["row"] if "row" in case else case["rows"][case["row_of"][0]]
    if len(row) <= 64:
        rs = "{" + ", ".join(lua_num(x) for x in row) + "}"
        if case["rep"] == "f32":
            rs = f"tensor({rs}, 'f32')"
    else:
        rs = f"tensor.load('{indir}/{'r' if 'row' in case else 'q'}{i}.npy')  -- --keep"
    hist = "{" + ", ".join(str(h) for h in case["history"][:64]) + ("" if len(case["history"]) <= 64 else ", ...") + "}"
    return (f"    LL = {{engine = 'llama.cpp'}}; row = {rs}\n"
            f"    c = {chain_src(case['stages'], case['cat'])}\n"
            f"    c:apply(row, {{history = {hist}, rng = random.new({case['seed']}, LL)}}); "
            f"c:sample(row, random.new({case['seed']}, LL), {{history = {hist}}})")


def compare_case(case, i, outdir, res):
    err, tok = res.get(("E", i)), res.get(("S", i))
    want, sel = case["want"]
    if (want["logit"] == -np.inf).all():
        # llama.cpp's stages left no finite logit (xtc with threshold 0 keeps the last
        # entry of its sorted array, an -inf one when the row has any); its dist then
        # draws from NaN probabilities. moonlab raises an error naming the row.
        KNOWN[case["cat"]] += 1
        return None if err else "llama.cpp kept no finite logit and moonlab answered"
    if err:
        return f"moonlab raised: {err}"
    if tok is None:
        return "moonlab printed no token"
    greedy_last = case["stages"] and case["stages"][-1]["kind"] == "greedy"
    if int(tok) != sel:
        msg = f"drew {tok}, llama.cpp {sel}"
    else:
        msg = None
    if greedy_last:
        return msg
    a = np.load(os.path.join(outdir, f"a{i}.npy"))
    p = np.load(os.path.join(outdir, f"p{i}.npy"))
    v = len(case["row"])
    fin = want["logit"] != -np.inf  # kept: not -inf (a temperature may overflow to +inf)
    want_ids = want["id"][fin]
    wmask = np.zeros(v, bool)
    wmask[want_ids] = True
    gmask = a != -np.inf
    if not np.array_equal(gmask, wmask):
        only_m = np.flatnonzero(gmask & ~wmask)[:8].tolist()
        only_l = np.flatnonzero(wmask & ~gmask)[:8].tolist()
        return (f"kept {int(gmask.sum())}, llama.cpp {int(wmask.sum())}: only moonlab {only_m}, "
                f"only llama.cpp {only_l}" + (f"; {msg}" if msg else ""))
    wl = np.full(v, -np.inf, np.float32)
    wl[want_ids] = want["logit"][fin]
    g32 = a.astype(np.float32)
    bad = np.flatnonzero(wmask & (g32.view(np.uint32) != wl.view(np.uint32)))
    if len(bad):
        j = int(bad[0])
        return (f"kept logits differ at {len(bad)} ids, e.g. id {j}: {float(g32[j])!r} (moonlab "
                f"{float(a[j])!r}), llama.cpp {float(wl[j])!r}" + (f"; {msg}" if msg else ""))
    wp = np.zeros(v)
    wp[want["id"]] = want["p"].astype(np.float64)
    if case["stages"][-1]["kind"] == "mirostat":
        # mirostat leaves llama.cpp's float softmax in p (summed in float: off by up to the
        # sum's rounding, ~6e-6 relative at 4,096 tokens) and draws with
        # std::discrete_distribution, which divides the p by their double sum: that is the
        # distribution llama.cpp samples, and what moonlab's chain:probs gives.
        wp /= math.fsum(want["p"].astype(np.float64).tolist())
    tol = 2.0 ** -21 * np.abs(wp) + 1e-44
    pn, wn = np.isnan(p), np.isnan(wp)
    if wn.any():
        # llama.cpp's p are NaN: its array is flagged sorted with an -inf logit first
        # (logit_bias banned the top entry after a sorting stage and no later stage sorted
        # again), so dist's maximum is -inf; or a kept logit is +inf (a huge logit over a
        # small temperature), so exp(inf - inf). moonlab gives the finite entries' softmax
        # in the first case, NaN in the second; the kept set, the logits and the draw are
        # compared above.
        KNOWN[case["cat"]] += 1
        return msg
    if not np.array_equal(pn, wn):
        # llama.cpp's p are NaN where exp overflows (a logit far above the entry its
        # array, flagged sorted, holds first: logit_bias after a sort)
        j = int(np.flatnonzero(pn != wn)[0])
        return f"probability of id {j}: {float(p[j])!r}, llama.cpp {float(wp[j])!r}" + (f"; {msg}" if msg else "")
    p, wp = np.where(pn, 0, p), np.where(wn, 0, wp)
    dp = np.abs(p.astype(np.float64) - wp)
    if np.any(dp > tol):
        j = int(np.argmax(dp - tol))
        return (f"probability of id {j}: {float(p[j])!r}, llama.cpp {float(wp[j])!r} "
                f"({int(np.sum(dp > tol))} ids beyond float precision)" + (f"; {msg}" if msg else ""))
    dpath = os.path.join(outdir, f"d{i}.npy")
    if os.path.exists(dpath):
        d = np.load(dpath).astype(np.float64)
        dd = np.abs(np.where(np.isnan(d), 0, d) - wp)
        if np.any(dd > tol):
            j = int(np.argmax(dd - tol))
            return f"chain:distribution at id {j}: {float(d[j])!r}, llama.cpp {float(wp[j])!r}" + (f"; {msg}" if msg else "")
    return msg


def compare_report(case, i, outdir, res):
    """sample.compare's llama.cpp engine: the kept ids and the distribution."""
    err = res.get(("E", i))
    want, _ = case["want"]
    if (want["logit"] == -np.inf).all():
        KNOWN[case["cat"]] += 1
        return None if err else "llama.cpp kept no finite logit and moonlab answered"
    if err:
        return f"moonlab raised: {err}"
    p = np.load(os.path.join(outdir, f"p{i}.npy"))
    ids = np.load(os.path.join(outdir, f"k{i}.npy"))
    v = len(case["row"])
    if np.isnan(want["p"]).any():
        KNOWN[case["cat"]] += 1  # llama.cpp's p are NaN (a +inf logit): see compare_case
        return None
    # report.ids lists the tokens of nonzero probability (llama.cpp's array may keep entries
    # whose float p underflows to 0)
    kept = want["id"][(want["logit"] != -np.inf) & ~(want["p"] == 0)]
    # a probability below float's smallest normal is 0 in llama.cpp's float p and may not be
    # in moonlab's double: such ids may be listed too
    tiny = set(want["id"][(want["logit"] != -np.inf) & (want["p"] == 0)].tolist())
    extra = set(ids.tolist()) - set(kept.tolist())
    if extra and extra <= tiny and all(p[j] < 2.0 ** -126 for j in extra):
        ids = np.array(sorted(set(ids.tolist()) - extra), dtype=np.int64)
    if sorted(ids.tolist()) != sorted(kept.tolist()):
        only_m = sorted(set(ids.tolist()) - set(kept.tolist()))[:8]
        only_l = sorted(set(kept.tolist()) - set(ids.tolist()))[:8]
        return f"ids {len(ids)}, llama.cpp kept {len(kept)}: only moonlab {only_m}, only llama.cpp {only_l}"
    wp = np.zeros(v)
    wp[want["id"]] = want["p"].astype(np.float64)
    dp = np.abs(p - wp)
    tol = 2.0 ** -21 * np.abs(wp) + 1e-44
    if np.any(dp > tol):
        j = int(np.argmax(dp - tol))
        return f"distribution at id {j}: {float(p[j])!r}, llama.cpp {float(wp[j])!r}"
    return None


def llama_uniforms(seed, n):
    """std::uniform_real_distribution<double>(0, 1) of std::mt19937(seed) as libstdc++ draws
    it (generate_canonical: two 32-bit outputs, (a + b * 2^32) / 2^64; numpy's legacy
    RandomState seeds MT19937 as std::mt19937 does and hands out its raw 32-bit outputs)."""
    raw = np.random.RandomState(seed).randint(0, 2**32, size=2 * n, dtype=np.uint32)
    out = []
    for k in range(n):
        u = (int(raw[2 * k]) + int(raw[2 * k + 1]) * 2**32) / 2**64
        out.append(u if u < 1 else math.nextafter(1.0, 0.0))
    return out


def lua_rng(case, i):
    return f"""
do
  local ok, err = pcall(function()
    local g = random.new({case["seed"]}, LL)
    local t = {{}}
    for k = 1, {case["steps"]} do t[k] = string.format('%a', g:uniform()) end
    io.write('Q {i} ', table.concat(t, ' '), '\\n')
  end)
  if not ok then io.write('E {i} ', (tostring(err):gsub('\\n', ' ')), '\\n') end
end"""


def compare_rng(case, i, res):
    err, got = res.get(("E", i)), res.get(("Q", i))
    if err or got is None:
        return f"moonlab raised: {err}"
    got = [float.fromhex(x) for x in got.split()]
    want = case["want"]
    if got != want:
        k = next(j for j in range(len(want)) if j >= len(got) or got[j] != want[j])
        return f"g:uniform() number {k + 1}: {got[k] if k < len(got) else None!r}, libstdc++ {want[k]!r}"
    return None


def compare_seq(case, i, res):
    err, got = res.get(("E", i)), res.get(("Q", i))
    want = case["want"]
    if case["dead_at"] is not None and (err or case["nan_at"] is not None):
        # at step dead_at llama.cpp's stages left no kept logit (xtc with threshold 0 on a
        # row with -inf entries; or an array flagged sorted with an -inf logit first, whose
        # NaN probabilities made mirostat keep that entry). A lone entry is drawn with p = 1
        # (moonlab's chain:sample too, unless it raises there); from several, llama.cpp
        # draws from NaN. The steps before must agree.
        KNOWN[case["cat"]] += 1
        got = [int(x) for x in (got or "").split()]
        upto = case["dead_at"] if err else case["nan_at"]
        if got[:upto] == want[:upto]:
            return None
        return f"llama.cpp kept nothing at step {case['dead_at']}: moonlab drew {got[:8]}..., llama.cpp {want[:8]}... ({err or 'no error'})"
    if err:
        return f"moonlab raised: {err}"
    if got is None:
        return "moonlab printed no tokens"
    got = [int(x) for x in got.split()]
    if case.get("replay") and got == want:
        r = res.get(("R", i))
        KNOWN["replayed"] = KNOWN.get("replayed", 0) + (r is not None)
        replayed = [int(x) for x in (r or "").split()]
        if replayed != want:
            k = next((j for j in range(len(want)) if j >= len(replayed) or replayed[j] != want[j]), 0)
            return f"sample.replay_logits: first difference at step {k}: {replayed[k:k + 6]}, llama.cpp {want[k:k + 6]}"
    if got != want:
        k = next(j for j in range(len(want)) if j >= len(got) or got[j] != want[j])
        return (f"first difference at step {k}: moonlab {got[k:k + 6]}, llama.cpp {want[k:k + 6]} "
                f"(row {case['row_of'][k]})")
    return None


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--moonlab", default=".build/debug/moonlab")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only", action="append", help="a category: " + ", ".join(CATS))
    ap.add_argument("--n", type=int, default=300, help="cases per category (seq: a third)")
    ap.add_argument("--batch", type=int, default=150)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--max-shown", type=int, default=12, help="differences shown per category")
    args = ap.parse_args()
    cats = args.only or CATS
    for c in cats:
        if c not in CATS:
            sys.exit(f"unknown category {c}; one of {', '.join(CATS)}")
    rng = np.random.default_rng(args.seed)
    work = tempfile.mkdtemp(prefix="llamacpp_diff_")
    indir, outdir = os.path.join(work, "in"), os.path.join(work, "out")
    os.makedirs(indir)
    os.makedirs(outdir)
    cases = []
    for cat in CATS:
        n = args.n if cat != "seq" else max(1, args.n // 3)
        if cat == "rng":
            made = [{"cat": "rng", "seed": rand_seed(rng), "steps": int(rng.choice([1, 2, 7, 50, 700]))}
                    for _ in range(n)]
        else:
            made = [make_seq(rng) if cat == "seq" else make_case(rng, cat) for _ in range(n)]
        if cat in cats:
            cases.extend(made)
    for i, c in enumerate(cases):
        if c["cat"] == "rng":
            c["want"] = llama_uniforms(c["seed"], c["steps"])
        elif c["cat"] == "seq":
            c["want"] = llama_seq(c)
            dt = np.float32 if c["rep"] == "f32" else np.float64
            if c["rep"] != "lua":
                np.save(os.path.join(indir, f"q{i}.npy"), c["rows"].astype(dt))
            if c.get("replay"):
                np.save(os.path.join(indir, f"o{i}.npy"), c["rows"][c["row_of"]].astype(dt))
        else:
            c["want"] = llama_case(c)
            dt = np.float32 if c["rep"].startswith("f32") else np.float64
            if c["rep"].endswith("view"):
                # the row is column 2 of a [V, 2] tensor (stride 2); column 1 is noise
                m = np.stack([np.full(len(c["row"]), 7.5), c["row"]], axis=1)
                np.save(os.path.join(indir, f"r{i}.npy"), m.astype(dt))
            elif c["rep"] != "lua":
                np.save(os.path.join(indir, f"r{i}.npy"), c["row"].astype(dt))
    diffs = {cat: [] for cat in CATS}
    counts = {cat: 0 for cat in CATS}
    crashed = 0
    for b in range(0, len(cases), args.batch):
        ids = range(b, min(b + args.batch, len(cases)))
        body = ["LL = {engine = 'llama.cpp'}"]
        for i in ids:
            c = cases[i]
            if c["cat"] == "rng":
                body.append(lua_rng(c, i))
            elif c["cat"] == "seq":
                body.append(lua_seq(c, i, indir, outdir))
            elif c["cat"] == "compare":
                body.append(lua_compare(c, i, indir, outdir))
            else:
                body.append(lua_case(c, i, indir, outdir))
        sp = os.path.join(work, f"batch{b}.lua")
        with open(sp, "w") as f:
            f.write("\n".join(body) + "\n")
        p = subprocess.run([args.moonlab, "run", sp], capture_output=True, text=True, timeout=3600)
        res = {}
        for line in p.stdout.splitlines():
            parts = line.split(" ", 2)
            if len(parts) >= 2 and parts[0] in ("E", "S", "Q", "R") and parts[1].isdigit():
                res[(parts[0], int(parts[1]))] = parts[2] if len(parts) > 2 else ""
        if p.returncode != 0:
            crashed += 1
            print(f"batch {b}: moonlab exited {p.returncode}: {p.stderr[-1500:]}")
        for i in ids:
            c = cases[i]
            counts[c["cat"]] += 1
            if p.returncode != 0 and ("E", i) not in res and ("S", i) not in res and ("Q", i) not in res:
                continue
            if c["cat"] == "rng":
                msg = compare_rng(c, i, res)
            elif c["cat"] == "seq":
                msg = compare_seq(c, i, res)
            elif c["cat"] == "compare":
                msg = compare_report(c, i, outdir, res)
            else:
                msg = compare_case(c, i, outdir, res)
            if msg:
                diffs[c["cat"]].append((i, msg))
    total = 0
    for cat in CATS:
        for i, msg in diffs[cat][: args.max_shown]:
            print(f"{describe(cases[i], i)}\n  {msg}\n{reproducer(cases[i], i, indir)}")
        total += len(diffs[cat])
    summary = ", ".join(f"{cat} {counts[cat]} ({len(diffs[cat])} differ, {KNOWN[cat]} known)"
                        for cat in CATS if counts[cat])
    if KNOWN.get("replayed"):
        summary += f" ({KNOWN['replayed']} sequences also through sample.replay_logits)"
    print(f"llama-cpp-python {L.__version__} (llama.cpp {LLAMA_COMMIT}), seed {args.seed}: {summary}; "
          f"{total} differences, {crashed} crashed batches, moonlab {args.moonlab}")
    if args.keep:
        print("kept", work)
    else:
        shutil.rmtree(work)
    sys.exit(1 if total or crashed else 0)


if __name__ == "__main__":
    main()
