-- Why would a GRPO run on these groups stall? (trl#3857, trl#3452: "loss stuck at 0".)
-- rl.dry_run shows, before any training, what each advantage method makes of a batch of
-- rewards: the groups whose rewards have zero spread carry no gradient at all.
--   moonlab run Scripts/grpo_dry_run.lua
-- The data: 16 HumanEval questions x 4 completions (Scripts/data/grpo_humaneval.jsonl, the
-- groups of Scripts/grpo_rewards.lua), scored with the built-in rewards.
local here = arg and arg[0] and arg[0]:match("^(.*)/[^/]*$") or "."
local rows = data.jsonl(here .. "/data/grpo_humaneval.jsonl")
local records = {}
for r in rows:each() do records[#records + 1] = r end
assert(#records == 64)

-- Completion lengths in words (a stand-in for tokens: only their ratios matter below).
local lengths = {}
for i, r in ipairs(records) do
  local n = 0
  for _ in r.completion:gmatch("%S+") do n = n + 1 end
  lengths[i] = n
end

print("reward       zero-spread groups  frac_reward_zero_std  rows with advantage 0 (grpo)")
local report = {}
for _, name in ipairs{"repetition", "format", "accuracy"} do
  local scores = reward.score(name, records, {progress = false})
  local d = rl.dry_run(scores, 4, {lengths = lengths})
  report[name] = d
  print(("%-12s %18d  %20.3f  %28.3f"):format(name, #d.zero_spread_groups, d.frac_reward_zero_std, d.grpo.group.zero_fraction))
end

-- The repetition reward scores every one of these short completions 0: every group has zero
-- spread, every advantage is 0 and so is the loss, whatever the method or the scale. A
-- GRPO run on it does nothing at all, and its loss curve sits at 0.
local rep = report.repetition
assert(#rep.zero_spread_groups == 16 and rep.frac_reward_zero_std == 1)
for _, method in ipairs{"grpo", "dr_grpo", "rloo", "reinforce_baseline"} do
  for _, scale in ipairs{"group", "batch", "none"} do
    assert(rep[method][scale].zero_fraction == 1, method .. " " .. scale)
  end
end
assert(#report.accuracy.zero_spread_groups == 0, "one wrong answer per group: every group teaches something")

-- The same questions answered by a better policy (the three right completions of each group):
-- accuracy is 1 everywhere, so accuracy alone stalls too, while the format reward still
-- separates the plain answer from the formatted ones.
local better, better_len = {}, {}
for i, r in ipairs(records) do
  if r.kind ~= "format_wrong" then better[#better + 1] = r; better_len[#better_len + 1] = lengths[i] end
end
local acc = rl.dry_run(reward.score("accuracy", better, {progress = false}), 3, {lengths = better_len})
local fmt = rl.dry_run(reward.score("format", better, {progress = false}), 3, {lengths = better_len})
print(("\na better policy (3 right answers per question): accuracy leaves %d of 16 groups without signal (frac %.2f), format %d")
  :format(#acc.zero_spread_groups, acc.frac_reward_zero_std, #fmt.zero_spread_groups))
assert(#acc.zero_spread_groups == 16 and #fmt.zero_spread_groups == 0)

-- The whole table for the combined reward of Scripts/grpo_rewards.lua, with what each token
-- weighs under each loss aggregation: TRL's "grpo" (seq-mean-token-mean) gives a short
-- completion's tokens more weight than a long one's, token-mean weighs every token alike.
local grpo = reward.combine{{"format", 0.5}, {"accuracy", 1.0}}
local d = rl.dry_run(reward.score(grpo, records, {progress = false}), 4, {lengths = lengths})
print()
print(d)
local w = d.weights
local short, long = 1, 1
for i = 1, #lengths do
  if lengths[i] < lengths[short] then short = i end
  if lengths[i] > lengths[long] then long = i end
end
assert(w["seq-mean-token-mean"][short] > w["seq-mean-token-mean"][long])
assert(w["token-mean"][short] == w["token-mean"][long])
assert(math.abs(w["seq-mean-token-mean"][short] * lengths[short] - 1 / 64) < 1e-15, "each completion weighs 1/N in all")
