#ifndef ALIGNMATH_KL_H
#define ALIGNMATH_KL_H
#include <stddef.h>

/// The sums of KL(P‖Q) over the whole 8-lane vectors of a pair of f32 rows (`n` floats:
/// the vectors at 0, 8, ... up to n - 8), as `RowF32.klSums` computes them: y = x·s − m,
/// two degree-7 (Cephes) exponentials per 8 pairs, per-block (16 vectors) float sums
/// added to `sums` = (Σ e_p, Σ e_q, Σ e_p·(y_p − y_q)) as doubles; and the running
/// maxima of the next pair's rows and the minimum of its q row in `next` (three 8-lane
/// vectors, updated in place). The same operations in the same order as the Swift loop,
/// so the same bits; written in C with AVX2 + FMA because the Swift loop (the same
/// arithmetic) kept spilling and reloading its constants, and two vectors a step give the
/// scheduler two independent exponential chains (BENCHMARKS.md, "Issue 11/13, sixth
/// pass"). x86-64 only (the caller uses the Swift loop elsewhere).
void am_kl_sums_f32(const float *p, const float *q, ptrdiff_t n, float s, float mp, float mq,
                    const float *np, const float *nq, double sums[3], float next[24]);

#endif
