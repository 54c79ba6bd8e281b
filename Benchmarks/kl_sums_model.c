/* The f32 KL sums kernel (`am_kl_sums_f32`, Sources/AlignMathC/klsums.c) alone: ns per pair
   on one row pair in L2 (compute-bound), then the [4096, 32000] batch on two threads
   (BENCHMARKS.md, "KL over [4096, 32000] f32 against the read floor"), each batch followed
   by the read floor of the same run: AVX2 sums of both arrays on two threads.
   clang -O2 -ISources/AlignMathC/include -o /tmp/kl_model Benchmarks/kl_sums_model.c Sources/AlignMathC/klsums.c -lm -lpthread
   -DFAST times the fast kernel (`am_kl_sums_f32_fast`, the rows' maxima before the temperature)
   in place of the Cephes one; -DAVX512 its AVX-512 twin (`am_kl_sums_f32_fast_avx512`, for CPUs
   with AVX-512 F and DQ). */
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <time.h>
#include <pthread.h>
#include <stddef.h>
void am_kl_sums_f32(const float *p, const float *q, ptrdiff_t n, float s, float mp, float mq,
                    const float *np, const float *nq, double sums[3], float next[32]);
void am_kl_sums_f32_fast(const float *p, const float *q, ptrdiff_t n, float s, float maxp, float maxq,
                         const float *np, const float *nq, double sums[3], float next[32]);
void am_kl_sums_f32_fast_avx512(const float *p, const float *q, ptrdiff_t n, float s, float maxp, float maxq,
                                const float *np, const float *nq, double sums[3], float next[32]);
#if defined(AVX512)
#define KERNEL am_kl_sums_f32_fast_avx512
#elif defined(FAST)
#define KERNEL am_kl_sums_f32_fast
#else
#define KERNEL am_kl_sums_f32
#endif
/* next: max p, max q, min q, min p of the next pair */
#define RESET(nx) for(int k=0;k<8;k++){nx[k]=-INFINITY;nx[8+k]=-INFINITY;nx[16+k]=INFINITY;nx[24+k]=INFINITY;}
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
#define R 4096
#define C 32000
static float *P,*Q; static double out[R];
static void rows(int lo,int hi){
  float nx[32]; RESET(nx)
  KERNEL(P+(size_t)lo*C,Q+(size_t)lo*C,0,1,0,0,P+(size_t)lo*C,Q+(size_t)lo*C,(double[3]){0,0,0},nx);
  float mp=0,mq=0; for(int j=0;j<C;j++){ if(P[(size_t)lo*C+j]>mp)mp=P[(size_t)lo*C+j]; if(Q[(size_t)lo*C+j]>mq)mq=Q[(size_t)lo*C+j];}
  for(int r=lo;r<hi;r++){ double s3[3]={0,0,0}; RESET(nx)
    const float*np=r+1<hi?P+(size_t)(r+1)*C:P+(size_t)r*C, *nq=r+1<hi?Q+(size_t)(r+1)*C:Q+(size_t)r*C;
    KERNEL(P+(size_t)r*C,Q+(size_t)r*C,C,1,mp,mq,np,nq,s3,nx);
    out[r]=s3[2]/s3[0]-log(s3[0])+log(s3[1]);
    mp=-INFINITY;mq=-INFINITY; for(int k=0;k<8;k++){ if(nx[k]>mp)mp=nx[k]; if(nx[8+k]>mq)mq=nx[8+k]; } }
}
static void*th(void*a){long k=(long)a; rows(k*R/2,(k+1)*R/2); return 0;}
#include <immintrin.h>
static double rd[2];
__attribute__((target("avx2"))) static double sumread(int lo,int hi){ __m256 a=_mm256_setzero_ps(),b=a,c=a,d=a; for(size_t i=(size_t)lo*C;i<(size_t)hi*C;i+=16){a=_mm256_add_ps(a,_mm256_load_ps(P+i));b=_mm256_add_ps(b,_mm256_load_ps(Q+i));c=_mm256_add_ps(c,_mm256_load_ps(P+i+8));d=_mm256_add_ps(d,_mm256_load_ps(Q+i+8));} float o[8]; _mm256_storeu_ps(o,_mm256_add_ps(_mm256_add_ps(a,b),_mm256_add_ps(c,d))); return o[0]+o[7];}
static void*thr(void*a){long k=(long)a; rd[k]=sumread(k*R/2,(k+1)*R/2); return 0;}
int main(int argc,char**argv){
  P=aligned_alloc(64,(size_t)R*C*4); Q=aligned_alloc(64,(size_t)R*C*4);
  unsigned x=1; for(size_t i=0;i<(size_t)R*C;i++){x=x*1664525u+1013904223u; P[i]=(x>>8)*(1.0f/16777216)*8-4; x=x*1664525u+1013904223u; Q[i]=(x>>8)*(1.0f/16777216)*8-4;}
  // L2-resident: one pair repeated
  float nx[32]; double best=1e9;
  for(int rep=0;rep<200;rep++){ double s3[3]={0,0,0}; RESET(nx)
    double t0=now(); KERNEL(P,Q,C,1,4,4,P,Q,s3,nx); double t=now()-t0; if(t<best)best=t; }
  printf("one pair in cache: %.1f us, %.3f ns/pair\n",best*1e6,best*1e9/C);
  for(int rep=0;rep<5;rep++){
    double t0=now(); pthread_t a,b; pthread_create(&a,0,th,(void*)0); pthread_create(&b,0,th,(void*)1); pthread_join(a,0); pthread_join(b,0);
    printf("batch 2 threads: %.1f ms  (kl[0]=%.9g)\n",(now()-t0)*1e3,out[0]);
    { double t1=now(); pthread_t a,b; pthread_create(&a,0,thr,(void*)0); pthread_create(&b,0,thr,(void*)1); pthread_join(a,0); pthread_join(b,0); printf("read floor 2 threads: %.1f ms (%g)\n",(now()-t1)*1e3,rd[0]+rd[1]);} 
 }
}
