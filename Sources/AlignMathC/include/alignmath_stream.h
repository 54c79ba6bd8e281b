#ifndef ALIGNMATH_STREAM_H
#define ALIGNMATH_STREAM_H
#include <stddef.h>

/// Copies `bytes` from `src` to `dst` with non-temporal (streaming) stores on x86-64, so the
/// destination's cache lines are not read first (no read-for-ownership) and do not evict
/// the cache: for a kernel output far larger than the cache. memcpy elsewhere. The stores
/// are weakly ordered: call `am_store_fence` before another thread may read them.
void am_stream_copy(void *dst, const void *src, size_t bytes);

/// Orders the streaming stores made so far before any later store (sfence on x86-64).
void am_store_fence(void);

#endif
