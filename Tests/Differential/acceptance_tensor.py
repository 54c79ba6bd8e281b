#!/usr/bin/env python3
"""Blind acceptance check of moonlab's tensor contract (issue 13) against numpy.

Written from /work/shared/docs/lua-api.md ("tensor: the value that heavy math runs on" and
the dist lines after it) alone, as an outside checker would: every sentence that states a
behaviour becomes cases, in the spelling the contract shows, plus the variants a numpy or
torch user tries (negative axes, keepdim, `{}` and `{i, j, step}` keys, masks, i64/bool
promotion, integer overflow, the Lua type of scalar results, files numpy writes and reads,
out-of-range errors that name the shape).

Hand-run, never in CI:

    swift build
    python3 Tests/Differential/acceptance_tensor.py [--seed N] [--only PREFIX] [-v]

Values are compared bitwise (NaN equals NaN, the sign of zero counts) except where numpy's
own algorithm sums in another order (sum/mean/var/std/nansum/nanmean/logsumexp/matmul and
friends over floats): there up to 4 ulps in the result's dtype is reported as `close`.
Sort orders with NaN and ties follow torch (lua-api.md says so); torch runs from
/work/venv-torch/bin/python when present, otherwise those expectations are written out.
"""
import argparse
import math
import os
import re
import struct
import subprocess
import sys
import tempfile
import warnings

import numpy as np

np.seterr(all="ignore")
warnings.filterwarnings("ignore", category=RuntimeWarning)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MOONLAB = os.path.join(ROOT, ".build", "debug", "moonlab")

# ---------------------------------------------------------------------------------------
# expectations


class Err:
    """moonlab must raise a Lua error (not crash); `needs` are regexes the message matches."""

    def __init__(self, *needs):
        self.needs = needs


class Lua:
    """An exact Lua value: Lua('int', 3), Lua('float', 2.5), Lua('bool', True), Lua('nil')."""

    def __init__(self, kind, value=None):
        self.kind, self.value = kind, value


class Multi(tuple):
    pass


def shape_re(shape):
    """A message names the shape if its sizes appear in order, separated by punctuation."""
    return r"\D{1,4}".join(str(s) for s in shape)


CASES = []  # (name, lua_body, expected, tol)


def case(name, body, expected, tol=0):
    CASES.append((name, body, expected, tol))


# ---------------------------------------------------------------------------------------
# Lua literals

DT = {np.float64: "f64", np.float32: "f32", np.int64: "i64", np.bool_: "bool"}


def dtname(a):
    return DT[np.dtype(a.dtype).type]


def lnum(x, dt):
    if dt == "bool":
        return "true" if x else "false"
    if dt == "i64":
        x = int(x)
        if x == -(2**63):
            return "math.mininteger"
        return str(x)
    x = float(x)
    if math.isnan(x):
        return "(0/0)"
    if math.isinf(x):
        return "math.huge" if x > 0 else "(-math.huge)"
    return "(" + float.hex(x) + ")"


def lnest(a, dt):
    if a.ndim == 0:
        return lnum(a.item(), dt)
    return "{" + ", ".join(lnest(x, dt) for x in a) + "}"


def T(a):
    """A Lua expression that builds numpy array a as a moonlab tensor."""
    a = np.asarray(a)
    dt = dtname(a)
    if a.size == 0:
        return "tensor.zeros({%s}, {dtype = %r})" % (", ".join(map(str, a.shape)), dt)
    if a.ndim == 0:
        return "tensor.full({}, %s, {dtype = %r})" % (lnum(a.item(), dt), dt)
    return "tensor.from(%s, {dtype = %r})" % (lnest(a, dt), dt)


