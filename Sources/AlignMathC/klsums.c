#include "alignmath_kl.h"

#if defined(__x86_64__)
#include <immintrin.h>

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
           registers in the one above); the hardware prefetcher streams those rows in
           while the exponentials run */
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
#endif
