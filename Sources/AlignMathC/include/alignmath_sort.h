#ifndef ALIGNMATH_SORT_H
#define ALIGNMATH_SORT_H
#include <stddef.h>
#include <stdint.h>

/// The long-row sort (`Tensor.sort`/`argsort` of rows of 65,536 elements and more), in
/// phases the caller runs on its cores: the keys' extremes (`am_sort_minmax`, per piece of
/// the row), a histogram of a window of the top bits (`am_sort_hist`, per piece), the plan
/// that merges neighbouring digits into buckets of about 16k elements (`am_sort_plan`, once),
/// a stable scatter of (key, position) into the buckets (`am_sort_scatter`, per piece), and
/// each bucket sorted on its own and written out (`am_sort_bucket`, buckets spread over
/// the cores). Keys are 64-bit and order-preserving: torch's order (stable, -0.0 equal to
/// 0.0, every NaN largest; descending is the complement). A bucket whose keys' varying bits
/// and in-bucket position fit 64 bits packs both into one word and sorts that
/// in cache (the positions ride along in the low bits, so ties keep their order): by
/// sortsimd.c's AVX-512 quicksort of unique words where `am_sort_simd_active()`, by an LSD
/// radix elsewhere; others take a (key, position) MSD radix. The scatter writes whole cache
/// lines (sixteen keys and positions gathered a bucket). BENCHMARKS.md, "A long sort".

/// What the row holds.
enum { AM_SORT_F64 = 0, AM_SORT_F32 = 1, AM_SORT_I64 = 2 };

/// The digit window the plan splits on, for a row of `n` keys between `min_key` and
/// `max_key`: returns its bits (2^bits digits) and sets `shift`, where the window starts.
int am_sort_window(size_t n, uint64_t min_key, uint64_t max_key, int *shift);

/// The smallest and largest key of `src[lo..<hi]`.
void am_sort_minmax(const void *src, int kind, size_t lo, size_t hi, int descending,
                    uint64_t *min_key, uint64_t *max_key);

/// Counts the keys of `src[lo..<hi]` by their digit `((key − offset) >> shift) & (2^window − 1)`
/// into `hist` (2^window counters, zeroed by the caller). `offset` is 0, or the smallest key
/// where the keys straddle a power of two closely (small integers of both signs: their keys
/// lie on both sides of 2^63, so the window from `min ^ max` would put them in two digits;
/// from `max − min` after the offset it spreads them).
void am_sort_hist(const void *src, int kind, size_t lo, size_t hi, int descending, uint64_t offset,
                  int shift, int window, uint32_t *hist);

/// A window guessed from a sample of 64 of the row's keys, before the extremes are known:
/// `am_sort_window`'s for keys that differ up to the sample's top differing bit and 4 bits
/// more (64 where the sample has keys on both sides of 2^63: then the row's extremes differ
/// in the top bit too). Returns its bits and sets `shift`. With it, `am_sort_minmax_hist`
/// finds the extremes and the histogram in one pass; the histogram holds where the row's
/// extremes agree above `shift + bits` (its digits are then in the keys' order).
int am_sort_window_guess(const void *src, int kind, size_t n, int descending, int *shift);

/// `am_sort_minmax` and `am_sort_hist` in one pass over `src[lo..<hi]`, for a window chosen
/// before the extremes are known (`am_sort_window_guess`).
void am_sort_minmax_hist(const void *src, int kind, size_t lo, size_t hi, int descending, int shift, int window,
                         uint64_t *min_key, uint64_t *max_key, uint32_t *hist);

/// Merges neighbouring digits into buckets; returns their number `nb`. `hists` holds
/// `pieces` histograms one after the other. Writes `lut` (digit -> bucket, 2^window),
/// `bucket_start` (nb + 1 entries, the last `n`) and `next` (`pieces` rows of 2^window:
/// where piece p writes its first key of bucket b, at `next[p * 2^window + b]`).
size_t am_sort_plan(const uint32_t *hists, int pieces, size_t n, int shift, int window,
                    uint32_t *lut, size_t *bucket_start, size_t *next);

