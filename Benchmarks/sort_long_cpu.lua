-- The long-row sort (`sortLongRow`, alignmath_sort.h) of 1e7 elements per dtype and
-- direction: the least wall and process CPU (`os.clock`, both cores) of 5 calls after a
-- warm-up. Run: .build/release/moonlab run Benchmarks/sort_long_cpu.lua
local rng = random.new(13)
local a = tensor.randn({1e7}, rng)
local cases = {
  {"sort f64", a, function(x) return x:sort() end},
  {"argsort f64", a, function(x) return x:argsort() end},
  {"sort desc f64", a, function(x) return x:sort{descending = true} end},
  {"sort f32", a:to("f32"), function(x) return x:sort() end},
  {"sort i64 (N(0,1) * 1e6)", (a * 1e6):to("i64"), function(x) return x:sort() end},
  {"sort f64 rand (one sign)", tensor.rand({1e7}, rng), function(x) return x:sort() end},
}
for _, c in ipairs(cases) do
  local x, f = c[2], c[3]
  f(x)
  local wall, cpu = math.huge, math.huge
  for _ = 1, 5 do
    local c0 = os.clock()
    local best = timeit(function() return f(x) end, {runs = 1, warmup = 0})
    local dc = os.clock() - c0
    wall = math.min(wall, best)
    cpu = math.min(cpu, dc)
  end
  print(string.format('{"case":"%s","wall_ms":%.1f,"cpu_ms":%.1f}', c[1], wall * 1e3, cpu * 1e3))
end
