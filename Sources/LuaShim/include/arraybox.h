/*
 * Array boxes: boxed Swift objects (tensors) that also show C where their first axis lies,
 * so `t[i]`, `t[i] = x`, `#t` and `ipairs(t)` on a 1-d tensor run in C, as fast as a Lua
 * table access, instead of through the generic Swift dispatch. Anything else (n-d rows,
 * ranges, masks, out-of-range positions with their error messages) falls back to the
 * Swift metamethod given when the metatable was made.
 */
#ifndef MLSHIM_ARRAYBOX_H
#define MLSHIM_ARRAYBOX_H

#include <lua.h>
#include <stdint.h>

/* Element kinds a box can expose (0: not a 1-d array; C reads nothing). */
#define MLSHIM_ARRAY_NONE 0
#define MLSHIM_ARRAY_F32 1
#define MLSHIM_ARRAY_F64 2
#define MLSHIM_ARRAY_I64 3
#define MLSHIM_ARRAY_BOOL 4

/* Starts as mlshim_box does (the retained object first), so every box function works on it. */
typedef struct mlshim_arraybox {
    void *object;
    char *data;      /* element 1 of a 1-d array */
    int64_t length;  /* size of the first axis; -1 for a 0-d value */
    int64_t stride;  /* bytes from one element to the next (may be negative) */
    int32_t kind;    /* MLSHIM_ARRAY_*: the element type of a 1-d array, or NONE */
    const void *tag; /* mlshim_arraybox_tag's address: marks a box only this file made */
} mlshim_arraybox;

/* Pushes a full userdata holding `object` (retained) and its array view, with the
   registry metatable `metatable_name`. Stack: [] -> [userdata]. */
void mlshim_pusharraybox(lua_State *L, void *object, const char *metatable_name,
                         void *data, int64_t length, int64_t stride, int32_t kind);

/* Builds the metamethods of an array-box metatable from the Swift fallbacks.
   Stack: [mt, methods, index_fallback, newindex_fallback, len_fallback] -> [mt]; sets
   __index, __newindex, __len and __ipairs on mt. */
void mlshim_setarraymetamethods(lua_State *L);

/* ipairs that honours an __ipairs metamethod (Lua 5.4's own ignores it): installed as the
   global `ipairs`, it walks tensors by their first axis and tables as Lua's does. */
int mlshim_ipairs(lua_State *L);

#endif
