"""numpy side of Benchmarks/tensor_save_loop.lua: np.save of 1e7 f64 over an existing .npy, 15 times.
Run: python3 Benchmarks/peers_tensor_save_loop.py [DIR] (a python with numpy)"""
import numpy as np, os, sys, time
d = sys.argv[1] if len(sys.argv) > 1 else "/tmp"
a = np.random.default_rng(13).standard_normal(10**7)
p = os.path.join(d, "numpy-save-loop.npy")
np.save(p, a)
c0 = time.process_time(); np.save(p, a); ts = []
for _ in range(15):
    t = time.perf_counter(); np.save(p, a); ts.append(time.perf_counter() - t)
ts.sort()
print("save 1e7 f64 over the file: best %.1f ms, median %.1f ms, CPU %.1f ms per save" % (ts[0] * 1e3, ts[7] * 1e3, (time.process_time() - c0) / 16 * 1e3))
os.remove(p)
