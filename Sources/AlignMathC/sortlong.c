#include "alignmath_sort.h"
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

void am_sort_hist(const void *src, int kind, size_t lo, size_t hi, int descending,
                  int shift, int window, uint32_t *restrict hist) {
    const uint64_t flip = descending ? UINT64_MAX : 0, mask = ((uint64_t)1 << window) - 1;
    uint32_t digit[CHUNK];
    for (size_t c = lo; c < hi; c += CHUNK) {
        const size_t m = hi - c < CHUNK ? hi - c : CHUNK;
#define DIGITS(KEY) for (size_t i = 0, j = c; i < m; i++, j++) digit[i] = (uint32_t)((((KEY) ^ flip) >> shift) & mask);
        FOR_KIND(kind, DIGITS)
#undef DIGITS
        for (size_t i = 0; i < m; i++) hist[digit[i]]++;
    }
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

void am_sort_scatter(const void *src, int kind, size_t lo, size_t hi, int descending,
                     int shift, int window, const uint32_t *restrict lut, size_t *restrict next,
                     uint64_t *restrict keys, uint32_t *restrict positions) {
    const uint64_t flip = descending ? UINT64_MAX : 0, mask = ((uint64_t)1 << window) - 1;
    uint64_t key[CHUNK];
    for (size_t c = lo; c < hi; c += CHUNK) {
        const size_t m = hi - c < CHUNK ? hi - c : CHUNK;
#define KEYS(KEY) for (size_t i = 0, j = c; i < m; i++, j++) key[i] = (KEY) ^ flip;
        FOR_KIND(kind, KEYS)
#undef KEYS
        for (size_t i = 0; i < m; i++) {
            const uint64_t k = key[i];
            const size_t at = next[lut[(k >> shift) & mask]]++;
            keys[at] = k;
            positions[at] = (uint32_t)(c + i);
        }
    }
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

void am_sort_bucket(const void *src, int kind, int descending, uint64_t *keys, uint32_t *positions,
                    uint64_t *scratch, size_t count, int64_t *out_positions, void *out_values) {
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
        const uint64_t base = first & ~(field << lo), pmask = ((uint64_t)1 << pb) - 1;
        uint64_t *packed = scratch;
        for (size_t j = 0; j < count; j++) packed[j] = (((keys[j] >> lo) & field) << pb) | j;
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
        for (size_t j = 0; j < count; j++) {
            uint64_t w = sorted[j];
            uint32_t at = positions[w & pmask];
            out_positions[j] = at;
            if (out_values) put_value(src, kind, (base | ((w >> pb) << lo)) ^ flip, at, out_values, j);
        }
        return;
    }
    /* The (key, position) way, its scratch positions after the scratch words. The keys may
       be the output positions' memory: each is read before its slot is written. */
    msd_pairs(keys, positions, scratch, (uint32_t *)(scratch + count), count, hi, 0);
    for (size_t j = 0; j < count; j++) {
        const uint64_t key = keys[j];
        const uint32_t at = positions[j];
        out_positions[j] = at;
        if (out_values) put_value(src, kind, key ^ flip, at, out_values, j);
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
