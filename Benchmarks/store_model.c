/* The output pass of `rl.kl` k1 / `a - b` over 1e6 f64 and the issue-13 loop body
   `(a * 2 + b) / c`, modelled in C (BENCHMARKS.md, "Issue 11/13, sixth pass"): ordinary
   stores (mode 0), streaming stores from registers (mode 1, `_mm256_stream_pd`, what
   `Tensor.streamed` now does), or a 4 KB stack buffer streamed out (mode 2, what it did
   before), with the outputs rotating over BLOCKS blocks (1: numpy, whose allocator hands back
   the block just freed; 9-12: moonlab's dead outputs waiting for the collector).
   cc -O2 -mavx2 -mfma -o /tmp/store_model Benchmarks/store_model.c
   /tmp/store_model BLOCKS MODE N      (e.g. 9 1 1000000; 3 0 10000000) */
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
static int mode; // 0 plain, 1 nt direct, 2 stack buffer + nt copy
static void st(double*o,__m256d v){ if(mode==1) _mm256_stream_pd(o,v); else _mm256_storeu_pd(o,v);}
static void copy_nt(double*d,const double*s,long n){for(long i=0;i<n;i+=4)_mm256_stream_pd(d+i,_mm256_loadu_pd(s+i));}
static void mul2(const double*a,double*o,long n){ if(mode==2){double t[512]; for(long i=0;i<n;i+=512){for(int j=0;j<512;j+=4)_mm256_storeu_pd(t+j,_mm256_mul_pd(_mm256_loadu_pd(a+i+j),_mm256_set1_pd(2)));copy_nt(o+i,t,512);} _mm_sfence(); return;}
  for(long i=0;i<n;i+=4) st(o+i,_mm256_mul_pd(_mm256_loadu_pd(a+i),_mm256_set1_pd(2))); if(mode) _mm_sfence();}
static void add(const double*a,const double*b,double*o,long n){ if(mode==2){double t[512]; for(long i=0;i<n;i+=512){for(int j=0;j<512;j+=4)_mm256_storeu_pd(t+j,_mm256_add_pd(_mm256_loadu_pd(a+i+j),_mm256_loadu_pd(b+i+j)));copy_nt(o+i,t,512);} _mm_sfence(); return;}
  for(long i=0;i<n;i+=4) st(o+i,_mm256_add_pd(_mm256_loadu_pd(a+i),_mm256_loadu_pd(b+i))); if(mode) _mm_sfence();}
static void dv(const double*a,const double*b,double*o,long n){ if(mode==2){double t[512]; for(long i=0;i<n;i+=512){for(int j=0;j<512;j+=4)_mm256_storeu_pd(t+j,_mm256_div_pd(_mm256_loadu_pd(a+i+j),_mm256_loadu_pd(b+i+j)));copy_nt(o+i,t,512);} _mm_sfence(); return;}
  for(long i=0;i<n;i+=4) st(o+i,_mm256_div_pd(_mm256_loadu_pd(a+i),_mm256_loadu_pd(b+i))); if(mode) _mm_sfence();}
int main(int argc,char**argv){
  long n=atol(argv[3]); int nb=atoi(argv[1]); mode=atoi(argv[2]);
  double*a=aligned_alloc(64,n*8),*b=aligned_alloc(64,n*8),*c=aligned_alloc(64,n*8);
  for(long i=0;i<n;i++){a[i]=i*0.5;b[i]=i*0.25;c[i]=1+i%7;}
  double*o[64]; for(int k=0;k<nb;k++){o[k]=aligned_alloc(65536,n*8+65536); memset(o[k],0,n*8);}
  double best=1e9,tot=0; int R=200,q=0;
  for(int r=0;r<R;r++){double t0=now();
    double*t1=o[q++%nb],*t2=o[q++%nb],*t3=o[q++%nb]; mul2(a,t1,n); add(t1,b,t2,n); dv(t2,c,t3,n);
    double t=now()-t0; if(t<best)best=t; tot+=t;}
  printf("n %ld blocks %d mode %d: best %.3f ms mean %.3f ms\n",n,nb,mode,best*1e3,tot/R*1e3);
}
