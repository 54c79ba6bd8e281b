/* Match objects of moonlab's `re` module: see rematch.h. */
#include "rematch.h"
#include "luashim.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <lauxlib.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

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

/* m:group(k, ...) -> the texts of groups k, ... (Python's Match.group): group 0 without an
   argument, nil for a group that did not take part; a group the pattern does not have is
   an error (Python: IndexError "no such group"). */
static int rematch_group(lua_State *L) {
    rematch *m = checkmatch(L, 1);
    int n = lua_gettop(L) - 1;
    if (n <= 0) {
        pushgroup(L, 1, m, 0);
        return 1;
    }
    luaL_checkstack(L, n, "too many groups");
    for (int i = 2; i <= n + 1; i++) {
        lua_Integer k = -1;
        int isint = 0;
        if (lua_type(L, i) == LUA_TSTRING) {
            k = namedgroup(L, 1, i);
            if (k < 0) return luaL_error(L, "bad argument #%d to 'group' (no group %s)", i - 1, lua_tostring(L, i));
        } else if (lua_type(L, i) == LUA_TNUMBER) {
            k = lua_tointegerx(L, i, &isint);
            if (!isint) return luaL_error(L, "bad argument #%d to 'group' (group number or name expected)", i - 1);
            if (k < 0 || k > m->groups) return luaL_error(L, "bad argument #%d to 'group' (no group %d)", i - 1, (int)k);
        } else {
            return luaL_error(L, "bad argument #%d to 'group' (group number or name expected)", i - 1);
        }
        pushgroup(L, 1, m, k);
    }
    return n;
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

/* The JIT stack a match runs on: the state's own (the callback's data), or during
   mlshim_re_match's retry a large one of its own. One thread runs one match at a time. */
static _Thread_local pcre2_jit_stack *rematch_large_stack;

static pcre2_jit_stack *rematch_stack(void *data) {
    return rematch_large_stack != NULL ? rematch_large_stack : (pcre2_jit_stack *)data;
}

void mlshim_re_assign_stack(void *context, void *stack) {
    pcre2_jit_stack_assign((pcre2_match_context *)context, rematch_stack, stack);
}

int mlshim_re_match(const void *code, const unsigned char *subject, size_t length, size_t offset,
                    uint32_t options, void *match_data, void *context) {
    int rc = pcre2_match((const pcre2_code *)code, subject, length, offset, options,
                         (pcre2_match_data *)match_data, (pcre2_match_context *)context);
    if (rc != PCRE2_ERROR_JIT_STACKLIMIT || rematch_large_stack != NULL) return rc;
    pcre2_jit_stack *large = pcre2_jit_stack_create(32 << 10, MLSHIM_RE_LARGE_STACK, NULL);
    if (large == NULL) return rc;
    rematch_large_stack = large;
    rc = pcre2_match((const pcre2_code *)code, subject, length, offset, options,
                     (pcre2_match_data *)match_data, (pcre2_match_context *)context);
    rematch_large_stack = NULL;
    pcre2_jit_stack_free(large);
    return rc;
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
    lua_createtable(L, 0, 4);
    lua_pushcfunction(L, rematch_span);
    lua_setfield(L, -2, "span");
    lua_pushcfunction(L, rematch_groups);
    lua_setfield(L, -2, "groups");
    lua_pushcfunction(L, rematch_groupdict);
    lua_setfield(L, -2, "groupdict");
    lua_pushcfunction(L, rematch_group);
    lua_setfield(L, -2, "group");
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

/* The fast path of a compiled pattern's search/match/fullmatch (see rematch.h). It does
   what ReMethods.find and CompiledRegex.exec do for the common case, in the same order:
   the subject, the offset (past the end: nil, no charge), a checkpoint of 1, one PCRE2
   call without an offset limit, the time charge max(ns / 10, bytes / 64) + 1
   (RegexRuntime.cost), and for a search the window's adaptation (RegexRuntime.adapt). */

static mlshim_regex_fn g_regex_lookup;

static uint64_t rematch_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Upvalues: 1 the former (Swift) method, 2 the pattern metatable, 3 the mode, 4 the
   qualified name errors give. */
static int rematch_method(lua_State *L) {
    int top = lua_gettop(L);
    mlshim_regex *r = NULL;
    if (top >= 2 && top <= 3 && lua_type(L, 2) == LUA_TSTRING &&
        (top < 3 || lua_isnil(L, 3) || lua_isinteger(L, 3)) && lua_getmetatable(L, 1)) {
        int same = lua_rawequal(L, -1, lua_upvalueindex(2));
        lua_pop(L, 1);
        void *object = same ? mlshim_tobox(L, 1) : NULL;
        if (object != NULL && g_regex_lookup != NULL) r = g_regex_lookup(object);
    }
    int mode = (int)lua_tointeger(L, lua_upvalueindex(3));
    pcre2_code *code = NULL;
    if (r != NULL && !r->has_names)
        code = (pcre2_code *)(mode == 0 ? r->search_code : mode == 1 ? r->anchored_code : r->full_code);
    size_t len = 0;
    const char *s = code != NULL ? lua_tolstring(L, 2, &len) : NULL;
    size_t from = 0;
    if (s != NULL && top >= 3 && !lua_isnil(L, 3)) {  /* ReMethods.offset */
        lua_Integer i = lua_tointeger(L, 3), count = (lua_Integer)len;
        lua_Integer one = i < 0 ? (count + i + 1 > 1 ? count + i + 1 : 1) : (i > 1 ? i : 1);
        if (one > count + 1) {
            lua_pushnil(L);
            return 1;
        }
        from = (size_t)(one - 1);
    }
    if (s != NULL && mode == 0 && (long)(len - from) > *r->search_window) s = NULL;  /* windows: Swift */
    if (s == NULL) {  /* everything else: the former method, with the same arguments */
        lua_pushvalue(L, lua_upvalueindex(1));
        lua_insert(L, 1);
        lua_call(L, top, LUA_MULTRET);
        return lua_gettop(L);
    }
    mlshim_charge_native(L, 1);
    pcre2_match_context *context = (pcre2_match_context *)r->match_context;
    pcre2_set_offset_limit(context, PCRE2_UNSET);
    uint64_t began = rematch_now();
    int rc = mlshim_re_match(code, (const unsigned char *)s, len, from, 0, r->match_data, context);
    uint64_t took = rematch_now() - began;
    if (mode == 0) {
        long w = *r->search_window;
        if (took < 1000000u) *r->search_window = w << 1 < (1L << 24) ? w << 1 : (1L << 24);
        else if (took > 10000000u) *r->search_window = w >> 1 > 1 ? w >> 1 : 1;
    }
    uint64_t bytes = (uint64_t)(len - from) / 64, ns = took / 10;
    mlshim_charge_native(L, (long)(ns > bytes ? ns : bytes) + 1);
    if (rc >= 0) {
        mlshim_rematch_push(L, pcre2_get_ovector_pointer((pcre2_match_data *)r->match_data), r->groups, 2, 0);
        return 1;
    }
    if (rc == PCRE2_ERROR_NOMATCH) {
        lua_pushnil(L);
        return 1;
    }
    PCRE2_UCHAR text[256];  /* CompiledRegex.outcome's messages */
    char fallback[32];
    const char *message = (const char *)text;
    if (pcre2_get_error_message(rc, text, sizeof text) <= 0) {
        snprintf(fallback, sizeof fallback, "error %d", rc);
        message = fallback;
    }
    const char *name = lua_tostring(L, lua_upvalueindex(4));
    if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT)
        return luaL_error(L, "%s: the match gave up (%s): the pattern backtracks too much on this text", name, message);
    return luaL_error(L, "%s: match failed: %s", name, message);
}

void mlshim_rematch_fastmethod(lua_State *L, int methods, int metatable, const char *name,
                               const char *qualified, int mode, mlshim_regex_fn lookup) {
    methods = lua_absindex(L, methods);
    metatable = lua_absindex(L, metatable);
    g_regex_lookup = lookup;
    lua_getfield(L, methods, name);
    lua_pushvalue(L, metatable);
    lua_pushinteger(L, mode);
    lua_pushstring(L, qualified);
    lua_pushcclosure(L, rematch_method, 4);
    lua_setfield(L, methods, name);
}
