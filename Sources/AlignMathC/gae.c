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
/* No dones: keep is 1, and `gamma * 1`, `gl * 1` are exact, so each step is the no-dones
   loop's `r + gamma * nv - v + gl * lg`, bit for bit. */
static inline double keep_none(const unsigned char *d, int64_t t, int *bad) {
    (void)d; (void)t; (void)bad;
    return 1.0;
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

#if defined(__x86_64__)
#include <emmintrin.h>

/* Two lanes' entries of `x` at t and u, in one vector (lane 0 low). */
static inline __m128d pair(const double *x, int64_t t, int64_t u) {
    return _mm_loadh_pd(_mm_load_sd(x + t), x + u);
}
static inline __m128d keep_pair_f64(const double *d, int64_t t, int64_t u, __m128d *bad) {
    __m128d dt = pair(d, t, u);
    *bad = _mm_or_pd(*bad, _mm_and_pd(_mm_cmpneq_pd(dt, _mm_setzero_pd()), _mm_cmpneq_pd(dt, _mm_set1_pd(1.0))));
    return _mm_sub_pd(_mm_set1_pd(1.0), dt);
}
static inline __m128d keep_pair_bool(const unsigned char *d, int64_t t, int64_t u, __m128d *bad) {
    (void)bad;
    return _mm_set_pd(d[u] ? 0.0 : 1.0, d[t] ? 0.0 : 1.0);
}
static inline __m128d keep_pair_none(const unsigned char *d, int64_t t, int64_t u, __m128d *bad) {
    (void)d; (void)t; (void)u; (void)bad;
    return _mm_set1_pd(1.0);
}

/* One step of two lanes at once: the scalar step's operations, in its order, lane by lane
   (SSE2 arithmetic rounds each lane as the scalar instruction would). */
#define GAE_PAIR_STEP(KEEP, t, u, nv, lg) do {                                                  \
        __m128d vt_ = pair(v, t, u);                                                            \
        __m128d keep_ = KEEP(d, t, u, &badv);                                                   \
        __m128d delta_ = _mm_sub_pd(_mm_add_pd(pair(r, t, u), _mm_mul_pd(_mm_mul_pd(vgamma, keep_), nv)), vt_); \
        lg = _mm_add_pd(delta_, _mm_mul_pd(_mm_mul_pd(vgl, keep_), lg));                      \
        _mm_storel_pd(a + t, lg); _mm_storeh_pd(a + u, lg);                                     \
        __m128d g_ = _mm_add_pd(lg, vt_);                                                       \
        _mm_storel_pd(g + t, g_); _mm_storeh_pd(g + u, g_);                                     \
        nv = vt_;                                                                               \
    } while (0)

/* The steps all four segments still have, as two pairs of lanes (four independent chains
   in flight: the serial walk waits on a multiply and an add a step); moves each segment's
   hi, next_value and lastgaelam on. */
