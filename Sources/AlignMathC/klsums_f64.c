#include "alignmath_kl.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <math.h>
#include <stdint.h>

/* Entry j holds the bits of 2^(j/256) (rounded to nearest from 60-digit mpmath values) minus
   j << 44, so that adding the bits of t = y' + 1.5·2^52 shifted left by 44 (k = 256·e + j in
   t's low bits; the magic's own bits shift out) gives the bits of 2^e·2^(j/256) in one
   integer addition (as `FastExp.expTable`, which holds the same values for j/128). */
static const uint64_t kl_exp_table256[256] __attribute__((aligned(64))) = {
    0x3FF0000000000000ULL, 0x3FEFFB1AFA5ABCBFULL, 0x3FEFF63DA9FB3335ULL, 0x3FEFF168143B0281ULL,
    0x3FEFEC9A3E778061ULL, 0x3FEFE7D42E11BBCCULL, 0x3FEFE315E86E7F85ULL, 0x3FEFDE5F72F654B1ULL,
    0x3FEFD9B0D3158574ULL, 0x3FEFD50A0E3C1F89ULL, 0x3FEFD06B29DDF6DEULL, 0x3FEFCBD42B72A836ULL,
    0x3FEFC74518759BC8ULL, 0x3FEFC2BDF66607E0ULL, 0x3FEFBE3ECAC6F383ULL, 0x3FEFB9C79B1F3919ULL,
    0x3FEFB5586CF9890FULL, 0x3FEFB0F145E46C85ULL, 0x3FEFAC922B7247F7ULL, 0x3FEFA83B23395DECULL,
    0x3FEFA3EC32D3D1A2ULL, 0x3FEF9FA55FDFA9C5ULL, 0x3FEF9B66AFFED31BULL, 0x3FEF973028D7233EULL,
    0x3FEF9301D0125B51ULL, 0x3FEF8EDBAB5E2AB6ULL, 0x3FEF8ABDC06C31CCULL, 0x3FEF86A814F204ABULL,
    0x3FEF829AAEA92DE0ULL, 0x3FEF7E95934F312EULL, 0x3FEF7A98C8A58E51ULL, 0x3FEF76A45471C3C2ULL,
    0x3FEF72B83C7D517BULL, 0x3FEF6ED48695BBC0ULL, 0x3FEF6AF9388C8DEAULL, 0x3FEF672658375D2FULL,
    0x3FEF635BEB6FCB75ULL, 0x3FEF5F99F8138A1CULL, 0x3FEF5BE084045CD4ULL, 0x3FEF582F95281C6BULL,
    0x3FEF54873168B9AAULL, 0x3FEF50E75EB44027ULL, 0x3FEF4D5022FCD91DULL, 0x3FEF49C18438CE4DULL,
    0x3FEF463B88628CD6ULL, 0x3FEF42BE3578A819ULL, 0x3FEF3F49917DDC96ULL, 0x3FEF3BDDA27912D1ULL,
    0x3FEF387A6E756238ULL, 0x3FEF351FFB82140AULL, 0x3FEF31CE4FB2A63FULL, 0x3FEF2E85711ECE75ULL,
    0x3FEF2B4565E27CDDULL, 0x3FEF280E341DDF29ULL, 0x3FEF24DFE1F56381ULL, 0x3FEF21BA7591BB70ULL,
    0x3FEF1E9DF51FDEE1ULL, 0x3FEF1B8A66D10F13ULL, 0x3FEF187FD0DAD990ULL, 0x3FEF157E39771B2FULL,
    0x3FEF1285A6E4030BULL, 0x3FEF0F961F641589ULL, 0x3FEF0CAFA93E2F56ULL, 0x3FEF09D24ABD886BULL,
    0x3FEF06FE0A31B715ULL, 0x3FEF0432EDEEB2FDULL, 0x3FEF0170FC4CD831ULL, 0x3FEEFEB83BA8EA32ULL,
    0x3FEEFC08B26416FFULL, 0x3FEEF96266E3FA2DULL, 0x3FEEF6C55F929FF1ULL, 0x3FEEF431A2DE883BULL,
    0x3FEEF1A7373AA9CBULL, 0x3FEEEF26231E754AULL, 0x3FEEECAE6D05D866ULL, 0x3FEEEA401B7140EFULL,
    0x3FEEE7DB34E59FF7ULL, 0x3FEEE57FBFEC6CF4ULL, 0x3FEEE32DC313A8E5ULL, 0x3FEEE0E544EDE173ULL,
    0x3FEEDEA64C123422ULL, 0x3FEEDC70DF1C5175ULL, 0x3FEEDA4504AC801CULL, 0x3FEED822C367A024ULL,
    0x3FEED60A21F72E2AULL, 0x3FEED3FB2709468AULL, 0x3FEED1F5D950A897ULL, 0x3FEECFFA3F84B9D4ULL,
    0x3FEECE086061892DULL, 0x3FEECC2042A7D232ULL, 0x3FEECA41ED1D0057ULL, 0x3FEEC86D668B3237ULL,
    0x3FEEC6A2B5C13CD0ULL, 0x3FEEC4E1E192AED2ULL, 0x3FEEC32AF0D7D3DEULL, 0x3FEEC17DEA6DB7D7ULL,
    0x3FEEBFDAD5362A27ULL, 0x3FEEBE41B817C114ULL, 0x3FEEBCB299FDDD0DULL, 0x3FEEBB2D81D8ABFFULL,
    0x3FEEB9B2769D2CA7ULL, 0x3FEEB8417F4531EEULL, 0x3FEEB6DAA2CF6642ULL, 0x3FEEB57DE83F4EEFULL,
    0x3FEEB42B569D4F82ULL, 0x3FEEB2E2F4F6AD27ULL, 0x3FEEB1A4CA5D920FULL, 0x3FEEB070DDE910D2ULL,
    0x3FEEAF4736B527DAULL, 0x3FEEAE27DBE2C4CFULL, 0x3FEEAD12D497C7FDULL, 0x3FEEAC0827FF07CCULL,
    0x3FEEAB07DD485429ULL, 0x3FEEAA11FBA87A03ULL, 0x3FEEA9268A5946B7ULL, 0x3FEEA84590998B93ULL,
    0x3FEEA76F15AD2148ULL, 0x3FEEA6A320DCEB71ULL, 0x3FEEA5E1B976DC09ULL, 0x3FEEA52AE6CDF6F4ULL,
    0x3FEEA47EB03A5585ULL, 0x3FEEA3DD1D1929FDULL, 0x3FEEA34634CCC320ULL, 0x3FEEA2B9FEBC8FB7ULL,
    0x3FEEA23882552225ULL, 0x3FEEA1C1C70833F6ULL, 0x3FEEA155D44CA973ULL, 0x3FEEA0F4B19E9538ULL,
    0x3FEEA09E667F3BCDULL, 0x3FEEA052FA75173EULL, 0x3FEEA012750BDABFULL, 0x3FEE9FDCDDD47645ULL,
    0x3FEE9FB23C651A2FULL, 0x3FEE9F9298593AE5ULL, 0x3FEE9F7DF9519484ULL, 0x3FEE9F7466F42E87ULL,
    0x3FEE9F75E8EC5F74ULL, 0x3FEE9F8286EAD08AULL, 0x3FEE9F9A48A58174ULL, 0x3FEE9FBD35D7CBFDULL,
    0x3FEE9FEB564267C9ULL, 0x3FEEA024B1AB6E09ULL, 0x3FEEA0694FDE5D3FULL, 0x3FEEA0B938AC1CF6ULL,
    0x3FEEA11473EB0187ULL, 0x3FEEA17B0976CFDBULL, 0x3FEEA1ED0130C132ULL, 0x3FEEA26A62FF86F0ULL,
    0x3FEEA2F336CF4E62ULL, 0x3FEEA3878491C491ULL, 0x3FEEA427543E1A12ULL, 0x3FEEA4D2ADD106D9ULL,
    0x3FEEA589994CCE13ULL, 0x3FEEA64C1EB941F7ULL, 0x3FEEA71A4623C7ADULL, 0x3FEEA7F4179F5B21ULL,
    0x3FEEA8D99B4492EDULL, 0x3FEEA9CAD931A436ULL, 0x3FEEAAC7D98A6699ULL, 0x3FEEABD0A478580FULL,
    0x3FEEACE5422AA0DBULL, 0x3FEEAE05BAD61778ULL, 0x3FEEAF3216B5448CULL, 0x3FEEB06A5E0866D9ULL,
    0x3FEEB1AE99157736ULL, 0x3FEEB2FED0282C8AULL, 0x3FEEB45B0B91FFC6ULL, 0x3FEEB5C353AA2FE2ULL,
    0x3FEEB737B0CDC5E5ULL, 0x3FEEB8B82B5F98E5ULL, 0x3FEEBA44CBC8520FULL, 0x3FEEBBDD9A7670B3ULL,
    0x3FEEBD829FDE4E50ULL, 0x3FEEBF33E47A22A2ULL, 0x3FEEC0F170CA07BAULL, 0x3FEEC2BB4D53FE0DULL,
    0x3FEEC49182A3F090ULL, 0x3FEEC674194BB8D5ULL, 0x3FEEC86319E32323ULL, 0x3FEECA5E8D07F29EULL,
    0x3FEECC667B5DE565ULL, 0x3FEECE7AED8EB8BBULL, 0x3FEED09BEC4A2D33ULL, 0x3FEED2C980460AD8ULL,
    0x3FEED503B23E255DULL, 0x3FEED74A8AF46052ULL, 0x3FEED99E1330B358ULL, 0x3FEEDBFE53C12E59ULL,
    0x3FEEDE6B5579FDBFULL, 0x3FEEE0E521356EBAULL, 0x3FEEE36BBFD3F37AULL, 0x3FEEE5FF3A3C2774ULL,
    0x3FEEE89F995AD3ADULL, 0x3FEEEB4CE622F2FFULL, 0x3FEEEE07298DB666ULL, 0x3FEEF0CE6C9A8952ULL,
    0x3FEEF3A2B84F15FBULL, 0x3FEEF68415B749B1ULL, 0x3FEEF9728DE5593AULL, 0x3FEEFC6E29F1C52AULL,
    0x3FEEFF76F2FB5E47ULL, 0x3FEF028CF22749E4ULL, 0x3FEF05B030A1064AULL, 0x3FEF08E0B79A6F1FULL,
    0x3FEF0C1E904BC1D2ULL, 0x3FEF0F69C3F3A207ULL, 0x3FEF12C25BD71E09ULL, 0x3FEF16286141B33DULL,
    0x3FEF199BDD85529CULL, 0x3FEF1D1CD9FA652CULL, 0x3FEF20AB5FFFD07AULL, 0x3FEF244778FAFB22ULL,
    0x3FEF27F12E57D14BULL, 0x3FEF2BA88988C933ULL, 0x3FEF2F6D9406E7B5ULL, 0x3FEF33405751C4DBULL,
    0x3FEF3720DCEF9069ULL, 0x3FEF3B0F2E6D1675ULL, 0x3FEF3F0B555DC3FAULL, 0x3FEF43155B5BAB74ULL,
    0x3FEF472D4A07897CULL, 0x3FEF4B532B08C968ULL, 0x3FEF4F87080D89F2ULL, 0x3FEF53C8EACAA1D6ULL,
    0x3FEF5818DCFBA487ULL, 0x3FEF5C76E862E6D3ULL, 0x3FEF60E316C98398ULL, 0x3FEF655D71FF6075ULL,
    0x3FEF69E603DB3285ULL, 0x3FEF6E7CD63A8315ULL, 0x3FEF7321F301B460ULL, 0x3FEF77D5641C0658ULL,
    0x3FEF7C97337B9B5FULL, 0x3FEF81676B197D17ULL, 0x3FEF864614F5A129ULL, 0x3FEF8B333B16EE12ULL,
    0x3FEF902EE78B3FF6ULL, 0x3FEF953924676D76ULL, 0x3FEF9A51FBC74C83ULL, 0x3FEF9F7977CDB740ULL,
    0x3FEFA4AFA2A490DAULL, 0x3FEFA9F4867CCA6EULL, 0x3FEFAF482D8E67F1ULL, 0x3FEFB4AAA2188510ULL,
    0x3FEFBA1BEE615A27ULL, 0x3FEFBF9C1CB6412AULL, 0x3FEFC52B376BBA97ULL, 0x3FEFCAC948DD7274ULL,
    0x3FEFD0765B6E4540ULL, 0x3FEFD632798844F8ULL, 0x3FEFDBFDAD9CBE14ULL, 0x3FEFE1D802243C89ULL,
    0x3FEFE7C1819E90D8ULL, 0x3FEFEDBA3692D514ULL, 0x3FEFF3C22B8F71F1ULL, 0x3FEFF9D96B2A23D9ULL
};

