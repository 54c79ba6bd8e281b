#!/usr/bin/env python3
"""Advantages and loss-aggregation weights as TRL 1.16 computes them (run once by hand,
output committed).

    /work/venv-peers/bin/python Tests/AlignMathTests/Fixtures/generate_dry_run.py

Writes dry_run.json beside this file; DryRunTests compares RL.dryRun with it.

- GRPO advantages: the lines of trl/trainer/grpo_trainer.py
  `_generate_and_score_completions` (multi_objective_aggregation "sum_then_normalize", one
  reward function), for scale_rewards "group", "batch", "none", with TRL's own
  `trl.trainer.utils.nanstd`; `is_std_zero` gives frac_reward_zero_std.
- RLOO advantages: trl/trainer/rloo_trainer.py, normalize_advantages False ("none") and
  True ("batch").
- Per-token weights: a per_token_loss tensor (requires_grad) of the batch's shape with the
  completion mask of the lengths, aggregated by GRPOTrainer's `_compute_loss` lines for
  loss_type "bnpo" (token-mean), "luspo" (seq-mean-token-sum), "grpo"
  (seq-mean-token-mean) and "dr_grpo" (max_completion_length = the padded width); the
  gradient of the loss with respect to each real token is its weight (gradient accumulation
  1, one process).
"""
import json
import math
import os

import torch
from trl.trainer.utils import nanstd
import trl

HERE = os.path.dirname(os.path.abspath(__file__))
# TRL's nanstd divides two integer counts (count / (count - 1)), which torch makes a tensor
# of the default dtype: float64 here, so the fixture holds the formula's value, not its
# float32 rounding (a real run computes rewards in float32 throughout). Likewise the logged
# fraction is taken in float64 below (TRL's `.float().mean()`).
torch.set_default_dtype(torch.float64)


def grpo(rewards, num_generations, scale_rewards):
    rewards = torch.tensor(rewards, dtype=torch.float64)
    mean_grouped_rewards = torch.nanmean(rewards.view(-1, num_generations), dim=1)
    mean_grouped_rewards = mean_grouped_rewards.repeat_interleave(num_generations, dim=0)
    if scale_rewards in ["group", "none"]:
        if num_generations > 1:
            std_rewards = nanstd(rewards.view(-1, num_generations), dim=1)
            std_rewards = std_rewards.repeat_interleave(num_generations, dim=0)
        else:
            std_rewards = torch.zeros_like(rewards)
    else:
        std_rewards = nanstd(rewards).expand_as(rewards) if rewards.numel() > 1 else torch.zeros_like(rewards)
    advantages = rewards - mean_grouped_rewards
    if scale_rewards != "none":
        advantages = advantages / (std_rewards + 1e-4)
    is_std_zero = torch.isclose(std_rewards, torch.zeros_like(std_rewards))
    advantages = torch.nan_to_num(advantages, nan=0.0)
    return advantages.tolist(), float(is_std_zero.double().mean())


def rloo(rewards, num_generations, normalize):
    rewards = torch.tensor(rewards, dtype=torch.float64)
    grouped_rewards = rewards.view(-1, num_generations)
    scorable_counts = (~torch.isnan(grouped_rewards)).sum(dim=1, keepdim=True)
    grouped_sum = torch.nansum(grouped_rewards, dim=1, keepdim=True)
    baselines = ((grouped_sum - grouped_rewards) / (scorable_counts - 1)).view(-1)
    advantages = rewards - baselines
    if normalize:
        advantages = (advantages - torch.nanmean(advantages)) / (nanstd(advantages) + 1e-4)
    return torch.nan_to_num(advantages, nan=0.0).tolist()


def weights(lengths, loss_type, max_completion_length):
    width = max_completion_length
    mask = torch.zeros(len(lengths), width, dtype=torch.float64)
    for i, l in enumerate(lengths):
        mask[i, :int(l)] = 1
    per_token_loss = torch.ones(len(lengths), width, dtype=torch.float64, requires_grad=True)
    if loss_type == "grpo":
        loss = ((per_token_loss * mask).sum(-1) / mask.sum(-1).clamp(min=1.0)).mean()
    elif loss_type == "bnpo":
        loss = (per_token_loss * mask).sum() / mask.sum().clamp(min=1.0)
    elif loss_type == "dr_grpo":
        loss = (per_token_loss * mask).sum() / (per_token_loss.size(0) * max_completion_length)
    elif loss_type == "luspo":
        loss = (per_token_loss * mask).sum(-1).mean()
    loss.backward()
    g = per_token_loss.grad
    # one weight per completion: its first token's (every real token of a row weighs the same)
    return [float(g[i, 0]) if lengths[i] > 0 else None for i in range(len(lengths))]


def main():
    nan = float("nan")
    batches = [
        {"name": "mixed", "rewards": [1, 0, 1, 1, 0.5, 0.5, 0.5, 0.5, 0, 0, 1, 0], "group_size": 4,
         "lengths": [120, 80, 95, 300, 40, 60, 75, 90, 10, 250, 33, 7]},
        {"name": "all_zero_spread", "rewards": [1, 1, 1, 0, 0, 0], "group_size": 3, "lengths": [5, 6, 7, 8, 9, 10]},
        {"name": "tenths", "rewards": [0.1, 0.1, 0.1, 0.7, 0.2, 0.9], "group_size": 3, "lengths": [3, 1, 4, 1, 5, 9]},
        {"name": "nan", "rewards": [1, nan, 0, 1, nan, nan, 0.25, 0.75, nan, 2, 2, 2], "group_size": 3,
         "lengths": [12, 0, 30, 4, 4, 4, 8, 16, 32, 1, 2, 3]},
        {"name": "continuous", "rewards": [0.31, -1.2, 2.5, 0.0, 0.77, 0.76, 0.75, 0.74], "group_size": 2,
         "lengths": [64, 64, 128, 1, 2, 256, 17, 3]},
    ]
    out = []
    for b in batches:
        r, g, lengths = b["rewards"], b["group_size"], b["lengths"]
        case = {"name": b["name"], "rewards": [None if (isinstance(x, float) and math.isnan(x)) else x for x in r],
                "group_size": g, "lengths": lengths, "grpo": {}, "rloo": {}}
        for scale in ("group", "batch", "none"):
            adv, frac = grpo(r, g, scale)
            case["grpo"][scale] = adv
            if scale != "batch":
                case["frac_reward_zero_std"] = frac
        case["rloo"]["none"] = rloo(r, g, False)
        case["rloo"]["batch"] = rloo(r, g, True)
        mcl = max(lengths)
        case["max_completion_length"] = mcl
        case["weights"] = {
            "token-mean": weights(lengths, "bnpo", mcl),
            "seq-mean-token-sum": weights(lengths, "luspo", mcl),
            "seq-mean-token-mean": weights(lengths, "grpo", mcl),
            "dr_grpo": weights(lengths, "dr_grpo", mcl),
        }
        out.append(case)
    with open(os.path.join(HERE, "dry_run.json"), "w") as f:
        json.dump({"meta": {"trl": trl.__version__, "torch": torch.__version__}, "cases": out}, f, indent=1)
    print(f"wrote {len(out)} cases (trl {trl.__version__})")


if __name__ == "__main__":
    main()
