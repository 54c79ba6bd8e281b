// torch's CPU sort/topk order among equal values: libstdc++'s std::sort, std::partial_sort
// and std::nth_element (bits/stl_algo.h, bits/stl_heap.h, GCC 12/13) over (value, index)
// pairs, step for step. See alignmath_torchsort.h.
#include "alignmath_torchsort.h"
#include <math.h>
#include <stdlib.h>

typedef struct { double v; int64_t i; } am_kv;

// comp(a, b): descending puts NaN first, ascending puts it last (KeyValueCompDesc/Asc).
static inline int kv_less(const am_kv *a, const am_kv *b, int desc) {
    if (desc) return (isnan(a->v) && !isnan(b->v)) || a->v > b->v;
    return (!isnan(a->v) && isnan(b->v)) || a->v < b->v;
}

static inline void kv_swap(am_kv *a, am_kv *b) { am_kv t = *a; *a = *b; *b = t; }

static int64_t lg(int64_t n) { int64_t k = 0; while (n > 1) { n >>= 1; k++; } return k; }

static void push_heap(am_kv *f, int64_t hole, int64_t top, am_kv value, int d) {
    int64_t parent = (hole - 1) / 2;
    while (hole > top && kv_less(&f[parent], &value, d)) {
        f[hole] = f[parent];
        hole = parent;
        parent = (hole - 1) / 2;
    }
    f[hole] = value;
}

static void adjust_heap(am_kv *f, int64_t hole, int64_t len, am_kv value, int d) {
    const int64_t top = hole;
    int64_t child = hole;
    while (child < (len - 1) / 2) {
        child = 2 * (child + 1);
        if (kv_less(&f[child], &f[child - 1], d)) child--;
        f[hole] = f[child];
        hole = child;
    }
    if ((len & 1) == 0 && child == (len - 2) / 2) {
        child = 2 * (child + 1);
        f[hole] = f[child - 1];
        hole = child - 1;
    }
    push_heap(f, hole, top, value, d);
}

static void make_heap(am_kv *f, int64_t len, int d) {
    if (len < 2) return;
    int64_t parent = (len - 2) / 2;
    for (;;) {
        adjust_heap(f, parent, len, f[parent], d);
        if (parent == 0) return;
        parent--;
    }
}

static void pop_heap(am_kv *f, int64_t last, int64_t result, int d) {
    am_kv value = f[result];
    f[result] = f[0];
    adjust_heap(f, 0, last, value, d);
}

// std::__heap_select(first, middle, last): f = first, m = middle - first, n = last - first.
static void heap_select(am_kv *f, int64_t m, int64_t n, int d) {
    make_heap(f, m, d);
    for (int64_t i = m; i < n; i++)
        if (kv_less(&f[i], &f[0], d)) pop_heap(f, m, i, d);
}

static void sort_heap(am_kv *f, int64_t n, int d) {
    while (n > 1) { n--; pop_heap(f, n, n, d); }
}

static void move_median_to_first(am_kv *r, am_kv *a, am_kv *b, am_kv *c, int d) {
    if (kv_less(a, b, d)) {
        if (kv_less(b, c, d)) kv_swap(r, b);
        else if (kv_less(a, c, d)) kv_swap(r, c);
        else kv_swap(r, a);
    } else if (kv_less(a, c, d)) kv_swap(r, a);
    else if (kv_less(b, c, d)) kv_swap(r, c);
    else kv_swap(r, b);
}

// The bounds (lo, hi) never trigger for a strict weak order (NaN is ordered here); they
// only keep memory safe.
static am_kv *unguarded_partition(am_kv *first, am_kv *last, am_kv *pivot, am_kv *lo, am_kv *hi, int d) {
    for (;;) {
        while (first < hi && kv_less(first, pivot, d)) first++;
        last--;
        while (last > lo && kv_less(pivot, last, d)) last--;
        if (!(first < last)) return first;
        kv_swap(first, last);
        first++;
    }
}

static am_kv *partition_pivot(am_kv *first, am_kv *last, int d) {
    am_kv *mid = first + (last - first) / 2;
    move_median_to_first(first, first + 1, mid, last - 1, d);
    return unguarded_partition(first + 1, last, first, first, last, d);
}

static void unguarded_linear_insert(am_kv *last, am_kv *floor, int d) {
    am_kv val = *last;
    am_kv *next = last - 1;
    while (next >= floor && kv_less(&val, next, d)) { *last = *next; last = next; next--; }
    *last = val;
}

static void insertion_sort(am_kv *first, am_kv *last, int d) {
    if (first == last) return;
    for (am_kv *i = first + 1; i != last; i++) {
        if (kv_less(i, first, d)) {
            am_kv val = *i;
            for (am_kv *p = i; p > first; p--) *p = *(p - 1);
            *first = val;
        } else unguarded_linear_insert(i, first, d);
    }
}

static void introsort_loop(am_kv *first, am_kv *last, int64_t depth, int d) {
    while (last - first > 16) {
        if (depth == 0) {
            heap_select(first, last - first, last - first, d);
            sort_heap(first, last - first, d);
            return;
        }
        depth--;
        am_kv *cut = partition_pivot(first, last, d);
        introsort_loop(cut, last, depth, d);
        last = cut;
    }
}

static void final_insertion_sort(am_kv *first, am_kv *last, int d) {
    if (last - first > 16) {
        insertion_sort(first, first + 16, d);
        for (am_kv *i = first + 16; i != last; i++) unguarded_linear_insert(i, first, d);
    } else insertion_sort(first, last, d);
}

static am_kv *load(const double *keys, int64_t n) {
    am_kv *a = malloc((size_t)(n > 0 ? n : 1) * sizeof(am_kv));
    if (!a) return NULL;
    for (int64_t j = 0; j < n; j++) { a[j].v = keys[j]; a[j].i = j; }
    return a;
}

int am_torch_sort_f64(const double *keys, int64_t n, int descending, int64_t *order) {
    am_kv *a = load(keys, n);
    if (!a) return -1;
    int d = descending != 0;
    if (n > 0) {
        introsort_loop(a, a + n, 2 * lg(n), d);
        final_insertion_sort(a, a + n, d);
    }
    for (int64_t j = 0; j < n; j++) order[j] = a[j].i;
    free(a);
    return 0;
}

int am_torch_topk_f64(const double *keys, int64_t n, int64_t k, int largest, int64_t *out) {
    if (k <= 0) return 0;
    if (k > n) k = n;
    am_kv *a = load(keys, n);
    if (!a) return -1;
    int d = largest != 0;
    if (k * 64 <= n) {
        heap_select(a, k, n, d);  // std::partial_sort: the set is fixed by the selection
        sort_heap(a, k, d);
    } else {
        // std::nth_element(first, first + k - 1, last): __introselect
        am_kv *first = a, *last = a + n, *nth = a + k - 1;
        int64_t depth = 2 * lg(n);
        int done = 0;
        while (last - first > 3) {
            if (depth == 0) {
                heap_select(first, nth + 1 - first, last - first, d);
                kv_swap(first, nth);
                done = 1;
                break;
            }
            depth--;
            am_kv *cut = partition_pivot(first, last, d);
            if (cut <= nth) first = cut; else last = cut;
        }
        if (!done) insertion_sort(first, last, d);
    }
    for (int64_t j = 0; j < k; j++) out[j] = a[j].i;
    free(a);
    return 0;
}
