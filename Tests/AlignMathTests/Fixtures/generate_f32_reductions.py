"""numpy's f32 sums and means over a leading, a middle and the last axis and of a whole
tensor, as bit patterns, for
TensorF32ReductionTests.swift (numpy 2.4.6; run by hand:
/work/venv-peers/bin/python generate_f32_reductions.py, then paste the printed arrays).

numpy adds the rows of a non-last axis in order, in f32, and the elements of a row (or of a
whole contiguous tensor) by pairwise summation in f32; an f64 accumulator rounded once at the
end gives a different last bit for some of these results (checked below)."""
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


# Over the last axis and whole tensors: numpy's pairwise_sum in f32 (runs of <= 128 in eight
# partial sums, longer runs halved). Rows shorter than 8, of 8..128, just over 128, odd, long.
rows = {"last_3x5": inputs((3, 5)), "last_2x129": inputs((2, 129)), "last_7x1000": inputs((7, 1000)),
        "last_4x32003": inputs((4, 32003))}
rn = inputs((4, 1001))
rn[0, ::7] = np.nan   # some NaN
rn[1, :] = np.nan     # all NaN
rn[2, :] = -0.0       # all -0.0: sums to 0.0 as numpy's identity 0 is added
# 300,300 elements (the whole-tensor sum is split over the cores) of more varied values:
# ((k * 7919) % 100003) / 97 - 500 in f32.
kb = np.arange(300 * 1001, dtype=np.int64).reshape(300, 1001)
big = ((kb * 7919) % 100003).astype(np.float32) / np.float32(97) - np.float32(500)
for name, a in rows.items():
    for op in ("sum", "mean"):
        got = getattr(a, op)(-1)
        f64 = getattr(a.astype(np.float64), op)(-1)
        print("// %s_%s: %d element(s) differ from f64 accumulation" % (op, name, int(np.sum(got != f64.astype(np.float32)))))
        print("let %s_%s: [UInt32] = [%s]" % (op, name, bits(got)))
for op, f in (("nansum", np.nansum), ("nanmean", np.nanmean)):
    with np.errstate(all="ignore"):
        import warnings
        warnings.simplefilter("ignore")
        print("let %s_last_nan: [UInt32] = [%s]" % (op, bits(f(rn, -1))))
        print("let %s_whole_nan: [UInt32] = [%s]" % (op, bits(f(rn))))
print("// whole [300, 1001] sum: f64 accumulation %s" % ("differs" if big.sum() != np.float32(big.astype(np.float64).sum()) else "agrees"))
print("let whole_big: [UInt32] = [%s, %s]" % (bits(big.sum()), bits(big.mean())))
