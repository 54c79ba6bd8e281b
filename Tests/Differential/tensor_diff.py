#!/usr/bin/env python3
"""Randomized differential test of moonlab's tensor API against numpy (issue 13).

Run by hand (never in CI; moonlab never runs Python), with numpy 2.x:

    swift build                                   # or use a release build
    python3 Tests/Differential/tensor_diff.py     # --seed N --cases N --moonlab PATH --only CATEGORY

It generates random cases (shapes 0-d to 4-d with empty and size-1 axes; f32, f64, i64 and
bool with mixed promotion; values with ties, NaN, +-inf, -0.0 and large integers), writes the
inputs as .npy files, and runs one Lua script per batch through `moonlab run`. Each case
evaluates a Lua expression (1-based positions, inclusive ranges, 1-based axes, as
lua-api.md says) and moonlab writes every tensor result with tensor.save (.npy) and every
Lua value as a line; numpy computes the same thing and the two are compared exactly:
dtype, shape, and values bitwise (NaN equal to NaN, -0.0 distinct from 0.0), or within a
few ulps where the order of a float sum or a transcendental function may differ
(reported apart as "close"). Where numpy raises, moonlab must raise a Lua error (a
crash of the process is reported as such, with the case that caused it).

Orders of sort/argsort/topk follow torch, as the contract says (stable; NaN last
ascending and first descending; topk: ties to the lower position, NaN largest).

Exit status 0 when nothing differs. Differences are printed one per line with the Lua
expression, moonlab's answer and numpy's; --keep leaves the work directory for a look.
"""
import argparse
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
import json
import struct

import numpy as np

DT = {"f64": np.float64, "f32": np.float32, "i64": np.int64, "bool": np.bool_}
NAME = {np.dtype(v): k for k, v in DT.items()}
ERR = object()  # numpy raised


class Case:
    def __init__(self, cat, inputs, lua, fn, setup="", npsetup=None, tol="exact", note="", error_shape=None):
        self.cat = cat
        self.inputs = inputs          # name -> np.ndarray
        self.lua = lua                # Lua expression(s) returning the results
        self.fn = fn                  # numpy: dict of inputs -> tuple of results (after npsetup)
        self.setup = setup            # Lua statements run first (writes)
        self.npsetup = npsetup        # numpy: mutate the inputs the same way
        self.tol = tol                # "exact" | "ulp" (sums, transcendental)
        self.note = note
        self.error_shape = error_shape  # when an error is expected, the shape its message should name
        self.np_inputs = None         # the values numpy sees, when the Lua side makes views of the inputs

    def expected(self):
        env = {k: v.copy() for k, v in (self.np_inputs or self.inputs).items()}
        try:
            with np.errstate(all="ignore"):
                if self.npsetup:
                    self.npsetup(env)
                r = self.fn(env)
        except Exception:
            return ERR
        return list(r) if isinstance(r, tuple) else [r]


# ------------------------------------------------------------------------- random values
class Gen:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def r(self):
        return self.rng.random()

    def i(self, lo, hi):  # inclusive
        return int(self.rng.integers(lo, hi + 1))

    def choice(self, xs):
        return xs[int(self.rng.integers(0, len(xs)))]

    def shape(self, nd=None, lo=0, hi=5, empty=0.08):
        nd = self.i(0, 4) if nd is None else nd
        out = []
        for _ in range(nd):
            x = self.r()
            if x < empty:
                out.append(0)
            elif x < 0.3:
                out.append(1)
            else:
                out.append(self.i(max(lo, 1), hi))
        return tuple(out)

    def array(self, shape, dtype, special=0.15, ties=True, big=False, nonneg=False):
        n = int(np.prod(shape)) if len(shape) else 1
        if dtype == "bool":
            return (self.rng.random(shape) < 0.5)
        if dtype == "i64":
            if big and self.r() < 0.5:
                pool = np.array([2 ** 62, -(2 ** 62), 2 ** 63 - 1, -(2 ** 63), 2 ** 53 + 1, -(2 ** 53) - 1, 3, -3, 0, -1, 1], dtype=np.int64)
                x = pool[self.rng.integers(0, len(pool), size=shape)]
            else:
                x = self.rng.integers(-6 if not nonneg else 0, 7, size=shape).astype(np.int64)
            return np.asarray(x, dtype=np.int64).reshape(shape)
        if ties:
            x = np.round(self.rng.standard_normal(shape) * 2) / 2
        else:
            x = self.rng.standard_normal(shape) * 3
        x = np.asarray(x, dtype=np.float64).reshape(shape)
        if nonneg:
            x = np.abs(x)
        if special and n:
            pool = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, -np.nan])  # -nan: Lua's 0/0 on x86
            m = self.rng.random(shape) < special
            x[m] = pool[self.rng.integers(0, len(pool), size=shape)][m]
        return x.astype(DT[dtype])

    def dtype(self, weights=(3, 2, 2, 1)):
        return self.rng.choice(["f64", "f32", "i64", "bool"], p=np.array(weights) / sum(weights))


def lua_num(v):
    """A Lua literal for a Python number (ints exact, floats round-trip)."""
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        v = int(v)
        if v == -(2 ** 63):
            return "math.mininteger"
        return str(v) if v >= 0 else "(" + str(v) + ")"
    v = float(v)
    if math.isnan(v):
        return "(0/0)"
    if math.isinf(v):
        return "math.huge" if v > 0 else "-math.huge"
    if v == 0 and math.copysign(1, v) < 0:
        return "(-0.0)"
    s = repr(v)
    if "e" not in s and "." not in s:
        s += ".0"
    return "(" + s + ")"


def lua_list(xs):
    return "{" + ", ".join(lua_num(x) for x in xs) + "}"


# ------------------------------------------------------------------------- cases
def np_index_entry(g, n, allow_neg_step=True):
    """One Torch7 index entry for an axis of size n: (lua text, numpy index)."""
    kinds = ["pos", "all", "range", "step"] + (["back"] if allow_neg_step else [])
    if n == 0:
        return "{}", slice(None)
    k = g.choice(kinds)
    if k == "pos":
        p = g.i(1, n)
        if g.r() < 0.4:
            return str(p - n - 1), p - 1
        return str(p), p - 1
    if k == "all":
        return "{}", slice(None)
    i = g.i(1, n)
    j = g.i(i, n)
    li = str(i) if g.r() < 0.6 else str(i - n - 1)
    lj = str(j) if g.r() < 0.6 else str(j - n - 1)
    if k == "range":
        return f"{{{li}, {lj}}}", slice(i - 1, j)
    if k == "step":
        s = g.i(1, 3)
        return f"{{{li}, {lj}, {s}}}", slice(i - 1, j, s)
    # backwards: from j down to i
    s = g.i(1, 3)
    lj2 = str(j) if g.r() < 0.5 else str(j - n - 1)
    li2 = str(i) if g.r() < 0.5 else str(i - n - 1)
    return f"{{{lj2}, {li2}, {-s}}}", slice(j - 1, (i - 2) if i >= 2 else None, -s)


