/* The first touch of an 80 MB block, with 2 MB pages (MADV_HUGEPAGE, as TensorStorage asks for)
   or 4 KB pages: run it twice in a row and after a pause to see the bimodal cost on a VM that
   gives free memory back to its host (BENCHMARKS.md, tensors, "Why load hurts the loop").
   cc -O2 -o /tmp/thp Benchmarks/tensor_first_touch.c && /tmp/thp 1 && /tmp/thp 0 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <sys/resource.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static double sys_(void) { struct rusage r; getrusage(RUSAGE_SELF, &r); return r.ru_stime.tv_sec + r.ru_stime.tv_usec * 1e-6; }
int main(int argc, char **argv) {
  int huge = atoi(argv[1]); size_t n = 80u << 20; 
  for (int k = 0; k < 4; k++) {
    void *p; posix_memalign(&p, 2 << 20, n);
    if (huge) madvise(p, n, MADV_HUGEPAGE);
    double t = now(), s = sys_();
    memset(p, 1, n);
    printf("%s block %d: first touch of 80 MB %.1f ms (sys %.1f ms)\n", huge ? "MADV_HUGEPAGE" : "4 KB pages  ", k, (now() - t) * 1e3, (sys_() - s) * 1e3);
  }
  return 0;
}
