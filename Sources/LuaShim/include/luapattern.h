/*
 * Lua's string patterns, stoppable: string.find/match/gmatch/gsub as in Lua 5.4.4 (same
 * results and errors), checking Ctrl-C and the instruction budget every few thousand
 * matching steps (luapattern.c).
 */
#ifndef MLSHIM_LUAPATTERN_H
#define MLSHIM_LUAPATTERN_H

#include <lua.h>

/* Replaces find, match, gmatch and gsub in the state's string library (package.loaded.string,
   the string metatable's __index) with the stoppable ones. Does nothing without a string
   library. Stack-neutral. */
void mlshim_open_patterns(lua_State *L);

#endif
