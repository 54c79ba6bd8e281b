#!/usr/bin/env python3
"""More blind probes of moonlab's tensor contract (issue 13) against numpy, beside acceptance_tensor.py.

Where acceptance_tensor.py is thin, what a numpy user tries next: every dtype pair in every
binary operator, comparison, maximum/minimum, where, cat and stack (numpy's promotion, Lua
numbers as numpy 2's weak scalars); integer and float floor division / modulo over every
sign (numpy's floor semantics); bool arithmetic; reductions, scans and orderings over
negative axes with keepdim on non-contiguous views (transposed, permuted, reversed, stepped,
expanded); argmin/argmax/sort/topk with ties, NaN and -0.0; var/mean of integers; matmul of
1-d, batched and broadcast batch shapes in every dtype pair; .npy/.npz/.safetensors round
trips of every dtype, 0-d and empty included; negative steps, masks on views, gather/index
with i64 tensors on views; squeeze/unsqueeze/permute edges. numpy (the installed version,
printed) is the source of every expected value; torch's order for sorts (lua-api.md).

    swift build
    python3 Tests/Differential/acceptance_tensor_probes.py [--seed N] [--only PREFIX] [-v]

Same comparison rules as acceptance_tensor.py (it is imported): bitwise, NaN equals NaN,
4 ulps "close" for float sums. numpy's int8 results of bool // % ^ bool are compared as
i64 (moonlab has no int8; bool < i64 is the contract's promotion).
"""
import argparse
import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import acceptance_tensor as at  # noqa: E402
from acceptance_tensor import Err, Lua, Multi, T, case, lnum  # noqa: E402

np.seterr(all="ignore")

DTS = ("f64", "f32", "i64", "bool")
NPDT = {"f64": np.float64, "f32": np.float32, "i64": np.int64, "bool": np.bool_}


def rng():
    return at.rng


def data(shape, dt, special=True):
    """Random values with ties, zeros of both signs, NaN and infinities for floats."""
    r = rng()
    if dt == "bool":
        return np.asarray(r.random(shape) < 0.5)
    if dt == "i64":
        return np.asarray(r.integers(-7, 8, shape).astype(np.int64))
    f = NPDT[dt]
    a = (r.integers(-6, 7, shape) / 2).astype(f)
    if special and a.size:
        flat = a.reshape(-1)
        for v in (np.nan, np.inf, -np.inf, -0.0):
            if r.random() < 0.5:
                flat[r.integers(0, flat.size)] = v
    return np.asarray(a)


def widen(e):
    """numpy's int8/int16/uint8 results (bool // bool ...) as moonlab's i64."""
    if isinstance(e, np.ndarray) and e.dtype.kind in "iu" and e.dtype != np.int64:
        return e.astype(np.int64)
    if isinstance(e, np.generic) and e.dtype.kind in "iu":
        return Lua("int", int(e))
    return e


def npop(op, a, b):
    if op == "+":
        return np.add(a, b)
    if op == "-":
        return np.subtract(a, b)
    if op == "*":
        return np.multiply(a, b)
    if op == "/":
        return np.true_divide(a, b)
    if op == "%":
        return np.mod(a, b)
    if op == "//":
        return np.floor_divide(a, b)
    if op == "^":
        return np.power(a, b)
    raise ValueError(op)


def expect(fn):
    try:
        with np.errstate(all="ignore"):
            return widen(fn())
    except Exception:  # noqa: BLE001 - numpy refuses: moonlab must raise
        return Err()


def tol_for(e, op):
    if isinstance(e, np.ndarray) and e.dtype.kind == "f" and op == "^":
        return 1  # numpy's SVML power (acceptance_tensor.py, POW_ULPS)
    return 0


# ---------------------------------------------------------------------------------------
# views: a Lua expression whose value is a non-contiguous view equal to the numpy array


def view(x, kind, T=T):
    """-> (lua, x) where lua builds a view of the given kind whose values are x (T builds the base)."""
    nd = x.ndim
    if kind == "plain" or nd == 0:
        return T(x), x
    if kind == "T":
        base = np.ascontiguousarray(np.swapaxes(x, 0, -1))
        return "%s:transpose(1, %d)" % (T(base), nd), x
    if kind == "perm" and nd >= 3:
        # t:permute{3, 1, 2} of base gives axes (base2, base0, base1) = x
        base = np.ascontiguousarray(np.transpose(x, (1, 2, 0) + tuple(range(3, nd))))
        return "%s:permute{%s}" % (T(base), ", ".join(str(p) for p in [3, 1, 2] + list(range(4, nd + 1)))), x
    if kind == "rev" and x.shape[0] > 0:
        base = np.ascontiguousarray(x[::-1])
        return "%s[{{-1, 1, -1}}]" % T(base), x
    if kind == "step" and x.shape[-1] > 0:
        shp = x.shape[:-1] + (2 * x.shape[-1],)
        base = np.zeros(shp, x.dtype)
        base[..., ::2] = x
        base[..., 1::2] = np.asarray(x)[..., ::-1] if x.dtype != np.bool_ else ~np.asarray(x)
        key = "{" + ", ".join(["{}"] * (nd - 1) + ["{1, -1, 2}"]) + "}"
        return "%s[%s]" % (T(base), key), x
    if kind == "expand":
        # replace axis 0 by a broadcast of its first row
        b1 = x[:1] if x.shape[0] > 0 else x
        e = np.broadcast_to(b1, x.shape).copy()
        return "%s:expand{%s}" % (T(np.ascontiguousarray(b1)), ", ".join(map(str, x.shape))), e
    if kind == "deep" and nd >= 2 and x.shape[0] > 0 and x.shape[-1] > 0:
        # transpose of a reversed, stepped base
        base = np.ascontiguousarray(np.swapaxes(x, 0, -1)[::-1])
        lua2, _ = view(base, "step", T)
        return "%s[{{-1, 1, -1}}]:transpose(1, %d)" % (lua2, nd), x
    return T(x), x


VIEWS = ("plain", "T", "perm", "rev", "step", "expand", "deep")


# ---------------------------------------------------------------------------------------
# promotion in every operator


