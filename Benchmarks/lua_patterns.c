/* Lua 5.4's own string patterns (Debian's liblua5.4, gcc -O2) against moonlab's stoppable copy
   (Sources/LuaShim/luapattern.c) on the same Lua benchmark, in one process. By hand:
     S=Sources/LuaShim; clang -O2 -I$S/include -I/usr/include/lua5.4 Benchmarks/lua_patterns.c \
       $S/luashim.c $S/luapattern.c -llua5.4 -o /tmp/lua_patterns && /tmp/lua_patterns Benchmarks/lua_patterns.lua */
#include "luashim.h"
#include "luapattern.h"
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
    mlshim_limits lim = {0};
    lim.budget = -1;
    for (int which = 0; which < 2; which++) {
        lua_State *L = mlshim_newstate(&lim);
        luaL_openlibs(L);
        mlshim_installhook(L);
        if (which) mlshim_open_patterns(L);
        lua_pushstring(L, which ? "ours" : "stock");
        lua_setglobal(L, "WHICH");
        if (luaL_dofile(L, argv[1])) { fprintf(stderr, "%s\n", lua_tostring(L, -1)); return 1; }
        lua_close(L);
    }
    return 0;
}