/// Writes the keys (less `offset`, as `am_sort_hist`'s) of `src[lo..<hi]` and their positions
/// into their buckets (`next` is this piece's row of the plan's `next`, advanced in place).
void am_sort_scatter(const void *src, int kind, size_t lo, size_t hi, int descending, uint64_t offset,
                     int shift, int window, const uint32_t *lut, size_t *next,
                     uint64_t *keys, uint32_t *positions);

/// Sorts one bucket (`count` keys and positions, both overwritten; `scratch` holds `count`
/// words and `count` 32-bit positions after them) and writes its 0-based positions to
/// `out_positions` and, when `out_values` is not NULL, its values (of the row `src`'s kind)
/// to `out_values`. `keys` may be `out_positions` itself (each key is read before its slot is
/// written): the callers keep the keys in the output, so a sort needs no memory for them.
void am_sort_bucket(const void *src, int kind, int descending, uint64_t *keys, uint32_t *positions,
                    uint64_t *scratch, size_t count, int64_t *out_positions, void *out_values);

/// `am_sort_bucket` for keys less `offset` (`am_sort_scatter`'s), with the positions counted
/// from `origin` (Lua's 1) instead of 0.
void am_sort_bucket_from(const void *src, int kind, int descending, uint64_t offset, uint64_t *keys, uint32_t *positions,
                         uint64_t *scratch, size_t count, int64_t *out_positions, void *out_values, int64_t origin);

/// One row of `count` (at most 65,536) elements sorted on the calling thread as one bucket
/// (`positions` holds `count` entries, `scratch` as `am_sort_bucket`'s; the keys are kept in
/// `out_positions`): the rows of a tensor, each task sorting its rows one by one.
void am_sort_row(const void *src, int kind, int descending, size_t count, uint32_t *positions,
                 uint64_t *scratch, int64_t *out_positions, void *out_values);

/// Rows of at most this many elements are sorted by rank (sortrows.c) in `am_sort_rows`.
enum { AM_SORT_RANK_MAX = 128 };

/// The bytes of scratch `am_sort_rows` needs for rows of `n` elements.
size_t am_sort_rows_scratch(size_t n);

/// Sorts rows `first..<last` of `src` (rows of `n` elements, at most 65,536, of `kind`), one
/// after the other on the calling thread, with `scratch` (`am_sort_rows_scratch(n)` bytes):
/// writes each row's positions, counted from `base` (0 or Lua's 1), to `out_positions` (row r
/// at r * n) and, when
/// `out_values` is not NULL, its values. Where `am_sort_simd_active()`, every row by the
/// AVX-512 way below; otherwise rows of up to `AM_SORT_RANK_MAX` elements by rank
/// (each element's slot counted by vector compares: stable by construction); longer ones by
/// value buckets (2n slices of the finite values' range, each sorted by insertion, or as a
/// bucket of `am_sort_bucket` when large), or as one bucket (`am_sort_row`) when the range
/// overflows.
void am_sort_rows(const void *src, int kind, int descending, size_t n, size_t first, size_t last,
                  void *scratch, int64_t *out_positions, void *out_values, int64_t base);

/// Whether `am_sort_rows` sorts by its AVX-512 way (sortsimd.c: unique 64-bit words of key
/// and position, a bitonic network in registers up to 128 words, a quicksort of compressed
/// partitions above): on x86-64 CPUs with AVX-512 F/DQ/BW/VL, unless switched off.
int am_sort_simd_active(void);

/// f32 rows of at most this many elements take 32-bit words (key bits and position) in the
/// AVX-512 way, sixteen a register (up to 1,024 elements the keys' top bits, above a slot
/// linear in the value); longer f32 rows 64-bit words, eight a register (slots collide too
/// often there: 1.3x slower on rows of 32,000).
enum { AM_SORT_SIMD_F32_MAX = 16384 };

/// Switches the AVX-512 way on (1, the default) or off (0: the rank and bucket ways of
/// sortrows.c, as on CPUs without AVX-512): for tests of both ways.
void am_sort_simd_enable(int on);

#endif