def gen_promo():
    ops = ("+", "-", "*", "/", "%", "//", "^")
    for op in ops:
        for da in DTS:
            for db in DTS:
                a = data((2, 3), da)
                b = data((3,), db)
                if op == "^" and db in ("i64", "bool"):
                    b = np.abs(b) % 3 if db == "i64" else b
                if op == "^" and da == "i64" and db == "i64":
                    a = a % 5
                e = expect(lambda: npop(op, a, b))
                case("promo/%s %s %s" % (da, op, db), "return %s %s %s" % (T(a), op, T(b)), e, tol_for(e, op))
    # Lua numbers on either side are numpy 2's weak Python scalars
    for op in ops:
        for da in DTS:
            for lit, pv in (("3", 3), ("-2", -2), ("2.5", 2.5), ("-0.5", -0.5), ("true", True), ("0", 0), ("0.0", 0.0)):
                a = data((4,), da)
                if op == "^" and da == "i64" and isinstance(pv, int) and pv < 0:
                    continue
                if op == "^" and da == "i64":
                    a = np.abs(a)
                e = expect(lambda: npop(op, a, pv))
                case("weak/%s %s %s" % (da, op, lit), "return %s %s %s" % (T(a), op, lit), e, tol_for(e, op))
                if op == "^" and da == "i64":
                    a2 = a
                else:
                    a2 = a
                e = expect(lambda: npop(op, pv, a2))
                # parenthesised: Lua's -2 ^ x is -(2 ^ x)
                case("weak/%s %s %s" % (lit, op, da), "return (%s) %s %s" % (lit, op, T(a2)), e, tol_for(e, op))
    # comparisons: every dtype pair, with values that differ only in f64 (i64 vs f32 near 2^24)
    for da in DTS:
        for db in DTS:
            a = data((3, 1), da)
            b = data((1, 4), db)
            for name, f in (("eq", np.equal), ("lt", np.less), ("ge", np.greater_equal)):
                case("cmp2/%s %s %s" % (da, name, db), "return %s:%s(%s)" % (T(a), name, T(b)), f(a, b))
    i = np.array([2**24 + 1, 2**24, -(2**24) - 1, 2**53 + 1], np.int64)
    f = np.array([2.0**24, 2.0**24, -(2.0**24), 2.0**53], np.float32)
    for name, fn in (("eq", np.equal), ("lt", np.less), ("gt", np.greater), ("ne", np.not_equal)):
        case("cmp2/i64_vs_f32_2p24 %s" % name, "return %s:%s(%s)" % (T(i), name, T(f)), fn(i, f))
        case("cmp2/f32_vs_i64_2p24 %s" % name, "return %s:%s(%s)" % (T(f), name, T(i)), fn(f, i))
    case("cmp2/i64_vs_lua_float", "return %s:eq(%s)" % (T(i), lnum(2.0**53, "f64")), i == 2.0**53)
    case("cmp2/f32_vs_lua_float", "return %s:eq(0.1)" % T(np.array([0.1], np.float32)), np.array([0.1], np.float32) == 0.1)
    case("cmp2/bool_vs_int", "return %s:eq(1)" % T(np.array([True, False])), np.array([True, False]) == 1)
    case("cmp2/bool_lt_f", "return %s:lt(0.5)" % T(np.array([True, False])), np.array([True, False]) < 0.5)
    # maximum / minimum: every pair
    for fn, f in (("maximum", np.maximum), ("minimum", np.minimum)):
        for da in DTS:
            for db in DTS:
                a = data((2, 3), da)
                b = data((3,), db)
                case("%s2/%s %s" % (fn, da, db), "return tensor.%s(%s, %s)" % (fn, T(a), T(b)), expect(lambda: f(a, b)))
            for lit, pv in (("1", 1), ("0.5", 0.5), ("true", True)):
                a = data((4,), da)
                case("%s2/%s %s" % (fn, da, lit), "return tensor.%s(%s, %s)" % (fn, T(a), lit), expect(lambda: f(a, pv)))
    # where: every pair of branch dtypes, tensors and Lua numbers
    m = rng().random((2, 3)) < 0.5
    for da in DTS:
        for db in DTS:
            a = data((2, 3), da)
            b = data((1, 3), db)
            case("where2/%s %s" % (da, db), "return tensor.where(%s, %s, %s)" % (T(m), T(a), T(b)), np.where(m, a, b))
        for lit, pv in (("1", 1), ("0.5", 0.5), ("true", True)):
            a = data((2, 3), da)
            case("where2/%s %s" % (da, lit), "return tensor.where(%s, %s, %s)" % (T(m), T(a), lit), np.where(m, a, pv))
            case("where2/%s %s" % (lit, da), "return tensor.where(%s, %s, %s)" % (T(m), lit, T(a)), np.where(m, pv, a))
    for x, y in (("1", "0"), ("1.5", "0"), ("true", "false"), ("1", "true")):
        px, py = eval(x.replace("true", "True").replace("false", "False")), eval(y.replace("true", "True").replace("false", "False"))
        case("where2/lua %s %s" % (x, y), "return tensor.where(%s, %s, %s)" % (T(m), x, y), np.where(m, px, py))
    case("where2/mask_i64", "return tensor.where(%s, 1, 0)" % T(m.astype(np.int64)), Lua("any"))
    # cat / stack: every pair, and a triple
    for da in DTS:
        for db in DTS:
            a = data((2, 3), da)
            b = data((1, 3), db)
            case("cat2/%s %s" % (da, db), "return tensor.cat{%s, %s}" % (T(a), T(b)), np.concatenate([a, b]))
            c = data((2, 3), db)
            case("stack2/%s %s" % (da, db), "return tensor.stack({%s, %s}, {axis = 2})" % (T(a), T(c)),
                 np.stack([a, c], 1))
    a, b, c = data((2,), "bool"), data((1,), "i64"), data((3,), "f32")
    case("cat2/bool i64 f32", "return tensor.cat{%s, %s, %s}" % (T(a), T(b), T(c)), np.concatenate([a, b, c]))
    case("cat2/empty_f32 i64", "return tensor.cat{%s, %s}" % (T(np.zeros((0, 3), np.float32)), T(data((2, 3), "i64"))),
         np.concatenate([np.zeros((0, 3), np.float32), data((2, 3), "i64")]) * 0 + np.concatenate(
             [np.zeros((0, 3), np.float32), np.zeros((2, 3), np.int64)]))
    at.CASES.pop()
    ii = data((2, 3), "i64")
    case("cat2/empty_f32 i64", "return tensor.cat{%s, %s}" % (T(np.zeros((0, 3), np.float32)), T(ii)),
         np.concatenate([np.zeros((0, 3), np.float32), ii]))
    case("cat2/views", "local t = %s; return tensor.cat({t:T(), t:T()[{{-1, 1, -1}}]}, {axis = -1})" % T(ii),
         np.concatenate([ii.T, ii.T[::-1]], -1))


# ---------------------------------------------------------------------------------------
# floor division and modulo


def gen_divmod():
    x = np.arange(-7, 8, dtype=np.int64)
    for d in (-3, -2, -1, 1, 2, 3, 0):
        y = np.full_like(x, d)
        case("divmod/i64 // %d" % d, "return %s // %s" % (T(x), T(y)), expect(lambda: np.floor_divide(x, y)))
        case("divmod/i64 %% %d" % d, "return %s %% %s" % (T(x), T(y)), expect(lambda: np.mod(x, y)))
        case("divmod/i64 // lua %d" % d, "return %s // %d" % (T(x), d), expect(lambda: np.floor_divide(x, d)))
        case("divmod/i64 %% lua %d" % d, "return %s %% %d" % (T(x), d), expect(lambda: np.mod(x, d)))
        case("divmod/lua %d // i64" % d, "return %d // %s" % (d, T(x)), expect(lambda: np.floor_divide(d, x)))
        case("divmod/lua %d %% i64" % d, "return %d %% %s" % (d, T(x)), expect(lambda: np.mod(d, x)))
    big = np.array([2**63 - 1, -(2**63), -(2**63) + 1, 2**62], np.int64)
    for d in (2, -2, 3, -3, 2**62, -(2**63)):
        case("divmod/big // %d" % d, "return %s // %s" % (T(big), lnum(d, "i64")), expect(lambda: np.floor_divide(big, np.int64(d))))
        case("divmod/big %% %d" % d, "return %s %% %s" % (T(big), lnum(d, "i64")), expect(lambda: np.mod(big, np.int64(d))))
    for dt in ("f64", "f32"):
        f = NPDT[dt]
        xs = np.array([5.5, -5.5, 5.5, -5.5, -0.0, 0.0, 4.0, -4.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 7.0, 1e300 if dt == "f64" else 1e30], f)
        ys = np.array([2.0, 2, -2, -2, 3, -3, 2, 2, 2, 3, 2, 0.0, -0.0, np.inf, 1e-300 if dt == "f64" else 1e-30], f)
        case("divmod/%s //" % dt, "return %s // %s" % (T(xs), T(ys)), expect(lambda: np.floor_divide(xs, ys)))
        case("divmod/%s %%" % dt, "return %s %% %s" % (T(xs), T(ys)), expect(lambda: np.mod(xs, ys)))
        case("divmod/%s /" % dt, "return %s / %s" % (T(xs), T(ys)), expect(lambda: np.true_divide(xs, ys)))
        for lit, pv in (("0.1", 0.1), ("-0.3", -0.3), ("3", 3), ("0", 0), ("-0.0", -0.0), ("math.huge", np.inf)):
            case("divmod/%s // %s" % (dt, lit), "return %s // %s" % (T(xs), lit), expect(lambda: np.floor_divide(xs, pv)))
            case("divmod/%s %% %s" % (dt, lit), "return %s %% %s" % (T(xs), lit), expect(lambda: np.mod(xs, pv)))
            case("divmod/%s %% %s rev" % (dt, lit), "return %s %% %s" % (lit, T(xs)), expect(lambda: np.mod(pv, xs)))
        a = (rng().standard_normal(40) * 10).astype(f)
        b = (rng().standard_normal(40) * 3).astype(f)
        case("divmod/%s random //" % dt, "return %s // %s" % (T(a), T(b)), expect(lambda: np.floor_divide(a, b)))
        case("divmod/%s random %%" % dt, "return %s %% %s" % (T(a), T(b)), expect(lambda: np.mod(a, b)))
    # bool arithmetic (numpy: + is or, * is and, - refused, / gives f64, // % ^ integers)
    p = np.array([True, True, False, False])
    q = np.array([True, False, True, False])
    for op in ("+", "-", "*", "/", "//", "%", "^"):
        case("boolop/%s" % op, "return %s %s %s" % (T(p), op, T(q)), expect(lambda: npop(op, p, q)))
    case("boolop/neg", "return -%s" % T(p), expect(lambda: -p))
    case("boolop/sum", "return %s:sum()" % T(p), Lua("int", int(p.sum())))
    case("boolop/cumsum_2d", "return %s:cumsum{-1}" % T(np.stack([p, q])), np.cumsum(np.stack([p, q]), -1))
    case("boolop/prod_axis", "return %s:prod{axis = -1}" % T(np.stack([p, q])), np.prod(np.stack([p, q]), -1))
    case("boolop/abs", "return %s:abs()" % T(p), Lua("any"))
    case("boolop/mean", "return %s:mean{axis = 1}" % T(np.stack([p, q])), np.mean(np.stack([p, q]), 0))
    case("boolop/std", "return %s:std()" % T(p), Lua("float", float(np.std(p, ddof=1))), 4)


