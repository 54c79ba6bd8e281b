#!/usr/bin/env python3
"""tostring(t) against torch's repr (issue 13: "printing like PyTorch"), run by hand.

    /work/venv-torch/bin/python Tests/Differential/print_diff.py --seed 1   # needs torch and numpy

Draws random tensors (0-d to 3-d, empty axes anywhere, rows up to 1,200 for the summarised
form, f64/f32/i64/bool, whole numbers, large and small magnitudes that switch torch to
scientific notation, NaN/inf/-0.0), prints each with moonlab's tostring and torch's repr
at a width of 30 to 80 (moonlab.print_width, torch.set_printoptions(linewidth=...);
moonlab wraps at no more than the terminal's width, 80 when its output is not a
terminal), and compares them after removing the suffixes that differ by design: moonlab always ends with `dtype=f64` (and `shape=[...]` for 2-d and more), torch
with `dtype=torch.float64` unless float32 and `size=(...)` for empty tensors; torch's
True/False are moonlab's true/false (lua-api.md). Exit status 0 when nothing differs.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import torch


def draw(rng):
    nd = int(rng.integers(0, 4))
    shape = tuple(int(rng.choice([0, 1, 2, 3, 5, 12, 40])) if rng.random() < 0.9 else int(rng.integers(100, 1200)) for _ in range(nd))
    if np.prod(shape) > 5000:
        shape = shape[:1]
    dt = rng.choice(["f64", "f32", "i64", "bool"])
    kind = rng.choice(["norm", "int", "big", "small", "mixed", "special"])
    x = rng.standard_normal(shape)
    if kind == "int":
        x = np.round(x * 10)
    if kind == "big":
        x = x * 10.0 ** rng.integers(3, 12)
    if kind == "small":
        x = x * 10.0 ** -rng.integers(3, 9)
    if kind == "mixed":
        x = x * 10.0 ** rng.integers(-6, 6, size=shape)
    if kind == "special" and x.size:
        m = rng.random(shape) < 0.3
        x[m] = rng.choice([np.nan, np.inf, -np.inf, -0.0], size=shape)[m]
    if dt == "i64":
        x = np.nan_to_num(np.round(x), posinf=7, neginf=-7).astype(np.int64)
    elif dt == "bool":
        x = x > 0
    elif dt == "f32":
        x = x.astype(np.float32)
    return np.asarray(x)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--moonlab", default=None)
    args = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    moonlab = args.moonlab or os.path.join(root, ".build/debug/moonlab")
    rng = np.random.default_rng(args.seed)
    work = tempfile.mkdtemp(prefix="moonlab-print-")
    cases, widths = [], []
    for k in range(args.n):
        widths.append(int(rng.choice([80, 80, 30, 41, 55, 72])))
        x = draw(rng)
        np.save(os.path.join(work, f"c{k}.npy"), x)
        cases.append(x)
    lua = "\n".join(f"moonlab.print_width = {widths[k]}; io.write('=== {k}\\n', tostring(tensor.load('{work}/c{k}.npy')), '\\n')"
                    for k in range(len(cases)))
    with open(os.path.join(work, "print.lua"), "w") as f:
        f.write(lua)
    out = subprocess.run([moonlab, "run", os.path.join(work, "print.lua")], capture_output=True, text=True).stdout
    mine = re.split(r"^=== \d+\n", out, flags=re.M)[1:]
    bad = 0
    for k, x in enumerate(cases):
        torch.set_printoptions(linewidth=widths[k])
        want = repr(torch.from_numpy(x))
        got = mine[k].rstrip("\n") if k < len(mine) else "(no output)"
        g = re.sub(r",\s*(shape=\[[^\]]*\],\s*)?dtype=\w+\)$", ")", got, flags=re.S)
        w = re.sub(r",\s*(size=\([^)]*\))?,?\s*(dtype=torch\.\w+)?\)$", ")", want, flags=re.S)
        w = w.replace("True", "true").replace("False", "false")
        if g != w:
            bad += 1
            if bad <= 10:
                print(f"--- case {k} {x.dtype} {list(x.shape)} width {widths[k]}\nmoonlab: {got[:600]}\ntorch:   {want[:600]}")
    print(f"torch {torch.__version__}, seed {args.seed}, {len(cases)} tensors, {bad} differ")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
