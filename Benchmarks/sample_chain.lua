-- The sampling chain, timed per token from Lua as a user runs it: `chain:sample` on f64
-- logits (the dtype of tensors made in Lua), with the f32 figure beside it, an identity
-- Lua stage in front of the chain, and llama.cpp's semantics.
--
-- Same logits and history as Benchmarks/moonlab-bench/SamplingBench.swift and
-- peers_sample.py: Box-Muller normals (sd 2.5) from two Weyl sequences, and 64 history ids
-- (i * 2654435761) % V. Chain: penalties{repetition = 1.1, frequency = 0.1,
-- presence = 0.1, last_n = 64}, top_k(40), top_p(0.95), min_p(0.05), temperature(0.8),
-- then chain:sample.
--
-- Run: swift build -c release --product moonlab && .build/release/moonlab run Benchmarks/sample_chain.lua
-- Prints one JSON line per case ({"area":"sample_lua","case":...,"us":...}) and a table.

local function bench_logits(v)
  local xs = {}
  for i = 0, v - 1 do
    local k = i + 1
    local u1 = (((k * 0x9E3779B97F4A7C15) >> 11) + 0.5) * 2.0 ^ -53
    local u2 = (((k * 0xD1B54A32D192ED03) >> 11) + 0.5) * 2.0 ^ -53
    -- rounded to f32 values, so the f64 and f32 rows hold the same numbers
    xs[i + 1] = 2.5 * math.sqrt(-2 * math.log(u1)) * math.cos(2 * math.pi * u2)
  end
  local history = {}
  for i = 0, 63 do history[i + 1] = (i * 2654435761) % v end
  local f32 = tensor.from(xs, {dtype = "f32"})
  return f32:to("f64"), f32, history
end

-- The chain, with `extra` inserted at position `at` (1: first; 3: after top_k).
local function chain_of(extra, semantics, at)
  local o = semantics and {semantics = semantics} or nil
  local stages = {
    sample.penalties{repetition = 1.1, frequency = 0.1, presence = 0.1, last_n = 64, semantics = semantics},
    sample.top_k(40, o), sample.top_p(0.95, o), sample.min_p(0.05, o), sample.temperature(0.8, o),
  }
  if extra then table.insert(stages, at or 1, extra) end
  return sample.chain(stages)
end

-- Microseconds per token: the fastest of many short runs, so a run preempted on a
-- shared machine does not count.
local function per_token(fn, iters)
  local _, best = timeit(function() for _ = 1, iters do fn() end end, {runs = 60, warmup = 3})
  return best / iters * 1e6
end

local rows = {}
for _, v in ipairs{32000, 128256} do
  local f64, f32, history = bench_logits(v)
  local ctx = {history = history}
  local c, g = chain_of(), random.new(0)
  local iters = v < 100000 and 100 or 40
  -- A Lua stage that returns its input: the cost of handing the logits to Lua, before
  -- the chain (a view of the caller's row, copy-on-write: no copy; builds before 12-05
  -- copied the whole row into the stage's tensor) and after top_k (only the candidates are
  -- written into it, one read-back pass). And a stage first that removes one token (its
  -- write copies the row once, as every build did).
  local id = chain_of(sample.stage("identity", function(l) return l end))
  local id_after = chain_of(sample.stage("identity", function(l) return l end), nil, 3)
  local ban = chain_of(sample.stage("ban", function(l) l[1 + 13] = -math.huge return l end))
  local ll, lg = chain_of(nil, "llama.cpp"), random.new(0, {engine = "llama.cpp"})
  -- Temperature alone (ancestral sampling, as RL rollouts use): a draw over the whole row.
  local temp_only = sample.chain{sample.temperature(0.8)}
  local cases = {
    {"chain_f64_" .. v, function() return c:sample(f64, g, ctx) end},
    {"chain_f32_" .. v, function() return c:sample(f32, g, ctx) end},
    {"chain_lua_stage_f64_" .. v, function() return id:sample(f64, g, ctx) end},
    {"chain_lua_stage_after_top_k_f64_" .. v, function() return id_after:sample(f64, g, ctx) end},
    {"chain_lua_stage_writes_f64_" .. v, function() return ban:sample(f64, g, ctx) end},
    {"chain_llama_f64_" .. v, function() return ll:sample(f64, lg, ctx) end},
    {"temperature_only_f64_" .. v, function() return temp_only:sample(f64, g) end},
  }
  for _, case in ipairs(cases) do
    local us = per_token(case[2], iters)
    print(string.format('{"area":"sample_lua","case":"%s","us":%.2f,"ms":%.5f}', case[1], us, us / 1000))
    rows[#rows + 1] = {case[1], us}
  end
end
print()
print(string.format("%-40s %12s", "case (per token, from Lua)", "us"))
for _, r in ipairs(rows) do print(string.format("%-40s %12.2f", r[1], r[2])) end
