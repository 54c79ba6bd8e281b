#include "alignmath_sort.h"
#include <stdlib.h>
#include <string.h>

#include "sortkeys.h"

/* The value back from its (unflipped) key, or from the row where the key does not say it
   all: -0.0 shares 0.0's key and NaNs their payloads share one. */
static inline void put_value(const void *src, int kind, uint64_t key, uint32_t at, void *out, size_t j) {
    switch (kind) {
    case AM_SORT_F64: {
        double v;
        if (key == UINT64_MAX || key == (1ull << 63)) {
            v = ((const double *)src)[at];
        } else {
            uint64_t b = (key >> 63) ? (key & ~(1ull << 63)) : ~key;
            memcpy(&v, &b, 8);
        }
        ((double *)out)[j] = v;
        break;
    }
    case AM_SORT_F32: {
        uint32_t k = (uint32_t)(key >> 32);
        float v;
        if (k == UINT32_MAX || k == (1u << 31)) {
            v = ((const float *)src)[at];
        } else {
            uint32_t b = (k >> 31) ? (k & ~(1u << 31)) : ~k;
            memcpy(&v, &b, 4);
        }
        ((float *)out)[j] = v;
        break;
    }
    default:
        ((int64_t *)out)[j] = (int64_t)(key ^ (1ull << 63));
    }
}

/* The number of bits x needs (0 for 0). */
static inline int bit_length(uint64_t x) { return x ? 64 - __builtin_clzll(x) : 0; }

int am_sort_window(size_t n, uint64_t min_key, uint64_t max_key, int *shift) {
    /* The keys agree above bit `top`; the window is the `window` bits below it. About 16
       keys a digit on average (8 to 18 bits, so the histograms stay in L2 and the plan's
       pass over the digits stays small beside the row), but at least 14 bits, so a digit's
       keys differ in at most 50 bits and pack with their positions. */
    const int top = bit_length(min_key ^ max_key);
    int window = bit_length(n) - 1 - 4;
    if (window < 8) window = 8;
    if (window > 18) window = 18;
    if (top - window > 50) window = top - 50;
    *shift = top > window ? top - window : 0;
    return window;
}

/* The passes over the row are written once (`static inline` bodies) and compiled twice: as
   they are, and for AVX-512 where `am_sort_simd_active()` (eight keys a vector: the
   histogram pass took 14 ms instead of 21 on 1e7 doubles, 12-06). */
#if defined(__x86_64__)
#define T512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl")))
#else
#define T512
#endif
#define BODY static inline __attribute__((always_inline))

/* One loop per kind, so the key's code is inlined and the switch leaves the loop. */
#define FOR_KIND(kind, body)                                                        \
    switch (kind) {                                                                 \
    case AM_SORT_F64: { const double *s = src; body(key_f64(s[j])) break; }        \
    case AM_SORT_F32: { const float *s = src; body(key_f32(s[j])) break; }         \
    default: { const int64_t *s = src; body(key_i64(s[j])) break; }                \
    }

void am_sort_minmax(const void *src, int kind, size_t lo, size_t hi, int descending,
                    uint64_t *min_key, uint64_t *max_key) {
    /* The extremes of the values (NaN aside: `x < m` is false for it, and the loops
       vectorise as min/max instructions), then their keys: NaN's key is the largest. */
    uint64_t kmin = UINT64_MAX, kmax = UINT64_MAX;
    switch (kind) {
    case AM_SORT_F64: {
        const double *s = src;
        double a = __builtin_inf(), b = -__builtin_inf();
        int nan = 0;
        for (size_t j = lo; j < hi; j++) { double x = s[j]; nan |= x != x; a = x < a ? x : a; b = x > b ? x : b; }
        if (a <= b) { kmin = key_f64(a); kmax = nan ? UINT64_MAX : key_f64(b); }
        break;
    }
    case AM_SORT_F32: {
        const float *s = src;
        float a = __builtin_inff(), b = -__builtin_inff();
        int nan = 0;
        for (size_t j = lo; j < hi; j++) { float x = s[j]; nan |= x != x; a = x < a ? x : a; b = x > b ? x : b; }
        if (a <= b) { kmin = key_f32(a); kmax = nan ? (uint64_t)UINT32_MAX << 32 : key_f32(b); }
        else { kmin = kmax = (uint64_t)UINT32_MAX << 32; }
        break;
    }
    default: {
        const int64_t *s = src;
        int64_t a = INT64_MAX, b = INT64_MIN;
        for (size_t j = lo; j < hi; j++) { int64_t x = s[j]; a = x < a ? x : a; b = x > b ? x : b; }
        kmin = key_i64(a);
        kmax = key_i64(b);
    }
    }
    if (descending) { uint64_t t = ~kmax; kmax = ~kmin; kmin = t; }
    *min_key = kmin;
    *max_key = kmax;
}

