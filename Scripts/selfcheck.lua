-- SelfCheckGPT's n-gram check: sentences that the sampled passages do not support score
-- high.
--   moonlab run Scripts/selfcheck.lua
-- The texts are SelfCheckGPT's own demo texts (Examples/data/selfcheckgpt), with
-- the numbers its README publishes.
-- The data ships in the repository (Examples/data, with SOURCES.md), found from this file.
local function example_data()
  local here = arg and arg[0] and arg[0]:match("^(.*)/[^/]*$") or "."
  local dir = here .. "/../Examples/data"
  local f = io.open(dir .. "/SOURCES.md")
  if not f then error("example data not found at " .. dir .. " (run the recipe from a moonlab checkout)", 0) end
  f:close()
  return dir
end
local demo = data.json(example_data() .. "/selfcheckgpt/selfcheckgpt_demo_texts.json")

-- 1. The README example: two sentences, three sampled passages, unigram model.
local ex = demo.readme_example
local out = detect.selfcheck_ngram(ex.sentences, ex.passage, ex.sampled_passages, {n = 1})
local pub = ex.published_selfcheck_ngram_n1_output
print("SelfCheck unigram on the README example (published numbers in brackets):")
for i, s in ipairs(out.sentences) do
  print(("  %d. avg -logp %.6f [%.6f]  max -logp %.6f [%.6f]  %s"):format(i, s.avg_neg_logprob,
    pub.sent_level.avg_neg_logprob[i], s.max_neg_logprob, pub.sent_level.max_neg_logprob[i], ex.sentences[i]))
  assert(math.abs(s.avg_neg_logprob - pub.sent_level.avg_neg_logprob[i]) < 1e-6)  -- the README prints 6 decimals, cut, not rounded
  assert(math.abs(s.max_neg_logprob - pub.sent_level.max_neg_logprob[i]) < 1e-6)
end
print(("  document: avg %.12f [%.12f]  avg max %.12f [%.12f]"):format(out.doc.avg_neg_logprob,
  pub.doc_level.avg_neg_logprob, out.doc.avg_max_neg_logprob, pub.doc_level.avg_max_neg_logprob))
assert(math.abs(out.doc.avg_neg_logprob - pub.doc_level.avg_neg_logprob) < 1e-9)
assert(math.abs(out.doc.avg_max_neg_logprob - pub.doc_level.avg_max_neg_logprob) < 1e-9)

-- 2. As a detector over records: the demo passage and the version whose sentences 1, 3
-- and 4 the notebook's authors made false, each checked against the same 3 samples.
-- Sentences split where ., ! or ? is followed by a space and a capital letter (so
-- "Ph.D. from" stays whole), which gives the notebook's five spaCy sentences here.
local function sentences(text)
  local list, start = {}, 1
  for stop, next_start in text:gmatch("[%.!?]()%s+()%u") do
    list[#list + 1] = text:sub(start, stop - 1)
    start = next_start
  end
  list[#list + 1] = text:sub(start)
  return list
end
detect.define("selfcheck", function(s)
  local r = detect.selfcheck_ngram(sentences(s.passage), s.passage, s.samples, {n = 1})
  local worst, at = -1, 0
  for i, x in ipairs(r.sentences) do if x.max_neg_logprob > worst then worst, at = x.max_neg_logprob, i end end
  return r.doc.avg_max_neg_logprob > 6.0, r.doc.avg_max_neg_logprob, ("least supported: sentence %d"):format(at)
end, {doc = "SelfCheck unigram: flags a passage whose mean max -logp over sentences is above 6.0"})

local d1 = demo.demo1
local rows = {
  {name = "original", passage = d1.passage, samples = d1.sampled_passages},
  {name = "edited", passage = d1.passage_edited, samples = d1.sampled_passages},
}
local report = detect.run({"selfcheck"}, rows)
print("\nThe Michael Savage passage against 3 sampled passages (" .. d1.passage_edited_note .. "):")
for i, row in ipairs(rows) do
  local r = detect.selfcheck_ngram(sentences(row.passage), row.passage, row.samples, {n = 1})
  print(("  %-8s doc avg max -logp %.4f  flagged: %s"):format(row.name, r.doc.avg_max_neg_logprob,
    tostring(report.rows[i].flags.selfcheck)))
  for j, x in ipairs(r.sentences) do
    print(("    %d. avg %.3f  max %.3f"):format(j, x.avg_neg_logprob, x.max_neg_logprob))
  end
  row.scores = r
end
assert(rows[2].scores.doc.avg_max_neg_logprob > rows[1].scores.doc.avg_max_neg_logprob,
  "the edited passage is less supported than the original")
for _, j in ipairs({1, 3, 4}) do
  assert(rows[2].scores.sentences[j].avg_neg_logprob > rows[1].scores.sentences[j].avg_neg_logprob,
    "edited sentence " .. j .. " scores higher")
end
assert(report.rows[2].flags.selfcheck and not report.rows[1].flags.selfcheck)
print("\nthe edited sentences (1, 3, 4) score higher than the originals, and only the edited passage is flagged.")
