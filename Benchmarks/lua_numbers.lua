-- Issue 11's figures, timed as a Lua user meets them: `moonlab run` + timeit, f64 tensors
-- (the default dtype) unless a case says f32, data made in Lua. Benchmarks/peers_numbers.py
-- times the same work in numpy/Python on the same data (the same integer formulas);
-- Benchmarks/lua_vs_peers.sh runs both and prints the ratios.
--
-- Run: swift build -c release --product moonlab
--      .build/release/moonlab run Benchmarks/lua_numbers.lua [AREA...]
-- Areas: dist batch rl pref text random data plot selfcheck (default: all). Prints one JSON line per
-- case: {"area":..., "case":..., "ms":...} (the fastest of the timed runs, so a run
-- preempted on a shared machine does not count; the median beside it).

local areas = {}
for _, a in ipairs(arg) do areas[a] = true end
local all = next(areas) == nil
local function wanted(a) return all or areas[a] end

local last_cpu = 0
local function emit(area, case, best, median, extra)
  local s = string.format('{"area":"%s","case":"%s","ms":%.4f,"median_ms":%.4f,"cpu_ms":%.4f', area, case,
    best * 1e3, median * 1e3, last_cpu * 1e3)
  if extra then s = s .. "," .. extra end
  print(s .. "}")
  io.stdout:flush()
end

-- Best and median wall seconds of fn(), repeated `inner` times per timed run; the mean CPU
-- seconds per call (os.clock, this process only) go to `cpu_ms`: on a machine shared with
-- other jobs the wall clock counts their time too.
local function time(fn, runs, inner)
  inner = inner or 1
  runs = runs or 15
  local c0 = os.clock()
  local median, best = timeit(function() for _ = 1, inner do fn() end end, {runs = runs, warmup = 2})
  last_cpu = (os.clock() - c0) / ((runs + 2) * inner)
  return best / inner, median / inner
end

-- Deterministic data: the same formulas as peers_numbers.py.
local function weyl(k, mult) return (((k * mult) >> 11) + 0.5) * 2.0 ^ -53 end
local function normals(n, seed)
  local xs = {}
  for i = 1, n do
    local k = i + seed
    xs[i] = math.sqrt(-2 * math.log(weyl(k, 0x9E3779B97F4A7C15))) * math.cos(2 * math.pi * weyl(k, 0xD1B54A32D192ED03))
  end
  return xs
end

if wanted("dist") then
  local v = 128256
  local a, b = normals(v, 0), normals(v, 7)
  for i = 1, v do a[i] = 2.5 * a[i]; b[i] = 2.5 * b[i] end
  local p64, q64 = tensor.from(a), tensor.from(b)
  local p32, q32 = tensor.from(a, {dtype = "f32"}), tensor.from(b, {dtype = "f32"})
  for _, c in ipairs{
    {"kl", function(p, q) return dist.kl(p, q) end},
    {"entropy", function(p) return dist.entropy(p) end},
    {"log_softmax", function(p) return dist.log_softmax(p) end},
    {"softmax", function(p) return dist.softmax(p) end},
    {"logsumexp", function(p) return dist.logsumexp(p) end},
  } do
    local b64, m64 = time(function() return c[2](p64, q64) end, 201)
    emit("dist", c[1] .. "_128k_f64", b64, m64)
    local b32, m32 = time(function() return c[2](p32, q32) end, 201)
    emit("dist", c[1] .. "_128k_f32", b32, m32, string.format('"f64_over_f32":%.2f', b64 / b32))
  end
  -- the same KL from two Lua arrays: each is read once, into an f64 tensor
  local bt, mt = time(function() return dist.kl(a, b) end, 15, 2)
  emit("dist", "kl_128k_lua_arrays", bt, mt)
end

