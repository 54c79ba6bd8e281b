-- rl.gae over 1e6 steps with each kind of dones, and the Lua-array reads that feed it, as
-- a user times them (`timeit`: min and median wall; `os.clock`: process CPU, both threads).
-- The same data formulas as lua_numbers.lua's rl area (a done every 128 steps).
--
-- Run: swift build -c release --product moonlab && .build/release/moonlab run Benchmarks/gae_dones.lua
local n = 1000000
local r, v, d, flags = {}, {}, {}, {}
for i = 0, n - 1 do
  r[i + 1] = ((i * 7919) % 1000) / 1000 - 0.5
  v[i + 1] = ((i * 104729) % 1000) / 1000
  d[i + 1] = (i % 128 == 127) and 1 or 0
  flags[i + 1] = (i % 128 == 127)
end
local R, V, D, Z = tensor(r), tensor(v), tensor(d), tensor.zeros{n}
local o = {gamma = 0.99, lambda = 0.95}
-- a PPO batch: 512 rollouts of 2,048 steps (the same formulas), a done every 128 steps
local nb = 512 * 2048
local RB = tensor.arange(0, nb):map(function(i) return ((i * 7919) % 1000) / 1000 - 0.5 end):reshape{512, 2048}
local VB = tensor.arange(0, nb):map(function(i) return ((i * 104729) % 1000) / 1000 end):reshape{512, 2048}
local DB = tensor.arange(0, nb):map(function(i) return (i % 128 == 127) and 1 or 0 end):reshape{512, 2048}
local ob = {gamma = 0.99, lambda = 0.95, last_value = tensor.zeros{512}}

local function cpu_best(fn, k)
  local best = math.huge
  for _ = 1, k do
    local c0 = os.clock(); fn(); best = math.min(best, os.clock() - c0)
  end
  return best * 1e3
end

local cases = {
  {"gae 0/1 tensor dones", function() o.dones = D; return rl.gae(R, V, o) end},
  {"gae all-zero tensor dones", function() o.dones = Z; return rl.gae(R, V, o) end},
  {"gae no dones", function() o.dones = nil; return rl.gae(R, V, o) end},
  {"gae Lua array of booleans", function() o.dones = flags; return rl.gae(R, V, o) end},
  {"gae [512, 2048] no dones", function() ob.dones = nil; return rl.gae(RB, VB, ob) end},
  {"gae [512, 2048] 0/1 dones", function() ob.dones = DB; return rl.gae(RB, VB, ob) end},
  {"tensor(1e6 Lua numbers)", function() return tensor(r) end},
  {"tensor(1e6 Lua booleans)", function() return tensor(flags) end},
}
print(string.format("%-28s %9s %9s %9s", "case", "min ms", "median ms", "CPU ms"))
for _, c in ipairs(cases) do
  local median, min = timeit(c[2], {runs = 31, warmup = 3})
  print(string.format("%-28s %9.3f %9.3f %9.3f", c[1], min * 1e3, median * 1e3, cpu_best(c[2], 21)))
end
