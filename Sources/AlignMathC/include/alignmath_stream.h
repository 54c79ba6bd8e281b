#ifndef ALIGNMATH_STREAM_H
#define ALIGNMATH_STREAM_H
#include <stddef.h>
#include <stdint.h>

/// Copies `bytes` from `src` to `dst` with non-temporal (streaming) stores on x86-64, so the
/// destination's cache lines are not read first (no read-for-ownership) and do not evict
/// the cache: for a kernel output far larger than the cache. memcpy elsewhere. The stores
/// are weakly ordered: call `am_store_fence` before another thread may read them.
void am_stream_copy(void *dst, const void *src, size_t bytes);

/// Orders the streaming stores made so far before any later store (sfence on x86-64).
void am_store_fence(void);

/// One non-temporal store of 32 bytes (four 8-byte or eight 4-byte lanes, imported into
/// Swift as SIMD4<UInt64> / SIMD8<UInt32>) to `p`, which must be 32-byte aligned: `vmovntpd`
/// / `vmovntps` with AVX, two 16-byte ones with SSE2, `stnp` on arm64. Inlined into the Swift
/// loop that calls it, so a kernel computes its results in registers and streams them out
/// directly (no buffer in between: BENCHMARKS.md, "Issue 11/13, sixth pass"). The stores are
/// weakly ordered: `am_store_fence` before another thread may read them.
typedef uint64_t am_u64x4 __attribute__((ext_vector_type(4)));
typedef uint32_t am_u32x8 __attribute__((ext_vector_type(8)));
static inline __attribute__((always_inline)) void am_stream_u64x4(void *p, am_u64x4 v) {
    __builtin_nontemporal_store(v, (am_u64x4 *)p);
}
static inline __attribute__((always_inline)) void am_stream_u32x8(void *p, am_u32x8 v) {
    __builtin_nontemporal_store(v, (am_u32x8 *)p);
}

// The KL kernel's header, included from here too: an incremental build's cached module of
// this directory does not notice a new header (clang's umbrella-directory module map).
#include "alignmath_kl.h"

#endif
