#!/usr/bin/env python3
"""Reference values for moonlab's Random and Sampling tests (run once, output committed).

    python3 Tests/AlignMathTests/Fixtures/generate_sampling.py

Writes random_xoshiro.json and sampling_reference.json beside this file.

The HF warpers are re-implemented line by line in numpy from huggingface/transformers,
src/transformers/generation/logits_process.py (TemperatureLogitsWarper.__call__,
_apply_penalty / RepetitionPenaltyLogitsProcessor.__call__, TopPLogitsWarper.__call__,
TopKLogitsWarper.__call__, MinPLogitsWarper.__call__, TypicalLogitsWarper.__call__,
EpsilonLogitsWarper.__call__, EtaLogitsWarper.__call__); torch.sort is taken as stable
(np.argsort(kind="stable")), torch.topk(...)[0][..., -1] as the k-th largest value.
Logits and the elementwise arithmetic HF does on them are float32; probabilities float64.
The llama.cpp variants follow ggml-org/llama.cpp src/llama-sampling.cpp
(llama_sampler_top_k_impl, llama_sampler_top_p_apply, llama_sampler_min_p_apply,
llama_sampler_typical_apply, llama_sampler_top_n_sigma_apply, llama_sample_xtc_apply,
llama_sampler_mirostat_v2_apply), ties in their sorts broken by lower id first; llama.cpp
itself does not (libstdc++'s unstable sorts), so SamplingReferenceTests skips those cases and
generate_llamacpp.py checks the llama.cpp semantics against llama.cpp's own samplers.
xoshiro256** / splitmix64 follow Vigna's reference C (xoshiro256starstar.c, splitmix64.c).
"""
import json, math, os
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
M64 = (1 << 64) - 1
NEG = -np.inf

# ---------------------------------------------------------------- xoshiro256**
def splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & M64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return state, z ^ (z >> 31)

def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & M64

class Xoshiro:
    def __init__(self, seed):
        st, self.s = seed & M64, []
        for _ in range(4):
            st, z = splitmix64(st)
            self.s.append(z)
    def next(self):
        s = self.s
        result = (rotl((s[1] * 5) & M64, 7) * 9) & M64
        t = (s[1] << 17) & M64
        s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t
        s[3] = rotl(s[3], 45)
        return result
    def jump(self):
        J = [0x180EC6D33CFD0ABA, 0xD5A61266F0C9392C, 0xA9582618E03FC9AA, 0x39ABDC4529B1661C]
        acc = [0, 0, 0, 0]
        for w in J:
            for b in range(64):
                if w & (1 << b):
                    acc = [a ^ x for a, x in zip(acc, self.s)]
                self.next()
        self.s = acc

def random_fixture():
    out = {}
    for seed in (0, 1, 42, M64):
        g = Xoshiro(seed)
        state = list(g.s)
        outs = [g.next() for _ in range(16)]
        out[str(seed)] = {"state": [str(x) for x in state], "u64": [str(x) for x in outs],
                          "uniform": [(x >> 11) * 2.0 ** -53 for x in outs]}
    g = Xoshiro(0)
    g.jump()
    out["jump0"] = {"state": [str(x) for x in g.s]}
    return out

# ---------------------------------------------------------------- HF warpers
def softmax(x):
    x = np.asarray(x, dtype=np.float64)
    m = np.max(x)
    if m == NEG:
        return np.zeros_like(x)
    e = np.exp(x - m)
    return e / e.sum()

def hf_temperature(s, t):
    return (s / np.float32(t)).astype(np.float32)

def penalties(s, history, rep, freq, pres, last_n):
    s = s.copy()
    if last_n == 0 or not history:
        return s
    win = history if last_n < 0 else history[-last_n:]
    ids, counts = np.unique([h for h in win if 0 <= h < len(s)], return_counts=True)
    for i, c in zip(ids, counts):
        x = s[i]
        x = x * np.float32(rep) if x < 0 else x / np.float32(rep)  # _apply_penalty
        x = x - (np.float32(c) * np.float32(freq) + np.float32(pres))
        s[i] = np.float32(x)
    return s

