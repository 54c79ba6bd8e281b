#include "alignmath_gae.h"
#include <string.h>

/* Each step must round as the serial loop does: no fused multiply-adds. */
#pragma clang fp contract(off)

/* The advantage at a step: the one formula the walks and the check share. */
static inline double advantage(double rt, double vt, double keep, double gamma, double gl, double nv, double lg) {
    double delta = rt + gamma * keep * nv - vt;
    return delta + gl * keep * lg;
}

/* 1 - done for 0/1 doubles (flagging anything else in *bad), or for a byte. */
static inline double keep_f64(const double *d, int64_t t, int *bad) {
    double dt = d[t];
    *bad |= (dt != 0.0) & (dt != 1.0);
    return 1.0 - dt;
}
static inline double keep_bool(const unsigned char *d, int64_t t, int *bad) {
    (void)bad;
    return d[t] ? 0.0 : 1.0;
}

/* One step of a walk at t: writes a[t], g[t], moves (nv, lg) on. */
#define GAE_STEP(KEEP, D, t, nv, lg) do {                                   \
        double vt_ = v[t];                                                  \
        double keep_ = KEEP(D, t, &bad);                                    \
        lg = advantage(r[t], vt_, keep_, gamma, gl, nv, lg);                \
        a[t] = lg;                                                          \
        g[t] = lg + vt_;                                                    \
        nv = vt_;                                                           \
    } while (0)

/* The walk of up to four segments, for one kind of dones: the first `common` steps of all
   four in one loop (four independent chains in flight), then each segment's rest alone. */
#define GAE_WALK(NAME, DTYPE, KEEP)                                                               \
static int NAME(const double *restrict r, const double *restrict v, const DTYPE *restrict d,       \
                double gamma, double gl, am_gae_segment *seg, int k,                               \
                double *restrict a, double *restrict g) {                                          \
    int bad = 0;                                                                                   \
    int i = 0;                                                                                     \
    if (k == 4) {                                                                                  \
        int64_t t0 = seg[0].hi, t1 = seg[1].hi, t2 = seg[2].hi, t3 = seg[3].hi;                    \
        double n0 = seg[0].next_value, n1 = seg[1].next_value, n2 = seg[2].next_value, n3 = seg[3].next_value; \
        double l0 = seg[0].lastgaelam, l1 = seg[1].lastgaelam, l2 = seg[2].lastgaelam, l3 = seg[3].lastgaelam; \
        int64_t common = t0 - seg[0].lo;                                                           \
        if (t1 - seg[1].lo < common) common = t1 - seg[1].lo;                                      \
        if (t2 - seg[2].lo < common) common = t2 - seg[2].lo;                                      \
        if (t3 - seg[3].lo < common) common = t3 - seg[3].lo;                                      \
        for (int64_t j = 0; j <= common; j++) {                                                    \
            GAE_STEP(KEEP, d, t0, n0, l0);                                                         \
            GAE_STEP(KEEP, d, t1, n1, l1);                                                         \
            GAE_STEP(KEEP, d, t2, n2, l2);                                                         \
            GAE_STEP(KEEP, d, t3, n3, l3);                                                         \
            t0--; t1--; t2--; t3--;                                                                \
        }                                                                                          \
        seg[0].hi = t0; seg[1].hi = t1; seg[2].hi = t2; seg[3].hi = t3;                            \
        seg[0].next_value = n0; seg[1].next_value = n1; seg[2].next_value = n2; seg[3].next_value = n3; \
        seg[0].lastgaelam = l0; seg[1].lastgaelam = l1; seg[2].lastgaelam = l2; seg[3].lastgaelam = l3; \
    }                                                                                              \
    for (i = 0; i < k; i++) {                                                                      \
        int64_t t = seg[i].hi, lo = seg[i].lo;                                                     \
        double nv = seg[i].next_value, lg = seg[i].lastgaelam;                                     \
        for (; t >= lo; t--) GAE_STEP(KEEP, d, t, nv, lg);                                         \
    }                                                                                              \
    return bad;                                                                                    \
}

GAE_WALK(walk_f64, double, keep_f64)
GAE_WALK(walk_bool, unsigned char, keep_bool)

void am_gae_segments(const double *r, const double *v, const double *d_f64, const unsigned char *d_bool,
                     double gamma, double lambda, am_gae_segment *segments, int count,
                     double *a, double *g) {
    double gl = gamma * lambda;
    for (int start = 0; start < count; start += 4) {
        int k = count - start < 4 ? count - start : 4;
        /* the walk moves hi, next_value and lastgaelam on: work on a copy */
        am_gae_segment s[4];
        memcpy(s, segments + start, (size_t)k * sizeof s[0]);
        int bad = d_f64 ? walk_f64(r, v, d_f64, gamma, gl, s, k, a, g)
                        : walk_bool(r, v, d_bool, gamma, gl, s, k, a, g);
        for (int i = 0; i < k; i++) segments[start + i].bad = bad;
    }
}

int am_gae_first_step_agrees(const double *r, const double *v, const double *d_f64, const unsigned char *d_bool,
                             double gamma, double lambda, int64_t hi, double incoming, const double *a) {
    int bad = 0;
    double keep = d_f64 ? keep_f64(d_f64, hi, &bad) : keep_bool(d_bool, hi, &bad);
    double x = advantage(r[hi], v[hi], keep, gamma, gamma * lambda, v[hi + 1], incoming);
    return memcmp(&x, &a[hi], sizeof x) == 0;
}