def cases_indexing(g, out):
    for _ in range(160):
        nd = g.i(1, 4)
        shape = g.shape(nd, empty=0.05)
        dt = g.dtype()
        a = g.array(shape, dt)
        used = g.i(1, nd)
        ents = [np_index_entry(g, shape[k]) for k in range(used)]
        lua = "{" + ", ".join(e[0] for e in ents) + "}"
        npi = tuple(e[1] for e in ents)
        out.append(Case("index-read", {"a": a}, f"a[{lua}]", lambda e, npi=npi: e["a"][npi]))
        # writes: scalar, broadcast tensor, through a view of a view
        val = {"bool": "true", "i64": "-7"}.get(dt, "2.5")
        pyv = {"bool": True, "i64": -7}.get(dt, 2.5)

        def w(e, npi=npi, pyv=pyv):
            e["a"][npi] = pyv
        out.append(Case("index-write", {"a": a}, "a", lambda e: e["a"], setup=f"a[{lua}] = {val}", npsetup=w))
        sub_shape = a[npi].shape
        if len(sub_shape) >= 1:
            # a tensor broadcast into the selection (its last axis, or size 1)
            bshape = (sub_shape[-1],) if g.r() < 0.5 else (1,) * g.i(1, len(sub_shape))
            bdt = g.dtype()
            b = g.array(bshape, bdt, special=0.0)

            def w2(e, npi=npi):
                e["a"][npi] = e["b"]
            note = "" if np.can_cast(b.dtype, a.dtype, "same_kind") else "unsafe cast on write (numpy casts)"
            out.append(Case("index-write", {"a": a, "b": b}, "a", lambda e: e["a"], setup=f"a[{lua}] = b", npsetup=w2, note=note))
            # a view of the view, written with [{}]
            v2 = np_index_entry(g, sub_shape[0])

            def w3(e, npi=npi, v2=v2, pyv=pyv):
                v = e["a"][npi]
                v[v2[1]] = pyv
            out.append(Case("view-of-view", {"a": a}, "a", lambda e: e["a"],
                            setup=f"local v = a[{lua}]; local u = v[{{{v2[0]}}}]; if type(u) == 'userdata' then u[{{}}] = {val} else v[{{{v2[0]}}}] = {val} end",
                            npsetup=w3))
    # transposed / permuted views written through
    for _ in range(40):
        shape = g.shape(g.i(2, 4), lo=1, empty=0)
        dt = g.dtype()
        a = g.array(shape, dt)
        nd = len(shape)
        perm = list(g.rng.permutation(nd))
        val = {"bool": "false", "i64": "9"}.get(dt, "-1.25")
        pyv = {"bool": False, "i64": 9}.get(dt, -1.25)
        pshape = tuple(shape[p] for p in perm)
        ent = np_index_entry(g, pshape[0])

        def w(e, perm=perm, ent=ent, pyv=pyv):
            np.transpose(e["a"], perm)[ent[1]] = pyv
        out.append(Case("permuted-write", {"a": a}, "a", lambda e: e["a"],
                        setup=f"local v = a:permute{{{', '.join(str(p + 1) for p in perm)}}}; v[{{{ent[0]}}}] = {val}", npsetup=w))
        out.append(Case("permuted-read", {"a": a}, f"a:permute{{{', '.join(str(p - nd) for p in perm)}}}[{{{ent[0]}}}]",
                        lambda e, perm=perm, ent=ent: np.transpose(e["a"], perm)[ent[1]]))
        # transpose then index then arithmetic then clone
        if nd >= 2:
            out.append(Case("T-write", {"a": a[(0,) * (nd - 2)]}, "a", lambda e: e["a"],
                            setup=f"local t = a:T(); t[{{1}}] = {val}",
                            npsetup=lambda e, pyv=pyv: e["a"].T.__setitem__(0, pyv)))
            out.append(Case("reshape-view-write", {"a": a}, "a", lambda e: e["a"],
                            setup=f"local r = a:reshape{{-1}}; r[{{{{1, -1, 2}}}}] = {val}",
                            npsetup=lambda e, pyv=pyv: e["a"].reshape(-1).__setitem__(slice(0, None, 2), pyv)))
            out.append(Case("unsqueeze-write", {"a": a}, "a", lambda e: e["a"],
                            setup=f"local r = a:unsqueeze(2); r[{{{{}}, 1, -1}}] = {val}",
                            npsetup=lambda e, pyv=pyv: np.expand_dims(e["a"], 1).__setitem__((slice(None), 0, -1), pyv)))
    # t[i] on 1-d is a number; on n-d a row view; negative; ipairs
    for _ in range(20):
        dt = g.dtype()
        n = g.i(1, 6)
        a = g.array((n,), dt, big=True)
        i = g.i(1, n) * g.choice([1, -1])
        p = i - 1 if i > 0 else n + i
        out.append(Case("t[i]", {"a": a}, f"a[{i}]", lambda e, p=p: e["a"][p]))
        b = g.array((g.i(1, 4), n), dt)
        out.append(Case("t[i] row", {"a": b}, f"a[{-1}]", lambda e: e["a"][-1]))
        out.append(Case("ipairs", {"a": b}, "(function() local s = {} for i, r in ipairs(a) do s[#s + 1] = r:clone() end return tensor.stack(s) end)()",
                        lambda e: e["a"]))
        val = lua_num(a[0])
        out.append(Case("t[i]=x", {"a": a}, "a", lambda e: e["a"], setup=f"a[{i}] = {val}",
                        npsetup=lambda e, p=p, v=a[0]: e["a"].__setitem__(p, v)))
    # out of range: errors naming the shape
    for _ in range(40):
        nd = g.i(1, 3)
        shape = g.shape(nd, lo=1, empty=0.1)
        a = g.array(shape, "f64")
        ax = g.i(0, nd - 1)
        n = shape[ax]
        bad = g.choice([n + 1, -n - 1, 0, n + 5])
        kind = g.choice(["pos", "range", "rangeend"])
        ents = ["{}"] * nd
        # an empty range {i, j} with j before i is allowed from 1 to one past the end (design)
        if kind == "pos":
            ents[ax] = str(bad)
        elif kind == "range":
            ents[ax] = f"{{{g.choice([0, -n - 1, n + 5])}, {max(n, 1)}}}"
        else:
            ents[ax] = f"{{1, {g.choice([n + 1, n + 5])}}}"
        out.append(Case("index-error", {"a": a}, f"a[{{{', '.join(ents)}}}]", lambda e: (_ for _ in ()).throw(IndexError()),
                        error_shape=shape))
        bad0 = g.choice([shape[0] + 1, -shape[0] - 1, 0])
        out.append(Case("index-error", {"a": a}, f"a[{bad0}]", lambda e: (_ for _ in ()).throw(IndexError()), error_shape=shape))
        out.append(Case("index-error", {"a": a}, "a[{" + ", ".join(["1"] * (nd + 1)) + "}]",
                        lambda e: (_ for _ in ()).throw(IndexError()), error_shape=shape))
    # i64 tensor keys of any shape (numpy's a[p]: shape p.shape + a.shape[1:]) read and written
    for _ in range(40):
        shape = g.shape(g.i(1, 3), lo=1, empty=0)
        dt = g.dtype()
        a = g.array(shape, dt)
        n = shape[0]
        pshape = g.shape(g.i(0, 2), lo=1, empty=0.1)
        p = g.rng.integers(-n, n, size=pshape).astype(np.int64)
        lp = np.where(p >= 0, p + 1, p).astype(np.int64)
        out.append(Case("i64-key", {"a": a, "p": lp}, "a[p]", lambda e: e["a"][np.where(e["p"] > 0, e["p"] - 1, e["p"])]))
        vshape = (1,) * g.i(0 if pshape + shape[1:] else 0, 2 if pshape + shape[1:] else 0) + tuple(pshape[g.i(0, len(pshape)):]) + shape[1:]
        if g.r() < 0.3 and len(vshape) > 0:
            vshape = vshape[:-1] + (1,)
        v = g.array(vshape, dt, special=0)
        # numpy's a[p] = v with repeated positions keeps the last write
        out.append(Case("i64-key-write", {"a": a, "p": lp, "v": v}, "a", lambda e: e["a"], setup="a[p] = v",
                        npsetup=lambda e: e["a"].__setitem__(np.where(e["p"] > 0, e["p"] - 1, e["p"]), e["v"])))
    # overlapping writes: shifted and transposed copies of the same tensor
    for _ in range(20):
        n = g.i(2, 5)
        dt = g.dtype()
        a = g.array((n, n), dt)
        out.append(Case("overlap-write", {"a": a}, "a", lambda e: e["a"], setup=f"a[{{{{2, {n}}}}}] = a[{{{{1, {n - 1}}}}}]",
                        npsetup=lambda e, n=n: e["a"].__setitem__(slice(1, n), e["a"][0:n - 1].copy())))
        out.append(Case("overlap-write", {"a": a}, "a", lambda e: e["a"], setup="a[{}] = a:T()",
                        npsetup=lambda e: e["a"].__setitem__(Ellipsis, e["a"].T.copy())))
        out.append(Case("overlap-write", {"a": a}, "a", lambda e: e["a"], setup="a[{{}, 1}] = a[1]",
                        npsetup=lambda e: e["a"].__setitem__((slice(None), 0), e["a"][0].copy())))
        v = g.array((1, 1, n), dt, special=0)
        out.append(Case("leading-ones-write", {"a": a, "v": v}, "a", lambda e: e["a"], setup="a[2] = v",
                        npsetup=lambda e: e["a"].__setitem__(1, e["v"])))
    # masks read and write, full and leading-axes masks
    for _ in range(50):
        shape = g.shape(g.i(1, 3), empty=0.05)
        dt = g.dtype()
        a = g.array(shape, dt)
        k = g.i(1, len(shape))
        m = g.array(shape[:k], "bool")
        out.append(Case("mask-read", {"a": a, "m": m}, "a[m]", lambda e: e["a"][e["m"]]))
        val = {"bool": "true", "i64": "3"}.get(dt, "-0.5")
        pyv = {"bool": True, "i64": 3}.get(dt, -0.5)
        out.append(Case("mask-write", {"a": a, "m": m}, "a", lambda e: e["a"], setup=f"a[m] = {val}",
                        npsetup=lambda e, pyv=pyv: e["a"].__setitem__(e["m"], pyv)))
        cnt = int(m.sum())
        vals = g.array((cnt,) + shape[k:], dt, special=0)
        out.append(Case("mask-write-tensor", {"a": a, "m": m, "v": vals}, "a", lambda e: e["a"], setup="a[m] = v",
                        npsetup=lambda e: e["a"].__setitem__(e["m"], e["v"])))
        if dt in ("f64", "f32"):
            out.append(Case("mask-nan", {"a": a}, "a[a:isnan()]", lambda e: e["a"][np.isnan(e["a"])]))
            out.append(Case("mask-nan-write", {"a": a}, "a", lambda e: e["a"], setup="a[a:isnan()] = 0",
                            npsetup=lambda e: e["a"].__setitem__(np.isnan(e["a"]), 0)))
        # mask of a transposed view
        if len(shape) == 2:
            mt = g.array(shape[::-1], "bool")
            out.append(Case("mask-T-write", {"a": a, "m": mt}, "a", lambda e: e["a"], setup=f"local t = a:T(); t[m] = {val}",
                            npsetup=lambda e, pyv=pyv: e["a"].T.__setitem__(e["m"], pyv)))
            out.append(Case("mask-T-read", {"a": a, "m": mt}, "a:T()[m]", lambda e: e["a"].T[e["m"]]))
    # index and gather
    for _ in range(60):
        nd = g.i(1, 3)
        shape = g.shape(nd, lo=1, empty=0)
        dt = g.dtype()
        a = g.array(shape, dt)
        ax = g.i(0, nd - 1)
        n = shape[ax]
        pos = [g.i(0, n - 1) for _ in range(g.i(0, 5))]
        neg = [p - n if g.r() < 0.3 else p for p in pos]
        lua_pos = "{" + ", ".join(str(p + 1) if p >= 0 else str(p) for p in neg) + "}"
        lax = ax + 1 if g.r() < 0.6 else ax - nd
        if pos:
            out.append(Case("index", {"a": a}, f"a:index({lax}, {lua_pos})", lambda e, ax=ax, pos=pos: np.take(e["a"], pos, axis=ax)))
            pt = np.array([p + 1 for p in pos], dtype=np.int64)
            out.append(Case("index-i64", {"a": a, "p": pt}, f"a:index({lax}, p)", lambda e, ax=ax: np.take(e["a"], e["p"] - 1, axis=ax)))
        pk = g.rng.integers(-n, n, size=g.shape(g.choice([0, 2]), lo=1, empty=0.1)).astype(np.int64)
        out.append(Case("index-i64-nd", {"a": a, "p": np.where(pk >= 0, pk + 1, pk).astype(np.int64)}, f"a:index({lax}, p)",
                        lambda e, ax=ax: np.take(e["a"], np.where(e["p"] > 0, e["p"] - 1, e["p"]), axis=ax)))
        gshape = list(shape)
        gshape[ax] = g.i(1, 4)
        for d in range(nd):
            if d != ax and g.r() < 0.3:
                gshape[d] = g.i(1, shape[d])
        gi = g.rng.integers(0, n, size=gshape).astype(np.int64)
        out.append(Case("gather", {"a": a, "p": gi + 1}, f"a:gather({lax}, p)",
                        lambda e, ax=ax: np.take_along_axis(e["a"], e["p"] - 1, axis=ax)
                        if e["p"].shape == tuple(e["p"].shape) and all(e["p"].shape[d] == e["a"].shape[d] for d in range(e["a"].ndim) if d != ax)
                        else torch_gather(e["a"], e["p"] - 1, ax)))
        out.append(Case("index-oob", {"a": a}, f"a:index({lax}, {{{n + 1}}})", lambda e: (_ for _ in ()).throw(IndexError()), error_shape=shape))


def torch_gather(a, idx, ax):
    """torch.gather: idx may be smaller than a on the other axes."""
    if any(idx.shape[d] > a.shape[d] for d in range(a.ndim) if d != ax):
        raise ValueError("gather")
    sl = tuple(slice(0, idx.shape[d]) if d != ax else slice(None) for d in range(a.ndim))
    return np.take_along_axis(a[sl], idx, axis=ax)


# -------------------------------------------------------------- broadcasting and promotion
BIN = [("+", np.add), ("-", np.subtract), ("*", np.multiply), ("/", np.true_divide), ("//", np.floor_divide),
       ("%", np.remainder), ("^", np.power)]
CMP = [("eq", np.equal), ("ne", np.not_equal), ("lt", np.less), ("le", np.less_equal), ("gt", np.greater), ("ge", np.greater_equal)]


def np_bin(sym, f, a, b):
    if sym == "^":
        # numpy refuses integers to negative integer powers: so does moonlab (checked apart)
        r = f(a, b)
    else:
        r = f(a, b)
    r = np.asarray(r)
    if r.dtype in (np.int8, np.int16, np.int32, np.uint8):  # numpy's bool // bool: moonlab computes in i64
        r = r.astype(np.int64)
    if r.dtype == np.float16:
        r = r.astype(np.float32)
    return r


def bshapes(g):
    out = g.shape(g.i(0, 4), empty=0.05)
    a = list(out)
    b = list(out)
    for k in range(len(out)):
        x = g.r()
        if x < 0.25:
            a[k] = 1
        elif x < 0.5:
            b[k] = 1
    a = a[g.i(0, len(a)):] if g.r() < 0.3 else a
    b = b[g.i(0, len(b)):] if g.r() < 0.3 else b
    return tuple(a), tuple(b)


def cases_broadcast(g, out):
    for _ in range(500):
        sa, sb = bshapes(g)
        da, db = g.dtype(), g.dtype()
        big = g.r() < 0.2
        a, b = g.array(sa, da, big=big), g.array(sb, db, big=big)
        sym, f = g.choice(BIN)
        if sym == "^" and da in ("i64", "bool") and db in ("i64", "bool"):
            b = np.abs(b) % 5 if db == "i64" else b
        if sym == "-" and da == "bool" and db == "bool":
            pass  # numpy raises; moonlab must too
        tol = "ulp" if sym in ("^",) else "exact"
        out.append(Case("broadcast", {"a": a, "b": b}, f"a {sym} b", lambda e, sym=sym, f=f: np_bin(sym, f, e["a"], e["b"]), tol=tol))
        nm, cf = g.choice(CMP)
        out.append(Case("compare", {"a": a, "b": b}, f"a:{nm}(b)", lambda e, cf=cf: cf(e["a"], e["b"])))
        mm = g.choice([("maximum", np.maximum), ("minimum", np.minimum)])
        out.append(Case("maxmin", {"a": a, "b": b}, f"tensor.{mm[0]}(a, b)", lambda e, f=mm[1]: np_bin("", f, e["a"], e["b"])))
        # weak scalars on either side
        s = g.choice([2, -3, 0, 2.5, -0.5, 0.1, True, False, 7, 1e300, -0.0, float("inf"), float("nan"), 2 ** 62])
        sym, f = g.choice(BIN)
        if sym == "^" and da in ("i64", "bool") and isinstance(s, int) and s < 0:
            s = 2
        if sym == "^" and isinstance(s, int) and abs(s) > 10:
            s = 3
        ls = lua_num(s)
        tol = "ulp" if sym == "^" else "exact"
        out.append(Case("weak-scalar", {"a": a}, f"a {sym} {ls}", lambda e, sym=sym, f=f, s=s: np_bin(sym, f, e["a"], s), tol=tol))
        out.append(Case("weak-scalar", {"a": a}, f"{ls} {sym} a", lambda e, sym=sym, f=f, s=s: np_bin(sym, f, s, e["a"]), tol=tol))
        nm, cf = g.choice(CMP)
        out.append(Case("compare-scalar", {"a": a}, f"a:{nm}({ls})", lambda e, cf=cf, s=s: cf(e["a"], s)))
    # unary minus, where
    for _ in range(80):
        sa, sb = bshapes(g)
        da, db = g.dtype(), g.dtype()
        a, b = g.array(sa, da), g.array(sb, db)
        out.append(Case("unm", {"a": a}, "-a", lambda e: -e["a"] if e["a"].dtype != np.bool_ else (_ for _ in ()).throw(TypeError())))
        cshape = g.choice([sa, sb, sa[1:] if sa else sa])
        c = g.array(cshape, "bool")
        out.append(Case("where", {"c": c, "a": a, "b": b}, "tensor.where(c, a, b)", lambda e: np.where(e["c"], e["a"], e["b"])))
        s = g.choice([1, 2.5, True, -0.0, float("nan")])
        out.append(Case("where-scalar", {"c": c, "a": a}, f"tensor.where(c, a, {lua_num(s)})", lambda e, s=s: np.where(e["c"], e["a"], s)))
        out.append(Case("where-scalar", {"c": c, "a": a}, f"tensor.where(c, {lua_num(s)}, a)", lambda e, s=s: np.where(e["c"], s, e["a"])))
        out.append(Case("where-2scalars", {"c": c}, f"tensor.where(c, {lua_num(s)}, 3)", lambda e, s=s: np.where(e["c"], s, 3)))
    # integer corner cases
    ints = np.array([7, -7, 0, 1, -1, 2 ** 63 - 1, -(2 ** 63), 3, -3, 2 ** 62], dtype=np.int64)
    divs = np.array([2, -2, 0, 3, -3, -1, 1, 0, 5, 4], dtype=np.int64)
    for sym, f in BIN[:6]:
        out.append(Case("int-edge", {"a": ints, "b": divs}, f"a {sym} b", lambda e, sym=sym, f=f: np_bin(sym, f, e["a"], e["b"])))
    fl = np.array([7.0, -7.0, 0.0, -0.0, 1.0, np.inf, -np.inf, np.nan, 5.5, -5.5])
    fd = np.array([2.0, -2.0, 0.0, 0.0, -0.0, 3.0, np.inf, 1.0, np.inf, -np.inf])
    for sym, f in BIN:
        for d in ("f64", "f32"):
            out.append(Case("float-edge", {"a": fl.astype(DT[d]), "b": fd.astype(DT[d])}, f"a {sym} b",
                            lambda e, sym=sym, f=f: np_bin(sym, f, e["a"], e["b"]), tol="ulp" if sym == "^" else "exact"))
    out.append(Case("int-pow-neg", {"a": ints}, "a ^ -1", lambda e: np.power(e["a"], -1)))
    out.append(Case("int-pow", {"a": np.array([2, 3, -4, 0, 10], dtype=np.int64), "b": np.array([0, 3, 5, 0, 19], dtype=np.int64)}, "a ^ b",
                    lambda e: e["a"] ** e["b"]))


