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
/* The __index of a registered type that has methods and a property getter: a C closure
   that answers a string key naming a method from the methods table (no call into Swift:
   `P:match(c)` looks up "match" on every call) and calls the getter for any other key.
   Stack: [methods, getter] -> [__index]. */
void mlshim_push_methods_first_index(lua_State *L);
/* The pointer in a box userdata at idx, or NULL if idx is not a box (or was released). */
void *mlshim_tobox(lua_State *L, int idx);
/* The pointer in a box at idx if its metatable is `name`, else NULL. */
void *mlshim_testbox(lua_State *L, int idx, const char *name);

/* A function that answers a method call obj:name() with one number, given the Swift
   object of the box; it must not fail (it is called with no Swift error handling). */
typedef double (*mlshim_number_fn)(void *object);

/* Like mlshim_pushswiftfunction, with a fast path for a method that is called in tight
   loops (random:uniform()): called with only its object (a box whose metatable is the
   given one), it calls `fast` and returns its number without the generic Swift dispatch;
   any other call runs the Swift function in the box as usual.
   Stack: [box, metatable] -> [function]. */
void mlshim_pushswiftfunction_fastnumber(lua_State *L, mlshim_number_fn fast);

/* Reads t[1..n] of the table at idx into out (numbers as they are, true/false as 1/0) in
   one C loop: what a Lua array costs to bring into a kernel. Returns 0, or the 1-based
   position of the first entry that is neither a number nor a boolean (out is then written
   up to it). Raw reads: no metamethod runs, nothing can raise. Stack-neutral. */
size_t mlshim_read_numbers(lua_State *L, int idx, size_t n, double *out);

/* Reads t[1..n] of the table at idx into out as flags, one byte each: true/false as 1/0,
   and the numbers 0 and 1 (what RL's `dones` hold). Returns 0, or the 1-based position of
   the first entry that is neither (out is then written up to it). Raw reads, nothing can
   raise. Stack-neutral. */
size_t mlshim_read_flags(lua_State *L, int idx, size_t n, unsigned char *out);

/* Both readers above take the entries of a table's array part in place (tablearray.c)
   once a mirror of Lua 5.4's table layout has been checked against the running library;
   otherwise they read through the API. 1 when the in-place path is in use. */
int mlshim_table_peek_works(lua_State *L);

/* ---- states, limits, hooks ---- */
typedef struct mlshim_limits {
    size_t used;          /* bytes allocated by this state's Lua allocator */
    size_t external;      /* bytes the host charged to this state (tensor storage); read and
                             written only through mlshim_charge_external (atomically: a tensor
                             may be freed on another thread) */
    size_t ceiling;       /* 0: no ceiling; applies to used + external */
    long long budget;     /* instructions left; < 0: no budget */
    long long budget_total;
    int budget_exhausted; /* stays set (so pcall cannot swallow it) until reset */
    int interruptible;    /* obey the interrupt flag */
    int user_hooks;       /* set once debug.sethook was used: the count hook then also calls
                             the user's hooks (see mlshim_wrap_finalizers) */
    int host_refused;     /* set by the host when it refused memory inside a Swift function (it
                             pushed nil instead of a result): the trampoline raises "not enough
                             memory" when the function returns */
    int in_host;          /* > 0 while host code (Swift) runs: an allocation then never fails on the
                             ceiling (it would raise a Lua error across Swift frames); the ceiling is
                             checked when a Swift function returns to Lua (by the trampoline). The
                             host's own code outside any call counts as host code too (LuaState
                             starts it at 1); Lua code run from the host gets 0 (mlshim_enter_lua). */
    int slot;             /* this state's entry in the table of running threads that Ctrl-C hooks
                             (set by mlshim_newstate; -1 when the table is full: the count hook
                             then stays on, as it always was) */
    void *pool;           /* the state's small blocks kept for reuse (mlshim_newstate makes it,
                             mlshim_pool_release frees it after mlshim_close); NULL: none */
    int watched;          /* > 0 while a row runs under the row watchdog (mlshim_watch_begin): its
                             main thread then runs without the count hook until `armed` */
    int armed;            /* set (by the watchdog's signal, on the row's own thread) once the
                             watched row has run past the grace period: the budget counts from then */
    int gc_generational;  /* the collector's mode, 1: generational (Lua has no call that only
                             reads it): kept by mlshim_gc_setmode and by the collectgarbage of
                             mlshim_wrap_finalizers */
} mlshim_limits;

/* A new state whose allocator enforces limits->ceiling; limits must outlive it. Its
   `setmetatable` (and debug.setmetatable, once mlshim_wrap_finalizers has run after the
   libraries are open) runs Lua __gc finalizers on a fresh coroutine, where the count hook
   works: Lua itself turns hooks off for the thread running a finalizer, so a looping
   finalizer could not be stopped by the budget or Ctrl-C. */
lua_State *mlshim_newstate(mlshim_limits *limits);
/* The limits of a state created by mlshim_newstate. */
mlshim_limits *mlshim_getlimits(lua_State *L);
/* Frees the small blocks a closed state's allocator kept for reuse (call after mlshim_close). */
void mlshim_pool_release(mlshim_limits *limits);
/* Installs moonlab's hook on L as the limits need it now (see mlshim_synchook). */
void mlshim_installhook(lua_State *L);
/* Brings L's hook in line with what its limits need: the count hook while a budget is set,
   Ctrl-C is pending or a stop is in force, the user's debug hooks when set, and no hook at
   all otherwise, so unbudgeted Lua runs at lua5.4's speed (a count hook sends every
   instruction through luaG_traceexec: 2x on a plain loop). Ctrl-C then reaches running code
   by hooking it from the signal handler, as lua.c does. Cheap when nothing changes. */
