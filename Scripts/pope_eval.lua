-- POPE: object-hallucination metrics of a file of yes/no answers, by split.
--   moonlab run Scripts/pope_eval.lua
-- Questions: POPE's real COCO files (3,000 each, in Examples/data/POPE/coco). POPE ships
-- no model answers, so the answers come from a fixed rule that imitates a model leaning
-- on object priors: it answers right, except that it says yes to every frequent object
-- (person, car, chair, dining table, cup, bottle) and misses every 7th object that is
-- there. The answers go to a file in POPE's answer format ({"question", "answer"} per
-- line, the question file's order), then that file is evaluated as POPE's evaluate.py
-- does, with detect.pope.
-- The data ships in the repository (Examples/data, with SOURCES.md), found from this file.
local function example_data()
  local here = arg and arg[0] and arg[0]:match("^(.*)/[^/]*$") or "."
  local dir = here .. "/../Examples/data"
  local f = io.open(dir .. "/SOURCES.md")
  if not f then error("example data not found at " .. dir .. " (run the recipe from a moonlab checkout)", 0) end
  f:close()
  return dir
end
local dir = example_data() .. "/POPE/coco/"

local frequent = {person = true, car = true, chair = true, ["dining table"] = true, cup = true, bottle = true}

local function answer(q)
  local object = q.text:match("^Is there an? (.-) in the image%?$")
  assert(object, "unexpected question: " .. q.text)
  if q.label == "yes" then
    if q.question_id % 7 == 0 then return ("No, I don't see a %s."):format(object) end
    return ("Yes, there is a %s in the image."):format(object)
  end
  if frequent[object] then return ("Yes, there is a %s in the image."):format(object) end
  return q.question_id % 2 == 0 and ("There is no %s in the image."):format(object)
    or ("No, there is not a %s in the image."):format(object)
end

-- evaluate.py, line for line: text before the first ".", commas deleted, split on " ";
-- "no" if a word is No, not or no; yes is the positive class.
local function evaluate(answers, labels)
  local tp, fp, tn, fn, yes = 0, 0, 0, 0, 0
  for i, a in ipairs(answers) do
    local text = (a:find(".", 1, true) and a:sub(1, a:find(".", 1, true) - 1) or a):gsub(",", "")
    local pred = "yes"
    for w in (text .. " "):gmatch("(.-) ") do
      if w == "No" or w == "not" or w == "no" then pred = "no" break end
    end
    if pred == "yes" then yes = yes + 1 end
    if pred == "yes" and labels[i] == "yes" then tp = tp + 1
    elseif pred == "yes" then fp = fp + 1
    elseif labels[i] == "no" then tn = tn + 1
    else fn = fn + 1 end
  end
  local precision, recall = tp / (tp + fp), tp / (tp + fn)
  return {accuracy = (tp + tn) / #answers, precision = precision, recall = recall,
          f1 = 2 * precision * recall / (precision + recall), yes_ratio = yes / #answers,
          tp = tp, fp = fp, tn = tn, fn = fn}
end

print(("%-12s %8s %9s %7s %7s %9s   %s"):format("split", "accuracy", "precision", "recall", "f1", "yes ratio", "tp fp tn fn"))
local results = {}
for _, split in ipairs({"random", "popular", "adversarial"}) do
  local questions = data.jsonl(dir .. "coco_pope_" .. split .. ".json")
  local file = os.tmpname()
  local rows, labels = {}, {}
  for q in questions:each() do
    rows[#rows + 1] = {question = q.text, answer = answer(q)}
    labels[#labels + 1] = q.label
  end
  data.write_jsonl(file, rows)
  local answers = data.jsonl(file):column("answer")
  os.remove(file)
  assert(#answers == 3000)
  local m = detect.pope(answers, labels)
  local want = evaluate(answers, labels)
  for k, v in pairs(want) do assert(math.abs(m[k] - v) < 1e-12, split .. " " .. k) end
  print(("%-12s %8.4f %9.4f %7.4f %7.4f %9.4f   %d %d %d %d"):format(split, m.accuracy, m.precision,
    m.recall, m.f1, m.yes_ratio, m.tp, m.fp, m.tn, m.fn))
  results[split] = m
end
-- Recall is the same in every split (the same misses); precision falls where the "no"
-- questions ask about frequent objects: popular (the most frequent COCO objects) and
-- adversarial (objects that co-occur with what is in the image).
assert(results.random.recall == results.popular.recall)
assert(results.random.precision > results.adversarial.precision)
assert(results.adversarial.precision > results.popular.precision)
print("\nrecall is the same everywhere; the prior for frequent objects costs precision on popular and adversarial.")
