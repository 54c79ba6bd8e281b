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

/* The array box at index 1 if it is one that exposes a live 1-d array, else NULL: the
   check `t[i]` pays on every access, so it is three loads after two API calls instead of
   comparing metatables (which cost a third of the access). A full userdata of exactly this
   size whose tag field holds the address of a static of this file can only have been made
   by `mlshim_pusharraybox`; light userdata and other values have another raw length. */
static mlshim_arraybox *fastbox(lua_State *L) {
    mlshim_arraybox *b = (mlshim_arraybox *)lua_touserdata(L, 1);
    if (b == NULL || lua_rawlen(L, 1) != sizeof(mlshim_arraybox)) return NULL;
    return (b->tag == &mlshim_arraybox_tag && b->object && b->kind != MLSHIM_ARRAY_NONE) ? b : NULL;
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

/* The 1-based position at index 2 resolved against `length` (negative from the end), or 0. */
static int64_t position(lua_State *L, const mlshim_arraybox *b) {
    int isnum = 0;
    lua_Integer i = lua_tointegerx(L, 2, &isnum);
    if (!isnum) return 0;
    if (i < 0) i += b->length + 1;
    return (i >= 1 && i <= b->length) ? (int64_t)i : 0;
}

/* Element 1's address: through the copy-on-write cell when the box has one. */
static inline char *elements(const mlshim_arraybox *b) {
    return b->cell ? b->cell->base + b->offset : b->data;
}

static void pushelement(lua_State *L, const mlshim_arraybox *b, int64_t i) {
    const char *p = elements(b) + (i - 1) * b->stride;
    switch (b->kind) {
    case MLSHIM_ARRAY_F32: { float v; memcpy(&v, p, 4); lua_pushnumber(L, (lua_Number)v); break; }
    case MLSHIM_ARRAY_F64: { double v; memcpy(&v, p, 8); lua_pushnumber(L, (lua_Number)v); break; }
    case MLSHIM_ARRAY_I64: { int64_t v; memcpy(&v, p, 8); lua_pushinteger(L, (lua_Integer)v); break; }
    default: lua_pushboolean(L, *p != 0); break;
    }
}

#ifdef LUA_MOONLAB_ELEMENTS
/* The element access moonlab's Lua asks before calling __index / __newindex (lua.h,
   `lua_setelementaccess`): `t[i]` and `t[i] = x` with an integer `i` in range on a 1-d
   array box, without the call of a C metamethod (which alone costs 2.4-2.9x a table read).
   Anything else is declined (0) and goes to the metamethods below, which give the errors. */
static mlshim_arraybox *elementbox(void *block, size_t size, lua_Integer *i) {
    mlshim_arraybox *b = (mlshim_arraybox *)block;
    if (size != sizeof(mlshim_arraybox) || b->tag != &mlshim_arraybox_tag || !b->object
        || b->kind == MLSHIM_ARRAY_NONE) return NULL;
    lua_Integer k = *i;
    if (k < 0) k += b->length + 1;
    if (k < 1 || k > b->length) return NULL;
    *i = k;
    return b;
}

static int element_get(void *block, size_t size, lua_Integer idx, lua_Number *n, lua_Integer *i) {
    mlshim_arraybox *b = elementbox(block, size, &idx);
    if (b == NULL) return 0;
    const char *p = elements(b) + (idx - 1) * b->stride;
    switch (b->kind) {
    case MLSHIM_ARRAY_F64: { double v; memcpy(&v, p, 8); *n = (lua_Number)v; return LUA_ELEMENT_FLOAT; }
    case MLSHIM_ARRAY_F32: { float v; memcpy(&v, p, 4); *n = (lua_Number)v; return LUA_ELEMENT_FLOAT; }
    case MLSHIM_ARRAY_I64: { int64_t v; memcpy(&v, p, 8); *i = (lua_Integer)v; return LUA_ELEMENT_INTEGER; }
    default: *i = *p != 0; return LUA_ELEMENT_BOOLEAN;
    }
}

/* Stores what array_newindex stores without its fallback: numbers into f64/f32, integers
   into i64, booleans into bool; never into borrowed bytes (Swift copies them first). */
static int element_set(void *block, size_t size, lua_Integer idx, int kind, lua_Number n, lua_Integer i) {
    mlshim_arraybox *b = elementbox(block, size, &idx);
    if (b == NULL || (b->cell && b->cell->borrowed)) return 0;
    char *p = elements(b) + (idx - 1) * b->stride;
    int number = kind == LUA_ELEMENT_FLOAT || kind == LUA_ELEMENT_INTEGER;
    lua_Number x = kind == LUA_ELEMENT_FLOAT ? n : (lua_Number)i;
    switch (b->kind) {
    case MLSHIM_ARRAY_F64: if (!number) return 0; { double v = (double)x; memcpy(p, &v, 8); return 1; }
    case MLSHIM_ARRAY_F32: if (!number) return 0; { float v = (float)x; memcpy(p, &v, 4); return 1; }
    case MLSHIM_ARRAY_I64: if (kind != LUA_ELEMENT_INTEGER) return 0; { int64_t v = (int64_t)i; memcpy(p, &v, 8); return 1; }
    default: if (kind != LUA_ELEMENT_BOOLEAN) return 0; *p = (char)(i ? 1 : 0); return 1;
    }
}
#endif

void mlshim_install_element_access(lua_State *L) {
#ifdef LUA_MOONLAB_ELEMENTS
    lua_setelementaccess(L, element_get, element_set);
#else
    (void)L;  /* the system's Lua: the metamethods below serve every access */
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
    if (t2 == LUA_TNUMBER) {
        mlshim_arraybox *b = fastbox(L);
        if (b) {
            int64_t i = position(L, b);
            if (i) { pushelement(L, b, i); return 1; }
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
    if (lua_type(L, 2) == LUA_TNUMBER) {
        mlshim_arraybox *b = fastbox(L);
        /* borrowed bytes are never written here: Swift copies them first */
        if (b && !(b->cell && b->cell->borrowed)) {
            int64_t i = position(L, b);
            int tv = lua_type(L, 3);
            if (i) {
                char *p = elements(b) + (i - 1) * b->stride;
                if (b->kind == MLSHIM_ARRAY_F64 && tv == LUA_TNUMBER) {
                    double v = (double)lua_tonumber(L, 3); memcpy(p, &v, 8); return 0;
                }
                if (b->kind == MLSHIM_ARRAY_F32 && tv == LUA_TNUMBER) {
                    float v = (float)lua_tonumber(L, 3); memcpy(p, &v, 4); return 0;
                }
                if (b->kind == MLSHIM_ARRAY_I64 && tv == LUA_TNUMBER) {
                    int ok = 0;
                    lua_Integer v = lua_tointegerx(L, 3, &ok);
                    if (ok) { int64_t w = (int64_t)v; memcpy(p, &w, 8); return 0; }
                }
                if (b->kind == MLSHIM_ARRAY_BOOL && tv == LUA_TBOOLEAN) {
                    *p = (char)(lua_toboolean(L, 3) ? 1 : 0); return 0;
                }
            }
        }
    }
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