def L(v):
    """A Lua literal for a Python scalar or nested list (int -> integer, float -> float)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return lnum(v, "i64")
    if isinstance(v, float):
        return lnum(v, "f64")
    if isinstance(v, (list, tuple)):
        return "{" + ", ".join(L(x) for x in v) + "}"
    raise TypeError(v)


# ---------------------------------------------------------------------------------------
# data

rng = None


def rand(shape, dt, special=False, ties=False):
    if dt == "bool":
        return rng.random(shape) < 0.5
    if dt == "i64":
        if ties:
            return rng.integers(-3, 4, shape).astype(np.int64)
        return rng.integers(-50, 51, shape).astype(np.int64)
    f = np.float64 if dt == "f64" else np.float32
    if ties:
        a = rng.integers(-3, 4, shape).astype(f) / 2
    else:
        a = rng.standard_normal(shape).astype(f) * 3
    if special and a.size:
        flat = a.reshape(-1)
        for v in (np.nan, np.inf, -np.inf, -0.0, 0.0):
            if rng.random() < 0.5:
                flat[rng.integers(0, flat.size)] = v
    return np.asarray(a)


def pos(i):
    """numpy index -> Lua 1-based position (negative stays negative)."""
    return i + 1 if i >= 0 else i


# ---------------------------------------------------------------------------------------
# the cases


def gen_making():
    case("make/literal_int_default_f64", "return tensor{1, 2, 3}", np.array([1.0, 2, 3]))
    case("make/literal_nested", "return tensor{{1, 2}, {3, 4}}", np.array([[1.0, 2], [3, 4]]))
    case("make/literal_deep", "return tensor{{{1}, {2}}, {{3}, {4}}}",
         np.arange(1.0, 5).reshape(2, 2, 1))
    case("make/literal_bool", "return tensor{true, false, true}", np.array([True, False, True]))
    case("make/ragged_error", "return tensor{{1, 2}, {3}}", Err())
    case("make/zeros", "return tensor.zeros{2, 3}", np.zeros((2, 3)))
    case("make/ones", "return tensor.ones{4}", np.ones(4))
    case("make/full", "return tensor.full({2, 3}, 2.5)", np.full((2, 3), 2.5))
    case("make/full_i64", "return tensor.full({2}, 7, {dtype = 'i64'})", np.full(2, 7, np.int64))
    for dt, npdt in (("f32", np.float32), ("i64", np.int64), ("bool", np.bool_)):
        case("make/zeros_" + dt, "return tensor.zeros({2, 2}, {dtype = %r})" % dt, np.zeros((2, 2), npdt))
        case("make/ones_" + dt, "return tensor.ones({3}, {dtype = %r})" % dt, np.ones(3, npdt))
    case("make/zeros_empty", "return tensor.zeros{0, 3}", np.zeros((0, 3)))
    case("make/arange", "return tensor.arange(1, 5)", np.arange(1, 5, dtype=np.float64))
    case("make/arange_step", "return tensor.arange(0, 1, 0.25)", np.arange(0, 1, 0.25))
    case("make/arange_neg_step", "return tensor.arange(5, 0, -2)", np.arange(5, 0, -2, dtype=np.float64))
    case("make/arange_i64", "return tensor.arange(0, 10, 3, {dtype = 'i64'})", np.arange(0, 10, 3))
    case("make/arange_frac", "return tensor.arange(0, 1, 0.1)", np.arange(0, 1, 0.1))
    for a0, a1, st in ((2**53 + 1, 2**53 + 4, 1), (2**62, 2**62 + 10, 3), (-(2**63), -(2**63) + 3, 1),
                       (2**63 - 1, -(2**63), -(2**63))):
        case("make/arange_i64_exact %d" % a0, "return tensor.arange(%s, %s, %s, {dtype = 'i64'})" % (
            lnum(a0, "i64"), lnum(a1, "i64"), lnum(st, "i64")), np.arange(a0, a1, st, dtype=np.int64))
    case("make/arange_empty", "return tensor.arange(3, 3)", np.arange(3, 3, dtype=np.float64))
    case("make/linspace", "return tensor.linspace(0, 1, 5)", np.linspace(0, 1, 5))
    case("make/linspace7", "return tensor.linspace(-1, 2, 7)", np.linspace(-1, 2, 7))
    case("make/linspace_f32", "return tensor.linspace(0, 1, 11, {dtype = 'f32'})",
         np.linspace(0, 1, 11, dtype=np.float32))
    case("make/linspace_1", "return tensor.linspace(2, 5, 1)", np.linspace(2, 5, 1))
    case("make/eye", "return tensor.eye(3)", np.eye(3))
    case("make/eye_i64", "return tensor.eye(2, {dtype = 'i64'})", np.eye(2, dtype=np.int64))
    case("make/from_f32", "return tensor.from({0.1, 0.2}, {dtype = 'f32'})", np.array([0.1, 0.2], np.float32))
    case("make/from_i64", "return tensor.from({1, 2, 3}, {dtype = 'i64'})", np.array([1, 2, 3]))
    case("make/from_i64_big", "return tensor.from({math.maxinteger, math.mininteger}, {dtype = 'i64'})",
         np.array([2**63 - 1, -(2**63)], np.int64))
    case("make/from_bool", "return tensor.from({true, false}, {dtype = 'bool'})", np.array([True, False]))
    case("make/from_tensor_f32", "return tensor.from(tensor{1.5, 2}, {dtype = 'f32'})",
         np.array([1.5, 2], np.float32))
    case("make/randn_shape", "local t = tensor.randn({3, 4}, random.new(1)); return t:shape(), t:dtype()",
         Multi((Lua("list", [3, 4]), Lua("str", "f64"))))
    case("make/rand_range", "local t = tensor.rand({1000}, random.new(2)); return t:min() >= 0 and t:max() < 1",
         Lua("bool", True))
    case("make/randn_det", "return tensor.randn({5}, random.new(3)):equal(tensor.randn({5}, random.new(3)))",
         Lua("bool", True))
    case("make/randn_f32", "return tensor.randn({2}, random.new(3), {dtype = 'f32'}):dtype()", Lua("str", "f32"))
    # conversions
    a = np.array([-2.7, -0.5, 0.5, 1.5, 2.5, 3.9, -0.0])
    case("to/f64_i64_trunc", "return %s:to('i64')" % T(a), a.astype(np.int64))
    case("to/f64_f32", "return %s:to('f32')" % T(np.array([0.1, 1e30, -1e-50])),
         np.array([0.1, 1e30, -1e-50]).astype(np.float32))
    case("to/f64_bool", "return %s:to('bool')" % T(np.array([0.0, -0.0, 2, np.nan])),
         np.array([0.0, -0.0, 2, np.nan]).astype(np.bool_))
    case("to/bool_f64", "return tensor{true, false}:to('f64')", np.array([1.0, 0.0]))
    case("to/i64_f64_big", "return %s:to('f64')" % T(np.array([2**53 + 1, -(2**63)], np.int64)),
         np.array([2**53 + 1, -(2**63)], np.int64).astype(np.float64))
    case("to/i64_bool", "return %s:to('bool')" % T(np.array([0, 3, -1])), np.array([0, 3, -1]).astype(bool))


def gen_looking():
    a = rand((2, 3, 4), "f64")
    case("look/shape", "return %s:shape()" % T(a), Lua("list", [2, 3, 4]))
    case("look/len", "return #%s" % T(a), Lua("int", 2))
    case("look/numel", "return %s:numel()" % T(a), Lua("int", 24))
    case("look/dtype", "return %s:dtype()" % T(a.astype(np.float32)), Lua("str", "f32"))
    case("look/shape_0d", "return tensor.full({}, 1):shape()", Lua("list", []))
    case("look/numel_empty", "return tensor.zeros{0, 5}:numel()", Lua("int", 0))
    case("look/len_empty", "return #tensor.zeros{0, 5}", Lua("int", 0))


def gen_indexing():
    for dt in ("f64", "f32", "i64", "bool"):
        v = rand((5,), dt)
        for i in (0, 2, 4, -1, -5):
            case("index/1d_%s_%d" % (dt, i), "local t = %s; return t[%d]" % (T(v), pos(i)), v[i])
        for i in (5, -6):
            case("index/1d_oob_%s_%d" % (dt, i), "local t = %s; return t[%d]" % (T(v), pos(i)),
                 Err(shape_re([5])))
    m = rand((3, 4), "f64")
    case("index/0_is_error", "local t = %s; return t[0]" % T(m), Err(shape_re([3, 4])))
    for i in (0, 2, -1, -3):
        case("index/row_%d" % i, "local t = %s; return t[%d]" % (T(m), pos(i)), m[i])
    case("index/row_oob", "local t = %s; return t[4]" % T(m), Err(shape_re([3, 4])))
    case("index/row_oob_neg", "local t = %s; return t[-4]" % T(m), Err(shape_re([3, 4])))
    case("index/chain", "local t = %s; return t[2][3]" % T(m), m[1][2])
    case("index/chain_neg", "local t = %s; return t[-1][-2]" % T(m), m[-1][-2])
    # Torch7 keys
    a = rand((4, 5, 6, 3), "f64")

    def tk(entries):
        """entries: list of int (numpy index) / tuple (np start, np stop-inclusive, step) / None"""
        lua, npk = [], []
        for e in entries:
            if e is None:
                lua.append("{}")
                npk.append(slice(None))
            elif isinstance(e, int):
                lua.append(str(e))
                npk.append(e)
            else:
                i, j = e[0], e[1]
                step = e[2] if len(e) > 2 else 1
                if len(e) > 2:
                    lua.append("{%d, %d, %d}" % (i, j, step))
                else:
                    lua.append("{%d, %d}" % (i, j))
                npk.append(e)
        return "{" + ", ".join(lua) + "}", npk

    def lua_range_np(n, i, j, step):
        # inclusive 1-based range i..j with step, negatives from the end
        ii = i if i > 0 else n + i + 1
        jj = j if j > 0 else n + j + 1
        return list(range(ii - 1, jj - 1 + (1 if step > 0 else -1), step))

    keys = [
        ([2, (1, 3), None, -1], "contract example"),
        ([(2, 3)], "range first axis"),
        ([None, (2, 4)], "range second"),
        ([None, None, (1, 6, 2)], "step"),
        ([(1, -1, 2)], "step to -1"),
        ([(-2, -1)], "negative range"),
        ([1], "position"),
        ([-1, -1], "two positions"),
        ([-1, -1, -1], "all positions"),
        ([None, 3], "position second"),
        ([(4, 1, -1)], "reverse range"),
        ([None, (5, 1, -2)], "reverse step"),
        ([(1, 4, 3), (2, 5, 2), (1, 6, 5)], "steps everywhere"),
        ([None], "whole"),
        ([], "empty key"),
        ([(3, 3)], "one element range"),
    ]
    for k, (ent, what) in enumerate(keys):
        lk, _ = tk(ent)
        npk = []
        for ax, e in enumerate(ent):
            n = a.shape[ax]
            if e is None:
                npk.append(slice(None))
            elif isinstance(e, int):
                npk.append(e - 1 if e > 0 else e)
            else:
                npk.append(lua_range_np(n, *e) if len(e) > 2 else lua_range_np(n, e[0], e[1], 1))
        # convert lists to slices so numpy gives the same view shape
        npk2 = []
        for x in npk:
            if isinstance(x, list):
                if len(x) == 0:
                    npk2.append(slice(0, 0))
                else:
                    st = x[1] - x[0] if len(x) > 1 else 1
                    stop = x[-1] + st
                    npk2.append(slice(x[0], stop if stop >= 0 else None, st))
            else:
                npk2.append(x)
        exp = a[tuple(npk2)]
        if not isinstance(exp, np.ndarray):
            exp = np.float64(exp)
        case("index/key_%d %s" % (k, what), "local t = %s; return t[%s]" % (T(a), lk), exp)
    # range beyond the shape: errors naming the shape
    for lk in ("{5}", "{{1, 5}}", "{{}, {0, 2}}", "{{}, {}, 7}", "{{}, {}, -7}", "{1, 1, 1, 1, 1}", "{{}, {}, {}, {2, 4}}"):
        case("index/key_oob %s" % lk, "local t = %s; return t[%s]" % (T(a), lk), Err(shape_re([4, 5, 6, 3])))
    # writes
    b = rand((3, 4), "f64")
    e = b.copy()
    e[1] = 9
    case("write/row_scalar", "local t = %s; t[2] = 9; return t" % T(b), e)
    e = b.copy()
    e[1, 2] = -1
    case("write/chain", "local t = %s; t[2][3] = -1; return t" % T(b), e)
    e = b.copy()
    e[0:2, 1:3] = 5
    case("write/range", "local t = %s; t[{{1, 2}, {2, 3}}] = 5; return t" % T(b), e)
    e = b.copy()
    e[:, ::2] = np.array([1.0, 2.0])
    case("write/step_tensor", "local t = %s; t[{{}, {1, 4, 2}}] = tensor{1, 2}; return t" % T(b), e)
    e = b.copy()
    e[-1, -1] = 42
    case("write/negpos", "local t = %s; t[{-1, -1}] = 42; return t" % T(b), e)
    e = b.copy()
    e[:, 0] = np.array([7.0, 8, 9])
    case("write/column_tensor", "local t = %s; t[{{}, 1}] = tensor{7, 8, 9}; return t" % T(b), e)
    e = b.copy()
    v = e[1:3]
    v[:, 1] = 0
    case("write/view_writes_through",
         "local t = %s; local v = t[{{2, 3}}]; v[{{}, 2}] = 0; return t" % T(b), e)
    e = b.copy()
    e[0] = np.array([1.0, 2, 3, 4])
    case("write/row_tensor", "local t = %s; t[1] = tensor{1, 2, 3, 4}; return t" % T(b), e)
    case("write/oob", "local t = %s; t[4] = 1; return t" % T(b), Err(shape_re([3, 4])))
    case("write/bad_shape", "local t = %s; t[1] = tensor{1, 2, 3}; return t" % T(b), Err())
    bi = rand((4,), "i64")
    e = bi.copy()
    e[1] = 3
    case("write/i64_float_integral", "local t = %s; t[2] = 3.0; return t" % T(bi), e)
    e = bi.copy()
    e[0] = 2**62
    case("write/i64_big", "local t = %s; t[1] = %d; return t" % (T(bi), 2**62), e)
    bf = rand((3,), "f32")
    e = bf.copy()
    e[0] = 0.1
    case("write/f32_rounds", "local t = %s; t[1] = 0.1; return t" % T(bf), e)
    bb = rand((3,), "bool")
    e = bb.copy()
    e[2] = True
    case("write/bool", "local t = %s; t[3] = true; return t" % T(bb), e)
    # masks
    x = rand((3, 4), "f64", special=True)
    mk = rand((3, 4), "bool")
    case("mask/read", "local t = %s; return t[%s]" % (T(x), T(mk)), x[mk])
    case("mask/read_gt", "local t = %s; return t[t:gt(0)]" % T(x), x[x > 0])
    case("mask/read_empty", "local t = %s; return t[t:gt(100)]" % T(x), x[x > 100])
    case("mask/read_i64", "local t = %s; return t[t:ge(0)]" % T(bi), bi[bi >= 0])
    case("mask/read_1d", "local t = %s; return t[%s]" % (T(x[0]), T(mk[0])), x[0][mk[0]])
    e = x.copy()
    e[mk] = 0
    case("mask/write_scalar", "local t = %s; t[%s] = 0; return t" % (T(x), T(mk)), e)
    e = x.copy()
    e[np.isnan(e)] = -1
    case("mask/write_isnan", "local t = %s; t[t:isnan()] = -1; return t" % T(x), e)
    e = x.copy()
    vals = np.arange(1.0, mk.sum() + 1)
    e[mk] = vals
    case("mask/write_tensor", "local t = %s; t[%s] = %s; return t" % (T(x), T(mk), T(vals)), e)
    case("mask/wrong_shape", "local t = %s; return t[%s]" % (T(x), T(mk[:2])), Err(shape_re([3, 4])))
    # index / gather
    g = rand((4, 5), "f64")
    for ax in (1, 2, -1):
        nax = ax - 1 if ax > 0 else ax
        idx = [2, 0, 2] if nax == 0 else [4, 0, 4, 1]
        case("index_fn/axis%d_list" % ax, "local t = %s; return t:index(%d, %s)" % (T(g), ax, L([i + 1 for i in idx])),
             np.take(g, idx, axis=nax))
        case("index_fn/axis%d_i64" % ax,
             "local t = %s; return t:index(%d, %s)" % (T(g), ax, T(np.array([i + 1 for i in idx]))),
             np.take(g, idx, axis=nax))
    case("index_fn/oob", "local t = %s; return t:index(1, {5})" % T(g), Err(shape_re([4, 5])))
    case("index_fn/zero", "local t = %s; return t:index(1, {0})" % T(g), Err())
    gi = rng.integers(0, 5, (4, 3))
    case("gather/axis2", "local t = %s; return t:gather(2, %s)" % (T(g), T(gi + 1)),
         np.take_along_axis(g, gi, axis=1))
    gi0 = rng.integers(0, 4, (2, 5))
    case("gather/axis1", "local t = %s; return t:gather(1, %s)" % (T(g), T(gi0 + 1)),
         np.take_along_axis(g, gi0, axis=0))
    case("gather/neg_axis", "local t = %s; return t:gather(-1, %s)" % (T(g), T(gi + 1)),
         np.take_along_axis(g, gi, axis=-1))
    case("gather/oob", "local t = %s; return t:gather(2, %s)" % (T(g), T(np.array([[6]]))), Err())
    # ipairs
    case("ipairs/rows",
         "local t = %s; local s = {}; for i, r in ipairs(t) do s[#s + 1] = r:sum() end; return tensor(s)" % T(g),
         g.sum(axis=1), 4)
    case("ipairs/1d", "local t = %s; local s = {}; for i, x in ipairs(t) do s[i] = x end; return tensor(s)" % T(g[0]),
         g[0])
    case("ipairs/count", "local t = %s; local n = 0; for _ in ipairs(t) do n = n + 1 end; return n" % T(g),
         Lua("int", 4))


def gen_compare():
    for dt in ("f64", "f32", "i64"):
        a = rand((3, 1), dt, special=dt != "i64", ties=True)
        b = rand((1, 4), dt, special=dt != "i64", ties=True)
        for op, f in (("eq", np.equal), ("ne", np.not_equal), ("lt", np.less), ("le", np.less_equal),
                      ("gt", np.greater), ("ge", np.greater_equal)):
            case("cmp/%s_%s_bcast" % (op, dt), "return %s:%s(%s)" % (T(a), op, T(b)), f(a, b))
            case("cmp/%s_%s_scalar" % (op, dt), "return %s:%s(0)" % (T(b), op), f(b, 0))
    a = rand((2, 3), "i64", ties=True)
    b = rand((3,), "f32", ties=True)
    case("cmp/mixed_i64_f32", "return %s:lt(%s)" % (T(a), T(b)), a < b)
    case("cmp/i64_vs_frac", "return %s:lt(0.5)" % T(a), a < 0.5)
    big = np.array([2**53, 2**53 + 1], np.int64)
    case("cmp/i64_big_eq_int", "return %s:eq(%d)" % (T(big), 2**53 + 1), big == 2**53 + 1)
    bb = rand((4,), "bool")
    case("cmp/bool_eq", "return %s:eq(true)" % T(bb), bb == True)  # noqa: E712
    x = rand((3, 4), "f64", special=True)
    case("cmp/isnan", "return %s:isnan()" % T(x), np.isnan(x))
    case("cmp/isfinite", "return %s:isfinite()" % T(x), np.isfinite(x))
    case("cmp/isnan_i64", "return %s:isnan()" % T(a), np.isnan(a.astype(float)))
    case("cmp/isfinite_i64", "return %s:isfinite()" % T(a), np.isfinite(a))
    m = rand((3, 4), "bool")
    case("cmp/any", "return %s:any()" % T(m), Lua("bool", bool(m.any())))
    case("cmp/all", "return %s:all()" % T(m), Lua("bool", bool(m.all())))
    for ax in (1, 2, -1):
        na = ax - 1 if ax > 0 else ax
        case("cmp/any_axis%d" % ax, "return %s:any{axis = %d}" % (T(m), ax), m.any(axis=na))
        case("cmp/all_axis%d" % ax, "return %s:all{axis = %d}" % (T(m), ax), m.all(axis=na))
    case("cmp/any_keepdim", "return %s:any{axis = 2, keepdim = true}" % T(m), m.any(axis=1, keepdims=True))
    case("cmp/all_empty", "return tensor.zeros({0}, {dtype = 'bool'}):all()", Lua("bool", True))
    case("cmp/any_empty", "return tensor.zeros({0}, {dtype = 'bool'}):any()", Lua("bool", False))
    case("cmp/any_f64", "return %s:any()" % T(np.array([0.0, -0.0, np.nan])), Lua("bool", True))
    case("cmp/all_f64", "return %s:all()" % T(np.array([1.0, 0.0])), Lua("bool", False))
    ww = rand((2, 1), "bool")
    wa = rand((1, 3), "f64")
    wb = rand((2, 3), "f32")
    case("where/bcast_promote", "return tensor.where(%s, %s, %s)" % (T(ww), T(wa), T(wb)), np.where(ww, wa, wb))
    case("where/scalars", "return tensor.where(%s, 1, 0)" % T(m), np.where(m, 1, 0))
    wi = rand((3, 4), "i64")
    case("where/float_scalars", "return tensor.where(%s, 1.5, 0)" % T(m), np.where(m, 1.5, 0))
    case("where/i64_scalar", "return tensor.where(%s, %s, 0)" % (T(m), T(wi)), np.where(m, wi, 0))
    case("where/i64_frac", "return tensor.where(%s, %s, 0.5)" % (T(m), T(wi)), np.where(m, wi, 0.5))
    case("where/shape_err", "return tensor.where(%s, %s, 0)" % (T(m), T(rand((2, 4), "f64"))), Err())
    t = rand((3,), "f64")
    case("equal/same", "local a = %s; return a:equal(%s)" % (T(t), T(t)), Lua("bool", True))
    case("equal/diff", "local a = %s; return a:equal(%s)" % (T(t), T(t + 1)), Lua("bool", False))
    case("equal/shape", "local a = %s; return a:equal(%s)" % (T(t), T(t[:2])), Lua("bool", False))
    case("identity/eq", "local a = %s; local b = %s; return a == b, a == a" % (T(t), T(t)),
         Multi((Lua("bool", False), Lua("bool", True))))


def bin_expect(op, a, b):
    with np.errstate(all="ignore"):
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "/":
            return np.true_divide(a, b)
        if op == "%":
            return np.mod(a, b)
        if op == "^":
            return np.power(a, b)


POW_ULPS = 1  # see gen_arith


def gen_arith():
    shapes = [((3, 1), (1, 4)), ((2, 3, 4), (4,)), ((2, 1, 4), (3, 1)), ((), (3,)), ((0, 3), (1, 3)), ((5,), (5,))]
    for op in ("+", "-", "*", "/", "%", "^"):
        for dta, dtb in (("f64", "f64"), ("f32", "f32"), ("f32", "f64"), ("i64", "f32"), ("i64", "i64"),
                         ("bool", "i64"), ("bool", "f32"), ("i64", "f64")):
            for sa, sb in shapes:
                if rng.random() < 0.6 and not (sa == (3, 1)):
                    continue
                a = rand(sa, dta, special=dta.startswith("f"))
                b = rand(sb, dtb, special=dtb.startswith("f"))
                if op in ("%", "/") and dtb in ("i64",):
                    b = np.where(b == 0, 3, b).astype(np.int64)
                if op == "^" and dtb == "i64":
                    b = np.abs(b) % 4
                if op == "^" and dta == "i64" and dtb == "i64":
                    a = a % 7
                exp = bin_expect(op, a, b)
                # numpy's float power on an AVX-512 CPU is SVML's, not libm's: 1 ulp off the
                # true value in ~5% (f64) and ~20% (f32) of random cases, where moonlab's libm
                # pow (f32 computed in f64) is right (checked with mpmath at 200 bits); within
                # 1 ulp is the most one can ask without porting SVML
                tol = POW_ULPS if op == "^" and np.asarray(exp).dtype.kind == "f" else 0
                case("arith/%s %s%s %s%s" % (op, dta, sa, dtb, sb), "return %s %s %s" % (T(a), op, T(b)), exp, tol)
    # scalars with tensors (numpy 2: Lua numbers are weak)
    a32 = rand((4,), "f32")
    ai = rand((4,), "i64")
    ab = rand((4,), "bool")
    for op in ("+", "-", "*", "/"):
        case("scalar/f32 %s int" % op, "return %s %s 3" % (T(a32), op), bin_expect(op, a32, 3))
        case("scalar/f32 %s float" % op, "return %s %s 0.1" % (T(a32), op), bin_expect(op, a32, 0.1))
        case("scalar/int %s f32" % op, "return 3 %s %s" % (op, T(a32)), bin_expect(op, 3, a32))
        case("scalar/i64 %s int" % op, "return %s %s 3" % (T(ai), op), bin_expect(op, ai, 3))
        case("scalar/i64 %s float" % op, "return %s %s 0.5" % (T(ai), op), bin_expect(op, ai, 0.5))
        case("scalar/float %s i64" % op, "return 2.5 %s %s" % (op, T(ai)), bin_expect(op, 2.5, ai))
        case("scalar/bool %s int" % op, "return %s %s 2" % (T(ab), op), bin_expect(op, ab, 2))
    case("scalar/i64 ^ 2", "return %s ^ 2" % T(ai), np.power(ai, 2))
    case("scalar/f32 ^ 0.5", "return %s ^ 0.5" % T(np.abs(a32)), np.power(np.abs(a32), 0.5), POW_ULPS)
    case("scalar/2 ^ f32", "return 2 ^ %s" % T(a32), np.power(2, a32), POW_ULPS)
    case("scalar/i64 % 3", "return %s %% 3" % T(ai), np.mod(ai, 3))
    case("scalar/i64 % -3", "return %s %% -3" % T(ai), np.mod(ai, -3))
    case("scalar/f64 % -1.5", "return %s %% -1.5" % T(rand((6,), "f64")), None)  # filled below
    CASES.pop()
    f = rand((6,), "f64", special=True)
    case("scalar/f64 % -1.5", "return %s %% -1.5" % T(f), np.mod(f, -1.5))
    case("scalar/f64 % 0", "return %s %% 0" % T(f), np.mod(f, 0.0) if True else None)
    # true division of integers
    x = np.array([7, -7, 1, 0, 5], np.int64)
    y = np.array([2, 2, 0, 0, -3], np.int64)
    with np.errstate(all="ignore"):
        case("div/i64_true", "return %s / %s" % (T(x), T(y)), x / y)
        case("div/bool_true", "return tensor{true, false} / tensor{true, true}",
             np.array([True, False]) / np.array([True, True]))
        case("mod/i64_neg", "return %s %% %s" % (T(x), T(np.array([2, 2, 3, 5, -3]))), np.mod(x, [2, 2, 3, 5, -3]))
    # overflow wraps as numpy's int64
    big = np.array([2**63 - 1, -(2**63), 2**62], np.int64)
    with np.errstate(all="ignore"):
        case("overflow/add", "return %s + 1" % T(big), big + np.int64(1))
        case("overflow/mul", "return %s * 2" % T(big), big * np.int64(2))
        case("overflow/neg", "return -%s" % T(big), -big)
        case("overflow/sub", "return %s - %s" % (T(big), T(big[::-1].copy())), big - big[::-1])
    # unary minus
    for dt in ("f64", "f32", "i64"):
        a = rand((2, 3), dt, special=dt != "i64")
        case("unary/neg_%s" % dt, "return -%s" % T(a), -a)
    case("unary/neg_bool", "return -tensor{true, false}", Err())
    # bool + bool
    p = np.array([True, True, False, False])
    q = np.array([True, False, True, False])
    case("bool/add_bool", "return %s + %s" % (T(p), T(q)), p + q)
    case("bool/mul_bool", "return %s * %s" % (T(p), T(q)), p * q)
    case("bool/shape_mismatch", "return %s + %s" % (T(rand((3,), "f64")), T(rand((4,), "f64"))),
         Err(r"3", r"4"))
    case("bool/shape_mismatch2", "return %s + %s" % (T(rand((2, 3), "f64")), T(rand((3, 2), "f64"))),
         Err(shape_re([2, 3]), shape_re([3, 2])))
    # matmul / maximum / minimum
    for sa, sb in (((3, 4), (4, 5)), ((4,), (4,)), ((4,), (4, 3)), ((3, 4), (4,)), ((2, 3, 4), (4, 2)),
                   ((2, 1, 3, 4), (5, 4, 2)), ((1, 4), (2, 4, 3)), ((0, 4), (4, 2)), ((3, 0), (0, 2))):
        for dt in ("f64", "f32"):
            a = rand(sa, dt)
            b = rand(sb, dt)
            exp = np.matmul(a, b)
            bound = mm_bound(a, b)
            if exp.ndim == 0:
                exp = Lua("float32" if dt == "f32" else "float", float(exp))
                bound = float(bound)
            case("matmul/%s %s@%s" % (dt, sa, sb), "return tensor.matmul(%s, %s)" % (T(a), T(b)), exp, bound)
    a = rand((3, 4), "i64")
    b = rand((4, 2), "i64")
    case("matmul/i64", "return %s:matmul(%s)" % (T(a), T(b)), np.matmul(a, b))
    a = rand((3, 4), "f32")
    b = rand((4, 2), "f64")
    case("matmul/f32_f64", "return %s:matmul(%s)" % (T(a), T(b)), np.matmul(a, b), mm_bound(a, b))
    case("matmul/i64_f64", "return %s:matmul(%s)" % (T(rand((2, 3), "i64")), T(b[:3])), None)
    CASES.pop()
    ai = rand((2, 4), "i64")
    case("matmul/i64_f64", "return %s:matmul(%s)" % (T(ai), T(b)), np.matmul(ai, b), mm_bound(ai, b))
    case("matmul/mismatch", "return tensor.matmul(%s, %s)" % (T(rand((3, 4), "f64")), T(rand((3, 4), "f64"))),
         Err(shape_re([3, 4])))
    case("matmul/0d", "return tensor.matmul(%s, %s)" % (T(np.array(2.0)), T(rand((3,), "f64"))), Err())
    for fn, f in (("maximum", np.maximum), ("minimum", np.minimum)):
        a = rand((3, 1), "f64", special=True)
        b = rand((1, 4), "f32", special=True)
        case("%s/bcast" % fn, "return tensor.%s(%s, %s)" % (fn, T(a), T(b)), f(a, b))
        a = rand((5,), "i64")
        case("%s/i64_scalar" % fn, "return tensor.%s(%s, 0)" % (fn, T(a)), f(a, 0))


def mm_bound(a, b):
    """Summation order is BLAS's: |error| <= n eps sum_k |a_ik||b_kj| (with n = 2 as a margin)."""
    eps = np.finfo(np.result_type(a, b)).eps if np.result_type(a, b).kind == "f" else 0
    n = a.shape[-1] if a.ndim else 1
    return (2 * n * eps * np.matmul(np.abs(a).astype(np.float64), np.abs(b).astype(np.float64)))


