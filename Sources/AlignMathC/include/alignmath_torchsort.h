#ifndef ALIGNMATH_TORCHSORT_H
#define ALIGNMATH_TORCHSORT_H
#include <stdint.h>

/// torch's CPU sort and topk, for the order they give equal values (torch 2.15, x86-64
/// Linux wheels built by GCC 13). `torch.sort(x, descending=d)` (stable=False) on a
/// float32 or float64 row is libstdc++'s `std::sort` (introsort: median of three moved to
/// the front, unguarded partition, depth limit 2*floor(log2 n), heap sort past it, final
/// insertion sort with threshold 16) over (value, index) pairs, indices 0..n-1 at the
/// start, with the comparator `a > b` (descending) or `a < b`, NaN first resp. last
/// (aten/src/ATen/native/cpu/SortingKernel.cpp, `sort_kernel_impl`; this build does not
/// take the x86-simd-sort path). `torch.topk(x, k)` is `std::partial_sort` of the pairs
/// when `k * 64 <= n`, else `std::nth_element` at k - 1 (aten/src/ATen/native/TopKImpl.h).
/// The comparisons only see the values, so a float32 row passed as doubles (exact) gives
/// the same order. Every row of a 2-d tensor is sorted on its own the same way.

/// `order[0..<n]` = `torch.sort(keys[0..<n], descending)[1]`. Returns 0, or -1 when out of memory.
int am_torch_sort_f64(const double *keys, int64_t n, int descending, int64_t *order);

/// `out[0..<k]` = the set of `torch.topk(keys[0..<n], k, largest)[1]` (in the order
/// torch's selection leaves them, before its final sort of the first k - 1). Returns 0, or -1.
int am_torch_topk_f64(const double *keys, int64_t n, int64_t k, int largest, int64_t *out);

#endif
