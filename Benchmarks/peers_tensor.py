#!/usr/bin/env python3
"""numpy's side of Benchmarks/tensor_ops.lua: the same cases on data of the same shapes and
distributions, one JSON line per case ({"area", "case", "ms" (fastest), "median_ms"}).
Usage: python3 Benchmarks/peers_tensor.py [AREA...] [-- DATA_DIR]   (areas as tensor_ops.lua)
`sortrows` gives "cpu_ms" too: the least process CPU (time.process_time) of three calls.
"""
import json
import os
import resource
import sys
import time

import numpy as np

args = sys.argv[1:]
d = "/tmp"
if "--" in args:
    d = args[args.index("--") + 1]
    args = args[:args.index("--")]
areas = set(args)
wanted = lambda a: a in areas or (not areas and a not in ("loop", "sortrows"))
rng = np.random.default_rng(13)


def emit(area, case, best, median, **extra):
    row = {"area": area, "case": case, "ms": best * 1e3, "median_ms": median * 1e3}
    row.update(extra)
    print(json.dumps(row), flush=True)


def time_it(fn, runs=7):
    fn()
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    ts.sort()
    return ts[0], ts[len(ts) // 2]


if "loop" in areas:
    n = 10 ** 7
    a, b, c = rng.standard_normal(n), rng.standard_normal(n), rng.random(n) + 1
    t = time.perf_counter()
    for _ in range(20):
        r = (a * 2 + b) / c
    el = time.perf_counter() - t
    emit("loop", "(a*2+b)/c x20 1e7 f64", el, el, peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)

if wanted("elementwise"):
    n = 10 ** 7
    a, b = rng.standard_normal(n), rng.standard_normal(n)
    for name, fn in [("a + b", lambda: a + b), ("a - b", lambda: a - b), ("a * b", lambda: a * b), ("a / b", lambda: a / b),
                     ("a * 2", lambda: a * 2), ("clone", lambda: a.copy()), ("a:exp()", lambda: np.exp(a)), ("a:gt(0)", lambda: a > 0)]:
        emit("elementwise", name + " 1e7 f64", *time_it(fn, 9))
    m = 10 ** 6
    a6, b6, c6 = rng.standard_normal(m), rng.standard_normal(m), rng.random(m) + 1
    for name, fn in [("a + b", lambda: a6 + b6), ("a - b", lambda: a6 - b6), ("a * b", lambda: a6 * b6),
                     ("a / b", lambda: a6 / b6), ("(a*2+b)/c", lambda: (a6 * 2 + b6) / c6)]:
        emit("elementwise", name + " 1e6 f64", *time_it(fn, 51))

if wanted("reduce"):
    a = rng.standard_normal(10 ** 7)
    for name, fn in [("sum", a.sum), ("min", a.min), ("max", a.max), ("argmax", a.argmax), ("mean", a.mean)]:
        emit("reduce", name + " 1e7 f64", *time_it(fn, 15))

if wanted("sort"):
    a = rng.standard_normal(10 ** 7)
    emit("sort", "sort 1e7 f64 (values, positions)", *time_it(lambda: np.sort(a), 3), note="np.sort: values only")
    emit("sort", "argsort 1e7 f64", *time_it(lambda: np.argsort(a, kind="stable"), 3), note="stable")
    row = rng.standard_normal(128256).astype(np.float32)
    emit("sort", "argsort row 128256 f32", *time_it(lambda: np.argsort(row, kind="stable"), 31), note="stable")

if wanted("sortrows"):
    # np.sort has no descending: "sort desc" times np.sort too (values only, as the issue's
    # comparison); argsort is the stable one (ours is stable).
    only = os.environ.get("SORTROWS_ONLY")
    for dt, shape in [("f64", (100000, 50)), ("f64", (20000, 500)), ("f64", (1000, 10000)),
                      ("f32", (100000, 50)), ("f32", (20000, 500)), ("f32", (1000, 10000)), ("f32", (4096, 32000)),
                      ("i64", (100000, 50)), ("i64", (20000, 500)), ("i64", (1000, 10000))]:
        name = "%s %dx%d" % (dt, shape[0], shape[1])
        if only and only != name:
            continue
        if dt == "i64":
            x = (rng.random(shape) * 1e9).astype(np.int64)
        else:
            x = rng.standard_normal(shape).astype(np.float32 if dt == "f32" else np.float64)
        big = x.size > 10 ** 8
        ops = [("sort", lambda: np.sort(x, axis=-1)), ("sort desc", lambda: np.sort(x, axis=-1))]
        if not big:  # numpy's stable argsort of [4096, 32000] f32 takes ~13 s a call
            ops.append(("argsort", lambda: np.argsort(x, axis=-1, kind="stable")))
        for op, fn in ops:
            best, median = time_it(fn, 3 if big else 5)
            cpu = float("inf")
            for _ in range(3):
                t = time.process_time()
                r = fn()
                cpu = min(cpu, time.process_time() - t)
                del r
            emit("sortrows", op + " " + name, best, median, cpu_ms=round(cpu * 1e3, 1))
        del x

if wanted("files"):
    a = rng.standard_normal(10 ** 7)
    p = os.path.join(d, "numpy-bench-save.npy")
    emit("files", "save .npy 1e7 f64", *time_it(lambda: np.save(p, a), 7))
    emit("files", "load .npy 1e7 f64 (mapped)", *time_it(lambda: np.load(p, mmap_mode="r"), 7))
    z = os.path.join(d, "numpy-bench.npz")
    small = np.round(rng.standard_normal(2 * 10 ** 6))
    np.savez_compressed(z, x=small)
    emit("files", "load compressed .npz 2e6 f64", *time_it(lambda: np.load(z)["x"], 7))
    emit("files", "save compressed .npz 2e6 f64", *time_it(lambda: np.savez_compressed(z, x=small), 5))
    os.remove(p); os.remove(z)

if wanted("matmul"):
    for dt in (np.float64, np.float32):
        x, y = rng.standard_normal((1024, 1024)).astype(dt), rng.standard_normal((1024, 1024)).astype(dt)
        emit("matmul", "1024x1024 @ 1024x1024 " + ("f64" if dt == np.float64 else "f32"), *time_it(lambda: x @ y, 9))

if wanted("big"):
    p = os.path.join(d, "numpy-bench-logits.npy")
    np.save(p, rng.standard_normal((4096, 32000)).astype(np.float32))
    x = np.load(p, mmap_mode="r")
    emit("big", "view rows 1..1000 of mapped [4096,32000]", *time_it(lambda: x[0:1000, :], 101))
    emit("big", "max of mapped [4096,32000] f32", *time_it(lambda: x.max(), 9))
    emit("big", "argmax of mapped [4096,32000] f32", *time_it(lambda: x.argmax(), 9))
    emit("big", "sum axis 1 [4096,32000] f32", *time_it(lambda: x.sum(axis=0), 7))
    emit("big", "sum axis -1 [4096,32000] f32", *time_it(lambda: x.sum(axis=-1), 7))
    emit("big", "cumsum axis -1 [4096,32000] f32", *time_it(lambda: np.cumsum(x, axis=-1), 5))
    emit("big", "mask select x[x:gt(0)] [4096,32000] f32", *time_it(lambda: x[x > 0], 5))

    def topk():
        part = np.argpartition(x, -50, axis=-1)[:, -50:]
        vals = np.take_along_axis(x, part, axis=-1)
        order = np.argsort(-vals, axis=-1)
        return np.take_along_axis(vals, order, axis=-1), np.take_along_axis(part, order, axis=-1)
    emit("big", "topk 50 axis -1 [4096,32000] f32", *time_it(topk, 5), note="argpartition + argsort of the top 50")
    os.remove(p)