def hf_top_k(s, k, min_keep=1):
    top_k = min(max(k, min_keep), s.size)
    kth = np.sort(s)[::-1][top_k - 1]
    return np.where(s < kth, NEG, s).astype(np.float32)

def hf_top_p(s, p, min_keep=1):
    sorted_indices = np.argsort(s, kind="stable")
    sorted_logits = s[sorted_indices]
    cumulative_probs = np.cumsum(softmax(sorted_logits))
    sorted_remove = cumulative_probs <= (1 - p)
    sorted_remove[-min_keep:] = False
    remove = np.zeros(s.size, bool)
    remove[sorted_indices] = sorted_remove
    return np.where(remove, NEG, s).astype(np.float32)

def hf_min_p(s, p, min_keep=1):
    probs = softmax(s)
    top = probs.max()
    remove = probs < p * top
    k = min(min_keep, s.size)
    keep_idx = np.lexsort((np.arange(s.size), -probs))[:k]  # topk: ties -> lower id
    remove[keep_idx] = False
    return np.where(remove, NEG, s).astype(np.float32)

def hf_typical(s, mass, min_keep=1):
    with np.errstate(divide="ignore", invalid="ignore"):
        normalized = np.log(softmax(s))
        p = np.exp(normalized)
        ent = -np.nansum(normalized * p)
        shifted = np.abs(-normalized - ent)
    sorted_indices = np.argsort(shifted, kind="stable")
    sorted_scores = shifted[sorted_indices]
    cumulative_probs = np.cumsum(softmax(s[sorted_indices]))
    last_ind = min(int((cumulative_probs < mass).sum()), s.size - 1)
    sorted_remove = sorted_scores > sorted_scores[last_ind]
    sorted_remove[:min_keep] = False
    remove = np.zeros(s.size, bool)
    remove[sorted_indices] = sorted_remove
    return np.where(remove, NEG, s).astype(np.float32)

def hf_epsilon(s, e, min_keep=1, eta=False):
    probs = softmax(s)
    if eta:
        with np.errstate(divide="ignore", invalid="ignore"):
            ent = -np.nansum(np.where(probs > 0, probs * np.log(probs), 0.0))
        cutoff = min(e, math.sqrt(e) * math.exp(-ent))
    else:
        cutoff = e
    top_k = min(min_keep, s.size)
    kth = np.sort(s)[::-1][top_k - 1]
    remove = (probs < cutoff) & (s < kth)
    return np.where(remove, NEG, s).astype(np.float32)

# ---------------------------------------------------------------- llama.cpp variants
def canonical(s):
    """Finite ids, logit descending then id ascending."""
    ids = [i for i in range(s.size) if s[i] > NEG]
    return sorted(ids, key=lambda i: (-float(s[i]), i))

def keep_only(s, ids):
    out = np.full(s.size, NEG, np.float32)
    out[list(ids)] = s[list(ids)]
    return out

def ll_top_k(s, k):
    return keep_only(s, canonical(s)[:k])

def ll_top_p(s, p, min_keep=1):
    if p >= 1:
        return s
    ids = canonical(s)
    pr = softmax(s[ids])
    cum, last = 0.0, len(ids)
    for i, q in enumerate(pr):
        cum += q
        if cum >= p and i + 1 >= min_keep:
            last = i + 1
            break
    return keep_only(s, ids[:last])

def ll_min_p(s, p, min_keep=1):
    ids = canonical(s)
    min_logit = np.float32(s[ids[0]]) + np.float32(math.log(p))
    kept = [i for i in ids if s[i] >= min_logit]
    if len(kept) < min_keep:
        kept = ids[:min_keep]
    return keep_only(s, kept)

