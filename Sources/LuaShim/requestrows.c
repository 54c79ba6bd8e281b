#include "requestrows.h"

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

void mlshim_push_request_row(lua_State *L, int query, int prompts, int labels, int null, lua_Integer i) {
    lua_createtable(L, 0, 4);
    int record = lua_gettop(L);
    size_t qn = 0, pn = 0;
    lua_rawgeti(L, query, i);
    const char *q = lua_tolstring(L, -1, &qn);  /* stays valid: the record holds the string */
    lua_setfield(L, record, "query");
    const char *p = NULL;
    if (prompts != 0) {
        lua_rawgeti(L, prompts, i);
        p = lua_tolstring(L, -1, &pn);
        lua_setfield(L, record, "prompt");
    }
    if (labels != 0) {
        if (lua_rawgeti(L, labels, i) != LUA_TNIL && !(null != 0 && lua_rawequal(L, -1, null))) {
            lua_setfield(L, record, "label");
        } else {
            lua_pop(L, 1);
        }
    }
    if (p != NULL && q != NULL && pn <= qn && memcmp(q, p, pn) == 0) {
        lua_pushlstring(L, q + pn, qn - pn);
    } else {
        lua_rawgeti(L, query, i);
    }
    lua_setfield(L, record, "completion");
}
