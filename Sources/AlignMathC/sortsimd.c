#include "alignmath_sort.h"
#include "sortkeys.h"
#include <string.h>

/* Rows of up to 65,536 elements with AVX-512 (am_sort_rows' first way where the CPU has it).
   Each element becomes one unique word: its order-preserving key minus the row's smallest,
   shifted right until key and position fit, then the 0-based position in the low bits. So
   sorting the words sorts (key, position): stable by construction, one unsigned compare a
   pair. Words are 64-bit, eight a register, except for f32 rows of up to
   AM_SORT_SIMD_F32_MAX: 32-bit, sixteen a register (above 1,024 elements their key bits are
   a slot linear in the value instead of the key's top bits: sort_row_f32_linear). Rows of
   up to 128 64-bit or 256 32-bit words are sorted by a bitonic network in registers (padded
   to a power of two with the largest word; from eight registers the first levels are a
   network on whole registers, which sorts the columns; sixteen registers are merged in that
   column layout too and transposed at the end, eight 64-bit ones transposed first;
   449 to 512 32-bit words two networks of 256 and a merge), longer ones by a quicksort whose
   partitions are compressed vectors (out of place, between the words and a second buffer)
   down to segments the networks take. Where the shift dropped low bits of the keys (f64
   rows of wide range, i64 rows spanning more than 2^(64 - bits of the position), f32 rows in
   32-bit words), neighbours whose shifted keys are equal may be out of order: each is
   inserted among those equal to it by its full key (rare in continuous values; ties have
   equal full keys and stay in the order of their positions; f32 runs longer than 16 are
   sorted as 64-bit words of full key and position). Outputs of large calls in rows of 256
   and more go out by streaming stores. The keys are sortkeys.h's (torch's order: NaN above
   +inf, -0.0 equal to 0.0; descending the complement). BENCHMARKS.md, "Sorting many rows". */

static int simd_switch = 1;

void am_sort_simd_enable(int on) { simd_switch = on; }

#if defined(__x86_64__)
#include <immintrin.h>

#define T512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,popcnt")))
/* Segments of at most this many words go to the register network. */
#define QS_BASE 128
#define QS_BASE32 256
/* ...and segments of more than this many words up to 512 to the network of 512 (two of 256
   merged): partitioned, their halves would often exceed 256 or be just above 128. */
#ifndef NET512_ABOVE
#define NET512_ABOVE 448
#endif
/* Outputs of at least this many elements a call are written by streaming stores (12 bytes an
   element: 3 MB, beyond what stays in the cache for whoever reads them next). */
#ifndef STREAM_ABOVE
#define STREAM_ABOVE (1u << 18)
#endif
/* ...in rows of at least this many (shorter rows leave too many lines partly written by
   ordinary stores: rows of 50 1.5x slower streamed, rows of 200 even, 256 10% faster). */
#ifndef STREAM_ROW_MIN
#define STREAM_ROW_MIN 256
#endif
#if defined(__clang__)
#define UNROLL _Pragma("clang loop unroll(full)")
#else
#define UNROLL
#endif
#define INL static inline __attribute__((always_inline)) T512

static int simd_cpu(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
                 __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
                 __builtin_cpu_supports("popcnt");
    }
    return cached;
}

int am_sort_simd_active(void) { return simd_switch && simd_cpu(); }

/* Lane l's partner l ^ s, for s = 1, 2, 3, 4, 7 (a stride, or the reversal of a block of s + 1). */
INL __m512i partner(__m512i v, int s) {
    switch (s) {
    case 1: return _mm512_shuffle_epi32(v, (_MM_PERM_ENUM)0x4E);
    case 2: return _mm512_permutex_epi64(v, 0x4E);
    case 3: return _mm512_permutex_epi64(v, 0x1B);
    case 4: return _mm512_shuffle_i64x2(v, v, 0x4E);
    default: return _mm512_permutexvar_epi64(_mm512_setr_epi64(7, 6, 5, 4, 3, 2, 1, 0), v);
    }
}

/* Compare-exchange of each lane with its partner l ^ s: the lanes with bit `hb` set keep
   the larger word. */
INL __m512i cx_lanes(__m512i v, int s, int hb) {
    const __m512i p = partner(v, s);
    const __mmask8 hi = hb == 1 ? 0xAA : hb == 2 ? 0xCC : 0xF0;
    return _mm512_mask_mov_epi64(_mm512_min_epu64(v, p), hi, _mm512_max_epu64(v, p));
}

INL __m512i reverse8(__m512i v) { return partner(v, 7); }

/* Registers 0..7 (8 x 8 words) transposed: register c gets column c. */
INL void transpose8x8(__m512i *v) {
    __m512i u[8], t[8];
    UNROLL for (int k = 0; k < 4; k++) {
        u[2 * k] = _mm512_unpacklo_epi64(v[2 * k], v[2 * k + 1]);      /* columns 0, 2, 4, 6 */
        u[2 * k + 1] = _mm512_unpackhi_epi64(v[2 * k], v[2 * k + 1]);  /* columns 1, 3, 5, 7 */
    }
    const __m512i lo2 = _mm512_setr_epi64(0, 1, 8, 9, 4, 5, 12, 13), hi2 = _mm512_setr_epi64(2, 3, 10, 11, 6, 7, 14, 15);
    UNROLL for (int g = 0; g < 2; g++)
        UNROLL for (int odd = 0; odd < 2; odd++) {
            const __m512i a = u[4 * g + odd], b = u[4 * g + 2 + odd];
            t[4 * g + odd] = _mm512_permutex2var_epi64(a, lo2, b);      /* columns odd, odd + 4 */
            t[4 * g + 2 + odd] = _mm512_permutex2var_epi64(a, hi2, b);  /* columns odd + 2, odd + 6 */
        }
    UNROLL for (int c = 0; c < 4; c++) {
        /* t[c] (rows 0-3) and t[4 + c] (rows 4-7) hold columns c and c + 4 */
        v[c] = _mm512_shuffle_i64x2(t[c], t[4 + c], 0x44);
        v[c + 4] = _mm512_shuffle_i64x2(t[c], t[4 + c], 0xEE);
    }
}

/* Registers 0..7 each sorted: the columns first (the 19 compare-exchanges of the optimal
   network of 8, on whole registers: one min and one max sort 8 columns), then the 8 x 8
   words transposed, so register c holds column c in order. */
INL void sort8_registers(__m512i *v) {
    static const unsigned char net[19][2] = {{0, 2}, {1, 3}, {4, 6}, {5, 7}, {0, 4}, {1, 5}, {2, 6},
                                             {3, 7}, {0, 1}, {2, 3}, {4, 5}, {6, 7}, {2, 4}, {3, 5},
                                             {1, 4}, {3, 6}, {1, 2}, {3, 4}, {5, 6}};
    UNROLL for (int c = 0; c < 19; c++) {
        const __m512i a = v[net[c][0]], b = v[net[c][1]];
        v[net[c][0]] = _mm512_min_epu64(a, b);
        v[net[c][1]] = _mm512_max_epu64(a, b);
    }
    transpose8x8(v);
}

/* The last three steps of a merge (lanes l and l ^ 4, then l ^ 2, then l ^ 1) on two
   registers at once: the lower and upper members of the pairs of both gathered into one
   register each, so one min and one max serve 16 words (cx_lanes needs two of each for 8). */
