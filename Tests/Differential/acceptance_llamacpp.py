#!/usr/bin/env python3
"""Blind acceptance check of issue 11 §5: moonlab's {semantics = "llama.cpp"} stages and
random.new(seed, {engine = "llama.cpp"}) against llama.cpp's own samplers.

Written from lua-api.md (sample section; random.new in the lab section) and the issue text,
without reading llamacpp_diff.py. llama.cpp runs through llama-cpp-python 0.3.36's low-level
API (llama.cpp commit 0c1e570, built with g++ 12.2; no model): llama_sampler_chain_init, the
llama_sampler_init_* stages, llama_sampler_accept, llama_sampler_apply on a
llama_token_data_array, then dist(seed) (or mirostat/greedy as the last stage).

Compared per case: the kept ids exactly (the entries llama.cpp leaves with a finite logit
against the finite entries of chain:apply), the probabilities after dist (its p) against
chain:probs to float32 precision (4e-7 relative, or 1e-44 absolute), and the token
chain:sample draws with random.new(seed, {engine = "llama.cpp"}) against dist's selected
token. Modes: "one" (one row), "draws" (the same row drawn N times in a row from one
generator, stage state such as mirostat's mu carried along), "seq" (a new row per step,
each drawn token accepted: llama_sampler_accept on llama.cpp's side, ctx.history on
moonlab's).

Run by hand (never in CI):
    swift build
    ~/.cache/moonlab/venv/bin/python Tests/Differential/acceptance_llamacpp.py --seed 1
    ~/.cache/moonlab/venv/bin/python Tests/Differential/acceptance_llamacpp.py --seed 3 --cases 600 --only seq -v
"""
import argparse
import ctypes
import math
import os
import random
import subprocess
import sys
import tempfile

import numpy as np
import llama_cpp as L

F32 = np.float32
TOL_REL = 4e-7
TOL_ABS = 1e-44


# ---------------------------------------------------------------- llama.cpp's side

def lsampler(st, n_vocab, seed):
    k = st["kind"]
    mk = st.get("min_keep", 0)
    if k == "top_k":
        return L.llama_sampler_init_top_k(st["k"])
    if k == "top_p":
        return L.llama_sampler_init_top_p(st["p"], mk)
    if k == "min_p":
        return L.llama_sampler_init_min_p(st["p"], mk)
    if k == "typical":
        return L.llama_sampler_init_typical(st["p"], mk)
    if k == "temp":
        return L.llama_sampler_init_temp(st["t"])
    if k == "temp_ext":
        return L.llama_sampler_init_temp_ext(st["t"], st["delta"], st["exponent"])
    if k == "top_n_sigma":
        return L.llama_sampler_init_top_n_sigma(st["n"])
    if k == "xtc":
        return L.llama_sampler_init_xtc(st["probability"], st["threshold"], mk, seed)
    if k == "penalties":
        return L.llama_sampler_init_penalties(n_vocab, st["last_n"], st["repetition"], st["frequency"],
                                              st["presence"])
    if k == "logit_bias":
        items = st["bias"]
        arr = (L.llama_logit_bias * len(items))()
        for j, (tok, b) in enumerate(items):
            arr[j].token = tok
            arr[j].bias = b
        return L.llama_sampler_init_logit_bias(n_vocab, len(items), arr)
    if k == "mirostat":
        if st["version"] == 1:
            return L.llama_sampler_init_mirostat(n_vocab, seed, st["tau"], st["eta"], st["m"])
        return L.llama_sampler_init_mirostat_v2(seed, st["tau"], st["eta"])
    if k == "greedy":
        return L.llama_sampler_init_greedy()
    raise ValueError(k)


class LChain:
    def __init__(self, stages, n_vocab, seed):
        self.ptr = L.llama_sampler_chain_init(L.llama_sampler_chain_default_params())
        for st in stages:
            L.llama_sampler_chain_add(self.ptr, lsampler(st, n_vocab, seed))
        if not stages or stages[-1]["kind"] not in ("mirostat", "greedy"):
            L.llama_sampler_chain_add(self.ptr, L.llama_sampler_init_dist(seed))

    def accept(self, tok):
        L.llama_sampler_accept(self.ptr, tok)

    def apply(self, row32):
        n = len(row32)
        data = (L.llama_token_data * n)()
        for i in range(n):
            data[i].id = i
            data[i].logit = float(row32[i])
            data[i].p = 0.0
        arr = L.llama_token_data_array(data=ctypes.cast(data, L.llama_token_data_p), size=n, selected=-1,
                                       sorted=False)
        L.llama_sampler_apply(self.ptr, ctypes.byref(arr))
        ent = [(arr.data[i].id, arr.data[i].logit, arr.data[i].p) for i in range(arr.size)]
        sel = ent[arr.selected][0] if 0 <= arr.selected < arr.size else -1
        return ent, sel

    def free(self):
        L.llama_sampler_free(self.ptr)