/* The digits of a chunk of keys are worked out in one loop (which vectorises) before the
   counters are touched one by one. */
#define CHUNK 256

/* The bits a guessed window reaches above the top bit where its sample's keys differ. */
#define GUESS_MARGIN 4

BODY void hist_body(const void *src, int kind, size_t lo, size_t hi, int descending, uint64_t offset,
                    int shift, int window, uint32_t *restrict hist) {
    const uint64_t flip = descending ? UINT64_MAX : 0, mask = ((uint64_t)1 << window) - 1;
    uint32_t digit[CHUNK];
    for (size_t c = lo; c < hi; c += CHUNK) {
        const size_t m = hi - c < CHUNK ? hi - c : CHUNK;
#define DIGITS(KEY) for (size_t i = 0, j = c; i < m; i++, j++) digit[i] = (uint32_t)(((((KEY) ^ flip) - offset) >> shift) & mask);
        FOR_KIND(kind, DIGITS)
#undef DIGITS
        for (size_t i = 0; i < m; i++) hist[digit[i]]++;
    }
}

static void hist_generic(const void *src, int kind, size_t lo, size_t hi, int descending, uint64_t offset, int shift,
                         int window, uint32_t *hist) {
    hist_body(src, kind, lo, hi, descending, offset, shift, window, hist);
}

T512 static void hist_avx512(const void *src, int kind, size_t lo, size_t hi, int descending, uint64_t offset,
                             int shift, int window, uint32_t *hist) {
    hist_body(src, kind, lo, hi, descending, offset, shift, window, hist);
}

void am_sort_hist(const void *src, int kind, size_t lo, size_t hi, int descending, uint64_t offset,
                  int shift, int window, uint32_t *restrict hist) {
    if (am_sort_simd_active()) hist_avx512(src, kind, lo, hi, descending, offset, shift, window, hist);
    else hist_generic(src, kind, lo, hi, descending, offset, shift, window, hist);
}

int am_sort_window_guess(const void *src, int kind, size_t n, int descending, int *shift) {
    /* Keys on both sides of 2^63 differ in bit 63, so the extremes do: am_sort_window's
       top is 64 whatever else the row holds. Otherwise the sample's keys differ below some
       bit; the row's may differ higher up: the guess takes GUESS_MARGIN bits more, and the
       caller checks the extremes against it. */
    const uint64_t flip = descending ? UINT64_MAX : 0;
    uint64_t kmin = UINT64_MAX, kmax = 0;
    for (size_t i = 0; i < 64 && n; i++) {
        const size_t j = n * (2 * i + 1) / 128;
        uint64_t k;
        switch (kind) {
        case AM_SORT_F64: k = key_f64(((const double *)src)[j]); break;
        case AM_SORT_F32: k = key_f32(((const float *)src)[j]); break;
        default: k = key_i64(((const int64_t *)src)[j]);
        }
        k ^= flip;
        kmin = k < kmin ? k : kmin;
        kmax = k > kmax ? k : kmax;
    }
    if (!n) return 0;
    int top = bit_length(kmin ^ kmax);
    if (top < 64) top += GUESS_MARGIN;
    if (top > 64) top = 64;
    return am_sort_window(n, 0, top == 64 ? UINT64_MAX : ((uint64_t)1 << top) - 1, shift);
}

/* The extremes and the histogram in one pass: the keys of a chunk worked out in one loop,
   their extremes and digits in another (both vectorise), then the counters. */