# ---------------------------------------------------------------------------------------
# reductions, scans and orderings on views


def np_reduce(name, a, axis, keepdim):
    if name in ("any", "all"):
        return getattr(np, name)(a, axis=axis, keepdims=keepdim)
    if name in ("cumsum", "cumprod"):
        return getattr(np, name)(a, axis=axis)
    return at.np_red(name, a, axis, keepdim)


def gen_views_reduce():
    names = ["sum", "mean", "std", "var", "min", "max", "prod", "nansum", "nanmean", "argmax", "argmin",
             "any", "all", "cumsum", "cumprod", "logsumexp"]
    shapes = ((3, 4), (2, 3, 4), (4, 1, 3), (2, 2, 3, 2))
    for dt in DTS:
        for shape in shapes:
            for kind in VIEWS:
                x = data(shape, dt, special=dt != "i64" and dt != "bool")
                lua, x = view(x, kind)
                for name in names:
                    if dt == "bool" and name in ("std", "var", "nanmean", "nansum", "logsumexp"):
                        continue
                    if dt in ("i64", "bool") and name == "logsumexp":
                        continue
                    if rng().random() < 0.55:
                        continue
                    ax = -int(rng().integers(1, len(shape) + 1))
                    kd = bool(rng().random() < 0.5)
                    na = ax
                    e = expect(lambda: np_reduce(name, x, na, kd))
                    if name in ("any", "all") and dt != "bool":
                        pass
                    tol = at.RED_TOL.get(name, 0) if (dt in ("f64", "f32") or name in ("mean", "std", "var", "nanmean")) else 0
                    if name == "logsumexp":
                        e = at.lse_ref(x, na, kd)  # numpy in f64, rounded (see lse_ref)
                        tol = 4
                    if name in ("cumsum", "cumprod"):
                        body = "return (%s):%s{%d}" % (lua, name, ax)
                    elif name == "logsumexp":
                        body = "return (%s):logsumexp{axis = %d, keepdim = %s}" % (lua, ax, "true" if kd else "false")
                    else:
                        body = "return (%s):%s{axis = %d, keepdim = %s}" % (lua, name, ax, "true" if kd else "false")
                    if isinstance(e, np.ndarray) and e.ndim == 0:
                        e = at.to_expect(e)
                    case("vred/%s %s%s %s ax%d kd%d" % (name, dt, shape, kind, ax, int(kd)), body, e, tol)
                # whole-tensor reductions on the view
                for name in ("sum", "max", "argmin", "mean"):
                    if dt == "bool" and name == "mean":
                        continue
                    e = expect(lambda: np_reduce(name, x, None, False))
                    e = at.to_expect(e) if isinstance(e, (np.ndarray, np.generic)) else e
                    tol = 4 if name in ("sum", "mean") and (dt in ("f64", "f32") or name == "mean") else 0
                    case("vred/%s %s%s %s all" % (name, dt, shape, kind), "return (%s):%s()" % (lua, name), e, tol)
    # integers: mean/var/std exact in f64 (numpy converts to f64 first)
    for vals in ([2**53 + 1, 2**53 + 3, 1], [-(2**62), 2**62, 5, 7], [3, 3, 3, 4]):
        a = np.array(vals, np.int64)
        for name in ("mean", "var", "std"):
            e = at.np_red(name, a, None, False)
            case("ired/%s %s" % (name, vals[:2]), "return %s:%s()" % (T(a), name), Lua("float", float(e)), 4)
    a = data((3, 5), "i64")
    for name in ("mean", "var", "std"):
        for ax in (-1, -2):
            for kd in (False, True):
                case("ired/%s ax%d kd%d" % (name, ax, kd), "return %s:%s{axis = %d, keepdim = %s}" % (
                    T(a), name, ax, "true" if kd else "false"), at.np_red(name, a, ax, kd), 4)
    # argmax / argmin with NaN and -0.0 and ties along each axis, on views
    z = np.array([[0.0, -0.0, np.nan, 1], [-0.0, 0.0, -1, -1], [np.nan, np.nan, 2, 2], [1, -np.inf, np.inf, np.nan]])
    for kind in ("plain", "T", "rev", "step"):
        lua, x = view(z, kind)
        for name in ("argmax", "argmin", "max", "min"):
            for ax in (-1, -2):
                case("vties/%s %s ax%d" % (name, kind, ax), "return (%s):%s{axis = %d}" % (lua, name, ax),
                     at.np_red(name, x, ax, False))


def gen_views_order():
    for dt in DTS:
        for shape in ((5, 4), (2, 3, 4)):
            for kind in ("T", "perm", "rev", "step", "expand", "deep"):
                x = data(shape, dt)
                lua, x = view(x, kind)
                for ax in (-1, -2, 1):
                    na = ax - 1 if ax > 0 else ax
                    desc = bool(rng().random() < 0.5)
                    v, i = at.torch_sort(x, na, desc)
                    case("vsort/%s%s %s ax%d desc%d" % (dt, shape, kind, ax, desc),
                         "return (%s):sort{axis = %d, descending = %s}" % (lua, ax, "true" if desc else "false"),
                         Multi((v, i)))
                    k = int(rng().integers(0, x.shape[na] + 1))
                    largest = bool(rng().random() < 0.5)
                    v, i = at.torch_topk(x, k, na, largest)
                    case("vtopk/%s%s %s ax%d k%d l%d" % (dt, shape, kind, ax, k, largest),
                         "return (%s):topk(%d, {axis = %d, largest = %s})" % (lua, k, ax, "true" if largest else "false"),
                         Multi((v, i)))
    # -0.0 vs 0.0 ties and NaN of both signs in short rows
    for dt in ("f64", "f32"):
        f = NPDT[dt]
        r = np.array([0.0, -0.0, np.nan, -np.nan, -0.0, 1, -1, 0.0, np.inf, -np.inf], f)
        for desc in (False, True):
            v, i = at.torch_sort(r, 0, desc)
            case("zsort/%s desc%d" % (dt, desc), "return %s:sort{descending = %s}" % (T(r), "true" if desc else "false"),
                 Multi((v, i)))
        for k in (1, 3, 5, 10):
            for largest in (True, False):
                v, i = at.torch_topk(r, k, 0, largest)
                case("ztopk/%s k%d l%d" % (dt, k, largest), "return %s:topk(%d, {largest = %s})" % (T(r), k, "true" if largest else "false"),
                     Multi((v, i)))


