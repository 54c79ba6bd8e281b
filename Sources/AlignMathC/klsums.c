#include "alignmath_kl.h"

#if defined(__x86_64__)
#include <immintrin.h>

/* Software prefetch of the next pair's rows, one line of each per 16 floats of the block
   [start, end), 1024 floats (4 KB) ahead of the extremes loop that reads them. The hardware
   prefetchers alone left the fast kernels waiting on memory: on the AVX-512 machine of
   2026-12-06 the [4096, 32000] batch took ~1.6x the CPU time of a plain read of both
   arrays, ~1.2x with these (BENCHMARKS.md, "KL with AVX-512"). Past the end of a row it asks
   for the start of the one after (or for nothing: a prefetch never faults). All three f32
   kernels use it; it changes no result. */
#define AM_KL_PREFETCH(np, nq, start, end) \
    for (ptrdiff_t k_ = (start); k_ < (end); k_ += 16) { \
        _mm_prefetch((const char *)((np) + k_ + 1024), _MM_HINT_T0); \
        _mm_prefetch((const char *)((nq) + k_ + 1024), _MM_HINT_T0); \
    }

/* The arithmetic of RowF32.klSums and FastExp.expSum (SIMD8<Float>) lane for lane, in the
   same order, so the sums are the same bits; two vectors a step (see the header). */