BODY void minmax_hist_body(const void *src, int kind, size_t lo, size_t hi, int descending, int shift, int window,
                           uint64_t *min_key, uint64_t *max_key, uint32_t *restrict hist) {
    const uint64_t flip = descending ? UINT64_MAX : 0, mask = ((uint64_t)1 << window) - 1;
    uint64_t key[CHUNK], kmin = UINT64_MAX, kmax = 0;
    uint32_t digit[CHUNK];
    for (size_t c = lo; c < hi; c += CHUNK) {
        const size_t m = hi - c < CHUNK ? hi - c : CHUNK;
#define KEYS(KEY) for (size_t i = 0, j = c; i < m; i++, j++) key[i] = (KEY) ^ flip;
        FOR_KIND(kind, KEYS)
#undef KEYS
        for (size_t i = 0; i < m; i++) {
            const uint64_t k = key[i];
            kmin = k < kmin ? k : kmin;
            kmax = k > kmax ? k : kmax;
            digit[i] = (uint32_t)((k >> shift) & mask);
        }
        for (size_t i = 0; i < m; i++) hist[digit[i]]++;
    }
    *min_key = kmin;
    *max_key = kmax;
}

static void minmax_hist_generic(const void *src, int kind, size_t lo, size_t hi, int descending, int shift,
                                int window, uint64_t *min_key, uint64_t *max_key, uint32_t *hist) {
    minmax_hist_body(src, kind, lo, hi, descending, shift, window, min_key, max_key, hist);
}

T512 static void minmax_hist_avx512(const void *src, int kind, size_t lo, size_t hi, int descending, int shift,
                                    int window, uint64_t *min_key, uint64_t *max_key, uint32_t *hist) {
    minmax_hist_body(src, kind, lo, hi, descending, shift, window, min_key, max_key, hist);
}

void am_sort_minmax_hist(const void *src, int kind, size_t lo, size_t hi, int descending, int shift, int window,
                         uint64_t *min_key, uint64_t *max_key, uint32_t *hist) {
    if (am_sort_simd_active()) minmax_hist_avx512(src, kind, lo, hi, descending, shift, window, min_key, max_key, hist);
    else minmax_hist_generic(src, kind, lo, hi, descending, shift, window, min_key, max_key, hist);
}

/* Buckets of about this many keys: a bucket's keys and scratch (16 bytes a key) stay in L2. */
#define BUCKET_TARGET 32768


size_t am_sort_plan(const uint32_t *hists, int pieces, size_t n, int shift, int window,
                    uint32_t *lut, size_t *bucket_start, size_t *next) {
    const size_t digits = (size_t)1 << window;
    /* A bucket spans neighbouring digits while it stays under the target and it still
       packs: its keys differ in at most shift + bit_length(first ^ last digit) bits, and
       those with the in-bucket position must fit 64 bits. */
    size_t nb = 0, filled = 0, first = 0;
    bucket_start[0] = 0;
    for (size_t d = 0; d < digits; d++) {
        size_t c = 0;
        for (int p = 0; p < pieces; p++) c += hists[(size_t)p * digits + d];
        if (c && filled) {
            int bits = shift + bit_length(first ^ d) + bit_length(filled + c - 1);
            if (filled + c > BUCKET_TARGET || bits > 64) {
                nb++;
                bucket_start[nb] = bucket_start[nb - 1] + filled;
                filled = 0;
            }
        }
        if (c && !filled) first = d;
        lut[d] = (uint32_t)nb;
        filled += c;
    }
    nb++;
    bucket_start[nb] = n;
    /* Where each piece writes its first key of each bucket: after the earlier pieces'. */
    for (int p = 0; p < pieces; p++) memset(next + (size_t)p * digits, 0, nb * sizeof(size_t));
    for (size_t d = 0; d < digits; d++)
        for (int p = 0; p < pieces; p++) next[(size_t)p * digits + lut[d]] += hists[(size_t)p * digits + d];
    for (size_t b = 0; b < nb; b++) {
        size_t at = bucket_start[b];
        for (int p = 0; p < pieces; p++) {
            size_t c = next[(size_t)p * digits + b];
            next[(size_t)p * digits + b] = at;
            at += c;
        }
    }
    return nb;
}

/* The scatter gathers each bucket's keys and positions in a small buffer and writes them
   out sixteen at a time, as whole cache lines (two of keys, one of positions) by streaming
   stores where the CPU has them: a store a key straight to one of hundreds of buckets
   missed L1 most of the time, and those stores held the loop up. A bucket's first write
   only goes up to its first 16-key boundary, so the later ones are aligned. From
   WC_MIN_BUCKETS to WC_BUCKETS buckets (the buffers take 194 bytes a bucket); others take
   the direct stores (a few buckets stay in L1 as they are: 1e7 int64 in two buckets took
   82 ms through the buffers, 32 direct). */
#ifndef WC_MIN_BUCKETS
#define WC_MIN_BUCKETS 16
#endif
#define WC_BUCKETS 4096
#define WC 16

