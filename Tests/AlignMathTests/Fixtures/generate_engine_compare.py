#!/usr/bin/env python3
"""One nominal sampling configuration as HF transformers, vLLM and llama.cpp implement it
(run by hand, never in CI; output committed). EngineComparisonTests compares
EngineComparison.run with the files. Two interpreters, one per engine family:

    /work/venv-peers/bin/python Tests/AlignMathTests/Fixtures/generate_engine_compare.py
        -> engine_compare_hf_vllm.json (transformers 5.25's own warper classes; vLLM's ops)
    ~/.cache/moonlab/venv/bin/python Tests/AlignMathTests/Fixtures/generate_engine_compare.py
        -> engine_compare_llamacpp.json (llama.cpp's samplers through llama-cpp-python 0.3.36)

- transformers: the LogitsProcessorList that GenerationMixin._get_logits_processor builds
  for the configuration (transformers/generation/utils.py: SequenceBiasLogitsProcessor,
  RepetitionPenaltyLogitsProcessor, then TemperatureLogitsWarper, TopKLogitsWarper,
  TopPLogitsWarper, MinPLogitsWarper, TypicalLogitsWarper in that order, min_tokens_to_keep
  1), the real classes from transformers.generation.logits_process, on float64 scores (the
  dtype moonlab's transformers semantics computes in for a Lua array), input_ids = prompt +
  history.
- vLLM: the torch lines of vllm/v1/sample/sampler.py (float32 logits, logit bias, penalties,
  greedy below temperature 1e-5, temperature, min-p, top-k/top-p),
  vllm/v1/sample/ops/topk_topp_sampler.py (apply_top_k_top_p, apply_top_k_only, vLLM commit
  3babc05a), logits_processor/builtin.py (MinPLogitsProcessor), model_executor/layers/utils.py
  (apply_penalties) and _custom_ops.py (apply_repetition_penalties_torch), copied into
  functions here (vLLM itself needs a GPU build), run with torch's float32 arithmetic.
- llama.cpp: a sampler chain in the common sampler's order (logit_bias, penalties,
  top_n_sigma, top_k, typical, top_p, min_p, temperature) then dist, via the harness of
  generate_llamacpp.py; penalties get prompt + history through llama_sampler_accept.

Each file keeps, per case, the final probability of every token (0 where removed).
Rows are stored as written: every value is k / 64 or k / 1024, exact in float32.
"""
import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def rows():
    """Rows exact in float32 (k / 1024), from a fixed LCG so both interpreters agree."""
    out = {}
    state = 12345

    def nxt():
        nonlocal state
        state = (state * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        return state >> 33

    def row(n, spread):
        return [((nxt() % (2 * spread)) - spread) / 1024.0 for _ in range(n)]

    out["r64"] = row(64, 4096)
    out["r300"] = row(300, 6000)
    out["peaked"] = [6.0, 5.5, 5.0] + row(97, 2048)
    # top-p 0.9's boundary: probabilities near [0.5, 0.4, 0.1] (float32 logits) whose sums fall
    # on either side of 0.9 by rounding: transformers (float64, ascending cumulative sum
    # <= 1 - 0.9 removed) keeps all 3, llama.cpp (float32 running sum >= 0.9f) keeps 2.
    out["boundary"] = [-0.6931471824645996, -0.9163002967834473, -2.302589178085327]
    return out


CASES = [
    ("top_p09", "r64", {"top_p": 0.9}),
    ("boundary_top_p09", "boundary", {"top_p": 0.9}),
    ("temp07_top_p09", "r64", {"temperature": 0.7, "top_p": 0.9}),
    ("llamacpp_defaults", "r300", {"top_k": 40, "top_p": 0.95, "min_p": 0.05, "temperature": 0.8}),
    ("hf_defaults", "r300", {"top_k": 50}),
    ("min_p_hot", "peaked", {"min_p": 0.1, "temperature": 1.5}),
    ("top_k_top_p", "peaked", {"top_k": 20, "top_p": 0.8, "temperature": 1.3}),
    ("typical", "r64", {"typical": 0.9, "top_p": 0.95}),
    ("penalties", "r64", {"repetition": 1.3, "frequency": 0.5, "presence": 0.3, "temperature": 0.9, "top_k": 20}),
    ("greedy", "r64", {"temperature": 0.0, "repetition": 1.2}),
    ("bias", "r64", {"logit_bias": {"3": 2.5, "10": -1.0, "17": 4.0}, "top_p": 0.8}),
]
PROMPT = [1, 2, 3, 3, 40]
HISTORY = [5, 9, 9, 17, 3]


def softmax64(x):
    m = max(v for v in x)
    if m == -math.inf:
        return [0.0] * len(x)
    e = [math.exp(v - m) if v != -math.inf else 0.0 for v in x]
    s = sum(e)
    return [v / s for v in e]


def hf_case(row, cfg):
    import torch
    from transformers.generation import logits_process as lp
    scores = torch.tensor([row], dtype=torch.float64)
    input_ids = torch.tensor([PROMPT + HISTORY])
    procs = lp.LogitsProcessorList()
    if "logit_bias" in cfg:
        procs.append(lp.SequenceBiasLogitsProcessor({(int(k),): v for k, v in cfg["logit_bias"].items()}))
    if cfg.get("repetition", 1.0) != 1.0:
        procs.append(lp.RepetitionPenaltyLogitsProcessor(penalty=cfg["repetition"]))
    t = cfg.get("temperature")
    greedy = t == 0.0
    if not greedy:
        if t is not None and t != 1.0:
            procs.append(lp.TemperatureLogitsWarper(t))
        if cfg.get("top_k"):
            procs.append(lp.TopKLogitsWarper(top_k=cfg["top_k"], min_tokens_to_keep=1))
        if cfg.get("top_p", 1.0) < 1.0:
            procs.append(lp.TopPLogitsWarper(top_p=cfg["top_p"], min_tokens_to_keep=1))
        if cfg.get("min_p") is not None:
            procs.append(lp.MinPLogitsWarper(min_p=cfg["min_p"], min_tokens_to_keep=1))
        if cfg.get("typical", 1.0) < 1.0:
            procs.append(lp.TypicalLogitsWarper(mass=cfg["typical"], min_tokens_to_keep=1))
    out = procs(input_ids, scores)
    if greedy:  # do_sample=False: argmax of the processed scores
        i = int(out[0].argmax())
        return [1.0 if j == i else 0.0 for j in range(len(row))]
    return torch.softmax(out[0], dim=-1).tolist()


def vllm_case(row, cfg):
    import torch
    logits = torch.tensor([row], dtype=torch.float32)
    v = logits.shape[1]
    if "logit_bias" in cfg:  # LogitBiasLogitsProcessor.apply
        ids = torch.tensor([int(k) for k in cfg["logit_bias"]])
        logits[(torch.zeros_like(ids), ids)] += torch.tensor(list(cfg["logit_bias"].values()), dtype=torch.float32)
    rep, freq, pres = cfg.get("repetition", 1.0), cfg.get("frequency", 0.0), cfg.get("presence", 0.0)
    if rep != 1.0 or freq != 0.0 or pres != 0.0:  # apply_penalties
        def bins(tokens):
            t = torch.tensor([tokens])
            c = torch.zeros((1, v + 1), dtype=torch.long)
            c.scatter_add_(1, t, torch.ones_like(t))
            c = c[:, :v]
            return c, c > 0
        _, prompt_mask = bins(PROMPT)
        out_counts, out_mask = bins(HISTORY)
        penalties = torch.tensor([rep], dtype=torch.float32).unsqueeze(1).repeat(1, v)
        penalties = torch.where(prompt_mask | out_mask, penalties, 1.0)
        scaling = torch.where(logits > 0, 1.0 / penalties, penalties)
        logits *= scaling
        logits -= torch.tensor([freq], dtype=torch.float32).unsqueeze(1) * out_counts
        logits -= torch.tensor([pres], dtype=torch.float32).unsqueeze(1) * out_mask
    t = cfg.get("temperature", 1.0)
    if t < 1e-5:
        i = int(logits.argmax(dim=-1))
        return [1.0 if j == i else 0.0 for j in range(v)]
    logits.div_(torch.tensor([t], dtype=torch.float32).unsqueeze(1))
    if cfg.get("min_p") is not None:  # MinPLogitsProcessor.apply
        probability_values = torch.nn.functional.softmax(logits, dim=-1)
        max_probabilities = torch.amax(probability_values, dim=-1, keepdim=True)
        adjusted = max_probabilities.mul_(torch.tensor([[cfg["min_p"]]], dtype=torch.float32))
        logits[probability_values < adjusted] = -float("inf")
    k = cfg.get("top_k")
    p = cfg.get("top_p")
    k = torch.tensor([k]) if k else None
    p = torch.tensor([p], dtype=torch.float32) if p is not None else None
    if p is None and k is not None:  # apply_top_k_only
        no_top_k_mask = k == logits.shape[1]
        k = k.masked_fill(no_top_k_mask, 1)
        k_index = (k - 1).unsqueeze(1)
        top_k_mask = logits.topk(int(k.max()), dim=1).values.gather(1, k_index.long())
        top_k_mask.masked_fill_(no_top_k_mask.unsqueeze(1), -float("inf"))
        logits.masked_fill_(logits < top_k_mask, -float("inf"))
    elif p is not None:  # apply_top_k_top_p
        logits_sort, logits_idx = logits.sort(dim=-1, descending=False, stable=True)
        if k is not None:
            top_k_mask = logits_sort.size(1) - k.to(torch.long)
            top_k_mask = logits_sort.gather(1, top_k_mask.unsqueeze(dim=1))
            top_k_mask = logits_sort < top_k_mask
            logits_sort.masked_fill_(top_k_mask, -float("inf"))
        probs_sort = logits_sort.softmax(dim=-1)
        probs_sum = torch.cumsum(probs_sort, dim=-1, out=probs_sort)
        top_p_mask = probs_sum <= 1 - p.unsqueeze(dim=1)
        top_p_mask[:, -1] = False
        logits_sort.masked_fill_(top_p_mask, -float("inf"))
        logits = logits_sort.scatter(dim=-1, index=logits_idx, src=logits_sort)
    return logits.softmax(dim=-1, dtype=torch.float32)[0].double().tolist()


def llama_case(row, cfg):
    sys.path.insert(0, HERE)
    from generate_llamacpp import Chain
    stages = []
    if "logit_bias" in cfg:
        stages.append({"kind": "logit_bias", "bias": cfg["logit_bias"]})
    if cfg.get("repetition", 1.0) != 1.0 or cfg.get("frequency", 0.0) != 0.0 or cfg.get("presence", 0.0) != 0.0:
        stages.append({"kind": "penalties", "last_n": 64, "repetition": cfg.get("repetition", 1.0),
                       "frequency": cfg.get("frequency", 0.0), "presence": cfg.get("presence", 0.0)})
    for name in ("top_k", "typical", "top_p", "min_p"):
        if name in cfg:
            stages.append({"kind": name, ("k" if name == "top_k" else "p"): cfg[name]})
    if "temperature" in cfg:
        stages.append({"kind": "temperature", "t": cfg["temperature"]})
    chain = Chain(stages, len(row), 1)
    for t in PROMPT + HISTORY:
        chain.accept(t)
    entries, _ = chain.apply(row)
    chain.free()
    out = [0.0] * len(row)
    for i, logit, p in entries:
        if logit != -math.inf:
            out[i] = p
    return out


def main():
    rs = rows()
    try:
        import llama_cpp  # noqa: F401
        engine, fn, name = "llama.cpp", llama_case, "engine_compare_llamacpp.json"
    except ImportError:
        engine, fn, name = "hf_vllm", None, "engine_compare_hf_vllm.json"
    cases = []
    for cname, rname, cfg in CASES:
        row = rs[rname]
        c = {"name": cname, "row": rname, "config": cfg}
        if engine == "llama.cpp":
            c["llama.cpp"] = fn(row, cfg)
        else:
            c["transformers"] = hf_case(row, cfg)
            c["vllm"] = vllm_case(row, cfg)
        cases.append(c)
    meta = {"prompt": PROMPT, "history": HISTORY}
    if engine == "llama.cpp":
        import llama_cpp
        meta["llama_cpp_python"] = llama_cpp.__version__
    else:
        import torch, transformers
        meta["torch"], meta["transformers"] = torch.__version__, transformers.__version__
    with open(os.path.join(HERE, name), "w") as f:
        json.dump({"meta": meta, "rows": rs, "cases": cases}, f, indent=1)
    print(f"wrote {name}: {len(cases)} cases")


if __name__ == "__main__":
    main()