__attribute__((target("avx2,fma"), always_inline))
static inline void kl_sums(const float *p, const float *q, ptrdiff_t n, float s, float mp, float mq,
                           const float *np, const float *nq, double sums[3], float next[32], const int unit) {
    const __m256 vs = _mm256_set1_ps(s), negMp = _mm256_set1_ps(-mp), negMq = _mm256_set1_ps(-mq);
    const __m256 log2e = _mm256_set1_ps(1.44269504088896341f), magic = _mm256_set1_ps(12583039.0f);
    const __m256 nln2 = _mm256_set1_ps(-0.693147180559945309f);
    const __m256 c0 = _mm256_set1_ps(5.0000001201e-1f), c1 = _mm256_set1_ps(1.6666665459e-1f);
    const __m256 c2 = _mm256_set1_ps(4.1665795894e-2f), c3 = _mm256_set1_ps(8.3334519073e-3f);
    const __m256 c4 = _mm256_set1_ps(1.3981999507e-3f), c5 = _mm256_set1_ps(1.9875691500e-4f);
    const __m256 minN = _mm256_set1_ps(-87.33654f);
    __m256 nmp = _mm256_loadu_ps(next), nmq = _mm256_loadu_ps(next + 8), nminq = _mm256_loadu_ps(next + 16);
    __m256 nminp = _mm256_loadu_ps(next + 24);
    double sp = sums[0], sq = sums[1], sw = sums[2];
    ptrdiff_t i = 0;
    /* y = x·s − m; with s = 1 the fused x·1 − m is x − m exactly, and a subtraction runs on
       the adder pipes, leaving the two FMA pipes (the bound: ~21 of their operations per 8
       pairs for the two exponentials and the product) to the exponentials */
#define SHIFT(x, negM) (unit ? _mm256_add_ps(x, negM) : _mm256_fmadd_ps(x, vs, negM))
#define EXPSUM(y, e, keep) do { \
        keep = _mm256_cmp_ps(y, minN, _CMP_NLT_UQ); \
        __m256 t = _mm256_fmadd_ps(y, log2e, magic); \
        __m256 nn = _mm256_sub_ps(t, magic); \
        __m256 r = _mm256_fmadd_ps(nn, nln2, y); \
        __m256 r2 = _mm256_mul_ps(r, r); \
        __m256 e0 = _mm256_fmadd_ps(r, c1, c0); \
        __m256 e1 = _mm256_fmadd_ps(r, c3, c2); \
        __m256 e2 = _mm256_fmadd_ps(r, c5, c4); \
        __m256 qq = _mm256_fmadd_ps(_mm256_fmadd_ps(e2, r2, e1), r2, e0); \
        __m256 pm1 = _mm256_fmadd_ps(qq, r2, r); \
        __m256 sc = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_castps_si256(t), 23)); \
        e = _mm256_and_ps(_mm256_fmadd_ps(pm1, sc, sc), keep); \
    } while (0)
    while (i + 8 <= n) {
        ptrdiff_t end = i + 128 < n - 7 ? i + 128 : n - 7;
        __m256 ap = _mm256_setzero_ps(), aq = _mm256_setzero_ps(), aw = _mm256_setzero_ps();
        AM_KL_PREFETCH(np, nq, i, end);
        for (; i + 8 < end; i += 16) {
            __m256 x = _mm256_loadu_ps(p + i), z = _mm256_loadu_ps(q + i);
            __m256 x1 = _mm256_loadu_ps(p + i + 8), z1 = _mm256_loadu_ps(q + i + 8);
            __m256 yp = SHIFT(x, negMp), yq = SHIFT(z, negMq);
            __m256 yp1 = SHIFT(x1, negMp), yq1 = SHIFT(z1, negMq);
            __m256 ep, kp, eq, kq, ep1, kp1, eq1, kq1;
            EXPSUM(yp, ep, kp);
            EXPSUM(yq, eq, kq);
            EXPSUM(yp1, ep1, kp1);
            EXPSUM(yq1, eq1, kq1);
            (void)kq; (void)kq1;
            aq = _mm256_add_ps(_mm256_add_ps(aq, eq), eq1);
            ap = _mm256_add_ps(_mm256_add_ps(ap, ep), ep1);
            aw = _mm256_add_ps(_mm256_add_ps(aw, _mm256_and_ps(_mm256_mul_ps(ep, _mm256_sub_ps(yp, yq)), kp)),
                               _mm256_and_ps(_mm256_mul_ps(ep1, _mm256_sub_ps(yp1, yq1)), kp1));
            __m256 a = _mm256_loadu_ps(np + i), b = _mm256_loadu_ps(nq + i);
            __m256 a1 = _mm256_loadu_ps(np + i + 8), b1 = _mm256_loadu_ps(nq + i + 8);
            nmp = _mm256_max_ps(a1, _mm256_max_ps(a, nmp));
            nmq = _mm256_max_ps(b1, _mm256_max_ps(b, nmq));
            nminq = _mm256_min_ps(b1, _mm256_min_ps(b, nminq));
            nminp = _mm256_min_ps(a1, _mm256_min_ps(a, nminp));
        }
        for (; i < end; i += 8) {
            __m256 x = _mm256_loadu_ps(p + i), z = _mm256_loadu_ps(q + i);
            __m256 yp = SHIFT(x, negMp), yq = SHIFT(z, negMq);
            __m256 ep, kp, eq, kq;
            EXPSUM(yp, ep, kp);
            EXPSUM(yq, eq, kq);
            (void)kq;
            aq = _mm256_add_ps(aq, eq);
            ap = _mm256_add_ps(ap, ep);
            aw = _mm256_add_ps(aw, _mm256_and_ps(_mm256_mul_ps(ep, _mm256_sub_ps(yp, yq)), kp));
            __m256 a = _mm256_loadu_ps(np + i), b = _mm256_loadu_ps(nq + i);
            nmp = _mm256_max_ps(a, nmp);          /* select(a > m, a, m): m when either is NaN */
            nmq = _mm256_max_ps(b, nmq);
            nminq = _mm256_min_ps(b, nminq);      /* select(b < m, b, m) */
            nminp = _mm256_min_ps(a, nminp);
        }
        float lp[8], lq[8], lw[8];
        _mm256_storeu_ps(lp, ap); _mm256_storeu_ps(lq, aq); _mm256_storeu_ps(lw, aw);
        float hp = -0.0f, hq = -0.0f, hw = -0.0f;
        for (int k = 0; k < 8; k++) { hp += lp[k]; hq += lq[k]; hw += lw[k]; }
        sp += (double)hp; sq += (double)hq; sw += (double)hw;
    }