def ll_typical(s, p, min_keep=1):
    ids = canonical(s)
    pr = softmax(s[ids])
    ent = float(-(pr * np.log(pr)).sum())
    shifted = np.abs(-np.log(pr) - ent)
    order = sorted(range(len(ids)), key=lambda j: (shifted[j], j))
    cum, last = 0.0, len(ids)
    for i, j in enumerate(order):
        cum += pr[j]
        if cum > p and i >= min_keep - 1:
            last = i + 1
            break
    return keep_only(s, [ids[j] for j in order[:last]])

def top_n_sigma(s, n, min_keep=1):
    fin = s[s > NEG].astype(np.float64)
    thr = fin.max() - n * fin.std()
    kept = [i for i in canonical(s) if not s[i] < thr]
    if len(kept) < min_keep:
        kept = canonical(s)[:min_keep]
    return keep_only(s, kept)

def xtc_always(s, threshold, min_keep=1):
    """llama_sample_xtc_apply when the chance draw passes (probability = 1)."""
    ids = canonical(s)
    pr = softmax(s[ids])
    pos_last = 0
    for i, q in enumerate(pr):
        if q >= threshold:
            pos_last = i
        else:
            break
    if len(ids) - pos_last >= min_keep and pos_last > 0:
        ids = ids[pos_last:]
    return keep_only(s, ids)

def mirostat_truncate(s, mu):
    ids = canonical(s)
    pr = softmax(s[ids])
    m = len(ids)
    for i, q in enumerate(pr):
        if -math.log2(q) > mu:
            m = i
            break
    return keep_only(s, ids[:max(m, 1)])

# ---------------------------------------------------------------- cases
def stage(kind, **kw):
    return dict(kind=kind, **kw)

def run(stages, s, history):
    s = s.astype(np.float32)
    for st in stages:
        k, mk, ll = st["kind"], st.get("min_keep", 1), st.get("semantics") == "llama.cpp"
        if k == "temperature": s = hf_temperature(s, st["t"])
        elif k == "penalties": s = penalties(s, history, st["repetition"], st["frequency"], st["presence"], st["last_n"])
        elif k == "logit_bias":
            s = s.copy()
            for i, b in st["bias"].items(): s[int(i)] = np.float32(s[int(i)] + np.float32(b))
        elif k == "top_k": s = ll_top_k(s, st["k"]) if ll else hf_top_k(s, st["k"], mk)
        elif k == "top_p": s = ll_top_p(s, st["p"], mk) if ll else hf_top_p(s, st["p"], mk)
        elif k == "min_p": s = ll_min_p(s, st["p"], mk) if ll else hf_min_p(s, st["p"], mk)
        elif k == "typical": s = ll_typical(s, st["p"], mk) if ll else hf_typical(s, st["p"], mk)
        elif k == "epsilon": s = hf_epsilon(s, st["e"], mk)
        elif k == "eta": s = hf_epsilon(s, st["e"], mk, eta=True)
        elif k == "top_n_sigma": s = top_n_sigma(s, st["n"], mk)
        elif k == "xtc": s = xtc_always(s, st["threshold"], mk)
        elif k == "mirostat": s = mirostat_truncate(s, st["mu"])
        else: raise ValueError(k)
    return s

