#!/usr/bin/env python3
"""Random differential of moonlab's llama.cpp semantics against llama.cpp itself.

Where generate_llamacpp.py writes fixed fixtures, this draws new cases every run: rows of
random f64 logits (Gaussian, rounded decimals, heavy ties, -inf, wide scales; vocabularies
of 5 to 32,000), random chains of every llama.cpp sampler with random parameters, random
histories and seeds. Each case runs through llama.cpp's own samplers (llama-cpp-python's
low-level API, on the row as float32) and through `moonlab run` (the same row as f64, the
same stages with {semantics = "llama.cpp"}, random.new(seed, {engine = "llama.cpp"})), and
compares:
  - rows: the kept ids (finite logits after chain:apply), the drawn token, and each kept
    token's probability (chain:probs) against llama.cpp's dist `p`, to 1.5e-7 relative;
  - sequences: 25 steps of chain:sample with the history fed back (penalties, mirostat's mu),
    token for token.
Prints each disagreement and a count; exits 1 if any. Run by hand, never in CI:

    ~/.cache/moonlab/venv/bin/python Tests/AlignMathTests/Fixtures/differential_llamacpp.py \
        --moonlab .build/release/moonlab --seed 7 --cases 200 --sequences 40

(llama-cpp-python 0.3.36, as generate_llamacpp.py.) Logit-bias ids are kept inside the
vocabulary: llama.cpp ignores an id past it, moonlab refuses it with an error.
"""
import argparse
import math
import os
import random
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from generate_llamacpp import Chain  # noqa: E402

STEPS = 25


def rand_stage(R, n):
    k = R.choice(["top_k", "top_p", "min_p", "typical", "temperature", "temp_ext", "top_n_sigma", "xtc",
                  "penalties", "logit_bias"])
    mk = R.choice([0, 0, 1, 2, 5])
    if k == "top_k":
        return {"kind": k, "k": R.choice([1, 2, 3, 10, 40, 100, 1000])}
    if k == "top_p":
        return {"kind": k, "p": R.choice([0.1, 0.5, 0.8, 0.9, 0.95, 0.99, 1.0]), "min_keep": mk}
    if k == "min_p":
        return {"kind": k, "p": R.choice([0.0, 0.01, 0.05, 0.1, 0.3, 0.9]), "min_keep": mk}
    if k == "typical":
        return {"kind": k, "p": R.choice([0.2, 0.5, 0.9, 0.95]), "min_keep": mk}
    if k == "temperature":
        return {"kind": k, "t": R.choice([0.3, 0.7, 1.0, 1.3, 2.0])}
    if k == "temp_ext":
        return {"kind": "temperature", "t": R.choice([0.5, 0.8, 1.0]), "delta": R.choice([0.0, 0.3, 0.5]),
                "exponent": R.choice([1.0, 1.5])}
    if k == "top_n_sigma":
        return {"kind": k, "n": R.choice([0.5, 1.0, 2.0, 3.0])}
    if k == "xtc":
        return {"kind": k, "probability": R.choice([0.3, 0.5, 1.0]), "threshold": R.choice([0.01, 0.05, 0.1, 0.2]),
                "min_keep": mk}
    if k == "penalties":
        return {"kind": k, "last_n": R.choice([4, 16, 64]), "repetition": R.choice([1.0, 1.1, 1.3, 0.9]),
                "frequency": R.choice([0.0, 0.2, 0.5]), "presence": R.choice([0.0, 0.3])}
    return {"kind": "logit_bias", "bias": {str(R.randrange(min(n, 50))): R.choice([2.0, -1.5, 0.7, -100.0])
                                           for _ in range(3)}}


def rand_row(R, n):
    kind = R.choice(["normal", "decimals", "ties", "ninf", "scaled"])
    if kind == "normal":
        row = [R.gauss(0, 3) for _ in range(n)]
    elif kind == "decimals":
        row = [round(R.gauss(0, 2), 2) for _ in range(n)]
    elif kind == "ties":
        row = [float(R.randrange(-3, 4)) for _ in range(n)]
    elif kind == "ninf":
        row = [(-math.inf if R.random() < 0.3 else R.gauss(0, 2)) for _ in range(n)]
    else:
        row = [R.gauss(0, 1) * 20 for _ in range(n)]
    if all(v == -math.inf for v in row):
        row[0] = 0.0
    return row