#define GAE_FOUR_LANES(KEEP_PAIR) do {                                                           \
        int64_t t0 = seg[0].hi, t1 = seg[1].hi, t2 = seg[2].hi, t3 = seg[3].hi;                    \
        int64_t common = t0 - seg[0].lo;                                                           \
        if (t1 - seg[1].lo < common) common = t1 - seg[1].lo;                                      \
        if (t2 - seg[2].lo < common) common = t2 - seg[2].lo;                                      \
        if (t3 - seg[3].lo < common) common = t3 - seg[3].lo;                                      \
        const __m128d vgamma = _mm_set1_pd(gamma), vgl = _mm_set1_pd(gl);                         \
        __m128d nvA = _mm_set_pd(seg[1].next_value, seg[0].next_value);                            \
        __m128d nvB = _mm_set_pd(seg[3].next_value, seg[2].next_value);                            \
        __m128d lgA = _mm_set_pd(seg[1].lastgaelam, seg[0].lastgaelam);                            \
        __m128d lgB = _mm_set_pd(seg[3].lastgaelam, seg[2].lastgaelam);                            \
        __m128d badv = _mm_setzero_pd();                                                           \
        for (int64_t j = 0; j <= common; j++) {                                                    \
            GAE_PAIR_STEP(KEEP_PAIR, t0, t1, nvA, lgA);                                            \
            GAE_PAIR_STEP(KEEP_PAIR, t2, t3, nvB, lgB);                                            \
            t0--; t1--; t2--; t3--;                                                                \
        }                                                                                          \
        bad |= _mm_movemask_pd(badv) != 0;                                                         \
        double x[2];                                                                               \
        seg[0].hi = t0; seg[1].hi = t1; seg[2].hi = t2; seg[3].hi = t3;                            \
        _mm_storeu_pd(x, nvA); seg[0].next_value = x[0]; seg[1].next_value = x[1];                 \
        _mm_storeu_pd(x, nvB); seg[2].next_value = x[0]; seg[3].next_value = x[1];                 \
        _mm_storeu_pd(x, lgA); seg[0].lastgaelam = x[0]; seg[1].lastgaelam = x[1];                 \
        _mm_storeu_pd(x, lgB); seg[2].lastgaelam = x[0]; seg[3].lastgaelam = x[1];                 \
    } while (0)
#else
#define GAE_FOUR_LANES(KEEP_PAIR) do { } while (0)
#endif

/* The walk of up to four segments, for one kind of dones: four at once while they all have
   steps left (on x86-64), then each segment's rest alone. */
#define GAE_WALK(NAME, DTYPE, KEEP, KEEP_PAIR)                                                    \
static int NAME(const double *restrict r, const double *restrict v, const DTYPE *restrict d,       \
                double gamma, double gl, am_gae_segment *seg, int k,                               \
                double *restrict a, double *restrict g) {                                          \
    int bad = 0;                                                                                   \
    if (k == 4) GAE_FOUR_LANES(KEEP_PAIR);                                                         \
    for (int i = 0; i < k; i++) {                                                                  \
        int64_t t = seg[i].hi, lo = seg[i].lo;                                                     \
        double nv = seg[i].next_value, lg = seg[i].lastgaelam;                                     \
        for (; t >= lo; t--) GAE_STEP(KEEP, d, t, nv, lg);                                         \
    }                                                                                              \
    return bad;                                                                                    \
}

GAE_WALK(walk_f64, double, keep_f64, keep_pair_f64)
GAE_WALK(walk_bool, unsigned char, keep_bool, keep_pair_bool)
GAE_WALK(walk_none, unsigned char, keep_none, keep_pair_none)

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
                : d_bool ? walk_bool(r, v, d_bool, gamma, gl, s, k, a, g)
                : walk_none(r, v, NULL, gamma, gl, s, k, a, g);
        for (int i = 0; i < k; i++) segments[start + i].bad = bad;
    }
}

/* The walk again from hi down with the true incoming advantage, until a step lands on the
   bits already there: from that step on the state (v[t], a[t]) is the same, so the rest is. */
#define GAE_REJOIN(KEEP, D) do {                                                    \
        for (t = hi; t >= lo; t--) {                                                \
            double vt_ = v[t];                                                      \
            double x_ = advantage(r[t], vt_, KEEP(D, t, &bad), gamma, gl, nv, lg);  \
            if (memcmp(&x_, &a[t], sizeof x_) == 0) break;                          \
            a[t] = x_; g[t] = x_ + vt_;                                             \
            lg = x_; nv = vt_;                                                      \
        }                                                                           \
    } while (0)

int64_t am_gae_rejoin(const double *r, const double *v, const double *d_f64, const unsigned char *d_bool,
                      double gamma, double lambda, int64_t hi, int64_t lo, double incoming,
                      double *a, double *g) {
    int bad = 0;
    double gl = gamma * lambda, nv = v[hi + 1], lg = incoming;
    int64_t t;
    if (d_f64) GAE_REJOIN(keep_f64, d_f64);
    else if (d_bool) GAE_REJOIN(keep_bool, d_bool);
    else GAE_REJOIN(keep_none, d_bool);
    return hi - t;
}
