-- ngram-diversity: how different the completions of one prompt are from each other.
local D = { n = 2 }

-- Words as Python's str.split() makes them (the tokenizer of metrics.distinct_n and
-- self_bleu): besides Lua's %s (\t \n \v \f \r and space), U+001C..U+001F and the
-- Unicode spaces U+0085, U+00A0, U+1680, U+2000..U+200A, U+2028, U+2029, U+202F,
-- U+205F and U+3000 (in UTF-8) separate words.
local function words_of(text)
  local t = tostring(text):gsub("[\28-\31]", " "):gsub("\194[\133\160]", " "):gsub("\225\154\128", " ")
    :gsub("\226\128[\128-\138\168\169\175]", " "):gsub("\226\129\159", " "):gsub("\227\128\128", " ")
  return t
end

local function ngrams(text, n)
  local words = {}
  for w in words_of(text):lower():gmatch("%S+") do words[#words + 1] = w end
  local out = {}
  for i = 1, #words - n + 1 do out[#out + 1] = table.concat(words, " ", i, i + n - 1) end
  return out
end

--- The share of a text's n-grams that no other text of its group has (1 for a text
--- with nothing in common with the others; 0 for a copy; 0 for fewer than n words).
function D.novelty(text, others, n)
  n = n or D.n
  local seen = {}
  for _, o in ipairs(others) do for _, g in ipairs(ngrams(o, n)) do seen[g] = true end end
  local mine = ngrams(text, n)
  if #mine == 0 then return 0 end
  local new = 0
  for _, g in ipairs(mine) do if not seen[g] then new = new + 1 end end
  return new / #mine
end

--- Diversity of one group of completions: {distinct_n, self_bleu, diversity = 1 - self_bleu, size}.
function D.group(texts, opts)
  opts = opts or {}
  local n = opts.n or D.n
  local sb = #texts > 1 and metrics.self_bleu(texts, { n = opts.bleu_n or 4 }) or 0
  return { distinct_n = metrics.distinct_n(texts, n), self_bleu = sb, diversity = 1 - sb, size = #texts }
end

--- Groups records by a field (default "prompt") and measures each group: returns
--- prompt -> D.group(...) and the means {distinct_n, self_bleu} over groups.
function D.by_prompt(records, opts)
  opts = opts or {}
  local field, text_field = opts.field or "prompt", opts.text or "completion"
  local groups, order = {}, {}
  local each = type(records) == "table" and ipairs(records) or nil
  local function add(r)
    local k = tostring(r[field])
    if not groups[k] then groups[k] = {}; order[#order + 1] = k end
    groups[k][#groups[k] + 1] = r[text_field]
  end
  if each then for _, r in ipairs(records) do add(r) end else for r in records:each() do add(r) end end
  local out, sd, sb = {}, 0, 0
  for _, k in ipairs(order) do
    out[k] = D.group(groups[k], opts)
    sd, sb = sd + out[k].distinct_n, sb + out[k].self_bleu
  end
  local mean = { distinct_n = #order > 0 and sd / #order or 0, self_bleu = #order > 0 and sb / #order or 0, groups = #order }
  return out, mean
end

-- The texts of s.group: strings, or completions in TRL's conversational format (lists of
-- {role, content} messages), read as reward.text reads them.
local function group_of(s)
  if type(s.group) ~= "table" then
    error("ngram-diversity: the sample needs a group field: the completions of the same prompt (this one included)", 0)
  end
  local texts = {}
  for i, t in ipairs(s.group) do
    texts[i] = type(t) == "table" and reward.text({ completion = t }) or t
  end
  return texts
end

reward.define("ngram_novelty", function(s)
  local mine = reward.text(s)
  local others, skipped = {}, false
  for _, t in ipairs(group_of(s)) do
    if t == mine and not skipped then skipped = true else others[#others + 1] = t end
  end
  return D.novelty(mine, others, D.n)
end, { doc = "share of s.completion's bigrams that no other completion of s.group has: a per-sample diversity bonus for GRPO-style groups" })

reward.define("group_distinct_n", function(s)
  return metrics.distinct_n(group_of(s), D.n)
end, { doc = "distinct-2 of s.group (the same for every member of a group)" })

ngram_diversity = D
return { unload = function() ngram_diversity = nil end }