def lua_stage(st):
    k, mk = st["kind"], st.get("min_keep", 0)
    sem = 'semantics = "llama.cpp"'
    mko = f", min_keep = {mk}" if mk else ""
    if k == "top_k":
        return f'sample.top_k({st["k"]}, {{{sem}}})'
    if k in ("top_p", "min_p", "typical"):
        return f'sample.{k}({st["p"]!r}, {{{sem}{mko}}})'
    if k == "temperature":
        if "delta" in st:
            return f'sample.temperature({st["t"]!r}, {{{sem}, delta = {st["delta"]!r}, exponent = {st["exponent"]!r}}})'
        return f'sample.temperature({st["t"]!r}, {{{sem}}})'
    if k == "top_n_sigma":
        return f'sample.top_n_sigma({st["n"]!r}, {{{sem}}})'
    if k == "xtc":
        return f'sample.xtc{{probability = {st["probability"]!r}, threshold = {st["threshold"]!r}{mko}, {sem}}}'
    if k == "penalties":
        return (f'sample.penalties{{repetition = {st["repetition"]!r}, frequency = {st["frequency"]!r}, '
                f'presence = {st["presence"]!r}, last_n = {st["last_n"]}, {sem}}}')
    if k == "mirostat":
        return (f'sample.mirostat{{tau = {st["tau"]!r}, eta = {st["eta"]!r}, version = {st.get("version", 2)}, '
                f'm = {st.get("m", 100)}, {sem}}}')
    if k == "logit_bias":
        items = ", ".join(f"[{int(t)}] = {b!r}" for t, b in st["bias"].items())
        return f"sample.logit_bias({{{items}}}, {{{sem}}})"
    raise ValueError(k)


def chain_lua(stages):
    return "sample.chain{" + ", ".join(lua_stage(s) for s in stages) + "}"


def row_cases(R, count, tmp):
    cases, lua = [], []
    for c in range(count):
        n = R.choice([5, 17, 100, 1000, 5000, 32000])
        row = rand_row(R, n)
        stages = [rand_stage(R, n) for _ in range(R.choice([1, 1, 2, 3, 4]))]
        seed = R.randrange(2**32 - 1)
        hist = [R.randrange(min(n, 60)) for _ in range(R.choice([0, 5, 20]))]
        ch = Chain(stages, n, seed)
        for t in hist:
            ch.accept(t)
        entries, selected = ch.apply([float(v) for v in np.array(row, dtype=np.float32)])
        ch.free()
        probs = {i: p for (i, logit, p) in entries if logit != -math.inf}
        path = os.path.join(tmp, f"row{c}.npy")
        np.save(path, np.array(row, dtype=np.float64))
        cases.append({"n": n, "stages": stages, "seed": seed, "kept": sorted(probs), "selected": selected,
                      "probs": probs})
        h = ", ".join(map(str, hist))
        lua.append(f'''do
  local ok, err = pcall(function()
    local x, hist = tensor.load("{path}"), {{{h}}}
    local function ll() return random.new({seed}, {{engine = "llama.cpp"}}) end
    local kept, ps = {{}}, {{}}
    local a = {chain_lua(stages)}:apply(x, {{history = hist, rng = ll()}})
    for i = 1, #a do if a[i] > -math.huge then kept[#kept + 1] = i - 1 end end
    local p = {chain_lua(stages)}:probs(x, {{history = hist, rng = ll()}})
    for _, k in ipairs(kept) do ps[#ps + 1] = string.format("%.9g", p[k + 1]) end
    local id = {chain_lua(stages)}:sample(x, ll(), {{history = hist}})
    out[#out + 1] = id .. " " .. table.concat(kept, ",") .. " " .. table.concat(ps, ",")
  end)
  if not ok then out[#out + 1] = "ERR " .. tostring(err) end
end''')
    return cases, lua