def run_llama(case):
    rows32 = [np.asarray(r, dtype=np.float64).astype(F32) for r in case["rows"]]
    V = len(rows32[0])
    ch = LChain(case["stages"], V, case["seed"])
    for t in case["history"]:
        ch.accept(t)
    out = {}
    if case["mode"] == "one":
        ent, sel = ch.apply(rows32[0])
        kept = sorted(i for (i, lg, p) in ent if lg != -math.inf)
        probs = {i: p for (i, lg, p) in ent if lg != -math.inf}
        if case["stages"] and case["stages"][-1]["kind"] == "mirostat":
            # After mirostat llama.cpp's p are softmax_impl's (a float sum, 2e-5 off at 32k
            # entries); std::discrete_distribution draws from p / sum(p) in double, which is
            # what chain:probs reports (a judgement call, see README.md).
            tot = math.fsum(probs.values())
            probs = {i: p / tot for i, p in probs.items()}
        out = {"kept": kept, "probs": probs, "tokens": [sel]}
    elif case["mode"] == "draws":
        toks = []
        for _ in range(case["steps"]):
            _, sel = ch.apply(rows32[0])
            toks.append(sel)
        out = {"tokens": toks}
    else:
        toks = []
        for t in range(case["steps"]):
            _, sel = ch.apply(rows32[t % len(rows32)])
            toks.append(sel)
            ch.accept(sel)
        out = {"tokens": toks}
    ch.free()
    return out


# ---------------------------------------------------------------- moonlab's side

def lua_num(x, as_int=False):
    if as_int and float(x).is_integer():
        return str(int(x))
    if x == math.inf:
        return "math.huge"
    if x == -math.inf:
        return "-math.huge"
    return repr(float(x))


def lua_stage(st, per_stage):
    k = st["kind"]
    sem = ', semantics = "llama.cpp"' if per_stage else ""
    opt1 = "{semantics = \"llama.cpp\"}" if per_stage else "nil"
    mk = st.get("min_keep")
    mko = f"min_keep = {mk}" if mk is not None else ""
    def opts(*parts):
        parts = [p for p in parts if p] + ([sem[2:]] if sem else [])
        return "{" + ", ".join(parts) + "}"
    if k == "top_k":
        return f"sample.top_k({st['k']}, {opt1})"
    if k in ("top_p", "min_p", "typical"):
        return f"sample.{k}({lua_num(st['p'])}, {opts(mko)})"
    if k == "temp":
        return f"sample.temperature({lua_num(st['t'])}, {opt1})"
    if k == "temp_ext":
        return (f"sample.temperature({lua_num(st['t'])}, "
                f"{opts('delta = ' + lua_num(st['delta']), 'exponent = ' + lua_num(st['exponent']))})")
    if k == "top_n_sigma":
        return f"sample.top_n_sigma({lua_num(st['n'])}, {opt1})"
    if k == "xtc":
        return "sample.xtc" + opts("probability = " + lua_num(st["probability"]),
                                   "threshold = " + lua_num(st["threshold"]), mko)
    if k == "penalties":
        return "sample.penalties" + opts("repetition = " + lua_num(st["repetition"]),
                                         "frequency = " + lua_num(st["frequency"]),
                                         "presence = " + lua_num(st["presence"]), f"last_n = {st['last_n']}")
    if k == "logit_bias":
        body = ", ".join(f"[{tok}] = {lua_num(b)}" for tok, b in st["bias"])
        return f"sample.logit_bias({{{body}}}, {opt1})"
    if k == "mirostat":
        return "sample.mirostat" + opts(f"tau = {lua_num(st['tau'])}", f"eta = {lua_num(st['eta'])}",
                                        f"version = {st['version']}", f"m = {st['m']}" if st["version"] == 1 else "")
    if k == "greedy":
        return f"sample.greedy({opt1})"
    raise ValueError(k)