INL void finish_pair(__m512i *v) {
    const __m512i x = v[0], y = v[1];
    __m512i a = _mm512_shuffle_i64x2(x, y, 0x44), b = _mm512_shuffle_i64x2(x, y, 0xEE);
    __m512i mn = _mm512_min_epu64(a, b), mx = _mm512_max_epu64(a, b);  /* x0-3 y0-3 | x4-7 y4-7 */
    a = _mm512_permutex2var_epi64(mn, _mm512_setr_epi64(0, 1, 8, 9, 4, 5, 12, 13), mx);
    b = _mm512_permutex2var_epi64(mn, _mm512_setr_epi64(2, 3, 10, 11, 6, 7, 14, 15), mx);
    mn = _mm512_min_epu64(a, b);  /* x0 x1 x4 x5 y0 y1 y4 y5 */
    mx = _mm512_max_epu64(a, b);  /* x2 x3 x6 x7 y2 y3 y6 y7 */
    a = _mm512_unpacklo_epi64(mn, mx);  /* x0 x2 x4 x6 y0 y2 y4 y6 */
    b = _mm512_unpackhi_epi64(mn, mx);  /* x1 x3 x5 x7 y1 y3 y5 y7 */
    mn = _mm512_min_epu64(a, b);
    mx = _mm512_max_epu64(a, b);
    v[0] = _mm512_permutex2var_epi64(mn, _mm512_setr_epi64(0, 8, 1, 9, 2, 10, 3, 11), mx);
    v[1] = _mm512_permutex2var_epi64(mn, _mm512_setr_epi64(4, 12, 5, 13, 6, 14, 7, 15), mx);
}

/* The bitonic sort of R registers (8R words, word i in register i / 8, lane i % 8), all
   compare-exchanges ascending: each merge of blocks of `size` first pairs i with
   i ^ (size - 1), then i with i ^ s for s = size / 4, ..., 1. R is a constant at every
   call, so the loops unroll and v stays in registers. From 8 registers up, the blocks of 8
   (each register) are sorted by `sort8_registers` instead. */
/* The network of 128 words in 16 registers by columns, as network32_columns: the 8
   columns of 16 registers sorted (Batcher's odd-even merge sort of 16), each merge in that
   layout (word 16c + r in register r, lane c; strides below 16 between registers), then
   registers 0-7 and 8-15 transposed as two 8 x 8 blocks and interleaved. */
INL void network_columns(__m512i *v) {
    static const unsigned char net[63][2] = {{0, 1}, {2, 3}, {0, 2}, {1, 3}, {1, 2}, {4, 5}, {6, 7}, {4, 6}, {5, 7}, {5, 6}, {0, 4}, {2, 6}, {2, 4}, {1, 5}, {3, 7}, {3, 5}, {1, 2}, {3, 4}, {5, 6}, {8, 9}, {10, 11}, {8, 10}, {9, 11}, {9, 10}, {12, 13}, {14, 15}, {12, 14}, {13, 15}, {13, 14}, {8, 12}, {10, 14}, {10, 12}, {9, 13}, {11, 15}, {11, 13}, {9, 10}, {11, 12}, {13, 14}, {0, 8}, {4, 12}, {4, 8}, {2, 10}, {6, 14}, {6, 10}, {2, 4}, {6, 8}, {10, 12}, {1, 9}, {5, 13}, {5, 9}, {3, 11}, {7, 15}, {7, 11}, {3, 5}, {7, 9}, {11, 13}, {1, 2}, {3, 4}, {5, 6}, {7, 8}, {9, 10}, {11, 12}, {13, 14}};
    UNROLL for (int c = 0; c < 63; c++) {
        const __m512i a = v[net[c][0]], b = v[net[c][1]];
        v[net[c][0]] = _mm512_min_epu64(a, b);
        v[net[c][1]] = _mm512_max_epu64(a, b);
    }
    UNROLL for (int lg = 5; lg <= 7; lg++) {
        const int m = (1 << (lg - 4)) - 1, h = (m + 1) / 2;
        const __mmask8 hi = h == 1 ? 0xAA : h == 2 ? 0xCC : 0xF0;
        UNROLL for (int r = 0; r < 8; r++) {
            const __m512i x = v[r], ys = partner(v[15 - r], m);
            v[r] = _mm512_mask_max_epu64(_mm512_min_epu64(x, ys), hi, x, ys);
            v[15 - r] = partner(_mm512_mask_min_epu64(_mm512_max_epu64(x, ys), hi, x, ys), m);
        }
        UNROLL for (int ls = lg - 2; ls >= 4; ls--) {
            const int s = 1 << (ls - 4);
            const __mmask8 hs = s == 1 ? 0xAA : 0xCC;
            UNROLL for (int r = 0; r < 16; r++) {
                const __m512i p = partner(v[r], s);
                v[r] = _mm512_mask_max_epu64(_mm512_min_epu64(v[r], p), hs, v[r], p);
            }
        }
        UNROLL for (int s = 8; s >= 1; s /= 2)
            UNROLL for (int r = 0; r < 16; r++)
                if (!(r & s)) {
                    const __m512i a = v[r], c = v[r + s];
                    v[r] = _mm512_min_epu64(a, c);
                    v[r + s] = _mm512_max_epu64(a, c);
                }
    }
    __m512i a[8], b[8];
    UNROLL for (int r = 0; r < 8; r++) {
        a[r] = v[r];
        b[r] = v[8 + r];
    }
    transpose8x8(a);
    transpose8x8(b);
    UNROLL for (int c = 0; c < 8; c++) {
        v[2 * c] = a[c];
        v[2 * c + 1] = b[c];
    }
}

INL void network(__m512i *v, const int R) {
    const int levels = R == 1 ? 3 : R == 2 ? 4 : R == 4 ? 5 : R == 8 ? 6 : 7;  /* log2(8R) */
    if (R == 16) {
        network_columns(v);
        return;
    }
    if (R >= 8) {
        UNROLL for (int g = 0; g < R; g += 8) sort8_registers(v + g);
    }
    UNROLL for (int lg = R >= 8 ? 4 : 1; lg <= levels; lg++) {
        const int size = 1 << lg;
        if (size <= 8) {
            UNROLL for (int r = 0; r < R; r++) v[r] = cx_lanes(v[r], size - 1, size / 2);
        } else {
            const int rs = size / 8;
            UNROLL for (int b = 0; b < R; b += rs)
                UNROLL for (int k = 0; k < rs / 2; k++) {
                    const __m512i a = v[b + k], c = reverse8(v[b + rs - 1 - k]);
                    v[b + k] = _mm512_min_epu64(a, c);
                    v[b + rs - 1 - k] = reverse8(_mm512_max_epu64(a, c));
                }
        }
        /* strides size / 4 down to 8 between registers, then 4, 2, 1 within them */
        UNROLL for (int ls = lg - 2; ls >= 3; ls--) {
            const int rs = 1 << (ls - 3);
            UNROLL for (int r = 0; r < R; r++)
                if (!(r & rs)) {
                    const __m512i a = v[r], c = v[r + rs];
                    v[r] = _mm512_min_epu64(a, c);
                    v[r + rs] = _mm512_max_epu64(a, c);
                }
        }
        if (size >= 16) {
            UNROLL for (int r = 0; r < R; r += 2) finish_pair(v + r);
        } else {
            UNROLL for (int ls = lg - 2; ls >= 0; ls--) {
                UNROLL for (int r = 0; r < R; r++) v[r] = cx_lanes(v[r], 1 << ls, 1 << ls);
            }
        }
    }
}

