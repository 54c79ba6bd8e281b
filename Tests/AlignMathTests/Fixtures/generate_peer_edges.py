#!/usr/bin/env python3
"""Reference values for the peers' edge cases of issue 11 (peer_edges.json beside this file),
computed by the peers' own code. Run by hand, never in CI:

    pip install torch trl==1.16.0 mpmath numpy      # into a peers' venv
    git show v0.11.0:openrlhf/models/utils.py > /tmp/openrlhf_utils.py          # OpenRLHF/OpenRLHF
    git show b178a3cd:verl/trainer/ppo/core_algos.py > /tmp/verl_core_algos.py   # volcengine/verl (0.8.0.dev)
    git show a8d9aa8c:semantic_uncertainty/uncertainty/uncertainty_measures/semantic_entropy.py \\
        > /tmp/semantic_entropy.py                                              # jlko/semantic_uncertainty
    python Tests/AlignMathTests/Fixtures/generate_peer_edges.py \\
        /tmp/openrlhf_utils.py /tmp/verl_core_algos.py /tmp/semantic_entropy.py

What comes from where:
- group_advantages: TRL 1.16.0 as installed. The advantage lines of
  GRPOTrainer._generate_and_score_completions (sum_then_normalize) and of
  RLOOTrainer._generate_and_score_completions are methods of a trainer and cannot be called
  alone; they are re-stated below line by line (torch, float64), with TRL's own `nanstd`
  imported from trl.trainer.utils.
- kl: OpenRLHF 0.11.0's `compute_approx_kl` and verl's `kl_penalty_forward`, each taken from
  its source file (the function alone, by ast) and run on float64 tensors (OpenRLHF's
  `.float()` casts are dropped so its formula and clamp run in float64 too); k3 without a
  clamp exactly (mpmath, 50 digits) for the float64 log r = ref - logp. Both peers compute
  k3 as exp(x) - 1 - x, which cancels near x = 0: compare them with an absolute tolerance.
- semantic_ids: jlko/semantic_uncertainty's `get_semantic_ids` taken from its file (by ast)
  and run with a model whose check_implication reads a fixed table (2 = entailment), on
  random judgments that are not transitive.
- text: Python 3.11's own str.split(), and SQuAD v1.1's normalize_answer / f1_score as
  evaluate-v1.1.py writes them (re-stated in generate_rl_pref_metrics.py, imported here).
"""
import ast
import json
import os
import sys
from collections import Counter

import mpmath as mp
import numpy as np
import torch
import trl
from trl.trainer.utils import nanstd

# float64 throughout: TRL's nanstd divides count / (count - 1), two int64 tensors, which
# gives the default dtype; moonlab computes in float64, so the reference does too.
torch.set_default_dtype(torch.float64)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from generate_rl_pref_metrics import normalize_answer, f1_score  # noqa: E402

rng = np.random.default_rng(20261204)


class KeepDtype(ast.NodeTransformer):
    """Turns `x.float()` into `x`: OpenRLHF casts to float32 first; the fixture compares the
    formula (and its clamp) in float64, moonlab's dtype."""
    def visit_Call(self, node):
        self.generic_visit(node)
        if isinstance(node.func, ast.Attribute) and node.func.attr == "float" and not node.args:
            return node.func.value
        return node


def function_from(path, name, env, keep_dtype=False):
    """The function `name` of the Python file at `path`, compiled alone into `env`."""
    tree = ast.parse(open(path).read())
    node = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)
    node.decorator_list = []  # OpenRLHF's @torch.compile is irrelevant to the numbers
    if keep_dtype:
        node = ast.fix_missing_locations(KeepDtype().visit(node))
    code = compile(ast.Module(body=[node], type_ignores=[]), path, "exec")
    exec(code, env)
    return env[name]


def L(x):
    # repr strings (Swift's Double(String) reads them back exactly; Foundation's JSON reader
    # on Linux can be off by an ulp, which log r = 1e-12 would amplify); NaN as null
    return [None if np.isnan(v) else repr(float(v)) for v in np.asarray(x, dtype=float).tolist()]