#undef EXPSUM
#undef SHIFT
    sums[0] = sp; sums[1] = sq; sums[2] = sw;
    _mm256_storeu_ps(next, nmp); _mm256_storeu_ps(next + 8, nmq); _mm256_storeu_ps(next + 16, nminq);
    _mm256_storeu_ps(next + 24, nminp);
}
__attribute__((target("avx2,fma")))
void am_kl_sums_f32(const float *p, const float *q, ptrdiff_t n, float s, float mp, float mq,
                    const float *np, const float *nq, double sums[3], float next[32]) {
    if (s == 1.0f) kl_sums(p, q, n, s, mp, mq, np, nq, sums, next, 1);
    else kl_sums(p, q, n, s, mp, mq, np, nq, sums, next, 0);
}
/* The fast kernel (see the header): e^y as 2^(y'/8) with y' = (x − max)·(s·8/ln 2) (the
   row's own maximum gives y' = 0 and e = 1 exactly, as x·s − m does), y' rounded to n = 8k + j by the 1.5·2^23 trick (the low bits of t), f = y' − n
   in [-1/2, 1/2] exactly, 2^(f/8) = 1 + f·(a1 + f·(a2 + f·a3)) (a minimax fit, 2.6e-8
   relative), times 2^(j/8) from one vpermps and 2^k added to its exponent. The table
   holds bits(2^(j/8)) − j·2^20 so that t's bits shifted left by 20 (8k + j, the magic's
   bits shifting out) add k to the exponent and cancel j: 10 operations per exponential,
   4 of them on the FMA pipes, against Cephes' 10 FMA-pipe ones (and 1 for y'). Only for rows whose every
   y' is above -1000 (2^-125: no exponent underflow, no clamp or mask in the loop); the
   caller checks that from the rows' minima. */
__attribute__((target("avx2,fma"), always_inline))
static inline __m256 exp_eighths(__m256 y, __m256 magic, __m256 a1, __m256 a2, __m256 a3, __m256 table) {
    __m256 t = _mm256_add_ps(y, magic);
    __m256 f = _mm256_sub_ps(y, _mm256_sub_ps(t, magic));
    __m256 pf = _mm256_mul_ps(_mm256_fmadd_ps(_mm256_fmadd_ps(f, a3, a2), f, a1), f);
    __m256i ti = _mm256_castps_si256(t);
    __m256 sc = _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(_mm256_permutevar8x32_ps(table, ti)),
                                                     _mm256_slli_epi32(ti, 20)));
    return _mm256_fmadd_ps(pf, sc, sc);
}

