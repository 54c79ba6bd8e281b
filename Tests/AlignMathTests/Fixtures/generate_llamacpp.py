#!/usr/bin/env python3
"""llama.cpp's own samplers, run through llama-cpp-python's low-level API, on generated
rows: writes llamacpp_reference.json next to this file, which SamplingLlamaCppTests
compares moonlab's {semantics = "llama.cpp"} stages and its llama.cpp generator against.

Run by hand, never in CI (it needs llama-cpp-python built from source; no model):
    ~/.cache/moonlab/venv/bin/python Tests/AlignMathTests/Fixtures/generate_llamacpp.py
(pip install 'llama-cpp-python==0.3.36': llama.cpp commit 0c1e570, October 2026, built
with g++ 12.2 on Debian 12; its std::sort/partial_sort and std::mt19937 are libstdc++'s.)

Rows are not stored: each is rebuilt from a small spec by integer arithmetic (SplitMix64;
every value k * 2^e is exact in float32), which SamplingLlamaCppTests repeats in Swift.
Per case the file keeps what llama.cpp left in its array after the stages and a final
dist sampler: the number of entries with a finite logit, an FNV-1a hash of their ids in
array order, the first 32 of them with their probabilities (dist's normalised p), a
checksum of all probabilities, and the token dist drew. Sequences record the tokens a
chain draws over many steps (penalties fed through llama_sampler_accept).
"""
import ctypes
import json
import math
import os
import sys

import llama_cpp as L

M64 = (1 << 64) - 1
HEAD = 32


def splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & M64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return state, z ^ (z >> 31)


def make_row(spec):
    """n values: a sum of `terms` uniforms of `bits` bits, centred, times 2^(scale - bits);
    `ninf` per 1024 set to -inf; `spikes` ids lifted to 8, 7.5, ...; all exact in float32."""
    n, s = spec["n"], spec["seed"]
    bits, terms, scale = spec.get("bits", 10), spec.get("terms", 4), spec.get("scale", 1)
    ninf, spikes, offset = spec.get("ninf", 0), spec.get("spikes", 0), spec.get("offset", 0)
    unit = 2.0 ** (scale - bits)
    out = []
    for _ in range(n):
        acc = 0
        for _ in range(terms):
            s, z = splitmix64(s)
            acc += z >> (64 - bits)
        k = acc - terms * (1 << (bits - 1)) + offset
        s, z = splitmix64(s)
        out.append(-math.inf if (z >> 54) < ninf else k * unit)
    for j in range(spikes):
        s, z = splitmix64(s)
        i = z % n
        if out[i] != -math.inf:
            out[i] = 8.0 - 0.5 * j
    return out


def fnv1a(ids):
    h = 0xCBF29CE484222325
    for i in ids:
        for b in int(i).to_bytes(4, "little", signed=True):
            h = ((h ^ b) * 0x100000001B3) & M64
    return h


def weight(i):
    return ((i * 2654435761) % 1000) / 1000.0


def sampler(st, n_vocab, seed):
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
    if k == "temperature":
        if "delta" in st:
            return L.llama_sampler_init_temp_ext(st["t"], st["delta"], st.get("exponent", 1.0))
        return L.llama_sampler_init_temp(st["t"])
    if k == "top_n_sigma":
        return L.llama_sampler_init_top_n_sigma(st["n"])
    if k == "xtc":
        return L.llama_sampler_init_xtc(st["probability"], st["threshold"], mk, seed)
    if k == "penalties":
        return L.llama_sampler_init_penalties(n_vocab, st["last_n"], st["repetition"], st["frequency"], st["presence"])
    if k == "logit_bias":
        items = sorted(st["bias"].items(), key=lambda kv: int(kv[0]))
        arr = (L.llama_logit_bias * len(items))()
        for j, (tok, b) in enumerate(items):
            arr[j].token = int(tok)
            arr[j].bias = float(b)
        return L.llama_sampler_init_logit_bias(n_vocab, len(items), arr)
    if k == "mirostat":
        if st.get("version", 2) == 1:
            return L.llama_sampler_init_mirostat(n_vocab, seed, st["tau"], st["eta"], st.get("m", 100))
        return L.llama_sampler_init_mirostat_v2(seed, st["tau"], st["eta"])
    if k == "greedy":
        return L.llama_sampler_init_greedy()
    raise ValueError(k)


