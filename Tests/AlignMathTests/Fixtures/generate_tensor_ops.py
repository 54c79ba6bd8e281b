#!/usr/bin/env python3
"""numpy's answers for moonlab's tensor operations (TensorNumpyTests.swift).

Run by hand (never in CI), with numpy 2.x:
    python3 Tests/AlignMathTests/Fixtures/generate_tensor_ops.py

Writes tensor_ops.json: a list of cases, each
    {"name", "inputs": {a: array, ...}, "lua": expressions, "expect": [array | value, ...]}
(the test evaluates table.pack(<lua>) and compares each result in turn)
or, for a write, "setup" (Lua statements run first) and "lua" naming what to read back;
or "error": true when moonlab must raise (numpy raises too). An array is
{"dtype": f64|f32|i64|bool, "shape": [...], "values": [...] (row-major; "nan"/"inf"/"-inf"
as strings)}; a value is {"value": x, "kind": "number"|"integer"|"boolean"}.

The Lua expression is what a researcher writes for the numpy expression next to it
(positions 1-based, inclusive ranges, axes 1-based); the expected value is numpy's. Orders
of sort/argsort/topk follow torch (stable; NaN last ascending, first descending; ties to
the lower position), written out here from numpy's stable argsort, since numpy has no
descending sort. Also writes io_ops_*.npy/.npz/.safetensors files of every dtype, and
the bytes numpy's np.save gives, for the file cases.
"""
import json
import math
import os
import struct

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261204)
DT = {"f64": np.float64, "f32": np.float32, "i64": np.int64, "bool": np.bool_}
NAME = {np.dtype(v): k for k, v in DT.items()}
cases = []


def enc_value(v):
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def arr(a):
    a = np.asarray(a)
    if a.dtype not in NAME:
        raise ValueError(f"dtype {a.dtype} not in moonlab")
    return {"dtype": NAME[a.dtype], "shape": list(a.shape), "values": [enc_value(v) for v in a.ravel().tolist()]}


def expect(x):
    """numpy result -> expectation (a 0-d result of a reduction is a Lua value)."""
    if isinstance(x, np.ndarray) and x.ndim > 0:
        return arr(x)
    x = np.asarray(x)
    kind = {"bool": "boolean", "i64": "integer"}.get(NAME.get(x.dtype, "f64"), "number")
    return {"value": enc_value(x.item()), "kind": kind, "dtype": NAME.get(x.dtype, "f64")}


def add(name, inputs, lua, results=None, setup=None, error=False):
    c = {"name": name, "inputs": {k: arr(v) for k, v in inputs.items()}, "lua": lua}
    if setup:
        c["setup"] = setup
    if error:
        c["error"] = True
    else:
        c["expect"] = [expect(r) for r in (results if isinstance(results, (list, tuple)) else [results])]
    cases.append(c)


def rand(shape, dtype="f64", nan=0.0, ties=False):
    if dtype == "bool":
        return rng.random(shape) < 0.5
    if dtype == "i64":
        return rng.integers(-9, 10, size=shape).astype(np.int64)
    x = rng.standard_normal(shape)
    if ties:
        x = np.round(x * 2) / 2
    if nan:
        x[rng.random(shape) < nan] = np.nan
    return x.astype(DT[dtype])


def lua_index(entries):
    return "{" + ", ".join(entries) + "}"


