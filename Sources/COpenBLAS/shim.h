/* Debian's OpenBLAS (libopenblas-dev, pthread flavour): the CBLAS interface tensor.matmul
   calls. pkg-config "openblas" gives the include directory and library path. */
#include <cblas.h>