class Chain:
    """A llama.cpp sampler chain: the stages, then dist(seed) unless mirostat ends it."""

    def __init__(self, stages, n_vocab, seed):
        self.ptr = L.llama_sampler_chain_init(L.llama_sampler_chain_default_params())
        for st in stages:
            L.llama_sampler_chain_add(self.ptr, sampler(st, n_vocab, seed))
        if not stages or stages[-1]["kind"] not in ("mirostat", "greedy"):
            L.llama_sampler_chain_add(self.ptr, L.llama_sampler_init_dist(seed))

    def accept(self, token):
        L.llama_sampler_accept(self.ptr, token)

    def apply(self, row):
        n = len(row)
        data = (L.llama_token_data * n)()
        for i, v in enumerate(row):
            data[i].id = i
            data[i].logit = v
            data[i].p = 0.0
        arr = L.llama_token_data_array(data=ctypes.cast(data, L.llama_token_data_p), size=n, selected=-1, sorted=False)
        L.llama_sampler_apply(self.ptr, ctypes.byref(arr))
        entries = [(arr.data[i].id, arr.data[i].logit, arr.data[i].p) for i in range(arr.size)]
        selected = entries[arr.selected][0] if 0 <= arr.selected < arr.size else -1
        return entries, selected

    def free(self):
        L.llama_sampler_free(self.ptr)


def record(name, row_spec, stages, seed, history=()):
    row = make_row(row_spec)
    chain = Chain(stages, len(row), seed)
    for t in history:
        chain.accept(t)
    entries, selected = chain.apply(row)
    chain.free()
    kept = [(i, p) for (i, logit, p) in entries if logit != -math.inf]
    ids = [i for i, _ in kept]
    check = sum(p * weight(i) for i, p in kept)
    # Probabilities are null where llama.cpp's are not finite (logits beyond the bucket
    # sort's int range end up misordered, and dist's exp overflows: see the README).
    return {
        "name": name, "row": row_spec, "stages": stages, "seed": seed, "history": list(history),
        "count": len(ids), "hash": str(fnv1a(ids)),
        "head": ids[:HEAD], "head_p": [float("%.9g" % p) if math.isfinite(p) else None for _, p in kept[:HEAD]],
        "p_check": check if math.isfinite(check) else None, "selected": selected,
    }


def sequence(name, row_spec, stages, seed, steps):
    """The tokens drawn over `steps` rows (row seed + step), each accepted into the chain."""
    chain = Chain(stages, row_spec["n"], seed)
    tokens = []
    for t in range(steps):
        spec = dict(row_spec, seed=row_spec["seed"] + t)
        _, selected = chain.apply(make_row(spec))
        chain.accept(selected)
        tokens.append(selected)
    chain.free()
    return {"name": name, "row": row_spec, "stages": stages, "seed": seed, "tokens": tokens}


ROWS = {
    "ties12": {"n": 12, "seed": 1, "bits": 2, "terms": 1, "scale": 2},
    "small": {"n": 50, "seed": 2, "bits": 10, "terms": 4, "scale": 2},
    "flat": {"n": 40, "seed": 3, "bits": 1, "terms": 1, "scale": 1},
    "ninf": {"n": 300, "seed": 4, "bits": 8, "terms": 3, "scale": 2, "ninf": 300},
    "ties1k": {"n": 1000, "seed": 5, "bits": 3, "terms": 2, "scale": 2, "spikes": 3},
    "mid": {"n": 3000, "seed": 6, "bits": 10, "terms": 4, "scale": 3, "spikes": 5},
    "wide": {"n": 5000, "seed": 7, "bits": 12, "terms": 2, "scale": 6, "ninf": 50},
    "peaked": {"n": 5000, "seed": 8, "bits": 10, "terms": 4, "scale": 1, "spikes": 12},
    "huge": {"n": 600, "seed": 9, "bits": 10, "terms": 1, "scale": 31},
    "v32k": {"n": 32000, "seed": 10, "bits": 10, "terms": 4, "scale": 3, "spikes": 20},
    "v50k": {"n": 50000, "seed": 11, "bits": 6, "terms": 3, "scale": 3, "spikes": 8, "ninf": 20},
}

