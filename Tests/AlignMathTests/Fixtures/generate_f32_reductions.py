"""numpy's f32 sums and means over a leading and a middle axis, as bit patterns, for
TensorF32ReductionTests.swift (numpy 2.4.6; run by hand:
/work/venv-peers/bin/python generate_f32_reductions.py, then paste the printed arrays).

numpy adds the rows of a non-last axis in order, in f32; an f64 accumulator rounded once
at the end gives a different last bit for some of these columns (checked below)."""
import numpy as np


def inputs(shape):
    # The same f32 values the Swift test builds: ((k * 7919) % 1009) / 97 - 5, k the flat index.
    k = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)
    x = ((k * 7919) % 1009).astype(np.float32) / np.float32(97) - np.float32(5)
    return x


def bits(a):
    return ", ".join("0x%08x" % v for v in np.ascontiguousarray(a, dtype=np.float32).ravel().view(np.uint32))


x = inputs((1000, 7))
xn = x.copy()
xn[::9, 2] = np.nan  # every ninth row of column 3 is NaN
xn[:, 5] = np.nan     # column 6 all NaN
y = inputs((3, 501, 4))
for name, got, f64 in [
    ("sum0", x.sum(0), x.astype(np.float64).sum(0)),
    ("mean0", x.mean(0), x.astype(np.float64).mean(0)),
    ("nansum0", np.nansum(xn, 0), np.nansum(xn.astype(np.float64), 0)),
    ("nanmean0", np.nanmean(xn, 0), np.nanmean(xn.astype(np.float64), 0)),
    ("sum1", y.sum(1), y.astype(np.float64).sum(1)),
    ("mean1", y.mean(1), y.astype(np.float64).mean(1)),
]:
    differ = int(np.sum(got != f64.astype(np.float32)))
    print("// %s: %d element(s) differ from f64 accumulation" % (name, differ))
    print("let %s: [UInt32] = [%s]" % (name, bits(got)))
