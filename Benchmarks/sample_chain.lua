-- The sampling chain of issue 4, timed per token from Lua, so that the cost of crossing
-- from Lua into Swift (argument checks, reading ctx.history, the tensor lookup) shows
-- beside the native figure of `moonlab-bench sample` (Benchmarks/moonlab-bench/SamplingBench.swift).
--
-- Same logits and history as SamplingBench.swift and peers_sample.py: Box-Muller normals
-- (sd 2.5) from two Weyl sequences, as f32, and 64 history ids (i * 2654435761) % V.
-- Chain: penalties{repetition = 1.1, frequency = 0.1, presence = 0.1, last_n = 64},
-- top_k(40), top_p(0.95), min_p(0.05), temperature(0.8), then chain:sample.
--
-- Run: swift build -c release --product moonlab && .build/release/moonlab run Benchmarks/sample_chain.lua
-- Prints one JSON line per case ({"area":"sample_lua","case":...,"us":...}) and a table.

local function bench_logits(v)
  local xs = {}
  for i = 0, v - 1 do
    local k = i + 1
    local u1 = (((k * 0x9E3779B97F4A7C15) >> 11) + 0.5) * 2.0 ^ -53
    local u2 = (((k * 0xD1B54A32D192ED03) >> 11) + 0.5) * 2.0 ^ -53
    xs[i + 1] = 2.5 * math.sqrt(-2 * math.log(u1)) * math.cos(2 * math.pi * u2)
  end
  local history = {}
  for i = 0, 63 do history[i + 1] = (i * 2654435761) % v end
  return tensor.from(xs, {dtype = "f32"}), history
end

local function chain_of(extra)
  local stages = {
    sample.penalties{repetition = 1.1, frequency = 0.1, presence = 0.1, last_n = 64},
    sample.top_k(40), sample.top_p(0.95), sample.min_p(0.05), sample.temperature(0.8),
  }
  if extra then table.insert(stages, 1, extra) end
  return sample.chain(stages)
end

-- Microseconds per token: the fastest of many short runs (as the native bench does), so
-- a run preempted on a shared machine does not count.
local function per_token(fn, iters)
  local _, best = timeit(function() for _ = 1, iters do fn() end end, {runs = 60, warmup = 3})
  return best / iters * 1e6
end

local rows = {}
for _, v in ipairs{32000, 128256} do
  local logits, history = bench_logits(v)
  local ctx = {history = history}
  local c, g = chain_of(), random.new(0)
  local iters = v < 100000 and 100 or 40
  local cases = {{"chain_" .. v, function() return c:sample(logits, g, ctx) end}}
  -- A chain with one Lua stage that returns its input: the cost of handing the whole
  -- vocabulary to Lua and back (one copy in, one read back).
  local id = chain_of(sample.stage("identity", function(l) return l end))
  cases[#cases + 1] = {"chain_lua_stage_" .. v, function() return id:sample(logits, g, ctx) end}
  for _, case in ipairs(cases) do
    local us = per_token(case[2], iters)
    print(string.format('{"area":"sample_lua","case":"%s","us":%.2f,"ms":%.5f}', case[1], us, us / 1000))
    rows[#rows + 1] = {case[1], us}
  end
end
print()
print(string.format("%-28s %12s", "case (per token, from Lua)", "us"))
for _, r in ipairs(rows) do print(string.format("%-28s %12.2f", r[1], r[2])) end
