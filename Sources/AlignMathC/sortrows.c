#include "alignmath_sort.h"
#include "sortkeys.h"
#include <string.h>

/* Short rows by rank: the rank of element i is the number of elements before it in the
   stable order, #{j : k_j < k_i} + #{j < i : k_j == k_i}, so element i goes to slot
   rank(i) with its position i. No branches and no data-dependent memory access until the
   final stores, and the counting is vector compares of signed keys (the order-preserving
   unsigned key with its top bit flipped), eight (64-bit) or sixteen (32-bit) elements i a
   step against one broadcast j. The keys are sortkeys.h's, torch's order: every NaN
   above +inf, -0.0 equal to 0.0; descending is the complement. */

/* sortkeys.h's keys with the top bit flipped: signed, for AVX2's signed compares. */
static inline int64_t skey_f64(double x) { return (int64_t)(key_f64(x) ^ (1ull << 63)); }
static inline int32_t skey_f32(float x) { return (int32_t)((uint32_t)(key_f32(x) >> 32) ^ (1u << 31)); }

/* The ranks of n signed keys (s has room for n rounded up to 8 or 16; the lanes past n
   count nothing that is stored). */
#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx2")))
static void ranks64(const int64_t *s, size_t n, uint32_t *rank) {
    for (size_t i0 = 0; i0 < n; i0 += 8) {
        const __m256i a = _mm256_loadu_si256((const __m256i *)(s + i0));
        const __m256i b = _mm256_loadu_si256((const __m256i *)(s + i0 + 4));
        /* j before the block: k_j <= k_i, i0 minus those above */
        __m256i ca = _mm256_set1_epi64x((long long)i0), cb = ca;
        for (size_t j = 0; j < i0; j++) {
            const __m256i k = _mm256_set1_epi64x(s[j]);
            ca = _mm256_add_epi64(ca, _mm256_cmpgt_epi64(k, a));
            cb = _mm256_add_epi64(cb, _mm256_cmpgt_epi64(k, b));
        }
        /* j in the block: below, or equal and before */
        const size_t end = i0 + 8 < n ? i0 + 8 : n;
        const __m256i ia = _mm256_setr_epi64x((long long)i0, (long long)i0 + 1, (long long)i0 + 2, (long long)i0 + 3);
        const __m256i ib = _mm256_add_epi64(ia, _mm256_set1_epi64x(4));
        for (size_t j = i0; j < end; j++) {
            const __m256i k = _mm256_set1_epi64x(s[j]), jj = _mm256_set1_epi64x((long long)j);
            ca = _mm256_sub_epi64(ca, _mm256_cmpgt_epi64(a, k));
            cb = _mm256_sub_epi64(cb, _mm256_cmpgt_epi64(b, k));
            ca = _mm256_sub_epi64(ca, _mm256_and_si256(_mm256_cmpeq_epi64(a, k), _mm256_cmpgt_epi64(ia, jj)));
            cb = _mm256_sub_epi64(cb, _mm256_and_si256(_mm256_cmpeq_epi64(b, k), _mm256_cmpgt_epi64(ib, jj)));
        }
        /* j after the block: k_j < k_i */
        for (size_t j = end; j < n; j++) {
            const __m256i k = _mm256_set1_epi64x(s[j]);
            ca = _mm256_sub_epi64(ca, _mm256_cmpgt_epi64(a, k));
            cb = _mm256_sub_epi64(cb, _mm256_cmpgt_epi64(b, k));
        }
        int64_t r[8];
        _mm256_storeu_si256((__m256i *)r, ca);
        _mm256_storeu_si256((__m256i *)(r + 4), cb);
        for (size_t i = i0; i < end; i++) rank[i] = (uint32_t)r[i - i0];
    }
}

