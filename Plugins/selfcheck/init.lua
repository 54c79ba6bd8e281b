-- selfcheck: SelfCheckGPT (Manakul et al. 2023) style scores of a passage against passages
-- sampled for the same prompt. A sentence the samples do not support scores high.
local S = { ngram_threshold = 5.0, consistency_threshold = 0.5 }

--- The sentences of a text: split after ., ! or ? followed by space (or the end).
-- (One find per sentence: the pattern "(.-[%.!?])%s+" under gmatch retried its lazy scan
-- from every position of a text without punctuation, quadratic time inside one C call.)
function S.sentences(text)
  local out = {}
  local t = tostring(text) .. " "
  local start = 1
  while true do
    local a, b = t:find("[%.!?]%s+", start)
    if not a then break end
    local s = t:sub(start, a):gsub("^%s+", "")
    if s ~= "" then out[#out + 1] = s end
    start = b + 1
  end
  local rest = tostring(text):match("[%.!?]%s+([^%.!?]+)$") or (#out == 0 and tostring(text) or nil)
  if rest and rest:match("%S") and not tostring(text):match("[%.!?]%s*$") then out[#out + 1] = (rest:gsub("^%s+", "")) end
  return out
end

--- detect.selfcheck_ngram on a passage's own sentences: {sentences = {...}, doc = {...}}.
function S.ngram(passage, samples, opts)
  return detect.selfcheck_ngram(S.sentences(passage), passage, samples, { n = opts and opts.n or 1 })
end

--- SelfCheck's consistency score with any similarity: for each sentence of the passage,
--- 1 - the mean over samples of its best similarity to a sentence of that sample.
--- similarity(a, b) -> number in [0, 1] (default metrics.token_f1). Returns
--- {sentences = {score, ...}, doc = mean score}.
function S.consistency(passage, samples, similarity)
  similarity = similarity or metrics.token_f1
  if #samples == 0 then error("selfcheck.consistency: no samples", 2) end
  local split = {}
  for j, sample in ipairs(samples) do split[j] = S.sentences(sample) end
  local scores, total = {}, 0
  for i, sent in ipairs(S.sentences(passage)) do
    local sum = 0
    for j = 1, #samples do
      local best = 0
      for _, t in ipairs(split[j]) do
        local v = similarity(sent, t)
        if type(v) ~= "number" then error("selfcheck.consistency: similarity returned " .. type(v) .. ", a number expected", 2) end
        if v > best then best = v end
      end
      sum = sum + best
    end
    scores[i] = 1 - sum / #samples
    total = total + scores[i]
  end
  return { sentences = scores, doc = #scores > 0 and total / #scores or 0 }
end

-- The record's samples as texts: strings, or completions in TRL's conversational format
-- (lists of {role, content} messages), read as reward.text reads them.
local function samples_of(s)
  local x = s.samples
  if type(x) ~= "table" then error("selfcheck: the record needs a samples array (passages sampled for the same prompt)", 0) end
  local texts = {}
  for i, t in ipairs(x) do texts[i] = type(t) == "table" and reward.text({ completion = t }) or t end
  return texts
end

--- Registers a consistency detector named name with a similarity function and a threshold.
function S.define_consistency(name, similarity, opts)
  local threshold = opts and opts.threshold or S.consistency_threshold
  return detect.define(name, function(s)
    local r = S.consistency(reward.text(s), samples_of(s), similarity)
    local worst, at = 0, 0
    for i, v in ipairs(r.sentences) do if v > worst then worst, at = v, i end end
    return worst > threshold, r.doc, ("sentence %d inconsistent (%.3f > %.3f)"):format(at, worst, threshold)
  end, { doc = "SelfCheck consistency with a custom similarity; score = passage mean, flagged when a sentence is above " .. threshold })
end

detect.define("selfcheck_ngram", function(s)
  local r = S.ngram(reward.text(s), samples_of(s), { n = 1 })
  local score = r.doc.avg_max_neg_logprob
  return score > S.ngram_threshold, score, ("avg max -logprob %.3f (threshold %.3f)"):format(score, S.ngram_threshold)
end, { doc = "SelfCheckGPT unigram score of s.completion against s.samples (doc avg_max_neg_logprob); flags above selfcheck.ngram_threshold (5)" })

S.define_consistency("selfcheck_consistency", nil)

selfcheck = S
return { unload = function() selfcheck = nil end }
