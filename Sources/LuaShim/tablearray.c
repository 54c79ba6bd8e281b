/* Reading a Lua array's entries in place, without one API call per entry.

   `mlshim_read_numbers`/`mlshim_read_flags` bring a Lua array into a kernel (rl.gae's
   `dones`, `tensor{...}` of a million numbers). Through the API each entry costs a
   `lua_rawgeti`, a `lua_tonumberx` and a stack reset: ~10 ns, so 1e6 booleans took 10 ms,
   five times the GAE they feed. The entries already sit in the table's array part as
   tagged values, 16 bytes each; reading them there costs about what a memcpy does.

   The table's layout is Lua 5.4's `Table` and `TValue` (lobject.h; the same from 5.4.0 to
   5.4.7), which the public headers do not expose. So the mirror below is used only after
   it has been checked against the running library: once per process, on a table made
   through the API whose entries are known, and on every call, the first and last entry
   read in place are compared with what `lua_rawgeti` says. If either check fails (another
   Lua, another layout), every read goes through the API as before: slower, never wrong.
   Nothing here allocates or calls back into Lua while the pointer is held, so the
   collector cannot move or free the array under the loop. */
#include "luashim.h"
#include <lauxlib.h>
#include <string.h>

#if LUA_VERSION_NUM == 504 && !defined(MLSHIM_NO_TABLE_PEEK)

typedef union { void *gc; void *p; lua_CFunction f; lua_Integer i; lua_Number n; unsigned char ub; } peek_value;
typedef struct { peek_value value_; unsigned char tt_; } peek_tvalue;
typedef struct {
    void *next; unsigned char tt, marked;   /* CommonHeader */
    unsigned char flags, lsizenode;
    unsigned int alimit;
    peek_tvalue *array;
    void *node, *lastfree, *metatable, *gclist;
} peek_table;

/* lobject.h's variant tags: type | variant << 4 */
enum { TAG_FALSE = LUA_TBOOLEAN, TAG_TRUE = LUA_TBOOLEAN | 1 << 4,
       TAG_INT = LUA_TNUMBER, TAG_FLOAT = LUA_TNUMBER | 1 << 4 };
#define BIT_NOT_REAL_SIZE (1 << 7)   /* ltable.c's BITRAS: alimit is a hint, not the size */

/* 0 not checked yet, 1 the mirror matches this Lua, -1 it does not */
static int peek_status = 0;

/* The number of entries of the array part (ltable.c's luaH_realasize). */
static size_t array_size(const peek_table *t) {
    size_t a = t->alimit;
    if (!(t->flags & BIT_NOT_REAL_SIZE) || (a & (a - 1)) == 0) return a;
    size_t s = 1;
    while (s < a) s <<= 1;
    return s;
}

/* Builds {1.5, true, 7, false} through the API and looks for it through the mirror. */
static int probe_layout(lua_State *L) {
    if (!lua_checkstack(L, 2)) return -1;
    lua_createtable(L, 4, 0);
    lua_pushnumber(L, 1.5); lua_rawseti(L, -2, 1);
    lua_pushboolean(L, 1); lua_rawseti(L, -2, 2);
    lua_pushinteger(L, 7); lua_rawseti(L, -2, 3);
    lua_pushboolean(L, 0); lua_rawseti(L, -2, 4);
    const peek_table *t = (const peek_table *)lua_topointer(L, -1);
    int ok = t != NULL && t->alimit == 4 && array_size(t) == 4 && t->array != NULL
        && t->array[0].tt_ == TAG_FLOAT && t->array[0].value_.n == 1.5
        && t->array[1].tt_ == TAG_TRUE
        && t->array[2].tt_ == TAG_INT && t->array[2].value_.i == 7
        && t->array[3].tt_ == TAG_FALSE;
    lua_pop(L, 1);
    return ok ? 1 : -1;
}

/* Whether the in-place entry `e` is what `lua_rawgeti(L, idx, i)` gives. */
static int agrees(lua_State *L, int idx, lua_Integer i, const peek_tvalue *e) {
    int t = lua_rawgeti(L, idx, i);
    int same;
    switch (e->tt_) {
    case TAG_FLOAT: same = t == LUA_TNUMBER && !lua_isinteger(L, -1) && lua_tonumber(L, -1) == e->value_.n; break;
    case TAG_INT: same = t == LUA_TNUMBER && lua_isinteger(L, -1) && lua_tointeger(L, -1) == e->value_.i; break;
    case TAG_TRUE: same = t == LUA_TBOOLEAN && lua_toboolean(L, -1); break;
    case TAG_FALSE: same = t == LUA_TBOOLEAN && !lua_toboolean(L, -1); break;
    default: same = t != LUA_TNUMBER && t != LUA_TBOOLEAN; break;   /* any other value: not read in place */
    }
    lua_pop(L, 1);
    return same;
}

