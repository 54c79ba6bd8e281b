/*
 * LuaShim: the small C layer under LuaKit, for what Swift must not or cannot do.
 *
 * - Raising Lua errors. Lua raises with longjmp, which must never jump over a Swift
 *   frame. A Swift function called from Lua returns a sentinel instead
 *   (MLSHIM_RAISE / MLSHIM_RAISE_WHERE) and the C trampoline below calls lua_error
 *   from a pure-C frame.
 * - Lua's function-like macros (lua_pop, lua_pcall, lua_tostring, ...), re-exported as
 *   functions Swift can call.
 * - The allocator with a memory ceiling and the count hook that enforces an
 *   instruction budget and the interrupt flag (Ctrl-C).
 * - libedit's variadic el_set/history, wrapped as a small line editor (lineeditor.h).
 *
 * All symbols are prefixed mlshim_.
 */
#ifndef LUASHIM_H
#define LUASHIM_H

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
#include <stddef.h>
#include <stdint.h>

/* Sentinels a Swift function returns instead of a result count. */
#define MLSHIM_RAISE (-1)       /* raise the value on top of the stack as it is */
#define MLSHIM_RAISE_WHERE (-2) /* prefix the string on top with the caller's position, then raise */

/* Called by the trampoline for every Swift function; the Swift side reads its closure
   from upvalue 1. Returns a result count or one of the sentinels. */
typedef int (*mlshim_dispatch_fn)(lua_State *L);
/* Called by __gc of a boxed Swift object with the pointer stored in the userdata. */
typedef void (*mlshim_release_fn)(void *object);

void mlshim_set_dispatch(mlshim_dispatch_fn fn);
void mlshim_set_release(mlshim_release_fn fn);

/* Pops a box userdata (see mlshim_newbox) and pushes a C closure that calls dispatch
   with it as upvalue 1. Stack: [box] -> [function]. */
void mlshim_pushswiftfunction(lua_State *L);
/* Pushes a full userdata holding `object` (an retained Swift pointer) whose metatable
   is the one registered under `metatable_name` (created with mlshim_newboxmetatable).
   Stack: [] -> [userdata]. */
void mlshim_pushbox(lua_State *L, void *object, const char *metatable_name);
/* Creates (or fetches) the registry metatable `name` with a __gc that releases the
   boxed pointer. Stack: [] -> [metatable]. Returns 1 if it was created. */
int mlshim_newboxmetatable(lua_State *L, const char *name);
/* The pointer in a box userdata at idx, or NULL if idx is not a box (or was released). */
void *mlshim_tobox(lua_State *L, int idx);
/* The pointer in a box at idx if its metatable is `name`, else NULL. */
void *mlshim_testbox(lua_State *L, int idx, const char *name);

/* ---- states, limits, hooks ---- */
typedef struct mlshim_limits {
    size_t used;          /* bytes allocated by this state */
    size_t ceiling;       /* 0: no ceiling */
    long long budget;     /* instructions left; < 0: no budget */
    long long budget_total;
    int budget_exhausted; /* stays set (so pcall cannot swallow it) until reset */
    int interruptible;    /* obey mlshim_interrupt_pending */
    int in_host;          /* > 0 while a Swift function runs: the ceiling is checked when it
                             returns (by the trampoline), so an allocation inside a Swift frame
                             never raises a memory error across it */
} mlshim_limits;

/* A new state whose allocator enforces limits->ceiling; limits must outlive it. */
lua_State *mlshim_newstate(mlshim_limits *limits);
/* The limits of a state created by mlshim_newstate. */
mlshim_limits *mlshim_getlimits(lua_State *L);
/* Installs the count hook that checks the interrupt flag and the budget. */
void mlshim_installhook(lua_State *L);

/* Set by the SIGINT handler; polled by the hook and by long native loops. */
int *mlshim_interrupt_flag(void);
void mlshim_install_sigint(void);
void mlshim_clear_interrupt(void);

/* Message handler for lua_pcall: appends a traceback (as lua.c's msghandler). */
int mlshim_msghandler(lua_State *L);
void mlshim_pushmsghandler(lua_State *L);

/* ---- macros as functions ---- */
int mlshim_upvalueindex(int i);
int mlshim_registryindex(void);
void mlshim_pop(lua_State *L, int n);
void mlshim_newtable(lua_State *L);
int mlshim_pcall(lua_State *L, int nargs, int nresults, int msgh);
void mlshim_call(lua_State *L, int nargs, int nresults);
const char *mlshim_tolstring(lua_State *L, int idx, size_t *len);
lua_Number mlshim_tonumber(lua_State *L, int idx, int *isnum);
lua_Integer mlshim_tointeger(lua_State *L, int idx, int *isnum);
void mlshim_insert(lua_State *L, int idx);
void mlshim_remove(lua_State *L, int idx);
void mlshim_replace(lua_State *L, int idx);
int mlshim_loadbuffer(lua_State *L, const char *buf, size_t len, const char *name, const char *mode);
void mlshim_pushcfunction(lua_State *L, lua_CFunction f);
void mlshim_pushglobaltable(lua_State *L);
/* luaL_tolstring (uses __tostring / __name), leaves the string on the stack. */
const char *mlshim_tolstring_meta(lua_State *L, int idx, size_t *len);
/* luaL_traceback of L1 at level onto L's stack. */
void mlshim_traceback(lua_State *L, lua_State *L1, const char *msg, int level);
/* Pushes "chunk:line:" of the function at `level` (luaL_where). */
void mlshim_where(lua_State *L, int level);
/* A C function that raises its first argument as an error (used by pure-Lua helpers). */
int mlshim_error_function(lua_State *L);

/* The pointer kept in the state's extra space (LuaKit keeps its LuaState there;
   coroutines inherit it from the main thread). */
void mlshim_setextra(lua_State *L, void *p);
void *mlshim_getextra(lua_State *L);

/* Host-side entry/exit of Lua code from Swift (LuaKit's pcall): Lua code called from a
   Swift function is held to the ceiling again. Returns the previous in_host depth. */
int mlshim_enter_lua(lua_State *L);
void mlshim_leave_lua(lua_State *L, int saved);

/* luaL_tolstring run in protected mode: a __tostring that raises gives
   "<error in __tostring: ...>" instead of unwinding the caller. Leaves the string on the stack. */
const char *mlshim_safe_tolstring(lua_State *L, int idx, size_t *len);
/* lua_getfield in protected mode (only when a metamethod could run). Pushes the value, or
   nil and sets *failed with the error message pushed above it... see luashim.c. Returns the type. */
int mlshim_safe_getfield(lua_State *L, int idx, const char *k, int *failed);

/* lua_gc is variadic. */
int mlshim_gc(lua_State *L, int what);

#endif
