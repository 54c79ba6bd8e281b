/*
 * The rows of an OpenRLHF `/get_reward` body (moonlab serve; Workbench, RequestScoring):
 * the body is parsed onto a worker's Lua stack as tables, then each row becomes the
 * record `{query =, prompt =, label =, completion =}` its rewards get. Done here in one C
 * call per row rather than a dozen LuaKit calls from Swift: raw sets into a table that
 * has no metatable, so no metamethod can run and nothing raises except a memory error
 * (as any push can). The rewards are then called from C too (mlshim_call_rewards).
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
   (the whole query when there is no prompt or the query does not start with it). `keys`
   is the index of the strings "query", "prompt", "label", "completion" (at keys..keys+3),
   pushed once by the caller. Every index is absolute; query and prompts hold strings
   (checked beforehand). Stack: [] -> [record]. */
void mlshim_push_request_row(lua_State *L, int query, int prompts, int labels, int null, int keys,
                             lua_Integer i);

/* What mlshim_call_rewards found for a reward. */
#define MLSHIM_REWARD_VALUE 0      /* a finite number, in values[k] */
#define MLSHIM_REWARD_NIL 1        /* nil: the reward does not apply */
#define MLSHIM_REWARD_NONFINITE 2  /* NaN or an infinity, in values[k] */

/* Calls rewards from..count-1 (the functions at registry references refs[k]) in turn, each
   as `f(record, state)` with the values at absolute indices `rec` and `state`, under
   mlshim_pcall with LuaKit's message handler, as LuaState.pcall calls a function (Lua code
   held to the memory ceiling while it runs, mlshim_enter_lua), the instruction budget
   refilled to `budget` (< 0: none) before each when `reset_budget` (LuaState.resetBudget):
   what ScoringWorker did per reward through LuaKit, in one C call per row. A budgeted reward
   runs as a watched row (mlshim_watch_begin, luashim.h): without the count hook unless it is
   still running after the grace period, its budget counting from then. Each result goes
   to codes[k] (and values[k] for a number). Stops at the first reward that raised or
   returned something that is neither a number nor nil: returns its k, its pcall status in
   *status (LUA_OK for a value of another type) and leaves [error or value] on the stack.
   Otherwise returns count, *status LUA_OK, the stack as it was. */
int mlshim_call_rewards(lua_State *L, int rec, int state, const int *refs, int from, int count,
                        int reset_budget, long long budget, double *values, unsigned char *codes,
                        int *status);

#endif