# ---------------------------------------------------------------------------------------
# matmul


def gen_matmul():
    shapes = [((3,), (3,)), ((3,), (2, 3, 4)), ((2, 3, 4), (4,)), ((2, 1, 3, 4), (1, 5, 4, 2)), ((5, 4, 2), (2, 3)),
              ((4,), (4, 1)), ((1, 4), (4,)), ((2, 0, 3), (3, 2)), ((2, 3, 0), (0, 4)), ((0,), (0,)), ((3, 1, 2, 2), (2, 2, 2)),
              ((1, 3), (3, 1))]
    for sa, sb in shapes:
        for da in DTS:
            for db in DTS:
                if rng().random() < 0.6 and not (da == db):
                    continue
                a = data(sa, da, special=False)
                b = data(sb, db, special=False)
                e = np.matmul(a, b)
                bound = at.mm_bound(a, b) if e.dtype.kind == "f" else 0
                if e.ndim == 0:
                    e = at.to_expect(e)
                    bound = float(bound) if e.kind in ("float", "float32") else 0
                case("mm/%s%s@%s%s" % (da, sa, db, sb), "return tensor.matmul(%s, %s)" % (T(a), T(b)), e, bound)
    # views as operands
    a = data((4, 3), "f64", special=False)
    b = data((4, 5), "f64", special=False)
    case("mm/T_view", "return tensor.matmul(%s:T(), %s)" % (T(a), T(b)), a.T @ b, at.mm_bound(a.T, b))
    la, xa = view(data((2, 3, 4), "f32", special=False), "step")
    lb, xb = view(data((4, 2), "f32", special=False), "rev")
    case("mm/step_rev", "return tensor.matmul(%s, %s)" % (la, lb), xa @ xb, at.mm_bound(xa, xb))
    la, xa = view(data((3, 2, 4), "i64"), "expand")
    lb, xb = view(data((4, 2), "i64"), "T")
    case("mm/i64_expand_T", "return tensor.matmul(%s, %s)" % (la, lb), xa @ xb)
    case("mm/mismatch_batch", "return tensor.matmul(%s, %s)" % (T(data((2, 3, 4), "f64")), T(data((3, 4, 2), "f64"))),
         Err())
    case("mm/1d_mismatch", "return tensor.matmul(%s, %s)" % (T(data((3,), "f64")), T(data((4,), "f64"))), Err())
    big = np.array([[2**40, 2**40]], np.int64)
    case("mm/i64_wrap", "return tensor.matmul(%s, %s)" % (T(big), T(big.T.copy())), np.matmul(big, big.T))
    nanm = np.array([[np.nan, 1.0], [0.0, 2.0]])
    case("mm/nan_inf", "return tensor.matmul(%s, %s)" % (T(nanm), T(np.array([[np.inf, 0.0], [1.0, 0.0]]))),
         np.matmul(nanm, np.array([[np.inf, 0.0], [1.0, 0.0]])))


# ---------------------------------------------------------------------------------------
# files


def gen_files(tmp):
    shapes = ((), (0,), (2, 0, 3), (3,), (2, 3))
    for dt in DTS:
        for shape in shapes:
            a = data(shape, dt)
            tag = "%s_%s" % (dt, "x".join(map(str, shape)) or "0d")
            # moonlab writes .npy, numpy reads
            out = os.path.join(tmp, "p_%s.npy" % tag)
            at.FILE_CHECKS.append(("pfiles/save_npy %s" % tag, out, a))
            case("pfiles/save_npy_run %s" % tag, "tensor.save(%r, %s); return true" % (out, T(a)), Lua("bool", True))
            # numpy writes .npy, moonlab reads (a 0-d file gives a 0-d tensor)
            p = os.path.join(tmp, "n_%s.npy" % tag)
            np.save(p, a)
            case("pfiles/load_npy %s" % tag, "return tensor.load(%r)" % p, a)
            # npz by numpy (compressed), read by moonlab
            p = os.path.join(tmp, "n_%s.npz" % tag)
            np.savez_compressed(p, x=a)
            case("pfiles/load_npz %s" % tag, "return tensor.load(%r).x" % p, a)
            # moonlab's npz and safetensors, read back by numpy and by moonlab
            for ext in ("npz", "safetensors"):
                out = os.path.join(tmp, "p_%s.%s" % (tag, ext))
                at.FILE_CHECKS.append(("pfiles/save_%s %s" % (ext, tag), out, {"x": a}))
                case("pfiles/roundtrip_%s %s" % (ext, tag),
                     "tensor.save(%r, {x = %s}); return tensor.load(%r).x" % (out, T(a), out), a)
    # a view of each dtype (non-contiguous) saved
    for dt in DTS:
        x = data((3, 4), dt)
        lua, _ = view(x, "T")
        lua, x = view(x, "step")
        out = os.path.join(tmp, "pv_%s.npy" % dt)
        at.FILE_CHECKS.append(("pfiles/save_view %s" % dt, out, x))
        case("pfiles/save_view_run %s" % dt, "tensor.save(%r, %s); return true" % (out, lua), Lua("bool", True))
        lua, x = view(data((2, 3), dt), "expand")
        out = os.path.join(tmp, "pv_%s.safetensors" % dt)
        at.FILE_CHECKS.append(("pfiles/save_view_st %s" % dt, out, {"e": x}))
        case("pfiles/save_view_st_run %s" % dt, "tensor.save(%r, {e = %s}); return true" % (out, lua), Lua("bool", True))
    # numpy's scalar types of other widths, 0-d
    for npdt, want in ((np.int32, np.int64), (np.uint8, np.int64), (np.float16, np.float32), (np.bool_, np.bool_)):
        p = os.path.join(tmp, "n0_%s.npy" % np.dtype(npdt).name)
        np.save(p, np.array(1, npdt))
        case("pfiles/load_0d %s" % np.dtype(npdt).name, "return tensor.load(%r)" % p, np.array(1, npdt).astype(want))


# ---------------------------------------------------------------------------------------
# indexing on views


