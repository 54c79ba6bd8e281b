/* What a Lua loop reading u[k] costs through a C __index metamethod, against a Lua table, in the
   liblua5.4 moonlab links (BENCHMARKS.md, tensors, "t[i]"): a table; an __index that only pushes
   a constant (the floor); touserdata + tointegerx + load; the check arraybox.c made before
   6516547; the one after. Argument: a count-hook rate (moonlab sets one every 1000 instructions).
   cc -O2 -o /tmp/floor Benchmarks/tensor_index_floor.c $(pkg-config --cflags --libs lua5.4) && /tmp/floor 1000 */
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <string.h>
#include <stdint.h>
#include <stdlib.h>
static const char tag = 0;
typedef struct { void *object; char *data; int64_t length; int64_t stride; int32_t kind; const void *tag; } box;
static double buf[1000000];
static int empty_index(lua_State *L) { lua_pushnumber(L, 1.0); return 1; }
static int lean_index(lua_State *L) {
  box *b = (box *)lua_touserdata(L, 1);
  lua_Integer i = lua_tointegerx(L, 2, NULL);
  if (b && i >= 1 && i <= b->length) { double v; memcpy(&v, b->data + (i-1)*b->stride, 8); lua_pushnumber(L, v); return 1; }
  lua_pushnil(L); return 1;
}
static int new_index(lua_State *L) {
  if (lua_type(L, 2) == LUA_TNUMBER) {
    box *b = (box *)lua_touserdata(L, 1);
    if (b && lua_rawlen(L, 1) == sizeof(box) && b->tag == &tag && b->object && b->kind) {
      int isnum = 0; lua_Integer i = lua_tointegerx(L, 2, &isnum);
      if (isnum) {
        if (i < 0) i += b->length + 1;
        if (i >= 1 && i <= b->length) { double v; memcpy(&v, b->data + (i-1)*b->stride, 8); lua_pushnumber(L, v); return 1; }
      }
    }
  }
  lua_pushnil(L); return 1;
}
/* current arraybox.c path */
static int cur_index(lua_State *L) {
  int t2 = lua_type(L, 2);
  if (t2 == LUA_TNUMBER) {
    if (lua_type(L, 1) != LUA_TUSERDATA || lua_rawlen(L, 1) != sizeof(box)) goto fb;
    if (!lua_getmetatable(L, 1)) goto fb;
    int same = lua_rawequal(L, -1, lua_upvalueindex(1)); lua_pop(L, 1);
    if (!same) goto fb;
    box *b = (box *)lua_touserdata(L, 1);
    int isnum = 0; lua_Integer i = lua_tointegerx(L, 2, &isnum);
    if (!isnum) goto fb;
    if (i < 0) i += b->length + 1;
    if (i >= 1 && i <= b->length) { double v; memcpy(&v, b->data + (i-1)*b->stride, 8); lua_pushnumber(L, v); return 1; }
  }
fb: lua_pushnil(L); return 1;
}
static void hook(lua_State *L, lua_Debug *ar) { (void)L; (void)ar; }
int main(int argc, char **argv) {
  lua_State *L = luaL_newstate(); luaL_openlibs(L);
  if (argc > 1) { lua_sethook(L, hook, LUA_MASKCOUNT, atoi(argv[1])); printf("count hook every %s instructions\n", argv[1]); }
  const char *names[] = {"empty", "lean", "cur", "new"};
  lua_CFunction fns[] = {empty_index, lean_index, cur_index, new_index};
  for (int k = 0; k < 4; k++) {
    box *b = lua_newuserdatauv(L, sizeof(box), 0);
    b->data = (char*)buf; b->length = 1000000; b->stride = 8; b->kind = 2; b->tag = &tag; b->object = b;
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_pushcclosure(L, fns[k], 1);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
    lua_setglobal(L, names[k]);
  }
  const char *code =
   "local m = 1e6; local tab = {}; for k = 1, m do tab[k] = k * 0.5 end\n"
   "local function best(f) local b = 1e9; for r = 1, 15 do local t0 = os.clock(); f(); local d = os.clock() - t0; if d < b then b = d end end; return b end\n"
   "local tb = best(function() local s = 0; for k = 1, m do s = s + tab[k] end; return s end)\n"
   "print(string.format('table     %.2f ns/iter', tb * 1e3))\n"
   "for _, name in ipairs{'empty', 'lean', 'cur', 'new'} do local u = _G[name]\n"
   "  local x = best(function() local s = 0; for k = 1, m do s = s + u[k] end; return s end)\n"
   "  print(string.format('%-9s %.2f ns/iter  %.2fx table', name, x * 1e3, x / tb)) end\n";
  if (luaL_dostring(L, code)) { fprintf(stderr, "%s\n", lua_tostring(L, -1)); return 1; }
  return 0;
}
