#!/usr/bin/env python3
"""Randomized differential test of moonlab's sampler chains (HF semantics, the default)
against Hugging Face transformers' own logits processors, run by torch. Hand-run, never in CI.

    python3 -m venv /work/venv-torch && /work/venv-torch/bin/pip install torch transformers numpy
    swift build
    /work/venv-torch/bin/python Tests/Differential/sampling_diff.py --moonlab .build/debug/moonlab --seed 1

Every run draws new cases: rows of logits (f64 and f32; 2 to 50,000 tokens; Gaussian, rounded
to a few decimals so that ties are common, wide scales, -inf entries, rows of one repeated
value) and random chains of the stages that have a transformers counterpart, with random
parameters and `min_keep`:

    sample.temperature(t)      TemperatureLogitsWarper
    sample.top_k(k)            TopKLogitsWarper
    sample.top_p(p)            TopPLogitsWarper
    sample.min_p(p)            MinPLogitsWarper
    sample.typical(p)          TypicalLogitsWarper
    sample.epsilon(e)          EpsilonLogitsWarper
    sample.eta(e)              EtaLogitsWarper
    sample.penalties{repetition = r}   RepetitionPenaltyLogitsProcessor (over the whole history)

Each chain runs in moonlab (`chain:apply(row, {history = ...})` and `chain:probs(...)`, saved
with tensor.save) and as a transformers LogitsProcessorList on a torch tensor of the row's
dtype, the history as `input_ids`. Compared: the dtype, which tokens are removed (-inf)
exactly, the kept logits bitwise (the same float operations), and the probabilities against
the exact softmax of the kept logits: within 4 ulps, or no further from it than torch.softmax
(whose float sums are off by tens of ulps over 32,000 tokens; moonlab's are compensated). A case transformers refuses (a parameter
out of range) must be a Lua error in moonlab too.
"""
import argparse
import math
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import torch
import transformers
from transformers import (EpsilonLogitsWarper, EtaLogitsWarper, LogitsProcessorList,
                          MinPLogitsWarper, RepetitionPenaltyLogitsProcessor,
                          TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper,
                          TypicalLogitsWarper)


def make_row(rng, dtype):
    v = int(rng.choice([2, 3, 5, 8, 17, 64, 100, 257, 1000, 4096, 32000, 50000]))
    kind = rng.integers(0, 6)
    if kind == 0:
        x = rng.normal(0, 1, v)
    elif kind == 1:
        x = np.round(rng.normal(0, 2, v), int(rng.integers(0, 2)))  # many ties
    elif kind == 2:
        x = rng.normal(0, 1, v) * float(rng.choice([1e-3, 10, 40]))
    elif kind == 3:
        x = np.full(v, float(rng.normal()))  # one repeated value
    elif kind == 4:
        x = rng.integers(-3, 4, v).astype(np.float64)  # integer logits, heavy ties
    else:
        x = rng.normal(5, 3, v)
    if rng.random() < 0.3 and v > 2:
        m = rng.random(v) < float(rng.choice([0.1, 0.5, 0.9]))
        m[int(rng.integers(0, v))] = False  # at least one finite
        x[m] = -np.inf
    return x.astype(dtype)


def make_stage(rng, v):
    kind = str(rng.choice(["temperature", "top_k", "top_p", "min_p", "typical", "epsilon",
                           "eta", "penalties"]))
    mk = int(rng.choice([1, 1, 1, 2, 3, 10]))
    if kind == "temperature":
        t = float(rng.choice([0.3, 0.7, 1.0, 1.3, 2.5, float(np.round(rng.uniform(0.05, 3), 3))]))
        return (f"sample.temperature({t!r})", TemperatureLogitsWarper(t))
    if kind == "top_k":
        k = int(rng.choice([1, 2, 3, 5, 10, 40, 50, v, v + 3]))
        return (f"sample.top_k({k}, {{min_keep = {mk}}})", TopKLogitsWarper(top_k=k, min_tokens_to_keep=mk))
    if kind == "top_p":
        p = float(rng.choice([0.1, 0.5, 0.8, 0.9, 0.95, 0.99, 1.0, float(np.round(rng.uniform(0.01, 1), 3))]))
        return (f"sample.top_p({p!r}, {{min_keep = {mk}}})", TopPLogitsWarper(top_p=p, min_tokens_to_keep=mk))
    if kind == "min_p":
        p = float(rng.choice([0.01, 0.05, 0.1, 0.3, 0.9, 1.0, float(np.round(rng.uniform(0, 1), 3))]))
        return (f"sample.min_p({p!r}, {{min_keep = {mk}}})", MinPLogitsWarper(min_p=p, min_tokens_to_keep=mk))
    if kind == "typical":
        p = float(rng.choice([0.2, 0.5, 0.9, 0.95, float(np.round(rng.uniform(0.01, 0.99), 3))]))
        return (f"sample.typical({p!r}, {{min_keep = {mk}}})", TypicalLogitsWarper(mass=p, min_tokens_to_keep=mk))
    if kind == "epsilon":
        e = float(rng.choice([1e-4, 3e-4, 1e-3, 0.01, 0.1, 0.5]))
        return (f"sample.epsilon({e!r}, {{min_keep = {mk}}})", EpsilonLogitsWarper(epsilon=e, min_tokens_to_keep=mk))
    if kind == "eta":
        e = float(rng.choice([1e-4, 3e-4, 1e-3, 0.01, 0.1, 0.5]))
        return (f"sample.eta({e!r}, {{min_keep = {mk}}})", EtaLogitsWarper(epsilon=e, min_tokens_to_keep=mk, device="cpu"))
    r = float(rng.choice([0.5, 0.8, 1.0, 1.1, 1.3, 2.0]))
    return (f"sample.penalties{{repetition = {r!r}}}", RepetitionPenaltyLogitsProcessor(penalty=r))