def gen_index():
    a = data((4, 5), "f64")
    # negative steps (the contract's {i, j, step})
    for key, npk in (("{{-1, 1, -2}}", (slice(None, None, -2),)), ("{{}, {-1, 1, -1}}", (slice(None), slice(None, None, -1))),
                     ("{{4, 2, -1}, {5, 1, -3}}", (slice(3, 0, -1), slice(4, None, -3))),
                     ("{{-2, -4, -1}, -1}", (slice(-2, -5, -1), -1)), ("{{2, 2, -1}}", (slice(1, 2),))):
        case("vidx/neg_step %s" % key, "local t = %s; return t[%s]" % (T(a), key), a[npk])
        e = a.copy()
        e[npk] = -9
        case("vidx/neg_step_write %s" % key, "local t = %s; t[%s] = -9; return t" % (T(a), key), e)
    # keys on views
    lua, x = view(data((4, 6), "i64"), "T")
    case("vidx/T_key", "local t = %s; return t[{{2, -1, 2}, {-1, 1, -1}}]" % lua, x[1::2, ::-1])
    case("vidx/T_pos", "local t = %s; return t[{-1, 2}]" % lua, Lua("int", int(x[-1, 1])))
    lua, x = view(data((3, 4), "f32"), "step")
    case("vidx/step_row", "local t = %s; return t[2]" % lua, x[1])
    case("vidx/step_elem", "local t = %s; return t[3][-1]" % lua, at.to_expect(x[2, -1]))
    # masks on views: read and write
    for kind in ("T", "rev", "step", "deep", "perm"):
        shape = (2, 3, 4) if kind == "perm" else (3, 4)
        x = data(shape, "f64")
        lua, x = view(x, kind)
        m = rng().random(x.shape) < 0.5
        case("vmask/read %s" % kind, "local t = %s; return t[%s]" % (lua, T(m)), x[m])
        case("vmask/read_self %s" % kind, "local t = %s; return t[t:gt(0)]" % lua, x[x > 0])
        case("vmask/read_viewmask %s" % kind, "local t = %s; return t[(%s):transpose(1, 2):transpose(2, 1)]" % (lua, T(m)), x[m])
        e = x.copy()
        e[m] = 7
        case("vmask/write %s" % kind, "local t = %s; t[%s] = 7; return t" % (lua, T(m)), e)
        e = x.copy()
        e[m] = np.arange(1.0, m.sum() + 1)
        case("vmask/write_tensor %s" % kind, "local t = %s; t[%s] = %s; return t" % (lua, T(m), T(np.arange(1.0, m.sum() + 1))), e)
        # the base sees writes through the view
        if kind in ("T", "rev"):
            base = data((3, 4), "f64")
            if kind == "T":
                e = base.copy()
                v = e.T
                mm = rng().random(v.shape) < 0.5
                v[mm] = 0
                case("vmask/write_through T", "local b = %s; local t = b:T(); t[%s] = 0; return b" % (T(base), T(mm)), e)
            else:
                e = base.copy()
                v = e[::-1]
                mm = rng().random(v.shape) < 0.5
                v[mm] = 0
                case("vmask/write_through rev", "local b = %s; local t = b[{{-1, 1, -1}}]; t[%s] = 0; return b" % (T(base), T(mm)), e)
    # a mask that is itself a stepped view
    x = data((3, 4), "f64")
    mb = rng().random((3, 8)) < 0.5
    case("vmask/stepped_mask", "local t = %s; local m = %s; return t[m[{{}, {1, -1, 2}}]]" % (T(x), T(mb)), x[mb[:, ::2]])
    # index / gather with i64 tensors on views (and views of positions)
    g = data((4, 5), "f64")
    lua, gv = view(data((5, 4), "f64"), "T")
    pos = np.array([5, 1, 5, 2], np.int64)
    case("vgather/index_T", "local t = %s; return t:index(1, %s)" % (lua, T(pos)), np.take(gv, pos - 1, axis=0))
    case("vgather/index_T_ax-1", "local t = %s; return t:index(-1, %s)" % (lua, T(np.array([4, 1], np.int64))),
         np.take(gv, [3, 0], axis=-1))
    pv = np.array([[3, 1, 2, 4, 1, 2, 3, 4]], np.int64)
    case("vgather/index_stepped_positions", "local t = %s; return t:index(1, %s[1][{{1, -1, 2}}])" % (T(g), T(pv)),
         np.take(g, pv[0, ::2] - 1, axis=0))
    gi = rng().integers(0, 4, (5, 3)).astype(np.int64)
    case("vgather/gather_T", "local t = %s; return t:gather(2, %s)" % (lua, T(gi + 1)), np.take_along_axis(gv, gi, 1))
    gi2 = rng().integers(0, 5, (2, 4)).astype(np.int64)
    case("vgather/gather_ax1", "local t = %s; return t:gather(1, %s)" % (lua, T(gi2 + 1)), np.take_along_axis(gv, gi2, 0))
    gt = rng().integers(0, 5, (4, 3)).astype(np.int64)
    case("vgather/gather_T_positions", "local t = %s; return t:gather(-1, %s:T())" % (T(g), T(np.ascontiguousarray(gt.T) + 1)),
         np.take_along_axis(g, gt, -1))
    for dt in ("i64", "bool", "f32"):
        src = data((3, 4), dt)
        gi = rng().integers(0, 4, (3, 2)).astype(np.int64)
        case("vgather/gather %s" % dt, "return %s:gather(2, %s)" % (T(src), T(gi + 1)), np.take_along_axis(src, gi, 1))
        case("vgather/index %s" % dt, "return %s:index(2, %s)" % (T(src), T(gi[0] + 1)), np.take(src, gi[0], axis=1))
    # squeeze / unsqueeze / permute / reshape edges
    s = data((1, 3, 1), "f64")
    for call, e in (("squeeze(-1)", np.squeeze(s, -1)), ("squeeze(-3)", np.squeeze(s, -3)), ("squeeze()", np.squeeze(s)),
                    ("unsqueeze(-1)", np.expand_dims(s, -1)), ("unsqueeze(-2)", np.expand_dims(s, -2)),
                    ("unsqueeze(4)", np.expand_dims(s, 3)), ("permute{-1, 1, 2}", Lua("any")),
                    ("permute{3, 2, 1}", np.transpose(s, (2, 1, 0))), ("permute{1, 2}", Err()),
                    ("reshape{3}", s.reshape(3)), ("reshape{-1, 1}", s.reshape(-1, 1)), ("flatten()", s.flatten())):
        case("vshape/%s" % call, "return %s:%s" % (T(s), call), e)
    z = np.array(2.0)
    for call, e in (("unsqueeze(-1)", np.expand_dims(z, -1)), ("unsqueeze(1)", np.expand_dims(z, 0)), ("squeeze()", z),
                    ("reshape{1, 1}", z.reshape(1, 1)), ("reshape{-1}", z.reshape(-1)), ("permute{}", z),
                    ("expand{3}", np.broadcast_to(z, (3,))), ("unsqueeze(2)", Err()), ("squeeze(1)", Lua("any"))):
        case("vshape/0d %s" % call, "return %s:%s" % (T(z), call), e)
    em = np.zeros((0, 3))
    for call, e in (("reshape{-1}", em.reshape(-1)), ("reshape{3, 0}", em.reshape(3, 0)), ("reshape{0, -1}", Lua("any")),
                    ("T()", em.T), ("unsqueeze(-1)", np.expand_dims(em, -1)), ("flatten()", em.flatten()),
                    ("sum{axis = -1}", em.sum(-1)), ("sum{axis = 1, keepdim = true}", em.sum(0, keepdims=True)),
                    ("cumsum{1}", np.cumsum(em, 0)), ("prod{axis = -1}", em.prod(-1)),
                    ("expand{2, 0, 3}", np.broadcast_to(em, (2, 0, 3))), ("sort{axis = 1}", Multi((em, em.astype(np.int64)))),
                    ("argmax{axis = -1}", np.zeros(0, np.int64)), ("topk(0, {axis = 1})", Multi((em, em.astype(np.int64))))):
        case("vshape/empty %s" % call, "return %s:%s" % (T(em), call), e)
    # expanded operands written: numpy refuses writes to a broadcast view; moonlab may refuse or copy
    case("vshape/expand_write", "local t = tensor{1, 2}; local e = t:expand{3, 2}; e[1][1] = 9; return t", Lua("any"))