# --- TRL 1.16 group advantages -------------------------------------------------------------
def grpo(rewards, g, scale):
    # trl/trainer/grpo_trainer.py, multi_objective_aggregation == "sum_then_normalize"
    rewards = torch.tensor(rewards, dtype=torch.float64)
    mean_grouped_rewards = torch.nanmean(rewards.view(-1, g), dim=1)
    mean_grouped_rewards = mean_grouped_rewards.repeat_interleave(g, dim=0)
    if scale in ["group", "none"]:
        if g > 1:
            std_rewards = nanstd(rewards.view(-1, g), dim=1)
            std_rewards = std_rewards.repeat_interleave(g, dim=0)
        else:
            std_rewards = torch.zeros_like(rewards)
    else:  # batch
        std_rewards = nanstd(rewards).expand_as(rewards) if rewards.numel() > 1 else torch.zeros_like(rewards)
    advantages = rewards - mean_grouped_rewards
    if scale != "none":
        advantages = advantages / (std_rewards + 1e-4)
    return torch.nan_to_num(advantages, nan=0.0)


def rloo(rewards, g, normalize):
    # trl/trainer/rloo_trainer.py (no KL term, no reward clipping)
    rewards = torch.tensor(rewards, dtype=torch.float64)
    grouped_rewards = rewards.view(-1, g)
    scorable_counts = (~torch.isnan(grouped_rewards)).sum(dim=1, keepdim=True)
    grouped_sum = torch.nansum(grouped_rewards, dim=1, keepdim=True)
    baselines = (grouped_sum - grouped_rewards) / (scorable_counts - 1)
    advantages = rewards - baselines.view(-1)
    if normalize:
        advantages = (advantages - torch.nanmean(advantages)) / (nanstd(advantages) + 1e-4)
    return torch.nan_to_num(advantages, nan=0.0)


def group_cases():
    out = []
    base = [
        ([1.0, float("nan"), 0.0, 1.0, 0.5, 0.5, 0.25, 1.0], 4),
        ([float("nan"), 2.0, 0.0, 1.0, float("nan"), 3.0], 3),
        ([float("nan"), float("nan"), 1.0, 0.0, 1.0, 2.0], 2),    # a group with nothing scorable
        ([float("nan"), 1.0, 0.0, 0.0, 1.0, 1.0], 3),             # one group with one scorable left
        (list(rng.normal(size=12)), 4),
    ]
    r = rng.normal(size=64)
    r[rng.choice(64, 9, replace=False)] = np.nan
    base.append((list(r), 8))
    for rewards, g in base:
        for scale in ("group", "batch", "none"):
            out.append(dict(rewards=L(rewards), group_size=g, method="grpo", scale=scale,
                            expected=L(grpo(rewards, g, scale).numpy())))
        out.append(dict(rewards=L(rewards), group_size=g, method="dr_grpo", scale="none",
                        expected=L(grpo(rewards, g, "none").numpy())))
        for scale, norm in (("none", False), ("batch", True)):
            out.append(dict(rewards=L(rewards), group_size=g, method="rloo", scale=scale,
                            expected=L(rloo(rewards, g, norm).numpy())))
    return out


# --- KL estimators, clamps ----------------------------------------------------------------
def kl_cases(openrlhf_path, verl_path):
    compute_approx_kl = function_from(openrlhf_path, "compute_approx_kl", {"torch": torch}, keep_dtype=True)
    kl_penalty_forward = function_from(verl_path, "kl_penalty_forward", {"torch": torch})
    logp = rng.normal(-2, 1.5, 40)
    ref = logp + rng.normal(0, 4, 40)
    ref[:6] = logp[:6] + np.array([1e-12, -3e-9, 2e-6, -1e-3, 25.0, -30.0])
    logp = np.concatenate([logp, [-1.0, -80.0, -2.0]])
    ref = np.concatenate([ref, [-70.0, -1.0, -2.0]])
    lp, rf = torch.tensor(logp, dtype=torch.float64), torch.tensor(ref, dtype=torch.float64)
    mp.mp.dps = 50
    x = ref - logp
    exact_k3 = [float(mp.expm1(mp.mpf(float(v))) - mp.mpf(float(v))) for v in x]
    cases = dict(logp=L(logp), ref=L(ref), k3_exact=L(exact_k3))
    for e in ("k1", "k2", "k3"):
        cases["openrlhf_" + e] = L(compute_approx_kl(lp, rf, kl_estimator=e).numpy())
        cases["verl_" + e] = L(kl_penalty_forward(lp, rf, e).numpy())
    return cases