LUA_PRELUDE = r"""
local function ids_of(a)
  local out = {}
  for i = 1, #a do if a[i] ~= -math.huge then out[#out + 1] = tostring(i - 1) end end
  return table.concat(out, ",")
end
local function probs_of(p, a)
  local out = {}
  for i = 1, #a do
    if a[i] ~= -math.huge then out[#out + 1] = string.format("%.9g", p[i])
    elseif p[i] ~= 0 then out[#out + 1] = "X" .. (i - 1) .. ":" .. string.format("%.9g", p[i]) end
  end
  return table.concat(out, ",")
end
local function copy(h) local o = {} for i = 1, #h do o[i] = h[i] end return o end
function RUN(name, mk, x, seed, mode, steps, hist, nrows)
  local ok, err = pcall(function()
    if mode == "one" then
      local a = mk():apply(x, {history = copy(hist), rng = random.new(seed, {engine = "llama.cpp"})})
      local p = mk():probs(x, {history = copy(hist), rng = random.new(seed, {engine = "llama.cpp"})})
      local g = random.new(seed, {engine = "llama.cpp"})
      local t = mk():sample(x, g, {history = copy(hist)})
      print("C\t" .. name .. "\tok\t" .. t .. "\t" .. ids_of(a) .. "\t" .. probs_of(p, a))
    else
      local c, g = mk(), random.new(seed, {engine = "llama.cpp"})
      local h = copy(hist)
      local toks = {}
      for s = 1, steps do
        local row = (nrows == 0) and x or x[(s - 1) % nrows + 1]
        local t = c:sample(row, g, {history = h})
        toks[#toks + 1] = tostring(t)
        if mode == "seq" then h[#h + 1] = t end
      end
      print("C\t" .. name .. "\tok\t" .. table.concat(toks, ",") .. "\t\t")
    end
  end)
  if not ok then print("C\t" .. name .. "\terr\t" .. tostring(err):gsub("[\t\n]", " ") .. "\t\t") end
end
"""


def lua_case(case, path):
    per_stage = case["form"] == "per_stage"
    stages = ", ".join(lua_stage(s, per_stage) for s in case["stages"])
    copt = "" if per_stage else ', {semantics = "llama.cpp"}'
    mk = f"function() return sample.chain({{{stages}}}{copt}) end"
    hist = "{" + ",".join(str(h) for h in case["history"]) + "}"
    nrows = len(case["rows"]) if case["mode"] == "seq" else 0
    if case["input"] == "array":
        x = "{" + ",".join(lua_num(v, case["kind"] == "integers") for v in case["rows"][0]) + "}"
    else:
        x = f'tensor.load("{path}")'
        if nrows == 0:
            x = x + "[1]"
    return f'RUN("{case["name"]}", {mk}, {x}, {case["seed"]}, "{case["mode"]}", {case.get("steps", 1)}, {hist}, {nrows})\n'


# ---------------------------------------------------------------- cases

def make_row(rng, V, kind):
    r = rng
    if kind == "normal":
        s = r.choice([0.5, 1, 2, 4, 8])
        row = [r.gauss(0, s) for _ in range(V)]
    elif kind == "ties":
        lv = r.choice([2, 3, 5, 9])
        step = r.choice([0.25, 0.5, 1.0, 1.5])
        row = [step * r.randrange(lv) for _ in range(V)]
    elif kind == "equal":
        c = r.choice([0.0, 1.0, -3.5, 17.25])
        row = [c] * V
    elif kind == "ninf":
        frac = r.choice([0.1, 0.5, 0.9])
        row = [(-math.inf if r.random() < frac else r.gauss(0, 2)) for _ in range(V)]
        if all(v == -math.inf for v in row):
            row[r.randrange(V)] = 0.5
    elif kind == "onefinite":
        row = [-math.inf] * V
        row[r.randrange(V)] = r.gauss(0, 3)
    elif kind == "wide":
        row = [r.uniform(-60, 60) for _ in range(V)]
    elif kind == "peaked":
        row = [r.gauss(0, 1) for _ in range(V)]
        for _ in range(r.randint(1, 4)):
            row[r.randrange(V)] = r.uniform(8, 20)
    elif kind == "close":
        row = [1.0 + r.randrange(8) * 2.0 ** -20 for _ in range(V)]
    elif kind == "big":
        row = [r.gauss(0, 1) * 1e4 for _ in range(V)]
    elif kind == "posinf":
        row = [r.gauss(0, 2) for _ in range(V)]
        row[r.randrange(V)] = math.inf
    elif kind == "integers":
        row = [float(r.randint(-3, 3)) for _ in range(V)]
    elif kind == "f64":
        row = [r.gauss(0, 3) + 1e-9 * r.random() for _ in range(V)]
    else:
        raise ValueError(kind)
    return row


