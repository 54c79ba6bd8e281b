#ifndef ALIGNMATH_GAE_H
#define ALIGNMATH_GAE_H
#include <stddef.h>
#include <stdint.h>

/* One stretch of a GAE row, walked backward from `hi` down to `lo` (inclusive), starting
   from `next_value` (v[hi + 1], or the row's bootstrap value) and `lastgaelam` (the
   advantage at hi + 1, or 0 at the row's end). `bad` is set when a done is neither 0 nor 1. */
typedef struct am_gae_segment {
    int64_t hi, lo;
    double next_value, lastgaelam;
    int32_t bad;
} am_gae_segment;

/* Runs the segments four at a time, their steps interleaved so the four recurrences'
   latencies overlap; each step is the same arithmetic, in the same order, as the serial
   loop (TRL/OpenRLHF's `delta + gamma * lam * nextnonterminal * lastgaelam`).
   Dones as 0/1 doubles (`d_f64`) or bytes (`d_bool`), or neither (no dones: keep = 1). */
void am_gae_segments(const double *r, const double *v, const double *d_f64, const unsigned char *d_bool,
                     double gamma, double lambda, am_gae_segment *segments, int count,
                     double *advantages, double *returns);

/* A segment cut at hi started from lastgaelam 0 instead of the advantage at hi + 1, which
   was not known yet. Walks it again from hi down to lo with the true `incoming` advantage
   until a step lands on the bits already in a[t] (from there on the walks agree), rewriting
   a and g on the way; returns the number of steps rewritten. At a done the first step
   agrees unless `incoming` is not finite or the sign of a zero differs; elsewhere the two
   walks draw together as (gamma * lambda)^k, within ~36 / -ln(gamma * lambda) steps. */
int64_t am_gae_rejoin(const double *r, const double *v, const double *d_f64, const unsigned char *d_bool,
                      double gamma, double lambda, int64_t hi, int64_t lo, double incoming,
                      double *advantages, double *returns);

#endif