def gen_unary():
    for dt in ("f64", "f32"):
        a = rand((3, 4), dt, special=True)
        pos_a = np.abs(a)
        with np.errstate(all="ignore"):
            for fn, f, arg, tol in (("exp", np.exp, a, 1), ("log", np.log, pos_a, 1), ("log1p", np.log1p, pos_a, 1),
                                    ("expm1", np.expm1, a, 1), ("abs", np.abs, a, 0), ("sqrt", np.sqrt, pos_a, 0),
                                    ("tanh", np.tanh, a, 1), ("floor", np.floor, a, 0), ("ceil", np.ceil, a, 0),
                                    ("sign", np.sign, a, 0)):
                # numpy's own SIMD functions and libm are each within 1-2 ulps of the true value:
                # up to 2 ulps apart (f32 log, exp; f64 tanh, where libm's is 2 ulps off)
                case("unary/%s_%s" % (fn, dt), "return %s:%s()" % (T(arg), fn), f(arg), 2 * tol)
            case("unary/sigmoid_%s" % dt, "return %s:sigmoid()" % T(a), (1 / (1 + np.exp(-a))).astype(a.dtype), 2)
            case("unary/log_neg_%s" % dt, "return %s:log()" % T(np.array([-1.0, 0.0, -0.0], a.dtype)),
                 np.log(np.array([-1.0, 0.0, -0.0], a.dtype)))
    r = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999999999999994, 3.7, -3.2, np.nan, -0.0])
    case("unary/round_half_even", "return %s:round()" % T(r), np.round(r))
    case("unary/round_f32", "return %s:round()" % T(r.astype(np.float32)), np.round(r.astype(np.float32)))
    ai = rand((6,), "i64")
    with np.errstate(all="ignore"):
        case("unary/abs_i64", "return %s:abs()" % T(ai), np.abs(ai))
        case("unary/abs_i64_min", "return %s:abs()" % T(np.array([-(2**63)], np.int64)),
             np.abs(np.array([-(2**63)], np.int64)))
        case("unary/sign_i64", "return %s:sign()" % T(ai), np.sign(ai))
        case("unary/exp_i64", "return %s:exp()" % T(ai % 5), np.exp(ai % 5), 1)
        case("unary/sqrt_i64", "return %s:sqrt()" % T(np.abs(ai)), np.sqrt(np.abs(ai)))
        case("unary/floor_i64", "return %s:floor()" % T(ai), np.floor(ai))
        case("unary/round_i64", "return %s:round()" % T(ai), np.round(ai))
        case("unary/tanh_i64", "return %s:tanh()" % T(ai % 3), np.tanh(ai % 3), 1)
    x = rand((3, 4), "f64", special=True)
    case("clamp/both", "return %s:clamp(-1, 1)" % T(x), np.clip(x, -1, 1))
    case("clamp/f32", "return %s:clamp(-1, 0.5)" % T(x.astype(np.float32)), np.clip(x.astype(np.float32), -1, 0.5))
    case("clamp/i64", "return %s:clamp(-10, 10)" % T(ai), np.clip(ai, -10, 10))
    case("clamp/i64_frac", "return %s:clamp(-10.5, 10)" % T(ai), np.clip(ai, -10.5, 10))
    case("map/square", "return %s:map(function(v) return v * v end)" % T(x[0]), x[0] * x[0])


RED_TOL = {"sum": 4, "mean": 4, "std": 4, "var": 4, "nansum": 4, "nanmean": 4, "logsumexp": 4, "prod": 4,
           "cumsum": 0, "cumprod": 0, "min": 0, "max": 0, "argmax": 0, "argmin": 0}


def np_red(name, a, axis, keepdim):
    kw = dict(axis=axis, keepdims=keepdim)
    with np.errstate(all="ignore"):
        if name == "sum":
            return np.sum(a, **kw)
        if name == "mean":
            return np.mean(a, **kw)
        if name == "std":
            return np.std(a, ddof=1, **kw)
        if name == "var":
            return np.var(a, ddof=1, **kw)
        if name == "min":
            return np.min(a, **kw)
        if name == "max":
            return np.max(a, **kw)
        if name == "prod":
            return np.prod(a, **kw)
        if name == "nansum":
            return np.nansum(a, **kw)
        if name == "nanmean":
            return np.nanmean(a, **kw)
        if name == "argmax":
            r = np.argmax(a, **kw) + 1
            return r
        if name == "argmin":
            return np.argmin(a, **kw) + 1
        if name == "logsumexp":
            m = np.max(a, axis=axis, keepdims=True)
            m = np.where(np.isfinite(m), m, 0)
            r = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
            return r if keepdim or axis is None else np.squeeze(r, axis=axis)


def lse_ref(a, axis, keepdim=False):
    """logsumexp by numpy in float64, rounded to a's dtype. numpy's own float32 max + log(sum(exp))
    cancels where the result is small beside the row's maximum: 7 ulps off the exact value at
    0.0587 (seed 104, lse/f32_ax1: the column [-0.383, -1.810, -1.535] gives 0.05874952674, the
    exact value is 0.05874950066, as torch.logsumexp in float32 also misses it), where moonlab's
    float32 answer is the exact one rounded."""
    return np_red("logsumexp", np.asarray(a, np.float64), axis, keepdim).astype(a.dtype)


def to_expect(r):
    if isinstance(r, np.ndarray) and r.ndim > 0:
        return r
    r = np.asarray(r)
    if r.dtype == np.bool_:
        return Lua("bool", bool(r))
    if r.dtype.kind in "iu":
        return Lua("int", int(r))
    return Lua("float32" if r.dtype == np.float32 else "float", float(r))