ROW_KINDS = ["normal", "ties", "equal", "ninf", "onefinite", "wide", "peaked", "close", "big", "f64", "posinf",
             "integers"]


def rand_stage(r, kind, V):
    if kind == "top_k":
        return {"kind": "top_k", "k": r.choice([0, 1, 2, 3, 40, 128, 129, 200, V - 1, V, V + 5, -1, 1000])}
    if kind in ("top_p", "min_p", "typical"):
        p = r.choice([0.0, 1.0, 0.5, 0.9, 0.95, 0.05, 1e-6, 0.999, 0.3, 1.5, -0.1])
        st = {"kind": kind, "p": p}
        if r.random() < 0.6:
            st["min_keep"] = r.choice([0, 1, 2, 5, 50])
        return st
    if kind == "temp":
        return {"kind": "temp", "t": r.choice([0.0, -0.5, 0.8, 1.0, 1.5, 0.05, 1e-3, 3.0])}
    if kind == "temp_ext":
        return {"kind": "temp_ext", "t": r.choice([0.0, 0.8, 1.0, 0.3, 1.5, -1.0]),
                "delta": r.choice([0.0, 0.5, 1.0, 2.0, 0.1]), "exponent": r.choice([1.0, 0.5, 2.0, 0.0])}
    if kind == "top_n_sigma":
        return {"kind": "top_n_sigma", "n": r.choice([0.0, -1.0, 0.5, 1.0, 2.0, 3.0, 1e-3])}
    if kind == "xtc":
        st = {"kind": "xtc", "probability": r.choice([0.0, 1.0, 0.5, 0.9]),
              "threshold": r.choice([0.1, 0.05, 0.5, 0.51, 0.9, 0.0, 0.01, 0.3])}
        if r.random() < 0.6:
            st["min_keep"] = r.choice([0, 1, 2, 5])
        return st
    if kind == "penalties":
        return {"kind": "penalties", "last_n": r.choice([0, 1, 3, 8, 64, 200]),
                "repetition": r.choice([1.0, 1.1, 1.5, 0.8, 2.0]), "frequency": r.choice([0.0, 0.1, 0.5, -0.3]),
                "presence": r.choice([0.0, 0.2, 1.0, -0.5])}
    if kind == "logit_bias":
        n = r.randint(1, 5)
        items = {}
        for _ in range(n):
            tok = r.randrange(V) if r.random() < 0.85 else r.choice([V, V + 3, -1])
            items[tok] = r.choice([-math.inf, 2.5, -1.25, 10.0, 0.1, -30.0, 100.0])
        return {"kind": "logit_bias", "bias": sorted(items.items())}
    if kind == "mirostat":
        v = r.choice([1, 2])
        return {"kind": "mirostat", "version": v, "tau": r.choice([0.0, 0.5, 3.0, 5.0, 10.0]),
                "eta": r.choice([0.0, 0.1, 0.5, 1.0]), "m": r.choice([1, 2, 10, 100, 1000])}
    if kind == "greedy":
        return {"kind": "greedy"}
    raise ValueError(kind)


ALONE = ["top_k", "top_p", "min_p", "typical", "temp", "temp_ext", "top_n_sigma", "xtc", "penalties",
         "logit_bias", "mirostat", "greedy"]
# common_sampler's default order (common/common.h, samplers): penalties, dry, top_n_sigma,
# top_k, typical_p, top_p, min_p, xtc, temperature; logit_bias goes first.
DEFAULT_ORDER = ["logit_bias", "penalties", "top_n_sigma", "top_k", "typical", "top_p", "min_p", "xtc", "temp_ext"]