/* 2^(k/256) for the four k in the bits of t at u[0..3]: the table entries picked by the low
   byte of each t (byte loads on the load ports, not shuffles or a gather: Zen 3's vgatherqpd
   costs ~4-6 cycles, and moving four lanes to integer registers 5 vector operations), the
   k << 44 added to their exponents. */
__attribute__((target("avx2,fma"), always_inline))
static inline __m256d kl_scale_at(const uint64_t *u) {
    const unsigned char *b = (const unsigned char *)u;
    const double *T = (const double *)kl_exp_table256;
    __m128d lo = _mm_loadh_pd(_mm_load_sd(T + b[0]), T + b[8]), hi = _mm_loadh_pd(_mm_load_sd(T + b[16]), T + b[24]);
    __m256i tb = _mm256_castpd_si256(_mm256_insertf128_pd(_mm256_castpd128_pd256(lo), hi, 1));
    return _mm256_castsi256_pd(_mm256_add_epi64(tb, _mm256_slli_epi64(_mm256_load_si256((const __m256i *)u), 44)));
}

/* sc·2^(f/256) = sc·(1 + f·(a1 + f·(a2 + f·(a3 + f·a4)))), |f| <= 1/2: Taylor in f·ln2/256
   (|r| <= ln2/512; the first term left out, r^5/120, is below 3.8e-17) */
