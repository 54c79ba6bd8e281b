/* Replacing an 80 MB file as numpy does (truncate in place), as AtomicFile did (temporary +
   rename) and does (temporary + renameat2 exchange + unlink): best wall and CPU of 9 each.
   cc -O2 -o /tmp/savetest Benchmarks/tensor_save_replace.c && /tmp/savetest */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <time.h>
#include <sys/resource.h>
#include <stdio.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static double cpu(void) { struct rusage r; getrusage(RUSAGE_SELF, &r); return r.ru_utime.tv_sec + r.ru_utime.tv_usec*1e-6 + r.ru_stime.tv_sec + r.ru_stime.tv_usec*1e-6; }
static char *buf; static size_t N = 80000000;
static void wr(int fd) { char h[128] = {0}; write(fd, h, 128); size_t d = 0; while (d < N) { ssize_t r = write(fd, buf + d, N - d); d += r; } }
int main(int argc, char **argv) {
  buf = malloc(N); for (size_t i = 0; i < N; i++) buf[i] = (char)i;
  const char *p = "/tmp/savetest.npy", *tmp = "/tmp/savetest.npy.tmp";
  int fd = open(p, O_WRONLY|O_CREAT|O_TRUNC, 0644); wr(fd); close(fd);
  for (int mode = 0; mode < 3; mode++) {
    double best = 1e9, bestc = 1e9;
    for (int r = 0; r < 9; r++) {
      double t0 = now(), c0 = cpu();
      if (mode == 0) { fd = open(p, O_WRONLY|O_CREAT|O_TRUNC, 0644); wr(fd); close(fd); }
      else { fd = open(tmp, O_WRONLY|O_CREAT|O_EXCL, 0644); wr(fd); close(fd);
        if (mode == 1) rename(tmp, p);
        else { renameat2(AT_FDCWD, tmp, AT_FDCWD, p, RENAME_EXCHANGE); unlink(tmp); } }
      double t = now() - t0, c = cpu() - c0; if (t < best) best = t; if (c < bestc) bestc = c;
    }
    printf("%s: best wall %.1f ms, best cpu %.1f ms\n", mode == 0 ? "truncate in place (numpy)" : mode == 1 ? "temp + rename" : "temp + exchange + unlink", best*1e3, bestc*1e3);
  }
  unlink(p); return 0;
}