def gen_casts():
    """t:to(dtype) as numpy's astype (unsafe casting), and Lua values written into each dtype."""
    src = {
        "f64": np.array([0.5, -0.5, 1.5, -1.7, 2.0**24 + 1, 2.0**53 + 1, -0.0, np.nan, np.inf, -np.inf, 1e300, 3.4e38, 1e-45,
                         2.0**62, -(2.0**63), 0.1]),
        "f32": np.array([0.5, -0.5, 1.5, -1.7, 2.0**24, -0.0, np.nan, np.inf, -np.inf, 3.4e38, 1e-45, 0.1, 2.0**62], np.float32),
        "i64": np.array([0, 1, -1, 2**24 + 1, 2**53 + 1, 2**63 - 1, -(2**63), 2**31, 123456789012345678], np.int64),
        "bool": np.array([True, False, True]),
    }
    for sd, a in src.items():
        for dd in DTS:
            with np.errstate(all="ignore"):
                e = a.astype(NPDT[dd])
            if sd in ("f64", "f32") and dd == "i64":
                # numpy's cast of NaN, inf and out-of-range floats to int64 is undefined (x86 gives INT64_MIN)
                fin = np.isfinite(a) & (np.abs(a.astype(np.float64)) < 2.0**63)
                case("cast/%s->%s finite" % (sd, dd), "return %s[%s]:to('i64')" % (T(a), T(fin)), e[fin])
                case("cast/%s->%s nonfinite" % (sd, dd), "return %s:to('i64')" % T(a), Lua("any"))
                continue
            case("cast/%s->%s" % (sd, dd), "return %s:to(%r)" % (T(a), dd), e)
        for dd in DTS:
            lua, x = view(np.resize(a, 8).reshape(2, 4), "T")
            with np.errstate(all="ignore"):
                e = x.astype(NPDT[dd])
            if sd in ("f64", "f32") and dd == "i64":
                continue
            case("cast/view %s->%s" % (sd, dd), "return (%s):to(%r)" % (lua, dd), e)
    # writes of Lua values and tensors of another dtype into each dtype (numpy's setitem casts)
    for dd in DTS:
        base = data((2, 3), dd, special=False)
        for lit, pv in (("2.5", 2.5), ("-2.5", -2.5), ("true", True), ("0", 0), ("7", 7), ("0.1", 0.1)):
            e = base.copy()
            try:
                e[0] = pv
            except Exception:  # noqa: BLE001
                e = Err()
            case("setcast/%s [1] = %s" % (dd, lit), "local t = %s; t[1] = %s; return t" % (T(base), lit), e if dd != "i64" or float(pv) == int(pv) else Lua("any"))
        for sd in DTS:
            v = data((3,), sd, special=False)
            e = base.copy()
            with np.errstate(all="ignore"):
                e[1] = v
            case("setcast/%s [2] = %s tensor" % (dd, sd), "local t = %s; t[2] = %s; return t" % (T(base), T(v)), e)
            e = base.copy()
            with np.errstate(all="ignore"):
                e[:, 1:] = v[:2]
            case("setcast/%s range = %s bcast" % (dd, sd), "local t = %s; t[{{}, {2, 3}}] = %s; return t" % (T(base), T(v[:2])), e)
            m = rng().random((2, 3)) < 0.5
            e = base.copy()
            with np.errstate(all="ignore"):
                e[m] = v[0]
            case("setcast/%s mask = %s 0d" % (dd, sd), "local t = %s; t[%s] = %s; return t" % (T(base), T(m), T(v[0])), e)
    # making
    for call, e in (("tensor{1, 2.5, 3}", np.array([1, 2.5, 3])), ("tensor{{1}, {2}}:dtype()", Lua("str", "f64")),
                    ("tensor.from({1, 2}, {dtype = 'bool'})", np.array([1, 2]).astype(bool)),
                    ("tensor.from({0.5, -0.5, 2.7}, {dtype = 'i64'})", Lua("any")),
                    ("tensor.from({true, false}, {dtype = 'f32'})", np.array([True, False]).astype(np.float32)),
                    ("tensor.from({true, false})", np.array([True, False])),
                    ("tensor{math.maxinteger}", np.array([float(2**63 - 1)])),
                    ("tensor.from({2^53 + 1}, {dtype = 'i64'})", np.array([2**53], np.int64)),
                    ("tensor.arange(5)", np.arange(5.0)), ("tensor.arange(5, {dtype = 'i64'})", np.arange(5)),
                    ("tensor.arange(0, 5, 1, {dtype = 'bool'})", Lua("any")),
                    ("tensor.zeros({2}, {dtype = 'f32'}) + tensor.ones({2}, {dtype = 'i64'})", np.zeros(2, np.float32) + np.ones(2, np.int64)),
                    ("tensor.eye(3, {dtype = 'bool'})", np.eye(3, dtype=bool)), ("tensor.eye(0)", np.eye(0)),
                    ("tensor.full({2, 2}, 3.7, {dtype = 'i64'})", Lua("any")),
                    ("tensor.full({2}, 0/0, {dtype = 'f32'})", np.full(2, np.nan, np.float32)),
                    ("tensor.linspace(0, 10, 5, {dtype = 'i64'})", np.linspace(0, 10, 5, dtype=np.int64)),
                    ("tensor.linspace(1, 0, 4)", np.linspace(1, 0, 4)), ("tensor.linspace(0, 1, 2, {dtype = 'f32'})", np.linspace(0, 1, 2, dtype=np.float32))):
        case("make2/%s" % call, "return %s" % call, e)
    # equality and identity
    for a, b, want in (("tensor{0.0}", "tensor{-0.0}", True), ("tensor{1, 2}", "tensor{{1, 2}}", False),
                       ("tensor.zeros{0}", "tensor.zeros{0}", True), ("tensor.zeros{0, 2}", "tensor.zeros{0}", False),
                       ("tensor{1, 2}:T()", "tensor{1, 2}", Lua("any")), ("tensor{{1, 2}, {3, 4}}:T()", "tensor{{1, 3}, {2, 4}}", True)):
        case("equal2/%s %s" % (a, b), "return (%s):equal(%s)" % (a, b), want if isinstance(want, Lua) else Lua("bool", want))


def np_softmax(x):
    m = np.max(x, axis=-1, keepdims=True)
    e = np.exp(x - m)
    return e / e.sum(-1, keepdims=True)


def np_lse(x):
    m = np.max(x, axis=-1, keepdims=True)
    return (np.log(np.exp(x - m).sum(-1, keepdims=True)) + m)[..., 0]


def gen_dist_views():
    """dist over views and integer inputs: the values over an f64 copy (scipy's formulas), within
    f64 rounding (f32 rows: f32 rounding; softmax and log_softmax keep f32, per-row values are f64)."""
    for dt in ("f64", "f32", "i64"):
        for shape in ((6,), (3, 7), (2, 3, 5)):
            for kind in ("T", "rev", "step", "expand", "deep", "perm"):
                x = data(shape, dt, special=False)
                lua, x = view(x, kind)
                xf = x.astype(np.float64)
                eps = 6e-8 if dt == "f32" else 2.3e-16
                scale = float(np.abs(xf).max()) + 1
                lse = np_lse(xf)
                sm = np_softmax(xf)
                lsm = xf - lse[..., None]
                ent = -(sm * lsm).sum(-1)

                def ex(v, keep32=False, k=8.0):
                    v = np.asarray(v)
                    out = v.astype(np.float32) if (keep32 and dt == "f32") else v
                    bound = k * eps * (np.abs(v) + scale)
                    if out.ndim == 0:
                        return at.to_expect(out), float(bound)
                    return out, bound
                for name, val, keep in (("softmax", sm, True), ("log_softmax", lsm, True), ("logsumexp", lse, False),
                                        ("entropy", ent, False)):
                    e, bd = ex(val, keep)
                    case("dview/%s %s%s %s" % (name, dt, shape, kind), "return dist.%s(%s)" % (name, lua), e, bd)
                am = np.argmax(xf, -1)
                case("dview/argmax %s%s %s" % (dt, shape, kind), "return dist.argmax(%s)" % lua,
                     at.to_expect(am) if np.ndim(am) == 0 else am.astype(np.int64))
                k = min(3, shape[-1])
                v, i = at.torch_topk(x, k, -1, True)
                case("dview/topk %s%s %s" % (dt, shape, kind), "return dist.topk(%s, %d)" % (lua, k), Multi((i - 1, v)))
                y = data(shape, dt, special=False)
                luay, y = view(y, "T" if kind != "T" else "rev")
                yf = y.astype(np.float64)
                lq = yf - np_lse(yf)[..., None]
                kl = (sm * (lsm - lq)).sum(-1)
                e, bd = ex(kl, k=16.0)
                case("dview/kl %s%s %s" % (dt, shape, kind), "return dist.kl(%s, %s)" % (lua, luay), e, bd)
                tv = 0.5 * np.abs(sm - np.exp(lq)).sum(-1)
                e, bd = ex(tv)
                case("dview/tv %s%s %s" % (dt, shape, kind), "return dist.tv(%s, %s)" % (lua, luay), e, bd)
                tg = rng().integers(0, shape[-1], shape[:-1])
                ce = -np.take_along_axis(lsm, np.asarray(tg)[..., None], -1)[..., 0]
                tgl = T(np.asarray(tg).astype(np.int64)) if len(shape) > 1 else str(int(tg))
                e, bd = ex(ce)
                case("dview/cross_entropy %s%s %s" % (dt, shape, kind), "return dist.cross_entropy(%s, %s)" % (lua, tgl), e, bd)


