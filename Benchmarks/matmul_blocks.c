/* What splitting a matmul into blocks of rows costs (Tensor.matmul polls Ctrl-C between
   blocks): [n,n]x[n,n] as one cblas call against row blocks of 2^LG multiply-adds, Debian's
   OpenBLAS, alternating, best of 15 and median. By hand:
     clang -O2 -I/usr/include/x86_64-linux-gnu/openblas-pthread Benchmarks/matmul_blocks.c -lopenblas \
       -o /tmp/matmul_blocks && /tmp/matmul_blocks 1024 d 28 && /tmp/matmul_blocks 1024 s 28   (n, d|s, LG) */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static int cmp(const void *a, const void *b) { double x = *(double *)a, y = *(double *)b; return x < y ? -1 : x > y; }
int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 1024, f32 = argc > 2 && argv[2][0] == 's';
    int lg = argc > 3 ? atoi(argv[3]) : 28; long rows = (1L << lg) / ((long)n * n); if (rows < 1) rows = 1;
    double *a = malloc(sizeof(double) * n * n), *b = malloc(sizeof(double) * n * n), *c = malloc(sizeof(double) * n * n);
    float *af = (float *)a, *bf = (float *)b, *cf = (float *)c;
    for (long i = 0; i < (long)n * n; i++) { a[i] = (i % 7) * 0.25; b[i] = (i % 5) * 0.5; }
    double t1[15], t2[15];
    for (int r = 0; r < 15; r++) {
        for (int mode = 0; mode < 2; mode++) {
            double t = now();
            long step = mode ? rows : n;
            for (long r0 = 0; r0 < n; r0 += step) {
                long m = r0 + step > n ? n - r0 : step;
                if (f32) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, n, 1, af + r0 * n, n, bf, n, 0, cf + r0 * n, n);
                else cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, n, 1, a + r0 * n, n, b, n, 0, c + r0 * n, n);
            }
            (mode ? t2 : t1)[r] = now() - t;
        }
    }
    qsort(t1, 15, sizeof(double), cmp); qsort(t2, 15, sizeof(double), cmp);
    printf("%s n=%d one call: best %.1f ms median %.1f | blocks of %ld rows: best %.1f ms median %.1f | ratio best %.3f median %.3f\n",
           f32 ? "f32" : "f64", n, t1[0] * 1e3, t1[7] * 1e3, rows, t2[0] * 1e3, t2[7] * 1e3, t2[0] / t1[0], t2[7] / t1[7]);
    return 0;
}
