#include "arraybox.h"
#include "luashim.h"
#include <lauxlib.h>
#include <string.h>

/* Its address marks the array boxes made here (see `fastbox`). */
static const char mlshim_arraybox_tag = 0;

void mlshim_pusharraybox(lua_State *L, void *object, const char *metatable_name,
                         void *data, int64_t length, int64_t stride, int32_t kind,
                         const void *cell, int64_t offset) {
    mlshim_arraybox *b = (mlshim_arraybox *)lua_newuserdatauv(L, sizeof(mlshim_arraybox), 0);
    b->object = object;
    b->data = (char *)data;
    b->length = length;
    b->stride = stride;
    b->kind = kind;
    b->tag = &mlshim_arraybox_tag;
    b->cell = (const mlshim_cowcell *)cell;
    b->offset = offset;
    mlshim_newboxmetatable(L, metatable_name);
    lua_setmetatable(L, -2);
}

/* The array box at index 1 if it is one of this metatable's (upvalue `mt`), else NULL. */
static mlshim_arraybox *checkbox(lua_State *L, int mt) {
    if (lua_type(L, 1) != LUA_TUSERDATA || lua_rawlen(L, 1) != sizeof(mlshim_arraybox)) return NULL;
    if (!lua_getmetatable(L, 1)) return NULL;
    int same = lua_rawequal(L, -1, lua_upvalueindex(mt));
    lua_pop(L, 1);
    if (!same) return NULL;
    mlshim_arraybox *b = (mlshim_arraybox *)lua_touserdata(L, 1);
    return b->object ? b : NULL;
}

/* Calls the Swift fallback at upvalue `fb` with all arguments; returns its `nret` results. */
static int fallback(lua_State *L, int fb, int nret) {
    int n = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(fb));
    lua_insert(L, 1);
    mlshim_call_from_c_metamethod();  /* its errors name the Lua line that indexed */
    lua_call(L, n, nret);
    return nret;
}

/* Element 1's address: through the copy-on-write cell when the box has one. */
static inline char *elements(const mlshim_arraybox *b) {
    return b->cell ? b->cell->base + b->offset : b->data;
}

/* What an element is to Lua: the values of lua.h's LUA_ELEMENT_* (moonlab's Lua). */
enum { ELEMENT_FLOAT = 1, ELEMENT_INTEGER = 2, ELEMENT_BOOLEAN = 3 };
#ifdef LUA_MOONLAB_ELEMENTS
_Static_assert(ELEMENT_FLOAT == LUA_ELEMENT_FLOAT && ELEMENT_INTEGER == LUA_ELEMENT_INTEGER &&
               ELEMENT_BOOLEAN == LUA_ELEMENT_BOOLEAN, "lua.h's element kinds");
#endif

/* The box behind a userdata's block if it exposes a live 1-d array and `*i` (1-based,
   negative from the end; resolved in place) is in range, else NULL: anything else is the
   Swift metamethods' (n-d rows, ranges, out-of-range positions and their errors). A full
   userdata of exactly this size whose tag field holds the address of a static of this file
   can only have been made by `mlshim_pusharraybox`. */
static mlshim_arraybox *elementbox(void *block, size_t size, lua_Integer *i) {
    mlshim_arraybox *b = (mlshim_arraybox *)block;
    if (b == NULL || size != sizeof(mlshim_arraybox) || b->tag != &mlshim_arraybox_tag || !b->object
        || b->kind == MLSHIM_ARRAY_NONE) return NULL;
    lua_Integer k = *i;
    if (k < 0) k += b->length + 1;
    if (k < 1 || k > b->length) return NULL;
    *i = k;
    return b;
}

/* Reads element `idx` into *n (ELEMENT_FLOAT) or *i (ELEMENT_INTEGER, ELEMENT_BOOLEAN);
   0 when the box or position is not one `elementbox` takes. */