#if defined(__x86_64__)
#include <emmintrin.h>
/* 16 keys and 16 positions to keys + at and positions + at, at a multiple of 16: memory
   that the scatter will not read again, so past the caches. */
static inline void wc_store(uint64_t *keys, uint32_t *positions, size_t at, const uint64_t *k, const uint32_t *p,
                            int aligned) {
    __m128i *dk = (__m128i *)(keys + at), *dp = (__m128i *)(positions + at);
    const __m128i *sk = (const __m128i *)k, *sp = (const __m128i *)p;
    if (aligned) {
        for (int i = 0; i < 8; i++) _mm_stream_si128(dk + i, _mm_load_si128(sk + i));
        for (int i = 0; i < 4; i++) _mm_stream_si128(dp + i, _mm_load_si128(sp + i));
    } else {  /* the keys of a row of a tensor of odd rows start off 16 bytes */
        for (int i = 0; i < 8; i++) _mm_storeu_si128(dk + i, _mm_load_si128(sk + i));
        for (int i = 0; i < 4; i++) _mm_storeu_si128(dp + i, _mm_load_si128(sp + i));
    }
}
static inline void wc_fence(void) { _mm_sfence(); }
#else
static inline void wc_store(uint64_t *keys, uint32_t *positions, size_t at, const uint64_t *k, const uint32_t *p,
                            int aligned) {
    (void)aligned;
    memcpy(keys + at, k, WC * 8);
    memcpy(positions + at, p, WC * 4);
}
static inline void wc_fence(void) {}
#endif

/* The scatter's keys of `src[c..<c+m]`, less the row's offset, into `key` (both scatters). */
BODY void chunk_keys(const void *src, int kind, size_t c, size_t m, uint64_t flip, uint64_t offset,
                     uint64_t *restrict key) {
#define KEYS(KEY) for (size_t i = 0, j = c; i < m; i++, j++) key[i] = ((KEY) ^ flip) - offset;
    FOR_KIND(kind, KEYS)
#undef KEYS
}

static void scatter_direct(const void *src, int kind, size_t lo, size_t hi, uint64_t flip, uint64_t offset, int shift, uint64_t mask,
                           const uint32_t *restrict lut, size_t *restrict next, uint64_t *restrict keys,
                           uint32_t *restrict positions) {
    uint64_t key[CHUNK];
    for (size_t c = lo; c < hi; c += CHUNK) {
        const size_t m = hi - c < CHUNK ? hi - c : CHUNK;
        chunk_keys(src, kind, c, m, flip, offset, key);
        for (size_t i = 0; i < m; i++) {
            const uint64_t k = key[i];
            const size_t at = next[lut[(k >> shift) & mask]]++;
            keys[at] = k;
            positions[at] = (uint32_t)(c + i);
        }
    }
}

struct wc { uint64_t k[WC]; uint32_t p[WC]; };

BODY void scatter_wc_body(const void *src, int kind, size_t lo, size_t hi, uint64_t flip, uint64_t offset, int shift, uint64_t mask,
                          const uint32_t *restrict lut, size_t *restrict next, uint64_t *restrict keys,
                          uint32_t *restrict positions, struct wc *restrict buf, uint8_t *restrict fill,
                          uint8_t *restrict limit, int aligned) {
    uint64_t key[CHUNK];
    for (size_t c = lo; c < hi; c += CHUNK) {
        const size_t m = hi - c < CHUNK ? hi - c : CHUNK;
        chunk_keys(src, kind, c, m, flip, offset, key);
        for (size_t i = 0; i < m; i++) {
            const uint64_t k = key[i];
            const uint32_t b = lut[(k >> shift) & mask];
            struct wc *w = buf + b;
            const unsigned f = fill[b];
            w->k[f] = k;
            w->p[f] = (uint32_t)(c + i);
            if (f + 1 == limit[b]) {
                const size_t at = next[b];
                if (f + 1 == WC) {
                    wc_store(keys, positions, at, w->k, w->p, aligned);
                } else {  /* the first write, up to the boundary */
                    memcpy(keys + at, w->k, (f + 1) * sizeof(uint64_t));
                    memcpy(positions + at, w->p, (f + 1) * sizeof(uint32_t));
                    limit[b] = WC;
                }
                next[b] = at + f + 1;
                fill[b] = 0;
            } else {
                fill[b] = (uint8_t)(f + 1);
            }
        }
    }
}