LARGE_DIR = [None]
LARGE_N = [0]


def Tfile(a):
    """A base tensor handed over as a .npy file (large arrays)."""
    LARGE_N[0] += 1
    p = os.path.join(LARGE_DIR[0], "large_%d.npy" % LARGE_N[0])
    np.save(p, np.ascontiguousarray(a))
    return "tensor.load(%r)" % p


def bound_for(e, x, name):
    """Sums over 10^5 elements in another order than numpy's: a relative bound, not ulps."""
    e = np.asarray(e)
    if e.dtype.kind != "f":
        return 0
    rt = 2e-4 if e.dtype == np.float32 else 1e-10
    scale = float(np.nanmean(np.abs(np.where(np.isfinite(x), x, 0)).astype(np.float64))) if x.size else 0.0
    return rt * np.abs(np.where(np.isfinite(e), e, 0)).astype(np.float64) + rt * (scale + 1) * 50


def gen_large(tmp):
    """Views past the parallel threshold (2^17 elements) and the BLAS sizes."""
    LARGE_DIR[0] = tmp
    rd = ["sum", "mean", "std", "var", "min", "max", "prod", "nansum", "argmax", "argmin", "any", "cumsum", "logsumexp"]
    for dt in DTS:
        for shape in ((400, 350), (3, 200, 230)):
            for kind in ("T", "rev", "step", "expand", "deep", "perm"):
                if kind == "perm" and len(shape) < 3:
                    continue
                if rng().random() < 0.4:
                    continue
                x = data(shape, dt, special=False)
                if dt in ("f64", "f32"):
                    x = (rng().standard_normal(shape) * 2).astype(NPDT[dt])
                    x[rng().random(shape) < 0.01] = 0.5  # ties
                lua, x = view(x, kind, Tfile)
                for name in rd:
                    if dt == "bool" and name in ("std", "var", "nansum", "logsumexp", "mean"):
                        continue
                    if dt == "i64" and name == "logsumexp":
                        continue
                    if name == "prod" and dt in ("f64", "f32"):
                        continue
                    if rng().random() < 0.5:
                        continue
                    ax = -int(rng().integers(1, len(shape) + 1))
                    kd = bool(rng().random() < 0.5)
                    e = expect(lambda: np_reduce(name, x, ax, kd))
                    if name == "logsumexp":
                        e = np_reduce(name, x.astype(np.float64), ax, kd).astype(x.dtype)
                    body = ("return (%s):%s{%d}" % (lua, name, ax)) if name == "cumsum" else (
                        "return (%s):%s{axis = %d, keepdim = %s}" % (lua, name, ax, "true" if kd else "false"))
                    tol = bound_for(e, x, name) if name not in ("min", "max", "argmax", "argmin", "any") else 0
                    if name == "cumsum" and dt in ("f32",):
                        tol = bound_for(e, x, name) * 0 + 2e-4 * (np.abs(np.cumsum(np.abs(x).astype(np.float64), axis=ax)) + 1)
                    case("large/%s %s%s %s ax%d kd%d" % (name, dt, shape, kind, ax, kd), body, e, tol)
                # whole-tensor
                for name in ("sum", "max", "argmax", "mean"):
                    if dt == "bool" and name == "mean":
                        continue
                    e = expect(lambda: np_reduce(name, x, None, False))
                    tol = float(bound_for(e, x, name)) if name in ("sum", "mean") and isinstance(e, (np.ndarray, np.generic)) and np.asarray(e).dtype.kind == "f" else 0
                    e = at.to_expect(e) if isinstance(e, (np.ndarray, np.generic)) else e
                    if isinstance(e, Lua) and e.kind in ("float", "float32") and tol == 0 and name in ("sum", "mean"):
                        tol = 1e-6 * abs(e.value) + 1e-3
                    case("large/%s %s%s %s all" % (name, dt, shape, kind), "return (%s):%s()" % (lua, name), e, tol)
                # elementwise against another view of another layout
                y = data(shape, dt, special=False)
                luay, y = view(y, "T" if kind != "T" else "rev", Tfile)
                for op in ("+", "*", "-", "//", "%"):
                    if dt == "bool" and op in ("-",):
                        continue
                    yy = y
                    if op in ("//", "%") and dt == "i64":
                        yy = y  # numpy: 0 for x // 0 and x % 0
                    e = expect(lambda: npop(op, x, yy))
                    case("large/%s %s%s %s" % (op, dt, shape, kind), "return (%s) %s (%s)" % (lua, op, luay), e)
                case("large/gt %s%s %s" % (dt, shape, kind), "return (%s):gt(%s)" % (lua, luay), np.greater(x, y))
                case("large/maximum %s%s %s" % (dt, shape, kind), "return tensor.maximum(%s, %s)" % (lua, luay), np.maximum(x, y))
                case("large/where %s%s %s" % (dt, shape, kind), "local x = %s; return tensor.where(x:gt(%s), x, 7)" % (lua, luay),
                     np.where(x > y, x, 7) if dt != "bool" else np.where(x > y, x, 7))
                if dt in ("f64", "f32"):
                    # tanh: numpy's SIMD tanh is within 1 ulp of the exact value, glibc's (moonlab's)
                    # within 2 (mpmath at 120 bits on 20,000 draws): up to 3-4 ulps apart
                    for fn, f, t2 in (("abs", np.abs, 0), ("floor", np.floor, 0), ("exp", np.exp, 2), ("tanh", np.tanh, 4),
                                      ("sqrt", lambda v: np.sqrt(np.abs(v)), 0)):
                        arg = "(%s):abs()" % lua if fn == "sqrt" else "(%s)" % lua
                        case("large/%s %s%s %s" % (fn, dt, shape, kind), "return %s:%s()" % (arg, fn), f(x), t2)
                    case("large/clamp %s%s %s" % (dt, shape, kind), "return (%s):clamp(-1, 0.5)" % lua, np.clip(x, -1, 0.5))
                # one sort along a random axis (rows of a view)
                ax = -int(rng().integers(1, len(shape) + 1))
                desc = bool(rng().random() < 0.5)
                (v, i), _ = torch_sort_axis(x, ax, desc)
                case("large/sort %s%s %s ax%d" % (dt, shape, kind, ax),
                     "return (%s):sort{axis = %d, descending = %s}" % (lua, ax, "true" if desc else "false"), Multi((v, i)))
    # matmul on views at BLAS sizes
    for dt in ("f64", "f32", "i64"):
        for ka, kb in (("T", "rev"), ("step", "T"), ("rev", "step"), ("deep", "plain"), ("plain", "deep")):
            a = data((120, 90), dt, special=False)
            b = data((90, 70), dt, special=False)
            la, a = view(a, ka, Tfile)
            lb, b = view(b, kb, Tfile)
            e = np.matmul(a, b)
            case("large/mm %s %s@%s" % (dt, ka, kb), "return tensor.matmul(%s, %s)" % (la, lb), e,
                 at.mm_bound(a, b) if e.dtype.kind == "f" else 0)
        a = data((3, 1, 40, 50), dt, special=False)
        la, a = view(a, "expand", Tfile)
        b = data((2, 50, 30), dt, special=False)
        lb, b = view(b, "step", Tfile)
        e = np.matmul(a, b)
        case("large/mm %s batched expand@step" % dt, "return tensor.matmul(%s, %s)" % (la, lb), e,
             at.mm_bound(a, b) if e.dtype.kind == "f" else 0)
        v1 = data((90,), dt, special=False)
        lv, v1 = view(v1, "rev", Tfile)
        a = data((120, 90), dt, special=False)
        la, a = view(a, "T", Tfile)
        e = np.matmul(a, v1)
        case("large/mm %s T@rev1d" % dt, "return tensor.matmul(%s, %s)" % (la, lv), e, at.mm_bound(a, v1) if e.dtype.kind == "f" else 0)
        e = np.matmul(v1, a.T)
        case("large/mm %s rev1d@TT" % dt, "return tensor.matmul(%s, (%s):T())" % (lv, la), e, at.mm_bound(v1, a.T) if e.dtype.kind == "f" else 0)


