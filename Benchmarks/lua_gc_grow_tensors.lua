-- Tensor traffic beside a growing Lua heap (BENCHMARKS.md, "Issue 11/13: the collector's mode"):
-- 3,000 x (a * 2 on 1e6 f64, then 500 new tables kept). Run under /usr/bin/time for the peak RSS:
--   moonlab run Benchmarks/lua_gc_grow_tensors.lua
local a = tensor.ones{1e6}
local keep = {}
local t0 = os.clock()
for i = 1, 3000 do local r = a * 2; for j = 1, 500 do keep[#keep + 1] = {j} end end
print(string.format("growing heap + tensors: CPU %.0f ms, Lua heap %.0f MB", (os.clock() - t0) * 1e3, collectgarbage("count") / 1024))
