/* Match objects of moonlab's `re` module: see rematch.h. */
#include "rematch.h"

#include <ctype.h>
#include <stdio.h>
#include <lauxlib.h>

typedef struct {
    lua_Integer groups;
    lua_Integer spans[]; /* 2 * (groups + 1): 0-based [start, end), -1 when unmatched */
} rematch;

static const char rematch_key = 0; /* registry[&rematch_key] = the metatable */
static const char rematch_name[] = "re.match";

static rematch *checkmatch(lua_State *L, int idx) {
    rematch *m = (rematch *)lua_touserdata(L, idx);
    if (m != NULL && lua_getmetatable(L, idx)) {
        lua_rawgetp(L, LUA_REGISTRYINDEX, &rematch_key);
        int same = lua_rawequal(L, -1, -2);
        lua_pop(L, 2);
        if (same) return m;
    }
    luaL_typeerror(L, idx, rematch_name);
    return NULL;
}

/* Pushes group k's text, or nil when k is out of range or the group did not take part. */
static void pushgroup(lua_State *L, int idx, const rematch *m, lua_Integer k) {
    if (k < 0 || k > m->groups || m->spans[2 * k] < 0) {
        lua_pushnil(L);
        return;
    }
    lua_getiuservalue(L, idx, 1);
    size_t len;
    const char *s = lua_tolstring(L, -1, &len);
    lua_Integer a = m->spans[2 * k], b = m->spans[2 * k + 1];
    if (s == NULL || b > (lua_Integer)len || a > b) {
        lua_pop(L, 1);
        lua_pushnil(L);
        return;
    }
    lua_pushlstring(L, s + a, (size_t)(b - a));
    lua_remove(L, -2);
}

/* The number of the group named by the string at idx, or -1. */
static lua_Integer namedgroup(lua_State *L, int match, int idx) {
    lua_Integer k = -1;
    if (lua_getiuservalue(L, match, 2) == LUA_TTABLE) {
        lua_pushvalue(L, idx);
        if (lua_rawget(L, -2) == LUA_TNUMBER) k = lua_tointeger(L, -1);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return k;
}

/* m[k], m.name, then the methods (upvalue 1). A named group that took part wins over a
   method of the same name, as the fields of the former table-shaped matches did. */
static int rematch_index(lua_State *L) {
    rematch *m = checkmatch(L, 1);
    int isint = 0;
    switch (lua_type(L, 2)) {
    case LUA_TNUMBER: {
        lua_Integer k = lua_tointegerx(L, 2, &isint);
        if (isint) pushgroup(L, 1, m, k); else lua_pushnil(L);
        return 1;
    }
    case LUA_TSTRING: {
        lua_Integer k = namedgroup(L, 1, 2);
        if (k >= 0 && k <= m->groups && m->spans[2 * k] >= 0) {
            pushgroup(L, 1, m, k);
            return 1;
        }
        lua_pushvalue(L, 2);
        lua_rawget(L, lua_upvalueindex(1));
        return 1;
    }
    default:
        lua_pushnil(L);
        return 1;
    }
}

/* m:span([k]) -> start, end (1-based, inclusive end), or nil when group k did not take part. */
static int rematch_span(lua_State *L) {
    rematch *m = checkmatch(L, 1);
    lua_Integer k = 0;
    int isint = 1;
    switch (lua_type(L, 2)) {
    case LUA_TNONE:
    case LUA_TNIL: break;
    case LUA_TSTRING:
        k = namedgroup(L, 1, 2);
        if (k < 0) return luaL_error(L, "bad argument #1 to 'span' (no group %s)", lua_tostring(L, 2));
        break;
    case LUA_TNUMBER:
        k = lua_tointegerx(L, 2, &isint);
        if (!isint) return luaL_error(L, "bad argument #1 to 'span' (group number or name expected)");
        break;
    default:
        return luaL_error(L, "bad argument #1 to 'span' (group number or name expected)");
    }
    if (k < 0 || k > m->groups) return luaL_error(L, "bad argument #1 to 'span' (no group %d)", (int)k);
    if (m->spans[2 * k] < 0) {
        lua_pushnil(L);
        return 1;
    }
    lua_pushinteger(L, m->spans[2 * k] + 1);
    lua_pushinteger(L, m->spans[2 * k + 1]);
    return 2;
}

/* m:groups([default]) -> {group 1, ...}; an unmatched group gives default, else false. */
static int rematch_groups(lua_State *L) {
    rematch *m = checkmatch(L, 1);
    lua_settop(L, 2);
    lua_createtable(L, (int)m->groups, 0);
    for (lua_Integer k = 1; k <= m->groups; k++) {
        pushgroup(L, 1, m, k);
        if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            if (lua_isnil(L, 2)) lua_pushboolean(L, 0); else lua_pushvalue(L, 2);
        }
        lua_rawseti(L, -2, k);
    }
    return 1;
}

