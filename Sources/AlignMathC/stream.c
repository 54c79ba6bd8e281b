#include "alignmath_stream.h"
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__)
#include <emmintrin.h>

void am_stream_copy(void *dst, const void *src, size_t bytes) {
    char *d = dst;
    const char *s = src;
    size_t head = (16 - ((uintptr_t)d & 15)) & 15;
    if (head > bytes) head = bytes;
    memcpy(d, s, head);
    d += head; s += head; bytes -= head;
    for (; bytes >= 64; bytes -= 64, d += 64, s += 64) {
        __m128i x0 = _mm_loadu_si128((const __m128i *)s);
        __m128i x1 = _mm_loadu_si128((const __m128i *)(s + 16));
        __m128i x2 = _mm_loadu_si128((const __m128i *)(s + 32));
        __m128i x3 = _mm_loadu_si128((const __m128i *)(s + 48));
        _mm_stream_si128((__m128i *)d, x0);
        _mm_stream_si128((__m128i *)(d + 16), x1);
        _mm_stream_si128((__m128i *)(d + 32), x2);
        _mm_stream_si128((__m128i *)(d + 48), x3);
    }
    memcpy(d, s, bytes);
}

void am_store_fence(void) { _mm_sfence(); }
#else
void am_stream_copy(void *dst, const void *src, size_t bytes) { memcpy(dst, src, bytes); }
void am_store_fence(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
#endif