static int element_get(void *block, size_t size, lua_Integer idx, lua_Number *n, lua_Integer *i) {
    mlshim_arraybox *b = elementbox(block, size, &idx);
    if (b == NULL) return 0;
    const char *p = elements(b) + (idx - 1) * b->stride;
    switch (b->kind) {
    case MLSHIM_ARRAY_F64: { double v; memcpy(&v, p, 8); *n = (lua_Number)v; return ELEMENT_FLOAT; }
    case MLSHIM_ARRAY_F32: { float v; memcpy(&v, p, 4); *n = (lua_Number)v; return ELEMENT_FLOAT; }
    case MLSHIM_ARRAY_I64: { int64_t v; memcpy(&v, p, 8); *i = (lua_Integer)v; return ELEMENT_INTEGER; }
    default: *i = *p != 0; return ELEMENT_BOOLEAN;
    }
}

/* Stores a number into f64/f32, an integer into i64, a boolean into bool; never into
   borrowed bytes (Swift copies them first). 0 when it did not store: the Swift metamethod
   then converts as numpy does (2.5 into i64, 1 into bool) or gives the error. */
static int element_set(void *block, size_t size, lua_Integer idx, int kind, lua_Number n, lua_Integer i) {
    mlshim_arraybox *b = elementbox(block, size, &idx);
    if (b == NULL || (b->cell && b->cell->borrowed)) return 0;
    char *p = elements(b) + (idx - 1) * b->stride;
    int number = kind == ELEMENT_FLOAT || kind == ELEMENT_INTEGER;
    lua_Number x = kind == ELEMENT_FLOAT ? n : (lua_Number)i;
    switch (b->kind) {
    case MLSHIM_ARRAY_F64: if (!number) return 0; { double v = (double)x; memcpy(p, &v, 8); return 1; }
    case MLSHIM_ARRAY_F32: if (!number) return 0; { float v = (float)x; memcpy(p, &v, 4); return 1; }
    case MLSHIM_ARRAY_I64: if (kind != ELEMENT_INTEGER) return 0; { int64_t v = (int64_t)i; memcpy(p, &v, 8); return 1; }
    default: if (kind != ELEMENT_BOOLEAN) return 0; *p = (char)(i ? 1 : 0); return 1;
    }
}

/* moonlab's Lua asks element_get / element_set itself before calling __index / __newindex
   (lua.h, `lua_setelementaccess`), so `t[i]` and `t[i] = x` with an integer `i` skip the call
   of a C metamethod, which alone costs 2.4-2.9x a table read. On the system's liblua5.4 the
   metamethods below call them. */
void mlshim_install_element_access(lua_State *L) {
#ifdef LUA_MOONLAB_ELEMENTS
    lua_setelementaccess(L, element_get, element_set);
#else
    (void)L;
#endif
}

int mlshim_has_element_access(void) {
#ifdef LUA_MOONLAB_ELEMENTS
    return 1;
#else
    return 0;
#endif
}

/* upvalues: 1 methods, 2 Swift __index, 3 metatable */
static int array_index(lua_State *L) {
    int t2 = lua_type(L, 2);
    if (t2 == LUA_TNUMBER) {  /* float positions (t[2.0]), and every position on the system Lua */
        int isnum = 0;
        lua_Integer k = lua_tointegerx(L, 2, &isnum);
        lua_Number n = 0;
        lua_Integer i = 0;
        switch (isnum && lua_type(L, 1) == LUA_TUSERDATA
                ? element_get(lua_touserdata(L, 1), lua_rawlen(L, 1), k, &n, &i) : 0) {
        case ELEMENT_FLOAT: lua_pushnumber(L, n); return 1;
        case ELEMENT_INTEGER: lua_pushinteger(L, i); return 1;
        case ELEMENT_BOOLEAN: lua_pushboolean(L, (int)i); return 1;
        default: break;
        }
    } else if (t2 == LUA_TSTRING) {
        lua_pushvalue(L, 2);
        if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;
        lua_pop(L, 1);
    }
    return fallback(L, 2, 1);
}