def rand_V(r, big_ok=True):
    vs = [1, 2, 3, 5, 8, 17, 64, 127, 128, 129, 200, 256, 257, 1000, 1024, 1025, 3000]
    if big_ok:
        vs += [5000, 32000, 50000]
    return r.choice(vs)


def gen_cases(seed, n_cases, only):
    r = random.Random(seed)
    cases = []
    cats = ["alone", "default", "draws", "seq", "mix"]
    for i in range(n_cases):
        cat = cats[i % len(cats)]
        if only and cat not in only:
            continue
        big_ok = cat in ("alone", "default") or r.random() < 0.15
        V = rand_V(r, big_ok)
        kind = r.choice(ROW_KINDS)
        if cat == "alone":
            stages = [rand_stage(r, r.choice(ALONE), V)]
        elif cat == "default":
            stages = []
            for k in DEFAULT_ORDER:
                if r.random() < (0.8 if k in ("top_k", "top_p", "min_p", "temp_ext") else 0.35):
                    stages.append(rand_stage(r, k, V))
            if r.random() < 0.15:
                stages.append(rand_stage(r, r.choice(["mirostat", "greedy"]), V))
        elif cat == "mix":
            # any order, stages repeated, greedy or temperature anywhere
            pool = ALONE[:-2] + ["greedy", "temp", "temp_ext"]
            stages = [rand_stage(r, r.choice(pool), V) for _ in range(r.randint(2, 5))]
            if r.random() < 0.2:
                stages.append(rand_stage(r, "mirostat", V))
        elif cat == "draws":
            stages = [] if r.random() < 0.4 else [rand_stage(r, r.choice(ALONE), V)]
        else:
            stages = []
            for k in DEFAULT_ORDER:
                if r.random() < 0.4:
                    stages.append(rand_stage(r, k, V))
            if r.random() < 0.3:
                stages.append(rand_stage(r, "mirostat", V))
        mode = {"alone": "one", "default": "one", "draws": "draws", "seq": "seq",
                "mix": r.choice(["one", "one", "seq"])}[cat]
        nrows = 1 if mode != "seq" else r.choice([1, 3, 10])
        rows = [make_row(r, V, kind) for _ in range(nrows)]
        hist_len = r.choice([0, 0, 1, 5, 30, 100, 300])
        history = [r.randrange(V) if r.random() < 0.95 else r.choice([V, V + 7]) for _ in range(hist_len)]
        seed_ll = r.choice([0, 1, 42, 1234, 2 ** 31, 2 ** 32 - 2, r.randrange(2 ** 32 - 1)])
        steps = r.choice([20, 100, 1000]) if mode != "one" else 1
        if V >= 5000 and steps > 100:
            steps = 100
        dtype = "f64" if kind == "f64" or r.random() < 0.5 else "f32"
        inp = "array" if (V <= 300 and mode != "seq" and r.random() < 0.3) else "npy"
        cases.append({"name": f"{cat}{i}", "cat": cat, "rows": rows, "stages": stages, "seed": seed_ll,
                      "history": history, "mode": mode, "steps": steps, "form": r.choice(["per_stage", "chain"]),
                      "dtype": dtype, "input": inp, "kind": kind})
    return cases


# ---------------------------------------------------------------- compare

def parse_floats(s):
    return [float(v) for v in s.split(",")] if s else []