# ------------------------------------------------------------------------- unary
UN = [("exp", np.exp, "ulp"), ("log", np.log, "ulp"), ("log1p", np.log1p, "ulp"), ("expm1", np.expm1, "ulp"),
      ("abs", np.abs, "exact"), ("sqrt", np.sqrt, "exact"), ("tanh", np.tanh, "ulp"),
      ("floor", np.floor, "exact"), ("ceil", np.ceil, "exact"), ("round", np.round, "exact"), ("sign", np.sign, "exact")]


def np_unary(name, f, a):
    if name in ("exp", "log", "log1p", "expm1", "sqrt", "tanh") and a.dtype != np.float32:
        return f(a.astype(np.float64))
    if name == "sign" and a.dtype == np.bool_:
        raise TypeError
    if name in ("floor", "ceil", "round") and a.dtype == np.bool_:
        return a  # numpy 2 keeps bool for floor/ceil? checked below
    return f(a)


def cases_unary(g, out):
    for _ in range(150):
        shape = g.shape(empty=0.05)
        dt = g.dtype((3, 3, 2, 1))
        a = g.array(shape, dt, ties=g.r() < 0.5, big=g.r() < 0.2)
        name, f, tol = g.choice(UN)
        if dt == "bool" and name in ("floor", "ceil", "round", "abs"):
            continue
        out.append(Case("unary", {"a": a}, f"a:{name}()", lambda e, name=name, f=f: np_unary(name, f, e["a"]), tol=tol))
        if dt != "bool":
            lo, hi = sorted([g.choice([-1, 0, 0.5, -2.5, 2]), g.choice([1, 2, 0.5, 3])])
            out.append(Case("clamp", {"a": a}, f"a:clamp({lua_num(lo)}, {lua_num(hi)})", lambda e, lo=lo, hi=hi: np.clip(e["a"], lo, hi)))
            out.append(Case("clamp-lo", {"a": a}, f"a:clamp({lua_num(lo)}, nil)", lambda e, lo=lo: np.clip(e["a"], lo, None)))
        if dt in ("f64", "f32"):
            out.append(Case("sigmoid", {"a": a}, "a:sigmoid()", lambda e: (1 / (1 + np.exp(-e["a"].astype(np.float64)))).astype(e["a"].dtype), tol="ulp"))
        out.append(Case("isnan", {"a": a}, "a:isnan()", lambda e: np.isnan(e["a"])))
        out.append(Case("isfinite", {"a": a}, "a:isfinite()", lambda e: np.isfinite(e["a"])))
        for d in ("f64", "f32", "i64", "bool"):
            if dt in ("f64", "f32") and d == "i64":
                # numpy: NaN, inf and out of range give the smallest i64 on x86 (the contract says so)
                out.append(Case("to", {"a": a}, f"a:to('{d}')", lambda e: np.where(np.isfinite(e["a"]) & (np.abs(e["a"].astype(np.float64)) < 2.0 ** 63), e["a"], 0).astype(np.int64)
                                * 1 + np.where(np.isfinite(e["a"]) & (np.abs(e["a"].astype(np.float64)) < 2.0 ** 63), 0, np.int64(-(2 ** 63)))))
                continue
            out.append(Case("to", {"a": a}, f"a:to('{d}')", lambda e, d=d: e["a"].astype(DT[d])))


# ------------------------------------------------------------------------- reductions
def logsumexp(x, axis=None, keepdims=False):
    x = np.asarray(x)
    if x.size == 0:
        r = np.full(np.sum(x, axis=axis, keepdims=keepdims).shape, -np.inf, dtype=x.dtype)
        return r if axis is not None else r.reshape(())
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    with np.errstate(all="ignore"):
        r = np.log(np.sum(np.exp(x.astype(np.float64) - m), axis=axis, keepdims=True)) + m
    mx = np.max(x, axis=axis, keepdims=True)
    r = np.where(np.isposinf(mx), np.inf, r)
    r = np.where(np.isnan(x).any(axis=axis, keepdims=True), np.nan, r)
    if not keepdims:
        r = np.squeeze(r, axis=axis) if axis is not None else r.reshape(())
    return r.astype(x.dtype)


def red_np(name, x, axis, keep, ddof=1):
    kw = dict(axis=axis, keepdims=keep)
    if name in ("argmax", "argmin"):
        f = np.argmax if name == "argmax" else np.argmin
        if axis is None:
            return np.int64(f(x) + 1)
        return f(x, axis=axis, keepdims=keep) + 1
    if name == "logsumexp":
        if x.dtype in (np.int64, np.bool_):
            x = x.astype(np.float64)
        return logsumexp(x, axis, keep)
    if name in ("var", "std"):
        xf = x.astype(np.float64) if x.dtype in (np.int64, np.bool_) else x
        return getattr(np, name)(xf, ddof=ddof, **kw)
    if name in ("nansum", "nanmean") and x.dtype == np.bool_:
        x = x.astype(np.int64) if name == "nansum" else x
    if name == "mean" and x.dtype == np.bool_:
        return np.mean(x.astype(np.float64), **kw)
    r = getattr(np, name)(x, **kw)
    return r


REDS = ["sum", "mean", "min", "max", "prod", "nansum", "nanmean", "any", "all", "argmax", "argmin", "var", "std", "logsumexp"]


def cases_reduce(g, out):
    for _ in range(450):
        shape = g.shape(empty=0.06)
        nd = len(shape)
        dt = g.dtype((3, 3, 2, 1))
        a = g.array(shape, dt, special=g.choice([0, 0, 0.1, 0.3]), big=g.r() < 0.1)
        name = g.choice(REDS)
        ddof = g.choice([0, 1, 2]) if name in ("var", "std") else None
        tol = "exact" if name in ("min", "max", "any", "all", "argmax", "argmin") else "ulp"
        if dt in ("i64", "bool") and name in ("sum", "prod", "nansum"):
            tol = "exact"
        opt = f"ddof = {ddof}" if ddof is not None else ""
        if g.r() < 0.25 or nd == 0:
            lua = f"a:{name}({{{opt}}})" if opt else f"a:{name}()"
            out.append(Case("reduce-all", {"a": a}, lua, lambda e, name=name, ddof=ddof: red_np(name, e["a"], None, False, ddof), tol=tol))
        else:
            ax = g.i(0, nd - 1)
            lax = ax + 1 if g.r() < 0.5 else ax - nd
            keep = g.r() < 0.4
            o = f"axis = {lax}, keepdim = {str(keep).lower()}" + (", " + opt if opt else "")
            out.append(Case("reduce-axis", {"a": a}, f"a:{name}{{{o}}}",
                            lambda e, name=name, ax=ax, keep=keep, ddof=ddof: red_np(name, e["a"], ax, keep, ddof), tol=tol))
    for _ in range(120):
        shape = g.shape(empty=0.06)
        nd = len(shape)
        dt = g.dtype((3, 3, 2, 1))
        a = g.array(shape, dt, special=g.choice([0, 0.2]), big=g.r() < 0.1)
        op = g.choice(["cumsum", "cumprod"])
        f = np.cumsum if op == "cumsum" else np.cumprod
        tol = "exact" if dt in ("i64", "bool") else "ulp"
        conv = (lambda x: x.astype(np.int64) if x.dtype == np.bool_ else x)
        if nd == 0 or g.r() < 0.3:
            out.append(Case("scan-flat", {"a": a}, f"a:{op}()", lambda e, f=f: f(conv(e["a"])), tol=tol))
        else:
            ax = g.i(0, nd - 1)
            lax = ax + 1 if g.r() < 0.5 else ax - nd
            form = g.choice([f"a:{op}{{{lax}}}", f"a:{op}({lax})", f"a:{op}{{axis = {lax}}}"])
            out.append(Case("scan-axis", {"a": a}, form, lambda e, f=f, ax=ax: f(conv(e["a"]), axis=ax), tol=tol))
    # logsumexp rows of -inf, +inf, NaN
    rows = np.array([[-np.inf, -np.inf, -np.inf], [np.inf, 1, 2], [np.nan, 1, 2], [np.inf, np.inf, 0], [np.inf, -np.inf, np.nan],
                     [0, 0, 0], [-1000, -1000, -np.inf], [1000, 1000, 999]])
    for d in ("f64", "f32"):
        out.append(Case("logsumexp-edge", {"a": rows.astype(DT[d])}, "a:logsumexp{axis = -1}", lambda e: logsumexp(e["a"], -1), tol="ulp"))
        out.append(Case("logsumexp-edge", {"a": rows.astype(DT[d])}, "a:logsumexp{axis = 1}", lambda e: logsumexp(e["a"], 0), tol="ulp"))
    # argmax/argmin ties and NaN, -0.0 vs 0.0
    for _ in range(40):
        shape = g.shape(g.i(1, 3), lo=1, empty=0)
        dt = g.choice(["f64", "f32", "i64", "bool"])
        a = g.array(shape, dt, special=0.3)
        ax = g.i(0, len(shape) - 1)
        for nm in ("argmax", "argmin", "max", "min"):
            out.append(Case("arg-ties", {"a": a}, f"a:{nm}{{axis = {ax + 1}}}", lambda e, nm=nm, ax=ax: red_np(nm, e["a"], ax, False)))


# ------------------------------------------------------------------------- ordering (torch's)
def torch_order(row, descending):
    def key(i):
        v = row[i]
        if isinstance(v, (bool, np.bool_)):
            v = int(v)
        nan = isinstance(v, (float, np.floating)) and math.isnan(v)
        if descending:
            return (0 if nan else 1, 0 if nan else -float(v) if not isinstance(v, (int, np.integer)) else -int(v), i)
        return (1 if nan else 0, 0 if nan else (float(v) if not isinstance(v, (int, np.integer)) else int(v)), i)
    return sorted(range(len(row)), key=key)


def order_along(x, axis, descending):
    xm = np.moveaxis(x, axis, -1)
    idx = np.empty(xm.shape, dtype=np.int64)
    for pos in np.ndindex(xm.shape[:-1]):
        idx[pos] = torch_order(list(xm[pos]), descending)
    vals = np.take_along_axis(xm, idx, axis=-1)
    return np.moveaxis(vals, -1, axis), np.moveaxis(idx, -1, axis)


def cases_order(g, out):
    for _ in range(220):
        shape = g.shape(g.i(1, 3), empty=0.05)
        nd = len(shape)
        dt = g.dtype((3, 3, 2, 1))
        a = g.array(shape, dt, special=g.choice([0, 0.2, 0.4]), big=g.r() < 0.1)
        ax = g.i(0, nd - 1)
        lax = ax + 1 if g.r() < 0.5 else ax - nd
        desc = g.r() < 0.5
        what = g.choice(["sort", "argsort", "topk"])
        if what == "sort":
            out.append(Case("sort", {"a": a}, f"a:sort{{axis = {lax}, descending = {str(desc).lower()}}}",
                            lambda e, ax=ax, desc=desc: (lambda v, i: (v, i + 1))(*order_along(e["a"], ax, desc))))
        elif what == "argsort":
            out.append(Case("argsort", {"a": a}, f"a:argsort{{axis = {lax}, descending = {str(desc).lower()}}}",
                            lambda e, ax=ax, desc=desc: order_along(e["a"], ax, desc)[1] + 1))
        else:
            n = shape[ax]
            k = g.i(0, n + (1 if g.r() < 0.1 else 0))
            largest = g.r() < 0.6

            def tk(e, ax=ax, k=k, largest=largest):
                if k > e["a"].shape[ax]:
                    raise ValueError
                v, i = order_along(e["a"], ax, largest)
                sl = tuple(slice(0, k) if d == ax else slice(None) for d in range(e["a"].ndim))
                return v[sl], i[sl] + 1
            opt = f", {{axis = {lax}, largest = {str(largest).lower()}}}" if (lax not in (-1, nd) or not largest or g.r() < 0.5) else ""
            out.append(Case("topk", {"a": a}, f"a:topk({k}{opt})", tk))
    # dist.argmax and dist.topk: 0-based ids; NaN rows
    for _ in range(40):
        shape = (g.i(1, 6),) if g.r() < 0.5 else (g.i(1, 3), g.i(1, 6))
        dt = g.choice(["f64", "f32"])
        a = g.array(shape, dt, special=g.choice([0, 0.2]))
        k = g.i(1, shape[-1])
        out.append(Case("dist.argmax", {"a": a}, "dist.argmax(a)", lambda e: np.argmax(e["a"], axis=-1)))
        out.append(Case("dist.topk", {"a": a}, f"dist.topk(a, {k})",
                        lambda e, k=k: (order_along(e["a"], -1, True)[1][..., :k], order_along(e["a"], -1, True)[0][..., :k])))


