/* PCRE2 with 8-bit code units: moonlab's `re` module matches Lua strings, which are bytes. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