void mlshim_synchook(lua_State *L);
/* Closes a state made by mlshim_newstate (frees its slot first). */
void mlshim_close(lua_State *L);
/* For C loops doing Lua's work (the pattern matcher): charges `cost` instructions to the
   budget and raises "interrupted" / "instruction budget exceeded" (a Lua error, so only
   from a C function called by Lua) when Ctrl-C is pending or the budget is spent. */
void mlshim_charge_native(lua_State *L, long cost);
/* ---- the row watchdog: a row's budget armed only when the row runs long ----
   A budget needs the count hook, and any count hook sends every VM instruction through
   luaG_traceexec (~10% of a quick served row). A row run between mlshim_watch_begin and
   mlshim_watch_end (the rows of `moonlab serve` and `moonlab score`) therefore starts with
   no hook on its main thread. One watchdog thread per process (started on first use; asleep
   while no watched row runs) looks at the rows every grace period (1 ms): a row it finds in
   progress at two ticks in a row has run for at least the grace, and the watchdog signals
   that row's thread; the signal handler, on that thread, hooks the running state at count 1
   (lua_sethook is safe in a signal handler, as lua.c uses it; it is never called on another
   thread's state). From then the budget counts as before, so a runaway row is stopped after
   at most about grace + budget: the budget counts from the end of the grace period. Code in
   coroutines (always hooked) and native work (mlshim_charge_native) count from the row's
   start. Linux only; elsewhere, with every watch slot taken, or for a nested row on the same
   thread, a row keeps the count hook from its start (mlshim_watch_begin returns 0).
   mlshim_watch_begin must be called after the row's budget is set (LuaState.resetBudget,
   or as mlshim_call_rewards does) and before the protected call that runs it; `token` is
   what it returned. Neither raises. */
int mlshim_watch_begin(lua_State *L);
void mlshim_watch_end(lua_State *L, int token);
/* For tests and measurements: the grace period in microseconds (at least 100), and returns
   the previous one; rows armed so far in this process. */
long mlshim_watch_set_grace_us(long us);
unsigned long mlshim_watch_arms(void);
/* For tests, a lua_CFunction: returns lua_gethookmask of the calling thread (0: no hook). */
int mlshim_test_hookmask(lua_State *L);

/* Replaces the global setmetatable and debug.setmetatable with the finalizer-wrapping ones,
   debug.sethook/gethook with ones that keep moonlab's count hook beside the user's, and
   coroutine.create/wrap with ones that give the new thread its count hook. */
void mlshim_wrap_finalizers(lua_State *L);
/* Adds (delta > 0) or takes back (delta < 0) host bytes charged to a state's limits.
   Returns 0 when a charge would pass the ceiling (nothing is charged then). Thread-safe. */
int mlshim_charge_external(mlshim_limits *limits, long long delta, int check_ceiling);
size_t mlshim_external(mlshim_limits *limits);

/* The process-wide interrupt flag: set by the SIGINT handler (or mlshim_raise_interrupt),
   read atomically by the hook of every state on every thread and by long native loops. */
int mlshim_interrupt_pending(void);
void mlshim_raise_interrupt(void);
void mlshim_clear_interrupt(void);
/* Installs the SIGINT handler (without SA_RESTART). With `second_exits`, a SIGINT that comes
   while the previous one is still pending ends the process (exit status 130): for scripts,
   whose native calls may not return soon; the prompt never exits on Ctrl-C. */
void mlshim_install_sigint(int second_exits);

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
/* The next Swift function call comes from a C metamethod: position its error at level 2. */
void mlshim_call_from_c_metamethod(void);
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

/* A float as Lua's tostring writes it ("%.14g", plus ".0" when it looks like an integer).
   Writes at most n bytes (NUL included). */
void mlshim_format_float(double d, char *buf, size_t n);

/* The chunk name (`source`, e.g. "@/path/init.lua") of the function running at `level` of
   L's call stack (0: the current function), "=[C]" for a C function, NULL past the bottom. */
const char *mlshim_stack_source(lua_State *L, int level);

/* lua_gc is variadic. */
int mlshim_gc(lua_State *L, int what);
/* Switches L's collector to generational (1) or incremental (0) mode with Lua's default
   parameters and records it in the limits (not as the script's choice). Returns the previous
   mode (1/0), -1 when the collector cannot run now (inside a finalizer): nothing changed. */
int mlshim_gc_setmode(lua_State *L, int generational);
/* One basic collector step (lua_gc(L, LUA_GCSTEP, 0)): in generational mode a minor
   collection, which traverses the young objects and the old ones written since, not the whole
   heap (unless Lua's last major collection was a bad one: then a full one). */
int mlshim_gc_minor(lua_State *L);

/* Protected table and global access for host code: a metamethod (`__index`, `__newindex`)
   that raises never unwinds the caller. A table without a metatable is accessed directly.
   On failure *failed is set and the error value is left where the result would be
   (getters) or pushed (setters). */
int mlshim_safe_getglobal(lua_State *L, const char *name, int *failed);
/* Pops the value on top into t[k] (t at idx). Pushes the error message on failure. */
void mlshim_safe_setfield(lua_State *L, int idx, const char *k, int *failed);
/* Pops the value on top into the global `name`. Pushes the error message on failure. */
void mlshim_safe_setglobal(lua_State *L, const char *name, int *failed);

#include "arraybox.h"
#include "rematch.h"
#include "requestrows.h"
#include "jsonscan.h"

#endif
