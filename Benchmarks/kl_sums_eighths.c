/* An experiment, not moonlab's kernel: `am_kl_sums_f32` (Sources/AlignMathC/klsums.c) with
   a cheaper exponential, e^y = 2^k · 2^(j/8) · e^r (BENCHMARKS.md, "KL over [4096, 32000]
   f32 against the read floor", "A cheaper exponential, tried and not landed"). Link it with
   the model in place of the real kernel:
     clang -O2 -ISources/AlignMathC/include -o /tmp/kl_eighths Benchmarks/kl_sums_model.c Benchmarks/kl_sums_eighths.c -lm -lpthread
   -DTWO_CONSTANT reduces with ln2/8 in two parts (as accurate as Cephes, slower under clang). */
#include <stddef.h>

#if defined(__x86_64__)
#include <immintrin.h>

/* The sums of RowF32.klSums with the eighths exponential; the Swift twin (FastExp.expEighths)
   is not in the tree. */
__attribute__((target("avx2,fma"), always_inline))
static inline void kl_sums(const float *p, const float *q, ptrdiff_t n, float s, float mp, float mq,
                           const float *np, const float *nq, double sums[3], float next[24], const int unit) {
    const __m256 vs = _mm256_set1_ps(s), negMp = _mm256_set1_ps(-mp), negMq = _mm256_set1_ps(-mq);
    const __m256 log2e8 = _mm256_set1_ps(0x1.715476p3f), magic = _mm256_set1_ps(12582912.0f);
    const __m256 nln2_8 = _mm256_set1_ps(-0x1.62e430p-4f), one = _mm256_set1_ps(1.0f);
    const __m256 c2 = _mm256_set1_ps(0x1.000a3ep-1f), c3 = _mm256_set1_ps(0x1.554d20p-3f);
    const __m256 minN = _mm256_set1_ps(-87.33654f);
    const __m256 eighths = _mm256_setr_ps(0x1p0f, 0x1.172b84p0f, 0x1.306fe0p0f, 0x1.4bfdaep0f,
                                          0x1.6a09e6p0f, 0x1.8ace54p0f, 0x1.ae89fap0f, 0x1.d5818ep0f);
    __m256 nmp = _mm256_loadu_ps(next), nmq = _mm256_loadu_ps(next + 8), nminq = _mm256_loadu_ps(next + 16);
    double sp = sums[0], sq = sums[1], sw = sums[2];
    ptrdiff_t i = 0;
    /* y = x·s − m; with s = 1 the fused x·1 − m is x − m exactly, and a subtraction runs on
       the adder pipes, leaving the two FMA pipes (the bound) to the exponentials. Each
       exponential gets max(minN, y) (maxps returns its second operand when either is NaN:
       NaN stays); y_p − y_q is zeroed where y_p < minN (the mask keeps NaN lanes) */
#ifdef TWO_CONSTANT
#define REDUCE(nn, y) _mm256_fmadd_ps(nn, _mm256_set1_ps(0x1.05c610p-32f), _mm256_fmadd_ps(nn, nln2_8, y))
#else
#define REDUCE(nn, y) _mm256_fmadd_ps(nn, nln2_8, y)
#endif
#define SHIFT(x, negM) (unit ? _mm256_add_ps(x, negM) : _mm256_fmadd_ps(x, vs, negM))
#define CLAMP(y) _mm256_max_ps(minN, y)
#define DIFF(yp, yq) _mm256_and_ps(_mm256_sub_ps(yp, yq), _mm256_cmp_ps(yp, minN, _CMP_NLT_UQ))
    /* e^y = 2^k · 2^(j/8) · e^r (FastExp.expEighths): t holds 8k + j in its low bits */
#define EXPSUM(y, e) do { \
        __m256 t = _mm256_fmadd_ps(y, log2e8, magic); \
        __m256 nn = _mm256_sub_ps(t, magic); \
        __m256 r = REDUCE(nn, y); \
        __m256 pp = _mm256_fmadd_ps(_mm256_fmadd_ps(_mm256_fmadd_ps(r, c3, c2), r, one), r, one); \
        __m256i ti = _mm256_castps_si256(t); \
        __m256 tv = _mm256_permutevar8x32_ps(eighths, ti); \
        __m256i kk = _mm256_slli_epi32(_mm256_srli_epi32(ti, 3), 23); \
        e = _mm256_mul_ps(pp, _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(tv), kk))); \
    } while (0)
    /* No loop here is unrolled: clang 21 -O2 unrolled the 8-lane horizontal sums and the
       whole function's register allocation got worse (0.75 against 0.69 ns per pair in L2,
       Benchmarks/kl_sums_model.c) */
    _Pragma("clang loop unroll(disable)") while (i + 8 <= n) {
        ptrdiff_t end = i + 128 < n - 7 ? i + 128 : n - 7;
        __m256 ap = _mm256_setzero_ps(), aq = _mm256_setzero_ps(), aw = _mm256_setzero_ps();
        _Pragma("clang loop unroll(disable)") for (; i + 8 < end; i += 16) {
            __m256 x = _mm256_loadu_ps(p + i), z = _mm256_loadu_ps(q + i);
            __m256 x1 = _mm256_loadu_ps(p + i + 8), z1 = _mm256_loadu_ps(q + i + 8);
            __m256 yp = SHIFT(x, negMp), yq = SHIFT(z, negMq);
            __m256 yp1 = SHIFT(x1, negMp), yq1 = SHIFT(z1, negMq);
            __m256 ep, eq, ep1, eq1;
            EXPSUM(CLAMP(yp), ep);
            EXPSUM(CLAMP(yq), eq);
            EXPSUM(CLAMP(yp1), ep1);
            EXPSUM(CLAMP(yq1), eq1);
            aq = _mm256_add_ps(_mm256_add_ps(aq, eq), eq1);
            ap = _mm256_add_ps(_mm256_add_ps(ap, ep), ep1);
            aw = _mm256_fmadd_ps(ep1, DIFF(yp1, yq1), _mm256_fmadd_ps(ep, DIFF(yp, yq), aw));
            __m256 a = _mm256_loadu_ps(np + i), b = _mm256_loadu_ps(nq + i);
            __m256 a1 = _mm256_loadu_ps(np + i + 8), b1 = _mm256_loadu_ps(nq + i + 8);
            nmp = _mm256_max_ps(a1, _mm256_max_ps(a, nmp));
            nmq = _mm256_max_ps(b1, _mm256_max_ps(b, nmq));
            nminq = _mm256_min_ps(b1, _mm256_min_ps(b, nminq));
        }
        _Pragma("clang loop unroll(disable)") for (; i < end; i += 8) {
            __m256 x = _mm256_loadu_ps(p + i), z = _mm256_loadu_ps(q + i);
            __m256 yp = SHIFT(x, negMp), yq = SHIFT(z, negMq);
            __m256 ep, eq;
            EXPSUM(CLAMP(yp), ep);
            EXPSUM(CLAMP(yq), eq);
            aq = _mm256_add_ps(aq, eq);
            ap = _mm256_add_ps(ap, ep);
            aw = _mm256_fmadd_ps(ep, DIFF(yp, yq), aw);
            __m256 a = _mm256_loadu_ps(np + i), b = _mm256_loadu_ps(nq + i);
            nmp = _mm256_max_ps(a, nmp);          /* select(a > m, a, m): m when either is NaN */
            nmq = _mm256_max_ps(b, nmq);
            nminq = _mm256_min_ps(b, nminq);      /* select(b < m, b, m) */
        }
        float lp[8], lq[8], lw[8];
        _mm256_storeu_ps(lp, ap); _mm256_storeu_ps(lq, aq); _mm256_storeu_ps(lw, aw);
        float hp = -0.0f, hq = -0.0f, hw = -0.0f;
        _Pragma("clang loop unroll(disable)") for (int k = 0; k < 8; k++) { hp += lp[k]; hq += lq[k]; hw += lw[k]; }
        sp += (double)hp; sq += (double)hq; sw += (double)hw;
    }
#undef EXPSUM
#undef CLAMP
#undef DIFF
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
