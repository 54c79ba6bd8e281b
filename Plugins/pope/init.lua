-- pope: object-hallucination evaluation (Li et al. 2023, RUCAIBox/POPE) of yes/no answers.
local P = {}

--- "yes" or "no" as POPE's evaluate.py reads an answer: the text before the first ".",
--- commas deleted, split on spaces; "no" if a word is exactly No, not or no.
function P.parse(answer)
  local t = tostring(answer or "")
  t = t:match("^[^.]*") or t
  t = t:gsub(",", "")
  for w in t:gmatch("[^ ]+") do
    if w == "No" or w == "not" or w == "no" then return "no" end
  end
  return "yes"
end

-- The model's answer: a POPE answer file's answer, text or response field, else the
-- completion of a reward record (a string or TRL's conversational messages, read as
-- reward.text reads them), so pope_correct scores what a trainer generated.
local function answer_of(r)
  local a = r.answer
  if a == nil then a = r.text end
  if a == nil then a = r.response end
  if a == nil and r.completion ~= nil then a = reward.text(r) end
  return a
end

--- Reads a POPE answer file (JSON Lines, each with answer, text or response) and a label
--- file (JSON Lines with label); returns detect.pope's metrics for them, in file order.
function P.evaluate(answers_path, labels_path)
  local answers, labels = {}, {}
  for r in data.jsonl(answers_path):each() do answers[#answers + 1] = tostring(answer_of(r) or "") end
  for r in data.jsonl(labels_path):each() do labels[#labels + 1] = r.label end
  if #answers ~= #labels then
    error(("pope.evaluate: %s has %d answers, %s has %d labels"):format(answers_path, #answers, labels_path, #labels), 2)
  end
  return detect.pope(answers, labels)
end

--- Metrics for each split: splits = {random = {answers =, labels =}, popular = ..., ...};
--- returns split -> metrics, and prints a table when print_table is not false.
function P.by_split(splits, opts)
  opts = opts or {}
  local names, out = {}, {}
  for name in pairs(splits) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do out[name] = P.evaluate(splits[name].answers, splits[name].labels) end
  if opts.print ~= false then print(P.format(out)) end
  return out
end

--- The splits of a POPE label folder (files like coco_pope_random.json) matched with the
--- answer files of answers_dir named <split>.json / <split>.jsonl or <dataset>_pope_<split>_answers.json.
function P.splits(labels_dir, answers_dir, names)
  names = names or { "random", "popular", "adversarial" }
  local out = {}
  for _, split in ipairs(names) do
    for _, ds in ipairs({ "coco", "aokvqa", "gqa" }) do
      local labels = labels_dir .. "/" .. ds .. "_pope_" .. split .. ".json"
      local candidates = { answers_dir .. "/" .. split .. ".json", answers_dir .. "/" .. split .. ".jsonl",
        answers_dir .. "/" .. ds .. "_pope_" .. split .. "_answers.json" }
      for _, a in ipairs(candidates) do
        local ok = pcall(function() return data.jsonl(a):take(1):count() end)
        local okl = pcall(function() return data.jsonl(labels):take(1):count() end)
        if ok and okl then out[split] = { answers = a, labels = labels } break end
      end
    end
  end
  return out
end

--- A table of metrics by split as text.
function P.format(by)
  local lines = { ("%-12s %8s %9s %7s %7s %9s %6s"):format("split", "accuracy", "precision", "recall", "f1", "yes_ratio", "n") }
  local names = {}
  for k in pairs(by) do names[#names + 1] = k end
  table.sort(names)
  for _, k in ipairs(names) do
    local m = by[k]
    lines[#lines + 1] = ("%-12s %8.4f %9.4f %7.4f %7.4f %9.4f %6d"):format(k, m.accuracy, m.precision, m.recall, m.f1,
      m.yes_ratio, m.tp + m.fp + m.tn + m.fn)
  end
  return table.concat(lines, "\n")
end

reward.define("pope_correct", function(s)
  return P.parse(answer_of(s)) == tostring(s.label) and 1 or 0
end, { doc = "1 when a yes/no answer (s.answer, s.text or s.response, else s.completion, plain or conversational; parsed as POPE does) matches s.label" })

detect.define("pope_hallucination", function(s)
  local said = P.parse(answer_of(s))
  if said == "yes" and s.label == "no" then
    return true, 1, "says the object is there" .. (s.text and (": " .. tostring(s.text)) or "")
  end
  return false, 0
end, { doc = "flags an answer of yes about an object that is not in the image (label no): an object hallucination" })

pope = P
return { unload = function() pope = nil end }