def main():
    with open(os.path.join(HERE, "random_xoshiro.json"), "w") as f:
        json.dump(random_fixture(), f, indent=1)

    rng = np.random.default_rng(1)
    rows = {
        "ties": np.array([2.0, 1.0, 1.0, 0.5, 3.0, 1.0, -1.0, 0.0, 2.0, -2.0, 0.5, 1.0], np.float32),
        "flat4": np.array([1.0, 1.0, 1.0, 1.0], np.float32),
        "masked": np.array([0.3, NEG, 1.7, -0.4, NEG, 2.2, 0.9, -1.1], np.float32),
        "normal50": (rng.standard_normal(50) * 2).astype(np.float32),
        "peaked": np.array([5.0, 1.0, 0.8, 0.5, 0.2, 0.0, -0.5, -1.0, -3.0, -6.0], np.float32),
    }
    hist = [0, 4, 4, 6, 7, 30, 30, 30, 12]
    L = "llama.cpp"
    specs = [
        ("temperature", [stage("temperature", t=0.7)]),
        ("top_k3", [stage("top_k", k=3)]),
        ("top_k4_ties", [stage("top_k", k=4)]),
        ("top_k4_ties_llama", [stage("top_k", k=4, semantics=L)]),
        ("top_k2_minkeep5", [stage("top_k", k=2, min_keep=5)]),
        ("top_p05", [stage("top_p", p=0.5)]),
        ("top_p09", [stage("top_p", p=0.9)]),
        ("top_p03_minkeep4", [stage("top_p", p=0.3, min_keep=4)]),
        ("top_p1", [stage("top_p", p=1.0)]),
        ("top_p05_llama", [stage("top_p", p=0.5, semantics=L)]),
        ("top_p09_llama", [stage("top_p", p=0.9, semantics=L)]),
        ("min_p01", [stage("min_p", p=0.1)]),
        ("min_p03_minkeep5", [stage("min_p", p=0.3, min_keep=5)]),
        ("min_p01_llama", [stage("min_p", p=0.1, semantics=L)]),
        ("typical05", [stage("typical", p=0.5)]),
        ("typical09_minkeep3", [stage("typical", p=0.9, min_keep=3)]),
        ("typical05_llama", [stage("typical", p=0.5, semantics=L)]),
        ("epsilon005", [stage("epsilon", e=0.05)]),
        ("epsilon03_minkeep3", [stage("epsilon", e=0.3, min_keep=3)]),
        ("eta005", [stage("eta", e=0.05)]),
        ("eta02_minkeep2", [stage("eta", e=0.2, min_keep=2)]),
        ("top_n_sigma1", [stage("top_n_sigma", n=1.0)]),
        ("xtc_always", [stage("xtc", probability=1.0, threshold=0.1)]),
        ("mirostat_mu3", [stage("mirostat", tau=1.5, mu=3.0)]),
        ("penalties", [stage("penalties", repetition=1.3, frequency=0.2, presence=0.5, last_n=-1)]),
        ("penalties_last3", [stage("penalties", repetition=1.5, frequency=0.0, presence=0.0, last_n=3)]),
        ("logit_bias", [stage("logit_bias", bias={"1": 2.5, "3": -1.0})]),
        ("chain_bench", [stage("penalties", repetition=1.1, frequency=0.1, presence=0.1, last_n=64),
                         stage("top_k", k=10), stage("top_p", p=0.95), stage("min_p", p=0.05),
                         stage("temperature", t=0.8)]),
        ("chain_typical_eps", [stage("temperature", t=1.3), stage("typical", p=0.8),
                               stage("epsilon", e=0.02), stage("top_k", k=6)]),
        ("chain_llama", [stage("penalties", repetition=1.2, frequency=0.0, presence=0.3, last_n=64, semantics=L),
                         stage("top_k", k=8, semantics=L), stage("top_p", p=0.9, semantics=L),
                         stage("min_p", p=0.05, semantics=L), stage("temperature", t=0.7)]),
    ]
    cases = []
    for name, stages in specs:
        for rname, row in rows.items():
            out = run(stages, row, hist)
            ids = [int(i) for i in range(out.size) if out[i] > NEG]
            pr = softmax(out[ids]) if ids else []
            cases.append({"name": f"{name}/{rname}", "stages": stages, "logits": [float(x) if x > NEG else None for x in row],
                          "history": hist, "ids": ids, "probs": [float(p) for p in pr]})
    with open(os.path.join(HERE, "sampling_reference.json"), "w") as f:
        json.dump({"source": "generate_sampling.py", "note": "null logits are -inf", "cases": cases}, f, indent=0, allow_nan=False)
    print(len(cases), "sampling cases")

main()
