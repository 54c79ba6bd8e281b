#ifndef ALIGNMATH_KL_H
#define ALIGNMATH_KL_H
#include <stddef.h>

/// The sums of KL(P‖Q) over the whole 8-lane vectors of a pair of f32 rows (`n` floats:
/// the vectors at 0, 8, ... up to n - 8), as `RowF32.klSums` computes them: y = x·s − m,
/// two degree-7 (Cephes) exponentials per 8 pairs, per-block (16 vectors) float sums
/// added to `sums` = (Σ e_p, Σ e_q, Σ e_p·(y_p − y_q)) as doubles; and the running
/// maxima of the next pair's rows and the minima of its q and p rows in `next` (four
/// 8-lane vectors: max p, max q, min q, min p, updated in place). The same operations in the same order as the Swift loop,
/// so the same bits; written in C with AVX2 + FMA because the Swift loop (the same
/// arithmetic) kept spilling and reloading its constants, and two vectors a step give the
/// scheduler two independent exponential chains (BENCHMARKS.md, "Issue 11/13, sixth
/// pass"). x86-64 only (the caller uses the Swift loop elsewhere).
void am_kl_sums_f32(const float *p, const float *q, ptrdiff_t n, float s, float mp, float mq,
                    const float *np, const float *nq, double sums[3], float next[32]);

/// The same sums for a whole row pair (`n` floats, the last partial vector included) with
/// a cheaper exponential: 2^(y'/8) with y' = (x − max)·s·8/ln 2 (`maxp`, `maxq`: the rows'
/// maxima before the temperature, unlike `mp`, `mq` above), a 2^(j/8) table and a degree-3 polynomial (10 operations, 4 on the FMA pipes, against 11 and 10
/// for Cephes), so one row pair costs ~30% less CPU. Only for row pairs whose every
/// x·s − m is above -86 (no underflow, no -inf: the loop has no clamp or mask); the caller
/// checks that from the minima in `next`, and other rows take `am_kl_sums_f32`. The sums
/// differ from `am_kl_sums_f32`'s in their last bits (e_p·(y_p − y_q) is summed in units of
/// ln 2 / 8 and converted); `DistKLF32KernelTests` holds both to a Double reference.
void am_kl_sums_f32_fast(const float *p, const float *q, ptrdiff_t n, float s, float maxp, float maxq,
                         const float *np, const float *nq, double sums[3], float next[32]);

#endif