# ------------------------------------------------------------------------- shapes
def cases_shape(g, out):
    for _ in range(220):
        shape = g.shape(empty=0.06)
        nd = len(shape)
        dt = g.dtype()
        a = g.array(shape, dt)
        base = g.choice(["a", "a", "a:T()" if nd == 2 else "a", "a:permute{" + ", ".join(str(p + 1) for p in reversed(range(nd))) + "}" if nd else "a"])
        if base == "a:T()":
            npb = lambda x: x.T
        elif base.startswith("a:permute"):
            npb = lambda x: np.transpose(x)
        else:
            npb = lambda x: x
        bshape = npb(a).shape
        op = g.choice(["reshape", "flatten", "transpose", "unsqueeze", "squeeze", "squeeze-axis", "expand", "T", "slice", "clone", "contiguous", "totable"])
        if op == "reshape":
            n = int(np.prod(bshape)) if bshape else 1
            divs = [d for d in range(1, n + 1) if n % d == 0] or [1]
            d1 = g.choice(divs) if n else g.choice([0, 1, 2])
            target = [d1, -1] if n or d1 else [d1, 3]
            if g.r() < 0.3:
                target = [-1]
            if g.r() < 0.2:
                target = [-1, 1] + ([1] if g.r() < 0.5 else [])
            lua = f"{base}:reshape{{{', '.join(map(str, target))}}}"
            out.append(Case("reshape", {"a": a}, lua, lambda e, npb=npb, target=target: npb(e["a"]).reshape(target)))
        elif op == "flatten":
            out.append(Case("flatten", {"a": a}, f"{base}:flatten()", lambda e, npb=npb: npb(e["a"]).reshape(-1)))
        elif op == "transpose" and nd >= 1:
            i, j = g.i(0, nd - 1), g.i(0, nd - 1)
            li = i + 1 if g.r() < 0.5 else i - nd
            lj = j + 1 if g.r() < 0.5 else j - nd
            out.append(Case("transpose", {"a": a}, f"{base}:transpose({li}, {lj})", lambda e, npb=npb, i=i, j=j: np.swapaxes(npb(e["a"]), i, j)))
        elif op == "unsqueeze":
            p = g.i(0, nd)
            lp = p + 1 if g.r() < 0.5 else p - nd - 1
            out.append(Case("unsqueeze", {"a": a}, f"{base}:unsqueeze({lp})", lambda e, npb=npb, p=p: np.expand_dims(npb(e["a"]), p)))
        elif op == "squeeze":
            out.append(Case("squeeze", {"a": a}, f"{base}:squeeze()", lambda e, npb=npb: np.squeeze(npb(e["a"]))))
        elif op == "squeeze-axis" and nd >= 1:
            p = g.i(0, nd - 1)
            lp = p + 1 if g.r() < 0.5 else p - nd
            out.append(Case("squeeze-axis", {"a": a}, f"{base}:squeeze({lp})", lambda e, npb=npb, p=p: np.squeeze(npb(e["a"]), p)))
        elif op == "expand":
            tgt = [s if s != 1 else g.choice([1, 2, 3]) for s in bshape]
            lt = [(-1 if (g.r() < 0.3 and s == t) else t) for s, t in zip(bshape, tgt)]
            lead = [g.i(1, 3) for _ in range(g.i(0, 2))]
            out.append(Case("expand", {"a": a}, f"{base}:expand{{{', '.join(map(str, lead + lt))}}}",
                            lambda e, npb=npb, t=lead + tgt: np.broadcast_to(npb(e["a"]), tuple(t))))
        elif op == "T":
            out.append(Case("T", {"a": a}, f"{base}:T()", lambda e, npb=npb: npb(e["a"]).T if npb(e["a"]).ndim <= 2 else (_ for _ in ()).throw(ValueError())))
        elif op == "slice" and nd >= 1 and bshape[0] > 0:
            lua_e, npi = np_index_entry(g, bshape[0])
            if lua_e.startswith("{") and lua_e != "{}":
                parts = lua_e[1:-1]
                out.append(Case("slice", {"a": a}, f"{base}:slice({parts})", lambda e, npb=npb, npi=npi: npb(e["a"])[npi]))
        elif op == "clone":
            out.append(Case("clone", {"a": a}, f"{base}:clone()", lambda e, npb=npb: npb(e["a"]).copy()))
        elif op == "contiguous":
            out.append(Case("contiguous", {"a": a}, f"{base}:contiguous()", lambda e, npb=npb: npb(e["a"]).copy()))
        elif op == "totable":
            out.append(Case("totable", {"a": a}, f"{base}:totable()", lambda e, npb=npb: PyVal(npb(e["a"]).tolist())))
        # looking
        out.append(Case("shape", {"a": a}, f"{base}:shape(), #{base}:shape(), {base}:numel(), {base}:ndim(), {base}:dtype()",
                        lambda e, npb=npb: (PyVal(list(npb(e["a"]).shape)), PyVal(npb(e["a"]).ndim), PyVal(npb(e["a"]).size), PyVal(npb(e["a"]).ndim), PyVal(NAME[e["a"].dtype]))))
        if nd >= 1:
            out.append(Case("len", {"a": a}, f"#{base}", lambda e, npb=npb: PyVal(npb(e["a"]).shape[0])))
    # cat and stack with promotion and empty tensors
    for _ in range(80):
        nd = g.i(1, 3)
        shape = list(g.shape(nd, empty=0.05))
        ax = g.i(0, nd - 1)
        k = g.i(1, 3)
        ins = {}
        for j in range(k):
            s = list(shape)
            s[ax] = g.choice([0, 1, 2, 3])
            ins["x" + str(j)] = g.array(tuple(s), g.dtype())
        lax = ax + 1 if g.r() < 0.5 else ax - nd
        names = ", ".join(ins)
        out.append(Case("cat", ins, f"tensor.cat({{{names}}}, {{axis = {lax}}})", lambda e, ax=ax, k=k: np.concatenate([e["x" + str(j)] for j in range(k)], axis=ax)))
        ins2 = {"x" + str(j): g.array(tuple(shape), g.dtype()) for j in range(k)}
        sax = g.i(0, nd)
        lsax = sax + 1 if g.r() < 0.5 else sax - nd - 1
        out.append(Case("stack", ins2, f"tensor.stack({{{', '.join(ins2)}}}, {{axis = {lsax}}})", lambda e, sax=sax, k=k: np.stack([e["x" + str(j)] for j in range(k)], axis=sax)))
        out.append(Case("cat-default", ins2, f"tensor.cat({{{', '.join(ins2)}}})", lambda e, k=k: np.concatenate([e["x" + str(j)] for j in range(k)], axis=0)))
    # makers
    for _ in range(30):
        a0, b0 = g.i(-5, 5), g.i(-5, 8)
        st = g.choice([1, 2, -1, 0.5, 3])
        out.append(Case("arange", {}, f"tensor.arange({a0}, {b0}, {lua_num(st)})", lambda e, a0=a0, b0=b0, st=st: np.arange(a0, b0, st).astype(np.float64), note="contract: f64 by default"))
        out.append(Case("arange2", {}, f"tensor.arange({a0}, {b0})", lambda e, a0=a0, b0=b0: np.arange(a0, b0).astype(np.float64), note="contract: f64 by default"))
        n = g.i(0, 6)
        out.append(Case("linspace", {}, f"tensor.linspace({a0}, {b0}, {n})", lambda e, a0=a0, b0=b0, n=n: np.linspace(a0, b0, n), tol="ulp"))
        out.append(Case("eye", {}, f"tensor.eye({n})", lambda e, n=n: np.eye(n)))
        out.append(Case("full", {}, f"tensor.full({{{n}, 2}}, {lua_num(st)})", lambda e, n=n, st=st: np.full((n, 2), st, dtype=np.float64), note="contract: f64 by default"))
        out.append(Case("from", {}, f"tensor.from({lua_list([a0, b0, 3])}, {{dtype = 'i64'}})", lambda e, a0=a0, b0=b0: np.array([a0, b0, 3], dtype=np.int64)))
        out.append(Case("literal-int", {}, f"tensor{{{a0}, {b0}}}", lambda e, a0=a0, b0=b0: np.array([a0, b0], dtype=np.float64)))
        out.append(Case("zeros-dtype", {}, f"tensor.zeros({{{n}}}, {{dtype = 'i64'}})", lambda e, n=n: np.zeros(n, dtype=np.int64)))


class PyVal:
    """A Lua (non-tensor) value numpy's side expects: list, int, float, bool, string."""
    def __init__(self, v):
        self.v = v


# ------------------------------------------------------------------------- matmul
def cases_matmul(g, out):
    for _ in range(150):
        m, k, n = g.i(0, 4), g.i(0, 4), g.i(0, 4)
        kind = g.choice(["vv", "mv", "vm", "mm", "bmm", "bmv", "bvm", "bad"])
        batch = g.shape(g.i(1, 2), empty=0.05)
        b1 = tuple(x if g.r() < 0.6 else 1 for x in batch)
        b2 = tuple(x if g.r() < 0.6 else 1 for x in batch)
        b2 = b2[g.i(0, len(b2)):]
        sa, sb = {"vv": ((k,), (k,)), "mv": ((m, k), (k,)), "vm": ((k,), (k, n)), "mm": ((m, k), (k, n)),
                  "bmm": (b1 + (m, k), b2 + (k, n)), "bmv": (b1 + (m, k), (k,)), "bvm": ((k,), b2 + (k, n)),
                  "bad": ((m, k), (k + 1, n))}[kind]
        da, db = g.dtype((3, 3, 2, 1)), g.dtype((3, 3, 2, 1))
        if g.r() < 0.6:
            db = da
        a, b = g.array(sa, da, special=0.05, big=g.r() < 0.1), g.array(sb, db, special=0.05)
        ta = g.r() < 0.2 and len(sa) == 2
        if ta:
            a = np.ascontiguousarray(a.T)
            out.append(Case("matmul-T", {"a": a, "b": b}, "tensor.matmul(a:T(), b)", lambda e: np.matmul(e["a"].T, e["b"]), tol="ulp"))
        else:
            out.append(Case("matmul", {"a": a, "b": b}, g.choice(["tensor.matmul(a, b)", "a:matmul(b)"]), lambda e: np.matmul(e["a"], e["b"]), tol="ulp"))
    out.append(Case("matmul-0d", {"a": np.array(2.0), "b": np.ones(3)}, "tensor.matmul(a, b)", lambda e: np.matmul(e["a"], e["b"])))