# ---------------------------------------------------------------- indexing
def indexing():
    for k in range(70):
        nd = int(rng.integers(1, 5))
        shape = tuple(int(s) for s in rng.integers(1, 6, size=nd))
        dtype = ["f64", "f32", "i64", "bool"][k % 4]
        a = rand(shape, dtype)
        lua, np_idx = [], []
        used = int(rng.integers(1, nd + 1))
        for ax in range(used):
            n = shape[ax]
            kind = rng.integers(0, 5)
            if kind == 0:  # a position, maybe negative
                p = int(rng.integers(1, n + 1))
                if rng.random() < 0.4:
                    lua.append(str(p - n - 1)); np_idx.append(p - 1)
                else:
                    lua.append(str(p)); np_idx.append(p - 1)
            elif kind == 1:
                lua.append("{}"); np_idx.append(slice(None))
            elif kind == 2:  # inclusive range i..j
                i = int(rng.integers(1, n + 1)); j = int(rng.integers(i, n + 1))
                lua.append(f"{{{i}, {j}}}"); np_idx.append(slice(i - 1, j))
            elif kind == 3:  # stepped range
                i = int(rng.integers(1, n + 1)); j = int(rng.integers(i, n + 1)); s = int(rng.integers(1, 3))
                lua.append(f"{{{i}, {j}, {s}}}"); np_idx.append(slice(i - 1, j, s))
            else:  # backwards with a negative end
                i = int(rng.integers(1, n + 1)); j = int(rng.integers(1, i + 1))
                lua.append(f"{{{i - n - 1}, {j}, -1}}"); np_idx.append(slice(i - 1, j - 2 if j >= 2 else None, -1))
        r = a[tuple(np_idx)]
        add(f"index {k}: a{list(shape)}[{', '.join(lua)}]", {"a": a}, f"a[{lua_index(lua)}]", r)
        # the same key written through
        b = a.copy()
        val = {"bool": "true", "i64": "7"}.get(dtype, "2.5")
        b[tuple(np_idx)] = {"bool": True, "i64": 7}.get(dtype, 2.5)
        add(f"write {k}: a{list(shape)}[{', '.join(lua)}] = {val}", {"a": a}, "a", b, setup=f"a[{lua_index(lua)}] = {val}")
    # out of range positions and ranges are errors
    a = rand((3, 4))
    for key in ["{4}", "{-4}", "{0}", "{1, 5}", "{{1, 5}}", "{{0, 2}}", "{1, 2, 3}"]:
        add(f"index error a[{key}]", {"a": a}, f"a[{key}]", error=True)
    # row views write through
    b = a.copy(); b[1] = 0
    add("row view writes through", {"a": a}, "a", b, setup="local r = a[2]; r[{}] = 0")
    b = a.copy(); b[:, 2] = [1, 2, 3]
    add("column view from a Lua array", {"a": a}, "a", b, setup="a[{{}, 3}] = {1, 2, 3}")
    b = a.copy(); b[0:2, 1:3] += 1
    add("range view += through a view", {"a": a}, "a", b, setup="local v = a[{{1, 2}, {2, 3}}]; v[{}] = v + 1")
    # masks
    for k, dtype in enumerate(["f64", "f32", "i64", "f64"]):
        x = rand((3, 5), dtype)
        add(f"mask read {dtype} {k}", {"a": x}, "a[a:gt(0)]", x[x > 0])
        y = x.copy(); y[y > 0] = 0
        add(f"mask write scalar {dtype} {k}", {"a": x}, "a", y, setup="a[a:gt(0)] = 0")
        m = rng.random(3) < 0.5
        add(f"mask over rows {dtype} {k}", {"a": x, "m": m}, "a[m]", x[m])
        y = x.copy(); y[x < 0] = np.arange((x < 0).sum())
        add(f"mask write values {dtype} {k}", {"a": x}, "a", y, setup="local m = a:lt(0); a[m] = tensor.arange(a[m]:numel())")
    # index and gather
    for k in range(8):
        x = rand((4, 5), ["f64", "f32", "i64", "bool"][k % 4])
        ax = k % 2
        pos = rng.integers(0, x.shape[ax], size=int(rng.integers(1, 6)))
        lua_pos = "{" + ", ".join(str(int(p) + 1) for p in pos) + "}"
        add(f"index axis {ax + 1} {k}", {"a": x}, f"a:index({ax + 1}, {lua_pos})", np.take(x, pos, axis=ax))
        g = rng.integers(0, x.shape[ax], size=(3, 5) if ax == 0 else (4, 3))
        add(f"gather axis {ax + 1} {k}", {"a": x, "g": (g + 1).astype(np.int64)}, f"a:gather({ax + 1}, g)", np.take_along_axis(x, g, axis=ax))
    x = rand((5,))
    add("i64 tensor key", {"a": x, "p": np.array([5, 1, 1], dtype=np.int64)}, "a[p]", x[[4, 0, 0]])


# ---------------------------------------------------------------- broadcasting and promotion
OPS = [("+", np.add), ("-", np.subtract), ("*", np.multiply), ("/", np.true_divide)]