/* m:groupdict() -> {name = text} for the named groups that took part. */
static int rematch_groupdict(lua_State *L) {
    rematch *m = checkmatch(L, 1);
    lua_newtable(L);
    int out = lua_gettop(L);
    if (lua_getiuservalue(L, 1, 2) != LUA_TTABLE) {
        lua_pop(L, 1);
        return 1;
    }
    int names = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, names)) {
        if (lua_type(L, -2) == LUA_TSTRING && lua_isinteger(L, -1)) {
            pushgroup(L, 1, m, lua_tointeger(L, -1));
            if (!lua_isnil(L, -1)) {
                lua_pushvalue(L, -3);
                lua_insert(L, -2);
                lua_rawset(L, out);
            } else {
                lua_pop(L, 1);
            }
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return 1;
}

/* "re.match(span = {a, b}, match = "text")", the text quoted as string.format's %q does. */
static int rematch_tostring(lua_State *L) {
    rematch *m = checkmatch(L, 1);
    luaL_Buffer b;
    pushgroup(L, 1, m, 0);
    size_t len = 0;
    const char *s = lua_tolstring(L, -1, &len);
    int text = lua_gettop(L);
    luaL_buffinit(L, &b);
    char head[96];
    snprintf(head, sizeof head, "re.match(span = {%lld, %lld}, match = ",
             (long long)(m->spans[0] + 1), (long long)m->spans[1]);
    luaL_addstring(&b, head);
    luaL_addchar(&b, '"');
    for (size_t i = 0; s != NULL && i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\' || c == '\n') {
            luaL_addchar(&b, '\\');
            luaL_addchar(&b, (char)c);
        } else if (iscntrl(c)) {
            char buf[10];
            if (i + 1 < len && isdigit((unsigned char)s[i + 1])) snprintf(buf, sizeof buf, "\\%03d", (int)c);
            else snprintf(buf, sizeof buf, "\\%d", (int)c);
            luaL_addstring(&b, buf);
        } else {
            luaL_addchar(&b, (char)c);
        }
    }
    luaL_addstring(&b, "\")");
    luaL_pushresult(&b);
    lua_remove(L, text);
    return 1;
}

void mlshim_rematch_install(lua_State *L) {
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &rematch_key) == LUA_TTABLE) {
        lua_pop(L, 1);
        return;
    }
    lua_pop(L, 1);
    lua_createtable(L, 0, 4);
    lua_pushstring(L, rematch_name);
    lua_setfield(L, -2, "__name");
    lua_pushcfunction(L, rematch_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_createtable(L, 0, 3);
    lua_pushcfunction(L, rematch_span);
    lua_setfield(L, -2, "span");
    lua_pushcfunction(L, rematch_groups);
    lua_setfield(L, -2, "groups");
    lua_pushcfunction(L, rematch_groupdict);
    lua_setfield(L, -2, "groupdict");
    lua_pushcclosure(L, rematch_index, 1);
    lua_setfield(L, -2, "__index");
    /* getmetatable(m) gives this string: the metatable every match shares stays out of
       reach of scripts (a sandboxed plugin must not change other users' matches). */
    lua_pushstring(L, rematch_name);
    lua_setfield(L, -2, "__metatable");
    lua_rawsetp(L, LUA_REGISTRYINDEX, &rematch_key);
}

void mlshim_rematch_push(lua_State *L, const size_t *ovector, int groups, int subject, int names) {
    subject = lua_absindex(L, subject);
    if (names != 0) names = lua_absindex(L, names);
    rematch *m = (rematch *)lua_newuserdatauv(L, sizeof(rematch) + sizeof(lua_Integer) * 2 * ((size_t)groups + 1), 2);
    m->groups = groups;
    for (int i = 0; i < 2 * (groups + 1); i++) {
        size_t v = ovector[i];
        m->spans[i] = v == (size_t)-1 ? -1 : (lua_Integer)v;
    }
    for (int k = 0; k <= groups; k++) {  /* a group PCRE2 left unset at one end is unmatched */
        if (m->spans[2 * k] < 0 || m->spans[2 * k + 1] < 0) m->spans[2 * k] = m->spans[2 * k + 1] = -1;
    }
    lua_pushvalue(L, subject);
    lua_setiuservalue(L, -2, 1);
    if (names != 0) {
        lua_pushvalue(L, names);
        lua_setiuservalue(L, -2, 2);
    }
    lua_rawgetp(L, LUA_REGISTRYINDEX, &rematch_key);
    lua_setmetatable(L, -2);
}