# ------------------------------------------------------------------------- files
def cases_files(g, out, work):
    # moonlab's writers read back by numpy; numpy's files read by moonlab
    for j in range(80):
        shape = g.shape(empty=0.1)
        dt = g.dtype((2, 2, 2, 2))
        a = g.array(shape, dt, big=True)
        view = g.choice(["a", "a", "a:T()" if a.ndim == 2 else "a", "a[{{1, -1, 2}}]" if a.ndim >= 1 and a.shape[0] > 0 else "a"])
        npv = {"a": lambda x: x, "a:T()": lambda x: x.T, "a[{{1, -1, 2}}]": lambda x: x[::2]}[view]
        p = os.path.join(work, f"f{j}.npy")
        out.append(Case("save-npy", {"a": a}, f"(function() tensor.save('{p}', {view}); return NPY('{p}') end)()",
                        lambda e, npv=npv: NpyFile(npv(e["a"]))))
        pz = os.path.join(work, f"f{j}.npz")
        comp = "true" if g.r() < 0.5 else "false"
        out.append(Case("save-npz", {"a": a}, f"(function() tensor.save('{pz}', {{x = {view}, y = a}}, {{compress = {comp}}}); return NPZ('{pz}') end)()",
                        lambda e, npv=npv: NpzFile({"x": npv(e["a"]), "y": e["a"]})))
        if j % 8 == 0:  # names numpy must read back as written: non-ASCII (the zip's UTF-8 flag), dots, slashes
            pn = os.path.join(work, f"names{j}.npz")
            out.append(Case("save-npz-names", {"a": a}, f"(function() tensor.save('{pn}', {{['é'] = a, ['layer.0.w'] = a, ['a/b'] = a}}, {{compress = {comp}}}); return NPZ('{pn}') end)()",
                            lambda e: NpzFile({"é": e["a"], "layer.0.w": e["a"], "a/b": e["a"]})))
        ps = os.path.join(work, f"f{j}.safetensors")
        out.append(Case("save-safetensors", {"a": a}, f"(function() tensor.save('{ps}', {{x = {view}}}); return SAFE('{ps}') end)()",
                        lambda e, npv=npv: SafeFile({"x": npv(e["a"])})))
        # numpy's files of other layouts loaded by moonlab
        src = g.choice(["C", "F", "BE", "i32", "u8", "i8", "u16", "f16", "i16", "u32"])
        arr = a
        if src == "F":
            arr = np.asfortranarray(a)
        elif src == "BE" and dt in ("f64", "f32", "i64"):
            arr = a.astype(a.dtype.newbyteorder(">"))
        elif src in ("i32", "u8", "i8", "u16", "i16", "u32") and dt == "i64":
            arr = np.abs(a % 100).astype(src.replace("i", "int").replace("uint", "uint").replace("u", "uint") if src[0] == "u" else src.replace("i", "int"))
        elif src == "f16" and dt in ("f64", "f32"):
            arr = a.astype(np.float16)
        if j % 8 == 1 and dt in ("f64", "f32"):
            # bf16 as np.save writes an ml_dtypes bfloat16 array: descr '<V2' (here '|V2', numpy's own void)
            u = a.astype(np.float32).view(np.uint32).astype(np.uint64)
            bits = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
            bits = np.where(np.isnan(a.astype(np.float32)), np.uint16(0x7FC0), bits).astype(np.uint16)
            qb = os.path.join(work, f"bf{j}.npy")
            np.save(qb, np.frombuffer(bits.tobytes(), dtype="V2").reshape(a.shape))
            wantb = (bits.astype(np.uint32) << 16).view(np.float32)
            out.append(Case("load-npy-bf16", {}, f"tensor.load('{qb}')", lambda e, w=wantb: w.copy()))
        q = os.path.join(work, f"n{j}.npy")
        np.save(q, arr)
        want = arr
        if want.dtype.kind in "iu":
            want = want.astype(np.int64)
        elif want.dtype == np.float16:
            want = want.astype(np.float32)
        else:
            want = want.astype(want.dtype.newbyteorder("="))
        out.append(Case("load-npy", {}, f"tensor.load('{q}')", lambda e, want=want: want.copy(order="C")))


class NpyFile:
    def __init__(self, a):
        self.a = a


class NpzFile:
    def __init__(self, d):
        self.d = d


class SafeFile:
    def __init__(self, d):
        self.d = d


# ------------------------------------------------------------------------- non-contiguous operands
def make_view(g, x):
    """A stored array and a Lua view of it whose values are x's (or a broadcast of part of
    x): (stored, lua text with NAME for the stored tensor, the values numpy should see)."""
    nd = x.ndim
    kinds = ["T", "step", "neg", "expand", "lead", "perm"] if nd else []
    if not kinds:
        return None
    k = g.choice(kinds)
    if k == "T" and nd == 2:
        return np.ascontiguousarray(x.T), "NAME:T()", x
    if k in ("T", "perm") and nd >= 2:
        perm = list(g.rng.permutation(nd))
        inv = list(np.argsort(perm))
        stored = np.ascontiguousarray(np.transpose(x, inv))  # stored.transpose(perm) == x
        return stored, "NAME:permute{" + ", ".join(str(p + 1) for p in perm) + "}", x
    if k == "step":
        stored = np.zeros((2 * x.shape[0],) + x.shape[1:], dtype=x.dtype)
        stored[1::2] = g.array(x.shape, NAME[x.dtype]) if x.size else stored[1::2]
        stored[::2] = x
        return stored, "NAME[{{1, -1, 2}}]", x
    if k == "neg" and x.shape[0] > 0:
        return np.ascontiguousarray(x[::-1]), "NAME[{{-1, 1, -1}}]", x
    if k == "expand":
        axes = [d for d in range(nd) if x.shape[d] > 1]
        if axes:
            d = g.choice(axes)
            stored = np.ascontiguousarray(x[tuple(slice(0, 1) if e == d else slice(None) for e in range(nd))])
            return stored, "NAME:expand{" + ", ".join(map(str, x.shape)) + "}", np.broadcast_to(stored, x.shape).copy()
    if k == "lead" and nd >= 1 and x.shape[0] > 0:
        stored = np.ascontiguousarray(x[0])
        return stored, "NAME:expand{" + ", ".join(map(str, x.shape)) + "}", np.broadcast_to(stored, x.shape).copy()
    if nd >= 1 and x.shape[-1] > 0:
        # a column range: rows of the stored tensor are longer than the view's
        pad = g.i(1, 3)
        stored = np.concatenate([x, g.array(x.shape[:-1] + (pad,), NAME[x.dtype])], axis=-1)
        return stored, "NAME[{" + ", ".join(["{}"] * (nd - 1) + [f"{{1, {x.shape[-1]}}}"]) + "}]", x
    return None


def viewize(g, cases, p=0.35):
    """Copies of read-only cases whose tensor inputs are non-contiguous views."""
    extra = []
    for c in cases:
        if c.setup or not c.inputs or g.r() >= p or c.cat.startswith(("save-", "load-")):
            continue
        inputs, npins, lua, changed = {}, {}, c.lua, False
        for k, v in c.inputs.items():
            m = make_view(g, v) if g.r() < 0.8 else None
            if m is None:
                inputs[k], npins[k] = v, v
                continue
            stored, text, seen = m
            inputs[k + "_v"] = stored
            npins[k] = seen
            lua = re.sub(r"\b" + re.escape(k) + r"\b(?!\s*=)", "(" + text.replace("NAME", k + "_v") + ")", lua)
            changed = True
        if not changed:
            continue
        v = Case(c.cat + "@view", inputs, lua, c.fn, tol=c.tol, note=c.note, error_shape=None)
        v.np_inputs = npins
        extra.append(v)
    cases.extend(extra)


