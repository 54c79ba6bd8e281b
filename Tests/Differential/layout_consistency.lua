-- Layout consistency: every function that takes vectors gives bit-identical answers for a
-- contiguous tensor, a non-contiguous view holding the same values (transposed, reversed,
-- stepped, expanded) and a Lua array. No peer needed: the contiguous call is the reference
-- (its numbers are checked against numpy/torch/TRL by the acceptance harnesses).
--   .build/debug/moonlab run Tests/Differential/layout_consistency.lua [seed]
local seed = tonumber((arg and arg[1]) or "1")
local rng = random.new(seed)

local function ser(v, out)
  local tv = type(v)
  if tv == "number" then
    if v ~= v then out[#out + 1] = "nan"
    elseif math.type(v) == "integer" then out[#out + 1] = "i" .. v
    else out[#out + 1] = string.format("%a", v) end
  elseif tv == "boolean" or tv == "nil" or tv == "string" then out[#out + 1] = tostring(v)
  elseif tv == "userdata" and getmetatable(v) and getmetatable(v).__name == "tensor" then
    out[#out + 1] = "T" .. v:dtype() .. "(" .. table.concat(v:shape(), ",") .. ")"
    if v:numel() > 0 then ser(v:flatten():totable(), out) end
  elseif tv == "table" then
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    out[#out + 1] = "{"
    for _, k in ipairs(keys) do out[#out + 1] = tostring(k) .. "="; ser(v[k], out) end
    out[#out + 1] = "}"
  else out[#out + 1] = tv end
  return out
end
local function S(...) local t = table.pack(...); local o = {}; for i = 1, t.n do ser(t[i], o) end; return table.concat(o, " ") end

-- views with the values of t
local function rev(t)
  if t:shape()[1] == 0 then return t end
  return t[{{-1, 1, -1}}]:contiguous()[{{-1, 1, -1}}]
end
local function step(t)
  local sh = t:shape()
  local nd = #sh
  local big = {}
  for i = 1, nd do big[i] = sh[i] end
  big[nd] = 2 * sh[nd]
  local base = tensor.zeros(big, {dtype = t:dtype()})
  local key = {}
  for i = 1, nd - 1 do key[i] = {} end
  key[nd] = {1, -1, 2}
  if sh[nd] == 0 then return t end
  base[key] = t
  return base[key]
end
local function trans(t)
  if #t:shape() == 1 then return step(rev(t)) end
  local nd = #t:shape()
  return t:transpose(1, nd):contiguous():transpose(1, nd)
end
local function expand(t)
  -- a size-1 leading axis expanded to 1 then indexed: a stride-0 view when the first axis is 1
  local sh = t:shape()
  if sh[1] ~= 1 then return trans(t) end
  local big = {}
  for i = 1, #sh do big[i] = sh[i] end
  big[1] = 3
  return t:expand(big)[{{2, 2}}]
end
local VIEWS = {rev = rev, step = step, trans = trans, expand = expand}

local function randn(shape, scale) return tensor.randn(shape, rng) * (scale or 1) end
local function negs(shape) return -(tensor.rand(shape, rng) * 3 + 0.01) end

local n_ok, n_bad, n_err = 0, 0, 0
local function check(name, f, args, wrap)
  -- args: list of values; every tensor among them is replaced by each view in turn
  local okr, ref = pcall(function() return S(f(table.unpack(args))) end)
  if not okr then
    n_err = n_err + 1
    print("ERROR   " .. name .. " (contiguous): " .. tostring(ref))
    return
  end
  for vname, vf in pairs(VIEWS) do
    local a2 = {}
    for i, a in ipairs(args) do
      if type(a) == "userdata" then a2[i] = vf(a)
      elseif type(a) == "table" and wrap then
        local t2 = {}
        for k, v in pairs(a) do t2[k] = (type(v) == "userdata") and vf(v) or v end
        a2[i] = t2
      else a2[i] = a end
    end
    local ok, got = pcall(function() return S(f(table.unpack(a2))) end)
    if not ok then
      n_err = n_err + 1
      print("ERROR   " .. name .. " [" .. vname .. "]: " .. tostring(got))
    elseif got ~= ref then
      n_bad = n_bad + 1
      print("DIFFER  " .. name .. " [" .. vname .. "]\n   contiguous " .. ref:sub(1, 300) .. "\n   view       " .. got:sub(1, 300))
    else
      n_ok = n_ok + 1
    end
  end
end

for _, shape in ipairs{{7}, {3, 6}, {1, 5}, {2, 3, 4}} do
  local x, y = randn(shape, 2), randn(shape, 2)
  local p = dist.softmax(x)
  local tag = "(" .. table.concat(shape, ",") .. ")"
  for _, fn in ipairs{"softmax", "log_softmax", "logsumexp", "entropy", "argmax"} do
    check("dist." .. fn .. tag, dist[fn], {x})
    check("dist." .. fn .. tag .. " T=0.7", dist[fn], {x, {temperature = 0.7}})
    check("dist." .. fn .. tag .. " probs", dist[fn], {p, {probs = true}})
    check("dist." .. fn .. tag .. " f32", dist[fn], {x:to("f32")})
  end
  for _, fn in ipairs{"kl", "js", "tv"} do
    check("dist." .. fn .. tag, dist[fn], {x, y})
    check("dist." .. fn .. tag .. " probs", dist[fn], {p, dist.softmax(y), {probs = true}})
    check("dist." .. fn .. tag .. " f32", dist[fn], {x:to("f32"), y:to("f32")})
  end
  check("dist.topk" .. tag, dist.topk, {x, 2})
  check("dist.topk" .. tag .. " f32", dist.topk, {x:to("f32"), 3})
  local ids
  if #shape == 1 then ids = 3 else ids = (tensor.rand({table.unpack(shape, 1, #shape - 1)}, rng) * shape[#shape]):floor():to("i64") end
  check("dist.cross_entropy" .. tag, dist.cross_entropy, {x, ids})
end

for _, n in ipairs{1, 2, 9, 33} do
  local r, v = randn({n}), randn({n})
  local d = tensor.rand({n}, rng):gt(0.7)
  check("rl.returns " .. n, rl.returns, {r, {gamma = 0.9}})
  check("rl.returns dones " .. n, rl.returns, {r, {gamma = 0.9, dones = d}}, true)
  check("rl.gae " .. n, rl.gae, {r, v, {gamma = 0.99, lambda = 0.9}})
  check("rl.gae dones " .. n, rl.gae, {r, v, {gamma = 0.99, lambda = 0.9, dones = d, last_value = 0.5}}, true)
  check("rl.whiten " .. n, rl.whiten, {r})
  check("rl.whiten noshift " .. n, rl.whiten, {r, {shift_mean = false}})
  local lp, olp = negs({n}), negs({n})
  for _, est in ipairs{"k1", "k2", "k3"} do
    check("rl.kl " .. est .. " " .. n, rl.kl, {lp, olp, {estimator = est}})
  end
  check("rl.ppo_loss " .. n, function(t) return rl.ppo_loss(t) end, {{logp = lp, old_logp = olp, advantages = r}}, true)
  check("rl.value_loss " .. n, function(t) return rl.value_loss(t) end, {{values = v, old_values = r, returns = lp}}, true)
  check("pref.bt_loss " .. n, pref.bt_loss, {r, v})
  check("pref.dpo_loss " .. n, function(t) return pref.dpo_loss(t) end,
    {{policy_chosen = lp, policy_rejected = olp, ref_chosen = negs({n}), ref_rejected = negs({n})}}, true)
  for _, loss in ipairs{"ipo", "hinge", "robust", "aot", "sigmoid_norm", "apo_zero", "exo_pair", "discopop"} do
    check("pref.dpo_loss " .. loss .. " " .. n, function(t) return pref.dpo_loss(t) end,
      {{policy_chosen = lp, policy_rejected = olp, ref_chosen = negs({n}), ref_rejected = negs({n}), loss = loss,
        label_smoothing = 0.1, chosen_len = (tensor.rand({n}, rng) * 9 + 1):floor(), rejected_len = (tensor.rand({n}, rng) * 9 + 1):floor()}}, true)
  end
  check("pref.simpo_loss " .. n, function(t) return pref.simpo_loss(t) end, {{policy_chosen = lp, policy_rejected = olp}}, true)
  check("pref.orpo_loss " .. n, function(t) return pref.orpo_loss(t) end, {{policy_chosen = lp, policy_rejected = olp}}, true)
  check("pref.kto_loss " .. n, function(t) return pref.kto_loss(t) end,
    {{policy_chosen = lp, ref_chosen = olp, policy_rejected = negs({n}), ref_rejected = negs({n}), kl_policy = negs({n}), kl_ref = negs({n})}}, true)
  local conf = tensor.rand({n}, rng)
  local corr = tensor.rand({n}, rng):gt(0.5)
  check("metrics.ece " .. n, metrics.ece, {conf, corr})
  check("metrics.brier " .. n, metrics.brier, {conf, corr})
  if n > 1 then
    check("metrics.auroc " .. n, metrics.auroc, {conf, corr})
    check("metrics.auprc " .. n, metrics.auprc, {conf, corr})
  end
  for _, m in ipairs{"zscore", "rank", "minmax"} do check("reward.normalize " .. m .. " " .. n, reward.normalize, {r, m}) end
end
for _, g in ipairs{1, 2, 4} do
  local r = randn({12})
  for _, m in ipairs{"grpo", "rloo", "dr_grpo"} do
    for _, sc in ipairs{"group", "batch", "none"} do
      check("rl.group_advantages " .. m .. " " .. sc .. " g" .. g, rl.group_advantages, {r, g, {method = m, scale = sc}})
    end
  end
end
local sc, lp2, rl2 = randn({3}), negs({3, 5}), negs({3, 5})
check("rl.kl_penalty 2d", rl.kl_penalty, {sc, lp2, rl2, {beta = 0.2}})
check("rl.kl 2d", rl.kl, {lp2, rl2, {estimator = "k3"}})
check("pref.listwise_loss", pref.listwise_loss, {randn({4, 5}), tensor.from({1, 5, 2, 3}, {dtype = "i64"})})
-- samplers
local lg = randn({50}, 2)
for _, st in ipairs{{"top_k", 5}, {"top_p", 0.8}, {"min_p", 0.1}, {"typical", 0.7}, {"epsilon", 0.02}, {"eta", 0.02},
                    {"top_n_sigma", 1}, {"temperature", 0.7}} do
  local ch = sample.chain{sample[st[1]](st[2])}
  check("sample." .. st[1] .. " apply", function(x) return ch:apply(x) end, {lg})
  check("sample." .. st[1] .. " probs", function(x) return ch:probs(x) end, {lg})
  check("sample." .. st[1] .. " sample", function(x) return ch:sample(x, random.new(3)) end, {lg})
  local chl = sample.chain{sample[st[1]](st[2], {semantics = "llama.cpp"})}
  if st[1] ~= "eta" then
    check("sample." .. st[1] .. " llama.cpp apply", function(x) return chl:apply(x) end, {lg})
  end
end
local chp = sample.chain{sample.penalties{repetition = 1.3, frequency = 0.2, presence = 0.1}}
check("sample.penalties apply", function(x) return chp:apply(x, {history = {1, 2, 2, 7}}) end, {lg})
-- tensor ops not in a harness's view list
local m = randn({4, 6})
check("tensor.where", function(c, a, b) return tensor.where(c, a, b) end, {m:gt(0), m, randn({4, 6})})
check("tensor.cat", function(a, b) return tensor.cat({a, b}, {axis = 2}) end, {m, randn({4, 3})})
check("tensor.stack", function(a, b) return tensor.stack({a, b}) end, {m, randn({4, 6})})
check("gather", function(a, i) return a:gather(2, i) end, {m, (tensor.rand({4, 3}, rng) * 6 + 1):floor():to("i64")})
check("index", function(a, i) return a:index(2, i) end, {m, tensor.from({6, 1, 3}, {dtype = "i64"})})
check("mask", function(a, k) return a[k] end, {m, m:gt(0.3)})
check("map", function(a) return a:map(function(v) return v * 2 + 1 end) end, {m})
check("totable", function(a) return a:totable() end, {m})
check("ipairs", function(a) local s = {} for i, r in ipairs(a) do s[i] = r:sum() end return s end, {m})
check("tostring", function(a) return tostring(a) end, {m})
check("equal", function(a, b) return a:equal(b) end, {m, m:clone()})
check("round2", function(a) return a:round(2) end, {m})
check("clamp", function(a) return a:clamp(-0.5, 0.5) end, {m})
check("topk2", function(a) return a:topk(3, {axis = 1}) end, {m})
check("matmul", function(a, b) return tensor.matmul(a, b) end, {m, randn({6, 2})})
check("save-load", function(a) tensor.save(os.tmpname() .. ".npy", a); return true end, {m})
check("reshape", function(a) return a:reshape{-1} end, {m})
check("flatten2", function(a) return a:flatten(2) end, {randn({2, 3, 4})})
print(string.format("layout consistency (seed %d): %d ok, %d differ, %d errors", seed, n_ok, n_bad, n_err))