def broadcasting():
    pairs = [((2, 1), (1, 3)), ((3,), (2, 3)), ((4, 1, 2), (3, 1)), ((1,), (5,)), ((2, 3), ()), ((1, 4), (3, 1)),
             ((2, 1, 3), (2, 4, 1)), ((5, 1), (5,)), ((1, 1, 1), (2, 3, 4)), ((3, 2), (3, 2))]
    for k, (sa, sb) in enumerate(pairs):
        for sym, f in OPS:
            a, b = rand(sa), rand(sb)
            if sym == "/":
                b[b == 0] = 1
            add(f"broadcast {sa} {sym} {sb}", {"a": a, "b": b}, f"a {sym} b", f(a, b))
        a, b = rand(sa, ties=True), rand(sb, ties=True)
        for name, f in [("eq", np.equal), ("lt", np.less), ("ge", np.greater_equal), ("ne", np.not_equal)]:
            add(f"compare {sa} {name} {sb}", {"a": a, "b": b}, f"a:{name}(b)", f(a, b))
    for sa, sb in [((2, 3), (3, 2)), ((4,), (3,)), ((2, 1, 3), (4, 2))]:
        add(f"broadcast error {sa} {sb}", {"a": rand(sa), "b": rand(sb)}, "a + b", error=True)


def promotion():
    vals = {"f64": np.array([1.5, -2.25, 3.0]), "f32": np.array([0.5, -1.75, 2.0], dtype=np.float32),
            "i64": np.array([3, -7, 2], dtype=np.int64), "bool": np.array([True, False, True])}
    ops = [("+", np.add), ("*", np.multiply), ("/", np.true_divide), ("-", np.subtract), ("//", np.floor_divide), ("%", np.remainder)]
    for da, a in vals.items():
        for db, b in vals.items():
            for sym, f in ops:
                if sym == "-" and da == "bool" and db == "bool":
                    add(f"promote {da} - {db} (refused)", {"a": a, "b": b}, "a - b", error=True)
                    continue
                if sym in ("//", "%") and db in ("i64", "bool") and da in ("i64", "bool"):
                    b2 = np.where(b == 0, 1, b).astype(b.dtype) if db == "i64" else np.array([True, True, True])
                else:
                    b2 = b
                with np.errstate(all="ignore"):
                    r = f(a, b2)
                if r.dtype == np.int8:  # numpy's bool // bool; moonlab computes in i64
                    r = r.astype(np.int64)
                add(f"promote {da} {sym} {db}", {"a": a, "b": b2}, f"a {sym} b", r)
        # weak scalars (NEP 50): Lua integers, floats and booleans
        for lua, py in [("2", 2), ("2.5", 2.5), ("-3", -3), ("0.5", 0.5), ("true", True)]:
            for sym, f in [("+", np.add), ("*", np.multiply), ("/", np.true_divide)]:
                with np.errstate(all="ignore"):
                    r = f(a, py)
                add(f"weak {da} {sym} {lua}", {"a": a}, f"a {sym} {lua}", r)
                with np.errstate(all="ignore"):
                    r2 = f(py, a)
                add(f"weak {lua} {sym} {da}", {"a": a}, f"{lua} {sym} a", r2)
    i = np.array([2, 3, -4], dtype=np.int64)
    add("integer power", {"a": i}, "a ^ 2", i ** 2)
    add("integer to a negative power (refused)", {"a": i}, "a ^ -1", error=True)
    add("i64 // with zero divisor", {"a": i, "b": np.array([0, 2, -3], dtype=np.int64)}, "a // b",
        np.array([0, 1, 1], dtype=np.int64))
    f = np.array([7.0, -7.0, 1.0, -0.5])
    add("float floor division and modulo", {"a": f}, "a // 2, a % -2, a // 0.1",
        [np.floor_divide(f, 2), np.remainder(f, -2), np.floor_divide(f, 0.1)])


# ---------------------------------------------------------------- reductions
RED = [("sum", np.sum), ("mean", np.mean), ("min", np.min), ("max", np.max), ("prod", np.prod),
       ("nansum", np.nansum), ("nanmean", np.nanmean), ("any", np.any), ("all", np.all)]