static void scatter_wc_generic(const void *src, int kind, size_t lo, size_t hi, uint64_t flip, uint64_t offset, int shift, uint64_t mask,
                               const uint32_t *lut, size_t *next, uint64_t *keys, uint32_t *positions, struct wc *buf,
                               uint8_t *fill, uint8_t *limit, int aligned) {
    scatter_wc_body(src, kind, lo, hi, flip, offset, shift, mask, lut, next, keys, positions, buf, fill, limit, aligned);
}

T512 static void scatter_wc_avx512(const void *src, int kind, size_t lo, size_t hi, uint64_t flip, uint64_t offset, int shift,
                                   uint64_t mask, const uint32_t *lut, size_t *next, uint64_t *keys, uint32_t *positions,
                                   struct wc *buf, uint8_t *fill, uint8_t *limit, int aligned) {
    scatter_wc_body(src, kind, lo, hi, flip, offset, shift, mask, lut, next, keys, positions, buf, fill, limit, aligned);
}

void am_sort_scatter(const void *src, int kind, size_t lo, size_t hi, int descending, uint64_t offset,
                     int shift, int window, const uint32_t *restrict lut, size_t *restrict next,
                     uint64_t *restrict keys, uint32_t *restrict positions) {
    const uint64_t flip = descending ? UINT64_MAX : 0, mask = ((uint64_t)1 << window) - 1;
    const size_t nb = (size_t)lut[mask] + 1;  /* the plan's lut is non-decreasing */
    struct wc *buf = NULL;
    if (nb < WC_MIN_BUCKETS || nb > WC_BUCKETS || posix_memalign((void **)&buf, 64, nb * (sizeof(struct wc) + 2)) != 0) {
        scatter_direct(src, kind, lo, hi, flip, offset, shift, mask, lut, next, keys, positions);
        return;
    }
    /* streaming stores need 16-byte alignment (the keys are 64-byte aligned but for rows
       after the first of a tensor) */
    const int aligned = ((uintptr_t)keys & 15) == 0 && ((uintptr_t)positions & 15) == 0;
    uint8_t *fill = (uint8_t *)(buf + nb), *limit = fill + nb;
    memset(fill, 0, nb);
    for (size_t b = 0; b < nb; b++) limit[b] = (uint8_t)(WC - (next[b] & (WC - 1)));
    if (am_sort_simd_active()) scatter_wc_avx512(src, kind, lo, hi, flip, offset, shift, mask, lut, next, keys, positions, buf, fill, limit, aligned);
    else scatter_wc_generic(src, kind, lo, hi, flip, offset, shift, mask, lut, next, keys, positions, buf, fill, limit, aligned);
    wc_fence();
    for (size_t b = 0; b < nb; b++) {
        const size_t at = next[b];
        memcpy(keys + at, buf[b].k, fill[b] * sizeof(uint64_t));
        memcpy(positions + at, buf[b].p, fill[b] * sizeof(uint32_t));
        next[b] = at + fill[b];
    }
    free(buf);
}

/* LSD radix sort of `n` packed words over bits [lo, lo + bits), in passes of near-equal
   widths of at most `max_width` (<= 12) bits; passes whose digit is the same everywhere are
   skipped. Wide digits cost less here (fewer passes, and fewer repeats of one counter in
   flight) as long as the counters stay in L1 beside a bucket that fits L2. Returns the
   array holding the result (`a` or `b`). */
static uint64_t *lsd_packed(uint64_t *restrict a, uint64_t *restrict b, size_t n, int lo, int bits, int max_width) {
    if (bits <= 0) return a;
    int passes = (bits + max_width - 1) / max_width;
    int shifts[64], widths[64], at = lo;
    for (int p = 0; p < passes; p++) {
        widths[p] = bits / passes + (p < bits % passes);
        shifts[p] = at;
        at += widths[p];
    }
    const size_t stride = (size_t)1 << widths[0];  /* the widest */
    uint32_t hist[5 * 4096];  /* passes * stride <= 5 * 4096 for every max_width <= 12 */
    memset(hist, 0, sizeof(uint32_t) * stride * (size_t)passes);
    for (size_t j = 0; j < n; j++) {
        uint64_t k = a[j];
        for (int p = 0; p < passes; p++) hist[p * stride + ((k >> shifts[p]) & ((1u << widths[p]) - 1))]++;
    }
    for (int p = 0; p < passes; p++) {
        uint32_t *h = hist + p * stride;
        const int s = shifts[p];
        const uint64_t mask = (1u << widths[p]) - 1;
        if (h[(a[0] >> s) & mask] == n) continue;
        uint32_t sum = 0;
        for (uint64_t d = 0; d <= mask; d++) { uint32_t c = h[d]; h[d] = sum; sum += c; }
        for (size_t j = 0; j < n; j++) { uint64_t k = a[j]; b[h[(k >> s) & mask]++] = k; }
        uint64_t *t = a; a = b; b = t;
    }
    return a;
}