STAGES = [
    ("top_k1", [{"kind": "top_k", "k": 1}]),
    ("top_k5", [{"kind": "top_k", "k": 5}]),
    ("top_k40", [{"kind": "top_k", "k": 40}]),
    ("top_k200", [{"kind": "top_k", "k": 200}]),
    ("top_k2000", [{"kind": "top_k", "k": 2000}]),
    ("top_p05", [{"kind": "top_p", "p": 0.5}]),
    ("top_p09", [{"kind": "top_p", "p": 0.9}]),
    ("top_p095_mk5", [{"kind": "top_p", "p": 0.95, "min_keep": 5}]),
    ("top_p0999", [{"kind": "top_p", "p": 0.999}]),
    ("min_p005", [{"kind": "min_p", "p": 0.05}]),
    ("min_p03_mk3", [{"kind": "min_p", "p": 0.3, "min_keep": 3}]),
    ("min_p099_mk50", [{"kind": "min_p", "p": 0.99, "min_keep": 50}]),
    ("typical05", [{"kind": "typical", "p": 0.5}]),
    ("typical09_mk2", [{"kind": "typical", "p": 0.9, "min_keep": 2}]),
    ("temp07", [{"kind": "temperature", "t": 0.7}]),
    ("temp0", [{"kind": "temperature", "t": 0.0}]),
    ("top_n_sigma1", [{"kind": "top_n_sigma", "n": 1.0}]),
    ("top_n_sigma25", [{"kind": "top_n_sigma", "n": 2.5}]),
    ("xtc", [{"kind": "xtc", "probability": 1.0, "threshold": 0.05}]),
    ("xtc_mk3", [{"kind": "xtc", "probability": 0.6, "threshold": 0.02, "min_keep": 3}]),
    ("penalties", [{"kind": "penalties", "last_n": 64, "repetition": 1.3, "frequency": 0.4, "presence": 0.25}]),
    ("penalties_last4", [{"kind": "penalties", "last_n": 4, "repetition": 0.8, "frequency": 0.0, "presence": 1.5}]),
    ("logit_bias", [{"kind": "logit_bias", "bias": {"0": 2.5, "3": -1.25, "7": "-inf", "11": 0.1}}]),
    ("mirostat2", [{"kind": "mirostat", "tau": 3.0, "eta": 0.1}]),
    ("mirostat2_low", [{"kind": "mirostat", "tau": 0.5, "eta": 0.2}]),
    ("mirostat1", [{"kind": "mirostat", "version": 1, "tau": 4.0, "eta": 0.1}]),
    ("mirostat1_m8", [{"kind": "temperature", "t": 0.7}, {"kind": "mirostat", "version": 1, "tau": 2.0, "eta": 0.3, "m": 8}]),
    ("greedy", [{"kind": "greedy"}]),
    ("top_k_greedy", [{"kind": "top_k", "k": 40}, {"kind": "greedy"}]),
    ("dyntemp", [{"kind": "temperature", "t": 0.9, "delta": 0.5, "exponent": 1.0}]),
    ("dyntemp_top_k", [{"kind": "top_k", "k": 50}, {"kind": "temperature", "t": 1.0, "delta": 1.0, "exponent": 2.0}]),
    # llama.cpp's default chain (common_sampler with default params): top_k 40, top_p 0.95,
    # min_p 0.05, temp_ext(0.8, 0, 1) (= temp 0.8), dist; the neutral samplers are empty.
    ("default", [{"kind": "top_k", "k": 40}, {"kind": "top_p", "p": 0.95}, {"kind": "min_p", "p": 0.05},
                 {"kind": "temperature", "t": 0.8, "delta": 0.0, "exponent": 1.0}]),
    ("default_pen", [{"kind": "penalties", "last_n": 64, "repetition": 1.1, "frequency": 0.1, "presence": 0.1},
                     {"kind": "top_k", "k": 40}, {"kind": "typical", "p": 0.9}, {"kind": "top_p", "p": 0.95},
                     {"kind": "min_p", "p": 0.05}, {"kind": "xtc", "probability": 0.5, "threshold": 0.1},
                     {"kind": "temperature", "t": 0.8}]),
    ("sigma_chain", [{"kind": "top_n_sigma", "n": 1.5}, {"kind": "top_k", "k": 100}, {"kind": "top_p", "p": 0.9},
                     {"kind": "temperature", "t": 1.2}]),
    ("no_top_k", [{"kind": "top_p", "p": 0.9}, {"kind": "min_p", "p": 0.02}, {"kind": "temperature", "t": 0.9}]),
    ("bias_then_sorted", [{"kind": "top_k", "k": 20}, {"kind": "logit_bias", "bias": {"5": 30.0}},
                          {"kind": "min_p", "p": 0.1}]),
    # Found by Tests/Differential/llamacpp_diff.py: penalties with an empty history still flag
    # the array unsorted (the next sorting stage sorts again and moves ties; dist takes the
    # true maximum), and dist after logit_bias on a sorted array takes the first entry's
    # logit as its maximum.
    ("pen_nohist_resort", [{"kind": "temperature", "t": 1.3, "delta": 0.8, "exponent": 0.5},
                           {"kind": "penalties", "last_n": 16, "repetition": 0.8, "frequency": 0.5, "presence": 0.0},
                           {"kind": "top_k", "k": 30}], []),
    ("bias_sorted_max", [{"kind": "top_k", "k": 40}, {"kind": "logit_bias", "bias": {"0": 45.0, "3": -1.5}}]),
    ("bias_pen_nohist", [{"kind": "top_k", "k": 40}, {"kind": "logit_bias", "bias": {"0": 45.0}},
                         {"kind": "penalties", "last_n": 64, "repetition": 1.3, "frequency": 0.0, "presence": 0.0}], []),
]

