#!/usr/bin/env python3
"""Writes grpo_humaneval.jsonl, the file Scripts/grpo_rewards.lua scores.

GRPO-style groups of 4 completions for a question built from each of the first 16 real
HumanEval prompts (Examples/data/human-eval/HumanEval.jsonl.gz): "How many doctest
examples (lines starting with >>>) does the docstring of <entry_point> show?". The answer
is counted from the prompt text; the prompt's code is only read as text, never run.
The 4 completions of a group are of four kinds, rotated per problem: right answer in the
<think>/<answer> format, right answer boxed inside that format, wrong answer in format,
right answer without the format. Deterministic.
Usage: python3 Scripts/data/make_grpo_humaneval.py
"""
import gzip
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "../../Examples/data/human-eval/HumanEval.jsonl.gz")


def completions(name, n):
    return [
        ("format_right", f"<think>The docstring of {name} shows {n} lines that start with >>>.</think> <answer>{n}</answer>"),
        ("boxed_right", f"<think>Counting the >>> lines of {name}.</think>\n<answer>\\boxed{{{n}}}</answer>"),
        ("format_wrong", f"<think>I skimmed {name} and guessed.</think> <answer>{n + 2}</answer>"),
        ("plain_right", f"{name} has {n} doctest examples, so the answer is {n}."),
    ]


def main():
    with gzip.open(SRC, "rt") as f:
        problems = [json.loads(line) for line in f][:16]
    with open(os.path.join(HERE, "grpo_humaneval.jsonl"), "w") as out:
        for i, p in enumerate(problems):
            name = p["entry_point"]
            n = p["prompt"].count(">>>")
            question = f"How many doctest examples (lines starting with >>>) does the docstring of {name} show?"
            group = completions(name, n)
            group = group[i % 4:] + group[:i % 4]
            for kind, text in group:
                out.write(json.dumps({"task_id": p["task_id"], "prompt": question, "completion": text,
                                      "answer": str(n), "kind": kind}) + "\n")


if __name__ == "__main__":
    main()