/* Stable insertion sorts of a short run of (key, position) pairs: in place, or from one
   pair of arrays into the other. */
static void insertion_pairs(uint64_t *k, uint32_t *ix, size_t n) {
    for (size_t j = 1; j < n; j++) {
        uint64_t key = k[j];
        uint32_t p = ix[j];
        size_t m = j;
        while (m > 0 && k[m - 1] > key) { k[m] = k[m - 1]; ix[m] = ix[m - 1]; m--; }
        k[m] = key;
        ix[m] = p;
    }
}

static void insertion_pairs_into(const uint64_t *restrict ks, const uint32_t *restrict is,
                                 uint64_t *restrict kd, uint32_t *restrict id, size_t n) {
    for (size_t j = 0; j < n; j++) {
        uint64_t key = ks[j];
        uint32_t p = is[j];
        size_t m = j;
        while (m > 0 && kd[m - 1] > key) { kd[m] = kd[m - 1]; id[m] = id[m - 1]; m--; }
        kd[m] = key;
        id[m] = p;
    }
}

/* Stable MSD radix sort of (key, position) pairs whose keys agree above bit `bits`, for the
   buckets that do not pack (more than 65,536 keys, or keys spread over more than 48 bits):
   the pairs are in A (ka, ia), B is scratch, and the result goes to A (`out` 0) or B (1);
   the levels alternate A and B, so nothing is copied back. */
static void msd_pairs(uint64_t *restrict ka, uint32_t *restrict ia, uint64_t *restrict kb, uint32_t *restrict ib,
                      size_t n, int bits, int out) {
    for (;;) {
        if (bits <= 0) {  /* every key equal: already in order */
            if (out) { memcpy(kb, ka, n * 8); memcpy(ib, ia, n * 4); }
            return;
        }
        if (n <= 16) {
            if (out) insertion_pairs_into(ka, ia, kb, ib, n);
            else insertion_pairs(ka, ia, n);
            return;
        }
        int w = 0;
        while (w < 11 && ((size_t)2 << w) <= n / 2) w++;
        if (w < 3) w = 3;
        if (w > bits) w = bits;
        const int sh = bits - w;
        const size_t buckets = (size_t)1 << w;
        const uint64_t mask = buckets - 1;
        uint32_t h[2048 + 1];
        memset(h, 0, sizeof(uint32_t) * buckets);
        for (size_t j = 0; j < n; j++) h[(ka[j] >> sh) & mask]++;
        uint32_t sum = 0;
        int used = 0;
        for (size_t d = 0; d < buckets; d++) { uint32_t c = h[d]; h[d] = sum; sum += c; used += c != 0; }
        h[buckets] = (uint32_t)n;
        if (used == 1) { bits = sh; continue; }  /* one digit: go down without moving */
        uint32_t start[2048 + 1];
        memcpy(start, h, (buckets + 1) * sizeof(uint32_t));
        for (size_t j = 0; j < n; j++) {
            uint64_t k = ka[j];
            uint32_t p = ia[j], at = h[(k >> sh) & mask]++;
            kb[at] = k;
            ib[at] = p;
        }
        for (size_t d = 0; d < buckets; d++) {
            uint32_t a = start[d], m = start[d + 1] - a;
            if (m) msd_pairs(kb + a, ib + a, ka + a, ia + a, m, sh, !out);
        }
        return;
    }
}

/* A bucket's words: the varying bits of each key over its in-bucket position. */
static inline __attribute__((always_inline)) void pack_words(const uint64_t *restrict keys, uint64_t *restrict packed,
                                                             size_t count, int lo, uint64_t field, int pb) {
    for (size_t j = 0; j < count; j++) packed[j] = (((keys[j] >> lo) & field) << pb) | j;
}

/* The sorted words written out: each word's value, when asked, decoded from the key bits in
   the word (the bits that do not vary are `base`'s) in a loop without branches, then its
   position (looked up by its in-bucket position), then the values whose keys do not say
   them (0.0 and -0.0, NaNs) read from the row. `sorted` may be `out_positions` (the LSD's
   result in the keys): each word is read before its slot is written. */