def logsumexp(x, axis=None, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    with np.errstate(all="ignore"):
        r = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    r = np.where(np.isnan(np.sum(x, axis=axis, keepdims=True)) & ~np.isinf(np.max(x, axis=axis, keepdims=True)), np.nan, r)
    if not keepdims:
        r = np.squeeze(r, axis=axis) if axis is not None else r.reshape(())
    return r


def reductions():
    for k in range(14):
        nd = 1 + k % 3
        shape = tuple(int(s) for s in rng.integers(2, 6, size=nd))
        dtype = ["f64", "f32", "i64", "bool", "f64", "f64", "f32"][k % 7]
        x = rand(shape, dtype, nan=0.15 if k % 5 == 4 else 0.0)
        for name, f in RED:
            if dtype in ("i64", "bool") and name in ("nansum", "nanmean"):
                continue
            with np.errstate(all="ignore"):
                add(f"{name} all {dtype}{list(shape)} {k}", {"a": x}, f"a:{name}()", f(x))
                for ax in range(nd):
                    lua_ax = ax + 1 if k % 2 == 0 else ax - nd
                    keep = (ax + k) % 3 == 0
                    r = f(x, axis=ax, keepdims=keep)
                    add(f"{name} axis {lua_ax} keepdim={keep} {dtype}{list(shape)} {k}", {"a": x},
                        f"a:{name}{{axis = {lua_ax}, keepdim = {str(keep).lower()}}}", r)
        if dtype != "bool":
            for name in ("argmax", "argmin"):
                f = np.argmax if name == "argmax" else np.argmin
                add(f"{name} all {dtype}{list(shape)} {k}", {"a": x}, f"a:{name}()", np.int64(f(x) + 1))
                for ax in range(nd):
                    add(f"{name} axis {ax + 1} {dtype}{list(shape)} {k}", {"a": x}, f"a:{name}{{axis = {ax + 1}}}", f(x, axis=ax) + 1)
        xf = x.astype(np.float64) if dtype in ("i64", "bool") else x
        for ddof in (0, 1):
            with np.errstate(all="ignore"):
                add(f"var ddof={ddof} {dtype}{list(shape)} {k}", {"a": x}, f"a:var{{ddof = {ddof}}}", np.var(xf, ddof=ddof).astype(xf.dtype))
                add(f"std axis 1 ddof={ddof} {dtype}{list(shape)} {k}", {"a": x}, f"a:std{{axis = 1, ddof = {ddof}}}", np.std(xf, axis=0, ddof=ddof).astype(xf.dtype))
        if dtype in ("f64", "f32"):
            add(f"logsumexp all {dtype}{list(shape)} {k}", {"a": x}, "a:logsumexp()", logsumexp(x.astype(np.float64)).astype(x.dtype))
            add(f"logsumexp axis -1 {dtype}{list(shape)} {k}", {"a": x}, "a:logsumexp{axis = -1}", logsumexp(x.astype(np.float64), axis=-1).astype(x.dtype))
        add(f"cumsum flat {dtype}{list(shape)} {k}", {"a": x}, "a:cumsum()", np.cumsum(x) if dtype != "bool" else np.cumsum(x.astype(np.int64)))
        for ax in range(nd):
            c = np.cumsum(x, axis=ax) if dtype != "bool" else np.cumsum(x.astype(np.int64), axis=ax)
            add(f"cumsum axis {ax + 1} {dtype}{list(shape)} {k}", {"a": x}, f"a:cumsum{{{ax + 1}}}", c)
        if dtype in ("f64", "i64"):
            add(f"cumprod axis -1 {dtype}{list(shape)} {k}", {"a": x}, "a:cumprod{axis = -1}", np.cumprod(x, axis=-1))
    x = np.array([np.nan, 1.0, np.nan, 5.0, 5.0])
    add("argmax picks the first NaN", {"a": x}, "a:argmax()", np.int64(np.argmax(x) + 1))
    add("max propagates NaN", {"a": x}, "a:max()", np.max(x))
    add("empty sum", {"a": np.zeros(0)}, "a:sum()", np.float64(0))
    add("empty max (refused)", {"a": np.zeros(0)}, "a:max()", error=True)


# ---------------------------------------------------------------- ordering
def torch_order(row, descending):
    n = len(row)
    def key(i):
        v = row[i]
        nan = isinstance(v, float) and math.isnan(v) or (isinstance(v, np.floating) and np.isnan(v))
        if descending:
            return (0 if nan else 1, 0 if nan else -float(v), i)
        return (1 if nan else 0, 0 if nan else float(v), i)
    return sorted(range(n), key=key)


def order_along(x, axis, descending):
    xm = np.moveaxis(x, axis, -1)
    idx = np.empty(xm.shape, dtype=np.int64)
    for pos in np.ndindex(xm.shape[:-1]):
        idx[pos] = torch_order(list(xm[pos]), descending)
    vals = np.take_along_axis(xm, idx, axis=-1)
    return np.moveaxis(vals, -1, axis), np.moveaxis(idx, -1, axis)


def ordering():
    for k in range(16):
        nd = 1 + k % 3
        shape = tuple(int(s) for s in rng.integers(2, 7, size=nd))
        dtype = ["f64", "f32", "i64", "f64"][k % 4]
        x = rand(shape, dtype, nan=0.2 if dtype != "i64" and k % 3 else 0.0, ties=True)
        if dtype == "f64" and k % 4 == 3:
            x.ravel()[0] = -0.0
        for desc in (False, True):
            for ax in range(nd):
                v, i = order_along(x, ax, desc)
                add(f"sort axis {ax + 1} desc={desc} {dtype}{list(shape)} {k}", {"a": x},
                    f"a:sort{{axis = {ax + 1}, descending = {str(desc).lower()}}}", [v, i + 1])
                add(f"argsort axis {ax + 1} desc={desc} {dtype}{list(shape)} {k}", {"a": x},
                    f"a:argsort{{axis = {ax + 1}, descending = {str(desc).lower()}}}", i + 1)
        n = shape[-1]
        for kk in sorted({1, min(2, n), n}):
            for largest in (True, False):
                v, i = order_along(x, -1, largest)
                add(f"topk {kk} largest={largest} {dtype}{list(shape)} {k}", {"a": x},
                    f"a:topk({kk}, {{largest = {str(largest).lower()}}})", [v[..., :kk], i[..., :kk] + 1])
    big = np.round(rng.standard_normal((3, 200)) * 3).astype(np.float32)
    big[0, ::7] = np.nan
    v, i = order_along(big, -1, True)
    add("topk 5 of rows of 200 with ties and NaN", {"a": big}, "a:topk(5)", [v[:, :5], i[:, :5] + 1])
    add("dist.topk gives 0-based ids", {"a": big[1]}, "dist.topk(a, 3)", [i[1, :3], v[1, :3]])
    add("dist.argmax of a batch gives 0-based ids", {"a": big[1:]}, "dist.argmax(a)", np.argmax(big[1:], axis=-1))


# ---------------------------------------------------------------- shapes, joins, elementwise
def shapes():
    x = rand((2, 3, 4))
    add("reshape -1", {"a": x}, "a:reshape{4, -1}", x.reshape(4, -1))
    add("reshape of a transposed view", {"a": x}, "a:transpose(1, 3):reshape{-1}", np.transpose(x, (2, 1, 0)).reshape(-1))
    add("flatten", {"a": x}, "a:flatten()", x.flatten())
    add("transpose 1 3", {"a": x}, "a:transpose(1, 3)", np.swapaxes(x, 0, 2))
    add("transpose -1 -2", {"a": x}, "a:transpose(-1, -2)", np.swapaxes(x, -1, -2))
    add("permute", {"a": x}, "a:permute{3, 1, 2}", np.transpose(x, (2, 0, 1)))
    add("T", {"a": x[0]}, "a:T()", x[0].T)
    add("unsqueeze 2", {"a": x}, "a:unsqueeze(2)", np.expand_dims(x, 1))
    add("unsqueeze -1", {"a": x}, "a:unsqueeze(-1)", np.expand_dims(x, -1))
    y = rand((1, 3, 1))
    add("squeeze all", {"a": y}, "a:squeeze()", np.squeeze(y))
    add("squeeze axis 3", {"a": y}, "a:squeeze(3)", np.squeeze(y, 2))
    add("squeeze a non-1 axis (refused)", {"a": y}, "a:squeeze(2)", error=True)
    add("expand", {"a": y}, "a:expand{2, 3, 4}", np.broadcast_to(y, (2, 3, 4)))
    add("expand with -1", {"a": y}, "a:expand{5, -1, 2}", np.broadcast_to(y, (5, 3, 2)))
    v = rand((7,))
    add("slice with step", {"a": v}, "a:slice(2, 7, 2)", v[1:7:2])
    add("slice backwards", {"a": v}, "a:slice(-1, 1, -3)", v[::-3])
    for ax in (1, 2, 3):
        p, q = rand((2, 3, 4)), rand((2, 3, 4))
        shp = list(p.shape); shp[ax - 1] = 1
        r = rand(tuple(shp), "i64")
        add(f"cat axis {ax}", {"p": p, "q": q, "r": r}, f"tensor.cat({{p, q, r}}, {{axis = {ax}}})", np.concatenate([p, q, r], axis=ax - 1))
        add(f"stack axis {ax}", {"p": p, "q": q}, f"tensor.stack({{p, q}}, {{axis = {ax}}})", np.stack([p, q], axis=ax - 1))
    add("stack axis -1", {"p": x, "q": x}, "tensor.stack({p, q}, {axis = -1})", np.stack([x, x], axis=-1))
    w = rand((3, 4), nan=0.2)
    add("where with a scalar", {"a": w}, "tensor.where(a:gt(0), a, 0)", np.where(w > 0, w, 0))
    b = rand((4,))
    add("where broadcasting", {"a": w, "b": b}, "tensor.where(a:isnan(), b, a)", np.where(np.isnan(w), b, w))
    c = rand((5,), "bool")
    add("where of integers", {"c": c}, "tensor.where(c, 1, 2)", np.where(c, 1, 2))
    add("where of a float and an integer", {"c": c}, "tensor.where(c, 1.5, 2)", np.where(c, 1.5, 2))
    add("isnan", {"a": w}, "a:isnan()", np.isnan(w))
    add("isfinite", {"a": np.array([1.0, np.inf, -np.inf, np.nan])}, "a:isfinite()", np.isfinite(np.array([1.0, np.inf, -np.inf, np.nan])))
    add("any/all along axes", {"a": w}, "a:isnan():any{axis = 1}, a:isnan():all{axis = 2}", [np.isnan(w).any(0), np.isnan(w).all(1)])
    m = rand((3, 4))
    b = rand((4,)); b[1] = np.nan
    add("maximum broadcasting", {"a": m, "b": b}, "tensor.maximum(a, b)", np.maximum(m, b))
    add("minimum with a scalar", {"a": m}, "tensor.minimum(a, 0)", np.minimum(m, 0))
    add("clamp", {"a": m}, "a:clamp(-0.5, 0.5)", np.clip(m, -0.5, 0.5))
    i = rand((6,), "i64")
    add("clamp i64 with integers stays i64", {"a": i}, "a:clamp(-2, 3)", np.clip(i, -2, 3))
    for name, f in [("exp", np.exp), ("log1p", np.log1p), ("tanh", np.tanh), ("floor", np.floor), ("ceil", np.ceil),
                    ("round", np.round), ("abs", np.abs), ("sign", np.sign), ("sqrt", np.sqrt), ("expm1", np.expm1)]:
        for dtype in ("f64", "f32", "i64"):
            x = rand((5,), dtype)
            if name in ("log1p", "sqrt"):
                x = np.abs(x)
            if name == "round":
                x = (np.round(rand((5,), "f64") * 2) / 2).astype(DT[dtype]) if dtype != "i64" else x
            with np.errstate(all="ignore"):
                add(f"{name} {dtype}", {"a": x}, f"a:{name}()", f(x))
    s = rand((6,))
    add("sigmoid", {"a": s}, "a:sigmoid()", 1 / (1 + np.exp(-s)))


def matmul():
    shapes = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)), ((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)),
              ((2, 1, 2, 3), (4, 3, 2)), ((1, 4), (4, 1)), ((4, 0), (0, 3))]
    for sa, sb in shapes:
        for dtype in ("f64", "f32", "i64"):
            a, b = rand(sa, dtype), rand(sb, dtype)
            add(f"matmul {sa} {sb} {dtype}", {"a": a, "b": b}, "tensor.matmul(a, b)", np.matmul(a, b))
    a, b = rand((3, 4)), rand((5, 4))
    add("matmul of a transposed view", {"a": a, "b": b}, "a:matmul(b:T())", a @ b.T)
    a = rand((6, 6))
    add("matmul of stepped views", {"a": a}, "a[{{1, 4, 2}, {}}]:matmul(a[{{}, {1, 6, 3}}])", a[0:4:2] @ a[:, 0:6:3])
    a, b = rand((2, 3), "f32"), rand((3, 2))
    add("matmul f32 with f64 promotes", {"a": a, "b": b}, "tensor.matmul(a, b)", np.matmul(a, b))
    add("matmul mismatch (refused)", {"a": rand((2, 3)), "b": rand((4, 2))}, "tensor.matmul(a, b)", error=True)