def compare(case, ref, got):
    """Returns a list of difference strings."""
    status, tokens, ids, probs = got
    if status != "ok":
        if case["mode"] == "one" and not ref["kept"] and "every entry -inf" in tokens:
            return []  # llama.cpp's dist draws from NaN there; moonlab raises (README-llamacpp.md, 14)
        return [f"moonlab error: {tokens}"]
    diffs = []
    mtoks = [int(t) for t in tokens.split(",")] if tokens else []
    greedy_last = bool(case["stages"]) and case["stages"][-1]["kind"] == "greedy"
    if case["mode"] == "one" and not greedy_last:
        # llama.cpp's greedy sampler only selects (it removes nothing and leaves p alone);
        # moonlab's keeps the one token: compared by the token alone.
        kept = [int(v) for v in ids.split(",")] if ids else []
        if kept != ref["kept"]:
            a, b = set(kept), set(ref["kept"])
            diffs.append(f"kept: moonlab {len(kept)} llama.cpp {len(ref['kept'])}; only moonlab "
                         f"{sorted(a - b)[:8]} only llama.cpp {sorted(b - a)[:8]}")
        else:
            ps = probs.split(",") if probs else []
            stray = [p for p in ps if p.startswith("X")]
            if stray:
                diffs.append(f"probability on removed tokens: {stray[:4]}")
            ps = [float(p) for p in ps if not p.startswith("X")]
            worst = None
            for i, pm in zip(kept, ps):
                pr = ref["probs"][i]
                if not math.isfinite(pr):
                    continue
                err = abs(pm - pr)
                if err > TOL_REL * abs(pr) + TOL_ABS and (worst is None or err / max(abs(pr), 1e-300) > worst[0]):
                    worst = (err / max(abs(pr), 1e-300), i, pm, pr)
            if worst:
                diffs.append(f"probs: id {worst[1]} moonlab {worst[2]!r} llama.cpp {worst[3]!r} (rel {worst[0]:.2e})")
    if mtoks != ref["tokens"]:
        k = next((j for j, (a, b) in enumerate(zip(mtoks, ref["tokens"])) if a != b), min(len(mtoks), len(ref["tokens"])))
        diffs.append(f"tokens differ from step {k + 1} of {len(ref['tokens'])}: moonlab "
                     f"{mtoks[k:k + 5]} llama.cpp {ref['tokens'][k:k + 5]}")
    return diffs


def describe(case):
    V = len(case["rows"][0])
    return (f"V={V} rows={case['kind']} dtype={case['dtype']} input={case['input']} form={case['form']} "
            f"seed={case['seed']} mode={case['mode']} steps={case['steps']} hist={len(case['history'])} "
            f"stages={case['stages']}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cases", type=int, default=400)
    ap.add_argument("--only", action="append", default=[])
    ap.add_argument("--moonlab", default=os.path.join(os.path.dirname(__file__), "..", "..", ".build", "debug", "moonlab"))
    ap.add_argument("-v", action="store_true")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--form", choices=["per_stage", "chain"], help="only this way of giving the semantics")
    args = ap.parse_args()
    cases = gen_cases(args.seed, args.cases, set(args.only))
    if args.form:
        for c in cases:
            c["form"] = args.form
    tmp = tempfile.mkdtemp(prefix="acc_llamacpp_")
    script = [LUA_PRELUDE]
    refs = {}
    for c in cases:
        path = os.path.join(tmp, c["name"] + ".npy")
        if c["input"] == "npy":
            arr = np.asarray(c["rows"], dtype=np.float64)
            np.save(path, arr.astype(np.float32) if c["dtype"] == "f32" else arr)
        script.append(lua_case(c, path))
        refs[c["name"]] = run_llama(c)
    lua = os.path.join(tmp, "run.lua")
    with open(lua, "w") as f:
        f.write("".join(script))
    proc = subprocess.run([args.moonlab, "run", lua], capture_output=True, text=True)
    got = {}
    for line in proc.stdout.splitlines():
        if line.startswith("C\t"):
            parts = line.split("\t")
            got[parts[1]] = (parts[2], parts[3], parts[4] if len(parts) > 4 else "", parts[5] if len(parts) > 5 else "")
    if proc.returncode != 0:
        print("moonlab exited", proc.returncode, proc.stderr[-2000:])
    nbad = 0
    bycat = {}
    for c in cases:
        g = got.get(c["name"])
        d = ["missing (crash?)"] if g is None else compare(c, refs[c["name"]], g)
        tot, bad = bycat.get(c["cat"], (0, 0))
        bycat[c["cat"]] = (tot + 1, bad + (1 if d else 0))
        if d:
            nbad += 1
            print(f"DIFF {c['name']}: {'; '.join(d)}\n    {describe(c)}")
        elif args.v:
            print(f"ok {c['name']}")
    for cat, (tot, bad) in sorted(bycat.items()):
        print(f"{cat}: {tot - bad}/{tot} agree")
    print(f"seed {args.seed}: {len(cases) - nbad}/{len(cases)} cases agree")
    if not args.keep:
        import shutil
        shutil.rmtree(tmp)
    else:
        print("kept", tmp)
    sys.exit(1 if nbad else 0)


if __name__ == "__main__":
    main()
