"""numpy side of Benchmarks/tensor_first_calls.lua: the first 6 calls of a big-output operation in a
fresh process one by one ("first"), or the median, min and max of 5 runs after 1 warm-up ("timeit",
as moonlab's timeit), with the CPU, system CPU and minor page faults over them (getrusage).
Run: python3 Benchmarks/peers_tensor_first_calls.py CASE MODE  (CASE: sort argsort argsort_stable add clone;
MODE: first timeit). numpy's np.sort gives values only; moonlab's t:sort() values and positions."""
import sys, time, resource
import numpy as np
what = sys.argv[1] if len(sys.argv) > 1 else "sort"
mode = sys.argv[2] if len(sys.argv) > 2 else "first"
rng = np.random.default_rng(13); n = 10**7
t, b = rng.standard_normal(n), rng.standard_normal(n)
fns = {"sort": lambda: np.sort(t), "argsort": lambda: np.argsort(t),
       "argsort_stable": lambda: np.argsort(t, kind="stable"), "add": lambda: t + b, "clone": lambda: t.copy()}
f = fns[what]
def cpu(r0, r1): return ((r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)) * 1e3
def once():
    t0 = time.perf_counter(); f(); return time.perf_counter() - t0
r0 = resource.getrusage(resource.RUSAGE_SELF)
if mode == "first":
    ms = [once() * 1e3 for _ in range(6)]
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    print("%s first 6 calls (ms): %s; cpu %.0f ms (sys %.0f), minor faults %d" % (what, " ".join("%.1f" % m for m in ms), cpu(r0, r1), (r1.ru_stime - r0.ru_stime) * 1e3, r1.ru_minflt - r0.ru_minflt))
else:
    once()
    ts = sorted(once() for _ in range(5))
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    print("%s timeit (ms): median %.1f min %.1f max %.1f; cpu %.0f ms (sys %.0f), minor faults %d" % (what, ts[2] * 1e3, ts[0] * 1e3, ts[-1] * 1e3, cpu(r0, r1), (r1.ru_stime - r0.ru_stime) * 1e3, r1.ru_minflt - r0.ru_minflt))