__attribute__((target("avx2")))
static void ranks32(const int32_t *s, size_t n, uint32_t *rank) {
    for (size_t i0 = 0; i0 < n; i0 += 16) {
        const __m256i a = _mm256_loadu_si256((const __m256i *)(s + i0));
        const __m256i b = _mm256_loadu_si256((const __m256i *)(s + i0 + 8));
        __m256i ca = _mm256_set1_epi32((int)i0), cb = ca;
        for (size_t j = 0; j < i0; j++) {
            const __m256i k = _mm256_set1_epi32(s[j]);
            ca = _mm256_add_epi32(ca, _mm256_cmpgt_epi32(k, a));
            cb = _mm256_add_epi32(cb, _mm256_cmpgt_epi32(k, b));
        }
        const size_t end = i0 + 16 < n ? i0 + 16 : n;
        const __m256i ia = _mm256_add_epi32(_mm256_set1_epi32((int)i0), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        const __m256i ib = _mm256_add_epi32(ia, _mm256_set1_epi32(8));
        for (size_t j = i0; j < end; j++) {
            const __m256i k = _mm256_set1_epi32(s[j]), jj = _mm256_set1_epi32((int)j);
            ca = _mm256_sub_epi32(ca, _mm256_cmpgt_epi32(a, k));
            cb = _mm256_sub_epi32(cb, _mm256_cmpgt_epi32(b, k));
            ca = _mm256_sub_epi32(ca, _mm256_and_si256(_mm256_cmpeq_epi32(a, k), _mm256_cmpgt_epi32(ia, jj)));
            cb = _mm256_sub_epi32(cb, _mm256_and_si256(_mm256_cmpeq_epi32(b, k), _mm256_cmpgt_epi32(ib, jj)));
        }
        for (size_t j = end; j < n; j++) {
            const __m256i k = _mm256_set1_epi32(s[j]);
            ca = _mm256_sub_epi32(ca, _mm256_cmpgt_epi32(a, k));
            cb = _mm256_sub_epi32(cb, _mm256_cmpgt_epi32(b, k));
        }
        int32_t r[16];
        _mm256_storeu_si256((__m256i *)r, ca);
        _mm256_storeu_si256((__m256i *)(r + 8), cb);
        for (size_t i = i0; i < end; i++) rank[i] = (uint32_t)r[i - i0];
    }
}
#else
static void ranks64(const int64_t *s, size_t n, uint32_t *rank) {
    for (size_t i = 0; i < n; i++) {
        uint32_t c = 0;
        for (size_t j = 0; j < i; j++) c += s[j] <= s[i];
        for (size_t j = i + 1; j < n; j++) c += s[j] < s[i];
        rank[i] = c;
    }
}

static void ranks32(const int32_t *s, size_t n, uint32_t *rank) {
    for (size_t i = 0; i < n; i++) {
        uint32_t c = 0;
        for (size_t j = 0; j < i; j++) c += s[j] <= s[i];
        for (size_t j = i + 1; j < n; j++) c += s[j] < s[i];
        rank[i] = c;
    }
}
#endif

/* Keys as sortlong.c keeps them (unsigned, order-preserving; an f32 key in the top half). */
static inline uint64_t ukey(const void *src, int kind, size_t j) {
    switch (kind) {
    case AM_SORT_F64: return key_f64(((const double *)src)[j]);
    case AM_SORT_F32: return key_f32(((const float *)src)[j]);
    default: return key_i64(((const int64_t *)src)[j]);
    }
}

static inline int bit_length(uint64_t x) { return x ? 64 - __builtin_clzll(x) : 0; }

/* Longer rows by value: 2n buckets (n and n / 2 measured 5-20% slower: more keys to
   move in the insertion pass), each a slice of the values' range (of the
   finite values for floats, linear in the value: so a bucket of N(0, 1) values is as wide
   as any other, where the keys' top bits, sign and exponent, would leave most buckets
   empty), -inf before the first and +inf and NaN after the last (in the descending order
   the buckets reversed). A bucket's number is monotone in the value, so the buckets in
   order hold the row in order; each bucket, a handful of keys on average, is sorted by
   insertion on its (key, position) pairs, or as a bucket of sortlong.c when it is large
   (skewed or heavy-tailed values). Returns 0, doing nothing, when the range is not finite
   (|hi - lo| overflows): the caller sorts the row another way. */
static int sort_row_buckets(const void *src, int kind, int descending, size_t n, uint64_t *restrict keys,
                            uint32_t *restrict positions, uint32_t *restrict bucket, uint32_t *restrict count,
                            uint64_t *restrict scratch, int64_t *restrict out_positions, void *out_values,
                            int64_t base) {
    const size_t nb = 2 * n;  /* finite buckets 1..nb, -inf 0, +inf/NaN nb + 1 */
    const uint32_t top = (uint32_t)nb + 1;
    const uint64_t flip = descending ? UINT64_MAX : 0;
    if (kind == AM_SORT_I64) {
        const int64_t *x = src;
        int64_t lo = INT64_MAX, hi = INT64_MIN;
        for (size_t j = 0; j < n; j++) { lo = x[j] < lo ? x[j] : lo; hi = x[j] > hi ? x[j] : hi; }
        const uint64_t span = (uint64_t)hi - (uint64_t)lo;
        /* span >> shift < 2^(bit_length(nb) - 1) <= nb */
        int shift = bit_length(span) - (bit_length(nb) - 1);
        if (shift < 0) shift = 0;
        for (size_t j = 0; j < n; j++) {
            uint32_t b = 1 + (uint32_t)(((uint64_t)x[j] - (uint64_t)lo) >> shift);
            bucket[j] = descending ? top - b : b;
        }
    } else {
        double lo = __builtin_inf(), hi = -__builtin_inf();
        if (kind == AM_SORT_F64) {
            const double *x = src;
            for (size_t j = 0; j < n; j++) {
                const double v = x[j];
                const int fin = v > -__builtin_inf() && v < __builtin_inf();
                lo = fin && v < lo ? v : lo;
                hi = fin && v > hi ? v : hi;
            }
        } else {
            const float *x = src;
            for (size_t j = 0; j < n; j++) {
                const double v = x[j];
                const int fin = v > -__builtin_inf() && v < __builtin_inf();
                lo = fin && v < lo ? v : lo;
                hi = fin && v > hi ? v : hi;
            }
        }
        double scale = 0;
        if (hi > lo) {
            const double width = hi - lo;
            if (!(width < __builtin_inf())) return 0;
            scale = (double)nb / width;
        }
        const double last = (double)(nb - 1);
#define BUCKET(v) { const double t_ = ((v) - lo) * scale; \
                    uint32_t b_ = (v) >= lo ? ((v) <= hi ? 1 + (uint32_t)(t_ < last ? t_ : last) : top) : ((v) != (v) ? top : 0); \
                    bucket[j] = descending ? top - b_ : b_; }
        if (kind == AM_SORT_F64) {
            const double *x = src;
            for (size_t j = 0; j < n; j++) BUCKET(x[j])
        } else {
            const float *x = src;
            for (size_t j = 0; j < n; j++) BUCKET((double)x[j])
        }
#undef BUCKET
    }
    memset(count, 0, (nb + 3) * sizeof(uint32_t));
    for (size_t j = 0; j < n; j++) count[bucket[j] + 1]++;
    uint32_t largest = 0;
    for (size_t b = 1; b <= nb + 2; b++) {  /* count[b]: bucket b's start */
        largest = count[b] > largest ? count[b] : largest;
        count[b] += count[b - 1];
    }
    for (size_t j = 0; j < n; j++) {
        const uint32_t at = count[bucket[j]]++;
        keys[at] = ukey(src, kind, j) ^ flip;
        positions[at] = (uint32_t)j;
    }
    /* count[b] is now bucket b's end */
    const size_t width = kind == AM_SORT_F32 ? 4 : 8;
    if (largest <= 24) {
        /* Every bucket small: one insertion pass over the row (a key moves only within its
           bucket, the earlier buckets' keys being smaller), then the outputs. */
        for (size_t j = 1; j < n; j++) {
            const uint64_t k = keys[j];
            if (keys[j - 1] <= k) continue;
            const uint32_t p = positions[j];
            size_t i = j;
            do { keys[i] = keys[i - 1]; positions[i] = positions[i - 1]; i--; } while (i > 0 && keys[i - 1] > k);
            keys[i] = k;
            positions[i] = p;
        }
        for (size_t j = 0; j < n; j++) out_positions[j] = (int64_t)positions[j] + base;
        if (out_values) {
            if (width == 8) for (size_t j = 0; j < n; j++) ((uint64_t *)out_values)[j] = ((const uint64_t *)src)[positions[j]];
            else for (size_t j = 0; j < n; j++) ((uint32_t *)out_values)[j] = ((const uint32_t *)src)[positions[j]];
        }
        return 1;
    }
    size_t a = 0;
    for (size_t b = 0; b <= nb + 1; b++) {
        const size_t e = count[b], m = e - a;
        if (m <= 24) {
            for (size_t j = a + 1; j < e; j++) {
                const uint64_t k = keys[j];
                const uint32_t p = positions[j];
                size_t i = j;
                while (i > a && keys[i - 1] > k) { keys[i] = keys[i - 1]; positions[i] = positions[i - 1]; i--; }
                keys[i] = k;
                positions[i] = p;
            }
            for (size_t j = a; j < e; j++) out_positions[j] = (int64_t)positions[j] + base;
            if (out_values) {
                if (width == 8) for (size_t j = a; j < e; j++) ((uint64_t *)out_values)[j] = ((const uint64_t *)src)[positions[j]];
                else for (size_t j = a; j < e; j++) ((uint32_t *)out_values)[j] = ((const uint32_t *)src)[positions[j]];
            }
        } else {
            am_sort_bucket(src, kind, descending, keys + a, positions + a, scratch, m, out_positions + a,
                           out_values ? (char *)out_values + a * width : NULL);
            if (base) for (size_t j = a; j < e; j++) out_positions[j] += base;
        }
        a = e;
    }
    return 1;
}