/* Sorts m (at most 8R) words from `in` into `out` (may be the same memory). */
INL void sort_block(const uint64_t *in, uint64_t *out, size_t m, const int R) {
    __m512i v[16];
    const __m512i top = _mm512_set1_epi64(-1);
    UNROLL for (int r = 0; r < R; r++) {
        const size_t left = m > (size_t)(8 * r) ? m - 8 * r : 0;
        const __mmask8 k = left >= 8 ? 0xFF : (__mmask8)((1u << left) - 1);
        v[r] = _mm512_mask_loadu_epi64(top, k, in + 8 * r);
    }
    network(v, R);
    UNROLL for (int r = 0; r < R; r++) {
        const size_t left = m > (size_t)(8 * r) ? m - 8 * r : 0;
        const __mmask8 k = left >= 8 ? 0xFF : (__mmask8)((1u << left) - 1);
        _mm512_mask_storeu_epi64(out + 8 * r, k, v[r]);
    }
}

T512 static void sort_small(const uint64_t *in, uint64_t *out, size_t m) {
    if (m <= 8) sort_block(in, out, m, 1);
    else if (m <= 16) sort_block(in, out, m, 2);
    else if (m <= 32) sort_block(in, out, m, 4);
    else if (m <= 64) sort_block(in, out, m, 8);
    else sort_block(in, out, m, 16);
}

static void sift(uint64_t *a, size_t root, size_t m) {
    for (;;) {
        size_t c = 2 * root + 1;
        if (c >= m) return;
        if (c + 1 < m && a[c + 1] > a[c]) c++;
        if (a[root] >= a[c]) return;
        const uint64_t t = a[root];
        a[root] = a[c];
        a[c] = t;
        root = c;
    }
}

/* The quicksort's way out of a bad run of pivots (never on the benchmarks' rows). */
static void heapsort_words(uint64_t *a, size_t m) {
    for (size_t i = m / 2; i-- > 0;) sift(a, i, m);
    for (size_t e = m; e-- > 1;) {
        const uint64_t t = a[0];
        a[0] = a[e];
        a[e] = t;
        sift(a, 0, e);
    }
}

/* Words [lo, hi) are in `cur`; they end sorted in `out` (one of `cur` and `other`).
   Partitions into `other` by a pivot, the median of 8 samples: the words are unique, so
   both sides hold at least 4 words. */
T512 static void quicksort(uint64_t *cur, uint64_t *other, uint64_t *out, size_t lo, size_t hi, int budget) {
    while (hi - lo > QS_BASE) {
        const size_t m = hi - lo;
        if (budget-- == 0) {
            heapsort_words(cur + lo, m);
            if (cur != out) memcpy(out + lo, cur + lo, m * 8);
            return;
        }
        uint64_t sample[8];
        for (int i = 0; i < 8; i++) sample[i] = cur[lo + m * (2 * i + 1) / 16];
        sort_block(sample, sample, 8, 1);
        const __m512i pv = _mm512_set1_epi64((long long)sample[4]);
        size_t L = lo, R = hi, i = lo;
        for (; i + 8 <= hi; i += 8) {
            const __m512i x = _mm512_loadu_si512(cur + i);
            const __mmask8 k = _mm512_cmplt_epu64_mask(x, pv);
            const unsigned c = (unsigned)__builtin_popcount(k);
            _mm512_mask_storeu_epi64(other + L, (__mmask8)((1u << c) - 1), _mm512_maskz_compress_epi64(k, x));
            R -= 8 - c;
            _mm512_mask_storeu_epi64(other + R, (__mmask8)((1u << (8 - c)) - 1),
                                     _mm512_maskz_compress_epi64((__mmask8)~k, x));
            L += c;
        }
        if (i < hi) {
            const __mmask8 valid = (__mmask8)((1u << (hi - i)) - 1);
            const __m512i x = _mm512_maskz_loadu_epi64(valid, cur + i);
            const __mmask8 k = _mm512_cmplt_epu64_mask(x, pv) & valid, g = (__mmask8)(~k & valid);
            const unsigned c = (unsigned)__builtin_popcount(k), d = (unsigned)__builtin_popcount(g);
            _mm512_mask_storeu_epi64(other + L, (__mmask8)((1u << c) - 1), _mm512_maskz_compress_epi64(k, x));
            R -= d;
            _mm512_mask_storeu_epi64(other + R, (__mmask8)((1u << d) - 1), _mm512_maskz_compress_epi64(g, x));
            L += c;
        }
        /* L == R: [lo, L) below the pivot, [L, hi) the rest, now in `other` */
        uint64_t *t = cur;
        cur = other;
        other = t;
        if (L - lo < hi - L) {
            quicksort(cur, other, out, lo, L, budget);
            lo = L;
        } else {
            quicksort(cur, other, out, L, hi, budget);
            hi = L;
        }
    }
    sort_small(cur + lo, out + lo, hi - lo);
}

static inline int bit_length(uint64_t x) { return x ? 64 - __builtin_clzll(x) : 0; }

/* Keys (complemented descending) into w, with their smallest and largest. An f32 key is
   its 32-bit key (sortkeys.h keeps it in the top half). */
T512 static void row_keys(const void *src, int kind, uint64_t flip, size_t n, uint64_t *w, uint64_t *lo_out,
                          uint64_t *hi_out) {
    uint64_t lo = UINT64_MAX, hi = 0;
    if (kind == AM_SORT_F64) {
        const double *x = src;
        for (size_t j = 0; j < n; j++) {
            const uint64_t k = key_f64(x[j]) ^ flip;
            w[j] = k;
            lo = k < lo ? k : lo;
            hi = k > hi ? k : hi;
        }
    } else if (kind == AM_SORT_F32) {
        const float *x = src;
        const uint64_t f = flip >> 32;
        for (size_t j = 0; j < n; j++) {
            const uint64_t k = (key_f32(x[j]) >> 32) ^ f;
            w[j] = k;
            lo = k < lo ? k : lo;
            hi = k > hi ? k : hi;
        }
    } else {
        const int64_t *x = src;
        for (size_t j = 0; j < n; j++) {
            const uint64_t k = key_i64(x[j]) ^ flip;
            w[j] = k;
            lo = k < lo ? k : lo;
            hi = k > hi ? k : hi;
        }
    }
    *lo_out = lo;
    *hi_out = hi;
}

INL uint64_t key_at(const void *src, int kind, uint64_t flip, size_t p) {
    switch (kind) {
    case AM_SORT_F64: return key_f64(((const double *)src)[p]) ^ flip;
    case AM_SORT_F32: return key_f32(((const float *)src)[p]) ^ flip;
    default: return key_i64(((const int64_t *)src)[p]) ^ flip;
    }
}

/* Copies `bytes` (a multiple of 4) from `src` to `dst`, the 64-byte lines wholly inside `dst`
   by streaming stores (no read of the line first; the caller fences). */
