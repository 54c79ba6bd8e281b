-- The issue-13 memory loop alone, with its CPU and system CPU (from /proc/self/stat) and peak memory:
-- system time is the kernel clearing new pages (BENCHMARKS.md, tensors). Run: moonlab run Benchmarks/tensor_loop_probe.lua
local function stat()
  local f = io.open("/proc/self/stat"); local s = f:read("a"); f:close()
  local fields = {}; for w in s:gsub("^.-%) ", ""):gmatch("%S+") do fields[#fields + 1] = w end
  return tonumber(fields[8]), (tonumber(fields[12]) + tonumber(fields[13])) / 100, tonumber(fields[13]) / 100  -- minflt, cpu, sys (s)
end
local rng = random.new(13)
local n = 1e7
local a, b, c = tensor.randn({n}, rng), tensor.randn({n}, rng), tensor.rand({n}, rng) + 1
collectgarbage()
local f0, c0, s0 = stat(); local w0 = os.clock()
local med, best = timeit(function() for _ = 1, 20 do local r = (a * 2 + b) / c end end, {runs = 1, warmup = 0})
local f1, c1, s1 = stat()
local peak
for line in io.lines("/proc/self/status") do peak = peak or line:match("^VmHWM:%s+(%d+)") end
print(string.format("loop: wall %.0f ms, cpu %.0f ms (sys %.0f), minor faults %d, peak %.0f MB", best * 1e3, (c1 - c0) * 1e3, (s1 - s0) * 1e3, f1 - f0, tonumber(peak) / 1024))
