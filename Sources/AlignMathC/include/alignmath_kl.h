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

/// `am_kl_sums_f32_fast` with AVX-512 (F and DQ): sixteen lanes a step, the same exponential (each
/// pair's terms the same bits), summed per lane in blocks of 256 pairs (float) and then in
/// double lanes, so the sums differ from the AVX2 kernel's in their last bits only (the order
/// of the additions). Call it only where `am_cpu_has_avx512()`; `RowF32.klSums` picks it at
/// run time (`RowF32.avx512KL`). `DistKLF32KernelTests` holds both kernels to Double.
void am_kl_sums_f32_fast_avx512(const float *p, const float *q, ptrdiff_t n, float s, float maxp, float maxq,
                                const float *np, const float *nq, double sums[3], float next[32]);

/// Whether this CPU and OS run AVX-512F and AVX-512DQ code (`__builtin_cpu_supports`, which
/// also checks that the OS saves the zmm state); 0 off x86-64.
int am_cpu_has_avx512(void);

/// The sums of KL(P‖Q) over one block (`k` <= a few thousand doubles, any k) of a pair of f64
/// rows whose every (x − max)·s is above -690 (no -inf, no underflow: the caller checks the
/// block's minima), with e^y as 2^(y'/256), y' = (x − max)·c, c = s·256/ln 2 (`maxp`, `maxq`:
/// the running maxima before the temperature; the maximum itself gives y' = 0 and e = 1
/// exactly): a 256-entry table of 2^(j/256) read by byte loads and a degree-4 polynomial
/// (under 4e-17 relative). `out` = (Σ e_p, Σ e_q, Σ e_p·(y_p − y_q) in nats, and of the next
/// block `np`, `nq` of the same length when given: max p, max q, min p, min q; NaN ignored).
/// A NaN in the block makes the sums NaN. x86-64 only.
void am_kl_block_f64_fast(const double *p, const double *q, ptrdiff_t k, double c, double maxp, double maxq,
                          const double *np, const double *nq, double out[7]);

/// Σ e^((x − max)·s) over a whole f64 row as Σ 2^(y'/256), y' = (x − max)·c, c = s·256/ln 2, by
/// `am_kl_block_f64_fast`'s exponential; for rows whose every (x − max)·s is above -690 (the
/// caller checks the row's minimum; `maxp` its maximum). A NaN makes it NaN. x86-64 only.
double am_sumexp_f64_fast(const double *p, ptrdiff_t n, double c, double maxp);

/// (max, min) of `p[0..<n]`, NaN ignored (-inf, +inf when there is nothing else). x86-64 only.
void am_max_min_f64(const double *p, ptrdiff_t n, double out[2]);

#endif
