"""numpy side of Benchmarks/tensor_loop_probe.lua: the issue-13 loop with its wall, CPU and system CPU time (getrusage).
Run: python3 Benchmarks/peers_tensor_loop_probe.py (a python with numpy)"""
import numpy as np, time, resource
rng = np.random.default_rng(13); n = 10**7
a, b, c = rng.standard_normal(n), rng.standard_normal(n), rng.random(n) + 1
r0 = resource.getrusage(resource.RUSAGE_SELF); t = time.perf_counter()
for _ in range(20): r = (a * 2 + b) / c
el = time.perf_counter() - t; r1 = resource.getrusage(resource.RUSAGE_SELF)
cpu = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
print("loop: wall %.0f ms, cpu %.0f ms (sys %.0f), minor faults %d, peak %.0f MB" % (el * 1e3, cpu * 1e3, (r1.ru_stime - r0.ru_stime) * 1e3, r1.ru_minflt - r0.ru_minflt, r1.ru_maxrss / 1024))