# ---------------------------------------------------------------- files
def files():
    arrays = {"f64": np.array([[1.5, -2.0, np.nan], [np.inf, 0.0, 1e-300]]),
              "f32": np.array([0.25, -1.5, 3.0e38], dtype=np.float32),
              "i64": np.array([[-(2 ** 62), 3], [0, 9007199254740993]], dtype=np.int64),
              "bool": np.array([True, False, True, True])}
    for name, a in arrays.items():
        p = f"io_ops_{name}.npy"
        np.save(os.path.join(HERE, p), a)
        c = {"name": f"load {p}", "inputs": {}, "lua": f"tensor.load(FIXTURES .. '/{p}')", "expect": [arr(a)]}
        cases.append(c)
        # moonlab's .npy of the same array must be numpy's bytes exactly
        c = {"name": f"save {name} gives numpy's bytes", "inputs": {"a": arr(a)}, "lua": "a", "expect": [arr(a)],
             "npy_bytes": os.path.getsize(os.path.join(HERE, p)), "npy_file": p}
        cases.append(c)
    np.savez(os.path.join(HERE, "io_ops_all.npz"), **arrays)
    np.savez_compressed(os.path.join(HERE, "io_ops_all_compressed.npz"), **arrays)
    for f in ("io_ops_all.npz", "io_ops_all_compressed.npz"):
        for name, a in arrays.items():
            cases.append({"name": f"load {f}:{name}", "inputs": {}, "lua": f"tensor.load(FIXTURES .. '/{f}')['{name}']", "expect": [arr(a)]})
    # safetensors by hand (its format: u64 header length, JSON header, raw little-endian data)
    header, blobs, off = {}, [], 0
    for name in sorted(arrays):
        a = arrays[name]
        raw = a.astype(a.dtype.newbyteorder("<")).tobytes()
        code = {"f64": "F64", "f32": "F32", "i64": "I64", "bool": "BOOL"}[name]
        header[name] = {"dtype": code, "shape": list(a.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw); off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(os.path.join(HERE, "io_ops_all.safetensors"), "wb") as fh:
        fh.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
    for name, a in arrays.items():
        cases.append({"name": f"load io_ops_all.safetensors:{name}", "inputs": {}, "lua": f"tensor.load(FIXTURES .. '/io_ops_all.safetensors')['{name}']", "expect": [arr(a)]})
    # round trips through moonlab's writers (read back by moonlab; the writer's bytes are checked against numpy above)
    for ext in ("npz", "safetensors"):
        for name, a in arrays.items():
            cases.append({"name": f"round trip .{ext} {name}", "inputs": {"a": arr(a)},
                          "setup": f"tensor.save(TMP .. '/rt.{ext}', {{x = a, y = a:T()}}, {{compress = {'true' if ext == 'npz' else 'false'}}})" if ext == "npz" else f"tensor.save(TMP .. '/rt.{ext}', {{x = a, y = a:T()}})",
                          "lua": f"tensor.load(TMP .. '/rt.{ext}').x, tensor.load(TMP .. '/rt.{ext}').y", "expect": [arr(a), arr(a.T)]})


def main():
    indexing()
    broadcasting()
    promotion()
    reductions()
    ordering()
    shapes()
    matmul()
    files()
    names = set()
    for c in cases:
        assert c["name"] not in names, c["name"]
        names.add(c["name"])
    with open(os.path.join(HERE, "tensor_ops.json"), "w") as f:
        json.dump({"numpy": np.__version__, "cases": cases}, f, separators=(",", ":"))
    print("wrote", len(cases), "cases with numpy", np.__version__)


if __name__ == "__main__":
    main()
