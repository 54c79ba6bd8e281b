/*
 * The rows of an OpenRLHF `/get_reward` body (moonlab serve; Workbench, RequestScoring):
 * the body is parsed onto a worker's Lua stack as tables, then each row becomes the
 * record `{query =, prompt =, label =, completion =}` its rewards get. Done here in one C
 * call per row rather than a dozen LuaKit calls from Swift: raw sets into a table that
 * has no metatable, so no metamethod can run and nothing raises except a memory error
 * (as any push can).
 */
#ifndef MLSHIM_REQUESTROWS_H
#define MLSHIM_REQUESTROWS_H

#include <lua.h>

/* The first 1-based position in 1..n of the list at `list` whose item is not a string
   (`*type` gets its Lua type), or 0 when all are. Stack-neutral; never raises. */
lua_Integer mlshim_first_non_string(lua_State *L, int list, lua_Integer n, int *type);

/* Pushes row i's record: `query` = query[i]; `prompt` = prompts[i] when `prompts` is not 0;
   `label` = labels[i] when `labels` is not 0 and the item is neither nil nor raw-equal to
   the value at `null` (data.null); `completion` = query[i] without its leading prompt
   (the whole query when there is no prompt or the query does not start with it). Every
   index is absolute; query and prompts hold strings (checked beforehand).
   Stack: [] -> [record]. */
void mlshim_push_request_row(lua_State *L, int query, int prompts, int labels, int null, lua_Integer i);

#endif