HISTORY = [3, 7, 7, 1, 0, 11, 3, 3, 5, 9, 2, 7]


def main():
    out = {"llama_cpp_python": L.__version__, "llama_cpp_commit": "0c1e57098bba43ac29e6e3b677cdceebdd22334f",
           "cases": [], "sequences": []}
    seed = 1000
    for entry in STAGES:
        sname, stages = entry[0], entry[1]
        fixed_hist = entry[2] if len(entry) > 2 else None
        for rname, spec in ROWS.items():
            if spec["n"] > 5000 and sname not in ("top_k40", "top_k2000", "top_p09", "top_p0999", "min_p005",
                                                   "typical05", "top_n_sigma1", "xtc", "default", "default_pen",
                                                   "no_top_k", "penalties", "temp07"):
                continue
            seed += 1
            hist = [h % spec["n"] for h in HISTORY] if any(s["kind"] == "penalties" for s in stages) else []
            if fixed_hist is not None:
                hist = fixed_hist
            out["cases"].append(record(f"{sname}/{rname}", spec, stages, seed, hist))
    defaults = {e[0]: e[1] for e in STAGES}
    seqs = [
        ("dist_only", {"n": 1000, "seed": 100, "bits": 10, "terms": 4, "scale": 2}, [], 42, 400),
        ("dist_ties", {"n": 64, "seed": 200, "bits": 2, "terms": 1, "scale": 1}, [], 7, 300),
        ("default_32k", {"n": 32000, "seed": 300, "bits": 10, "terms": 4, "scale": 3, "spikes": 20},
         defaults["default"], 1234, 60),
        ("default_pen_5k", {"n": 5000, "seed": 400, "bits": 8, "terms": 3, "scale": 3, "spikes": 6},
         defaults["default_pen"], 99, 200),
        ("ties_top_k", {"n": 2000, "seed": 500, "bits": 3, "terms": 2, "scale": 2, "spikes": 2},
         [{"kind": "top_k", "k": 40}, {"kind": "temperature", "t": 1.5}], 5, 200),
        ("xtc_seq", {"n": 500, "seed": 600, "bits": 10, "terms": 4, "scale": 3, "spikes": 4},
         [{"kind": "xtc", "probability": 0.5, "threshold": 0.05}, {"kind": "temperature", "t": 0.9}], 31337, 300),
        ("mirostat2_seq", {"n": 3000, "seed": 700, "bits": 10, "terms": 4, "scale": 3, "spikes": 10},
         [{"kind": "temperature", "t": 0.8}, {"kind": "mirostat", "tau": 5.0, "eta": 0.1}], 2024, 200),
        ("sigma_seq_ninf", {"n": 4000, "seed": 800, "bits": 9, "terms": 3, "scale": 3, "ninf": 100},
         defaults["sigma_chain"], 8, 150),
        ("penalties_all", {"n": 300, "seed": 900, "bits": 10, "terms": 4, "scale": 2},
         [{"kind": "penalties", "last_n": 300, "repetition": 1.5, "frequency": 0.2, "presence": 0.3},
          {"kind": "top_k", "k": 10}], 77, 250),
        ("mirostat1_seq", {"n": 2000, "seed": 1000, "bits": 10, "terms": 4, "scale": 3, "spikes": 10},
         [{"kind": "temperature", "t": 0.9}, {"kind": "mirostat", "version": 1, "tau": 4.0, "eta": 0.1}], 4242, 200),
        ("greedy_xtc_seq", {"n": 400, "seed": 1100, "bits": 4, "terms": 2, "scale": 2, "spikes": 3},
         [{"kind": "xtc", "probability": 0.7, "threshold": 0.01}, {"kind": "top_k", "k": 30}, {"kind": "greedy"}], 55, 150),
        ("dyntemp_seq", {"n": 3000, "seed": 1200, "bits": 10, "terms": 4, "scale": 3, "spikes": 8},
         [{"kind": "top_k", "k": 60}, {"kind": "temperature", "t": 0.8, "delta": 0.4, "exponent": 1.5}], 606, 200),
        # Two XTC samplers: each owns an mt19937 seeded with the chain's seed, so both draw
        # the same chance at each step (not the first and second numbers of one stream).
        ("xtc_twice_seq", {"n": 800, "seed": 1300, "bits": 10, "terms": 4, "scale": 3, "spikes": 6},
         [{"kind": "xtc", "probability": 0.6, "threshold": 0.05}, {"kind": "top_k", "k": 50},
          {"kind": "xtc", "probability": 0.4, "threshold": 0.02, "min_keep": 2}, {"kind": "temperature", "t": 1.1}], 8080, 200),
        # The penalties unflag the sorted array even before any token is accepted (step 0).
        ("pen_unsort_mirostat", {"n": 64, "seed": 1400, "bits": 2, "terms": 1, "scale": 1, "ninf": 400},
         [{"kind": "temperature", "t": 1.368, "delta": 0.852, "exponent": 0.5},
          {"kind": "penalties", "last_n": 16, "repetition": 0.8, "frequency": 0.5, "presence": 0.0},
          {"kind": "mirostat", "tau": 3.0, "eta": 0.3}], 920332855, 40),
    ]
    for name, spec, stages, s, steps in seqs:
        out["sequences"].append(sequence(name, spec, stages, s, steps))
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "llamacpp_reference.json")
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"), allow_nan=False)
        f.write("\n")
    print(f"{len(out['cases'])} cases, {len(out['sequences'])} sequences -> {path} "
          f"({os.path.getsize(path)} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