static inline __attribute__((always_inline)) void write_words(const void *src, int kind, uint64_t flip, uint64_t offset,
                                                              const uint64_t *sorted,
                                                              const uint32_t *restrict positions, size_t count,
                                                              int lo, int pb, uint64_t base,
                                                              int64_t *out_positions, void *restrict out_values,
                                                              int64_t origin) {
    const uint64_t pmask = ((uint64_t)1 << pb) - 1;
    int special = 0;
    if (out_values) {
        switch (kind) {
        case AM_SORT_F64: {
            uint64_t *restrict o = out_values;
            for (size_t j = 0; j < count; j++) {
                const uint64_t k = ((base | ((sorted[j] >> pb) << lo)) + offset) ^ flip;
                special |= (k == UINT64_MAX) | (k == (1ull << 63));
                o[j] = k ^ ((uint64_t)((int64_t)~k >> 63) | (1ull << 63));
            }
            break;
        }
        case AM_SORT_F32: {
            uint32_t *restrict o = out_values;
            for (size_t j = 0; j < count; j++) {
                const uint32_t k = (uint32_t)((((base | ((sorted[j] >> pb) << lo)) + offset) ^ flip) >> 32);
                special |= (k == UINT32_MAX) | (k == (1u << 31));
                o[j] = k ^ ((uint32_t)((int32_t)~k >> 31) | (1u << 31));
            }
            break;
        }
        default: {
            uint64_t *restrict o = out_values;
            for (size_t j = 0; j < count; j++) o[j] = (((base | ((sorted[j] >> pb) << lo)) + offset) ^ flip) ^ (1ull << 63);
        }
        }
    }
    for (size_t j = 0; j < count; j++) out_positions[j] = (int64_t)positions[sorted[j] & pmask] + origin;
    if (special) {
        /* the words are gone where they were the positions: the values tell the specials */
        if (kind == AM_SORT_F64) {
            const uint64_t *x = src;
            uint64_t *o = out_values;
            for (size_t j = 0; j < count; j++) {
                const uint64_t v = o[j];
                if (v == (UINT64_MAX >> 1) || v == 0) o[j] = x[out_positions[j] - origin];  /* NaN's key, 0's */
            }
        } else {
            const uint32_t *x = src;
            uint32_t *o = out_values;
            for (size_t j = 0; j < count; j++) {
                const uint32_t v = o[j];
                if (v == (UINT32_MAX >> 1) || v == 0) o[j] = x[out_positions[j] - origin];
            }
        }
    }
}

#ifndef SUB_BITS
#define SUB_BITS 6
#endif
#ifndef SPLIT_FROM
#define SPLIT_FROM 2048
#endif

/* The packed way where the CPU has AVX-512: the same passes compiled for it, and the words
   sorted by sortsimd.c's quicksort (the keys are its scratch). */
#if defined(__x86_64__)
__attribute__((target("avx512f,avx512dq,avx512bw,avx512vl")))
#endif
static void packed_bucket_avx512(const void *src, int kind, uint64_t flip, uint64_t offset, uint64_t *keys,
                                 const uint32_t *positions,
                                 uint64_t *packed, size_t count, int lo, int bits, int pb, uint64_t base,
                                 int64_t *out_positions, void *out_values, int64_t origin) {
    const uint64_t field = bits ? (bits == 64 ? UINT64_MAX : (((uint64_t)1 << bits) - 1)) : 0;
    pack_words(keys, packed, count, lo, field, pb);
    const int width = bits + pb;
    int r = bit_length(count) - SUB_BITS;  /* parts of ~64-128 words */
    if (r > width) r = width;
    if (count < SPLIT_FROM || r < 4) {
        am_sort_words_simd(packed, keys, count);
    } else {
        /* One radix pass on the words' top r bits into the keys' memory (the words of a
           bucket spread about evenly there), then each part sorted back into `packed`: by the
           register network up to 128 words, by the quicksort above; the quicksort's top
           levels are the ones this pass saves. */
        const int sh = width - r;
        uint32_t start[(1 << 12) + 1];
        const size_t parts = (size_t)1 << r;
        memset(start, 0, (parts + 1) * sizeof(uint32_t));
        for (size_t j = 0; j < count; j++) start[(packed[j] >> sh) + 1]++;
        for (size_t d = 0; d < parts; d++) start[d + 1] += start[d];
        uint32_t at[1 << 12];
        memcpy(at, start, parts * sizeof(uint32_t));
        for (size_t j = 0; j < count; j++) { const uint64_t w = packed[j]; keys[at[w >> sh]++] = w; }
        for (size_t d = 0; d < parts; d++) {
            const size_t a = start[d], m = start[d + 1] - a;
            if (m <= 128) {
                if (m) am_sort_words_small(keys + a, packed + a, m);
            } else {
                memcpy(packed + a, keys + a, m * sizeof(uint64_t));
                am_sort_words_simd(packed + a, keys + a, m);
            }
        }
    }
    write_words(src, kind, flip, offset, packed, positions, count, lo, pb, base, out_positions, out_values, origin);
}