def torch_sort_axis(x, ax, desc):
    """torch.sort(stable) along ax, by rows (fast)."""
    moved = np.moveaxis(x, ax, -1)
    flat = moved.reshape(-1, moved.shape[-1])
    vals = np.empty_like(flat)
    idx = np.empty(flat.shape, np.int64)
    for r in range(flat.shape[0]):
        row = flat[r].astype(np.int64) if flat.dtype == np.bool_ else flat[r]
        v, idx[r] = at.torch_sort_fast(row, desc)
        vals[r] = v
    vals = np.moveaxis(vals.reshape(moved.shape), -1, ax)
    idx = np.moveaxis(idx.reshape(moved.shape), -1, ax)
    return (vals, idx), desc


def gen_print():
    # tostring of 0-d and empty tensors against torch's repr (contract: PyTorch's repr)
    try:
        import subprocess
        tp = "/work/venv-torch/bin/python"
        if not os.path.exists(tp):
            return
        specs = [("tensor.full({}, 2.5)", "torch.tensor(2.5, dtype=torch.float64)"),
                 ("tensor.full({}, 3, {dtype = 'i64'})", "torch.tensor(3)"),
                 ("tensor.full({}, true, {dtype = 'bool'})", "torch.tensor(True)"),
                 ("tensor.full({}, 0/0)", "torch.tensor(float('nan'), dtype=torch.float64)"),
                 ("tensor.full({}, -0.0, {dtype = 'f32'})", "torch.tensor(-0.0)"),
                 ("tensor.zeros{0}", "torch.zeros(0, dtype=torch.float64)"),
                 ("tensor.zeros({0}, {dtype = 'i64'})", "torch.zeros(0, dtype=torch.int64)"),
                 ("tensor.zeros{2, 0}", "torch.zeros(2, 0, dtype=torch.float64)"),
                 ("tensor.zeros({0, 3}, {dtype = 'bool'})", "torch.zeros(0, 3, dtype=torch.bool)"),
                 ("tensor.zeros({1, 0, 2}, {dtype = 'f32'})", "torch.zeros(1, 0, 2)")]
        code = "import torch\n" + "\n".join("print(repr(repr(%s)))" % s for _, s in specs)
        out = subprocess.run([tp, "-c", code], capture_output=True, text=True, timeout=120).stdout.splitlines()
        import ast
        for (lua, tsrc), r in zip(specs, out):
            want = ast.literal_eval(r)
            case("vprint/%s" % lua, "return tostring(%s)" % lua, Lua("torchrepr", want))
    except Exception as ex:  # noqa: BLE001
        print("print probes skipped: %s" % ex)


def norm_repr(s):
    import re
    s = re.sub(r",?\s*dtype=(torch\.)?\w+", "", s)
    s = re.sub(r",?\s*size=\([^)]*\)", "", s)
    s = re.sub(r",?\s*shape=\[[^\]]*\]", "", s)
    s = s.replace("True", "true").replace("False", "false")
    return re.sub(r"\s+", "", s)


_compare_one = at.compare_one


def compare_one(got, exp, tol):
    if isinstance(exp, Lua) and exp.kind == "torchrepr":
        if got[0] != "str":
            return "differ", "got %r" % (got,)
        # the harness replaces spaces by _ in strings
        g = norm_repr(got[1].replace("_", " "))
        w = norm_repr(exp.value)
        return ("ok", "") if g == w else ("differ", "moonlab %r, torch %r" % (got[1], exp.value))
    return _compare_one(got, exp, tol)


at.compare_one = compare_one


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=101)
    ap.add_argument("--only", action="append", default=[])
    ap.add_argument("-v", action="store_true")
    ap.add_argument("--large", action="store_true", help="also views past the parallel threshold (slow in debug)")
    ap.add_argument("--show-any", action="store_true", help="print the answers the contract leaves open")
    args = ap.parse_args()
    at.SHOW_ANY = args.show_any
    at.rng = np.random.default_rng(args.seed)
    tmp = tempfile.mkdtemp(prefix="acceptance_probes.")
    for g in (gen_dist_views, gen_casts, gen_promo, gen_divmod, gen_views_reduce, gen_views_order, gen_matmul, gen_index, gen_print):
        g()
    gen_files(tmp)
    if args.large:
        gen_large(tmp)
    cases = [c for c in at.CASES if not args.only or any(c[0].startswith(o) for o in args.only)]
    counts = {}
    for start in range(0, len(cases), 1500):
        chunk = cases[start:start + 1500]
        got, rc, err = at.run_batch(chunk, tmp)
        if rc != 0 and len(got) < len(chunk):
            print("moonlab exited %d after %d of %d cases: %s" % (rc, len(got), len(chunk), err[-500:]))
            for k in range(len(chunk)):
                if k in got:
                    continue
                g1, rc1, err1 = at.run_batch([chunk[k]], tmp)
                got[k] = g1[0] if 0 in g1 else ("CRASH", "exit %d: %s" % (rc1, err1[-300:]))
        for k, (name, body, exp, tol) in enumerate(chunk):
            status, payload = got.get(k, ("CRASH", "no answer"))
            if status == "CRASH":
                lab, msg = "crash", payload
            else:
                lab, msg = at.judge(status, payload, exp, tol)
            counts[lab] = counts.get(lab, 0) + 1
            if lab != "ok" and (lab != "close" or args.v):
                print("%-12s %s: %s" % (lab.upper(), name, msg))
                if args.v:
                    print("    " + body.replace("\n", "\n    ")[:800])
    if not args.only or any(o.startswith("pfiles") for o in args.only):
        for name, lab, msg in at.check_files():
            counts[lab] = counts.get(lab, 0) + 1
            if lab != "ok":
                print("%-12s %s: %s" % (lab.upper(), name, msg))
    total = sum(counts.values())
    print("%d cases (seed %d, numpy %s): %s" % (total, args.seed, np.__version__,
                                                ", ".join("%s %d" % (k, v) for k, v in sorted(counts.items()))))
    return 0 if all(k in ("ok", "close", "shown", "zero-sign") for k in counts) else 1


if __name__ == "__main__":
    sys.exit(main())
