#include "luashim.h"
#include "arraybox.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static mlshim_dispatch_fn g_dispatch = NULL;
mlshim_limits *mlshim_getlimits(lua_State *L);
static mlshim_release_fn g_release = NULL;

void mlshim_set_dispatch(mlshim_dispatch_fn fn) { g_dispatch = fn; }
void mlshim_set_release(mlshim_release_fn fn) { g_release = fn; }

static size_t mlshim_total(mlshim_limits *lim) {
    return lim->used + __atomic_load_n(&lim->external, __ATOMIC_RELAXED);
}

/* Set by a C metamethod (arraybox.c) just before it hands a call on to a Swift function:
   that function's error is then positioned at the Lua code that ran the metamethod (level 2),
   not at the C metamethod (level 1, which has no position). Read and cleared on entry. */
static _Thread_local int t_called_from_c_metamethod = 0;
void mlshim_call_from_c_metamethod(void) { t_called_from_c_metamethod = 1; }

static void mlshim_rehook(lua_State *L, int count);
int mlshim_interrupt_pending(void);

/* The only place a Swift function's error becomes a Lua error: a C frame. */
static int mlshim_trampoline(lua_State *L) {
    int where = t_called_from_c_metamethod ? 2 : 1;
    t_called_from_c_metamethod = 0;
    mlshim_limits *lim = mlshim_getlimits(L);
    int saved = lim->in_host;
    lim->in_host = saved + 1;
    int r = g_dispatch(L);
    int refused = lim->host_refused;
    lim->host_refused = 0;
    if (refused || (saved == 0 && lim->ceiling != 0 && mlshim_total(lim) > lim->ceiling)) {
        /* what the Swift function allocated went over the ceiling (or it refused a result):
           collect what is already garbage (its results stay on the stack; finalizers may
           allocate, so the collection counts as host work), and if still over, fail here, in C */
        if (!refused) lua_gc(L, LUA_GCCOLLECT);
        if (refused || mlshim_total(lim) > lim->ceiling) {
            lua_settop(L, 0);  /* the message is built as host work too */
            luaL_where(L, where);
            lua_pushfstring(L, "not enough memory (over the memory limit of %I MiB)", (lua_Integer)(lim->ceiling >> 20));
            lua_concat(L, 2);
            lim->in_host = saved;
            return lua_error(L);
        }
    }
    lim->in_host = saved;
    /* Back to Lua: the hook as the limits now need it. Ctrl-C during a host call makes the
       hook fire at the very next instruction (a loop of a few instructions around heavy calls,
       matmul or sort, might otherwise run for minutes before a count came due), and a budget
       the host function set (a plugin call) starts counting here. */
    mlshim_synchook(L);
    if (r == MLSHIM_RAISE_WHERE) {
        luaL_where(L, where);
        lua_insert(L, -2);
        lua_concat(L, 2);
        return lua_error(L);
    }
    if (r == MLSHIM_RAISE) return lua_error(L);
    return r;
}

typedef struct { void *object; } mlshim_box;

static int mlshim_box_gc(lua_State *L) {
    mlshim_box *b = (mlshim_box *)lua_touserdata(L, 1);
    if (b && b->object) {
        void *o = b->object;
        b->object = NULL;
        if (g_release) g_release(o);
    }
    return 0;
}

int mlshim_newboxmetatable(lua_State *L, const char *name) {
    int created = luaL_newmetatable(L, name);
    if (created) {
        lua_pushcfunction(L, mlshim_box_gc);
        lua_setfield(L, -2, "__gc");
    }
    return created;
}

static int mlshim_methods_first_index(lua_State *L) {
    if (lua_type(L, 2) == LUA_TSTRING) {
        lua_pushvalue(L, 2);
        if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;
        lua_pop(L, 1);
    }
    lua_pushvalue(L, lua_upvalueindex(2));  /* the getter, with __index's arguments */
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

void mlshim_push_methods_first_index(lua_State *L) { lua_pushcclosure(L, mlshim_methods_first_index, 2); }

void mlshim_pushbox(lua_State *L, void *object, const char *metatable_name) {
    mlshim_box *b = (mlshim_box *)lua_newuserdatauv(L, sizeof(mlshim_box), 0);
    b->object = object;
    mlshim_newboxmetatable(L, metatable_name);
    lua_setmetatable(L, -2);
}

void *mlshim_tobox(lua_State *L, int idx) {
    if (lua_type(L, idx) != LUA_TUSERDATA || lua_rawlen(L, idx) != sizeof(mlshim_box)) return NULL;
    mlshim_box *b = (mlshim_box *)lua_touserdata(L, idx);
    return b ? b->object : NULL;
}

void *mlshim_testbox(lua_State *L, int idx, const char *name) {
    mlshim_box *b = (mlshim_box *)luaL_testudata(L, idx, name);
    return b ? b->object : NULL;
}

void mlshim_pushswiftfunction(lua_State *L) {
    lua_pushcclosure(L, mlshim_trampoline, 1);
}

/* Upvalues: 1 the box of the Swift function (for the generic path), 2 the metatable the
   object must have, 3 a userdata holding the fast function's pointer. */
static int mlshim_fastnumber_trampoline(lua_State *L) {
    if (lua_gettop(L) == 1) {
        mlshim_box *b = (mlshim_box *)lua_touserdata(L, 1);
        if (b != NULL && lua_getmetatable(L, 1)) {
            int same = lua_rawequal(L, -1, lua_upvalueindex(2));
            lua_pop(L, 1);
            if (same && b->object != NULL) {
                mlshim_number_fn fn = *(mlshim_number_fn *)lua_touserdata(L, lua_upvalueindex(3));
                lua_pushnumber(L, fn(b->object));
                return 1;
            }
        }
    }
    return mlshim_trampoline(L);
}

void mlshim_pushswiftfunction_fastnumber(lua_State *L, mlshim_number_fn fast) {
    mlshim_number_fn *slot = (mlshim_number_fn *)lua_newuserdatauv(L, sizeof(mlshim_number_fn), 0);
    *slot = fast;
    lua_pushcclosure(L, mlshim_fastnumber_trampoline, 3);
}

/* ---- allocator with a ceiling: the free path first, shrinks never fail, the growth
   check written so it cannot overflow (after ChrisGVE/LuaSwift). ----
   Blocks of up to MLSHIM_POOL_LARGEST bytes come in classes of 16 bytes and, when Lua frees
   them, are kept on the class's free list (up to MLSHIM_POOL_KEPT bytes per state) for the
   next block of the class: a served request makes and drops a few small objects per row
   (its record, strings, a match), and glibc's malloc/free of them (tcache holds 7 a size;
   the collector frees hundreds at once) was ~8% of `moonlab serve`'s CPU. A state runs on
   one thread at a time, so its lists need no lock. Lua passes every block's exact size, so
   a block's class is known from it; a block on a list always has its class's full size
   (a large block shrunk into a class is moved into a class block, or kept whole). */
#define MLSHIM_POOL_CLASSES 16
#define MLSHIM_POOL_LARGEST (16 * MLSHIM_POOL_CLASSES)
#define MLSHIM_POOL_KEPT ((size_t)1 << 20)

typedef struct mlshim_pool {
    void *free[MLSHIM_POOL_CLASSES];
    size_t kept;
} mlshim_pool;

static inline size_t mlshim_class(size_t n) { return (n - 1) >> 4; }  /* n in 1..LARGEST */

static void *mlshim_pool_get(mlshim_pool *pool, size_t n) {
    size_t c = mlshim_class(n);
    void *p = pool->free[c];
    if (p != NULL) {
        pool->free[c] = *(void **)p;
        pool->kept -= (c + 1) << 4;
        return p;
    }
    return malloc((c + 1) << 4);
}

static void mlshim_pool_put(mlshim_pool *pool, void *p, size_t n) {
    size_t c = mlshim_class(n), bytes = (c + 1) << 4;
    if (pool->kept + bytes > MLSHIM_POOL_KEPT) {
        free(p);
        return;
    }
    *(void **)p = pool->free[c];
    pool->free[c] = p;
    pool->kept += bytes;
}

void mlshim_pool_release(mlshim_limits *lim) {
    mlshim_pool *pool = (mlshim_pool *)lim->pool;
    if (pool == NULL) return;
    for (int c = 0; c < MLSHIM_POOL_CLASSES; c++) {
        void *p = pool->free[c];
        while (p != NULL) {
            void *next = *(void **)p;
            free(p);
            p = next;
        }
    }
    free(pool);
    lim->pool = NULL;
}

static void *mlshim_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    mlshim_limits *lim = (mlshim_limits *)ud;
    mlshim_pool *pool = (mlshim_pool *)lim->pool;
    if (ptr == NULL) osize = 0; /* osize is a type tag then */
    if (nsize == 0) {
        if (ptr != NULL) {
            if (pool != NULL && osize <= MLSHIM_POOL_LARGEST) mlshim_pool_put(pool, ptr, osize);
            else free(ptr);
        }
        lim->used -= osize;
        return NULL;
    }
    if (nsize > osize && lim->ceiling != 0 && lim->in_host == 0) {
        size_t delta = nsize - osize, total = mlshim_total(lim);
        if (total > lim->ceiling || delta > lim->ceiling - total) return NULL;
    }
    void *p;
    if (pool == NULL) {
        p = realloc(ptr, nsize);
    } else if (ptr == NULL) {
        p = nsize <= MLSHIM_POOL_LARGEST ? mlshim_pool_get(pool, nsize) : malloc(nsize);
    } else if (osize <= MLSHIM_POOL_LARGEST || nsize <= MLSHIM_POOL_LARGEST) {
        if (osize <= MLSHIM_POOL_LARGEST && nsize <= MLSHIM_POOL_LARGEST && mlshim_class(osize) == mlshim_class(nsize)) {
            p = ptr;  /* the block already has the class's size */
        } else {
            p = nsize <= MLSHIM_POOL_LARGEST ? mlshim_pool_get(pool, nsize) : malloc(nsize);
            if (p != NULL) {
                memcpy(p, ptr, osize < nsize ? osize : nsize);
                if (osize <= MLSHIM_POOL_LARGEST) mlshim_pool_put(pool, ptr, osize);
                else free(ptr);
            }
        }
    } else {
        p = realloc(ptr, nsize);
    }
    if (p == NULL) return nsize <= osize ? ptr : NULL;  /* a large block kept whole stays valid
                                                          as a block of a smaller class */
    lim->used = lim->used - osize + nsize;
    return p;
}