def gen_reduce():
    names = ["sum", "mean", "std", "var", "min", "max", "prod", "nansum", "nanmean", "argmax", "argmin"]
    for dt in ("f64", "f32", "i64", "bool"):
        for shape in ((7,), (3, 4), (2, 3, 4)):
            a = rand(shape, dt, special=False, ties=True)
            for name in names:
                if dt == "bool" and name in ("std", "var", "nanmean", "nansum", "mean"):
                    continue
                tol = RED_TOL[name] if dt in ("f64", "f32") or name in ("mean", "std", "var", "nanmean") else 0
                case("reduce/%s_%s%s_all" % (name, dt, shape), "return %s:%s()" % (T(a), name),
                     to_expect(np_red(name, a, None, False)), tol)
                axes = list(range(1, len(shape) + 1)) + [-1]
                if len(shape) == 3:
                    axes.append(-2)
                for ax in axes:
                    if rng.random() < 0.5:
                        continue
                    na = ax - 1 if ax > 0 else ax
                    kd = bool(rng.random() < 0.5)
                    r = np_red(name, a, na, kd)
                    case("reduce/%s_%s%s_ax%d_kd%d" % (name, dt, shape, ax, kd),
                         "return %s:%s{axis = %d, keepdim = %s}" % (T(a), name, ax, "true" if kd else "false"),
                         to_expect(r) if r.ndim == 0 else r, tol)
    # NaN handling
    x = rand((3, 5), "f64")
    x[0, 2] = np.nan
    x[2, 4] = np.nan
    x[2, 0] = np.nan
    for name in names:
        tol = RED_TOL[name]
        case("nan/%s_all" % name, "return %s:%s()" % (T(x), name), to_expect(np_red(name, x, None, False)), tol)
        case("nan/%s_axis2" % name, "return %s:%s{axis = 2}" % (T(x), name), np_red(name, x, 1, False), tol)
    xf = x.astype(np.float32)
    case("nan/nansum_f32_axis1", "return %s:nansum{axis = 1}" % T(xf), np.nansum(xf, axis=0), 4)
    case("nan/nanmean_allnan", "return %s:nanmean()" % T(np.array([np.nan, np.nan])), Lua("float", math.nan))
    # ties: argmax/argmin take the first
    tt = np.array([[1.0, 3, 3, 0], [2, 2, 2, 2]])
    case("ties/argmax", "return %s:argmax{axis = 2}" % T(tt), np.argmax(tt, axis=1) + 1)
    case("ties/argmin", "return %s:argmin{axis = -1}" % T(tt), np.argmin(tt, axis=1) + 1)
    case("ties/argmax_all", "return %s:argmax()" % T(tt), Lua("int", int(np.argmax(tt)) + 1))
    case("ties/argmax_inf", "return %s:argmax()" % T(np.array([-np.inf, np.inf, np.inf])), Lua("int", 2))
    case("ties/argmin_negzero", "return %s:argmin()" % T(np.array([0.0, -0.0, 1])), Lua("int", 1))
    case("ties/argmax_nan_first", "return %s:argmax()" % T(np.array([1.0, np.nan, 5, np.nan])), Lua("int", 2))
    case("ties/argmin_nan_first", "return %s:argmin()" % T(np.array([1.0, np.nan, -5, np.nan])), Lua("int", 2))
    case("ties/argmax_bool", "return %s:argmax()" % T(np.array([False, True, True])), Lua("int", 2))
    # empty reductions
    e = np.zeros((0, 3))
    case("empty/sum", "return tensor.zeros{0, 3}:sum()", Lua("float", 0.0))
    case("empty/sum_axis1", "return tensor.zeros{0, 3}:sum{axis = 1}", e.sum(axis=0))
    case("empty/prod", "return tensor.zeros{0}:prod()", Lua("float", 1.0))
    case("empty/max", "return tensor.zeros{0, 3}:max()", Err())
    case("empty/argmax", "return tensor.zeros{0}:argmax()", Err())
    case("empty/max_axis2", "return tensor.zeros{0, 3}:max{axis = 2}", np.zeros((0,)))
    case("empty/sum_i64", "return tensor.zeros({0}, {dtype = 'i64'}):sum()", Lua("int", 0))
    with np.errstate(all="ignore"):
        case("empty/mean", "return tensor.zeros{0}:mean()", Lua("float", math.nan))
    # std of one element: unbiased gives NaN
    case("std/one", "return tensor{3}:std()", Lua("float", math.nan))
    case("var/const", "return tensor{2, 2, 2}:var()", Lua("float", 0.0))
    # dtypes of results
    ai = rand((3, 4), "i64")
    case("dtype/sum_i64_axis", "return %s:sum{axis = 1}:dtype()" % T(ai), Lua("str", "i64"))
    case("dtype/sum_bool_axis", "return %s:sum{axis = 1}:dtype()" % T(ai > 0), Lua("str", "i64"))
    case("dtype/mean_i64", "return %s:mean{axis = 1}:dtype()" % T(ai), Lua("str", "f64"))
    case("dtype/mean_f32", "return %s:mean{axis = 1}:dtype()" % T(ai.astype(np.float32)), Lua("str", "f32"))
    case("dtype/max_bool", "return %s:max{axis = 1}:dtype()" % T(ai > 0), Lua("str", "bool"))
    case("dtype/argmax", "return %s:argmax{axis = 1}:dtype()" % T(ai), Lua("str", "i64"))
    case("dtype/cumsum_bool", "return %s:cumsum{axis = 1}:dtype()" % T(ai > 0), Lua("str", "i64"))
    case("dtype/prod_bool", "return %s:prod()" % T(ai > 0), Lua("int", int(np.prod(ai > 0))))
    case("dtype/sum_i64_overflow", "return %s:sum()" % T(np.array([2**62, 2**62], np.int64)),
         Lua("int", int(np.sum(np.array([2**62, 2**62], np.int64)))))
    # scans
    for dt in ("f64", "f32", "i64", "bool"):
        a = rand((3, 4), dt, ties=True)
        for ax in (1, 2, -1, -2):
            na = ax - 1 if ax > 0 else ax
            case("scan/cumsum_%s_ax%d" % (dt, ax), "return %s:cumsum{%d}" % (T(a), ax), np.cumsum(a, axis=na))
            case("scan/cumprod_%s_ax%d" % (dt, ax), "return %s:cumprod{axis = %d}" % (T(a), ax), np.cumprod(a, axis=na))
    a = rand((6,), "f64", special=True)
    case("scan/cumsum_special", "return %s:cumsum{1}" % T(a), np.cumsum(a))
    case("scan/cumsum_1d_noarg", "return %s:cumsum()" % T(a), np.cumsum(a))
    # logsumexp
    for dt in ("f64", "f32"):
        a = rand((3, 5), dt)
        for ax in (1, 2, -1):
            na = ax - 1 if ax > 0 else ax
            case("lse/%s_ax%d" % (dt, ax), "return %s:logsumexp{%d}" % (T(a), ax),
                 lse_ref(a, na), 4)
    spec = np.array([[-np.inf, -np.inf], [np.inf, 1], [np.nan, 1], [1000, 1000], [-1000, -1001]])
    with np.errstate(all="ignore"):
        exp = np.array([-np.inf, np.inf, np.nan, 1000 + np.log(2), -1000 + np.log1p(np.exp(-1))])
    case("lse/special", "return %s:logsumexp{2}" % T(spec), exp, 4)
    case("lse/keepdim", "return %s:logsumexp{axis = 1, keepdim = true}" % T(spec[3:]),
         np_red("logsumexp", spec[3:], 0, True), 4)


def torch_sort(a, axis, descending):
    """torch.sort(stable=True) semantics: NaN is larger than everything; ties keep order."""
    a = np.asarray(a)
    moved = np.moveaxis(a, axis, -1)
    vals = np.empty_like(moved)
    idx = np.empty(moved.shape, np.int64)
    for ix in np.ndindex(moved.shape[:-1]):
        row = moved[ix]
        n = len(row)

        def key(i):
            v = row[i]
            isn = bool(np.isnan(v)) if row.dtype.kind == "f" else False
            if descending:
                return (0 if isn else 1, 0 if isn else -float(v), i)
            return (1 if isn else 0, 0 if isn else float(v), i)
        order = sorted(range(n), key=key)
        vals[ix] = row[order]
        idx[ix] = order
    return np.moveaxis(vals, -1, axis), np.moveaxis(idx, -1, axis) + 1


def torch_topk(a, k, axis, largest):
    """torch.topk: NaN counts as the largest; ties by the lower position (sorted output)."""
    v, i = torch_sort(a, axis, descending=largest)
    sl = [slice(None)] * a.ndim
    sl[axis] = slice(0, k)
    return v[tuple(sl)], i[tuple(sl)]


def gen_order():
    for dt in ("f64", "f32", "i64", "bool"):
        for shape in ((8,), (3, 6), (2, 3, 4)):
            a = rand(shape, dt, special=dt in ("f64", "f32"), ties=True)
            for ax in (-1, 1) + ((2,) if len(shape) > 1 else ()):
                na = ax - 1 if ax > 0 else ax
                for desc in (False, True):
                    v, i = torch_sort(a, na, desc)
                    case("sort/%s%s_ax%d_desc%d" % (dt, shape, ax, desc),
                         "return %s:sort{axis = %d, descending = %s}" % (T(a), ax, "true" if desc else "false"),
                         Multi((v, i)))
                    case("argsort/%s%s_ax%d_desc%d" % (dt, shape, ax, desc),
                         "return %s:argsort{axis = %d, descending = %s}" % (T(a), ax, "true" if desc else "false"), i)
            k = min(3, shape[-1])
            for largest in (True, False):
                v, i = torch_topk(a, k, -1, largest)
                case("topk/%s%s_k%d_largest%d" % (dt, shape, k, largest),
                     "return %s:topk(%d, {axis = -1, largest = %s})" % (T(a), k, "true" if largest else "false"),
                     Multi((v, i)))
            if len(shape) > 1:
                v, i = torch_topk(a, 2, 0, True)
                case("topk/%s%s_axis1" % (dt, shape), "return %s:topk(2, {axis = 1})" % T(a), Multi((v, i)))
    a = rand((9,), "f64", special=True, ties=True)
    v, i = torch_sort(a, 0, False)
    case("sort/default", "return %s:sort()" % T(a), Multi((v, i)))
    case("argsort/default", "return %s:argsort()" % T(a), i)
    v, i = torch_topk(a, 4, 0, True)
    case("topk/default", "return %s:topk(4)" % T(a), Multi((v, i)))
    case("topk/k_too_big", "return %s:topk(10)" % T(a), Err(r"9"))
    v, i = torch_topk(a, 0, 0, True)
    case("topk/k0", "return %s:topk(0)" % T(a), Multi((v, i)))
    nz = np.array([0.0, -0.0, 1, -0.0, 0.0])
    v, i = torch_sort(nz, 0, False)
    case("sort/signed_zero_stable", "return %s:sort()" % T(nz), Multi((v, i)))
    allnan = np.array([np.nan, 1, np.nan, -np.inf, np.inf])
    for desc in (False, True):
        v, i = torch_sort(allnan, 0, desc)
        case("sort/nan_inf_desc%d" % desc, "return %s:sort{descending = %s}" % (T(allnan), "true" if desc else "false"),
             Multi((v, i)))
    v, i = torch_topk(allnan, 3, 0, False)
    case("topk/smallest_nan", "return %s:topk(3, {largest = false})" % T(allnan), Multi((v, i)))
    v, i = torch_topk(allnan, 3, 0, True)
    case("topk/largest_nan", "return %s:topk(3)" % T(allnan), Multi((v, i)))


def gen_shape():
    a = rand((2, 3, 4), "f64")
    for shp in ((6, 4), (-1, 4), (4, -1), (24,), (-1,), (2, 2, 2, 3), (1, 24, 1)):
        case("reshape/%s" % (shp,), "return %s:reshape(%s)" % (T(a), L(list(shp))), a.reshape(shp))
    case("reshape/bad", "return %s:reshape{5, 5}" % T(a), Err(shape_re([2, 3, 4])))
    case("reshape/two_neg", "return %s:reshape{-1, -1}" % T(a), Err())
    case("reshape/nonc", "return %s:transpose(1, 3):reshape{-1}" % T(a), a.transpose(2, 1, 0).reshape(-1))
    case("flatten", "return %s:flatten()" % T(a), a.flatten())
    case("flatten/transposed", "return %s:transpose(1, 2):flatten()" % T(a), a.transpose(1, 0, 2).flatten())
    for p, q in ((1, 2), (1, 3), (2, 3), (-1, 1), (-2, -1)):
        npq = [x - 1 if x > 0 else x for x in (p, q)]
        case("transpose/%d_%d" % (p, q), "return %s:transpose(%d, %d)" % (T(a), p, q), np.swapaxes(a, *npq))
    m = rand((3, 5), "f64")
    case("T/2d", "return %s:T()" % T(m), m.T)
    case("T/write_through", "local t = %s; local u = t:T(); u[1][2] = 99; return t" % T(m),
         (lambda e: (e.__setitem__((1, 0), 99), e)[1])(m.copy()))
    for perm in ((3, 1, 2), (2, 3, 1), (1, 2, 3), (3, 2, 1)):
        case("permute/%s" % (perm,), "return %s:permute%s" % (T(a), L(list(perm))),
             np.transpose(a, [p - 1 for p in perm]))
    case("permute/bad", "return %s:permute{1, 1, 2}" % T(a), Err())
    for ax in (1, 2, 4, -1, -4):
        na = ax - 1 if ax > 0 else ax
        case("unsqueeze/%d" % ax, "return %s:unsqueeze(%d)" % (T(a), ax), np.expand_dims(a, na))
    s = rand((1, 3, 1, 2), "f64")
    case("squeeze/all", "return %s:squeeze()" % T(s), np.squeeze(s))
    case("squeeze/axis1", "return %s:squeeze(1)" % T(s), np.squeeze(s, 0))
    case("squeeze/axis-2", "return %s:squeeze(-2)" % T(s), np.squeeze(s, -2))
    # torch leaves a non-size-1 axis alone; numpy raises: either is fine, checked separately
    e = rand((3, 1), "f64")
    case("expand/basic", "return %s:expand{3, 4}" % T(e), np.broadcast_to(e, (3, 4)))
    case("expand/new_axis", "return %s:expand{2, 3, 4}" % T(e), np.broadcast_to(e, (2, 3, 4)))
    case("expand/bad", "return %s:expand{4, 4}" % T(e), Err(shape_re([3, 1])))
    case("expand/sum", "return %s:expand{3, 4}:sum{axis = 2}" % T(e), np.broadcast_to(e, (3, 4)).sum(axis=1))
    x = rand((2, 3), "f64")
    y = rand((4, 3), "f64")
    case("cat/axis1", "return tensor.cat({%s, %s}, {axis = 1})" % (T(x), T(y)), np.concatenate([x, y], 0))
    case("cat/default", "return tensor.cat{%s, %s}" % (T(x), T(y)), np.concatenate([x, y], 0))
    case("cat/axis2", "return tensor.cat({%s, %s}, {axis = 2})" % (T(x), T(x)), np.concatenate([x, x], 1))
    case("cat/axis-1", "return tensor.cat({%s, %s}, {axis = -1})" % (T(x), T(x)), np.concatenate([x, x], -1))
    case("cat/promote", "return tensor.cat{%s, %s}" % (T(x.astype(np.float32)), T(y.astype(np.int64))),
         np.concatenate([x.astype(np.float32), y.astype(np.int64)], 0))
    case("cat/mismatch", "return tensor.cat({%s, %s}, {axis = 2})" % (T(x), T(y)), Err())
    case("stack/axis1", "return tensor.stack{%s, %s}" % (T(x), T(x + 1)), np.stack([x, x + 1], 0))
    case("stack/axis3", "return tensor.stack({%s, %s}, {axis = 3})" % (T(x), T(x + 1)), np.stack([x, x + 1], 2))
    case("stack/axis-1", "return tensor.stack({%s, %s}, {axis = -1})" % (T(x), T(x + 1)), np.stack([x, x + 1], -1))
    case("stack/mismatch", "return tensor.stack{%s, %s}" % (T(x), T(y)), Err())
    v = rand((10,), "f64")
    case("slice/1_4", "return %s:slice(1, 4)" % T(v), v[0:4])
    case("slice/step", "return %s:slice(1, 10, 3)" % T(v), v[0:10:3])
    case("slice/neg", "return %s:slice(-3, -1)" % T(v), v[-3:])
    case("slice/2d", "return %s:slice(2, 3)" % T(a.reshape(4, 6)), a.reshape(4, 6)[1:3])
    case("slice/step_2", "return %s:slice(2, 9, 2)" % T(v), v[1:9:2])
    case("slice/writes", "local t = %s; t:slice(1, 10, 2)[1] = 100; return t" % T(v),
         (lambda e: (e.__setitem__(0, 100), e)[1])(v.copy()))
    case("clone/independent", "local t = %s; local c = t:clone(); c[1] = 5; return t" % T(v), v)
    case("contiguous", "return %s:T():contiguous()" % T(m), np.ascontiguousarray(m.T))
    case("totable/2d", "return %s:totable()" % T(m), Lua("nested", m.tolist()))
    case("totable/i64", "return %s:totable()" % T(np.array([1, 2], np.int64)), Lua("nested", [1, 2]))
    case("totable/bool", "return %s:totable()" % T(np.array([True, False])), Lua("nested", [True, False]))
    # views: non-contiguous operands in math
    case("view/t_plus_t", "local t = %s; return t:T() + t:T()" % T(m), m.T + m.T)
    case("view/step_sum", "local t = %s; return t[{{}, {1, 5, 2}}]:sum{axis = 1}" % T(m), m[:, ::2].sum(axis=0), 4)
    case("view/reverse_cumsum", "local t = %s; return t[{{3, 1, -1}}]:cumsum{1}" % T(m), np.cumsum(m[::-1], axis=0))
    case("view/permute_matmul", "local t = %s; return tensor.matmul(t:T(), t)" % T(m), m.T @ m, mm_bound(m.T, m))
    case("view/sort_T", "local t = %s; return t:T():sort{axis = -1}" % T(m),
         Multi(torch_sort(m.T, -1, False)))