INL void stream_out(void *dst, const void *src, size_t bytes) {
    char *d = dst;
    const char *s = src;
    size_t j = (size_t)(-(uintptr_t)d) & 63;
    j = j < bytes ? j : bytes;
    if (j) {
        const __mmask16 k = (__mmask16)((1u << (j / 4)) - 1);
        _mm512_mask_storeu_epi32(d, k, _mm512_maskz_loadu_epi32(k, s));
    }
    for (; j + 64 <= bytes; j += 64) _mm512_stream_si512((void *)(d + j), _mm512_loadu_si512(s + j));
    if (j < bytes) {
        const __mmask16 k = (__mmask16)((1u << ((bytes - j) / 4)) - 1);
        _mm512_mask_storeu_epi32(d + j, k, _mm512_maskz_loadu_epi32(k, s + j));
    }
}

/* One row: w and tmp hold n words each. With `stream`, the outputs are written by streaming
   stores where they fill whole lines. */
T512 static void sort_row_simd(const void *src, int kind, int descending, size_t n, uint64_t *w, uint64_t *tmp,
                               int64_t *out_positions, void *out_values, int64_t base, int stream) {
    const uint64_t flip = descending ? UINT64_MAX : 0;
    uint64_t lo, hi;
    row_keys(src, kind, flip, n, w, &lo, &hi);
    const int pb = bit_length(n - 1);
    int shift = bit_length(hi - lo) + pb - 64;
    if (shift < 0) shift = 0;
    for (size_t j = 0; j < n; j++) w[j] = ((w[j] - lo) >> shift) << pb | j;
    if (n <= 128) sort_small(w, w, n);
    else quicksort(w, tmp, w, 0, n, 2 * bit_length(n) + 8);
    const uint64_t pmask = pb ? (UINT64_MAX >> (64 - pb)) : 0;
    /* Only neighbours whose shifted keys are equal can be out of order by their full keys:
       each such word is inserted among the equal ones before it, by its full key (a stable
       insertion: equal full keys keep the order of their positions). */
    if (shift > 0)
        for (size_t j0 = 1; j0 < n; j0 += 8) {
            const size_t left = n - j0;
            const __mmask8 lm = left >= 8 ? 0xFF : (__mmask8)((1u << left) - 1);
            __mmask8 eq = _mm512_mask_cmpeq_epu64_mask(lm, _mm512_srli_epi64(_mm512_maskz_loadu_epi64(lm, w + j0), pb),
                                                       _mm512_srli_epi64(_mm512_maskz_loadu_epi64(lm, w + j0 - 1), pb));
            while (eq) {
                const size_t j = j0 + (size_t)__builtin_ctz(eq);
                eq &= (__mmask8)(eq - 1);
                const uint64_t wj = w[j], kj = key_at(src, kind, flip, wj & pmask);
                size_t i = j;
                while (i > 0 && (w[i - 1] >> pb) == (wj >> pb) && key_at(src, kind, flip, w[i - 1] & pmask) > kj) {
                    w[i] = w[i - 1];
                    i--;
                }
                w[i] = wj;
            }
        }
    /* Positions (the low bits of the words) counted from base, and the values they pick
       (scalar loads: a vector gather measured 2-5x slower here). */
    const __m512i pm = _mm512_set1_epi64((long long)pmask), b = _mm512_set1_epi64(base);
    size_t j = 0;
    if (stream) {
        j = ((size_t)(-(uintptr_t)out_positions) / 8) & 7;
        j = j < n ? j : n;
        if (j) {
            const __mmask8 k = (__mmask8)((1u << j) - 1);
            _mm512_mask_storeu_epi64(out_positions, k,
                                     _mm512_add_epi64(_mm512_and_si512(_mm512_maskz_loadu_epi64(k, w), pm), b));
        }
        for (; j + 8 <= n; j += 8)
            _mm512_stream_si512((void *)(out_positions + j),
                                _mm512_add_epi64(_mm512_and_si512(_mm512_loadu_si512(w + j), pm), b));
    }
    for (; j < n; j += 8) {
        const __mmask8 k = n - j >= 8 ? 0xFF : (__mmask8)((1u << (n - j)) - 1);
        const __m512i p = _mm512_and_si512(_mm512_maskz_loadu_epi64(k, w + j), pm);
        _mm512_mask_storeu_epi64(out_positions + j, k, _mm512_add_epi64(p, b));
    }
    if (!out_values) return;
    if (kind == AM_SORT_F32) {
        const uint32_t *x = src;
        uint32_t *v = out_values;
        if (!stream) {
            for (j = 0; j < n; j++) v[j] = x[w[j] & pmask];
            return;
        }
        /* the values gathered into the front of w, then out by whole lines */
        uint32_t *g = (uint32_t *)w;
        for (j = 0; j < n; j++) g[j] = x[w[j] & pmask];
        stream_out(v, g, n * 4);
    } else {
        const uint64_t *x = src;
        uint64_t *v = out_values;
        if (!stream) {
            for (j = 0; j < n; j++) v[j] = x[w[j] & pmask];
            return;
        }
        for (j = 0; j < n; j++) w[j] = x[w[j] & pmask];
        stream_out(v, w, n * 8);
    }
}

/* f32 rows of up to F32_WORDS_MAX: 32-bit words, sixteen a register (numpy sorts f32 sixteen a
   register too). The key keeps its top 32 - bits(n - 1) - shift bits, so keys close together
   often share a word's key: the check and insertion pass above orders them. */
#define F32_WORDS_MAX AM_SORT_SIMD_F32_MAX
/* f32 rows above this many elements take slots linear in the value (sort_row_f32_linear), up
   to it the top bits of the keys (sort_row_f32_words: cheaper to make, few collisions). */
#define F32_KEYBITS_MAX 1024

/* Lane l's partner l ^ s: in-lane shuffles (one cycle) for s = 1, 2, 3, blocks of 128 bits
   for 4 and 8, a permutation otherwise. */
INL __m512i partner32(__m512i v, int s) {
    switch (s) {
    case 1: return _mm512_shuffle_epi32(v, (_MM_PERM_ENUM)0xB1);
    case 2: return _mm512_shuffle_epi32(v, (_MM_PERM_ENUM)0x4E);
    case 3: return _mm512_shuffle_epi32(v, (_MM_PERM_ENUM)0x1B);
    case 4: return _mm512_shuffle_i64x2(v, v, 0xB1);
    case 8: return _mm512_shuffle_i64x2(v, v, 0x4E);
    default: {
        const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        return _mm512_permutexvar_epi32(_mm512_xor_si512(iota, _mm512_set1_epi32(s)), v);
    }
    }
}

/* The lanes with bit `hb` set keep the larger word: a min, and a max merged into it under
   the mask (three instructions with the shuffle). */
INL __m512i cx_lanes32(__m512i v, int s, int hb) {
    const __m512i p = partner32(v, s);
    __mmask16 hi = 0;
    UNROLL for (int l = 0; l < 16; l++)
        if (l & hb) hi |= (__mmask16)(1u << l);
    return _mm512_mask_max_epu32(_mm512_min_epu32(v, p), hi, v, p);
}

/* The 16 columns of registers 0..15 sorted (Batcher's odd-even merge sort of 16, 63
   compare-exchanges on whole registers: one min and one max sort 16 columns). */