static int mlshim_panic(lua_State *L) {
    const char *msg = lua_tostring(L, -1);
    fprintf(stderr, "moonlab: unprotected Lua error: %s\n", msg ? msg : "(error object is not a string)");
    return 0;
}

/* ---- the states Ctrl-C reaches ----
   A state's main thread runs without a hook unless its limits need one (a budget, a pending
   stop, the user's debug hooks: mlshim_synchook). So that Ctrl-C still stops a plain loop
   there, each state has a slot holding its main thread, and raising the interrupt (the SIGINT
   handler, mlshim_raise_interrupt) hooks at count 1 every state some thread is inside, each
   on its own thread, as lua.c's handler does (mlshim_hook_main_threads). Coroutines keep the count hook
   they are given at creation, as all threads had before (mlshim_wrap_finalizers). With
   every slot taken (MLSHIM_SLOTS live states), a state keeps the count hook always. */
#define MLSHIM_SLOTS 1024
static lua_State *g_main_threads[MLSHIM_SLOTS];

static int mlshim_claim_slot(lua_State *L) {
    for (int i = 0; i < MLSHIM_SLOTS; i++) {
        lua_State *expected = NULL;
        if (__atomic_compare_exchange_n(&g_main_threads[i], &expected, L, 0, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
            return i;
    }
    return -1;
}

/* True when L is the main thread of a state that has a slot. */
static int mlshim_is_slotted_main(lua_State *L, mlshim_limits *lim) {
    return lim->slot >= 0 && __atomic_load_n(&g_main_threads[lim->slot], __ATOMIC_RELAXED) == L;
}

lua_State *mlshim_newstate(mlshim_limits *limits) {
    limits->pool = calloc(1, sizeof(mlshim_pool));  /* none (plain malloc) if this fails */
    lua_State *L = lua_newstate(mlshim_alloc, limits);
    if (L) {
        lua_atpanic(L, mlshim_panic);
        mlshim_install_element_access(L);
        limits->slot = mlshim_claim_slot(L);
    } else {
        mlshim_pool_release(limits);
    }
    return L;
}

void mlshim_close(lua_State *L) {
    mlshim_limits *lim = mlshim_getlimits(L);
    if (lim->slot >= 0) {
        __atomic_store_n(&g_main_threads[lim->slot], NULL, __ATOMIC_SEQ_CST);
        lim->slot = -1;  /* finalizers run on hooked coroutines of their own */
    }
    lua_close(L);
}

int mlshim_charge_external(mlshim_limits *lim, long long delta, int check_ceiling) {
    if (delta >= 0) {
        size_t d = (size_t)delta;
        if (check_ceiling && lim->ceiling != 0) {
            size_t total = mlshim_total(lim);
            if (total > lim->ceiling || d > lim->ceiling - total) return 0;
        }
        __atomic_fetch_add(&lim->external, d, __ATOMIC_RELAXED);
    } else {
        __atomic_fetch_sub(&lim->external, (size_t)(-delta), __ATOMIC_RELAXED);
    }
    return 1;
}

size_t mlshim_external(mlshim_limits *lim) { return __atomic_load_n(&lim->external, __ATOMIC_RELAXED); }

mlshim_limits *mlshim_getlimits(lua_State *L) {
    void *ud = NULL;
    lua_getallocf(L, &ud);
    return (mlshim_limits *)ud;
}

/* Lock-free on every platform we build for, so the signal handler may store to it. */
static int g_interrupt = 0;
static int g_second_exits = 0;
int mlshim_interrupt_pending(void) { return __atomic_load_n(&g_interrupt, __ATOMIC_SEQ_CST); }
static void mlshim_hook_main_threads(void);
static void mlshim_interrupt_threads(void);
static int mlshim_thread_reachable(void);
void mlshim_raise_interrupt(void) {
    __atomic_store_n(&g_interrupt, 1, __ATOMIC_SEQ_CST);
    mlshim_hook_main_threads();
}
void mlshim_clear_interrupt(void) { __atomic_store_n(&g_interrupt, 0, __ATOMIC_RELAXED); }

#define MLSHIM_HOOK_COUNT 1000

/* ---- the count hook, and the user's debug hooks beside it ----
   Lua keeps one hook per thread. moonlab's count hook (interrupt and budget) must stay, so
   debug.sethook does not replace it: the user's hook (function, mask, count) is kept in the
   registry per thread and moonlab's hook calls it for the events it asked for. */
static const char *const MLSHIM_USERHOOKS = "mlshim.userhooks";
static const char *const mlshim_hooknames[] = {"call", "return", "line", "count", "tail call"};

static void mlshim_hook(lua_State *L, lua_Debug *ar);

/* Pushes the user's hook entry {fn, mask, count, left} of L, or nil. */
static int mlshim_push_userhook(lua_State *L) {
    if (lua_getfield(L, LUA_REGISTRYINDEX, MLSHIM_USERHOOKS) != LUA_TTABLE) return LUA_TNIL;
    lua_pushthread(L);
    int t = lua_rawget(L, -2);
    lua_remove(L, -2);
    return t;
}

/* What L's hook must be now: its mask and count. moonlab's count events while a budget is
   set, on a coroutine (each keeps its count hook, so Ctrl-C and a budget reach code running
   there without tracking which thread runs), on a state with no slot, and at every
   instruction (count 1) while a stop is in force; the user's events and count added. */
static void mlshim_policy(lua_State *L, mlshim_limits *lim, int armed, int *mask_out, int *rate_out) {
    int stop = (lim->interruptible && mlshim_interrupt_pending()) || lim->budget_exhausted;
    int mask = 0, rate = MLSHIM_HOOK_COUNT;
    /* a watched row's budget is armed by the row watchdog (mlshim_watch_begin): none before */
    int budgeted = lim->budget >= 0 && !(lim->watched && !armed);
    if (stop) { mask = LUA_MASKCOUNT; rate = 1; }
    else if (budgeted || !mlshim_is_slotted_main(L, lim) || !mlshim_thread_reachable()) mask = LUA_MASKCOUNT;
    if (lim->user_hooks && lua_checkstack(L, 3)) {
        if (mlshim_push_userhook(L) == LUA_TTABLE) {
            lua_rawgeti(L, -1, 2);
            lua_rawgeti(L, -2, 3);
            int umask = (int)lua_tointeger(L, -2), ucount = (int)lua_tointeger(L, -1);
            lua_pop(L, 2);
            mask |= umask;
            if ((umask & LUA_MASKCOUNT) && ucount > 0 && ucount < rate) rate = ucount;
        }
        lua_pop(L, 1);
    }
    *mask_out = mask;
    *rate_out = rate;
}

void mlshim_synchook(lua_State *L) {
    mlshim_limits *lim = mlshim_getlimits(L);
    if (lim == NULL || lua_getallocf(L, NULL) != mlshim_alloc) return;  /* not a state of ours */
    for (;;) {
        int mask, rate;
        int armed = __atomic_load_n(&lim->armed, __ATOMIC_RELAXED);
        mlshim_policy(L, lim, armed, &mask, &rate);
        if (mask == 0) {
            if (lua_gethookmask(L) != 0) lua_sethook(L, NULL, 0, 0);
        } else if (lua_gethook(L) != mlshim_hook || lua_gethookmask(L) != mask || lua_gethookcount(L) != rate) {
            lua_sethook(L, mlshim_hook, mask, rate);
        }
        /* The row watchdog's signal may have armed a watched row while this ran, its hook
           overwritten above (the handler sets `armed` before it hooks): look again. */
        if (lim->watched && !armed && __atomic_load_n(&lim->armed, __ATOMIC_RELAXED)) continue;
        /* An interrupt raised while this ran may have hooked L and been overwritten above:
           look again (the raiser sets the flag before it hooks). */
        if (rate == 1 || !(lim->interruptible && mlshim_interrupt_pending())) return;
    }
}

/* Installs moonlab's hook on L: as the policy says (count 0), or firing every `count`
   instructions (1: a stop is in force). */
static void mlshim_rehook(lua_State *L, int count) {
    if (count <= 0) { mlshim_synchook(L); return; }
    int mask, rate;
    mlshim_limits *lim = mlshim_getlimits(L);
    mlshim_policy(L, lim, __atomic_load_n(&lim->armed, __ATOMIC_RELAXED), &mask, &rate);
    lua_sethook(L, mlshim_hook, mask | LUA_MASKCOUNT, count);
}

/* Makes every state that Lua code runs in now stop at its next instruction (Ctrl-C, or
   LuaInterrupt.raise from any thread). lua_sethook is safe only on the thread that runs the
   state (lua.c calls it from a signal handler on that thread): with a mask it walks the
   thread's CallInfo list, which the running thread may be freeing meanwhile (luaE_shrinkCI),
   and a state another thread is closing would be written after it is freed. So the raiser
   hooks the states its own thread is inside, and sends every other thread that is inside
   Lua now the watchdog's real-time signal, whose handler does the same there
   (mlshim_hook_entered). A thread that enters Lua later sees the flag at its entry
   (mlshim_pcall: the entry is published before the flag is read, the raiser sets the flag
   before it reads the entries). Where threads cannot be signalled (no record, or not Linux)
   a state keeps its count hook, which sees the flag within MLSHIM_HOOK_COUNT instructions. */
static void mlshim_hook_main_threads(void) {
    mlshim_interrupt_threads();
}

/* Calls the user's hook of L for this event, as ldblib's hookf does (count events only
   every `count` instructions of the user's). */
static void mlshim_call_userhook(lua_State *L, lua_Debug *ar) {
    if (!lua_checkstack(L, 6)) return;
    if (mlshim_push_userhook(L) != LUA_TTABLE) { lua_pop(L, 1); return; }
    lua_rawgeti(L, -1, 2);
    int umask = (int)lua_tointeger(L, -1);
    lua_pop(L, 1);
    int wanted = 0;
    switch (ar->event) {
    case LUA_HOOKCALL: case LUA_HOOKTAILCALL: wanted = umask & LUA_MASKCALL; break;
    case LUA_HOOKRET: wanted = umask & LUA_MASKRET; break;
    case LUA_HOOKLINE: wanted = umask & LUA_MASKLINE; break;
    case LUA_HOOKCOUNT:
        if (umask & LUA_MASKCOUNT) {
            lua_rawgeti(L, -1, 4);
            lua_Integer left = lua_tointeger(L, -1) - lua_gethookcount(L);
            lua_pop(L, 1);
            if (left <= 0) {
                lua_rawgeti(L, -1, 3);
                left = lua_tointeger(L, -1);
                lua_pop(L, 1);
                wanted = 1;
            }
            lua_pushinteger(L, left);
            lua_rawseti(L, -2, 4);
        }
        break;
    }
    if (!wanted) { lua_pop(L, 1); return; }
    lua_rawgeti(L, -1, 1);
    lua_remove(L, -2);
    lua_pushstring(L, mlshim_hooknames[ar->event]);
    if (ar->currentline >= 0) lua_pushinteger(L, ar->currentline); else lua_pushnil(L);
    lua_getinfo(L, "lS", ar);
    lua_call(L, 2, 0);
}

/* Raises from the hook (a C frame). Once interrupted (or out of budget) the hook fires at
   every instruction and raises again, so no pcall can swallow the stop: the code after the
   pcall raises at its next instruction, all the way up to the host, which clears the flag.
   Then the hook goes back to its usual rate. */
static void mlshim_hook(lua_State *L, lua_Debug *ar) {
    mlshim_limits *lim = mlshim_getlimits(L);
    /* Lua code runs here, so no Swift frame is live on this call path: a Swift frame that a
       Lua error jumped over (which would have left in_host raised and the ceiling off) is
       over. Every host entry into Lua sets in_host to 0 and restores it afterwards. */
    lim->in_host = 0;
    if (lim->user_hooks) mlshim_call_userhook(L, ar);
    /* With a user's line or call hook, Lua loses count events that fall due while the user's
       hook function runs (hooks are off there), so every event checks the stop and charges
       the budget: a count event its count, any other event one instruction. */
    int count = ar->event == LUA_HOOKCOUNT ? lua_gethookcount(L) : 1;
    int stop = (lim->interruptible && mlshim_interrupt_pending()) || lim->budget_exhausted;
    if (stop) {
        if (lua_gethookcount(L) != 1) mlshim_rehook(L, 1);
        if (lim->budget_exhausted && !(lim->interruptible && mlshim_interrupt_pending()))
            luaL_error(L, "instruction budget exceeded (%I instructions)", (lua_Integer)lim->budget_total);
        luaL_error(L, "interrupted");
    }
    /* A budget that ended, a stop that was cleared, a count-1 hook from the interrupt raiser
       on a state with nothing to stop: the hook becomes what the policy says (none at all
       on an unbudgeted main thread). */
    if (ar->event == LUA_HOOKCOUNT) mlshim_synchook(L);
    if (lim->budget >= 0) {
        lim->budget -= count;
        if (lim->budget < 0) {
            lim->budget = 0;
            lim->budget_exhausted = 1;
            mlshim_rehook(L, 1);
            luaL_error(L, "instruction budget exceeded (%I instructions)", (lua_Integer)lim->budget_total);
        }
    }
}

/* Native work on Lua's behalf (the pattern matcher) charges `cost` instructions and stops
   as the hook would: raises "interrupted" or "instruction budget exceeded" from the calling
   C function, and leaves the hook firing at every instruction so pcall cannot swallow it. */
void mlshim_charge_native(lua_State *L, long cost) {
    mlshim_limits *lim = mlshim_getlimits(L);
    int interrupted = lim->interruptible && mlshim_interrupt_pending();
    if (!interrupted && !lim->budget_exhausted && lim->budget >= 0) {
        lim->budget -= cost;
        if (lim->budget < 0) {
            lim->budget = 0;
            lim->budget_exhausted = 1;
        }
    }
    if (!interrupted && !lim->budget_exhausted) return;
    if (lua_gethookcount(L) != 1) mlshim_rehook(L, 1);
    if (interrupted) luaL_error(L, "interrupted");
    luaL_error(L, "instruction budget exceeded (%I instructions)", (lua_Integer)lim->budget_total);
}

void mlshim_installhook(lua_State *L) { mlshim_synchook(L); }

/* ---- the row watchdog (see luashim.h, mlshim_watch_begin) ----
   Each thread that runs watched rows owns a record here: `running` is the main thread of the
   state whose row it runs now (NULL between rows), `seq` counts its rows. The watchdog reads
   the records every grace period; a record whose `running` is set with the same `seq` as at
   the previous tick holds a row that has run for at least one grace period, and unless that
   row is armed already, the watchdog writes its `seq` into `asked` and sends the thread a
   real-time signal (g_watch_signal, by tgkill to that thread alone; again every
   MLSHIM_WATCH_RESEND ticks until armed). The watchdog never calls lua_sethook itself: with
   a hook, lua_sethook walks the thread's CallInfo list to set its traps, and the running
   thread may be freeing entries of that list meanwhile (luaE_shrinkCI, in a collection);
   Lua allows it in a signal handler on the running thread (lua.c), not from another one. The
   handler runs on the row's own thread, so it never touches a state another thread runs, nor
   a closed one: it hooks only the state its own thread has in `running`, and only if `asked`
   names the row in progress (a late signal for a row that has ended, or reaches the next row,
   does nothing). A state is closed only outside its rows, so never while it is `running`.
   Races on the row's own thread, between the handler and the code it interrupts:
   - the row's start sets `armed` = 0 and `watched` before it publishes `running`, and its
     end clears `running` first: a signal outside a row does nothing;
   - mlshim_synchook may decide "no hook" from `armed` = 0, be interrupted by the handler
     (which sets `armed`, then hooks), and then remove the hook: it reads `armed` again after
     it set the hook and, if it changed, hooks as an armed row must be (see the loop there);
   - a row that ends just after the handler hooked it leaves the hook at count 1: the next
     row's start (mlshim_synchook with `armed` = 0) removes it, or its first count event does.
   The watchdog sleeps (on a condition variable) after MLSHIM_WATCH_IDLE ticks with no row
   in progress; a row's start wakes it (the start publishes `running` and then reads
   `sleeping`, the watchdog sets `sleeping` and then reads every `running`, both sequentially
   consistent, so one of them sees the other). */
#if defined(__linux__)
#include <errno.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>

#define MLSHIM_WATCH_SLOTS 256
#define MLSHIM_WATCH_IDLE 100
#define MLSHIM_WATCH_RESEND 16

typedef struct mlshim_rowwatch {
    int tid;                 /* the owning thread's kernel id; 0: a free record */
    lua_State *running;      /* the main thread of the state in a watched row, or NULL */
    mlshim_limits *limits;   /* its limits (written before `running`) */
    unsigned long seq;       /* the owner's rows so far (bumped before `running` is set) */
    unsigned long asked;     /* the row the watchdog asked to arm */
    unsigned long armed;     /* the row the handler armed */
    unsigned long seen;      /* the watchdog's own: `seq` at its previous tick */
    unsigned long sent;      /* the watchdog's own: the tick it last signalled `asked` at */
    int inside;              /* how deep the owner is in host entries into Lua (mlshim_pcall) */
} mlshim_rowwatch;

static mlshim_rowwatch g_watch[MLSHIM_WATCH_SLOTS];
static int g_watch_used = 0;          /* records ever claimed (the watchdog reads these) */
static int g_watch_signal = 0;        /* 0: no signal of ours (rows keep the hook from their start,
                                         states their count hook) */
static long g_watch_grace_us = 1000;
static unsigned long g_watch_arms = 0;
static int g_watch_sleeping = 0;
static pthread_once_t g_watch_once = PTHREAD_ONCE_INIT;
static pthread_once_t g_watchdog_once = PTHREAD_ONCE_INIT;
static int g_watchdog_running = 0;
static pthread_key_t g_watch_key;
static pthread_mutex_t g_watch_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_watch_cond = PTHREAD_COND_INITIALIZER;
static _Thread_local mlshim_rowwatch *t_watch = NULL;
static _Thread_local int t_watch_tried = 0;

/* The states this thread is inside now, innermost last (host entries: mlshim_pcall and the
   protected helpers; a state's host function may enter another state). Only this thread and
   its signal handlers read them; the record's `inside` tells other threads the depth. */
#define MLSHIM_ENTERED_MAX 16
static _Thread_local lua_State *t_entered[MLSHIM_ENTERED_MAX];
static _Thread_local int t_entered_depth = 0;

/* In a signal handler or not, on this thread: hooks at count 1 every state this thread is
   inside that obeys Ctrl-C and has no count hook already (which sees the flag within
   MLSHIM_HOOK_COUNT instructions). These states are alive (this thread runs them), and Lua
   allows lua_sethook from a signal handler on the running thread. */
static void mlshim_hook_entered(void) {
    int depth = t_entered_depth;
    if (depth > MLSHIM_ENTERED_MAX) depth = MLSHIM_ENTERED_MAX;
    for (int i = 0; i < depth; i++) {
        lua_State *T = t_entered[i];
        if (T == NULL || (lua_gethookmask(T) & LUA_MASKCOUNT)) continue;
        void *ud = NULL;
        lua_getallocf(T, &ud);
        if (ud == NULL || !((mlshim_limits *)ud)->interruptible) continue;
        lua_sethook(T, mlshim_hook, LUA_MASKCOUNT, 1);
    }
}

/* On the row's thread: arms the row in progress if it is the one the watchdog asked for. */
static void mlshim_watch_handler(int sig) {
    (void)sig;
    int saved_errno = errno;
    mlshim_rowwatch *w = t_watch;
    if (w != NULL) {
        lua_State *L = __atomic_load_n(&w->running, __ATOMIC_RELAXED);
        unsigned long seq = __atomic_load_n(&w->seq, __ATOMIC_RELAXED);
        if (L != NULL && __atomic_load_n(&w->asked, __ATOMIC_ACQUIRE) == seq &&
            __atomic_load_n(&w->armed, __ATOMIC_RELAXED) != seq) {
            __atomic_store_n(&w->limits->armed, 1, __ATOMIC_RELAXED);
            __atomic_signal_fence(__ATOMIC_SEQ_CST);  /* `armed` before the hook */
            lua_sethook(L, mlshim_hook, LUA_MASKCOUNT, 1);
            __atomic_store_n(&w->armed, seq, __ATOMIC_RELEASE);
            __atomic_fetch_add(&g_watch_arms, 1, __ATOMIC_RELAXED);
        }
    }
    if (mlshim_interrupt_pending()) mlshim_hook_entered();  /* sent by mlshim_interrupt_threads */
    errno = saved_errno;
}

static void mlshim_watch_wake(void) {
    pthread_mutex_lock(&g_watch_mutex);
    __atomic_store_n(&g_watch_sleeping, 0, __ATOMIC_SEQ_CST);
    pthread_cond_signal(&g_watch_cond);
    pthread_mutex_unlock(&g_watch_mutex);
}

static void *mlshim_watchdog(void *arg) {
    (void)arg;
    prctl(PR_SET_NAME, "moonlab-watch");  /* as `top -H` and /proc/PID/task show it */
    pid_t pid = getpid();
    int idle = 0;
    unsigned long tick = 0;
    for (;;) {
        tick++;
        long us = __atomic_load_n(&g_watch_grace_us, __ATOMIC_RELAXED);
        struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
        while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {}
        int used = __atomic_load_n(&g_watch_used, __ATOMIC_ACQUIRE), busy = 0;
        for (int i = 0; i < used; i++) {
            mlshim_rowwatch *w = &g_watch[i];
            int tid = __atomic_load_n(&w->tid, __ATOMIC_ACQUIRE);
            if (tid == 0 || __atomic_load_n(&w->running, __ATOMIC_ACQUIRE) == NULL) continue;
            busy = 1;
            unsigned long seq = __atomic_load_n(&w->seq, __ATOMIC_RELAXED);
            if (seq != w->seen) { w->seen = seq; continue; }  /* a row started since the last tick */
            if (__atomic_load_n(&w->armed, __ATOMIC_ACQUIRE) == seq) continue;
            /* Real-time signals queue: a thread that is not scheduled gets one signal per
               MLSHIM_WATCH_RESEND ticks (a lost one is sent again), not one per tick. */
            if (__atomic_load_n(&w->asked, __ATOMIC_RELAXED) == seq && tick - w->sent < MLSHIM_WATCH_RESEND) continue;
            w->sent = tick;
            __atomic_store_n(&w->asked, seq, __ATOMIC_RELEASE);
            syscall(SYS_tgkill, pid, tid, g_watch_signal);
        }
        if (busy) { idle = 0; continue; }
        if (++idle < MLSHIM_WATCH_IDLE) continue;
        idle = 0;
        pthread_mutex_lock(&g_watch_mutex);
        __atomic_store_n(&g_watch_sleeping, 1, __ATOMIC_SEQ_CST);
        int any = 0;
        for (int i = 0; i < used && !any; i++) any = __atomic_load_n(&g_watch[i].running, __ATOMIC_SEQ_CST) != NULL;
        if (!any && __atomic_load_n(&g_watch_used, __ATOMIC_SEQ_CST) == used) {  /* no record claimed since */
            while (__atomic_load_n(&g_watch_sleeping, __ATOMIC_SEQ_CST))
                pthread_cond_wait(&g_watch_cond, &g_watch_mutex);
        }
        __atomic_store_n(&g_watch_sleeping, 0, __ATOMIC_SEQ_CST);
        pthread_mutex_unlock(&g_watch_mutex);
    }
    return NULL;
}

/* A thread's record goes back when the thread ends. */
static void mlshim_watch_release(void *p) {
    mlshim_rowwatch *w = (mlshim_rowwatch *)p;
    __atomic_store_n(&w->running, NULL, __ATOMIC_RELEASE);
    __atomic_store_n(&w->inside, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&w->tid, 0, __ATOMIC_RELEASE);
}

/* Once per process: a real-time signal nobody handles and its handler (the row watchdog
   and the interrupt raiser send it to one thread at a time). */
static void mlshim_watch_start(void) {
    int sig = 0;
    for (int s = SIGRTMIN + 2; s <= SIGRTMAX && sig == 0; s++) {
        struct sigaction old;
        if (sigaction(s, NULL, &old) == 0 && !(old.sa_flags & SA_SIGINFO) && old.sa_handler == SIG_DFL) sig = s;
    }
    if (sig == 0 || pthread_key_create(&g_watch_key, mlshim_watch_release) != 0) return;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = mlshim_watch_handler;
    sigfillset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;  /* a system call the row is in goes on */
    if (sigaction(sig, &sa, NULL) != 0) return;
    g_watch_signal = sig;  /* before any record is claimed */
}

/* Once per process, at the first watched row: the watchdog thread (with every signal
   blocked: it must never run the handler). */
static void mlshim_watchdog_start(void) {
    sigset_t all, saved;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    /* the default stack: a small one (64 KB) cannot hold a static Swift binary's TLS, and
       pthread_create fails */
    pthread_t t;
    if (pthread_create(&t, &attr, mlshim_watchdog, NULL) == 0) g_watchdog_running = 1;
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
}

/* This thread's record, claimed on first use (NULL: no watchdog, or every record taken). */
static mlshim_rowwatch *mlshim_watch_mine(void) {
    if (t_watch != NULL || t_watch_tried) return t_watch;
    t_watch_tried = 1;
    pthread_once(&g_watch_once, mlshim_watch_start);
    if (g_watch_signal == 0) return NULL;
    int tid = (int)syscall(SYS_gettid);
    for (int i = 0; i < MLSHIM_WATCH_SLOTS; i++) {
        int expected = 0;
        if (!__atomic_compare_exchange_n(&g_watch[i].tid, &expected, tid, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) continue;
        int used = __atomic_load_n(&g_watch_used, __ATOMIC_RELAXED);
        while (used < i + 1 && !__atomic_compare_exchange_n(&g_watch_used, &used, i + 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) {}
        /* The signal may be blocked on this thread (it inherits its creator's mask). */
        sigset_t one;
        sigemptyset(&one);
        sigaddset(&one, g_watch_signal);
        pthread_sigmask(SIG_UNBLOCK, &one, NULL);
        pthread_setspecific(g_watch_key, &g_watch[i]);
        t_watch = &g_watch[i];
        return t_watch;
    }
    return NULL;
}

int mlshim_watch_begin(lua_State *L) {
    mlshim_limits *lim = mlshim_getlimits(L);
    if (lim->budget < 0 || lim->watched || !mlshim_is_slotted_main(L, lim)) return 0;
    mlshim_rowwatch *w = mlshim_watch_mine();
    if (w == NULL || __atomic_load_n(&w->running, __ATOMIC_RELAXED) != NULL) return 0;  /* a row inside a row */
    pthread_once(&g_watchdog_once, mlshim_watchdog_start);
    if (!g_watchdog_running) return 0;
    __atomic_store_n(&lim->armed, 0, __ATOMIC_RELAXED);
    lim->watched = 1;
    w->limits = lim;
    __atomic_store_n(&w->seq, w->seq + 1, __ATOMIC_RELAXED);
    __atomic_store_n(&w->running, L, __ATOMIC_SEQ_CST);  /* publishes limits and seq */
    if (__atomic_load_n(&g_watch_sleeping, __ATOMIC_SEQ_CST)) mlshim_watch_wake();
    return 1;
}

void mlshim_watch_end(lua_State *L, int token) {
    if (!token) return;
    __atomic_store_n(&t_watch->running, NULL, __ATOMIC_RELEASE);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    mlshim_getlimits(L)->watched = 0;
}

long mlshim_watch_set_grace_us(long us) {
    return __atomic_exchange_n(&g_watch_grace_us, us < 100 ? 100 : us, __ATOMIC_RELAXED);
}

unsigned long mlshim_watch_arms(void) { return __atomic_load_n(&g_watch_arms, __ATOMIC_RELAXED); }

/* A host entry into L on this thread: recorded before the entry reads the interrupt flag
   (mlshim_synchook), so a raiser either sees this thread inside Lua or this entry sees its
   flag. Returns the depth to give back to mlshim_left. */
static int mlshim_entering(lua_State *L) {
    mlshim_rowwatch *w = mlshim_watch_mine();
    int depth = t_entered_depth;
    if (depth < MLSHIM_ENTERED_MAX) t_entered[depth] = L;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);  /* the entry before the depth, for the handler */
    t_entered_depth = depth + 1;
    if (w != NULL) __atomic_store_n(&w->inside, depth + 1, __ATOMIC_SEQ_CST);
    return depth;
}

static void mlshim_left(int depth) {
    mlshim_rowwatch *w = t_watch;
    if (w != NULL) __atomic_store_n(&w->inside, depth, __ATOMIC_RELEASE);
    t_entered_depth = depth;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    if (depth < MLSHIM_ENTERED_MAX) t_entered[depth] = NULL;
}

/* Whether an interrupt can reach code this thread runs without a count hook. */
static int mlshim_thread_reachable(void) { return mlshim_watch_mine() != NULL; }

/* Async-signal-safe: the SIGINT handler calls it. */
static void mlshim_interrupt_threads(void) {
    mlshim_hook_entered();
    if (g_watch_signal == 0) return;
    pid_t pid = getpid();
    mlshim_rowwatch *mine = t_watch;
    int used = __atomic_load_n(&g_watch_used, __ATOMIC_ACQUIRE);
    for (int i = 0; i < used; i++) {
        mlshim_rowwatch *w = &g_watch[i];
        if (w == mine) continue;
        int tid = __atomic_load_n(&w->tid, __ATOMIC_ACQUIRE);
        if (tid == 0 || __atomic_load_n(&w->inside, __ATOMIC_SEQ_CST) == 0) continue;
        syscall(SYS_tgkill, pid, tid, g_watch_signal);
    }
}
#else
int mlshim_watch_begin(lua_State *L) { (void)L; return 0; }
void mlshim_watch_end(lua_State *L, int token) { (void)L; (void)token; }
long mlshim_watch_set_grace_us(long us) { (void)us; return 0; }
unsigned long mlshim_watch_arms(void) { return 0; }
static int mlshim_entering(lua_State *L) { (void)L; return 0; }
static void mlshim_left(int depth) { (void)depth; }
/* No way to signal one thread: every state keeps its count hook (mlshim_policy). */
static int mlshim_thread_reachable(void) { return 0; }
static void mlshim_interrupt_threads(void) {}
#endif

int mlshim_test_hookmask(lua_State *L) {
    lua_pushinteger(L, lua_gethookmask(L));
    return 1;
}

/* The thread a debug function works on (ldblib's getthread). */
static lua_State *mlshim_hookthread(lua_State *L, int *arg) {
    if (lua_isthread(L, 1)) { *arg = 1; return lua_tothread(L, 1); }
    *arg = 0;
    return L;
}

/* Pushes thread L1 onto L's stack. */
static void mlshim_pushthreadof(lua_State *L, lua_State *L1) {
    if (L1 == L) { lua_pushthread(L); return; }
    lua_pushthread(L1);
    lua_xmove(L1, L, 1);
}

/* debug.sethook([thread,] [fn, mask [, count]]): the user's hook, kept beside moonlab's. */
static int mlshim_db_sethook(lua_State *L) {
    int arg;
    lua_State *L1 = mlshim_hookthread(L, &arg);
    mlshim_limits *lim = mlshim_getlimits(L);
    int set = !lua_isnoneornil(L, arg + 1);
    int mask = 0;
    lua_Integer count = 0;
    if (set) {  /* read the arguments before anything is pushed */
        const char *smask = luaL_checkstring(L, arg + 2);
        luaL_checktype(L, arg + 1, LUA_TFUNCTION);
        count = luaL_optinteger(L, arg + 3, 0);
        if (strchr(smask, 'c')) mask |= LUA_MASKCALL;
        if (strchr(smask, 'r')) mask |= LUA_MASKRET;
        if (strchr(smask, 'l')) mask |= LUA_MASKLINE;
        if (count > 0) mask |= LUA_MASKCOUNT; else count = 0;
        if (count > 0x7fffffff) count = 0x7fffffff;
    }
    lua_settop(L, arg + 1);  /* [thread] fn */
    if (!luaL_getsubtable(L, LUA_REGISTRYINDEX, MLSHIM_USERHOOKS)) {
        lua_createtable(L, 0, 1);  /* weak keys: a dead thread's hook goes with it */
        lua_pushliteral(L, "k");
        lua_setfield(L, -2, "__mode");
        lua_setmetatable(L, -2);
    }
    mlshim_pushthreadof(L, L1);
    if (set) {
        lua_createtable(L, 4, 0);
        lua_pushvalue(L, arg + 1); lua_rawseti(L, -2, 1);
        lua_pushinteger(L, mask); lua_rawseti(L, -2, 2);
        lua_pushinteger(L, count); lua_rawseti(L, -2, 3);
        lua_pushinteger(L, count); lua_rawseti(L, -2, 4);
        lim->user_hooks = 1;
    } else {
        lua_pushnil(L);
    }
    lua_rawset(L, -3);
    lua_pop(L, 1);
    mlshim_rehook(L1, 0);
    return 0;
}

/* debug.gethook([thread]) -> fn, mask, count of the user's hook (nil when none). */
static int mlshim_db_gethook(lua_State *L) {
    int arg;
    lua_State *L1 = mlshim_hookthread(L, &arg);
    (void)arg;
    if (lua_getfield(L, LUA_REGISTRYINDEX, MLSHIM_USERHOOKS) != LUA_TTABLE) { lua_pushnil(L); return 1; }
    mlshim_pushthreadof(L, L1);
    if (lua_rawget(L, -2) != LUA_TTABLE) { lua_pushnil(L); return 1; }
    lua_rawgeti(L, -1, 1);
    lua_rawgeti(L, -2, 2);
    int mask = (int)lua_tointeger(L, -1);
    lua_pop(L, 1);
    char smask[4];
    int i = 0;
    if (mask & LUA_MASKCALL) smask[i++] = 'c';
    if (mask & LUA_MASKRET) smask[i++] = 'r';
    if (mask & LUA_MASKLINE) smask[i++] = 'l';
    smask[i] = '\0';
    lua_pushstring(L, smask);
    lua_rawgeti(L, -3, 3);
    return 3;
}

static void mlshim_sigint(int sig) {
    (void)sig;
    if (g_second_exits && __atomic_load_n(&g_interrupt, __ATOMIC_RELAXED)) _exit(130);
    __atomic_store_n(&g_interrupt, 1, __ATOMIC_SEQ_CST);
    mlshim_hook_main_threads();
}

void mlshim_install_sigint(int second_exits) {
    g_second_exits = second_exits;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = mlshim_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: a blocking read returns EINTR, so the prompt sees it */
    sigaction(SIGINT, &sa, NULL);
}

/* ---- finalizers that the hook can stop ---- */

/* __gc of a table whose Lua finalizer was wrapped (upvalue 1): runs it on a fresh
   coroutine. Lua runs finalizers with the hook off on the finalizing thread, but a new
   thread has hooks allowed and inherits the count hook, so the budget and Ctrl-C stop a
   looping finalizer. An error is raised on (Lua turns it into a warning). */
static int mlshim_gc_call(lua_State *L) {
    mlshim_limits *lim = mlshim_getlimits(L);
    lua_settop(L, 1);
    lua_State *co = lua_newthread(L);
    lua_sethook(co, mlshim_hook, LUA_MASKCOUNT, MLSHIM_HOOK_COUNT);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushvalue(L, 1);
    lua_xmove(L, co, 2);
    int saved = lim->in_host;
    lim->in_host = 0;
    int nres = 0;
    int status = lua_resume(co, L, 1, &nres);
    lim->in_host = saved;
    if (status != LUA_OK && status != LUA_YIELD) {
        lua_xmove(co, L, 1);
        return lua_error(L);
    }
    return 0;
}

/* If the table at idx has a Lua function as __gc, replaces it (raw) with mlshim_gc_call. */
static void mlshim_wrap_gc_field(lua_State *L, int idx) {
    idx = lua_absindex(L, idx);
    if (lua_type(L, idx) != LUA_TTABLE) return;
    lua_pushliteral(L, "__gc");
    if (lua_rawget(L, idx) == LUA_TFUNCTION && lua_tocfunction(L, -1) != mlshim_gc_call) {
        lua_pushcclosure(L, mlshim_gc_call, 1);
        lua_pushliteral(L, "__gc");
        lua_insert(L, -2);
        lua_rawset(L, idx);
    } else {
        lua_pop(L, 1);
    }
}

/* Lua's setmetatable (lbaselib.c), with the finalizer wrapped. */
static int mlshim_setmetatable(lua_State *L) {
    int t = lua_type(L, 2);
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_argexpected(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table");
    if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL)
        return luaL_error(L, "cannot change a protected metatable");
    lua_settop(L, 2);
    mlshim_wrap_gc_field(L, 2);
    lua_setmetatable(L, 1);
    return 1;
}

/* debug.setmetatable, with the finalizer wrapped (upvalue 1: the original). */
static int mlshim_debug_setmetatable(lua_State *L) {
    mlshim_wrap_gc_field(L, 2);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

/* coroutine.create (upvalue 1: the original) with the new thread's count hook set: a thread
   inherits its creator's hook, and a main thread now runs without one (mlshim_synchook). */
static int mlshim_cocreate(lua_State *L) {
    luaL_checktype(L, 1, LUA_TFUNCTION);  /* here, so the error names this function */
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    lua_State *co = lua_tothread(L, -1);
    if (co) mlshim_synchook(co);
    return 1;
}

/* coroutine.wrap (upvalue 1: the original): its function's first upvalue is the thread. */
static int mlshim_cowrap(lua_State *L) {
    luaL_checktype(L, 1, LUA_TFUNCTION);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    if (lua_getupvalue(L, -1, 1) != NULL) {
        lua_State *co = lua_tothread(L, -1);
        if (co) mlshim_synchook(co);
        lua_pop(L, 1);
    }
    return 1;
}

/* Replaces field `name` of the table at -1 by `fn` with the original as its upvalue. */
static void mlshim_wrap_field(lua_State *L, const char *name, lua_CFunction fn) {
    if (lua_getfield(L, -1, name) == LUA_TFUNCTION) {
        lua_pushcclosure(L, fn, 1);
        lua_setfield(L, -2, name);
    } else {
        lua_pop(L, 1);
    }
}

/* Lua 5.4.4's collectgarbage (lbaselib.c, MIT licence, Lua.org, PUC-Rio), which also records
   the mode a script chooses in the limits: the host steps the collector for tensor memory as
   the mode allows (a minor collection in generational mode, a full one in incremental mode),
   and Lua has no call that reads the mode without changing it. */
static int mlshim_pushmode(lua_State *L, int oldmode) {
    if (oldmode == -1)
        luaL_pushfail(L);  /* invalid call to 'lua_gc' */
    else
        lua_pushstring(L, (oldmode == LUA_GCINC) ? "incremental" : "generational");
    return 1;
}

static int mlshim_collectgarbage(lua_State *L) {
    static const char *const opts[] = {"stop", "restart", "collect",
        "count", "step", "setpause", "setstepmul",
        "isrunning", "generational", "incremental", NULL};
    static const int optsnum[] = {LUA_GCSTOP, LUA_GCRESTART, LUA_GCCOLLECT,
        LUA_GCCOUNT, LUA_GCSTEP, LUA_GCSETPAUSE, LUA_GCSETSTEPMUL,
        LUA_GCISRUNNING, LUA_GCGEN, LUA_GCINC};
    int o = optsnum[luaL_checkoption(L, 1, "collect", opts)];
    int res;
    switch (o) {
        case LUA_GCCOUNT: {
            int k = lua_gc(L, o);
            int b = lua_gc(L, LUA_GCCOUNTB);
            if (k == -1) break;
            lua_pushnumber(L, (lua_Number)k + ((lua_Number)b / 1024));
            return 1;
        }
        case LUA_GCSTEP: {
            int step = (int)luaL_optinteger(L, 2, 0);
            res = lua_gc(L, o, step);
            if (res == -1) break;
            lua_pushboolean(L, res);
            return 1;
        }
        case LUA_GCSETPAUSE:
        case LUA_GCSETSTEPMUL: {
            int p = (int)luaL_optinteger(L, 2, 0);
            res = lua_gc(L, o, p);
            if (res == -1) break;
            lua_pushinteger(L, res);
            return 1;
        }
        case LUA_GCISRUNNING: {
            res = lua_gc(L, o);
            if (res == -1) break;
            lua_pushboolean(L, res);
            return 1;
        }
        case LUA_GCGEN: {
            int minormul = (int)luaL_optinteger(L, 2, 0);
            int majormul = (int)luaL_optinteger(L, 3, 0);
            res = lua_gc(L, o, minormul, majormul);
            if (res != -1) mlshim_getlimits(L)->gc_generational = 1;
            return mlshim_pushmode(L, res);
        }
        case LUA_GCINC: {
            int pause = (int)luaL_optinteger(L, 2, 0);
            int stepmul = (int)luaL_optinteger(L, 3, 0);
            int stepsize = (int)luaL_optinteger(L, 4, 0);
            res = lua_gc(L, o, pause, stepmul, stepsize);
            if (res != -1) mlshim_getlimits(L)->gc_generational = 0;
            return mlshim_pushmode(L, res);
        }
        default: {
            res = lua_gc(L, o);
            if (res == -1) break;
            lua_pushinteger(L, res);
            return 1;
        }
    }
    luaL_pushfail(L);  /* invalid call (inside a finalizer) */
    return 1;
}

void mlshim_wrap_finalizers(lua_State *L) {
    lua_pushcfunction(L, mlshim_setmetatable);
    lua_setglobal(L, "setmetatable");
    if (lua_getglobal(L, "collectgarbage") == LUA_TFUNCTION) {
        lua_pushcfunction(L, mlshim_collectgarbage);
        lua_setglobal(L, "collectgarbage");
    }
    lua_pop(L, 1);
    if (lua_getglobal(L, "coroutine") == LUA_TTABLE) {
        mlshim_wrap_field(L, "create", mlshim_cocreate);
        mlshim_wrap_field(L, "wrap", mlshim_cowrap);
    }
    lua_pop(L, 1);
    if (lua_getglobal(L, "debug") == LUA_TTABLE) {
        if (lua_getfield(L, -1, "setmetatable") == LUA_TFUNCTION) {
            lua_pushcclosure(L, mlshim_debug_setmetatable, 1);
            lua_setfield(L, -2, "setmetatable");
        } else {
            lua_pop(L, 1);
        }
        lua_pushcfunction(L, mlshim_db_sethook);
        lua_setfield(L, -2, "sethook");
        lua_pushcfunction(L, mlshim_db_gethook);
        lua_setfield(L, -2, "gethook");
    }
    lua_pop(L, 1);
}

/* The traceback is built as host work (in_host raised): an error that says the memory limit
   was reached must not be replaced by a second refusal while its message is written. */
int mlshim_msghandler(lua_State *L) {
    mlshim_limits *lim = mlshim_getlimits(L);
    int saved = lim->in_host;
    lim->in_host = saved + 1;
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) { lim->in_host = saved; return 1; }
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    lim->in_host = saved;
    return 1;
}

void mlshim_pushmsghandler(lua_State *L) { lua_pushcfunction(L, mlshim_msghandler); }

int mlshim_upvalueindex(int i) { return lua_upvalueindex(i); }
int mlshim_registryindex(void) { return LUA_REGISTRYINDEX; }
void mlshim_pop(lua_State *L, int n) { lua_pop(L, n); }
void mlshim_newtable(lua_State *L) { lua_newtable(L); }
/* The host's way into Lua: the thread's hook first brought in line with the limits (a budget
   the host just set, a stop it just cleared). */
int mlshim_pcall(lua_State *L, int nargs, int nresults, int msgh) {
    int depth = mlshim_entering(L);
    mlshim_synchook(L);
    int status = lua_pcall(L, nargs, nresults, msgh);
    mlshim_left(depth);
    return status;
}
void mlshim_call(lua_State *L, int nargs, int nresults) { lua_call(L, nargs, nresults); }
const char *mlshim_tolstring(lua_State *L, int idx, size_t *len) { return lua_tolstring(L, idx, len); }
lua_Number mlshim_tonumber(lua_State *L, int idx, int *isnum) { return lua_tonumberx(L, idx, isnum); }
lua_Integer mlshim_tointeger(lua_State *L, int idx, int *isnum) { return lua_tointegerx(L, idx, isnum); }
void mlshim_insert(lua_State *L, int idx) { lua_insert(L, idx); }
void mlshim_remove(lua_State *L, int idx) { lua_remove(L, idx); }
void mlshim_replace(lua_State *L, int idx) { lua_replace(L, idx); }
int mlshim_loadbuffer(lua_State *L, const char *buf, size_t len, const char *name, const char *mode) {
    return luaL_loadbufferx(L, buf, len, name, mode);
}
void mlshim_pushcfunction(lua_State *L, lua_CFunction f) { lua_pushcfunction(L, f); }
void mlshim_pushglobaltable(lua_State *L) { lua_pushglobaltable(L); }
const char *mlshim_tolstring_meta(lua_State *L, int idx, size_t *len) { return luaL_tolstring(L, idx, len); }
void mlshim_traceback(lua_State *L, lua_State *L1, const char *msg, int level) { luaL_traceback(L, L1, msg, level); }
void mlshim_where(lua_State *L, int level) { luaL_where(L, level); }
int mlshim_error_function(lua_State *L) {
    lua_settop(L, 1);
    return lua_error(L);
}

void mlshim_setextra(lua_State *L, void *p) { *(void **)lua_getextraspace(L) = p; }
void *mlshim_getextra(lua_State *L) { return *(void **)lua_getextraspace(L); }
int mlshim_gc(lua_State *L, int what) { return lua_gc(L, what, 0); }

int mlshim_gc_setmode(lua_State *L, int generational) {
    int old = generational ? lua_gc(L, LUA_GCGEN, 0, 0) : lua_gc(L, LUA_GCINC, 0, 0, 0);
    if (old == -1) return -1;
    mlshim_getlimits(L)->gc_generational = generational ? 1 : 0;
    return old == LUA_GCGEN;
}

int mlshim_gc_minor(lua_State *L) { return lua_gc(L, LUA_GCSTEP, 0); }

int mlshim_enter_lua(lua_State *L) {
    mlshim_limits *lim = mlshim_getlimits(L);
    int saved = lim->in_host;
    lim->in_host = 0;
    return saved;
}

void mlshim_leave_lua(lua_State *L, int saved) { mlshim_getlimits(L)->in_host = saved; }

/* lua_pcall for the protected helpers: metamethods they run are Lua code, held to the
   ceiling; the caller's host depth comes back afterwards. */
static int mlshim_protected(lua_State *L, int nargs, int nresults) {
    int depth = mlshim_entering(L);
    mlshim_synchook(L);
    int saved = mlshim_enter_lua(L);
    int status = lua_pcall(L, nargs, nresults, 0);
    mlshim_leave_lua(L, saved);
    mlshim_left(depth);
    return status;
}

static int mlshim_tolstring_k(lua_State *L) {
    luaL_tolstring(L, 1, NULL);
    return 1;
}

const char *mlshim_safe_tolstring(lua_State *L, int idx, size_t *len) {
    idx = lua_absindex(L, idx);
    int t = lua_type(L, idx);
    if (t == LUA_TNUMBER || t == LUA_TSTRING || t == LUA_TNIL || t == LUA_TBOOLEAN) {
        return luaL_tolstring(L, idx, len);
    }
    lua_pushcfunction(L, mlshim_tolstring_k);
    lua_pushvalue(L, idx);
    if (mlshim_protected(L, 1, 1) != LUA_OK) {
        const char *m = lua_tostring(L, -1);
        lua_pushfstring(L, "<error in __tostring: %s>", m ? m : "?");
        lua_remove(L, -2);
    } else if (lua_type(L, -1) != LUA_TSTRING) {
        lua_pop(L, 1);
        lua_pushliteral(L, "<__tostring did not return a string>");
    }
    return lua_tolstring(L, -1, len);
}

static int mlshim_getfield_k(lua_State *L) {
    lua_getfield(L, 1, lua_tostring(L, 2));
    return 1;
}

int mlshim_safe_getfield(lua_State *L, int idx, const char *k, int *failed) {
    idx = lua_absindex(L, idx);
    *failed = 0;
    if (lua_type(L, idx) == LUA_TTABLE) {
        if (!lua_getmetatable(L, idx)) return lua_getfield(L, idx, k); /* no metamethod can run */
        lua_pop(L, 1);
    }
    lua_pushcfunction(L, mlshim_getfield_k);
    lua_pushvalue(L, idx);
    lua_pushstring(L, k);
    if (mlshim_protected(L, 2, 1) != LUA_OK) {
        *failed = 1; /* the error message is the pushed value */
        return lua_type(L, -1);
    }
    return lua_type(L, -1);
}

static int mlshim_setfield_k(lua_State *L) {
    /* [t v k] */
    lua_pushvalue(L, 2);
    lua_setfield(L, 1, lua_tostring(L, 3));
    return 0;
}

/* Whether t[k] on the value at idx can run a metamethod. */
static int mlshim_may_run_meta(lua_State *L, int idx) {
    if (lua_type(L, idx) != LUA_TTABLE) return 1;
    if (!lua_getmetatable(L, idx)) return 0;
    lua_pop(L, 1);
    return 1;
}

void mlshim_safe_setfield(lua_State *L, int idx, const char *k, int *failed) {
    idx = lua_absindex(L, idx);
    *failed = 0;
    if (!mlshim_may_run_meta(L, idx)) {
        lua_setfield(L, idx, k);
        return;
    }
    /* [v] -> [f t v k] */
    lua_pushcfunction(L, mlshim_setfield_k);
    lua_pushvalue(L, idx);
    lua_pushvalue(L, -3);
    lua_pushstring(L, k);
    int status = mlshim_protected(L, 3, 0);
    if (status != LUA_OK) {
        *failed = 1;
        lua_remove(L, -2); /* the value; the error stays */
        return;
    }
    lua_pop(L, 1); /* the value */
}

int mlshim_safe_getglobal(lua_State *L, const char *name, int *failed) {
    lua_pushglobaltable(L);
    int t = mlshim_safe_getfield(L, -1, name, failed);
    lua_remove(L, -2);
    return t;
}

void mlshim_safe_setglobal(lua_State *L, const char *name, int *failed) {
    lua_pushglobaltable(L);
    lua_insert(L, -2);
    mlshim_safe_setfield(L, -2, name, failed);
    lua_remove(L, *failed ? -2 : -1);
}

void mlshim_format_float(double d, char *buf, size_t n) {
    if (n == 0) return;
    int len = snprintf(buf, n, "%.14g", d); /* LUAI_NUMFFORMAT of a default build */
    if (len < 0 || (size_t)len + 3 > n) return;
    if (buf[strspn(buf, "-0123456789")] == '\0') { /* looks like an int */
        buf[len++] = '.';
        buf[len++] = '0';
        buf[len] = '\0';
    }
}

const char *mlshim_stack_source(lua_State *L, int level) {
    lua_Debug ar;
    if (!lua_getstack(L, level, &ar)) return NULL;
    if (!lua_getinfo(L, "S", &ar) || ar.source == NULL) return "=?";
    return ar.source;
}