void am_sort_bucket(const void *src, int kind, int descending, uint64_t *keys, uint32_t *positions,
                    uint64_t *scratch, size_t count, int64_t *out_positions, void *out_values) {
    am_sort_bucket_from(src, kind, descending, 0, keys, positions, scratch, count, out_positions, out_values, 0);
}

void am_sort_bucket_from(const void *src, int kind, int descending, uint64_t offset, uint64_t *keys, uint32_t *positions,
                         uint64_t *scratch, size_t count, int64_t *out_positions, void *out_values, int64_t origin) {
    if (count == 0) return;
    const uint64_t flip = descending ? UINT64_MAX : 0, first = keys[0];
    uint64_t varying = 0;
    for (size_t j = 0; j < count; j++) varying |= keys[j] ^ first;
    int lo = 0, hi = 0;
    if (varying) {
        lo = __builtin_ctzll(varying);
        hi = 64 - __builtin_clzll(varying);
    }
    const int position_bits = bit_length(count - 1);
    if (count <= 65536 && (hi - lo) + position_bits <= 64) {
        /* Pack the varying bits over the in-bucket position, sort the words in cache, and
           read each key back from its word (the bits that do not vary are `first`'s). */
        const int bits = hi - lo, pb = position_bits;
        const uint64_t field = bits ? (bits == 64 ? UINT64_MAX : (((uint64_t)1 << bits) - 1)) : 0;
        const uint64_t base = first & ~(field << lo);
        uint64_t *packed = scratch;
        if (am_sort_simd_active()) {
            packed_bucket_avx512(src, kind, flip, offset, keys, positions, packed, count, lo, bits, pb, base, out_positions,
                                 out_values, origin);
            return;
        }
        pack_words(keys, packed, count, lo, field, pb);
        const uint64_t *sorted = packed;
        if (count <= 32) {
            /* a short run: insertion (the words differ, so the order is the stable one) */
            for (size_t j = 1; j < count; j++) {
                uint64_t w = packed[j];
                size_t i = j;
                while (i > 0 && packed[i - 1] > w) { packed[i] = packed[i - 1]; i--; }
                packed[i] = w;
            }
        } else {
            int width = bit_length(count) - 2;
            width = width < 6 ? 6 : (width > 12 ? 12 : width);
            sorted = lsd_packed(packed, keys, count, pb, bits, width);
        }
        write_words(src, kind, flip, offset, sorted, positions, count, lo, pb, base, out_positions, out_values, origin);
        return;
    }
    /* The (key, position) way, its scratch positions after the scratch words. The keys may
       be the output positions' memory: each is read before its slot is written. */
    msd_pairs(keys, positions, scratch, (uint32_t *)(scratch + count), count, hi, 0);
    for (size_t j = 0; j < count; j++) {
        const uint64_t key = keys[j];
        const uint32_t at = positions[j];
        out_positions[j] = (int64_t)at + origin;
        if (out_values) put_value(src, kind, (key + offset) ^ flip, at, out_values, j);
    }
}

void am_sort_row(const void *src, int kind, int descending, size_t count, uint32_t *positions,
                 uint64_t *scratch, int64_t *out_positions, void *out_values) {
    const uint64_t flip = descending ? UINT64_MAX : 0;
    uint64_t *keys = (uint64_t *)out_positions;
#define KEYS(KEY) for (size_t j = 0; j < count; j++) { keys[j] = (KEY) ^ flip; positions[j] = (uint32_t)j; }
    FOR_KIND(kind, KEYS)
#undef KEYS
    am_sort_bucket(src, kind, descending, keys, positions, scratch, count, out_positions, out_values);
}