/* upvalues: 1 Swift __newindex, 2 metatable */
static int array_newindex(lua_State *L) {
    int isnum = 0;
    lua_Integer k = lua_tointegerx(L, 2, &isnum);
    int tv = lua_type(L, 3);
    int kind = tv == LUA_TBOOLEAN ? ELEMENT_BOOLEAN
             : tv != LUA_TNUMBER ? 0 : lua_isinteger(L, 3) ? ELEMENT_INTEGER : ELEMENT_FLOAT;
    if (isnum && kind && lua_type(L, 1) == LUA_TUSERDATA
        && element_set(lua_touserdata(L, 1), lua_rawlen(L, 1), k, kind,
                       kind == ELEMENT_FLOAT ? lua_tonumber(L, 3) : 0,
                       kind == ELEMENT_INTEGER ? lua_tointeger(L, 3) : lua_toboolean(L, 3)))
        return 0;
    return fallback(L, 1, 0);
}

/* upvalues: 1 Swift __len, 2 metatable */
static int array_len(lua_State *L) {
    mlshim_arraybox *b = checkbox(L, 2);
    if (b && b->length >= 0) { lua_pushinteger(L, (lua_Integer)b->length); return 1; }
    return fallback(L, 1, 1);
}

/* ipairs step over an array box: stops after the first axis (no out-of-range error). */
static int array_ipairs_step(lua_State *L) {
    lua_Integer i = luaL_checkinteger(L, 2) + 1;
    mlshim_arraybox *b = (mlshim_arraybox *)lua_touserdata(L, 1);
    if (b == NULL || lua_rawlen(L, 1) != sizeof(mlshim_arraybox) || i > b->length) {
        lua_pushnil(L);
        return 1;
    }
    lua_pushinteger(L, i);
    lua_geti(L, 1, i);
    return 2;
}

/* upvalue: 1 metatable */
static int array_ipairs(lua_State *L) {
    mlshim_arraybox *b = checkbox(L, 1);
    if (b == NULL || b->length < 0) return luaL_error(L, "ipairs: a 0-d tensor has no axis to walk");
    lua_pushcfunction(L, array_ipairs_step);
    lua_pushvalue(L, 1);
    lua_pushinteger(L, 0);
    return 3;
}

void mlshim_setarraymetamethods(lua_State *L) {
    /* [mt, methods, index_fb, newindex_fb, len_fb] */
    int mt = lua_absindex(L, -5);
    int methods = mt + 1, index_fb = mt + 2, newindex_fb = mt + 3, len_fb = mt + 4;
    lua_pushvalue(L, methods);
    lua_pushvalue(L, index_fb);
    lua_pushvalue(L, mt);
    lua_pushcclosure(L, array_index, 3);
    lua_setfield(L, mt, "__index");
    lua_pushvalue(L, newindex_fb);
    lua_pushvalue(L, mt);
    lua_pushcclosure(L, array_newindex, 2);
    lua_setfield(L, mt, "__newindex");
    lua_pushvalue(L, len_fb);
    lua_pushvalue(L, mt);
    lua_pushcclosure(L, array_len, 2);
    lua_setfield(L, mt, "__len");
    lua_pushvalue(L, mt);
    lua_pushcclosure(L, array_ipairs, 1);
    lua_setfield(L, mt, "__ipairs");
    lua_settop(L, mt);
}

static int ipairs_step(lua_State *L) {
    lua_Integer i = luaL_checkinteger(L, 2);
    i = (lua_Integer)((lua_Unsigned)i + 1);
    lua_pushinteger(L, i);
    return (lua_geti(L, 1, i) == LUA_TNIL) ? 1 : 2;
}

int mlshim_ipairs(lua_State *L) {
    luaL_checkany(L, 1);
    if (luaL_getmetafield(L, 1, "__ipairs") != LUA_TNIL) {
        lua_pushvalue(L, 1);
        lua_call(L, 1, 3);
        return 3;
    }
    lua_pushcfunction(L, ipairs_step);
    lua_pushvalue(L, 1);
    lua_pushinteger(L, 0);
    return 3;
}
