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

/* Where the bytes of a copy-on-write array are now (AlignMath's borrowing TensorStorage,
   which owns it and outlives every box of its tensors): `base` moves when the storage
   re-points, and while `borrowed` is nonzero the bytes are another array's, so a write
   must go to Swift (which copies them first). Laid out as the Swift side writes it. */
typedef struct mlshim_cowcell {
    char *base;
    int32_t borrowed;
    int32_t unused;
} mlshim_cowcell;

/* Starts as mlshim_box does (the retained object first), so every box function works on it. */
typedef struct mlshim_arraybox {
    void *object;
    char *data;      /* element 1 of a 1-d array (unused when `cell` is set) */
    int64_t length;  /* size of the first axis; -1 for a 0-d value */
    int64_t stride;  /* bytes from one element to the next (may be negative) */
    int32_t kind;    /* MLSHIM_ARRAY_*: the element type of a 1-d array, or NONE */
    const void *tag; /* mlshim_arraybox_tag's address: marks a box only this file made */
    const mlshim_cowcell *cell; /* non-NULL: element 1 is at cell->base + offset */
    int64_t offset;  /* bytes from cell->base to element 1 */
} mlshim_arraybox;

/* Pushes a full userdata holding `object` (retained) and its array view, with the
   registry metatable `metatable_name`. `cell` (may be NULL) makes the box find its data at
   cell->base + offset (`data` is then unused) and hand writes to Swift while borrowed.
   Stack: [] -> [userdata]. */
void mlshim_pusharraybox(lua_State *L, void *object, const char *metatable_name,
                         void *data, int64_t length, int64_t stride, int32_t kind,
                         const void *cell, int64_t offset);

/* Builds the metamethods of an array-box metatable from the Swift fallbacks.
   Stack: [mt, methods, index_fallback, newindex_fallback, len_fallback] -> [mt]; sets
   __index, __newindex, __len and __ipairs on mt. */
void mlshim_setarraymetamethods(lua_State *L);

/* ipairs that honours an __ipairs metamethod (Lua 5.4's own ignores it): installed as the
   global `ipairs`, it walks tensors by their first axis and tables as Lua's does. */
int mlshim_ipairs(lua_State *L);

/* Lets moonlab's Lua read and write the elements of 1-d array boxes itself (`t[i]`,
   `t[i] = x`), without a metamethod call; does nothing on the system's liblua5.4, which
   has no such entry (Sources/CLua/README.md). Called once per state. */
void mlshim_install_element_access(lua_State *L);

/* 1 when this build's Lua has the element fast path (moonlab's own Lua), else 0. */
int mlshim_has_element_access(void);

#endif