INL void sort16_columns32(__m512i *v) {
    static const unsigned char net[63][2] = {{0, 1}, {2, 3}, {0, 2}, {1, 3}, {1, 2}, {4, 5}, {6, 7}, {4, 6}, {5, 7}, {5, 6}, {0, 4}, {2, 6}, {2, 4}, {1, 5}, {3, 7}, {3, 5}, {1, 2}, {3, 4}, {5, 6}, {8, 9}, {10, 11}, {8, 10}, {9, 11}, {9, 10}, {12, 13}, {14, 15}, {12, 14}, {13, 15}, {13, 14}, {8, 12}, {10, 14}, {10, 12}, {9, 13}, {11, 15}, {11, 13}, {9, 10}, {11, 12}, {13, 14}, {0, 8}, {4, 12}, {4, 8}, {2, 10}, {6, 14}, {6, 10}, {2, 4}, {6, 8}, {10, 12}, {1, 9}, {5, 13}, {5, 9}, {3, 11}, {7, 15}, {7, 11}, {3, 5}, {7, 9}, {11, 13}, {1, 2}, {3, 4}, {5, 6}, {7, 8}, {9, 10}, {11, 12}, {13, 14}};
    UNROLL for (int c = 0; c < 63; c++) {
        const __m512i a = v[net[c][0]], b = v[net[c][1]];
        v[net[c][0]] = _mm512_min_epu32(a, b);
        v[net[c][1]] = _mm512_max_epu32(a, b);
    }
}

/* The network of 256 words in 16 registers by columns: the columns sorted (runs of 16, word
   16c + r in register r, lane c), then each merge in that layout, where the strides below 16
   are between registers (one min or max a register, no shuffle) and those of 16 and more
   within them; the words transposed to register i / 16, lane i % 16 at the end. Each merge's
   first step pairs word i with i ^ (size - 1): register r with 15 - r, lane c with
   c ^ (size / 16 - 1). */
INL void network32_columns(__m512i *v) {
    sort16_columns32(v);
    UNROLL for (int lg = 5; lg <= 8; lg++) {
        const int m = (1 << (lg - 4)) - 1, h = (m + 1) / 2;
        __mmask16 hi = 0;
        UNROLL for (int l = 0; l < 16; l++)
            if (l & h) hi |= (__mmask16)(1u << l);
        UNROLL for (int r = 0; r < 8; r++) {
            const __m512i x = v[r], ys = partner32(v[15 - r], m);
            const __m512i mn = _mm512_min_epu32(x, ys);
            v[r] = _mm512_mask_max_epu32(mn, hi, x, ys);
            v[15 - r] = partner32(_mm512_mask_min_epu32(_mm512_max_epu32(x, ys), hi, x, ys), m);
        }
        UNROLL for (int ls = lg - 2; ls >= 4; ls--) {
            const int s = 1 << (ls - 4);
            UNROLL for (int r = 0; r < 16; r++) v[r] = cx_lanes32(v[r], s, s);
        }
        UNROLL for (int s = 8; s >= 1; s /= 2)
            UNROLL for (int r = 0; r < 16; r++)
                if (!(r & s)) {
                    const __m512i a = v[r], c = v[r + s];
                    v[r] = _mm512_min_epu32(a, c);
                    v[r + s] = _mm512_max_epu32(a, c);
                }
    }
    /* register c gets column c: unpacks of 32 and 64 bits make 4 x 4 blocks in each 128-bit
       lane (u[4g + j], lane L: column 4L + j of registers 4g..4g + 3), 128-bit shuffles
       gather them */
    __m512i t[16], u[16];
    UNROLL for (int k = 0; k < 8; k++) {
        t[2 * k] = _mm512_unpacklo_epi32(v[2 * k], v[2 * k + 1]);
        t[2 * k + 1] = _mm512_unpackhi_epi32(v[2 * k], v[2 * k + 1]);
    }
    UNROLL for (int g = 0; g < 4; g++) {
        u[4 * g] = _mm512_unpacklo_epi64(t[4 * g], t[4 * g + 2]);
        u[4 * g + 1] = _mm512_unpackhi_epi64(t[4 * g], t[4 * g + 2]);
        u[4 * g + 2] = _mm512_unpacklo_epi64(t[4 * g + 1], t[4 * g + 3]);
        u[4 * g + 3] = _mm512_unpackhi_epi64(t[4 * g + 1], t[4 * g + 3]);
    }
    UNROLL for (int j = 0; j < 4; j++) {
        const __m512i a01 = _mm512_shuffle_i32x4(u[j], u[4 + j], 0x44), b01 = _mm512_shuffle_i32x4(u[8 + j], u[12 + j], 0x44);
        const __m512i a23 = _mm512_shuffle_i32x4(u[j], u[4 + j], 0xEE), b23 = _mm512_shuffle_i32x4(u[8 + j], u[12 + j], 0xEE);
        v[j] = _mm512_shuffle_i32x4(a01, b01, 0x88);
        v[4 + j] = _mm512_shuffle_i32x4(a01, b01, 0xDD);
        v[8 + j] = _mm512_shuffle_i32x4(a23, b23, 0x88);
        v[12 + j] = _mm512_shuffle_i32x4(a23, b23, 0xDD);
    }
}

/* `network` for 16 lanes: word i in register i / 16, lane i % 16; 16 registers by
   `network32_columns` (a network of 256 in rows measured 287 ns a block against its 220). */
INL void network32(__m512i *v, const int R) {
    const int levels = R == 1 ? 4 : R == 2 ? 5 : R == 4 ? 6 : R == 8 ? 7 : 8;  /* log2(16R) */
    if (R == 16) {
        network32_columns(v);
        return;
    }
    UNROLL for (int lg = 1; lg <= levels; lg++) {
        const int size = 1 << lg;
        if (size <= 16) {
            UNROLL for (int r = 0; r < R; r++) v[r] = cx_lanes32(v[r], size - 1, size / 2);
        } else {
            const int rs = size / 16;
            UNROLL for (int b = 0; b < R; b += rs)
                UNROLL for (int k = 0; k < rs / 2; k++) {
                    const __m512i a = v[b + k], c = partner32(v[b + rs - 1 - k], 15);
                    v[b + k] = _mm512_min_epu32(a, c);
                    v[b + rs - 1 - k] = partner32(_mm512_max_epu32(a, c), 15);
                }
        }
        UNROLL for (int ls = lg - 2; ls >= 0; ls--) {
            const int s = 1 << ls;
            if (s >= 16) {
                const int rs = s / 16;
                UNROLL for (int r = 0; r < R; r++)
                    if (!(r & rs)) {
                        const __m512i a = v[r], c = v[r + rs];
                        v[r] = _mm512_min_epu32(a, c);
                        v[r + rs] = _mm512_max_epu32(a, c);
                    }
            } else {
                UNROLL for (int r = 0; r < R; r++) v[r] = cx_lanes32(v[r], s, s);
            }
        }
    }
}

