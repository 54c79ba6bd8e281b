#include "requestrows.h"
#include "luashim.h"

#include <math.h>
#include <string.h>

lua_Integer mlshim_first_non_string(lua_State *L, int list, lua_Integer n, int *type) {
    for (lua_Integer i = 1; i <= n; i++) {
        int t = lua_rawgeti(L, list, i);
        lua_pop(L, 1);
        if (t != LUA_TSTRING) {
            *type = t;
            return i;
        }
    }
    return 0;
}

void mlshim_push_request_row(lua_State *L, int query, int prompts, int labels, int null, int keys,
                             lua_Integer i) {
    lua_createtable(L, 0, 4);
    int record = lua_gettop(L);
    size_t qn = 0, pn = 0;
    lua_pushvalue(L, keys);  /* raw sets with the keys pushed once per request: no lookup of
                                a C string's Lua string (lua_setfield) per field */
    lua_rawgeti(L, query, i);
    const char *q = lua_tolstring(L, -1, &qn);  /* stays valid: the record holds the string */
    lua_rawset(L, record);
    const char *p = NULL;
    if (prompts != 0) {
        lua_pushvalue(L, keys + 1);
        lua_rawgeti(L, prompts, i);
        p = lua_tolstring(L, -1, &pn);
        lua_rawset(L, record);
    }
    if (labels != 0) {
        lua_pushvalue(L, keys + 2);
        if (lua_rawgeti(L, labels, i) != LUA_TNIL && !(null != 0 && lua_rawequal(L, -1, null))) {
            lua_rawset(L, record);
        } else {
            lua_pop(L, 2);
        }
    }
    lua_pushvalue(L, keys + 3);
    if (p != NULL && q != NULL && pn <= qn && memcmp(q, p, pn) == 0) {
        lua_pushlstring(L, q + pn, qn - pn);
    } else {
        lua_rawgeti(L, query, i);
    }
    lua_rawset(L, record);
}

int mlshim_call_rewards(lua_State *L, int rec, int state, const int *refs, int from, int count,
                        int reset_budget, long long budget, double *values, unsigned char *codes,
                        int *status) {
    mlshim_limits *lim = mlshim_getlimits(L);
    mlshim_pushmsghandler(L);
    int msgh = lua_gettop(L);
    for (int k = from; k < count; k++) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, refs[k]);
        lua_pushvalue(L, rec);
        lua_pushvalue(L, state);
        if (reset_budget) {  /* LuaState.resetBudget */
            lim->budget = budget;
            lim->budget_total = budget < 0 ? 0 : budget;
            lim->budget_exhausted = 0;
        }
        /* The row's budget is armed lazily: the reward runs without the count hook unless
           it is still running after the watchdog's grace period (mlshim_watch_begin). */
        int watch = reset_budget ? mlshim_watch_begin(L) : 0;
        int saved = mlshim_enter_lua(L);
        int s = mlshim_pcall(L, 2, 1, msgh);  /* the hook synced first, as LuaState.pcall does */
        mlshim_leave_lua(L, saved);
        mlshim_watch_end(L, watch);
        int t = s == LUA_OK ? lua_type(L, -1) : LUA_TNONE;
        if (t == LUA_TNUMBER) {
            double v = (double)lua_tonumber(L, -1);
            values[k] = v;
            codes[k] = isfinite(v) ? MLSHIM_REWARD_VALUE : MLSHIM_REWARD_NONFINITE;
            lua_pop(L, 1);
        } else if (t == LUA_TNIL) {
            codes[k] = MLSHIM_REWARD_NIL;
            lua_pop(L, 1);
        } else {  /* an error, or a value of another type: the caller says what is wrong */
            lua_remove(L, msgh);
            *status = s;
            return k;
        }
    }
    lua_settop(L, msgh - 1);
    *status = LUA_OK;
    return count;
}