__attribute__((target("avx2,fma")))
void am_kl_sums_f32_fast(const float *p, const float *q, ptrdiff_t n, float s, float maxp, float maxq,
                         const float *np, const float *nq, double sums[3], float next[32]) {
    const double c8 = 11.541560327111707;          /* 8 / ln 2 */
    const __m256 vc = _mm256_set1_ps((float)((double)s * c8));
    const __m256 nmp0 = _mm256_set1_ps(-maxp), nmq0 = _mm256_set1_ps(-maxq);
    const __m256 magic = _mm256_set1_ps(12582912.0f);
    const __m256 a1 = _mm256_set1_ps(0x1.62e432p-4f), a2 = _mm256_set1_ps(0x1.ec0c32p-9f), a3 = _mm256_set1_ps(0x1.c6a004p-14f);
    const __m256 table = _mm256_castsi256_ps(_mm256_setr_epi32(
        0x3f800000, 0x3f8b95c2 - (1 << 20), 0x3f9837f0 - (2 << 20), 0x3fa5fed7 - (3 << 20),
        0x3fb504f3 - (4 << 20), 0x3fc5672a - (5 << 20), 0x3fd744fd - (6 << 20), 0x3feac0c7 - (7 << 20)));
    __m256 nmp = _mm256_loadu_ps(next), nmq = _mm256_loadu_ps(next + 8);
    __m256 nminq = _mm256_loadu_ps(next + 16), nminp = _mm256_loadu_ps(next + 24);
    double sp = sums[0], sq = sums[1], sw = sums[2];
    const double ln2_8 = 0.69314718055994531 / 8;  /* Σ e_p·(y'_p − y'_q) back to nats */
    ptrdiff_t i = 0;
    while (i + 8 <= n) {
        ptrdiff_t start = i, end = i + 128 < n - 7 ? i + 128 : n - 7;
        __m256 ap = _mm256_setzero_ps(), aq = _mm256_setzero_ps(), aw = _mm256_setzero_ps();
        /* one vector a step: clang 21 allocates this loop without spills (two a step
           spilled and ran no faster) */
        for (; i < end; i += 8) {
            __m256 yp = _mm256_mul_ps(_mm256_add_ps(_mm256_loadu_ps(p + i), nmp0), vc);
            __m256 yq = _mm256_mul_ps(_mm256_add_ps(_mm256_loadu_ps(q + i), nmq0), vc);
            __m256 ep = exp_eighths(yp, magic, a1, a2, a3, table);
            aq = _mm256_add_ps(aq, exp_eighths(yq, magic, a1, a2, a3, table));
            ap = _mm256_add_ps(ap, ep);
            aw = _mm256_fmadd_ps(ep, _mm256_sub_ps(yp, yq), aw);
        }
        /* the next pair's extremes over the same block, in a loop of its own (fewer live
           registers in the one above); the lines 4 KB ahead of it are asked for first
           (AM_KL_PREFETCH), so the next rows stream in while the exponentials run */
        AM_KL_PREFETCH(np, nq, start, end);
        for (ptrdiff_t k = start; k < end; k += 8) {
            __m256 a = _mm256_loadu_ps(np + k), b = _mm256_loadu_ps(nq + k);
            nmp = _mm256_max_ps(a, nmp); nmq = _mm256_max_ps(b, nmq);
            nminq = _mm256_min_ps(b, nminq); nminp = _mm256_min_ps(a, nminp);
        }
        float lp[8], lq[8], lw[8];
        _mm256_storeu_ps(lp, ap); _mm256_storeu_ps(lq, aq); _mm256_storeu_ps(lw, aw);
        float hp = -0.0f, hq = -0.0f, hw = -0.0f;
        for (int k = 0; k < 8; k++) { hp += lp[k]; hq += lq[k]; hw += lw[k]; }
        sp += (double)hp; sq += (double)hq; sw += (double)hw * ln2_8;
    }
    if (i < n) {                                   /* the last n % 8: lanes past the end give 0 */
        const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        const __m256i live = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n - i)), lane);
        const __m256 keep = _mm256_castsi256_ps(live);
        __m256 yp = _mm256_mul_ps(_mm256_add_ps(_mm256_maskload_ps(p + i, live), nmp0), vc);
        __m256 yq = _mm256_mul_ps(_mm256_add_ps(_mm256_maskload_ps(q + i, live), nmq0), vc);
        __m256 ep = _mm256_and_ps(exp_eighths(yp, magic, a1, a2, a3, table), keep);
        __m256 eq = _mm256_and_ps(exp_eighths(yq, magic, a1, a2, a3, table), keep);
        __m256 w = _mm256_and_ps(_mm256_mul_ps(ep, _mm256_sub_ps(yp, yq)), keep);
        __m256 a = _mm256_maskload_ps(np + i, live), b = _mm256_maskload_ps(nq + i, live);
        const __m256 ninf = _mm256_set1_ps(-__builtin_inff()), pinf = _mm256_set1_ps(__builtin_inff());
        nmp = _mm256_max_ps(_mm256_blendv_ps(ninf, a, keep), nmp);
        nmq = _mm256_max_ps(_mm256_blendv_ps(ninf, b, keep), nmq);
        nminq = _mm256_min_ps(_mm256_blendv_ps(pinf, b, keep), nminq);
        nminp = _mm256_min_ps(_mm256_blendv_ps(pinf, a, keep), nminp);
        float lp[8], lq[8], lw[8];
        _mm256_storeu_ps(lp, ep); _mm256_storeu_ps(lq, eq); _mm256_storeu_ps(lw, w);
        float hp = -0.0f, hq = -0.0f, hw = -0.0f;
        for (int k = 0; k < 8; k++) { hp += lp[k]; hq += lq[k]; hw += lw[k]; }
        sp += (double)hp; sq += (double)hq; sw += (double)hw * ln2_8;
    }
    sums[0] = sp; sums[1] = sq; sums[2] = sw;
    _mm256_storeu_ps(next, nmp); _mm256_storeu_ps(next + 8, nmq);
    _mm256_storeu_ps(next + 16, nminq); _mm256_storeu_ps(next + 24, nminp);
}
/* The AVX-512 twin of `am_kl_sums_f32_fast` (see the header): the same exponential, so each
   pair's e_p, e_q and e_p·(y'_p − y'_q) are the same bits, sixteen lanes a step (the
   eight-entry table twice over in one register: `vpermps` on zmm reads the low four bits of
   t, and the table's − j·2^20 cancels j mod 8 as before; f = y' − round(y') in one
   `vreduceps` (AVX-512DQ) where t − magic and a subtraction took two), the row's last n % 16
   by masked loads. Per block of 256 pairs each lane sums 16 terms in float, as the AVX2 kernel does per
   128; the lanes then go to double lanes, added across once per call. The next pair's
   extremes are kept in sixteen lanes and folded to the caller's eight at the end. */
