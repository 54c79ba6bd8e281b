/* The Lua 5.4 C API moonlab is built on (see ../README.md). */
#include "lua.h"
#include "lualib.h"
#include "lauxlib.h"