if wanted("batch") then
  -- [4096, 32000] f32 logits (524 MB a tensor): normals with sd 2.5 from moonlab's generator
  -- (the peer draws its own: the kernels' time does not depend on the values)
  local g = random.new(11)
  local P = tensor.randn({4096, 32000}, g, {dtype = "f32"}) * 2.5
  local Q = tensor.randn({4096, 32000}, g, {dtype = "f32"}) * 2.5
  emit("batch", "log_softmax_4096x32000_f32", time(function() return dist.log_softmax(P) end, 5))
  emit("batch", "entropy_4096x32000_f32", time(function() return dist.entropy(P) end, 5))
  emit("batch", "kl_4096x32000_f32", time(function() return dist.kl(P, Q) end, 5))
  P, Q = nil, nil
  collectgarbage()
end

if wanted("rl") then
  local n = 1000000
  local r, v, d, flags = {}, {}, {}, {}
  for i = 0, n - 1 do
    r[i + 1] = ((i * 7919) % 1000) / 1000 - 0.5
    v[i + 1] = ((i * 104729) % 1000) / 1000
    d[i + 1] = (i % 128 == 127) and 1 or 0
    flags[i + 1] = (i % 128 == 127)
  end
  local R, V, D = tensor(r), tensor(v), tensor(d)
  local o = {gamma = 0.99, lambda = 0.95}
  emit("rl", "gae_1e6_tensor_dones", time(function() o.dones = D; return rl.gae(R, V, o) end, 31))
  emit("rl", "gae_1e6_bool_array_dones", time(function() o.dones = flags; return rl.gae(R, V, o) end, 15))
  emit("rl", "gae_1e6_lua_arrays", time(function() o.dones = flags; return rl.gae(r, v, o) end, 9))
  emit("rl", "returns_1e6_nodones", time(function() return rl.returns(R, {gamma = 0.99}) end, 31))
  local lp, ref = {}, {}
  for i = 0, n - 1 do
    lp[i + 1] = -((i * 7919) % 1000) / 250 - 0.01
    ref[i + 1] = lp[i + 1] + (((i * 104729) % 1000) / 1000 - 0.5)
  end
  local LP, RF = tensor(lp), tensor(ref)
  emit("rl", "kl_k3_1e6", time(function() return rl.kl(LP, RF, {estimator = "k3"}) end, 31))
  emit("rl", "kl_k1_1e6", time(function() return rl.kl(LP, RF) end, 31))
  emit("rl", "whiten_1e6", time(function() return rl.whiten(R) end, 31))
  emit("rl", "group_advantages_1e6_g16", time(function() return rl.group_advantages(R, 16) end, 31))
  emit("rl", "group_advantages_1e6_g16_rloo", time(function() return rl.group_advantages(R, 16, {method = "rloo"}) end, 31))
end

-- Texts: 20,000 completions of 40-80 words drawn from a 5,000-word vocabulary (Zipf-like,
-- by an integer formula), words separated by single spaces.
local function make_texts(count, seed)
  local out = {}
  for t = 1, count do
    local k = t * 2654435761 + seed
    local len = 40 + (k >> 7) % 41
    local words = {}
    for w = 1, len do
      local h = ((t * 1000003 + w * 7919 + seed) * 0x9E3779B97F4A7C15) >> 40
      local id = math.floor(5000 * ((h % 100000) / 100000) ^ 3)
      words[w] = "w" .. id
    end
    out[t] = table.concat(words, " ")
  end
  return out
end

if wanted("text") then
  local texts = make_texts(20000, 0)
  emit("text", "distinct_2_20k_texts", time(function() return metrics.distinct_n(texts, 2) end, 9))
  emit("text", "repetition_3_20k_calls", time(function()
    for i = 1, #texts do detect.repetition(texts[i]) end
  end, 9))
  local rep = reward.get("repetition")
  local recs = {}
  for i = 1, #texts do recs[i] = {completion = texts[i]} end
  emit("text", "repetition_reward_20k_calls", time(function()
    for i = 1, #recs do rep(recs[i]) end
  end, 9))
  local other = make_texts(20000, 99)
  emit("text", "token_f1_20k_pairs", time(function()
    for i = 1, #texts do metrics.token_f1(texts[i], other[i]) end
  end, 9))
  local short = {}
  for i = 1, 20000 do short[i] = "The " .. texts[i]:sub(1, 30) .. "!" end
  emit("text", "token_f1_20k_short_pairs", time(function()
    for i = 1, #short do metrics.token_f1(short[i], other[i]:sub(1, 40)) end
  end, 9))
end

if wanted("pref") then
  -- the data of Benchmarks/peers_rl.py: summed log-probabilities of 1,000,000 pairs
  local n = 1000000
  local pc, pr, rc, rr = {}, {}, {}, {}
  for i = 0, n - 1 do
    pc[i + 1] = -50 - ((i * 31) % 1000) / 20
    pr[i + 1] = -55 - ((i * 17) % 1000) / 20
    rc[i + 1] = pc[i + 1] + ((i * 13) % 100) / 50 - 1
    rr[i + 1] = pr[i + 1] + ((i * 7) % 100) / 50 - 1
  end
  local o = {policy_chosen = tensor(pc), policy_rejected = tensor(pr), ref_chosen = tensor(rc), ref_rejected = tensor(rr)}
  emit("pref", "dpo_sigmoid_1e6", time(function() return pref.dpo_loss(o) end, 15))
  local ns, cs = {}, {}
  for i = 0, 99999 do ns[i + 1] = 200; cs[i + 1] = (i * 37) % 201 end
  local N, C = tensor(ns), tensor(cs)
  emit("pref", "pass_at_k_1e5", time(function() return metrics.pass_at_k(N, C, 10) end, 15))
end

if wanted("random") then
  local g = random.new(42)
  local n = 10000000
  emit("random", "uniform_1e7_calls", time(function()
    local s = 0
    for _ = 1, n do s = s + g:uniform() end
    return s
  end, 5))
end

if wanted("data") then
  local path = os.getenv("MOONLAB_BENCH_CSV") or "/tmp/moonlab_bench.csv"
  local f = io.open(path, "rb")
  if f then
    local size = f:seek("end")
    f:close()
    local bb, mb = time(function() local n = 0; for _ in data.csv(path):each() do n = n + 1 end; return n end, 5)
    emit("data", "csv_each", bb, mb, string.format('"mb_per_s":%.1f', size / 1e6 / bb))
  else
    print('{"area":"data","skipped":"no ' .. path .. ' (python3 Benchmarks/peers_numbers.py data writes it)"}')
  end
end

if wanted("plot") then
  local n = 1000000
  local y = {}
  for i = 1, n do y[i] = math.sin(i / 5000) + ((i * 7919) % 1000) / 4000 end
  local Y = tensor(y)
  local path = os.tmpname() .. ".svg"
  local bp, mp = time(function() plot.line(Y, {svg = path, print = false}) end, 5)
  local f = io.open(path, "rb")
  local size = f:seek("end")
  f:close()
  os.remove(path)
  emit("plot", "line_1e6_svg", bp, mp, string.format('"svg_bytes":%d', size))
end

if wanted("selfcheck") then
  -- 20 samples and a passage of prose-like sentences (~85,000 spaCy tokens in all)
  local function passage(seed, sentences)
    local out = {}
    for s = 1, sentences do
      local words = {}
      local len = 12 + (s * 7 + seed) % 15
      for w = 1, len do
        local h = ((s * 1000003 + w * 7919 + seed * 31) * 0x9E3779B97F4A7C15) >> 40
        local word = "w" .. math.floor(3000 * ((h % 100000) / 100000) ^ 3)
        if w == 1 then word = word:upper() end
        if h % 11 == 0 then word = word .. "," end
        words[w] = word
      end
      out[s] = table.concat(words, " ") .. ((s % 9 == 0) and "?" or ".")
    end
    return table.concat(out, " ")
  end
  local samples = {}
  for k = 1, 20 do samples[k] = passage(k, 200) end
  local main = passage(0, 200)
  local sents = {}
  for s in main:gmatch("[^.?]+[.?]") do sents[#sents + 1] = s:gsub("^ ", "") end
  emit("selfcheck", "selfcheck_ngram_n1_20_samples", time(function() return detect.selfcheck_ngram(sents, main, samples) end, 7))
  emit("selfcheck", "selfcheck_ngram_n3_20_samples", time(function() return detect.selfcheck_ngram(sents, main, samples, {n = 3}) end, 7))
end