#define AM_DUP8(x) _mm512_castpd_ps(_mm512_broadcast_f64x4(_mm256_castps_pd(x)))
#define AM_HI8(x) _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x), 1))
__attribute__((target("avx512f,avx512dq"), always_inline))
static inline __m512 exp_eighths16(__m512 y, __m512 magic, __m512 a1, __m512 a2, __m512 a3, __m512 table) {
    __m512 t = _mm512_add_ps(y, magic);
    __m512 f = _mm512_reduce_ps(y, _MM_FROUND_TO_NEAREST_INT);  /* y − round(y), exact: the f of t − magic */
    __m512 pf = _mm512_mul_ps(_mm512_fmadd_ps(_mm512_fmadd_ps(f, a3, a2), f, a1), f);
    __m512i ti = _mm512_castps_si512(t);
    __m512 sc = _mm512_castsi512_ps(_mm512_add_epi32(_mm512_castps_si512(_mm512_permutexvar_ps(ti, table)),
                                                     _mm512_slli_epi32(ti, 20)));
    return _mm512_fmadd_ps(pf, sc, sc);
}

/* float lanes -> double lanes, added to `acc` */
__attribute__((target("avx512f,avx512dq"), always_inline))
static inline __m512d add_widened(__m512d acc, __m512 v) {
    __m512d lo = _mm512_cvtps_pd(_mm512_castps512_ps256(v)), hi = _mm512_cvtps_pd(AM_HI8(v));
    return _mm512_add_pd(acc, _mm512_add_pd(lo, hi));
}