def gen_files(tmp):
    arrays = {
        "f64": rand((3, 4), "f64", special=True),
        "f32": rand((2, 5), "f32", special=True),
        "i64": rand((6,), "i64"),
        "bool": rand((2, 2), "bool"),
    }
    for dt, arr in arrays.items():
        p = os.path.join(tmp, "np_%s.npy" % dt)
        np.save(p, arr)
        case("files/load_npy_%s" % dt, "return tensor.load(%r)" % p, arr)
        out = os.path.join(tmp, "ml_%s.npy" % dt)
        FILE_CHECKS.append(("files/save_npy_%s" % dt, out, arr))
        case("files/save_npy_%s_run" % dt, "tensor.save(%r, %s); return true" % (out, T(arr)), Lua("bool", True))
    # other dtypes numpy writes: widened
    for npdt, want in ((np.int32, np.int64), (np.int8, np.int64), (np.uint8, np.int64), (np.int16, np.int64),
                       (np.uint16, np.int64), (np.uint32, np.int64), (np.float16, np.float32)):
        arr = (rng.integers(0, 100, (3, 2))).astype(npdt)
        p = os.path.join(tmp, "np_%s.npy" % np.dtype(npdt).name)
        np.save(p, arr)
        case("files/load_npy_%s" % np.dtype(npdt).name, "return tensor.load(%r)" % p, arr.astype(want))
    arr = rand((3, 4), "f64")
    p = os.path.join(tmp, "np_fortran.npy")
    np.save(p, np.asfortranarray(arr))
    case("files/load_npy_fortran", "return tensor.load(%r)" % p, arr)
    p = os.path.join(tmp, "np_0d.npy")
    np.save(p, np.array(2.5))
    case("files/load_npy_0d", "return tensor.load(%r):shape()" % p, Lua("list", []))
    p = os.path.join(tmp, "np_be.npy")
    np.save(p, arr.astype(">f8"))
    case("files/load_npy_bigendian", "return tensor.load(%r)" % p, arr)
    p = os.path.join(tmp, "np_empty.npy")
    np.save(p, np.zeros((0, 3), np.float32))
    case("files/load_npy_empty", "return tensor.load(%r)" % p, np.zeros((0, 3), np.float32))
    # npz written by numpy (plain and compressed)
    for comp in (False, True):
        p = os.path.join(tmp, "np_%d.npz" % comp)
        (np.savez_compressed if comp else np.savez)(p, a=arrays["f64"], b=arrays["i64"], c=arrays["bool"])
        for k in ("a", "b", "c"):
            src = {"a": arrays["f64"], "b": arrays["i64"], "c": arrays["bool"]}[k]
            case("files/load_npz%d_%s" % (comp, k), "return tensor.load(%r)[%r]" % (p, k), src)
    # npz / safetensors written by moonlab, read by numpy
    for ext in ("npz", "safetensors"):
        out = os.path.join(tmp, "ml_multi.%s" % ext)
        FILE_CHECKS.append(("files/save_%s" % ext, out, {k: v for k, v in arrays.items()}))
        body = "tensor.save(%r, {%s}); return true" % (
            out, ", ".join("[%r] = %s" % (k, T(v)) for k, v in arrays.items()))
        case("files/save_%s_run" % ext, body, Lua("bool", True))
        body = "tensor.save(%r, {%s}); local r = tensor.load(%r); return r.f64, r.f32, r.i64, r.bool" % (
            out + ".rt." + ext, ", ".join("[%r] = %s" % (k, T(v)) for k, v in arrays.items()), out + ".rt." + ext)
        case("files/roundtrip_%s" % ext, body, Multi((arrays["f64"], arrays["f32"], arrays["i64"], arrays["bool"])))
    # a view saved: the view's values, not the base
    out = os.path.join(tmp, "ml_view.npy")
    m = rand((3, 4), "f64")
    FILE_CHECKS.append(("files/save_view_npy", out, m.T[1:, ::2]))
    case("files/save_view_run", "local t = %s; tensor.save(%r, t:T()[{{2, 4}, {1, 3, 2}}]); return true" % (T(m), out),
         Lua("bool", True))
    case("files/missing", "return tensor.load(%r)" % os.path.join(tmp, "nope.npy"), Err("nope"))
    # safetensors written by hand (the format's spec), read by moonlab
    p = os.path.join(tmp, "hand.safetensors")
    write_safetensors(p, {"w": arrays["f32"], "ids": arrays["i64"]})
    case("files/load_safetensors_w", "return tensor.load(%r).w" % p, arrays["f32"])
    case("files/load_safetensors_ids", "return tensor.load(%r).ids" % p, arrays["i64"])


FILE_CHECKS = []


