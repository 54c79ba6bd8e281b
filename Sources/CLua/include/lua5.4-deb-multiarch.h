/* Debian's build generates this header with the multiarch triplet of the host; moonlab
   builds Lua itself, so the triplet comes from the compiler. It names the directory of
   Debian's Lua C modules (/usr/lib/TRIPLET/lua/5.4), as in Debian's own lua5.4. */
#ifndef LUA54_DEB_MULTIARCH_H
#define LUA54_DEB_MULTIARCH_H
#if defined(__x86_64__) && defined(__linux__)
#define DEB_HOST_MULTIARCH "x86_64-linux-gnu"
#elif defined(__aarch64__) && defined(__linux__)
#define DEB_HOST_MULTIARCH "aarch64-linux-gnu"
#elif defined(__i386__) && defined(__linux__)
#define DEB_HOST_MULTIARCH "i386-linux-gnu"
#elif defined(__arm__) && defined(__linux__)
#define DEB_HOST_MULTIARCH "arm-linux-gnueabihf"
#elif defined(__powerpc64__) && defined(__linux__) && defined(__LITTLE_ENDIAN__)
#define DEB_HOST_MULTIARCH "powerpc64le-linux-gnu"
#elif defined(__riscv) && defined(__linux__)
#define DEB_HOST_MULTIARCH "riscv64-linux-gnu"
#elif defined(__s390x__) && defined(__linux__)
#define DEB_HOST_MULTIARCH "s390x-linux-gnu"
#else
#define DEB_HOST_MULTIARCH "."
#endif
#endif
