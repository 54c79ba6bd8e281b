#include "alignmath_blas.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* OpenBLAS's own entry points (not in cblas.h). Weak, so that a BLAS without them (a build
   for one core, or another library) links and this does nothing. */
extern char *openblas_get_corename(void) __attribute__((weak));
extern void gotoblas_dynamic_init(void) __attribute__((weak));
extern void gotoblas_dynamic_quit(void) __attribute__((weak));

/* Cores OpenBLAS may fall back to for a model it does not know, older than AVX2 (Sandy
   Bridge's AVX kernels included: a newer CPU is sometimes taken for one). */
static const char *const generic_cores[] = {
    "katmai", "coppermine", "northwood", "prescott", "banias", "atom", "core2", "penryn",
    "dunnington", "nehalem", "nano", "sandybridge", NULL,
};

static int listed(const char *name, const char *const *list) {
    for (int i = 0; list[i]; i++)
        if (strcasecmp(name, list[i]) == 0) return 1;
    return 0;
}

/* A core OpenBLAS knows it chose (Haswell, SkylakeX, Cooperlake, Zen, ...) is kept: only a
   fallback is replaced. */
const char *am_blas_better_core(const char *detected, int avx512, int avx2_fma) {
    if (detected == NULL) return NULL;
    int generic = listed(detected, generic_cores);
    if (avx512 && generic) return "SkylakeX";
    if (avx2_fma && generic) return "Haswell";
    return NULL;
}

#if defined(__x86_64__)
static int cpu_avx512(void) {
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
}
static int cpu_avx2_fma(void) {
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#endif

static const char *switched_to;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void prepare_once(void) {
#if defined(__x86_64__)
    if (!openblas_get_corename || !gotoblas_dynamic_init || !gotoblas_dynamic_quit) return;
    if (getenv("OPENBLAS_CORETYPE") != NULL) return;
    __builtin_cpu_init();
    const char *better = am_blas_better_core(openblas_get_corename(), cpu_avx512(), cpu_avx2_fma());
    if (better == NULL) return;
    /* what OPENBLAS_CORETYPE does at load time: drop the choice, choose again */
    setenv("OPENBLAS_CORETYPE", better, 1);
    gotoblas_dynamic_quit();
    gotoblas_dynamic_init();
    unsetenv("OPENBLAS_CORETYPE");
    if (strcasecmp(openblas_get_corename(), better) == 0) switched_to = better;
#endif
}

const char *am_blas_prepare(void) {
    pthread_once(&once, prepare_once);
    return switched_to;
}