__attribute__((target("avx512f,avx512dq")))
void am_kl_sums_f32_fast_avx512(const float *p, const float *q, ptrdiff_t n, float s, float maxp, float maxq,
                                const float *np, const float *nq, double sums[3], float next[32]) {
    const double c8 = 11.541560327111707;          /* 8 / ln 2 */
    const __m512 vc = _mm512_set1_ps((float)((double)s * c8));
    const __m512 nmp0 = _mm512_set1_ps(-maxp), nmq0 = _mm512_set1_ps(-maxq);
    const __m512 magic = _mm512_set1_ps(12582912.0f);
    const __m512 a1 = _mm512_set1_ps(0x1.62e432p-4f), a2 = _mm512_set1_ps(0x1.ec0c32p-9f), a3 = _mm512_set1_ps(0x1.c6a004p-14f);
    const __m512 table = _mm512_castsi512_ps(_mm512_setr_epi32(
        0x3f800000, 0x3f8b95c2 - (1 << 20), 0x3f9837f0 - (2 << 20), 0x3fa5fed7 - (3 << 20),
        0x3fb504f3 - (4 << 20), 0x3fc5672a - (5 << 20), 0x3fd744fd - (6 << 20), 0x3feac0c7 - (7 << 20),
        0x3f800000, 0x3f8b95c2 - (1 << 20), 0x3f9837f0 - (2 << 20), 0x3fa5fed7 - (3 << 20),
        0x3fb504f3 - (4 << 20), 0x3fc5672a - (5 << 20), 0x3fd744fd - (6 << 20), 0x3feac0c7 - (7 << 20)));
    __m512 nmp = AM_DUP8(_mm256_loadu_ps(next)), nmq = AM_DUP8(_mm256_loadu_ps(next + 8));
    __m512 nminq = AM_DUP8(_mm256_loadu_ps(next + 16)), nminp = AM_DUP8(_mm256_loadu_ps(next + 24));
    __m512d dp = _mm512_setzero_pd(), dq = dp, dw = dp;
    ptrdiff_t i = 0;
    while (i + 16 <= n) {
        ptrdiff_t start = i, end = i + 256 < n - 15 ? i + 256 : n - 15;
        __m512 ap = _mm512_setzero_ps(), aq = ap, aw = ap;
        for (; i < end; i += 16) {
            __m512 yp = _mm512_mul_ps(_mm512_add_ps(_mm512_loadu_ps(p + i), nmp0), vc);
            __m512 yq = _mm512_mul_ps(_mm512_add_ps(_mm512_loadu_ps(q + i), nmq0), vc);
            __m512 ep = exp_eighths16(yp, magic, a1, a2, a3, table);
            aq = _mm512_add_ps(aq, exp_eighths16(yq, magic, a1, a2, a3, table));
            ap = _mm512_add_ps(ap, ep);
            aw = _mm512_fmadd_ps(ep, _mm512_sub_ps(yp, yq), aw);
        }
        AM_KL_PREFETCH(np, nq, start, end);
        for (ptrdiff_t k = start; k < end; k += 16) {
            __m512 a = _mm512_loadu_ps(np + k), b = _mm512_loadu_ps(nq + k);
            nmp = _mm512_max_ps(a, nmp); nmq = _mm512_max_ps(b, nmq);
            nminq = _mm512_min_ps(b, nminq); nminp = _mm512_min_ps(a, nminp);
        }
        dp = add_widened(dp, ap); dq = add_widened(dq, aq); dw = add_widened(dw, aw);
    }
    if (i < n) {                                   /* the last n % 16: masked lanes give 0 */
        const __mmask16 live = (__mmask16)((1u << (n - i)) - 1);
        __m512 yp = _mm512_mul_ps(_mm512_add_ps(_mm512_maskz_loadu_ps(live, p + i), nmp0), vc);
        __m512 yq = _mm512_mul_ps(_mm512_add_ps(_mm512_maskz_loadu_ps(live, q + i), nmq0), vc);
        __m512 ep = _mm512_maskz_mov_ps(live, exp_eighths16(yp, magic, a1, a2, a3, table));
        __m512 eq = _mm512_maskz_mov_ps(live, exp_eighths16(yq, magic, a1, a2, a3, table));
        __m512 w = _mm512_maskz_mov_ps(live, _mm512_mul_ps(ep, _mm512_sub_ps(yp, yq)));
        __m512 a = _mm512_maskz_loadu_ps(live, np + i), b = _mm512_maskz_loadu_ps(live, nq + i);
        nmp = _mm512_mask_max_ps(nmp, live, a, nmp); nmq = _mm512_mask_max_ps(nmq, live, b, nmq);
        nminq = _mm512_mask_min_ps(nminq, live, b, nminq); nminp = _mm512_mask_min_ps(nminp, live, a, nminp);
        dp = add_widened(dp, ep); dq = add_widened(dq, eq); dw = add_widened(dw, w);
    }
    const double ln2_8 = 0.69314718055994531 / 8;  /* Σ e_p·(y'_p − y'_q) back to nats */
    sums[0] += _mm512_reduce_add_pd(dp); sums[1] += _mm512_reduce_add_pd(dq);
    sums[2] += _mm512_reduce_add_pd(dw) * ln2_8;
    /* maxps / minps keep their second operand on NaN; neither half holds one (NaN inputs
       never enter), so the fold is the sixteen lanes' extremes */
    _mm256_storeu_ps(next, _mm256_max_ps(_mm512_castps512_ps256(nmp), AM_HI8(nmp)));
    _mm256_storeu_ps(next + 8, _mm256_max_ps(_mm512_castps512_ps256(nmq), AM_HI8(nmq)));
    _mm256_storeu_ps(next + 16, _mm256_min_ps(_mm512_castps512_ps256(nminq), AM_HI8(nminq)));
    _mm256_storeu_ps(next + 24, _mm256_min_ps(_mm512_castps512_ps256(nminp), AM_HI8(nminp)));
}
#undef AM_DUP8
#undef AM_HI8
#undef AM_KL_PREFETCH

int am_cpu_has_avx512(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") ? 1 : 0;
}
#else
int am_cpu_has_avx512(void) { return 0; }
#endif
