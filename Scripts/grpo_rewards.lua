-- GRPO rewards: a format-and-accuracy reward scored over a file of completions, then
-- the group-relative advantages GRPO trains on.
--   moonlab run Scripts/grpo_rewards.lua
-- The same scores from the command line:
--   moonlab score --data Scripts/data/grpo_humaneval.jsonl --reward format --reward accuracy
-- The data: groups of 4 completions per question, the questions built from the first 16
-- real HumanEval prompts (Scripts/data/make_grpo_humaneval.py says how; "kind" tells
-- which completion is which, so the recipe can check every score).
local here = arg and arg[0] and arg[0]:match("^(.*)/[^/]*$") or "."
local path = here .. "/data/grpo_humaneval.jsonl"
assert(io.open(path), "cannot find " .. path .. " (run from the repository: moonlab run Scripts/grpo_rewards.lua)"):close()

-- The reward: 0.5 for the <think>...</think> <answer>...</answer> format (built-in
-- "format"), plus 1 when the final answer (\boxed{} or the last number) equals the
-- record's "answer" (built-in "accuracy").
reward.define("grpo", reward.combine{{"format", 0.5}, {"accuracy", 1.0}},
  {doc = "0.5 * format + accuracy, as a GRPO run on math would reward a completion"})

local rows = data.jsonl(path)
local scores, errors = reward.score("grpo", rows, {workers = 2, progress = false})
assert(#errors == 0, "no row fails")
local records = {}
for r in rows:each() do records[#records + 1] = r end
assert(#records == 64 and #scores == 64)

-- Every kind of completion gets the score it should.
local want = {format_right = 1.5, boxed_right = 1.5, format_wrong = 0.5, plain_right = 1.0}
local by_kind = {}
for i, r in ipairs(records) do
  assert(scores[i] == want[r.kind], ("row %d (%s): %g, expected %g"):format(i, r.kind, scores[i], want[r.kind]))
  by_kind[r.kind] = (by_kind[r.kind] or 0) + 1
end
print("reward by kind of completion (16 of each):")
for _, k in ipairs({"format_right", "boxed_right", "format_wrong", "plain_right"}) do
  assert(by_kind[k] == 16)
  print(("  %-13s %.1f"):format(k, want[k]))
end

-- GRPO: each group of 4 completions of one question is compared with itself.
local adv = rl.group_advantages(scores, 4, {method = "grpo"})
local std = math.sqrt(((0.375 ^ 2) * 2 + 0.625 ^ 2 + 0.125 ^ 2) / 3)  -- every group holds 1.5, 1.5, 0.5, 1.0
print("\ngroup advantages (r - group mean) / (group std + 1e-4):")
for g = 1, 2 do
  for j = 1, 4 do
    local i = (g - 1) * 4 + j
    print(("  %-13s %-13s reward %.1f  advantage %+.4f"):format(records[i].task_id, records[i].kind, scores[i], adv[i]))
    local expected = (scores[i] - 1.125) / (std + 1e-4)
    assert(math.abs(adv[i] - expected) < 1e-12, "advantage of row " .. i)
  end
end
local sum = 0
for i = 1, #adv do sum = sum + adv[i] end
assert(math.abs(sum) < 1e-9, "advantages sum to zero in every group")
print(("\n%d completions in %d groups; the wrong answer in format is pushed down, "):format(#records, #records // 4)
  .. "the right answer without the format falls below the group mean.")
