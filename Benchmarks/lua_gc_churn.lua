-- Allocation churn in plain Lua, for the collector's mode (BENCHMARKS.md, "Issue 13: the
-- collector's mode"): a live set of 200,000 records (a table and a string each) of which a
-- random one is replaced per step, so old objects keep dying (generational mode's weak case:
-- old garbage waits for a major collection), plus short-lived strings and tables per step.
-- Prints CPU time and the largest Lua heap seen; run under /usr/bin/time -v for the peak RSS.
--   moonlab run Benchmarks/lua_gc_churn.lua     (and lua5.4 Benchmarks/lua_gc_churn.lua)
local n, steps = 200000, 1000000
local live = {}
local seed = 12345
local function rnd(m) seed = (seed * 1103515245 + 12345) % 2147483648; return seed % m + 1 end
for i = 1, n do live[i] = { id = i, name = "record " .. i, tags = { i, i + 1 } } end
local peak = collectgarbage("count")
local t0 = os.clock()
for s = 1, steps do
  local k = rnd(n)
  live[k] = { id = s, name = "record " .. s, tags = { s, k } }   -- an old record dies
  local tmp = { s, tostring(s) .. ":" .. k }                    -- dies young
  if s % 1000 == 0 then
    local c = collectgarbage("count"); if c > peak then peak = c end
  end
end
print(string.format("churn: %d steps over %d live records: CPU %.0f ms, Lua heap at most %.0f MB (mode %s)",
  steps, n, (os.clock() - t0) * 1e3, peak / 1024, (function() local m = collectgarbage("incremental"); collectgarbage(m); return m end)()))