def make_case(rng):
    dtype = np.float64 if rng.random() < 0.7 else np.float32
    row = make_row(rng, dtype)
    v = len(row)
    stages = [make_stage(rng, v) for _ in range(int(rng.integers(1, 5)))]
    n_hist = int(rng.choice([0, 1, 5, 30, 200]))
    history = [int(x) for x in rng.integers(0, v, n_hist)]
    return row, stages, history


_torch_sort, _torch_argsort = torch.sort, torch.argsort


def stable_sorts(on):
    """transformers sorts with torch.sort / torch.argsort, unstable by default: on the CPU
    torch 2.15 runs libstdc++'s std::sort over (value, index) pairs (and torch.topk its
    partial_sort / nth_element), which moonlab reproduces where a tie straddles a cut
    (TorchTieOrder.swift); the reference is that. `on` makes the sorts stable (ties by id,
    as torch's CUDA sort gives), to count the cases where the order matters."""
    if on:
        torch.sort = lambda *a, **k: _torch_sort(*a, **{**k, "stable": True})
        torch.argsort = lambda *a, **k: _torch_argsort(*a, **{**k, "stable": True})
    else:
        torch.sort, torch.argsort = _torch_sort, _torch_argsort


def hf_apply(row, stages, history):
    scores = torch.from_numpy(row.copy()).unsqueeze(0)
    ids = torch.tensor([history if history else [0]], dtype=torch.long)
    if not history:
        # transformers' repetition penalty always sees some input ids; with no history the
        # chain in moonlab penalises nothing, so the processor is left out
        procs = [p for _, p in stages if not isinstance(p, RepetitionPenaltyLogitsProcessor)]
    else:
        procs = [p for _, p in stages]
    out = LogitsProcessorList(procs)(ids, scores)
    return out[0].numpy()


def lua_script(cases, ids, indir, outdir):
    lines = []
    for i in ids:
        row, stages, history = cases[i]
        chain = "sample.chain{" + ", ".join(s for s, _ in stages) + "}"
        hist = "{" + ", ".join(str(h) for h in history) + "}"
        lines.append(f"""
do
  local ok, err = pcall(function()
    local row = tensor.load('{indir}/r{i}.npy')
    local c = {chain}
    local ctx = {{history = {hist}}}
    tensor.save('{outdir}/a{i}.npy', c:apply(row, ctx))
    tensor.save('{outdir}/p{i}.npy', c:probs(row, ctx))
  end)
  if not ok then io.write('E {i} ', (tostring(err):gsub('\\n', ' ')), '\\n') end
end""")
    return "\n".join(lines) + "\n"


def ulps(a, b, dt):
    eps = 2.0 ** -23 if dt == np.float32 else 2.0 ** -52
    tiny = 1e-37 if dt == np.float32 else 1e-300
    return np.abs(a - b) / (eps * np.maximum(np.abs(b), tiny))