/* The first min(n, array size) entries of the table at idx, in place; sets *count. NULL
   (with *count 0) when the mirror is not trusted or the table has no array part. */
static const peek_tvalue *array_entries(lua_State *L, int idx, size_t n, size_t *count) {
    *count = 0;
    int status = __atomic_load_n(&peek_status, __ATOMIC_RELAXED);
    if (status == 0) {
        status = probe_layout(L);
        __atomic_store_n(&peek_status, status, __ATOMIC_RELAXED);
    }
    if (status != 1 || n == 0 || lua_type(L, idx) != LUA_TTABLE) return NULL;
    const peek_table *t = (const peek_table *)lua_topointer(L, idx);
    size_t m = array_size(t);
    if (m > n) m = n;
    if (m == 0 || t->array == NULL) return NULL;
    if (!lua_checkstack(L, 1) || !agrees(L, idx, 1, &t->array[0])
        || !agrees(L, idx, (lua_Integer)m, &t->array[m - 1])) return NULL;
    *count = m;
    return t->array;
}

int mlshim_table_peek_works(lua_State *L) {
    size_t count;
    lua_createtable(L, 1, 0);
    lua_pushboolean(L, 1); lua_rawseti(L, -2, 1);
    int works = array_entries(L, -1, 1, &count) != NULL && count == 1;
    lua_pop(L, 1);
    return works;
}

#else

int mlshim_table_peek_works(lua_State *L) { (void)L; return 0; }

#endif

/* One entry through the API: 1 read (into *out), 0 not a number or boolean. */
static int number_through_api(lua_State *L, int idx, size_t i, double *out) {
    int t = lua_rawgeti(L, idx, (lua_Integer)(i + 1));
    int ok = 1;
    if (t == LUA_TNUMBER) *out = lua_tonumberx(L, -1, NULL);
    else if (t == LUA_TBOOLEAN) *out = lua_toboolean(L, -1) ? 1.0 : 0.0;
    else ok = 0;
    lua_pop(L, 1);
    return ok;
}

size_t mlshim_read_numbers(lua_State *L, int idx, size_t n, double *out) {
    idx = lua_absindex(L, idx);
    size_t start = 0;
#if LUA_VERSION_NUM == 504 && !defined(MLSHIM_NO_TABLE_PEEK)
    size_t m;
    const peek_tvalue *a = array_entries(L, idx, n, &m);
    for (; start < m; start++) {
        const peek_tvalue *e = &a[start];
        switch (e->tt_) {
        case TAG_FLOAT: out[start] = e->value_.n; break;
        case TAG_INT: out[start] = (double)e->value_.i; break;
        case TAG_TRUE: out[start] = 1.0; break;
        case TAG_FALSE: out[start] = 0.0; break;
        default: return start + 1;
        }
    }
#endif
    for (size_t i = start; i < n; i++)
        if (!number_through_api(L, idx, i, out + i)) return i + 1;
    return 0;
}

/* One flag from a number: 1 read, 0 not 0 or 1. */
static int flag_from_number(lua_Number v, unsigned char *out) {
    if (v != 0 && v != 1) return 0;
    *out = v == 1;
    return 1;
}

/* One flag through the API: true/false, or a number 0 or 1. 1 read, 0 not a flag. */
static int flag_through_api(lua_State *L, int idx, size_t i, unsigned char *out) {
    int t = lua_rawgeti(L, idx, (lua_Integer)(i + 1));
    int ok = 1;
    if (t == LUA_TBOOLEAN) *out = (unsigned char)lua_toboolean(L, -1);
    else if (t == LUA_TNUMBER) ok = flag_from_number(lua_tonumberx(L, -1, NULL), out);
    else ok = 0;
    lua_pop(L, 1);
    return ok;
}

size_t mlshim_read_flags(lua_State *L, int idx, size_t n, unsigned char *out) {
    idx = lua_absindex(L, idx);
    size_t start = 0;
#if LUA_VERSION_NUM == 504 && !defined(MLSHIM_NO_TABLE_PEEK)
    size_t m;
    const peek_tvalue *a = array_entries(L, idx, n, &m);
    for (; start < m; start++) {
        const peek_tvalue *e = &a[start];
        unsigned char tag = e->tt_;
        if (tag == TAG_FALSE) out[start] = 0;
        else if (tag == TAG_TRUE) out[start] = 1;
        else if (tag == TAG_FLOAT) { if (!flag_from_number(e->value_.n, out + start)) return start + 1; }
        else if (tag == TAG_INT) { if (!flag_from_number((lua_Number)e->value_.i, out + start)) return start + 1; }
        else return start + 1;
    }
#endif
    for (size_t i = start; i < n; i++)
        if (!flag_through_api(L, idx, i, out + i)) return i + 1;
    return 0;
}
