#ifndef ALIGNMATH_BLAS_H
#define ALIGNMATH_BLAS_H

/// OpenBLAS picks its kernels by CPU model when it loads, and a model newer than the library
/// gets its most generic x86-64 kernels: Debian 12's OpenBLAS 0.3.21 on an Emerald Rapids
/// Xeon (family 6, model 207, AVX-512) runs Prescott's SSE3 code, and a [1024, 1024] dgemm
/// takes 4x numpy's (whose wheel bundles OpenBLAS 0.3.31, which knows the model).
/// `am_blas_prepare` redoes that choice once by what the CPU and OS can run: SkylakeX's
/// kernels where AVX-512 (F, DQ, BW, VL) runs, Haswell's where AVX2 and FMA do, and only
/// when OpenBLAS chose an older core than that. It changes nothing when `OPENBLAS_CORETYPE` is
/// set (the user chose), when the library is not a DYNAMIC_ARCH build (no
/// `gotoblas_dynamic_init`), or off x86-64. Call it before any BLAS call, ideally at
/// start-up before other threads run (it sets and unsets `OPENBLAS_CORETYPE`, OpenBLAS's own
/// way to force a core). Returns the core it switched to, or NULL when it kept OpenBLAS's.
const char *am_blas_prepare(void);

/// The core `am_blas_prepare` moves to from OpenBLAS's choice `detected` (its
/// `openblas_get_corename()`, any case) on a CPU with the given features, or NULL to keep it.
/// Pure: the decision alone, for tests.
const char *am_blas_better_core(const char *detected, int avx512, int avx2_fma);

#endif
