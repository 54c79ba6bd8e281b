#ifndef ALIGNMATH_SORTKEYS_H
#define ALIGNMATH_SORTKEYS_H
/* The order-preserving sort keys sortlong.c and sortrows.c share (a private header of
   AlignMathC: Swift does not see it). */
#include <stdint.h>
#include <string.h>

/* Order-preserving keys: torch's order (every NaN above +inf, -0.0 equal to 0.0); the
   descending order is the complement (`flip`), so NaN comes first and ties keep their order
   in a stable sort either way. The same keys as `SortKeyed.sortKey` in TensorSort.swift. */
static inline uint64_t key_f64(double x) {
    /* Branch-free, so the passes over the row vectorise: -0.0 becomes 0.0's bits, a
       negative number's bits are complemented, a positive one's sign bit set. */
    uint64_t b;
    memcpy(&b, &x, 8);
    b = (b << 1) == 0 ? 0 : b;
    uint64_t k = b ^ ((uint64_t)((int64_t)b >> 63) | (1ull << 63));
    return (b & ~(1ull << 63)) > 0x7FF0000000000000ull ? UINT64_MAX : k;
}

static inline uint64_t key_f32(float x) {
    uint32_t b;
    memcpy(&b, &x, 4);
    b = (b << 1) == 0 ? 0 : b;
    uint32_t k = b ^ ((uint32_t)((int32_t)b >> 31) | (1u << 31));
    k = (b & ~(1u << 31)) > 0x7F800000u ? UINT32_MAX : k;
    return (uint64_t)k << 32;
}

static inline uint64_t key_i64(int64_t x) { return (uint64_t)x ^ (1ull << 63); }

/* sortsimd.c's way for am_sort_rows (rows of at most 65,536; `scratch` holds 2n words):
   returns 0, doing nothing, where it is off or the CPU lacks AVX-512. */
#include <stddef.h>
int am_sort_rows_simd(const void *src, int kind, size_t n, int descending, size_t first, size_t last,
                      void *scratch, int64_t *out_positions, void *out_values, int64_t base);

/* sortsimd.c's sort of n unique 64-bit words in place (tmp: n words of scratch), for
   sortlong.c's buckets: returns 0, doing nothing, where the AVX-512 way is off. */
int am_sort_words_simd(uint64_t *w, uint64_t *tmp, size_t n);

/* sortsimd.c's register network: m <= 128 unique words from `in` sorted into `out`; only
   where am_sort_simd_active() (elsewhere it does nothing). */
void am_sort_words_small(const uint64_t *in, uint64_t *out, size_t m);

#endif