# --- semantic ids ---------------------------------------------------------------------------
def semantic_cases(path):
    get_semantic_ids = function_from(path, "get_semantic_ids", {})
    out = []
    for n, p in ((5, 0.5), (6, 0.6), (7, 0.45), (8, 0.7), (9, 0.5), (10, 0.65), (12, 0.55)):
        for _ in range(4):
            table = (rng.random((n, n)) < p).astype(int) * 2  # 2 = entailment, 0 = contradiction
            np.fill_diagonal(table, 2)

            class Model:
                def check_implication(self, a, b, example=None):
                    return int(table[a][b])

            ids = get_semantic_ids(list(range(n)), Model(), strict_entailment=True)
            out.append(dict(implies=[[bool(v) for v in row] for row in table], ids=ids))
    return out


# --- whitespace and SQuAD -------------------------------------------------------------------
SPACES = ["\t", "\n", "\x0b", "\x0c", "\r", "\x1c", "\x1d", "\x1e", "\x1f", " ", "\x85", "\xa0",
          "\u1680", "\u2000", "\u200a", "\u2028", "\u2029", "\u202f", "\u205f", "\u3000"]


def text_cases():
    words = ["the", "cat", "sat", "a", "mat", "The", "ca\u0301t", "x", "an", "Ünïcode", "_", "x_y"]
    texts = []
    for _ in range(30):
        k = int(rng.integers(1, 14))
        seps = [SPACES[int(i)] * int(rng.integers(1, 3)) for i in rng.integers(0, len(SPACES), k + 1)]
        toks = [words[int(i)] for i in rng.integers(0, len(words), k)]
        texts.append(seps[0] + "".join(t + s for t, s in zip(toks, seps[1:])))
    texts += ["a\x1cb\x1dc\x1ed\x1fe", "go\u2028go\u3000go go", "\x1c\x1f", "", " \u0301x y", "\u0301 x"]

    def distinct(ts, n):
        seen, total = set(), 0
        for t in ts:
            toks = t.split()
            for i in range(len(toks) - n + 1):
                seen.add(tuple(toks[i:i + n])); total += 1
        return len(seen) / total if total else 0.0

    def rep(t, n):
        toks = t.split()
        grams = [tuple(toks[i:i + n]) for i in range(len(toks) - n + 1)]
        return 1 - len(set(grams)) / len(grams) if grams else 0.0

    pairs = [("The cat\x1csat", "the cat sat"), ("a\x1dan\x1ethe cat", "cat"), ("Eiffel\x1fTower!", "eiffel tower"),
             ("x\u2028y", "x y"), ("the\u3000big cat", "a big black cat"), ("cat", "\x1c")]
    return dict(
        splits=[dict(text=t, tokens=t.split()) for t in texts],
        distinct=[dict(n=n, expected=distinct(texts, n)) for n in (1, 2, 3)],
        repetition=[dict(text=t, n=n, expected=rep(t, n)) for t in texts[:12] + texts[-5:] for n in (1, 2)],
        squad=[dict(prediction=p, truth=g, tokens=normalize_answer(p).split(),
                    exact=float(normalize_answer(p) == normalize_answer(g)), f1=float(f1_score(p, g)))
               for p, g in pairs],
    )


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    fixture = dict(
        versions=dict(trl=trl.__version__, torch=torch.__version__, openrlhf="0.11.0",
                      verl="0.8.0.dev (b178a3cd)", semantic_uncertainty="a8d9aa8c",
                      python=sys.version.split()[0]),
        group_advantages=group_cases(),
        kl=kl_cases(sys.argv[1], sys.argv[2]),
        semantic_ids=semantic_cases(sys.argv[3]),
        text=text_cases(),
    )
    with open(os.path.join(HERE, "peer_edges.json"), "w") as fh:
        json.dump(fixture, fh, indent=1, ensure_ascii=True, allow_nan=False)
        fh.write("\n")
    print("wrote peer_edges.json")


if __name__ == "__main__":
    main()
