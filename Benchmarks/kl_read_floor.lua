-- dist.kl over a [4096, 32000] f32 batch against the time to read both arrays (issue 3 / 11:
-- within 1.5x of that read floor), timed from Lua as a user calls it (BENCHMARKS.md, "KL with
-- AVX-512").
--
-- Run: swift build -c release --product moonlab
--      .build/release/moonlab run Benchmarks/kl_read_floor.lua [RUNS]
--      MOONLAB_KL_AVX512=1 .build/release/moonlab run Benchmarks/kl_read_floor.lua   # the AVX-512 kernel (=0: AVX2)
-- The floor here is P:max() + Q:max() (one pass over each array on all cores, no output
-- but a number). Prints one JSON line per case: best and median wall ms over RUNS timed
-- calls (default 15, two warm-up calls), CPU ms per call (os.clock, all threads), and the
-- KL / floor ratios of the best and of the medians.

local runs = tonumber(arg[1]) or 15

local function time(fn)
  local c0 = os.clock()
  local median, best = timeit(fn, {runs = runs, warmup = 2})
  return best * 1e3, median * 1e3, (os.clock() - c0) / (runs + 2) * 1e3
end

local g = random.new(11)
local P = tensor.randn({4096, 32000}, g, {dtype = "f32"}) * 2.5
local Q = tensor.randn({4096, 32000}, g, {dtype = "f32"}) * 2.5

local fb, fm, fc = time(function() return P:max() + Q:max() end)
local kb, km, kc = time(function() return dist.kl(P, Q) end)
local fb2, fm2, fc2 = time(function() return P:max() + Q:max() end)
-- the floor is the faster of the runs before and after the KL calls
fb, fm = math.min(fb, fb2), math.min(fm, fm2)
print(string.format('{"case":"read_floor_4096x32000_f32_x2","ms":%.2f,"median_ms":%.2f,"cpu_ms":%.2f}', fb, fm, math.min(fc, fc2)))
print(string.format('{"case":"kl_4096x32000_f32","ms":%.2f,"median_ms":%.2f,"cpu_ms":%.2f,"over_floor":%.2f,"median_over_floor":%.2f}',
  kb, km, kc, kb / fb, km / fm))