INL void sort_block32(const uint32_t *in, uint32_t *out, size_t m, const int R) {
    __m512i v[16];
    const __m512i top = _mm512_set1_epi32(-1);
    UNROLL for (int r = 0; r < R; r++) {
        const size_t left = m > (size_t)(16 * r) ? m - 16 * r : 0;
        const __mmask16 k = left >= 16 ? 0xFFFF : (__mmask16)((1u << left) - 1);
        v[r] = _mm512_mask_loadu_epi32(top, k, in + 16 * r);
    }
    network32(v, R);
    UNROLL for (int r = 0; r < R; r++) {
        const size_t left = m > (size_t)(16 * r) ? m - 16 * r : 0;
        const __mmask16 k = left >= 16 ? 0xFFFF : (__mmask16)((1u << left) - 1);
        _mm512_mask_storeu_epi32(out + 16 * r, k, v[r]);
    }
}

/* The rest of a bitonic merge of 256 words in 16 registers whose first step is done: the
   strides 128 down to 16 between registers, then 8 down to 1 within them. */
INL void half_clean256(__m512i *v) {
    UNROLL for (int rs = 8; rs >= 1; rs /= 2)
        UNROLL for (int r = 0; r < 16; r++)
            if (!(r & rs)) {
                const __m512i a = v[r], c = v[r + rs];
                v[r] = _mm512_min_epu32(a, c);
                v[r + rs] = _mm512_max_epu32(a, c);
            }
    UNROLL for (int s = 8; s >= 1; s /= 2)
        UNROLL for (int r = 0; r < 16; r++) v[r] = cx_lanes32(v[r], s, s);
}

/* 257 to 512 words: two networks of 256 (the second padded with the largest word) and their
   merge (the second half kept in memory while the first is merged). Cheaper than a partition
   into two segments just above 128 or 256, each sorted by a network of twice its size. */
T512 static void sort_block32_512(const uint32_t *in, uint32_t *out, size_t m) {
    __m512i a[16], b[16];
    const __m512i top = _mm512_set1_epi32(-1);
    UNROLL for (int r = 0; r < 16; r++) a[r] = _mm512_loadu_si512(in + 16 * r);
    network32(a, 16);
    __attribute__((aligned(64))) uint32_t hi[256];
    UNROLL for (int r = 0; r < 16; r++) _mm512_store_si512(hi + 16 * r, a[r]);
    UNROLL for (int r = 0; r < 16; r++) {
        const size_t left = m - 256 > (size_t)(16 * r) ? m - 256 - 16 * r : 0;
        const __mmask16 k = left >= 16 ? 0xFFFF : (__mmask16)((1u << left) - 1);
        b[r] = _mm512_mask_loadu_epi32(top, k, in + 256 + 16 * r);
    }
    network32(b, 16);
    /* word i of the first against word 255 - i of the second */
    UNROLL for (int r = 0; r < 16; r++) {
        const __m512i x = _mm512_load_si512(hi + 16 * r), y = partner32(b[15 - r], 15);
        a[r] = _mm512_min_epu32(x, y);
        _mm512_store_si512(hi + 16 * r, _mm512_max_epu32(x, y));
    }
    half_clean256(a);
    UNROLL for (int r = 0; r < 16; r++) _mm512_storeu_si512(out + 16 * r, a[r]);
    UNROLL for (int r = 0; r < 16; r++) b[r] = _mm512_load_si512(hi + 16 * r);
    half_clean256(b);
    UNROLL for (int r = 0; r < 16; r++) {
        const size_t left = m - 256 > (size_t)(16 * r) ? m - 256 - 16 * r : 0;
        const __mmask16 k = left >= 16 ? 0xFFFF : (__mmask16)((1u << left) - 1);
        _mm512_mask_storeu_epi32(out + 256 + 16 * r, k, b[r]);
    }
}

T512 static void sort_small32(const uint32_t *in, uint32_t *out, size_t m) {
    if (m <= 16) sort_block32(in, out, m, 1);
    else if (m <= 32) sort_block32(in, out, m, 2);
    else if (m <= 64) sort_block32(in, out, m, 4);
    else if (m <= 128) sort_block32(in, out, m, 8);
    else if (m <= 256) sort_block32(in, out, m, 16);
    else sort_block32_512(in, out, m);
}

static void sift32(uint32_t *a, size_t root, size_t m) {
    for (;;) {
        size_t c = 2 * root + 1;
        if (c >= m) return;
        if (c + 1 < m && a[c + 1] > a[c]) c++;
        if (a[root] >= a[c]) return;
        const uint32_t t = a[root];
        a[root] = a[c];
        a[c] = t;
        root = c;
    }
}

static void heapsort_words32(uint32_t *a, size_t m) {
    for (size_t i = m / 2; i-- > 0;) sift32(a, i, m);
    for (size_t e = m; e-- > 1;) {
        const uint32_t t = a[0];
        a[0] = a[e];
        a[e] = t;
        sift32(a, 0, e);
    }
}

/* `quicksort` for 32-bit words. */
T512 static void quicksort32(uint32_t *cur, uint32_t *other, uint32_t *out, size_t lo, size_t hi, int budget) {
    while (hi - lo > QS_BASE32 && !(hi - lo > NET512_ABOVE && hi - lo <= 512)) {
        const size_t m = hi - lo;
        if (budget-- == 0) {
            heapsort_words32(cur + lo, m);
            if (cur != out) memcpy(out + lo, cur + lo, m * 4);
            return;
        }
        uint32_t sample[16];
        for (int i = 0; i < 16; i++) sample[i] = cur[lo + m * (2 * i + 1) / 32];
        sort_block32(sample, sample, 16, 1);
        const __m512i pv = _mm512_set1_epi32((int)sample[8]);
        size_t L = lo, R = hi, i = lo;
        for (; i + 16 <= hi; i += 16) {
            const __m512i x = _mm512_loadu_si512(cur + i);
            const __mmask16 k = _mm512_cmplt_epu32_mask(x, pv);
            const unsigned c = (unsigned)__builtin_popcount(k);
            _mm512_mask_storeu_epi32(other + L, (__mmask16)((1u << c) - 1), _mm512_maskz_compress_epi32(k, x));
            R -= 16 - c;
            _mm512_mask_storeu_epi32(other + R, (__mmask16)((1u << (16 - c)) - 1),
                                     _mm512_maskz_compress_epi32((__mmask16)~k, x));
            L += c;
        }
        if (i < hi) {
            const __mmask16 valid = (__mmask16)((1u << (hi - i)) - 1);
            const __m512i x = _mm512_maskz_loadu_epi32(valid, cur + i);
            const __mmask16 k = _mm512_cmplt_epu32_mask(x, pv) & valid, g = (__mmask16)(~k & valid);
            const unsigned c = (unsigned)__builtin_popcount(k), d = (unsigned)__builtin_popcount(g);
            _mm512_mask_storeu_epi32(other + L, (__mmask16)((1u << c) - 1), _mm512_maskz_compress_epi32(k, x));
            R -= d;
            _mm512_mask_storeu_epi32(other + R, (__mmask16)((1u << d) - 1), _mm512_maskz_compress_epi32(g, x));
            L += c;
        }
        uint32_t *t = cur;
        cur = other;
        other = t;
        if (L - lo < hi - L) {
            quicksort32(cur, other, out, lo, L, budget);
            lo = L;
        } else {
            quicksort32(cur, other, out, L, hi, budget);
            hi = L;
        }
    }
    sort_small32(cur + lo, out + lo, hi - lo);
}