def sequence_cases(R, count, tmp):
    cases, lua = [], []
    for c in range(count):
        n = R.choice([20, 300, 3000])
        stages = [rand_stage(R, n) for _ in range(R.choice([0, 1, 2, 3]))]
        if R.random() < 0.35:
            stages.append(R.choice([
                {"kind": "mirostat", "tau": R.choice([2.0, 5.0]), "eta": R.choice([0.1, 0.3])},
                {"kind": "mirostat", "version": 1, "tau": R.choice([3.0, 5.0]), "eta": 0.1, "m": R.choice([8, 100])}]))
        seed = R.randrange(2**32 - 1)
        rows = [rand_row(R, n) for _ in range(STEPS)]
        ch = Chain(stages, n, seed)
        tokens = []
        for row in rows:
            _, sel = ch.apply([float(v) for v in np.array(row, dtype=np.float32)])
            ch.accept(sel)
            tokens.append(sel)
        ch.free()
        path = os.path.join(tmp, f"seq{c}.npy")
        np.save(path, np.array(rows, dtype=np.float64))
        cases.append({"n": n, "stages": stages, "seed": seed, "tokens": tokens})
        lua.append(f'''do
  local ok, err = pcall(function()
    local X, c = tensor.load("{path}"), {chain_lua(stages)}
    local g, toks = random.new({seed}, {{engine = "llama.cpp"}}), {{}}
    for t = 1, {STEPS} do toks[t] = c:sample(X[t], g, {{history = toks}}) end
    out[#out + 1] = table.concat(toks, ",")
  end)
  if not ok then out[#out + 1] = "ERR " .. tostring(err) end
end''')
    return cases, lua


def run_lua(moonlab, tmp, name, body):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write("local out = {}\n" + "\n".join(body) + '\nio.write(table.concat(out, "\\n"), "\\n")\n')
    res = subprocess.run([moonlab, "run", path], capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"moonlab run {path} failed:\n{res.stderr}")
    return res.stdout.rstrip("\n").split("\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--moonlab", default=".build/release/moonlab")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cases", type=int, default=100)
    ap.add_argument("--sequences", type=int, default=20)
    a = ap.parse_args()
    R = random.Random(a.seed)
    bad = 0
    with tempfile.TemporaryDirectory(prefix="moonlab-llamacpp-diff-") as tmp:
        cases, lua = row_cases(R, a.cases, tmp)
        for c, (case, line) in enumerate(zip(cases, run_lua(a.moonlab, tmp, "rows.lua", lua))):
            label = f"row case {c}: n={case['n']} seed={case['seed']} stages={case['stages']}"
            if line.startswith("ERR"):
                bad += 1
                print(f"{label}\n  {line}")
                continue
            sid, ks, ps = (line.split(" ") + ["", ""])[:3]
            kept = [int(v) for v in ks.split(",")] if ks else []
            if kept != case["kept"] or int(sid) != case["selected"]:
                bad += 1
                a_, b_ = set(kept), set(case["kept"])
                print(f"{label}\n  token ours {sid} llama.cpp {case['selected']}; kept ours {len(a_)} llama.cpp {len(b_)};"
                      f" only ours {sorted(a_ - b_)[:8]} only llama.cpp {sorted(b_ - a_)[:8]}")
                continue
            for i, p in zip(kept, [float(v) for v in ps.split(",")] if ps else []):
                want = case["probs"][i]
                if want > 1e-30 and abs(p - want) > 1.5e-7 * want:
                    bad += 1
                    print(f"{label}\n  p[{i}] ours {p!r} llama.cpp {want!r}")
                    break
        seqs, lua = sequence_cases(R, a.sequences, tmp)
        for c, (case, line) in enumerate(zip(seqs, run_lua(a.moonlab, tmp, "sequences.lua", lua))):
            want = ",".join(map(str, case["tokens"]))
            if line != want:
                bad += 1
                print(f"sequence {c}: n={case['n']} seed={case['seed']} stages={case['stages']}\n"
                      f"  ours      {line[:160]}\n  llama.cpp {want[:160]}")
    print(f"{bad} disagreements in {a.cases} rows and {a.sequences} sequences (seed {a.seed})")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