__attribute__((target("avx2,fma"), always_inline))
static inline __m256d kl_poly(__m256d f, __m256d sc, __m256d a1, __m256d a2, __m256d a3, __m256d a4) {
    __m256d pm1 = _mm256_mul_pd(_mm256_fmadd_pd(_mm256_fmadd_pd(_mm256_fmadd_pd(f, a4, a3), f, a2), f, a1), f);
    return _mm256_fmadd_pd(pm1, sc, sc);
}

#define KL_CHUNK 128

/* The rounding magic and kl_poly's coefficients, for both kernels below. */
#define KL_EXP_CONSTANTS \
    const __m256d magic = _mm256_set1_pd(6755399441055744.0);   /* 1.5·2^52 */ \
    const __m256d a1 = _mm256_set1_pd(0x1.62e42fefa39efp-9), a2 = _mm256_set1_pd(0x1.ebfbdff82c58fp-19), \
                  a3 = _mm256_set1_pd(0x1.c6b08d704a0c0p-29), a4 = _mm256_set1_pd(0x1.3b2ab6fba4e77p-39);

__attribute__((target("avx2,fma")))
void am_kl_block_f64_fast(const double *p, const double *q, ptrdiff_t k, double c, double maxp, double maxq,
                          const double *np, const double *nq, double out[7]) {
    const __m256d vc = _mm256_set1_pd(c), nmp = _mm256_set1_pd(-maxp), nmq = _mm256_set1_pd(-maxq);
    KL_EXP_CONSTANTS
    double fp_[KL_CHUNK] __attribute__((aligned(32))), fq_[KL_CHUNK] __attribute__((aligned(32)));
    double d_[KL_CHUNK] __attribute__((aligned(32)));
    uint64_t tp_[KL_CHUNK] __attribute__((aligned(32))), tq_[KL_CHUNK] __attribute__((aligned(32)));
    __m256d ap = _mm256_setzero_pd(), aq = ap, aw = ap;
    const ptrdiff_t kv = k & ~(ptrdiff_t)3;
    for (ptrdiff_t c0 = 0; c0 < kv; c0 += KL_CHUNK) {
        const ptrdiff_t m = kv - c0 < KL_CHUNK ? kv - c0 : KL_CHUNK;
        const double *pc = p + c0, *qc = q + c0;
        /* A: y' = (x − max)·c (0 exactly at the maximum), t = y' + 1.5·2^52 (k = round(y')
           in its low bits), f = y' − k exactly, y'_p − y'_q; short chains, stored */
        for (ptrdiff_t i = 0; i < m; i += 4) {
            __m256d yp = _mm256_mul_pd(_mm256_add_pd(_mm256_loadu_pd(pc + i), nmp), vc);
            __m256d yq = _mm256_mul_pd(_mm256_add_pd(_mm256_loadu_pd(qc + i), nmq), vc);
            __m256d tp = _mm256_add_pd(yp, magic), tq = _mm256_add_pd(yq, magic);
            _mm256_store_pd(fp_ + i, _mm256_sub_pd(yp, _mm256_sub_pd(tp, magic)));
            _mm256_store_pd(fq_ + i, _mm256_sub_pd(yq, _mm256_sub_pd(tq, magic)));
            _mm256_store_pd(d_ + i, _mm256_sub_pd(yp, yq));
            _mm256_store_pd((double *)tp_ + i, tp);
            _mm256_store_pd((double *)tq_ + i, tq);
        }
        /* B: the scales from the table, the polynomials, the sums */
        for (ptrdiff_t i = 0; i < m; i += 4) {
            __m256d scp = kl_scale_at(tp_ + i), scq = kl_scale_at(tq_ + i);
            __m256d ep = kl_poly(_mm256_load_pd(fp_ + i), scp, a1, a2, a3, a4);
            __m256d eq = kl_poly(_mm256_load_pd(fq_ + i), scq, a1, a2, a3, a4);
            ap = _mm256_add_pd(ap, ep);
            aq = _mm256_add_pd(aq, eq);
            aw = _mm256_fmadd_pd(ep, _mm256_load_pd(d_ + i), aw);
        }
    }
    double lp[4], lq[4], lw[4];
    _mm256_storeu_pd(lp, ap); _mm256_storeu_pd(lq, aq); _mm256_storeu_pd(lw, aw);
    double sp = (lp[0] + lp[1]) + (lp[2] + lp[3]), sq = (lq[0] + lq[1]) + (lq[2] + lq[3]);
    double sw = (lw[0] + lw[1]) + (lw[2] + lw[3]);
    for (ptrdiff_t i = kv; i < k; i++) {           /* the last k % 4 (a row's last block) */
        double yp = (p[i] - maxp) * c, yq = (q[i] - maxq) * c, ep = exp2(yp * (1.0 / 256));
        sp += ep; sq += exp2(yq * (1.0 / 256)); sw += ep * (yp - yq);
    }
    out[0] = sp; out[1] = sq; out[2] = sw * (0.69314718055994530942 / 256);
    /* the next block's extremes, in a loop of their own (in the loop above they cost 20%:
       more live registers); NaN lanes are ignored as `RowF64.vmax` does */
    __m256d xp = _mm256_set1_pd(-__builtin_inf()), xq = xp, mnp = _mm256_set1_pd(__builtin_inf()), mnq = mnp;
    if (np && nq) {
        for (ptrdiff_t i = 0; i < kv; i += 4) {
            __m256d a = _mm256_loadu_pd(np + i), b = _mm256_loadu_pd(nq + i);
            xp = _mm256_max_pd(a, xp); xq = _mm256_max_pd(b, xq);
            mnp = _mm256_min_pd(a, mnp); mnq = _mm256_min_pd(b, mnq);
        }
    }
    _mm256_storeu_pd(lp, xp); _mm256_storeu_pd(lq, xq);
    double r0 = lp[0], r1 = lq[0], r2, r3;
    for (int j = 1; j < 4; j++) { r0 = lp[j] > r0 ? lp[j] : r0; r1 = lq[j] > r1 ? lq[j] : r1; }
    _mm256_storeu_pd(lp, mnp); _mm256_storeu_pd(lq, mnq);
    r2 = lp[0]; r3 = lq[0];
    for (int j = 1; j < 4; j++) { r2 = lp[j] < r2 ? lp[j] : r2; r3 = lq[j] < r3 ? lq[j] : r3; }
    if (np && nq) {                                /* the next block's last k % 4 */
        for (ptrdiff_t i = kv; i < k; i++) {
            double a = np[i], b = nq[i];
            r0 = a > r0 ? a : r0; r1 = b > r1 ? b : r1; r2 = a < r2 ? a : r2; r3 = b < r3 ? b : r3;
        }
    }
    out[3] = r0; out[4] = r1; out[5] = r2; out[6] = r3;
}

