-- Plain Lua work, the same file under `moonlab run` and under `lua5.4` (BENCHMARKS.md,
-- "Plain Lua against lua5.4"): a numeric loop, table reads, calls, string building.
--   lua5.4 Benchmarks/lua_plain.lua && moonlab run Benchmarks/lua_plain.lua
-- Best of 5 each, in CPU time (os.clock).
local function best(f)
  local b = math.huge
  for _ = 1, 5 do
    local t0 = os.clock()
    f()
    b = math.min(b, os.clock() - t0)
  end
  return b
end
local t = {}
for i = 1, 1e6 do t[i] = i * 0.5 end
local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end
local cases = {
  { "sum loop 1e7", function() local s = 0 for i = 1, 1e7 do s = s + i end end },
  { "table reads 1e6", function() local s = 0 for i = 1, #t do s = s + t[i] end end },
  { "fib(25) calls", function() fib(25) end },
  { "tostring + concat 1e5", function() local p = {} for i = 1, 1e5 do p[#p + 1] = tostring(i) end table.concat(p) end },
}
for _, c in ipairs(cases) do
  print(string.format("%-22s %7.1f ms", c[1], 1e3 * best(c[2])))
end
