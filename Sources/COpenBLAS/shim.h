/* Debian's OpenBLAS (libopenblas-dev, pthread flavour): the CBLAS interface tensor.matmul
   calls. pkg-config "openblas" gives the include directory and library path. */
#include <cblas.h>

/* OpenBLAS's pthread server (not in cblas.h): stops the worker threads its library
   constructor starts; the next threaded call starts them again (the pool is re-initialised
   lazily, as after a fork). */
int blas_thread_shutdown_(void);