/* Σ 2^(y'/256), y' = (x − max)·c, over a whole row: am_kl_block_f64_fast's exponential (the
   same table, polynomial and two passes per 128 elements) for one row, what logsumexp,
   log_softmax, cross_entropy, js and tv need. */
__attribute__((target("avx2,fma")))
double am_sumexp_f64_fast(const double *p, ptrdiff_t n, double c, double maxp) {
    const __m256d vc = _mm256_set1_pd(c), nmp = _mm256_set1_pd(-maxp);
    KL_EXP_CONSTANTS
    double fp_[KL_CHUNK] __attribute__((aligned(32)));
    uint64_t tp_[KL_CHUNK] __attribute__((aligned(32)));
    __m256d a0 = _mm256_setzero_pd(), a1s = a0;
    double sum = 0;
    const ptrdiff_t kv = n & ~(ptrdiff_t)3;
    for (ptrdiff_t c0 = 0; c0 < kv; c0 += KL_CHUNK) {
        const ptrdiff_t m = kv - c0 < KL_CHUNK ? kv - c0 : KL_CHUNK;
        const double *pc = p + c0;
        for (ptrdiff_t i = 0; i < m; i += 4) {
            __m256d y = _mm256_mul_pd(_mm256_add_pd(_mm256_loadu_pd(pc + i), nmp), vc);
            __m256d t = _mm256_add_pd(y, magic);
            _mm256_store_pd(fp_ + i, _mm256_sub_pd(y, _mm256_sub_pd(t, magic)));
            _mm256_store_pd((double *)tp_ + i, t);
        }
        ptrdiff_t i = 0;
        for (; i + 8 <= m; i += 8) {               /* two independent sums: shorter chains */
            a0 = _mm256_add_pd(a0, kl_poly(_mm256_load_pd(fp_ + i), kl_scale_at(tp_ + i), a1, a2, a3, a4));
            a1s = _mm256_add_pd(a1s, kl_poly(_mm256_load_pd(fp_ + i + 4), kl_scale_at(tp_ + i + 4), a1, a2, a3, a4));
        }
        for (; i < m; i += 4)
            a0 = _mm256_add_pd(a0, kl_poly(_mm256_load_pd(fp_ + i), kl_scale_at(tp_ + i), a1, a2, a3, a4));
        if ((c0 / KL_CHUNK) % 8 == 7 || c0 + KL_CHUNK >= kv) {
            /* a block of 1,024 into the total: each lane adds at most 128 terms (the rounding
               of a sum grows with its length; one lane over a 128k row lost 1e-14) */
            double l[4];
            _mm256_storeu_pd(l, _mm256_add_pd(a0, a1s));
            sum += (l[0] + l[1]) + (l[2] + l[3]);
            a0 = _mm256_setzero_pd(); a1s = a0;
        }
    }
    for (ptrdiff_t i = kv; i < n; i++) sum += exp2((p[i] - maxp) * c * (1.0 / 256));
    return sum;
}

__attribute__((target("avx2,fma")))
void am_max_min_f64(const double *p, ptrdiff_t n, double out[2]) {
    __m256d mx = _mm256_set1_pd(-__builtin_inf()), mn = _mm256_set1_pd(__builtin_inf());
    ptrdiff_t i = 0;
    for (; i + 4 <= n; i += 4) {
        __m256d a = _mm256_loadu_pd(p + i);
        mx = _mm256_max_pd(a, mx); mn = _mm256_min_pd(a, mn);
    }
    double lx[4], ln[4];
    _mm256_storeu_pd(lx, mx); _mm256_storeu_pd(ln, mn);
    double r0 = lx[0], r1 = ln[0];
    for (int j = 1; j < 4; j++) { r0 = lx[j] > r0 ? lx[j] : r0; r1 = ln[j] < r1 ? ln[j] : r1; }
    for (; i < n; i++) { double a = p[i]; r0 = a > r0 ? a : r0; r1 = a < r1 ? a : r1; }
    out[0] = r0; out[1] = r1;
}
#endif
