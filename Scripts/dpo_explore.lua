-- Why can DPO's chosen reward fall while its accuracy rises? ("chosen and rejected rewards
-- both fall, is DPO broken?", trl#800.) The loss only sees the margin between the two
-- implicit rewards; pref.explore draws it and its gradient along the margin, and a small
-- real DPO run shows where the margin comes from.
--   moonlab run Scripts/dpo_explore.lua
-- The data: the first 300 pairs of Anthropic's hh-rlhf harmless-base test split whose final
-- assistant turns differ (Examples/data/hh-rlhf).
local here = arg and arg[0] and arg[0]:match("^(.*)/[^/]*$") or "."

-- 1. The loss along the margin m = chosen_reward - rejected_reward (beta 0.1).
local margins = tensor.linspace(-10, 10, 201)
local losses, grads, parts = pref.explore{loss = "sigmoid", beta = 0.1, margins = margins}
-- sigmoid's gradient is -sigmoid(-m): the same pull whatever the chosen reward is. Its
-- gradient on the chosen reward and on the rejected one are equal and opposite, so nothing
-- in the loss says the chosen log-probability must go up: only that the gap must grow.
for i = 1, 201, 50 do
  assert(math.abs(parts.grad_chosen[i] + parts.grad_rejected[i]) < 1e-15)
end
plot.line(margins, grads, {title = "DPO (sigmoid): d loss / d margin", xlabel = "margin", width = 60, height = 8})
-- With the chosen reward held at -0.3 and the margin varied (the rejected reward moving):
-- sigmoid's pull on the chosen reward changes with the margin, apo_zero's does not (it has a
-- term of the chosen reward alone, which pushes it up whatever the rejected one does).
local _, _, sg = pref.explore{loss = "sigmoid", beta = 0.1, margins = margins, chosen = -0.3}
local _, _, apo = pref.explore{loss = "apo_zero", beta = 0.1, margins = margins, chosen = -0.3}
print("margin  d loss / d chosen reward: sigmoid  apo_zero")
for _, i in ipairs{51, 101, 151} do
  print(("%6g  %32.4f  %8.4f"):format(margins[i], sg.grad_chosen[i], apo.grad_chosen[i]))
end
assert(math.abs(apo.grad_chosen[51] - apo.grad_chosen[151]) < 1e-15)
assert(sg.grad_chosen[51] < sg.grad_chosen[151])

-- 2. A real DPO run: a unigram language model (one logit per word, log p(text) = the sum of
-- its words' log-softmax) trained by gradient descent on the pairs' final answers with
-- pref.dpo_loss{grad = true}; the reference is the starting (uniform) model.
local pairs_ = {}
local function last_answer(dialogue)
  local i = 1
  local start
  while true do
    local s, e = dialogue:find("\n\nAssistant:", i, true)
    if not s then break end
    start, i = e + 1, e + 1
  end
  return start and dialogue:sub(start) or ""
end
for r in data.jsonl(here .. "/../Examples/data/hh-rlhf/harmless-base/test.jsonl.gz"):each() do
  local c, j = last_answer(r.chosen), last_answer(r.rejected)
  if c ~= j then pairs_[#pairs_ + 1] = {c, j} end
  if #pairs_ == 300 then break end
end
local vocab, words = {}, {}
local function counts(text)
  local t, n = {}, 0
  for w in text:lower():gmatch("%a+") do
    if not vocab[w] then words[#words + 1] = w; vocab[w] = #words end
    t[vocab[w]] = (t[vocab[w]] or 0) + 1
    n = n + 1
  end
  return {ids = t, n = n}
end
for k, p in ipairs(pairs_) do pairs_[k] = {counts(p[1]), counts(p[2])} end
local V = #words
local w = {}
for i = 1, V do w[i] = 0 end
local function logprobs()
  local m = -math.huge
  for i = 1, V do if w[i] > m then m = w[i] end end
  local s = 0
  for i = 1, V do s = s + math.exp(w[i] - m) end
  local lse, lp = m + math.log(s), {}
  for i = 1, V do lp[i] = w[i] - lse end
  return lp
end
local function seq_logprob(lp, c)
  local s = 0
  for id, k in pairs(c.ids) do s = s + k * lp[id] end
  return s
end
local ref_c, ref_r = {}, {}
local lp0 = logprobs()
for k, p in ipairs(pairs_) do ref_c[k], ref_r[k] = seq_logprob(lp0, p[1]), seq_logprob(lp0, p[2]) end

local function train(loss, steps, lr)
  for i = 1, V do w[i] = 0 end
  local history = {}
  for step = 0, steps do
    local lp = logprobs()
    local pc, pr = {}, {}
    for k, p in ipairs(pairs_) do pc[k], pr[k] = seq_logprob(lp, p[1]), seq_logprob(lp, p[2]) end
    local _, cr, rr, s, g = pref.dpo_loss{policy_chosen = pc, policy_rejected = pr, ref_chosen = ref_c,
                                          ref_rejected = ref_r, beta = 0.1, loss = loss, grad = true}
    history[#history + 1] = {step = step, loss = s.loss, accuracy = s.accuracy, chosen = cr:mean(), rejected = rr:mean()}
    if step == steps then break end
    -- chain rule through the unigram model: d log p(text) / d w_i = count_i - n * p_i
    local grad, mass = {}, 0
    for i = 1, V do grad[i] = 0 end
    for k, p in ipairs(pairs_) do
      local gc, gr = g.policy_chosen[k], g.policy_rejected[k]
      for id, n in pairs(p[1].ids) do grad[id] = grad[id] + gc * n end
      for id, n in pairs(p[2].ids) do grad[id] = grad[id] + gr * n end
      mass = mass + gc * p[1].n + gr * p[2].n
    end
    for i = 1, V do w[i] = w[i] - lr * (grad[i] - mass * math.exp(lp[i])) end
  end
  return history
end

for _, loss in ipairs{"sigmoid", "apo_zero"} do
  local h = train(loss, 40, 2.0)
  print(("\nDPO loss %q on %d pairs, %d words, 40 steps:"):format(loss, #pairs_, V))
  print("step    loss  accuracy  chosen reward  rejected reward")
  for _, e in ipairs(h) do
    if e.step % 10 == 0 then
      print(("%4d  %6.4f  %8.3f  %13.4f  %15.4f"):format(e.step, e.loss, e.accuracy, e.chosen, e.rejected))
    end
  end
  local first, last = h[1], h[#h]
  assert(last.accuracy > first.accuracy and last.loss < first.loss)
  if loss == "sigmoid" then
    -- The margin grows because the rejected answers fall faster, while the chosen ones fall too.
    assert(last.chosen < 0 and last.rejected < last.chosen, "chosen reward falls, rejected falls faster")
    print("the chosen reward FELL while accuracy rose: the margin grew because the rejected answers' words lost more")
  else
    print("apo_zero's own pull on the chosen answers does not stop their fall here: the two answers of a pair share")
    print("most of their words, and pushing the rejected answers down drags the chosen ones with them. The fall comes")
    print("from parameters the answers share, which no loss of the two log-probabilities can see.")
  end
end
