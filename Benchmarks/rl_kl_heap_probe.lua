-- rl.kl (k1) over 1e6 tokens, as lua_numbers.lua rl times it, with the per-call CPU, system CPU
-- and page faults (/proc/self/stat): first with the benchmark's six 1e6-entry Lua tables alive
-- (a 96 MB Lua heap, which every collection the tensors trigger must mark), then with them
-- dropped. Run: moonlab run Benchmarks/rl_kl_heap_probe.lua (numpy: `lp - ref`, peers_numbers.py rl)
local function stat()
  local f = io.open("/proc/self/stat"); local s = f:read("a"); f:close()
  local fields = {}; for w in s:gsub("^.-%) ", ""):gmatch("%S+") do fields[#fields + 1] = w end
  return tonumber(fields[8]), tonumber(fields[13]) / 100  -- minor faults, system CPU (s)
end
local n = 1000000
local r, v, d, flags, lp, ref = {}, {}, {}, {}, {}, {}
for i = 0, n - 1 do
  r[i + 1] = ((i * 7919) % 1000) / 1000 - 0.5; v[i + 1] = ((i * 104729) % 1000) / 1000
  d[i + 1] = (i % 128 == 127) and 1 or 0; flags[i + 1] = (i % 128 == 127)
  lp[i + 1] = -((i * 7919) % 1000) / 250 - 0.01; ref[i + 1] = lp[i + 1] + (((i * 104729) % 1000) / 1000 - 0.5)
end
local LP, RF = tensor(lp), tensor(ref)
local function probe(label)
  collectgarbage()
  local heap = collectgarbage("count") / 1024
  local t0 = os.clock(); collectgarbage(); local gc = os.clock() - t0
  for round = 1, 2 do
    local f0, s0 = stat(); local c0 = os.clock()
    local med, best = timeit(function() return rl.kl(LP, RF) end, {runs = 201, warmup = 2})
    local f1, s1 = stat(); local calls = 203
    print(string.format("%s (Lua heap %.0f MB, a full collection %.1f ms): best %.3f ms, median %.3f ms, CPU %.3f ms/call (system %.3f), %.0f page faults/call",
      label, heap, gc * 1e3, best * 1e3, med * 1e3, (os.clock() - c0) / calls * 1e3, (s1 - s0) / calls * 1e3, (f1 - f0) / calls))
  end
end
probe("tables alive")
r, v, d, flags, lp, ref = nil, nil, nil, nil, nil, nil
probe("tables dropped")