def write_safetensors(path, tensors):
    import json
    names = {np.float32: "F32", np.float64: "F64", np.int64: "I64", np.bool_: "BOOL"}
    header, blobs, off = {}, [], 0
    for k, v in tensors.items():
        b = np.ascontiguousarray(v).astype(v.dtype.newbyteorder("<")).tobytes()
        header[k] = {"dtype": names[v.dtype.type], "shape": list(v.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    import json
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    m = {"F32": "<f4", "F64": "<f8", "I64": "<i8", "BOOL": "?"}
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        a, b = v["data_offsets"]
        out[k] = np.frombuffer(data[a:b], dtype=m[v["dtype"]]).reshape(v["shape"]).astype(np.dtype(m[v["dtype"]]).newbyteorder("="))
    return out


def gen_dist():
    x = rand((3, 6), "f64", ties=True)
    x[1, 2] = np.nan
    ids = []
    for r in x:
        if np.isnan(r).any():
            ids.append(None)
        else:
            ids.append(int(np.argmax(r)))
    case("dist/argmax_row", "return dist.argmax(%s)" % T(x[0]), Lua("int", int(np.argmax(x[0]))))
    case("dist/argmax_list", "return dist.argmax(%s)" % L([float(v) for v in x[0]]), Lua("int", int(np.argmax(x[0]))))
    case("dist/argmax_batch_dtype", "return dist.argmax(%s):dtype()" % T(x[[0, 2]]), Lua("str", "i64"))
    case("dist/argmax_batch", "return dist.argmax(%s)" % T(x[[0, 2]]), np.argmax(x[[0, 2]], axis=1))
    v, i = torch_topk(x[0], 3, 0, True)
    case("dist/topk_row", "return dist.topk(%s, 3)" % T(x[0]), Multi((i - 1, v)))
    v, i = torch_topk(x[[0, 2]], 2, 1, True)
    case("dist/topk_batch", "return dist.topk(%s, 2)" % T(x[[0, 2]]), Multi((i - 1, v)))
    case("dist/id_rule", "local t = %s; return t[dist.argmax(t) + 1] == t:max()" % T(x[0]), Lua("bool", True))
    case("dist/argmax_nan_row", "local r = dist.argmax(%s); return r" % T(x[1]), Lua("any"))
    with np.errstate(all="ignore"):
        sm = np.exp(x[1] - np.nanmax(x[1]))
    case("dist/softmax_nan_row", "return dist.softmax(%s)" % T(x[1]), np.full(6, np.nan))
    case("dist/logsumexp_nan_row", "return dist.logsumexp(%s)" % T(x[:2]), "nan-second")
    CASES.pop()
    lse0 = float(np.log(np.sum(np.exp(x[0] - x[0].max()))) + x[0].max())
    case("dist/logsumexp_batch", "return dist.logsumexp(%s)" % T(x[:2]), np.array([lse0, np.nan]), 4)
    case("dist/cross_entropy_id", "return dist.cross_entropy(%s, 2)" % T(x[0]),
         Lua("float", lse0 - float(x[0][2])), 4)


def gen_extra():
    """The variants a numpy/torch user tries next."""
    a = rand((2, 3, 4), "f64")
    case("view/reshape_writes", "local t = %s; local r = t:reshape{-1}; r[1] = 99; return t" % T(a),
         (lambda e: (e.reshape(-1).__setitem__(0, 99), e)[1])(a.copy()))
    case("view/transpose_writes", "local t = %s; t:transpose(1, 3)[1][1][2] = 99; return t" % T(a),
         (lambda e: (e.transpose(2, 1, 0).__setitem__((0, 0, 1), 99), e)[1])(a.copy()))
    case("view/permute_writes", "local t = %s; t:permute{3, 1, 2}[{2, 1, 3}] = 7; return t" % T(a),
         (lambda e: (np.transpose(e, (2, 0, 1)).__setitem__((1, 0, 2), 7), e)[1])(a.copy()))
    case("view/unsqueeze_writes", "local t = %s; t:unsqueeze(1)[1][2][3][4] = 5; return t" % T(a),
         (lambda e: (e.__setitem__((1, 2, 3), 5), e)[1])(a.copy()))
    case("view/mask_read_is_copy", "local t = %s; local r = t[t:gt(0)]; r[1] = 1e9; return t" % T(a), a)
    case("view/index_is_copy", "local t = %s; local r = t:index(1, {1}); r[1][1][1] = 1e9; return t" % T(a), a)
    case("view/clone_of_view", "local t = %s; local c = t:T() ; return c:clone()" % T(a[0]), a[0].T.copy())
    case("index/all_positions_4d", "local t = %s; return t[{-1, -1, -1}]" % T(a), a[-1, -1, -1])
    case("index/0d_len", "return #tensor.full({}, 1)", Err())
    case("make/empty_literal", "return tensor{}", np.zeros(0))
    case("make/linspace_0", "return tensor.linspace(0, 1, 0)", np.linspace(0, 1, 0))
    # the contract's key forms on a 1-d tensor and the range writes
    v = rand((8,), "i64")
    case("index/1d_range", "local t = %s; return t[{{2, 5}}]" % T(v), v[1:5])
    case("index/1d_range_step", "local t = %s; return t[{{1, -1, 3}}]" % T(v), v[0::3])
    case("index/1d_key_pos", "local t = %s; return t[{3}]" % T(v), Lua("int", int(v[2])))
    case("index/1d_key_whole", "local t = %s; return t[{{}}]" % T(v), v)
    case("index/1d_range_empty", "local t = %s; return t[{{3, 2}}]" % T(v), v[2:2])
    e = v.copy()
    e[1:7:2] = np.array([10, 20, 30])
    case("write/1d_step_tensor", "local t = %s; t[{{2, 7, 2}}] = %s; return t" % (T(v), T(np.array([10, 20, 30]))), e)
    e = v.copy()
    e[::-1][0:3] = -1
    case("write/reverse_range", "local t = %s; t[{{-1, -3, -1}}] = -1; return t" % T(v), e)
    case("write/key_oob", "local t = %s; t[{{1, 9}}] = 0; return t" % T(v), Err(r"\b8\b"))
    e = v.copy().astype(np.int64)
    e[2] = int(np.float64(2.5))
    case("write/i64_fraction", "local t = %s; t[3] = 2.5; return t" % T(v), Lua("any"))
    # bool dtypes in reductions
    b = rand((3, 5), "bool")
    with np.errstate(all="ignore"):
        case("reduce/mean_bool", "return %s:mean()" % T(b), Lua("float", float(np.mean(b))))
        case("reduce/mean_bool_axis", "return %s:mean{axis = 2}" % T(b), np.mean(b, axis=1))
        case("reduce/var_bool", "return %s:var()" % T(b), Lua("float", float(np.var(b, ddof=1))), 4)
        case("reduce/sum_bool_all", "return %s:sum()" % T(b), Lua("int", int(np.sum(b))))
        case("reduce/cumprod_bool", "return %s:cumprod{2}" % T(b), np.cumprod(b, axis=1))
        case("reduce/nansum_bool", "return %s:nansum()" % T(b), Lua("int", int(np.nansum(b))))
        case("reduce/min_bool_all", "return %s:min()" % T(b), Lua("bool", bool(np.min(b))))
        case("reduce/logsumexp_i64", "return %s:logsumexp{1}" % T(rand((4,), "i64") % 5),
             Lua("any"))
    big = np.array([2**62, 2**62, 3], np.int64)
    with np.errstate(all="ignore"):
        case("overflow/cumsum", "return %s:cumsum{1}" % T(big), np.cumsum(big))
        case("overflow/prod", "return %s:prod()" % T(np.array([2**40, 2**40], np.int64)),
             Lua("int", int(np.prod(np.array([2**40, 2**40], np.int64)))))
        case("overflow/mean_i64", "return %s:mean()" % T(big), Lua("float", float(np.mean(big))))
        case("overflow/i64_pow", "return %s ^ 3" % T(np.array([2**30, 3], np.int64)),
             np.power(np.array([2**30, 3], np.int64), 3))
    # floor division (Lua's //), numpy floor_divide
    x = np.array([7, -7, 7, -7, 0, 5], np.int64)
    y = np.array([2, 2, -2, -2, 3, 0], np.int64)
    with np.errstate(all="ignore"):
        case("idiv/i64", "return %s // %s" % (T(x), T(y)), np.floor_divide(x, y))
        case("idiv/f64", "return %s // 2" % T(np.array([-7.5, 7.5, -0.5, np.inf])),
             np.floor_divide(np.array([-7.5, 7.5, -0.5, np.inf]), 2.0))
        case("mod/i64_zero", "return %s %% %s" % (T(x), T(y)), np.mod(x, y))
        case("mod/f64_signs", "return %s %% %s" % (T(np.array([5.5, -5.5, 5.5, -5.5, -0.0])), T(np.array([2.0, 2, -2, -2, 3]))),
             np.mod(np.array([5.5, -5.5, 5.5, -5.5, -0.0]), np.array([2.0, 2, -2, -2, 3])))
        case("pow/i64_negexp", "return %s ^ -1" % T(x), Err())
        case("pow/f64_neg_frac", "return %s ^ 0.5" % T(np.array([-4.0, 4])), np.power(np.array([-4.0, 4]), 0.5))
        case("pow/zero_zero", "return %s ^ 0" % T(np.array([0.0, np.nan, np.inf])), np.power(np.array([0.0, np.nan, np.inf]), 0))
    # scalar Lua types from 0-d tensors and 1-element tensors
    case("scalar/0d_sum", "return tensor.full({}, 3):sum()", Lua("float", 3.0))
    case("scalar/0d_i64_sum", "return tensor.full({}, 3, {dtype = 'i64'}):sum()", Lua("int", 3))
    case("scalar/argmax_type", "return %s:argmax()" % T(rand((5,), "f32")), Lua("any"))
    case("scalar/max_i64", "return %s:max()" % T(v), Lua("int", int(v.max())))
    case("scalar/min_f32", "return %s:min()" % T(rand((5,), "f32")), Lua("any"))
    # comparisons of mixed dtypes: i64 against f64 near 2^53
    i = np.array([2**53 + 1], np.int64)
    case("cmp/i64_vs_f64_2p53", "return %s:eq(%s)" % (T(i), T(np.array([2.0**53]))), i == np.array([2.0**53]))
    case("cmp/i64_vs_float_scalar", "return %s:gt(%r)" % (T(i), 2.0**53), i > 2.0**53)
    # broadcasting against 0-d and against empty
    z = np.array(2.0)
    case("bcast/0d_plus_2d", "return %s + %s" % (T(z), T(a[0])), z + a[0])
    case("bcast/empty", "return %s * %s" % (T(np.zeros((0, 1))), T(a[0][0])), np.zeros((0, 1)) * a[0][0])
    case("bcast/cmp_0d", "return %s:lt(%s)" % (T(a[0]), T(z)), a[0] < z)
    case("bcast/where_0d", "return tensor.where(%s, %s, %s)" % (T(a[0] > 0), T(z), T(a[0])), np.where(a[0] > 0, z, a[0]))
    # argument forms
    case("reduce/axis_oob", "return %s:sum{axis = 4}" % T(a), Err(r"4"))
    case("reduce/axis_oob_neg", "return %s:sum{axis = -4}" % T(a), Err(r"-4|4"))
    case("reduce/unknown_option", "return %s:sum{axis = 1, keepdims = true}" % T(a), Err(r"keepdims", r"keepdim"))
    case("sort/unknown_option", "return %s:sort{dim = 1}" % T(a), Err(r"dim"))
    case("sort/stable_1", "return %s:argsort{descending = true}" % T(np.array([1.0, 2, 1, 2, np.nan, 2])),
         torch_sort(np.array([1.0, 2, 1, 2, np.nan, 2]), 0, True)[1])
    case("topk/ties_lower_first", "return %s:topk(2)" % T(np.array([1, 5, 3, 5, 5], np.int64)),
         Multi(torch_topk(np.array([1, 5, 3, 5, 5], np.int64), 2, 0, True)))
    case("topk/ties_smallest", "return %s:topk(2, {largest = false})" % T(np.array([4.0, 1, 3, 1, 1])),
         Multi(torch_topk(np.array([4.0, 1, 3, 1, 1]), 2, 0, False)))
    case("topk/negzero", "return %s:topk(2)" % T(np.array([-0.0, 0.0, -0.0])),
         Multi(torch_topk(np.array([-0.0, 0.0, -0.0]), 2, 0, True)))
    # printing (contract: integers without decimals, bools as true/false, ... past 1,000)
    case("print/i64", "return tostring(%s)" % T(np.array([1, -20, 300], np.int64)), Lua("any"))
    case("print/bool_words", "local s = tostring(tensor{true, false}); return s:find('true') ~= nil and s:find('false') ~= nil and s:find('True') == nil",
         Lua("bool", True))
    case("print/int_no_decimals", "return tostring(%s):find('%%.') == nil" % T(np.array([1, -20, 300], np.int64)),
         Lua("bool", True))
    case("print/summarised", "return select(2, tostring(tensor.zeros{1001}):gsub('0%%.', '')) < 20 and tostring(tensor.zeros{1001}):find('...', 1, true) ~= nil",
         Lua("bool", True))
    case("print/not_summarised", "return tostring(tensor.zeros{1000}):find('...', 1, true) == nil", Lua("bool", True))


def gen_extra2():
    """Second round: edges of every sentence."""
    m = rand((3, 4), "f64", special=True)
    case("index/float_pos", "local t = %s; return t[2.0]" % T(m), m[1])
    case("index/frac_pos", "local t = %s; return t[1.5]" % T(m), Err())
    case("index/0d_index", "return tensor.full({}, 1)[1]", Err())
    case("index/string_key_err", "local t = %s; return t.foo" % T(m), Lua("nil"))
    e = m.copy()
    e[:, 1] = e[:, 0]
    case("write/column_from_column", "local t = %s; t[{{}, 2}] = t[{{}, 1}]; return t" % T(m), e)
    e = m.copy()
    e[:] = 0
    case("write/whole", "local t = %s; t[{}] = 0; return t" % T(m), e)
    e = m.copy()
    e[1:, :] = e[:-1, :].copy()
    case("write/overlap_shift", "local t = %s; t[{{2, 3}}] = t[{{1, 2}}]; return t" % T(m), e)
    e = m.copy()
    e[:, ::-1] = m
    case("write/reversed_self", "local t = %s; t[{{}, {-1, 1, -1}}] = t; return t" % T(m), e)
    e = m.copy()
    e[m > 0] = np.array([5.0])
    case("mask/write_len1_tensor", "local t = %s; t[t:gt(0)] = tensor{5}; return t" % T(m), e)
    case("mask/write_count_err", "local t = %s; t[t:gt(-100)] = tensor{1, 2}; return t" % T(m), Err())
    case("mask/bcast_shape_err", "local t = %s; return t[%s]" % (T(m), T(np.array([True, False, True, False]))),
         Err(shape_re([3, 4])))
    case("mask/f64_mask_err", "local t = %s; return t[%s]" % (T(m), T((m > 0).astype(np.float64))), Lua("any"))
    case("index_fn/negative", "local t = %s; return t:index(2, {-1, 1})" % T(m), Lua("any"))
    case("index_fn/empty", "local t = %s; return t:index(1, {})" % T(m), Lua("any"))
    case("index_fn/i64_2d", "local t = %s; return t:index(1, %s)" % (T(m), T(np.array([[1, 2], [3, 1]]))), Lua("any"))
    g = rand((2, 3, 4), "i64")
    gi = rng.integers(0, 3, (2, 2, 4))
    case("gather/3d_axis2", "local t = %s; return t:gather(2, %s)" % (T(g), T(gi + 1)), np.take_along_axis(g, gi, 1))
    case("gather/dtype_bool", "local t = %s; return t:gather(3, %s)" % (T(g > 0), T(np.zeros((2, 3, 1), np.int64) + 4)),
         np.take_along_axis(g > 0, np.zeros((2, 3, 1), np.int64) + 3, 2))
    case("gather/oob_names_shape", "local t = %s; return t:gather(2, %s)" % (T(g), T(gi + 2)),
         Err(shape_re([2, 3, 4])) if (gi + 2 > 3).any() else Lua("any"))
    case("ipairs/0d", "for _ in ipairs(tensor.full({}, 1)) do end; return true", Lua("any"))
    case("ipairs/bool_1d", "local s = {}; for i, v in ipairs(tensor{true, false}) do s[i] = tostring(v) end; return table.concat(s, ',')",
         Lua("str", "true,false"))
    # equal
    case("equal/dtypes", "return tensor{1, 2}:equal(tensor.from({1, 2}, {dtype = 'i64'}))", Lua("any"))
    case("equal/nan", "return tensor{0/0}:equal(tensor{0/0})", Lua("bool", False))
    case("cmp/ne_nan", "return %s:ne(0/0)" % T(m), np.not_equal(m, np.nan))
    case("cmp/eq_nan", "return %s:eq(0/0)" % T(m), np.equal(m, np.nan))
    # maximum / minimum promotion
    a = rand((4,), "i64")
    b = rand((4,), "f32", special=True)
    case("maximum/i64_f32", "return tensor.maximum(%s, %s)" % (T(a), T(b)), np.maximum(a, b))
    case("minimum/bool_i64", "return tensor.minimum(%s, %s)" % (T(a > 0), T(a)), np.minimum(a > 0, a))
    case("maximum/bool_bool", "return tensor.maximum(%s, %s)" % (T(a > 0), T(a < 0)), np.maximum(a > 0, a < 0))
    with np.errstate(all="ignore"):
        sp = np.array([np.inf, -np.inf, 5, -5, np.nan, 5])
        sq = np.array([2, 2, np.inf, np.inf, 2, -np.inf])
        case("mod/inf", "return %s %% %s" % (T(sp), T(sq)), np.mod(sp, sq))
        case("pow/specials", "return %s ^ %s" % (T(sp), T(sq)), np.power(sp, sq))
        case("div/specials", "return %s / %s" % (T(sp), T(sq)), sp / sq)
        big = np.array([2**63 - 1, -(2**63) + 1, 7], np.int64)
        case("div/i64_big_true", "return %s / 3" % T(big), big / 3)
        case("div/i64_by_i64_big", "return %s / %s" % (T(big), T(big[::-1].copy())), big / big[::-1])
        case("idiv/i64_min_neg1", "return %s // -1" % T(np.array([-(2**63)], np.int64)), Lua("any"))
        case("mod/i64_min_neg1", "return %s %% -1" % T(np.array([-(2**63)], np.int64)),
             np.mod(np.array([-(2**63)], np.int64), -1))
    # unary edges
    case("unary/abs_negzero", "return %s:abs()" % T(np.array([-0.0, -np.inf, np.nan])), np.abs(np.array([-0.0, -np.inf, np.nan])))
    case("unary/sigmoid_tails", "return %s:sigmoid()" % T(np.array([-800.0, -40, 40, 800, 0])),
         np.array([1 / (1 + math.exp(800)) if False else 0.0, 1 / (1 + math.exp(40)), 1 / (1 + math.exp(-40)), 1.0, 0.5]), 2)
    case("unary/sqrt_negzero", "return %s:sqrt()" % T(np.array([-0.0, -1.0])), np.sqrt(np.array([-0.0, -1.0])) if True else None)
    case("unary/bool_abs", "return tensor{true, false}:abs()", Lua("any"))
    case("unary/bool_floor", "return tensor{true, false}:floor()", Lua("any"))
    case("unary/map_i64", "return %s:map(function(v) return v * 2 end)" % T(a), Lua("any"))
    case("clamp/nan_bounds", "return %s:clamp(0, 0/0)" % T(np.array([1.0, -1.0])), np.clip(np.array([1.0, -1.0]), 0, np.nan))
    # reductions: larger arrays (SIMD / pairwise paths), exactness reported
    for dt in ("f64", "f32"):
        big = rand((4099,), dt)
        case("large/sum_%s" % dt, "return %s:sum()" % T(big), to_expect(np.sum(big)), 4)
        case("large/mean_%s" % dt, "return %s:mean()" % T(big), to_expect(np.mean(big)), 4)
        case("large/var_%s" % dt, "return %s:var()" % T(big), to_expect(np.var(big, ddof=1)), 4)
        case("large/max_%s" % dt, "return %s:max()" % T(big), to_expect(np.max(big)))
        case("large/argmin_%s" % dt, "return %s:argmin()" % T(big), Lua("int", int(np.argmin(big)) + 1))
        case("large/cumsum_%s" % dt, "return %s:cumsum{1}" % T(big), np.cumsum(big))
        mat = rand((37, 129), dt)
        case("large/sum_ax1_%s" % dt, "return %s:sum{axis = 1}" % T(mat), np.sum(mat, axis=0), 4)
        case("large/sum_ax2_%s" % dt, "return %s:sum{axis = 2}" % T(mat), np.sum(mat, axis=1), 4)
        case("large/std_ax1_%s" % dt, "return %s:std{axis = 1}" % T(mat), np.std(mat, axis=0, ddof=1), 4)
        case("large/mean_ax2_%s" % dt, "return %s:mean{axis = -1}" % T(mat), np.mean(mat, axis=1), 4)
        case("large/logsumexp_ax2_%s" % dt, "return %s:logsumexp{2}" % T(mat), lse_ref(mat, 1), 4)
    bi = rand((4099,), "i64")
    case("large/sum_i64", "return %s:sum()" % T(bi), Lua("int", int(np.sum(bi))))
    case("large/var_i64", "return %s:var()" % T(bi), Lua("float", float(np.var(bi, ddof=1))), 4)
    case("large/mean_bool", "return %s:mean()" % T(bi > 0), Lua("float", float(np.mean(bi > 0))))
    # std of length 1 along an axis
    with np.errstate(all="ignore"):
        case("std/axis_len1", "return %s:std{axis = 2}" % T(m[:, :1]), np.std(m[:, :1], axis=1, ddof=1))
    case("reduce/0d_axis", "return tensor.full({}, 2):sum{axis = 1}", Lua("any"))
    # sort / topk edges
    case("sort/empty", "return tensor.zeros{0}:sort()", Multi((np.zeros(0), np.zeros(0, np.int64))))
    case("topk/0d", "return tensor.full({}, 1):topk(1)", Lua("any"))
    case("sort/2d_default_axis", "return %s:sort()" % T(m), Multi(torch_sort(m, -1, False)))
    ar = rand((3, 5), "f32", special=True, ties=True)
    case("argsort/axis1_desc", "return %s:argsort{axis = 1, descending = true}" % T(ar), torch_sort(ar, 0, True)[1])
    case("topk/axis1_smallest", "return %s:topk(2, {axis = 1, largest = false})" % T(ar), Multi(torch_topk(ar, 2, 0, False)))
    # shapes
    s1 = rand((1, 1), "f64")
    case("squeeze/to_0d", "return %s:squeeze():shape()" % T(s1), Lua("list", []))
    case("reshape/to_0d", "return %s:reshape{}:shape()" % T(s1), Lua("list", []))
    case("unsqueeze/0d", "return tensor.full({}, 2):unsqueeze(1)", np.array([2.0]))
    case("T/1d", "return %s:T()" % T(m[0]), Lua("any"))
    case("T/3d", "return %s:T()" % T(rand((2, 3, 4), "f64")), Lua("any"))
    case("transpose/same", "return %s:transpose(2, 2)" % T(m), m)
    case("transpose/oob", "return %s:transpose(1, 3)" % T(m), Err())
    case("expand/0d", "return tensor.full({}, 3):expand{2, 2}", np.full((2, 2), 3.0))
    case("expand/clone", "return %s:expand{2, 3, 4}:clone()" % T(m[0]), np.broadcast_to(m[0], (2, 3, 4)).copy())
    case("expand/contiguous_writes", "local e = %s:expand{2, 4}:contiguous(); e[1][1] = 9; return e" % T(m[0]),
         (lambda x: (x.__setitem__((0, 0), 9), x)[1])(np.broadcast_to(m[0], (2, 4)).copy()))
    case("cat/1d_empty", "return tensor.cat{%s, tensor.zeros{0}}" % T(m[0]), np.concatenate([m[0], np.zeros(0)]))
    case("cat/bool_i64", "return tensor.cat{tensor{true}, tensor.from({2}, {dtype = 'i64'})}", np.concatenate([[True], np.array([2])]))
    case("stack/0d", "return tensor.stack{tensor.full({}, 1), tensor.full({}, 2)}", np.array([1.0, 2.0]))
    case("cat/one", "return tensor.cat{%s}" % T(m), m)
    case("cat/empty_list", "return tensor.cat{}", Err())
    case("slice/neg_step", "return %s:slice(4, 1, -1)" % T(rand((5,), "f64")), Lua("any"))
    case("slice/oob", "return %s:slice(1, 6)" % T(rand((5,), "f64")), Err(r"\b5\b"))
    case("totable/0d", "return tensor.full({}, 2.5):totable()", Lua("float", 2.5))
    case("totable/empty", "return tensor.zeros{0, 2}:totable()", Lua("any"))
    case("flatten/0d", "return tensor.full({}, 2):flatten()", np.array([2.0]))
    # dist with integers and ties
    case("dist/argmax_ties", "return dist.argmax({3, 7, 7, 1})", Lua("int", 1))
    case("dist/argmax_i64", "return dist.argmax(%s)" % T(np.array([3, 7, 7, 1])), Lua("int", 1))
    case("dist/topk_ties", "return dist.topk({3, 7, 7, 1, 7}, 3)",
         Multi((np.array([1, 2, 4]), np.array([7.0, 7, 7]))))
    case("dist/argmax_neg_inf", "return dist.argmax({-math.huge, -math.huge})", Lua("int", 0))
    case("dist/topk_batch_nan", "return dist.topk(%s, 2)" % T(np.array([[1.0, np.nan, 3], [2, 1, 0]])), Lua("any"))


def gen_files2(tmp):
    import json
    # .npy variants numpy can write
    arr = rand((3, 4), "f64", special=True)
    p = os.path.join(tmp, "v2.npy")
    with open(p, "wb") as f:
        np.lib.format.write_array(f, arr, version=(2, 0))
    case("files2/npy_v2", "return tensor.load(%r)" % p, arr)
    for descr, a in ((">i4", np.array([-5, 7, 2**31 - 1], ">i4")), ("<i1", np.array([-128, 127, 0], "i1")),
                     ("<u8", np.array([0, 2**63 - 1, 5], "<u8")), ("<f2", np.array([np.inf, -np.nan, 6e-8, -0.0, 65504], "<f2")),
                     (">f4", np.array([1.5, np.nan, -np.inf], ">f4")), ("|b1", np.array([[True], [False]]))):
        p = os.path.join(tmp, "d_%s.npy" % descr.replace("<", "l").replace(">", "b").replace("|", "p"))
        np.save(p, a)
        want = a.astype(np.int64) if a.dtype.kind in "iu" else a.astype(np.float32) if a.dtype.itemsize <= 4 and a.dtype.kind == "f" else a.astype(a.dtype.newbyteorder("="))
        case("files2/npy_%s" % descr, "return tensor.load(%r)" % p, want)
    p = os.path.join(tmp, "u8big.npy")
    np.save(p, np.array([2**64 - 1], "<u8"))
    case("files2/npy_u8_over_i64", "return tensor.load(%r)" % p, Lua("any"))
    p = os.path.join(tmp, "c64.npy")
    np.save(p, np.array([1 + 2j]))
    case("files2/npy_complex_refused", "return tensor.load(%r)" % p, Err())
    p = os.path.join(tmp, "obj.npy")
    np.save(p, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    case("files2/npy_object_refused", "return tensor.load(%r)" % p, Err())
    p = os.path.join(tmp, "trunc.npy")
    np.save(p, np.arange(100.0))
    with open(p, "r+b") as f:
        f.truncate(300)
    case("files2/npy_truncated", "return tensor.load(%r)" % p, Err())
    # a large file (memory-mapped): writes to the tensor must not reach the file
    big = np.arange(2_000_000, dtype=np.float64)
    p = os.path.join(tmp, "big.npy")
    np.save(p, big)
    case("files2/mmap_write_private",
         "local t = tensor.load(%r); t[1] = -1; t[{{2, 10}}] = 7; local u = tensor.load(%r); return u[1], u[5], t[1], t:sum()" % (p, p),
         Multi((Lua("float", 0.0), Lua("float", 4.0), Lua("float", -1.0),
                Lua("float", float(big.sum() - big[:10].sum() - 1 + 7 * 9)))), 0)
    case("files2/mmap_view_no_copy", "local t = tensor.load(%r); return t[{{1, 3}}]" % p, big[:3])
    # npz variants
    p = os.path.join(tmp, "positional.npz")
    np.savez(p, arr, big[:5])
    case("files2/npz_positional", "local r = tensor.load(%r); return r.arr_0, r.arr_1" % p, Multi((arr, big[:5])))
    p = os.path.join(tmp, "names.npz")
    np.savez(p, **{"layer.0/w": arr, "é": big[:2]})
    case("files2/npz_dotted_slashed", "local r = tensor.load(%r); return r['layer.0/w'], r['é']" % p, Multi((arr, big[:2])))
    # safetensors: __metadata__, F16, BF16, I32, U8, I8
    p = os.path.join(tmp, "meta.safetensors")
    entries = [("w", "F16", np.array([1.5, -2, 65504, np.inf], "<f2")),
               ("b", "BF16", np.array([0x3FC0, 0xC000, 0x7F80, 0x0001], "<u2")),
               ("i", "I32", np.array([-3, 2**31 - 1], "<i4")),
               ("u", "U8", np.array([0, 255], "u1")),
               ("s", "I8", np.array([-128, 5], "i1")),
               ("z", "F64", np.zeros((0, 2)))]
    header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
    for name, dt, a in entries:
        b = a.tobytes()
        header[name] = {"dtype": dt, "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    with open(p, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
    bf = (np.array([0x3FC0, 0xC000, 0x7F80, 0x0001], np.uint32) << 16).view(np.float32)
    case("files2/st_f16", "return tensor.load(%r).w" % p, np.array([1.5, -2, 65504, np.inf], np.float32))
    case("files2/st_bf16", "return tensor.load(%r).b" % p, bf)
    case("files2/st_i32", "return tensor.load(%r).i" % p, np.array([-3, 2**31 - 1], np.int64))
    case("files2/st_u8", "return tensor.load(%r).u" % p, np.array([0, 255], np.int64))
    case("files2/st_i8", "return tensor.load(%r).s" % p, np.array([-128, 5], np.int64))
    case("files2/st_empty", "return tensor.load(%r).z" % p, np.zeros((0, 2)))
    case("files2/st_no_metadata_entry", "return tensor.load(%r).__metadata__" % p, Lua("nil"))
    # moonlab writes, numpy reads: 0-d, empty, f32 specials, big-endian-free, npz compressed or not
    for name, a in (("0d", np.array(2.5)), ("empty", np.zeros((0, 3), np.float32)),
                    ("f32spec", np.array([np.nan, -np.inf, -0.0, 1e-45], np.float32)),
                    ("i64ext", np.array([2**63 - 1, -(2**63)], np.int64)), ("bool2d", rand((2, 3), "bool"))):
        out = os.path.join(tmp, "ml2_%s.npy" % name)
        FILE_CHECKS.append(("files2/save_%s" % name, out, a))
        case("files2/save_%s_run" % name, "tensor.save(%r, %s); return true" % (out, T(a)), Lua("bool", True))
    out = os.path.join(tmp, "ml2_names.npz")
    FILE_CHECKS.append(("files2/save_npz_names", out, {"layer.0/w": arr, "é": big[:2]}))
    case("files2/save_npz_names_run", "tensor.save(%r, {['layer.0/w'] = %s, ['é'] = %s}); return true" % (out, T(arr), T(big[:2])),
         Lua("bool", True))
    out = os.path.join(tmp, "ml2_empty.safetensors")
    FILE_CHECKS.append(("files2/save_st_empty_0d", out, {"e": np.zeros((0, 3)), "s": np.array(3.0)}))
    case("files2/save_st_empty_0d_run", "tensor.save(%r, {e = tensor.zeros{0, 3}, s = tensor.full({}, 3)}); return true" % out,
         Lua("bool", True))
    case("files2/save_bad_ext", "tensor.save(%r, {a = tensor{1}}); return true" % os.path.join(tmp, "x.txt"), Err())
    case("files2/save_table_as_npy", "tensor.save(%r, {a = tensor{1}}); return true" % os.path.join(tmp, "x.npy"), Lua("any"))


def gen_order_large(tmp):
    """Rows long enough for the radix/parallel sort paths: ties, ±0, NaN and -NaN, inf."""
    for n in (300, 5000, 70000):
        for dt in ("f64", "f32"):
            f = np.float64 if dt == "f64" else np.float32
            x = (rng.integers(-3, 4, n) / 2).astype(f)
            k = rng.integers(0, n, n // 5)
            q = len(k) // 4
            x[k[:q]] = np.nan
            x[k[q:2 * q]] = -0.0
            x[k[2 * q:3 * q]] = -np.array([np.nan], f)[0]
            x[k[3 * q:]] = np.inf
            p = os.path.join(tmp, "order_%d_%s.npy" % (n, dt))
            np.save(p, x)
            for desc in (False, True):
                v, i = torch_sort_fast(x, desc)
                case("order_large/sort_%d_%s_desc%d" % (n, dt, desc),
                     "return tensor.load(%r):sort{descending = %s}" % (p, "true" if desc else "false"), Multi((v, i)))
            v, i = torch_sort_fast(x, True)
            case("order_large/topk_%d_%s" % (n, dt), "return tensor.load(%r):topk(%d)" % (p, n // 3),
                 Multi((v[:n // 3], i[:n // 3])))
            v, i = torch_sort_fast(x, False)
            case("order_large/argsort_%d_%s" % (n, dt), "return tensor.load(%r):argsort()" % p, i)
    x = rng.integers(-5, 6, 70000).astype(np.int64)
    p = os.path.join(tmp, "order_i64.npy")
    np.save(p, x)
    v, i = torch_sort_fast(x, True)
    case("order_large/sort_i64_desc", "return tensor.load(%r):sort{descending = true}" % p, Multi((v, i)))


def torch_sort_fast(x, descending):
    """1-d torch.sort(stable=True): NaN of either sign above +inf, -0.0 equal to 0.0."""
    n = len(x)
    isn = np.isnan(x) if x.dtype.kind == "f" else np.zeros(n, bool)
    key = np.where(isn, 0, x).astype(np.float64) if x.dtype.kind == "f" else x
    if x.dtype.kind == "f":
        key = np.where(key == 0, 0.0, key)
    order = np.lexsort((np.arange(n), -key, ~isn)) if descending else np.lexsort((np.arange(n), key, isn))
    return x[order], order.astype(np.int64) + 1


def gen_axes():
    """Positions are 1-based: axis 0 is an error everywhere, never numpy's first axis."""
    t = T(rand((2, 3), "f64"))
    for call in ("t:sum{axis = 0}", "t:max{axis = 0}", "t:argmax{axis = 0}", "t:sort{axis = 0}", "t:cumsum{0}",
                 "t:topk(1, {axis = 0})", "t:transpose(0, 1)", "t:unsqueeze(0)", "tensor.cat({t, t}, {axis = 0})",
                 "t:index(0, {1})", "t:any{axis = 0}", "t:logsumexp{0}", "t:squeeze(0)", "t:permute{0, 1}"):
        case("axes/zero %s" % call, "local t = %s; return %s" % (t, call), Err())
    for call in ("t:sum{axis = 3}", "t:sum{axis = -3}", "t:transpose(1, 3)", "t:unsqueeze(4)", "t:unsqueeze(-4)"):
        case("axes/oob %s" % call, "local t = %s; return %s" % (t, call), Err())


def gen_promotion():
    """numpy 2 (NEP 50): Lua numbers are weak scalars, 0-d tensors are not."""
    a32 = rand((3,), "f32")
    ai = rand((3,), "i64")
    ab = rand((3,), "bool")
    z64 = np.array(1.5)
    z32 = np.array(1.5, np.float32)
    zi = np.array(2, np.int64)
    zb = np.array(True)
    for x, xn in ((a32, "f32"), (ai, "i64"), (ab, "bool")):
        for z, zn in ((z64, "0d_f64"), (z32, "0d_f32"), (zi, "0d_i64"), (zb, "0d_bool")):
            for op in ("+", "*", "/"):
                case("promote/%s %s %s" % (xn, op, zn), "return %s %s %s" % (T(x), op, T(z)), bin_expect(op, x, z))
                case("promote/%s %s %s" % (zn, op, xn), "return %s %s %s" % (T(z), op, T(x)), bin_expect(op, z, x))
    for lit, pv in (("2.0", 2.0), ("2", 2), ("1e300", 1e300), ("true", True)):
        for x, xn in ((a32, "f32"), (ai, "i64"), (ab, "bool")):
            for op in ("+", "*"):
                try:
                    with np.errstate(all="ignore"):
                        exp = bin_expect(op, x, pv)
                except Exception:  # noqa: BLE001
                    exp = Err()
                case("weak/%s %s %s" % (xn, op, lit), "return %s %s %s" % (T(x), op, lit), exp)
    case("weak/cmp_f32_0.1", "return %s:eq(0.1)" % T(np.array([0.1], np.float32)), np.array([0.1], np.float32) == 0.1)
    case("weak/where_f32_lua", "return tensor.where(%s, %s, 0.1)" % (T(ab), T(a32)), np.where(ab, a32, np.float32(0.1)))
    case("weak/maximum_f32_lua", "return tensor.maximum(%s, 0.1)" % T(a32), np.maximum(a32, 0.1))
    case("weak/clamp_f32", "return %s:clamp(-0.1, 0.1)" % T(a32), np.clip(a32, -0.1, 0.1))
    case("weak/full_f32", "return tensor.full({2}, 0.1, {dtype = 'f32'})", np.full(2, 0.1, np.float32))


# ---------------------------------------------------------------------------------------
# running and comparing

PRELUDE = r"""
local function num(x)
  if math.type(x) == "integer" then return "i:" .. string.format("%d", x) end
  if x ~= x then return "f:nan" end
  return "f:" .. string.format("%a", x)
end
local function walk(v, out)
  if type(v) == "table" then
    out[#out + 1] = "["
    for i = 1, #v do walk(v[i], out) end
    out[#out + 1] = "]"
  elseif type(v) == "boolean" then out[#out + 1] = v and "b:1" or "b:0"
  elseif type(v) == "number" then out[#out + 1] = num(v)
  else out[#out + 1] = "?" .. type(v) end
end
local function ser(v)
  local tv = type(v)
  if tv == "nil" then return "nil" end
  if tv == "boolean" then return v and "b:1" or "b:0" end
  if tv == "number" then return num(v) end
  if tv == "string" then return "s:" .. v:gsub("[%s|]", "_") end
  if tv == "userdata" and getmetatable(v) and getmetatable(v).__name == "tensor" then
    local out = {"T", v:dtype(), "(" .. table.concat(v:shape(), ",") .. ")"}
    walk(v:totable(), out)
    return table.concat(out, " ")
  end
  if tv == "table" then
    local out = {"L"}
    walk(v, out)
    return table.concat(out, " ")
  end
  return "?" .. tv
end
local function run(name, f)
  local r = table.pack(pcall(f))
  if not r[1] then
    print("@@ " .. name .. " ERR " .. tostring(r[2]):gsub("\n", " "))
  else
    local parts = {}
    for i = 2, r.n do parts[#parts + 1] = ser(r[i]) end
    print("@@ " .. name .. " OK " .. table.concat(parts, " | "))
  end
  io.stdout:flush()
end
"""


def lua_script(cases):
    out = [PRELUDE]
    for k, (name, body, _, _) in enumerate(cases):
        out.append("run(%d, function()\n%s\nend)" % (k, body))
    return "\n".join(out)


def run_batch(cases, tmp):
    path = os.path.join(tmp, "batch.lua")
    with open(path, "w") as f:
        f.write(lua_script(cases))
    p = subprocess.run([MOONLAB, "run", path], capture_output=True, text=True, timeout=600)
    got = {}
    for line in p.stdout.splitlines():
        if line.startswith("@@ "):
            _, k, status, *rest = line.split(" ", 3)
            got[int(k)] = (status, rest[0] if rest else "")
    return got, p.returncode, p.stderr


def parse_num(tok):
    kind, v = tok.split(":", 1)
    if kind == "i":
        return ("int", int(v))
    if kind == "b":
        return ("bool", v == "1")
    if v == "nan":
        return ("float", math.nan)
    return ("float", float.fromhex(v))


def parse_value(s):
    s = s.strip()
    if s == "nil":
        return ("nil", None)
    if s.startswith("s:"):
        return ("str", s[2:])
    if s.startswith("T "):
        toks = s.split(" ")
        dt = toks[1]
        shape = tuple(int(x) for x in toks[2][1:-1].split(",") if x)
        flat = [parse_num(t)[1] for t in toks[3:] if t not in ("[", "]")]
        return ("tensor", dt, shape, flat)
    if s.startswith("L "):
        toks = s.split(" ")[1:]
        stack = [[]]
        for t in toks:
            if t == "[":
                stack.append([])
            elif t == "]":
                x = stack.pop()
                stack[-1].append(x)
            else:
                stack[-1].append(parse_num(t)[1])
        return ("list", stack[0][0] if stack[0] else [])
    return parse_num(s)


def ulps(a, b, dt):
    if dt == "f32":
        ia = struct.unpack("<i", struct.pack("<f", a))[0]
        ib = struct.unpack("<i", struct.pack("<f", b))[0]
        if ia < 0:
            ia = -(2**31) - ia
        if ib < 0:
            ib = -(2**31) - ib
    else:
        ia = struct.unpack("<q", struct.pack("<d", a))[0]
        ib = struct.unpack("<q", struct.pack("<d", b))[0]
        if ia < 0:
            ia = -(2**63) - ia
        if ib < 0:
            ib = -(2**63) - ib
    return abs(ia - ib)


def cmp_float(g, e, dt, tol, bound=None):
    """-> 0 exact, 1 close (within tol ulps or an absolute bound), 2 differ, 3 sign of zero only."""
    if math.isnan(e) or math.isnan(g):
        return 0 if (math.isnan(e) and math.isnan(g)) else 2
    if g == e:
        if g == 0 and math.copysign(1, g) != math.copysign(1, e):
            return 3
        return 0
    if math.isinf(g) or math.isinf(e):
        return 2
    if bound is not None:
        return 1 if abs(g - e) <= bound else 2
    return 1 if ulps(g, e, dt) <= tol else 2


NPNAME = {"float64": "f64", "float32": "f32", "int64": "i64", "bool": "bool"}


def compare_tensor(got, exp, tol):
    if got[0] != "tensor":
        if got[0] in ("int", "float", "bool") and exp.ndim == 0:
            return "scalar-for-0d", "got a Lua %s %r, expected a 0-d tensor" % (got[0], got[1])
        return "differ", "got %s, expected a tensor %s %s" % (got[0], NPNAME.get(exp.dtype.name), exp.shape)
    _, dt, shape, flat = got
    want_dt = NPNAME.get(exp.dtype.name, exp.dtype.name)
    if dt != want_dt:
        return "dtype", "dtype %s, numpy %s" % (dt, want_dt)
    if shape != exp.shape:
        return "shape", "shape %s, numpy %s" % (shape, exp.shape)
    ef = exp.reshape(-1).tolist()
    bounds = None
    if isinstance(tol, np.ndarray):
        bounds = np.broadcast_to(tol, exp.shape).reshape(-1).tolist()
    if len(ef) != len(flat):
        return "differ", "%d values for %d" % (len(flat), len(ef))
    rank = {0: 0, 1: 1, 3: 2, 2: 3}
    worst, where = 0, None
    for k, (g, e) in enumerate(zip(flat, ef)):
        if dt in ("f64", "f32"):
            c = cmp_float(float(g), float(e), dt, 0 if bounds else tol, bounds[k] if bounds else None)
        else:
            c = 0 if g == e else 2
        if rank[c] > rank[worst]:
            worst, where = c, (k, g, e)
    if worst == 0:
        return "ok", ""
    label = {1: "close", 2: "differ", 3: "zero-sign"}[worst]
    k, g, e = where
    return label, "first at flat %d: got %r, numpy %r" % (k, g, e)


def compare_one(got, exp, tol):
    if isinstance(exp, Multi):
        return None
    if isinstance(exp, np.ndarray):
        return compare_tensor(got, exp, tol)
    if isinstance(exp, Lua):
        if exp.kind == "any":
            return ("shown", repr(got)[:300]) if SHOW_ANY else ("ok", "")
        if exp.kind in ("int", "bool", "str", "nil"):
            if got[0] == exp.kind and got[-1] == exp.value:
                return "ok", ""
            if got[0] == "tensor" and got[2] == ():
                return "0d-for-scalar", "got a 0-d tensor, expected a Lua %s %r" % (exp.kind, exp.value)
            return "differ", "got %r, expected Lua %s %r" % (got, exp.kind, exp.value)
        if exp.kind in ("float", "float32"):
            if got[0] == "int":
                return "type", "got a Lua integer %d, expected a float %r" % (got[1], exp.value)
            if got[0] != "float":
                if got[0] == "tensor" and got[2] == ():
                    return "0d-for-scalar", "got a 0-d tensor, expected a Lua float"
                return "differ", "got %r, expected float %r" % (got, exp.value)
            c = cmp_float(got[1], exp.value, "f32" if exp.kind == "float32" else "f64",
                          0 if isinstance(tol, float) else tol, tol if isinstance(tol, float) else None)
            if c == 0:
                return "ok", ""
            return {1: "close", 2: "differ", 3: "zero-sign"}[c], "got %r, numpy %r" % (got[1], exp.value)
        if exp.kind == "list":
            if got[0] == "list" and got[1] == exp.value:
                return "ok", ""
            return "differ", "got %r, expected %r" % (got, exp.value)
        if exp.kind == "nested":
            if got[0] != "list":
                return "differ", "got %r" % (got,)

            def same(a, b):
                if isinstance(b, list):
                    return isinstance(a, list) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
                if isinstance(b, bool) or isinstance(b, int):
                    return a == b and type(a) is type(b)
                return a == b or (a != a and b != b)
            return ("ok", "") if same(got[1], exp.value) else ("differ", "got %r" % (got[1],))
    if isinstance(exp, np.generic):
        return compare_one(got, to_expect(exp), tol)
    raise TypeError(exp)


SHOW_ANY = False
SEVERITY = ["ok", "shown", "close", "zero-sign", "scalar-for-0d", "0d-for-scalar", "type", "dtype", "shape", "differ",
            "no-error", "error", "bad-error", "crash"]


def judge(status, payload, exp, tol):
    if isinstance(exp, Lua) and exp.kind == "any" and status == "ERR":
        return ("shown", "error: " + payload[:300]) if SHOW_ANY else ("ok", "")
    if isinstance(exp, Err):
        if status != "ERR":
            return "no-error", "returned " + payload[:200]
        for n in exp.needs:
            if not re.search(n, payload):
                return "bad-error", "message lacks /%s/: %s" % (n, payload[:200])
        return "ok", ""
    if status == "ERR":
        return "error", payload[:300]
    parts = payload.split(" | ") if payload else []
    want = list(exp) if isinstance(exp, Multi) else [exp]
    if len(parts) < len(want):
        return "differ", "%d results, expected %d: %s" % (len(parts), len(want), payload[:200])
    worst, msgs = "ok", []
    for p, w in zip(parts, want):
        lab, msg = compare_one(parse_value(p), w, tol)
        if SEVERITY.index(lab) > SEVERITY.index(worst):
            worst = lab
        if lab != "ok":
            msgs.append(msg)
    return worst, "; ".join(msgs)


def check_files():
    res = []
    for name, path, exp in FILE_CHECKS:
        try:
            if path.endswith(".npy"):
                got = np.load(path)
                ok = got.dtype == exp.dtype and got.shape == exp.shape and np.array_equal(got, exp, equal_nan=exp.dtype.kind == "f")
                res.append((name, "ok" if ok else "differ", "" if ok else "numpy read %s %s" % (got.dtype, got.shape)))
            else:
                got = dict(np.load(path)) if path.endswith(".npz") else read_safetensors(path)
                bad = []
                for k, v in exp.items():
                    g = got.get(k)
                    if g is None or g.dtype != v.dtype or g.shape != v.shape or not np.array_equal(
                            g, v, equal_nan=v.dtype.kind == "f"):
                        bad.append("%s: %s" % (k, None if g is None else (g.dtype, g.shape)))
                res.append((name, "differ" if bad else "ok", "; ".join(bad)))
        except Exception as ex:  # noqa: BLE001
            res.append((name, "differ", "numpy could not read it: %s" % ex))
    return res


def main():
    global rng
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--only", action="append", default=[])
    ap.add_argument("-v", action="store_true", help="print every non-ok case with its Lua body")
    ap.add_argument("--show-any", action="store_true", help="print the answers the contract leaves open")
    args = ap.parse_args()
    global SHOW_ANY
    SHOW_ANY = args.show_any
    rng = np.random.default_rng(args.seed)
    tmp = tempfile.mkdtemp(prefix="acceptance_tensor.")
    for g in (gen_making, gen_looking, gen_indexing, gen_compare, gen_arith, gen_unary, gen_reduce, gen_order,
              gen_shape, gen_dist, gen_extra, gen_extra2, gen_axes, gen_promotion):
        g()
    gen_files(tmp)
    gen_files2(tmp)
    gen_order_large(tmp)
    cases = [c for c in CASES if not args.only or any(c[0].startswith(o) for o in args.only)]
    got, rc, err = run_batch(cases, tmp)
    if rc != 0 and len(got) < len(cases):
        print("moonlab exited %d after %d of %d cases: %s" % (rc, len(got), len(cases), err[-500:]))
        # run the rest one by one to find the crash
        for k in range(len(got), len(cases)):
            g1, rc1, err1 = run_batch([cases[k]], tmp)
            if 0 in g1:
                got[k] = g1[0]
            else:
                got[k] = ("CRASH", "exit %d: %s" % (rc1, err1[-300:]))
    counts = {}
    for k, (name, body, exp, tol) in enumerate(cases):
        status, payload = got.get(k, ("CRASH", "no answer"))
        if status == "CRASH":
            lab, msg = "crash", payload
        else:
            lab, msg = judge(status, payload, exp, tol)
        counts[lab] = counts.get(lab, 0) + 1
        if lab not in ("ok",) and (lab != "close" or args.v):
            print("%-12s %s: %s" % (lab.upper(), name, msg))
            if args.v:
                print("    " + body.replace("\n", "\n    ")[:600])
    if not args.only or any("files".startswith(o) or o.startswith("files") for o in args.only):
        for name, lab, msg in check_files():
            counts[lab] = counts.get(lab, 0) + 1
            if lab != "ok":
                print("%-12s %s: %s" % (lab.upper(), name, msg))
    total = sum(counts.values())
    print("%d cases (seed %d): %s" % (total, args.seed, ", ".join("%s %d" % (k, v) for k, v in sorted(counts.items()))))
    # the sign of a zero from maximum/minimum follows the path numpy's loop takes (README)
    return 0 if all(k in ("ok", "close", "shown", "zero-sign") for k in counts) else 1


if __name__ == "__main__":
    sys.exit(main())
