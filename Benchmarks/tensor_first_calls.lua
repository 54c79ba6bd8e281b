-- The first calls of a big-output tensor operation in a fresh process, as a user times them
-- (issue 13): each call's outputs want blocks that the previous call's dropped results hold
-- until the collector frees them; fresh pages instead cost the kernel's clearing (100-160 ms
-- per 80 MB on the dev VM). Prints, for one case, either the first 6 calls one by one
-- (`timeit(f, {runs = 1, warmup = 0})` each) or `timeit(f)` (median, min, max of 5 runs after
-- 1 warm-up) as the first thing the process times, and the process's CPU, system CPU and
-- minor page faults over it. Run one fresh process per case and mode:
--   moonlab run Benchmarks/tensor_first_calls.lua sort first
--   moonlab run Benchmarks/tensor_first_calls.lua sort timeit
-- Cases: sort argsort add clone (1e7 f64; sort returns values and positions). numpy's side:
-- python3 Benchmarks/peers_tensor_first_calls.py CASE MODE.
local what, mode = arg[1] or "sort", arg[2] or "first"
local function stat()
  local f = io.open("/proc/self/stat"); local s = f:read("a"); f:close()
  local fields = {}; for w in s:gsub("^.-%) ", ""):gmatch("%S+") do fields[#fields + 1] = w end
  return tonumber(fields[8]), tonumber(fields[13]) / 100, (tonumber(fields[12]) + tonumber(fields[13])) / 100  -- minor faults, system and all CPU (s)
end
local rng = random.new(13)
local n = 1e7
local t, b = tensor.randn({n}, rng), tensor.randn({n}, rng)
collectgarbage()
local fns = {
  sort = function() return t:sort() end,
  argsort = function() return t:argsort() end,
  add = function() return t + b end,
  clone = function() return t:clone() end,
}
local f = assert(fns[what], "case: sort argsort add clone")
local f0, s0, c0 = stat()
if mode == "first" then
  local ms = {}
  for i = 1, 6 do ms[i] = string.format("%.1f", timeit(f, {runs = 1, warmup = 0}) * 1e3) end
  local f1, s1, c1 = stat()
  print(string.format("%s first 6 calls (ms): %s; cpu %.0f ms (sys %.0f), minor faults %d", what, table.concat(ms, " "), (c1 - c0) * 1e3, (s1 - s0) * 1e3, f1 - f0))
else
  local med, lo, hi = timeit(f)
  local f1, s1, c1 = stat()
  print(string.format("%s timeit (ms): median %.1f min %.1f max %.1f; cpu %.0f ms (sys %.0f), minor faults %d", what, med * 1e3, lo * 1e3, hi * 1e3, (c1 - c0) * 1e3, (s1 - s0) * 1e3, f1 - f0))
end