size_t am_sort_rows_scratch(size_t n) {
    /* sortsimd.c's way: two buffers of n words */
    if (n <= AM_SORT_RANK_MAX) return (n + 16) * 16;
    /* keys, positions, bucket numbers, counters; the scratch of a bucket (12 bytes a key) */
    return n * 8 + n * 4 + n * 4 + (2 * n + 4) * 4 + n * 12 + 64;
}

void am_sort_rows(const void *src, int kind, int descending, size_t n, size_t first, size_t last,
                  void *scratch, int64_t *out_positions, void *out_values, int64_t base) {
    if (n == 0) return;
    if (am_sort_rows_simd(src, kind, n, descending, first, last, scratch, out_positions, out_values, base)) return;
    const size_t width = kind == AM_SORT_F32 ? 4 : 8;
    if (n > AM_SORT_RANK_MAX) {
        uint64_t *keys = scratch, *bucket_scratch = keys + n;
        uint32_t *positions = (uint32_t *)(bucket_scratch + n + (n + 1) / 2), *bucket = positions + n;
        uint32_t *count = bucket + n;
        for (size_t r = first; r < last; r++) {
            const void *row = (const char *)src + r * n * width;
            void *vals = out_values ? (char *)out_values + r * n * width : NULL;
            if (!sort_row_buckets(row, kind, descending, n, keys, positions, bucket, count, bucket_scratch,
                                  out_positions + r * n, vals, base)) {
                am_sort_row(row, kind, descending, n, positions, bucket_scratch, out_positions + r * n, vals);
                if (base) for (size_t j = 0; j < n; j++) out_positions[r * n + j] += base;
            }
        }
        return;
    }
    int64_t *s64 = scratch;
    uint32_t *rank = (uint32_t *)(s64 + n + 16);
    if (kind == AM_SORT_F32) {
        int32_t *s32 = scratch;
        const int32_t flip = descending ? -1 : 0;
        for (size_t r = first; r < last; r++) {
            const float *x = (const float *)src + r * n;
            for (size_t j = 0; j < n; j++) s32[j] = skey_f32(x[j]) ^ flip;
            ranks32(s32, n, rank);
            int64_t *p = out_positions + r * n;
            for (size_t j = 0; j < n; j++) p[rank[j]] = (int64_t)j + base;
            if (out_values) {
                float *v = (float *)out_values + r * n;
                for (size_t j = 0; j < n; j++) v[rank[j]] = x[j];
            }
        }
        return;
    }
    const int64_t flip = descending ? -1 : 0;
    for (size_t r = first; r < last; r++) {
        int64_t *p = out_positions + r * n;
        if (kind == AM_SORT_F64) {
            const double *x = (const double *)src + r * n;
            for (size_t j = 0; j < n; j++) s64[j] = skey_f64(x[j]) ^ flip;
            ranks64(s64, n, rank);
            for (size_t j = 0; j < n; j++) p[rank[j]] = (int64_t)j + base;
            if (out_values) {
                double *v = (double *)out_values + r * n;
                for (size_t j = 0; j < n; j++) v[rank[j]] = x[j];
            }
        } else {
            const int64_t *x = (const int64_t *)src + r * n;
            for (size_t j = 0; j < n; j++) s64[j] = x[j] ^ flip;
            ranks64(s64, n, rank);
            for (size_t j = 0; j < n; j++) p[rank[j]] = (int64_t)j + base;
            if (out_values) {
                int64_t *v = (int64_t *)out_values + r * n;
                for (size_t j = 0; j < n; j++) v[rank[j]] = x[j];
            }
        }
    }
}