def compare(i, case, want, outdir, err):
    row, stages, history = case
    desc = f"case {i}: V={len(row)} {row.dtype} chain {{{', '.join(s for s, _ in stages)}}} history[{len(history)}]"
    if want is None:
        return None if err else f"{desc}: transformers refused, moonlab answered"
    if isinstance(want, Exception):
        return None if err else f"{desc}: transformers raised {want!r}, moonlab answered"
    if err:
        return f"{desc}: moonlab raised {err}"
    got = np.load(os.path.join(outdir, f"a{i}.npy"))
    if got.dtype != want.dtype:
        return f"{desc}: dtype {got.dtype} against transformers' {want.dtype}"
    gk, wk = np.isfinite(got), np.isfinite(want)
    if not np.array_equal(gk, wk):
        if gk.sum() == wk.sum() and np.array_equal(np.sort(got[gk]), np.sort(want[wk])):
            return None  # the same logits kept, other tokens among tied ones (see stable_sorts)
        only_m = np.flatnonzero(gk & ~wk)[:8].tolist()
        only_h = np.flatnonzero(wk & ~gk)[:8].tolist()
        return f"{desc}: kept sets differ ({gk.sum()} against {wk.sum()}); kept only by moonlab {only_m}, only by transformers {only_h}"
    if not np.array_equal(got[gk], want[wk]):
        d = np.flatnonzero(got != want)[:5]
        return f"{desc}: kept logits differ at {d.tolist()}: {got[d].tolist()} against {want[d].tolist()}"
    gp = np.load(os.path.join(outdir, f"p{i}.npy"))
    if gp.dtype != want.dtype:
        return f"{desc}: probs {gp.dtype} against {want.dtype}"
    # Probabilities: against the exact softmax of the kept logits (math.fsum of the double
    # exps, rounded to the row's dtype); moonlab must be within 4 ulps of it or no further
    # from it than torch.softmax is (torch's float sums are off by tens of ulps at 32k).
    w = want.astype(np.float64)
    exact = np.zeros_like(w)
    if wk.any():
        m = w[wk].max()
        e = np.exp(w[wk] - m)
        exact[wk] = e / math.fsum(e.tolist())
    exact = exact.astype(want.dtype).astype(np.float64)
    tp = torch.softmax(torch.from_numpy(want.copy()), dim=-1).numpy().astype(np.float64)
    mine, theirs = ulps(gp.astype(np.float64), exact, want.dtype), ulps(tp, exact, want.dtype)
    if wk.any() and np.max(mine[wk]) > max(4.0, np.max(theirs[wk]) + 4.0):
        k = int(np.flatnonzero(wk)[np.argmax(mine[wk])])
        return (f"{desc}: probs {mine[k]:.1f} ulps from the exact softmax at {k} ({gp[k]!r} against "
                f"{exact[k]!r}; torch.softmax {np.max(theirs[wk]):.1f} ulps at most)")
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--moonlab", default=".build/debug/moonlab")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cases", type=int, default=600)
    ap.add_argument("--batch", type=int, default=150)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    work = tempfile.mkdtemp(prefix="sampling_diff_")
    indir, outdir = os.path.join(work, "in"), os.path.join(work, "out")
    os.makedirs(indir)
    os.makedirs(outdir)
    cases = [make_case(rng) for _ in range(args.cases)]
    wants, unstable_differs = [], 0
    for row, stages, history in cases:
        try:
            stable_sorts(False)
            want = hf_apply(row, stages, history)
            stable_sorts(True)
            stab = hf_apply(row, stages, history)
            stable_sorts(False)
            if not np.array_equal(np.isfinite(want), np.isfinite(stab)):
                unstable_differs += 1
            wants.append(want)
        except Exception as e:  # noqa: BLE001 - a refusal is an answer to compare
            stable_sorts(False)
            wants.append(e)
    for i, (row, _, _) in enumerate(cases):
        np.save(os.path.join(indir, f"r{i}.npy"), row)
    bad = 0
    for b in range(0, len(cases), args.batch):
        ids = range(b, min(b + args.batch, len(cases)))
        sp = os.path.join(work, f"batch{b}.lua")
        script = lua_script(cases, ids, indir, outdir)
        with open(sp, "w") as f:
            f.write(script)
        p = subprocess.run([args.moonlab, "run", sp], capture_output=True, text=True, timeout=1200)
        if p.returncode != 0:
            print(f"batch {b}: moonlab exited {p.returncode}: {p.stderr[-1500:]}")
            bad += 1
            continue
        errs = {}
        for line in p.stdout.splitlines():
            if line.startswith("E "):
                _, n, msg = line.split(" ", 2)
                errs[int(n)] = msg
        for i in ids:
            msg = compare(i, cases[i], wants[i], outdir, errs.get(i))
            if msg:
                bad += 1
                print(msg)
    print(f"transformers {transformers.__version__}, torch {torch.__version__}, seed {args.seed}, "
          f"{len(cases)} cases, {bad} differ, moonlab {args.moonlab} ({unstable_differs} cases where "
          f"a stable sort would keep other tied tokens than torch's default CPU one)")
    if args.keep:
        print("kept", work)
    else:
        shutil.rmtree(work)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