/* The positions (the words' low bits, from base, as i64) and the values they pick of one
   row of 32-bit words. With `stream`, the 64-byte lines wholly inside the outputs are
   written by streaming stores (no read of the line first; the caller fences). */
INL void write_out32(const float *x, size_t n, uint32_t *w, uint32_t pmask, int64_t *out_positions,
                     float *out_values, int64_t base, int stream) {
    const __m256i pm = _mm256_set1_epi32((int)pmask);
    const __m512i b = _mm512_set1_epi64(base);
    size_t j = 0;
    if (stream) {
        const size_t head = ((size_t)(-(uintptr_t)out_positions) / 8) & 7;
        if (head) {
            const __mmask8 k = (__mmask8)((1u << (head < n ? head : n)) - 1);
            const __m512i p = _mm512_cvtepu32_epi64(_mm256_and_si256(_mm256_maskz_loadu_epi32(k, w), pm));
            _mm512_mask_storeu_epi64(out_positions, k, _mm512_add_epi64(p, b));
            j = head;
        }
        for (; j + 8 <= n; j += 8) {
            const __m512i p = _mm512_cvtepu32_epi64(_mm256_and_si256(_mm256_loadu_si256((const __m256i *)(w + j)), pm));
            _mm512_stream_si512((void *)(out_positions + j), _mm512_add_epi64(p, b));
        }
    }
    for (; j < n; j += 8) {
        const size_t left = n - j;
        const __mmask8 k = left >= 8 ? 0xFF : (__mmask8)((1u << left) - 1);
        const __m512i p = _mm512_cvtepu32_epi64(_mm256_and_si256(_mm256_maskz_loadu_epi32(k, w + j), pm));
        _mm512_mask_storeu_epi64(out_positions + j, k, _mm512_add_epi64(p, b));
    }
    if (!out_values) return;
    if (!stream) {
        for (j = 0; j < n; j++) out_values[j] = x[w[j] & pmask];
        return;
    }
    /* the values into w (each read before it is overwritten), then out by whole lines */
    for (j = 0; j < n; j++) {
        const uint32_t p = w[j] & pmask;
        memcpy(w + j, x + p, 4);
    }
    stream_out(out_values, w, n * 4);
}

/* Words [a, b) of a row of 32-bit words share their slot (the word's key bits): ordered by
   their full keys, ties by position. A short run by insertion, a longer one as 64-bit words
   (full key above, position below) by the 64-bit network or quicksort in `buf` (2 (b - a)
   words; only b - a when b - a <= QS_BASE). */
T512 static void fix_run32(const float *x, uint64_t flip, int pb, uint32_t *w, size_t a, size_t b, uint64_t *buf) {
    const uint32_t pmask = (uint32_t)((1ull << pb) - 1);
    const size_t m = b - a;
    if (m <= 16) {
        uint64_t k[16];
        uint32_t ws[16];
        for (size_t i = 0; i < m; i++) {
            const uint32_t wi = w[a + i];
            const uint64_t ki = key_f32(x[wi & pmask]) ^ flip;
            size_t t = i;
            while (t > 0 && k[t - 1] > ki) {
                k[t] = k[t - 1];
                ws[t] = ws[t - 1];
                t--;
            }
            k[t] = ki;
            ws[t] = wi;
        }
        memcpy(w + a, ws, m * 4);
        return;
    }
    for (size_t i = 0; i < m; i++) {
        const uint32_t p = w[a + i] & pmask;
        buf[i] = ((key_f32(x[p]) ^ flip) & 0xFFFFFFFF00000000ull) | p;
    }
    if (m <= QS_BASE) sort_small(buf, buf, m);
    else quicksort(buf, buf + m, buf, 0, m, 2 * bit_length(m) + 8);
    const uint32_t slot = w[a] & ~pmask;
    for (size_t i = 0; i < m; i++) w[a + i] = slot | (uint32_t)(buf[i] & pmask);
}

/* Orders each run of neighbours of a sorted row of 32-bit words whose slots are equal
   (found sixteen at a time by a vector compare) by `fix_run32`. */
T512 static void fix_runs32(const float *x, uint64_t flip, int pb, uint32_t *w, size_t n, uint64_t *buf) {
    size_t j = 1;
    while (j < n) {
        uint32_t eq = 0;
        for (; j < n; j += 16) {
            const size_t left = n - j;
            const __mmask16 lm = left >= 16 ? 0xFFFF : (__mmask16)((1u << left) - 1);
            eq = _mm512_mask_cmpeq_epu32_mask(lm, _mm512_srli_epi32(_mm512_maskz_loadu_epi32(lm, w + j), pb),
                                              _mm512_srli_epi32(_mm512_maskz_loadu_epi32(lm, w + j - 1), pb));
            if (eq) break;
        }
        if (!eq) return;
        j += (size_t)__builtin_ctz(eq);
        const size_t a = j - 1;
        const uint32_t slot = w[a] >> pb;
        size_t b = j + 1;
        while (b < n && (w[b] >> pb) == slot) b++;
        if (b - a == 2) {
            /* a pair (most runs): ordered without a branch on the keys */
            const uint32_t pmask = (uint32_t)((1ull << pb) - 1), w0 = w[a], w1 = w[j];
            const uint64_t k0 = key_f32(x[w0 & pmask]) ^ flip, k1 = key_f32(x[w1 & pmask]) ^ flip;
            const int swap = k1 < k0;
            w[a] = swap ? w1 : w0;
            w[j] = swap ? w0 : w1;
        } else {
            fix_run32(x, flip, pb, w, a, b, buf);
        }
        j = b + 1;
    }
}

/* One f32 row of 2 to F32_WORDS_MAX elements by 32-bit words (w and tmp: n words each). */
T512 static void sort_row_f32_words(const float *x, int descending, size_t n, uint32_t *w, uint32_t *tmp,
                                    uint64_t *buf, int64_t *out_positions, float *out_values, int64_t base,
                                    int stream) {
    const uint32_t f = descending ? UINT32_MAX : 0;
    uint32_t lo = UINT32_MAX, hi = 0;
    for (size_t j = 0; j < n; j++) {
        const uint32_t k = (uint32_t)(key_f32(x[j]) >> 32) ^ f;
        w[j] = k;
        lo = k < lo ? k : lo;
        hi = k > hi ? k : hi;
    }
    const int pb = bit_length(n - 1);
    int shift = bit_length(hi - lo) + pb - 32;
    if (shift < 0) shift = 0;
    for (size_t j = 0; j < n; j++) w[j] = ((w[j] - lo) >> shift) << pb | (uint32_t)j;
    if (n <= QS_BASE32) sort_small32(w, w, n);
    else quicksort32(w, tmp, w, 0, n, 2 * bit_length(n) + 8);
    if (shift > 0) fix_runs32(x, descending ? UINT64_MAX : 0, pb, w, n, buf);
    write_out32(x, n, w, (uint32_t)((1ull << pb) - 1), out_positions, out_values, base, stream);
}

