#!/usr/bin/env python3
"""HF transformers' own warpers on float64 logits -> sampling_f64.json beside this file, which
SamplingPrecisionTests compares moonlab's chains on f64 rows against at 1e-12: an f64 row is
never rounded to f32 on its way through a chain.

Run by hand, never in CI, with the peers' venv (torch 2.15, transformers 5.25):
    /work/venv-peers/bin/python Tests/AlignMathTests/Fixtures/generate_sampling_f64.py

Each case applies transformers.generation.logits_process warpers in order
(TemperatureLogitsWarper, RepetitionPenaltyLogitsProcessor over the whole context,
TopKLogitsWarper, TopPLogitsWarper, MinPLogitsWarper, TypicalLogitsWarper,
EpsilonLogitsWarper, EtaLogitsWarper) to a torch.float64 row, and records the ids left
finite and torch.softmax of the result (float64, printed with 17 digits).
"""
import json
import os

import numpy as np
import torch
import transformers
from transformers.generation import logits_process as lp


def warper(st):
    k, mk = st["kind"], st.get("min_keep", 1)
    if k == "temperature":
        return lp.TemperatureLogitsWarper(st["t"])
    if k == "penalties":
        return lp.RepetitionPenaltyLogitsProcessor(st["repetition"])
    if k == "top_k":
        return lp.TopKLogitsWarper(st["k"], min_tokens_to_keep=mk)
    if k == "top_p":
        return lp.TopPLogitsWarper(st["p"], min_tokens_to_keep=mk)
    if k == "min_p":
        return lp.MinPLogitsWarper(st["p"], min_tokens_to_keep=mk)
    if k == "typical":
        return lp.TypicalLogitsWarper(st["p"], min_tokens_to_keep=mk)
    if k == "epsilon":
        return lp.EpsilonLogitsWarper(st["e"], min_tokens_to_keep=mk)
    if k == "eta":
        return lp.EtaLogitsWarper(st["e"], min_tokens_to_keep=mk)
    raise ValueError(k)


def run(name, row, stages, history=()):
    scores = torch.tensor([row], dtype=torch.float64)
    ids = torch.tensor([list(history) or [0]], dtype=torch.long)
    for st in stages:
        if st["kind"] == "penalties" and not history:
            continue
        scores = warper(st)(ids, scores)
    s = scores[0]
    keep = torch.nonzero(s > -float("inf")).flatten().tolist()
    probs = torch.softmax(s, dim=-1)
    return {"name": name, "logits": [float(x) for x in row], "history": list(history), "stages": stages,
            "ids": keep, "probs": [float(probs[i]) for i in keep]}


def main():
    rng = np.random.default_rng(11)
    rows = {
        "issue": [2.0, 1.0, 0.1, -1.0],
        "near_ties": [1.0, 1.0 + 1e-9, 1.0 + 2e-9, 0.5, 1.0 - 1e-9, 0.25 + 1e-12, 0.25],
        "normal60": (rng.standard_normal(60) * 2.0).tolist(),
        "tenths": [0.1 * i for i in range(-20, 21)],
        "peaked200": (rng.standard_normal(200) * 1.5 + np.where(np.arange(200) % 37 == 0, 5.0, 0.0)).tolist(),
    }
    chains = [
        ("top_k3", [{"kind": "top_k", "k": 3}]),
        ("top_k1", [{"kind": "top_k", "k": 1}]),
        ("top_p09", [{"kind": "top_p", "p": 0.9}]),
        ("top_p05_mk3", [{"kind": "top_p", "p": 0.5, "min_keep": 3}]),
        ("min_p01", [{"kind": "min_p", "p": 0.1}]),
        ("typical07", [{"kind": "typical", "p": 0.7}]),
        ("epsilon", [{"kind": "epsilon", "e": 0.02}]),
        ("eta", [{"kind": "eta", "e": 0.02}]),
        ("temp07", [{"kind": "temperature", "t": 0.7}]),
        ("temp13_top_p", [{"kind": "temperature", "t": 1.3}, {"kind": "top_p", "p": 0.8}]),
        ("chain", [{"kind": "penalties", "repetition": 1.3}, {"kind": "top_k", "k": 20}, {"kind": "top_p", "p": 0.95},
                   {"kind": "min_p", "p": 0.05}, {"kind": "temperature", "t": 0.8}]),
    ]
    cases = []
    for cname, stages in chains:
        for rname, row in rows.items():
            n = len(row)
            hist = [(i * 7) % n for i in range(3 * n)] if any(s["kind"] == "penalties" for s in stages) else []
            cases.append(run(f"{cname}/{rname}", row, stages, hist))
    # Repetition penalty over a long context: HF penalises every id of input_ids, so ids
    # seen only long ago (more than 64 tokens back) are penalised too.
    row = rows["peaked200"]
    hist = [0, 37, 74] + [100 + (i % 50) for i in range(300)]
    cases.append(run("penalties_whole_context", row, [{"kind": "penalties", "repetition": 1.5}], hist))
    out = {"torch": torch.__version__, "transformers": transformers.__version__, "cases": cases}
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sampling_f64.json")
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"), allow_nan=False)
        f.write("\n")
    print(f"{len(cases)} cases -> {path}")


if __name__ == "__main__":
    main()
