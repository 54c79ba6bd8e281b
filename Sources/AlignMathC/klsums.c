#include "alignmath_kl.h"

#if defined(__x86_64__)
#include <immintrin.h>

/* The arithmetic of RowF32.klSums and FastExp.expSum (SIMD8<Float>) lane for lane, in the
   same order, so the sums are the same bits; two vectors a step (see the header). */
__attribute__((target("avx2,fma"), always_inline))
static inline void kl_sums(const float *p, const float *q, ptrdiff_t n, float s, float mp, float mq,
                           const float *np, const float *nq, double sums[3], float next[24], const int unit) {
    const __m256 vs = _mm256_set1_ps(s), negMp = _mm256_set1_ps(-mp), negMq = _mm256_set1_ps(-mq);
    const __m256 log2e = _mm256_set1_ps(1.44269504088896341f), magic = _mm256_set1_ps(12583039.0f);
    const __m256 nln2 = _mm256_set1_ps(-0.693147180559945309f);
    const __m256 c0 = _mm256_set1_ps(5.0000001201e-1f), c1 = _mm256_set1_ps(1.6666665459e-1f);
    const __m256 c2 = _mm256_set1_ps(4.1665795894e-2f), c3 = _mm256_set1_ps(8.3334519073e-3f);
    const __m256 c4 = _mm256_set1_ps(1.3981999507e-3f), c5 = _mm256_set1_ps(1.9875691500e-4f);
    const __m256 minN = _mm256_set1_ps(-87.33654f);
    __m256 nmp = _mm256_loadu_ps(next), nmq = _mm256_loadu_ps(next + 8), nminq = _mm256_loadu_ps(next + 16);
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
}
__attribute__((target("avx2,fma")))
void am_kl_sums_f32(const float *p, const float *q, ptrdiff_t n, float s, float mp, float mq,
                    const float *np, const float *nq, double sums[3], float next[24]) {
    if (s == 1.0f) kl_sums(p, q, n, s, mp, mq, np, nq, sums, next, 1);
    else kl_sums(p, q, n, s, mp, mq, np, nq, sums, next, 0);
}
#endif