/* One f32 row of 2 to 65,536 elements by 32-bit words whose key bits are a slot linear in
   the value, not the top bits of its key: slot 1 + (x - min) * (S - 2) / (max - min) over
   the finite values (descending max - x), 0 for -inf, S for +inf and NaN (the other way
   round descending), S + 1 the slots 32 - bits(n - 1) bits hold. The slots of N(0, 1)-like
   rows collide far less than the keys' top bits (which spend most of their range on the
   exponent); equal slots are ordered by full keys (`fix_runs32`). w and tmp hold n words
   each, buf 2n 64-bit words. */
T512 static void sort_row_f32_linear(const float *x, int descending, size_t n, uint32_t *w, uint32_t *tmp,
                                     uint64_t *buf, int64_t *out_positions, float *out_values, int64_t base,
                                     int stream) {
    __m512 vlo = _mm512_set1_ps(__builtin_inff()), vhi = _mm512_set1_ps(-__builtin_inff());
    size_t j = 0;
    for (; j < n; j += 16) {
        const size_t left = n - j;
        const __mmask16 lm = left >= 16 ? 0xFFFF : (__mmask16)((1u << left) - 1);
        const __m512 v = _mm512_maskz_loadu_ps(lm, x + j);
        const __mmask16 fin = (__mmask16)(lm & ~_mm512_fpclass_ps_mask(v, 0x99));
        vlo = _mm512_mask_min_ps(vlo, fin, vlo, v);
        vhi = _mm512_mask_max_ps(vhi, fin, vhi, v);
    }
    float lo = _mm512_reduce_min_ps(vlo), hi = _mm512_reduce_max_ps(vhi);
    if (!(lo <= hi)) lo = hi = 0;  /* no finite value */
    const int pb = bit_length(n - 1);
    const uint32_t S = (uint32_t)((1ull << (32 - pb)) - 1);
    const double range = (double)hi - (double)lo;
    const double sc = range > 0 ? (double)(S - 2) / range : 0;
    const __m512d org = _mm512_set1_pd(descending ? (double)hi : (double)lo), scale = _mm512_set1_pd(descending ? -sc : sc);
    const __m512i one = _mm512_set1_epi32(1), top = _mm512_set1_epi32((int)S), below = _mm512_set1_epi32((int)(S - 1));
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512 pinf = _mm512_set1_ps(__builtin_inff());
    for (j = 0; j < n; j += 16) {
        const size_t left = n - j;
        const __mmask16 lm = left >= 16 ? 0xFFFF : (__mmask16)((1u << left) - 1);
        const __m512 v = _mm512_maskz_loadu_ps(lm, x + j);
        const __m512d d0 = _mm512_cvtps_pd(_mm512_castps512_ps256(v));
        const __m512d d1 = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
        const __m256i s0 = _mm512_cvttpd_epu32(_mm512_mul_pd(_mm512_sub_pd(d0, org), scale));
        const __m256i s1 = _mm512_cvttpd_epu32(_mm512_mul_pd(_mm512_sub_pd(d1, org), scale));
        __m512i sl = _mm512_inserti64x4(_mm512_castsi256_si512(s0), s1, 1);
        sl = _mm512_add_epi32(_mm512_min_epu32(sl, _mm512_sub_epi32(below, one)), one);
        const __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q), pi = _mm512_cmp_ps_mask(v, pinf, _CMP_EQ_OQ);
        const __mmask16 ni = _mm512_cmp_ps_mask(v, _mm512_sub_ps(_mm512_setzero_ps(), pinf), _CMP_EQ_OQ);
        const __mmask16 up = descending ? ni : (__mmask16)(nan | pi), down = descending ? (__mmask16)(nan | pi) : ni;
        sl = _mm512_mask_mov_epi32(sl, up, top);
        sl = _mm512_mask_mov_epi32(sl, down, _mm512_setzero_si512());
        const __m512i word = _mm512_or_si512(_mm512_slli_epi32(sl, (unsigned)pb), _mm512_add_epi32(iota, _mm512_set1_epi32((int)j)));
        _mm512_mask_storeu_epi32(w + j, lm, word);
    }
    if (n <= QS_BASE32) sort_small32(w, w, n);
    else quicksort32(w, tmp, w, 0, n, 2 * bit_length(n) + 8);
    fix_runs32(x, descending ? UINT64_MAX : 0, pb, w, n, buf);
    write_out32(x, n, w, (uint32_t)((1ull << pb) - 1), out_positions, out_values, base, stream);
}

int am_sort_rows_simd(const void *src, int kind, size_t n, int descending, size_t first, size_t last,
                      void *scratch, int64_t *out_positions, void *out_values, int64_t base) {
    if (!am_sort_simd_active() || n > 65536) return 0;
    const size_t width = kind == AM_SORT_F32 ? 4 : 8;
    const int stream = n >= STREAM_ROW_MIN && (last - first) * n >= STREAM_ABOVE;
    uint64_t *w = scratch, *tmp = w + n;
    if (kind == AM_SORT_F32 && n >= 2 && n <= F32_WORDS_MAX) {
        uint32_t *w32 = scratch, *tmp32 = w32 + n;
        uint64_t *buf = (uint64_t *)(tmp32 + n);  /* 8n bytes in: aligned */
        for (size_t r = first; r < last; r++) {
            const float *x = (const float *)src + r * n;
            float *v = out_values ? (float *)out_values + r * n : NULL;
            if (n <= F32_KEYBITS_MAX)
                sort_row_f32_words(x, descending, n, w32, tmp32, buf, out_positions + r * n, v, base, stream);
            else
                sort_row_f32_linear(x, descending, n, w32, tmp32, buf, out_positions + r * n, v, base, stream);
        }
        if (stream) _mm_sfence();
        return 1;
    }
    for (size_t r = first; r < last; r++)
        sort_row_simd((const char *)src + r * n * width, kind, descending, n, w, tmp, out_positions + r * n,
                      out_values ? (char *)out_values + r * n * width : NULL, base, stream);
    if (stream) _mm_sfence();
    return 1;
}

/* Sorts n unique 64-bit words in w (tmp: n words of scratch) by the quicksort and networks
   above, for sortlong.c's buckets; returns 0, doing nothing, where the AVX-512 way is off. */
int am_sort_words_simd(uint64_t *w, uint64_t *tmp, size_t n) {
    if (!am_sort_simd_active()) return 0;
    if (n <= QS_BASE) sort_small(w, w, n);
    else quicksort(w, tmp, w, 0, n, 2 * bit_length(n) + 8);
    return 1;
}

/* Sorts m <= 128 unique words from `in` into `out` (may be the same memory) by the register
   network; for sortlong.c's buckets. Only where am_sort_simd_active(). */
void am_sort_words_small(const uint64_t *in, uint64_t *out, size_t m) { sort_small(in, out, m); }

#else
int am_sort_simd_active(void) { return 0; }

int am_sort_rows_simd(const void *src, int kind, size_t n, int descending, size_t first, size_t last,
                      void *scratch, int64_t *out_positions, void *out_values, int64_t base) {
    (void)src; (void)kind; (void)n; (void)descending; (void)first; (void)last;
    (void)scratch; (void)out_positions; (void)out_values; (void)base;
    return 0;
}

int am_sort_words_simd(uint64_t *w, uint64_t *tmp, size_t n) {
    (void)w; (void)tmp; (void)n;
    return 0;
}

void am_sort_words_small(const uint64_t *in, uint64_t *out, size_t m) {
    (void)in; (void)out; (void)m;
}
#endif