# ------------------------------------------------------------------------- dist NaN rows
def softmax_np(x):
    x = x.astype(np.float64) if x.dtype != np.float32 else x
    m = np.max(x, axis=-1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    e = np.exp(x - m)
    return e / e.sum(axis=-1, keepdims=True)


def cases_dist(g, out):
    for _ in range(60):
        shape = (g.i(1, 6),) if g.r() < 0.4 else (g.i(1, 3), g.i(1, 6))
        dt = g.choice(["f64", "f32"])
        a = g.array(shape, dt, special=0.0, ties=False)
        flat = a.reshape(-1, shape[-1])
        for row in range(flat.shape[0]):
            r = g.r()
            if r < 0.25:
                flat[row, g.i(0, shape[-1] - 1)] = np.nan
            elif r < 0.4 and shape[-1] > 1:
                flat[row, g.i(0, shape[-1] - 1)] = -np.inf
            elif r < 0.45:  # no token left: torch 2.x gives logsumexp -inf, NaN for the others
                flat[row] = -np.inf
        a = flat.reshape(shape)

        def nanrows(x, keepdims=False):
            """Rows torch gives NaN for: a NaN anywhere, or every entry -inf (softmax of it NaN)."""
            return np.isnan(x).any(axis=-1, keepdims=keepdims) | np.isneginf(x).all(axis=-1, keepdims=keepdims)

        def sm(e):
            nanrow = nanrows(e["a"], True)
            return np.where(nanrow, np.nan, softmax_np(e["a"])).astype(e["a"].dtype)

        def lsm(e):
            x = e["a"]
            nanrow = nanrows(x, True)
            r = (x.astype(np.float64) - logsumexp(x.astype(np.float64), -1, True))
            return np.where(nanrow, np.nan, r).astype(x.dtype)

        # dist.logsumexp and dist.entropy answer in f64 whatever the input (lua-api.md: "number | tensor")
        def lse(e):
            r = logsumexp(e["a"].astype(np.float64), -1)
            return r if r.ndim else r.reshape(())

        def ent(e):
            nanrow = nanrows(e["a"])
            p = softmax_np(e["a"].astype(np.float64))
            with np.errstate(all="ignore"):
                h = -np.sum(np.where(p > 0, p * np.log(p), 0), axis=-1) + 0.0
            h = np.where(nanrow, np.nan, h)
            return h if h.ndim else h.reshape(())
        out.append(Case("dist.softmax", {"a": a}, "dist.softmax(a)", sm, tol="f32in" if dt == "f32" else "loose"))
        out.append(Case("dist.log_softmax", {"a": a}, "dist.log_softmax(a)", lsm, tol="f32in" if dt == "f32" else "loose"))
        out.append(Case("dist.logsumexp", {"a": a}, "dist.logsumexp(a)", lse, tol="f32in" if dt == "f32" else "loose"))
        out.append(Case("dist.entropy", {"a": a}, "dist.entropy(a)", ent, tol="f32in" if dt == "f32" else "loose"))
        out.append(Case("dist.argmax", {"a": a}, "dist.argmax(a)", lambda e: np.argmax(e["a"], axis=-1)))


# ------------------------------------------------------------------------- large (SIMD and parallel paths)
def cases_large(g, out):
    shapes = [(4097,), (131073,), (3, 1000), (257, 33), (33, 257), (2, 65537), (70000, 2), (8, 16, 1031), (4096, 40), (1000, 9)]
    for shape in shapes:
        for dt in ("f64", "f32", "i64", "bool"):
            special = g.choice([0.0, 0.0, 0.001, 0.01])
            a = g.array(shape, dt, special=special, ties=True)
            nd = len(shape)
            for name in g.rng.permutation(REDS)[:6]:
                name = str(name)
                tol = "exact" if name in ("min", "max", "any", "all", "argmax", "argmin") or (dt in ("i64", "bool") and name in ("sum", "nansum")) else "ulp"
                if name == "logsumexp":
                    tol = "loose"  # the reference's column sums run in order over 70,000 rows (moonlab's were the exact ones checked)
                if name in ("var", "std") and dt == "f32":
                    tol = "f32in"  # numpy's f32 arithmetic and order; a view's sums run in another order
                if name == "prod":
                    continue
                out.append(Case("large-reduce", {"a": a}, f"a:{name}()", lambda e, name=name: red_np(name, e["a"], None, False, 1), tol=tol))
                ax = g.i(0, nd - 1)
                out.append(Case("large-reduce", {"a": a}, f"a:{name}{{axis = {ax + 1}}}", lambda e, name=name, ax=ax: red_np(name, e["a"], ax, False, 1), tol=tol))
            ax = g.i(0, nd - 1)
            if shape[ax] <= 70000 and a.size <= 140000:
                out.append(Case("large-sort", {"a": a}, f"a:sort{{axis = {ax + 1}}}",
                                lambda e, ax=ax: (lambda v, i: (v, i + 1))(*order_along(e["a"], ax, False))))
                out.append(Case("large-argsort", {"a": a}, f"a:argsort{{axis = {ax + 1}, descending = true}}",
                                lambda e, ax=ax: order_along(e["a"], ax, True)[1] + 1))
                k = g.choice([1, 5, 50, min(shape[-1], 300)])
                k = min(k, shape[-1])
                largest = g.r() < 0.7
                out.append(Case("large-topk", {"a": a}, f"a:topk({k}, {{largest = {str(largest).lower()}}})",
                                lambda e, k=k, largest=largest: (lambda v, i: (v[..., :k], i[..., :k] + 1))(*order_along(e["a"], -1, largest))))
            tol = "exact" if dt in ("i64", "bool") else "ulp"
            conv = (lambda x: x.astype(np.int64) if x.dtype == np.bool_ else x)
            out.append(Case("large-cumsum", {"a": a}, f"a:cumsum{{{ax + 1}}}", lambda e, ax=ax: np.cumsum(conv(e["a"]), axis=ax), tol=tol))
            b = g.array(shape[-1:], g.dtype(), special=special)
            sym, f = g.choice(BIN[:6])
            out.append(Case("large-binary", {"a": a, "b": b}, f"a {sym} b", lambda e, sym=sym, f=f: np_bin(sym, f, e["a"], e["b"])))
            out.append(Case("large-binary", {"a": a, "b": b}, f"b {sym} a", lambda e, sym=sym, f=f: np_bin(sym, f, e["b"], e["a"])))
            nm, cf = g.choice(CMP)
            out.append(Case("large-compare", {"a": a, "b": b}, f"a:{nm}(b)", lambda e, cf=cf: cf(e["a"], e["b"])))
            out.append(Case("large-mask", {"a": a}, "a[a:gt(0)]", lambda e: e["a"][e["a"] > 0]))
            if dt in ("f64", "f32"):
                name, f, tol = g.choice(UN)
                out.append(Case("large-unary", {"a": a}, f"a:{name}()", lambda e, name=name, f=f: np_unary(name, f, e["a"]), tol=tol))
                out.append(Case("large-isnan", {"a": a}, "a:isnan():sum()", lambda e: np.isnan(e["a"]).sum()))
    for (m, k, n) in [(64, 65, 66), (1, 300, 1), (130, 7, 129), (5, 1000, 3)]:
        for dt in ("f64", "f32", "i64"):
            a, b = g.array((m, k), dt, special=0), g.array((k, n), dt, special=0)
            out.append(Case("large-matmul", {"a": a, "b": b}, "a:matmul(b)", lambda e: np.matmul(e["a"], e["b"]), tol="ulp"))
            out.append(Case("large-matmul", {"a": a, "b": b}, "b:T():matmul(a:T())", lambda e: np.matmul(e["b"].T, e["a"].T), tol="ulp"))


# ------------------------------------------------------------------------- writes that cast
def cases_cast_writes(g, out):
    for _ in range(60):
        shape = g.shape(g.i(1, 3), lo=1, empty=0)
        dt = g.dtype()
        a = g.array(shape, dt)
        v = g.choice([2.7, -2.7, 0.5, -0.0, 1e300, float("nan"), float("inf"), True, False, 3, -(2 ** 62)])
        # numpy refuses a float scalar with no integer value (NaN, inf, 1e300) into an int64 array: so does moonlab
        ent = np_index_entry(g, shape[0])

        def w(e, v=v, ent=ent):
            e["a"][ent[1]] = v
        out.append(Case("cast-write", {"a": a}, "a", lambda e: e["a"], setup=f"a[{{{ent[0]}}}] = {lua_num(v)}", npsetup=w))
        m = g.array(shape, "bool")
        out.append(Case("cast-write-mask", {"a": a, "m": m}, "a", lambda e: e["a"], setup=f"a[m] = {lua_num(v)}",
                        npsetup=lambda e, v=v: e["a"].__setitem__(e["m"], v)))


# ------------------------------------------------------------------------- argument forms (coverage audit)
def np_arange_i64(a, b, st):
    return np.arange(a, b, st, dtype=np.int64)


def cases_forms(g, out):
    """Forms the contract allows that the other categories do not draw (helper-44's audit of
    issue 13): fractional arange/linspace in every dtype (numpy's values bit for bit),
    tensor.full with booleans, maximum/minimum with a Lua scalar, mask writes of a
    broadcast value, clamp(nil, hi), ipairs over a 1-d tensor, the default options of
    sort/argsort/topk, the positional axis forms, integral float positions, sizes and axes
    one per argument (t:reshape(6, 1), tensor.ones(2, 3), t:topk(k, dim), tensor.cat(list, dim):
    torch's forms), t:round(decimals) and t:flatten(start, end)."""
    for _ in range(60):
        a0 = g.choice([0, 1, -2.5, 0.7, -3.2, 0.1, 1e6, g.i(-5, 5), round(float(g.rng.normal() * 4), g.i(0, 3))])
        st = g.choice([0.1, 0.3, -0.3, 1.5, 1.6, 0.05, 0.7, -1.1, 0.25, 1, 2, -1, round(float(g.rng.normal() * 2), g.i(1, 3)) or 0.5])
        b0 = a0 + st * g.i(0, 40) * g.r() + (st * 0.5 if g.r() < 0.3 else 0)
        b0 = round(b0, g.i(0, 4)) if g.r() < 0.7 else b0
        dt = g.choice(["f64", "f32", "i64"])
        if (b0 - a0) / st > 200:
            continue
        out.append(Case("arange-frac", {}, f"tensor.arange({lua_num(a0)}, {lua_num(b0)}, {lua_num(st)}, {{dtype = '{dt}'}})",
                        lambda e, a0=a0, b0=b0, st=st, dt=dt: np.arange(a0, b0, st, dtype=DT[dt])))
        lo = g.choice([0, 1, -3.3, 2, 0.1, -1e10, round(float(g.rng.normal() * 5), g.i(0, 3))])
        hi = g.choice([1, 8.1, -7.7, 0.2, 1, lo, round(float(g.rng.normal() * 5), g.i(0, 3))])
        n = g.i(0, 14)
        out.append(Case("linspace-exact", {}, f"tensor.linspace({lua_num(lo)}, {lua_num(hi)}, {n}, {{dtype = '{dt}'}})",
                        lambda e, lo=lo, hi=hi, n=n, dt=dt: np.linspace(lo, hi, n, dtype=DT[dt])))
    for n in range(0, 7):
        out.append(Case("arange-1", {}, f"tensor.arange({n})", lambda e, n=n: np.arange(n).astype(np.float64), note="contract: f64 by default"))
    for shape in ((2, 3), (0,), (), (4,)):
        ls = "{" + ", ".join(map(str, shape)) + "}"
        for v in (True, False):
            out.append(Case("full-bool", {}, f"tensor.full({ls}, {lua_num(v)})", lambda e, shape=shape, v=v: np.full(shape, v)))
            for dt in ("f64", "f32", "i64", "bool"):
                out.append(Case("full-bool", {}, f"tensor.full({ls}, {lua_num(v)}, {{dtype = '{dt}'}})",
                                lambda e, shape=shape, v=v, dt=dt: np.full(shape, v, dtype=DT[dt])))
        for dt in ("f64", "f32", "i64", "bool"):
            out.append(Case("makers-dtype", {}, f"tensor.ones({ls}, {{dtype = '{dt}'}})", lambda e, shape=shape, dt=dt: np.ones(shape, dtype=DT[dt])))
            out.append(Case("makers-dtype", {}, f"tensor.full({ls}, 3, {{dtype = '{dt}'}})", lambda e, shape=shape, dt=dt: np.full(shape, 3, dtype=DT[dt])))
            out.append(Case("makers-dtype", {}, f"tensor.eye({len(shape) + 1}, {{dtype = '{dt}'}})", lambda e, shape=shape, dt=dt: np.eye(len(shape) + 1, dtype=DT[dt])))
    for _ in range(60):
        shape = g.shape(g.i(0, 3), empty=0.05)
        dt = g.dtype()
        a = g.array(shape, dt)
        s = g.choice([0, 2, -1, 0.5, -0.0, True, False, float("nan"), float("inf"), 2 ** 62])
        nm, f = g.choice([("maximum", np.maximum), ("minimum", np.minimum)])
        out.append(Case("maxmin-scalar", {"a": a}, f"tensor.{nm}(a, {lua_num(s)})", lambda e, f=f, s=s: np_bin("", f, e["a"], s)))
        out.append(Case("maxmin-scalar", {"a": a}, f"tensor.{nm}({lua_num(s)}, a)", lambda e, f=f, s=s: np_bin("", f, s, e["a"])))
        if dt != "bool":
            lo, hi = g.choice([2, 0.5, 3]), g.choice([-1, 0, 1])
            out.append(Case("clamp-crossed", {"a": a}, f"a:clamp({lua_num(lo)}, {lua_num(hi)})", lambda e, lo=lo, hi=hi: np.clip(e["a"], lo, hi)))
        if dt != "bool":
            hi = g.choice([0, 1, 2.5, -1])
            out.append(Case("clamp-hi", {"a": a}, f"a:clamp(nil, {lua_num(hi)})", lambda e, hi=hi: np.clip(e["a"], None, hi)))
        if len(shape) >= 1:
            k = g.i(1, len(shape))
            m = g.array(shape[:k], "bool")
            rest = shape[k:]
            vshape = g.choice([rest, (1,) + rest, tuple(1 for _ in rest), ()]) if rest else g.choice([(1,), ()])
            v = g.array(vshape, dt, special=0)
            out.append(Case("mask-write-bcast", {"a": a, "m": m, "v": v}, "a", lambda e: e["a"], setup="a[m] = v",
                            npsetup=lambda e: e["a"].__setitem__(e["m"], e["v"])))
            ax = g.i(0, len(shape) - 1)
            lax = ax + 1 if g.r() < 0.5 else ax - len(shape)
            keep = g.r() < 0.5
            out.append(Case("axis-number", {"a": a}, f"a:sum({lax}, {{keepdim = {str(keep).lower()}}})",
                            lambda e, ax=ax, keep=keep: red_np("sum", e["a"], ax, keep)))
            out.append(Case("axis-table", {"a": a}, f"a:max{{{lax}, keepdim = {str(keep).lower()}}}",
                            lambda e, ax=ax, keep=keep: red_np("max", e["a"], ax, keep)))
            if dt in ("f64", "f32"):
                out.append(Case("axis-table", {"a": a}, f"a:logsumexp{{{lax}}}", lambda e, ax=ax: red_np("logsumexp", e["a"], ax, False), tol="ulp"))
            out.append(Case("sort-default", {"a": a}, "a:sort()", lambda e: (lambda v, i: (v, i + 1))(*order_along(e["a"], -1, False))))
            out.append(Case("sort-default", {"a": a}, "a:sort{descending = true}", lambda e: (lambda v, i: (v, i + 1))(*order_along(e["a"], -1, True))))
            out.append(Case("argsort-default", {"a": a}, "a:argsort()", lambda e: order_along(e["a"], -1, False)[1] + 1))
            kk = g.i(0, shape[ax])
            out.append(Case("topk-axis", {"a": a}, f"a:topk({kk}, {{axis = {lax}}})",
                            lambda e, ax=ax, kk=kk: (lambda v, i: (v[tuple(slice(0, kk) if d == ax else slice(None) for d in range(e["a"].ndim))],
                                                                   i[tuple(slice(0, kk) if d == ax else slice(None) for d in range(e["a"].ndim))] + 1))(*order_along(e["a"], ax, True))))
            if shape[0] > 0:
                p = g.i(1, shape[0])
                out.append(Case("float-position", {"a": a}, f"a[{p}.0]", lambda e, p=p: e["a"][p - 1]))
        if len(shape) >= 1 and all(shape):
            n = int(np.prod(shape))
            tgt = list(g.choice([(n, 1), (1, n), (n,), (-1, 1), (1, -1, 1)]))
            out.append(Case("shape-varargs", {"a": a}, f"a:reshape({', '.join(map(str, tgt))})", lambda e, tgt=tgt: e["a"].reshape(tgt)))
            perm = [int(p) for p in g.rng.permutation(len(shape))]
            out.append(Case("shape-varargs", {"a": a}, f"a:permute({', '.join(str(p + 1) for p in perm)})", lambda e, perm=perm: np.transpose(e["a"], perm)))
            out.append(Case("topk-positional", {"a": a}, f"a:topk({kk}, {lax}, {{largest = false}})",
                            lambda e, ax=ax, kk=kk: (lambda v, i: (v[tuple(slice(0, kk) if d == ax else slice(None) for d in range(e["a"].ndim))],
                                                                   i[tuple(slice(0, kk) if d == ax else slice(None) for d in range(e["a"].ndim))] + 1))(*order_along(e["a"], ax, False))))
            out.append(Case("cat-positional", {"a": a}, f"tensor.cat({{a, a}}, {lax})", lambda e, ax=ax: np.concatenate([e["a"], e["a"]], axis=ax)))
            sax = ax if lax > 0 else lax  # a new axis: 1-based k is numpy's k - 1, a negative one counts from the new last
            out.append(Case("stack-positional", {"a": a}, f"tensor.stack({{a, a}}, {lax})", lambda e, sax=sax: np.stack([e["a"], e["a"]], axis=sax)))
            out.append(Case("zeros-varargs", {}, f"tensor.ones({', '.join(map(str, shape))}, {{dtype = '{dt}'}})", lambda e, shape=shape, dt=dt: np.ones(shape, dtype=DT[dt])))
            lead = [g.i(1, 3) for _ in range(g.i(1, 2))]
            out.append(Case("shape-varargs", {"a": a}, f"a:expand({', '.join(map(str, lead + list(shape)))})",
                            lambda e, t=tuple(lead) + tuple(shape): np.broadcast_to(e["a"], t)))
        if dt != "bool":
            dd = g.choice([1, 2, 3, -1, -2, 0, 5])
            sc = g.choice([1.0, 0.01, 100.0, 1e-5])
            b = (a * sc).astype(a.dtype) if dt != "i64" else a * g.choice([1, 7, 1000])
            out.append(Case("round-decimals", {"a": b}, f"a:round({dd})", lambda e, dd=dd: np.round(e["a"], dd)))
        if len(shape) >= 1:
            s0 = g.i(0, len(shape) - 1)
            e0 = g.i(s0, len(shape) - 1)
            ls = s0 + 1 if g.r() < 0.5 else s0 - len(shape)
            le = e0 + 1 if g.r() < 0.5 else e0 - len(shape)
            tgt = tuple(shape[:s0]) + (int(np.prod(shape[s0:e0 + 1])),) + tuple(shape[e0 + 1:])
            form = f"a:flatten({ls}, {le})" if (e0 != len(shape) - 1 or g.r() < 0.5) else f"a:flatten({ls})"
            out.append(Case("flatten-dims", {"a": a}, form, lambda e, tgt=tgt: e["a"].reshape(tgt)))
        if len(shape) == 1:
            out.append(Case("ipairs-1d", {"a": a}, "(function() local s = {} for i, x in ipairs(a) do s[i] = x end return s end)()",
                            lambda e: PyVal([x.item() if not isinstance(x, (bool, np.bool_)) else bool(x) for x in e["a"]]) if e["a"].dtype != np.float32
                            else PyVal([float(x) for x in e["a"]])))


# ------------------------------------------------------------------------- bad input never crashes
ANY = object()  # any value or a Lua error will do; a crash of the process will not

ROBUST = [
    'a[mi]',
    'a[ma]',
    'a[{mi}]',
    'a[{{mi, 2}}]',
    'a[{{1, ma}}]',
    'a[{{1, 2, mi}}]',
    'a[{{2, 1, mi}}]',
    'a[{{1, 2, ma}}]',
    'a[{{ma, mi, -1}}]',
    'a[{{}, {mi, ma, mi}}]',
    'a[{{-1, 1, mi}}]',
    'tensor.zeros{-1}',
    'tensor.zeros{ma}',
    'tensor.zeros{ma, ma}',
    'tensor.zeros{2^62, 4}',
    'a:reshape{ma, -1}',
    'a:reshape{-1, -1}',
    'a:reshape{0, -1}',
    'a:expand{-5, 3}',
    'a:expand{ma, 3}',
    'a:expand{2, 3, ma}',
    'a:permute{1, 1}',
    'a:permute{1}',
    'a:permute{mi, 1}',
    'a:topk(-1)',
    'a:topk(ma)',
    'a:topk(mi)',
    'a:index(5, {1})',
    'a:index(mi, {1})',
    'a:index(1, {mi})',
    'a:index(1, {ma})',
    'a:gather(1, tensor{{1.5}})',
    "a:gather(1, tensor.from({{mi}}, {dtype='i64'}))",
    "a:gather(ma, tensor.from({{1}}, {dtype='i64'}))",
    'tensor.cat({})',
    'tensor.stack({})',
    'tensor.cat({a, a}, {axis = ma})',
    'tensor.stack({a, a}, {axis = mi})',
    'tensor.zeros{}[1]',
    'tensor.zeros{}[{1}]',
    'tensor.zeros{}[{}]',
    '#tensor.zeros{}',
    'a:sum{axis = mi}',
    'a:sum{axis = ma}',
    'a:cumsum(mi)',
    'a:unsqueeze(ma)',
    'a:unsqueeze(mi)',
    'a:squeeze(mi)',
    'a:transpose(mi, 1)',
    'a:slice(mi, ma, mi)',
    'a:slice(1, 2, 0)',
    'tensor.arange(0, 1e300, 1e-300)',
    'tensor.arange(0, 10, 0)',
    'tensor.arange(mi, ma)',
    'tensor.linspace(0, 1, -1)',
    'tensor.linspace(0, 1, ma)',
    'tensor.eye(-1)',
    'tensor.eye(ma)',
    "tensor.full({2}, 'x')",
    'a:clamp(3, 1)',
    'a:var{ddof = ma}',
    'a:var{ddof = mi}',
    "a ^ tensor.from({-1}, {dtype='i64'})",
    "tensor.from({mi}, {dtype='i64'}) // tensor.from({-1}, {dtype='i64'})",
    "tensor.from({mi}, {dtype='i64'}) % tensor.from({-1}, {dtype='i64'})",
    "tensor.from({mi}, {dtype='i64'}):abs()",
    "-tensor.from({mi}, {dtype='i64'})",
    "tensor.from({mi}, {dtype='i64'}):sign()",
    "tensor.from({2}, {dtype='i64'}) ^ ma",
    "tensor.from({mi}, {dtype='i64'}) // -1",
    "tensor.from({5}, {dtype='i64'}) // 0",
    "tensor.from({5}, {dtype='i64'}) % 0",
    "tensor{1}:to('i64') // tensor.zeros({1}, {dtype='i64'})",
    'a:matmul(tensor.zeros{})',
    'tensor.matmul(tensor.zeros{0}, tensor.zeros{0})',
    'a:topk(4)',
    'a:topk(0)',
    "a[tensor.zeros({2,3}, {dtype='bool'})]",
    "a[tensor.zeros({3}, {dtype='bool'})]",
    "a[tensor.zeros({2,3,1}, {dtype='bool'})]",
    'a[tensor.zeros{2}]',
    'a[{1, 2, 3}]',
    'a[{{1,2,3,4}}]',
    'a[{{1.5, 2}}]',
    'a[1.5]',
    "a['x']",
    'a[true]',
    'a[{true}]',
    'a[{{true}}]',
    'a:sort{axis = 3}',
    'a:argsort{axis = mi}',
    'tensor.where(tensor{true}, a, tensor.zeros{5})',
    'tensor.where(a, a, a)',
    "a:map(function(x) return 'x' end)",
    "a:map(function(x) error('boom') end)",
    'tensor{{1,2},{3}}',
    'tensor{{1,2},3}',
    "tensor{'x'}",
    'tensor{{{}}}',
    "tensor.from({1, 2.5}, {dtype='i64'})",
    "tensor.from({2^63}, {dtype='i64'})",
    'tensor{1, true}',
    'a:equal(5)',
    'a:reshape{}',
    'tensor.zeros{1}:reshape{}',
    'a:flatten():T()',
    'tensor.zeros{2,2,2}:T()',
    'a:expand{3}',
    "tensor.load('/nonexistent.npy')",
    "tensor.save('/nonexistent/x.npy', a)",
    'a:ne(nil)',
    'a + nil',
    "a + 'x'",
    'a + {1, 2, 3}',
    'a + {{1}, {2}}',
    'a + {1, 2}',
    "a:to('f16')",
    'a:logsumexp{axis = 3}',
    'tensor.zeros{0}:logsumexp()',
    'tensor.zeros{0}:prod()',
    'tensor.zeros{3}:index(1, {})',
    'tensor.zeros{0}:index(1, {})',
    "tensor.zeros{0}:gather(1, tensor.zeros({0}, {dtype='i64'}))",
    'tensor.zeros{0}:sort()',
    'tensor.zeros{0}:topk(0)',
    'tensor.zeros{0}:cumsum()',
    'tensor.cat({tensor.zeros{}, tensor.zeros{}})',
    'tensor.stack({tensor.zeros{}, tensor.zeros{}})',
    'tensor.cat({a, tensor.zeros{2}})',
    'tensor.stack({a, a:T()})',
    'dist.topk(a, 4)',
    'dist.topk(a, 0)',
    'dist.topk(a, -1)',
    'dist.argmax(tensor.zeros{0})',
    'dist.argmax(tensor.zeros{2, 0})',
    'dist.topk(tensor.zeros{2,0}, 1)',
    'dist.softmax(tensor.zeros{2,0})',
    'a[{{}, {}, {}}]',
    'a[{1, {}, 1}]',
    'tensor.zeros{3}[{{2, 1}}]',
    'tensor.zeros{3}[{{4, 3}}]',
    'tensor.zeros{3}[{{5, 4}}]',
    "a:index(1, tensor.zeros({2}, {dtype='bool'}))",
    'a:round(mi)',
    'a:round(ma)',
    'a:round(-400)',
    'a:to("i64"):round(mi)',
    'a:flatten(mi)',
    'a:flatten(1, ma)',
    'a:flatten(2, 1)',
    'tensor.zeros{}:flatten(1, 1)',
    'tensor.zeros(ma, ma)',
    'tensor.ones(2, -1)',
    'tensor.zeros(2, 3, 4, {dtype = "x"})',
    'a:reshape(ma, ma)',
    'a:reshape(2, mi)',
    'a:expand(mi, 3)',
    'a:permute(mi, 1)',
    'a:permute(1, 2, 3)',
    'a:topk(1, mi)',
    'a:topk(1, ma)',
    'a:topk(1, 1, {axis = 1})',
    'tensor.cat({a, a}, mi)',
    'tensor.stack({a, a}, ma)',
    'tensor.full({2}, true, {dtype = "i64"})',
    'tensor.arange(0.5, 1e18, 1e17, {dtype = "i64"})',
    'tensor.arange(-1e18, 1e18, 3e17, {dtype = "f32"})',
    'tensor.linspace(-1e308, 1e308, 5, {dtype = "i64"})',
    'a:clamp(0/0, 1)',
    'tensor.zeros{0, 2^40, 2^40}',
    'tensor.zeros{0}:reshape{0, 2^40, 2^40}',
    'tensor.zeros{0}:expand{2^40, 2^40, 0}',
    'tensor.zeros{0, 1}:expand{0, 2^62}',
    'tensor.zeros{0, 3}:unsqueeze(1):expand{2^40, 0, 3}:clone()',
    'tensor.zeros{0, 2^40}:T():contiguous():flatten(1)',
    'tensor.full({0, 2^40, 2^40}, 1)',
]


def cases_robust(g, out):
    """Extreme and malformed arguments (math.mininteger positions and steps, huge shapes,
    self-referencing tables, wrong types): an answer or a Lua error, never a crash."""
    a = np.arange(1, 7, dtype=np.float64).reshape(2, 3)
    for e in ROBUST:
        out.append(Case("robust", {"a": a}, f"(function() local mi, ma = math.mininteger, math.maxinteger; return {e} end)()",
                        lambda env: ANY))


# ------------------------------------------------------------------------- running
LUA_PRELUDE = r"""
local OUT = arg[1]
local function fmt(v)
  local t = type(v)
  if t == 'number' then
    if math.type(v) == 'integer' then return 'I ' .. string.format('%d', v) end
    return 'F ' .. string.format('%.17g', v)
  elseif t == 'boolean' then return 'B ' .. tostring(v)
  elseif t == 'string' then return 'S ' .. string.format('%q', v):gsub('\n', 'n')
  elseif t == 'table' then
    local parts = {}
    for i = 1, #v do parts[#parts + 1] = fmt(v[i]) end
    return 'L[' .. table.concat(parts, ';') .. ']'
  end
  return 'X ' .. t
end
function NPY(p) return {__file = p} end
NPZ, SAFE = NPY, NPY
local function emit(id, ok, ...)
  if not ok then
    local msg = tostring((...)):gsub('\n', ' ')
    io.write('E ', id, ' ', msg, '\n')
    io.flush()
    return
  end
  local n = select('#', ...)
  io.write('N ', id, ' ', n, '\n')
  for k = 1, n do
    local v = select(k, ...)
    if type(v) == 'userdata' and v.dtype then
      local p = OUT .. '/r' .. id .. '_' .. k .. '.npy'
      local sok, serr = pcall(tensor.save, p, v)
      if sok then io.write('R ', id, ' ', k, ' T ', p, ' ', v:dtype(), '\n')
      else io.write('R ', id, ' ', k, ' X save failed: ', tostring(serr):gsub('\n', ' '), '\n') end
    elseif type(v) == 'table' and v.__file then
      io.write('R ', id, ' ', k, ' P ', v.__file, '\n')
    else
      io.write('R ', id, ' ', k, ' ', fmt(v), '\n')
    end
  end
  io.flush()
end
function CASE(id, f)
  io.write('S ', id, '\n'); io.flush()
  emit(id, pcall(f))
end
"""


def lua_case(idx, c, indir):
    loads = []
    for k in c.inputs:
        loads.append(f"local {k} = tensor.load('{indir}/c{idx}_{k}.npy')")
    body = "\n  ".join(loads)
    return f"CASE({idx}, function()\n  {body}\n  {c.setup}\n  return {c.lua}\nend)\n"


def parse_lua_value(s):
    s = s.strip()
    if s.startswith("I "):
        return ("int", int(s[2:]))
    if s.startswith("F "):
        return ("float", float(s[2:].replace("-nan", "nan")))
    if s.startswith("B "):
        return ("bool", s[2:] == "true")
    if s.startswith("S "):
        return ("str", s[2:])
    if s.startswith("L["):
        inner = s[2:-1]
        items, depth, cur = [], 0, ""
        for ch in inner:
            if ch == "[":
                depth += 1
            elif ch == "]":
                depth -= 1
            if ch == ";" and depth == 0:
                items.append(cur)
                cur = ""
            else:
                cur += ch
        if cur:
            items.append(cur)
        return ("list", [parse_lua_value(x) for x in items])
    return ("other", s)


def run_batch(moonlab, cases, ids, work, timeout=300):
    indir = os.path.join(work, "in")
    outdir = os.path.join(work, "out")
    script = [LUA_PRELUDE]
    for i in ids:
        script.append(lua_case(i, cases[i], indir))
    sp = os.path.join(work, f"batch_{ids[0]}.lua")
    with open(sp, "w") as f:
        f.write("".join(script))
    p = subprocess.run([moonlab, "run", sp, outdir], capture_output=True, text=True, timeout=timeout)
    res = {}
    cur = None
    for line in p.stdout.splitlines():
        parts = line.split(" ", 3)
        if parts[0] == "S":
            cur = int(parts[1])
            res[cur] = {"started": True}
        elif parts[0] == "E":
            res[int(parts[1])]["error"] = line.split(" ", 2)[2] if len(line.split(" ", 2)) > 2 else ""
        elif parts[0] == "N":
            res[int(parts[1])]["n"] = int(parts[2])
            res[int(parts[1])]["vals"] = {}
        elif parts[0] == "R":
            i, k, rest = int(parts[1]), int(parts[2]), parts[3]
            if rest.startswith("T "):
                path, dt = rest[2:].rsplit(" ", 1)
                res[i]["vals"][k] = ("tensor", path, dt)
            elif rest.startswith("P "):
                res[i]["vals"][k] = ("file", rest[2:])
            elif rest.startswith("X save failed"):
                res[i]["vals"][k] = ("savefail", rest)
            else:
                res[i]["vals"][k] = parse_lua_value(rest)
    crashed = None
    if p.returncode != 0:
        # the last case started without finishing crashed the process (or the script failed)
        started = [i for i in res if "n" not in res[i] and "error" not in res[i]]
        crashed = (started[-1] if started else None, p.returncode, p.stderr[-2000:])
    return res, crashed


def ulps_close(g, w, dt, n=64):
    """Within n ulps (sums accumulate in another order than numpy's pairwise ones)."""
    if dt == np.float32:
        eps, tiny = 2.0 ** -23, 1e-30
    else:
        eps, tiny = 2.0 ** -52, 1e-300
    return abs(g - w) <= n * eps * max(abs(w), abs(g)) + tiny


def cmp_array(got, want, tol, exact_nan_sign=False):
    """None when equal, ("close", msg) within ulps, ("diff", msg) otherwise."""
    want = np.asarray(want)
    wdt = NAME.get(want.dtype)
    if want.dtype.kind in "iu" and want.dtype != np.int64:
        want = want.astype(np.int64)
        wdt = "i64"
    if wdt is None:
        return ("diff", f"numpy dtype {want.dtype} not in moonlab")
    gdt = NAME.get(got.dtype)
    if gdt != wdt:
        return ("diff", f"dtype {gdt} vs numpy's {wdt}")
    if got.shape != want.shape:
        return ("diff", f"shape {list(got.shape)} vs numpy's {list(want.shape)}")
    if want.size == 0:
        return None
    if wdt in ("i64", "bool"):
        bad = np.nonzero(got.ravel() != want.ravel())[0]
        if len(bad):
            k = bad[0]
            return ("diff", f"element {k} (flat, 0-based): {got.ravel()[k]} vs numpy's {want.ravel()[k]} ({len(bad)} differ)")
        return None
    gf, wf = got.ravel(), want.ravel()
    gb = gf.view(np.uint64 if wdt == "f64" else np.uint32)
    wb = wf.view(np.uint64 if wdt == "f64" else np.uint32)
    both_nan = np.isnan(gf) & np.isnan(wf)
    same = (gb == wb) | both_nan
    if same.all():
        return None
    bad = np.nonzero(~same)[0]
    k = bad[0]
    # only -0.0 vs 0.0?
    zero_sign = all(gf[i] == wf[i] for i in bad)
    if zero_sign:
        return ("zero", f"element {k}: {gf[k]!r} vs numpy's {wf[k]!r} (sign of zero, {len(bad)} differ)")
    n_ulps = {"loose": 2 ** 31 if wdt == "f64" else 256}.get(tol, 64)
    close = all(np.isfinite(gf[i]) and np.isfinite(wf[i]) and ulps_close(float(gf[i]), float(wf[i]), want.dtype, n_ulps) for i in bad)
    if tol == "f32in":
        # computed from f32 inputs in f32 arithmetic (as torch does): f32's rounding, as the fixtures' rtol 2e-5, atol 1e-6
        close = all(np.isfinite(gf[i]) and np.isfinite(wf[i]) and abs(float(gf[i]) - float(wf[i])) <= 1e-6 + 2e-5 * abs(float(wf[i])) for i in bad)
    msg = f"element {k} (flat, 0-based): {gf[k]!r} vs numpy's {wf[k]!r} ({len(bad)} differ)"
    if close:
        return ("close" if tol in ("ulp", "loose", "f32in") else "ulpdiff", msg)
    return ("diff", msg)


def load_safetensors(p):
    with open(p, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    h = json.loads(raw[8:8 + n])
    out = {}
    code = {"F64": "<f8", "F32": "<f4", "I64": "<i8", "BOOL": "?"}
    for k, v in h.items():
        if k == "__metadata__":
            continue
        s, e = v["data_offsets"]
        out[k] = np.frombuffer(raw[8 + n + s:8 + n + e], dtype=code[v["dtype"]]).reshape(v["shape"]).astype(code[v["dtype"]].replace("<", "="))
    return out


def compare_one(c, res, want):
    """None or (severity, message)."""
    if res is None or not res.get("started"):
        return ("diff", "not run")
    if want is not ERR and len(want) == 1 and want[0] is ANY:
        return None
    if want is ERR:
        if "error" in res:
            if c.error_shape is not None:
                msg = res["error"]
                sh = list(c.error_shape)
                forms = [str(sh), "[" + ", ".join(map(str, sh)) + "]", "x".join(map(str, sh)), "{" + ", ".join(map(str, sh)) + "}"]
                if not any(f in msg for f in forms):
                    return ("msg", f"error does not name the shape {sh}: {msg}")
            return None
        got = res.get("vals", {})
        return ("diff", f"moonlab gave {describe(got)}; numpy raises")
    if "error" in res:
        return ("diff", f"moonlab error: {res['error'][:300]}")
    vals = res["vals"]
    if len(vals) < len(want):
        return ("diff", f"moonlab gave {len(vals)} results, numpy {len(want)}")
    worst = None
    for k, w in enumerate(want, 1):
        got = vals[k]
        r = cmp_value(got, w, c.tol)
        if r is not None:
            r = (r[0], f"result {k}: {r[1]}")
            if worst is None or SEV[r[0]] > SEV[worst[0]]:
                worst = r
    return worst


SEV = {"close": 0, "zero": 1, "msg": 2, "ulpdiff": 3, "scalar": 3, "diff": 4}


def describe(vals):
    out = []
    for k in sorted(vals):
        v = vals[k]
        if v[0] == "tensor":
            try:
                a = np.load(v[1])
                out.append(f"{NAME.get(a.dtype, a.dtype)}{list(a.shape)} {np.array2string(a.ravel()[:8], separator=',')}")
            except Exception as ex:
                out.append(f"unreadable .npy ({ex})")
        else:
            out.append(str(v[1])[:100])
    return "; ".join(out)


def cmp_value(got, w, tol):
    if isinstance(w, PyVal):
        return cmp_py(got, w.v)
    if isinstance(w, (NpyFile, NpzFile, SafeFile)):
        if got[0] != "file":
            return ("diff", f"expected a file, got {got}")
        p = got[1]
        try:
            if isinstance(w, NpyFile):
                a = np.load(p)
                r = cmp_array(a, w.a, "exact")
                if r is None:
                    import io
                    buf = io.BytesIO()
                    np.save(buf, np.ascontiguousarray(w.a) if w.a.ndim else w.a)
                    mine = open(p, "rb").read()
                    if mine != buf.getvalue():
                        return ("diff", f"tensor.save wrote {len(mine)} bytes that differ from np.save's {len(buf.getvalue())}: {mine[:80]!r} vs {buf.getvalue()[:80]!r}")
                return r
            d = dict(np.load(p)) if isinstance(w, NpzFile) else load_safetensors(p)
        except Exception as ex:
            return ("diff", f"numpy cannot read moonlab's file: {ex}")
        for k, a in w.d.items():
            if k not in d:
                return ("diff", f"no entry {k} in {sorted(d)}")
            r = cmp_array(d[k], a, "exact")
            if r:
                return (r[0], f"entry {k}: {r[1]}")
        return None
    wa = np.asarray(w)
    if got[0] == "tensor":
        a = np.load(got[1])
        if wa.ndim == 0 and not isinstance(w, np.ndarray):
            # numpy gave a scalar: a 0-d tensor is as good as a Lua value
            if a.ndim != 0:
                return ("diff", f"a tensor of shape {list(a.shape)} where numpy gives a scalar {wa!r}")
        return cmp_array(a, wa, tol)
    if got[0] == "savefail":
        return ("diff", got[1])
    # a Lua value
    if wa.ndim != 0:
        return ("diff", f"a Lua {got[0]} {got[1]!r} where numpy gives an array of shape {list(wa.shape)} {wa.ravel()[:6]}")
    wdt = NAME.get(wa.dtype, "i64" if wa.dtype.kind in "iu" else None)
    kind = {"i64": "int", "bool": "bool", "f64": "float", "f32": "float"}.get(wdt)
    if got[0] != kind:
        # a Lua float for an i64 result, etc.
        return ("diff", f"a Lua {got[0]} {got[1]!r} where numpy gives {wdt} {wa!r}")
    if kind == "float":
        g = np.array(got[1], dtype=np.float64)
        if wdt == "f32":
            # the value must be the f32 result, exactly representable
            if float(np.float32(got[1])) != got[1] and not math.isnan(got[1]):
                return ("diff", f"{got[1]!r} is not an f32 value (numpy: {wa!r})")
            g = g.astype(np.float32)
        return cmp_array(g.reshape(()), wa.reshape(()), tol)
    if got[1] != wa.item():
        return ("diff", f"{got[1]!r} vs numpy's {wa.item()!r}")
    return None


def cmp_py(got, v):
    if isinstance(v, list):
        if got[0] != "list" or len(got[1]) != len(v):
            return ("diff", f"{got} vs {v}")
        for x, y in zip(got[1], v):
            r = cmp_py(x, y)
            if r:
                return r
        return None
    if isinstance(v, bool):
        return None if got == ("bool", v) else ("diff", f"{got} vs {v!r}")
    if isinstance(v, int):
        return None if got == ("int", v) else ("diff", f"{got} vs {v!r}")
    if isinstance(v, float):
        if got[0] != "float":
            return ("diff", f"{got} vs {v!r}")
        if math.isnan(v) and math.isnan(got[1]):
            return None
        return None if got[1] == v and math.copysign(1, got[1]) == math.copysign(1, v) else ("diff", f"{got[1]!r} vs {v!r}")
    if isinstance(v, str):
        return None if got[0] == "str" and got[1].strip('"') == v else ("diff", f"{got} vs {v!r}")
    return ("diff", f"? {got} {v}")


CATS = {"indexing": cases_indexing, "broadcast": cases_broadcast, "unary": cases_unary, "reduce": cases_reduce,
        "order": cases_order, "shape": cases_shape, "matmul": cases_matmul, "dist": cases_dist, "casts": cases_cast_writes,
        "large": cases_large, "robust": cases_robust, "forms": cases_forms}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--moonlab", default=None)
    ap.add_argument("--only", action="append", help="a category: " + ", ".join(list(CATS) + ["files"]))
    ap.add_argument("--batch", type=int, default=400)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--show-close", action="store_true", help="also print differences within a few ulps and signs of zero")
    ap.add_argument("--max-per-cat", type=int, default=25)
    args = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    moonlab = args.moonlab or next((p for p in (os.path.join(root, ".build/debug/moonlab"), os.path.join(root, ".build/release/moonlab")) if os.path.exists(p)), "moonlab")
    work = tempfile.mkdtemp(prefix="moonlab-diff-")
    os.makedirs(os.path.join(work, "in"))
    os.makedirs(os.path.join(work, "out"))
    os.makedirs(os.path.join(work, "files"))
    g = Gen(args.seed)
    cases = []
    for name, f in CATS.items():
        if not args.only or name in args.only:
            f(g, cases)
    viewize(g, cases)
    if not args.only or "files" in args.only:
        cases_files(g, cases, os.path.join(work, "files"))
    for i, c in enumerate(cases):
        for k, v in c.inputs.items():
            np.save(os.path.join(work, "in", f"c{i}_{k}.npy"), v)
    wants = [c.expected() for c in cases]
    results = {}
    crashes = []
    todo = list(range(len(cases)))
    while todo:
        ids, todo = todo[:args.batch], todo[args.batch:]
        res, crashed = run_batch(moonlab, cases, ids, work)
        results.update(res)
        if crashed:
            cid = crashed[0]
            if cid is None:
                print("batch failed before a case started:", crashed[2], file=sys.stderr)
                break
            crashes.append((cid, crashed[1], crashed[2]))
            results[cid] = {"started": True, "error": "CRASH"}
            todo = [i for i in ids if i > cid] + todo
    counts = {}
    shown = {}
    bad = 0
    for i, c in enumerate(cases):
        r = compare_one(c, results.get(i), wants[i])
        if results.get(i, {}).get("error") == "CRASH":
            r = ("diff", "moonlab CRASHED")
        cat = c.cat
        counts.setdefault(cat, [0, 0, 0, 0])
        counts[cat][0] += 1
        if r is None:
            continue
        if r[0] in ("close", "zero"):
            counts[cat][2 if r[0] == "close" else 3] += 1
            if not args.show_close:
                continue
        else:
            counts[cat][1] += 1
            bad += 1
        shown[cat] = shown.get(cat, 0) + 1
        if shown[cat] > args.max_per_cat:
            continue
        ins = ", ".join(f"{k}={NAME.get(v.dtype)}{list(v.shape)}" for k, v in c.inputs.items())
        print(f"[{r[0]}] {cat} #{i}: {c.setup + '; ' if c.setup else ''}{c.lua}   ({ins}) {c.note}")
        print(f"    {r[1]}")
        if args.keep:
            print(f"    inputs: {os.path.join(work, 'in')}/c{i}_*.npy")
    for cid, rc, err in crashes:
        print(f"CRASH in case #{cid} ({cases[cid].cat}: {cases[cid].lua}), exit {rc}: {err.strip()[-600:]}")
    print()
    print(f"{'category':<22} {'cases':>6} {'differ':>7} {'close':>6} {'±0':>5}")
    for cat, (n, d, cl, z) in counts.items():
        print(f"{cat:<22} {n:>6} {d:>7} {cl:>6} {z:>5}")
    print(f"numpy {np.__version__}, seed {args.seed}, {len(cases)} cases, {bad} differ, moonlab {moonlab}")
    if args.keep:
        print("work directory:", work)
    else:
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
