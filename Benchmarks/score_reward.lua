-- The reward of the scoring benchmark (BENCHMARKS.md, "Scoring"): format check + length
-- penalty + keyword match, the same arithmetic as `reward` in Benchmarks/peers_score.py.
--   moonlab score --workers 2 --reward Benchmarks/score_reward.lua --data /tmp/moonlab_score_100k.jsonl --out /tmp/x
-- Run by lua5.4 (`lua5.4 Benchmarks/score_reward.lua FILE.txt`), it times the reward alone
-- over the completions held in memory, for reference.
local KEYWORDS = { "because", "therefore", "verify", "answer" }
local TARGET = 200

local function bench(s)
  local c = s.completion
  local format = c:find("^<think>.-</think>%s*<answer>.-</answer>$") and 1 or 0
  local length = 1 - math.min(1, math.abs(#c - TARGET) / TARGET)
  local hits = 0
  for i = 1, #KEYWORDS do
    if c:find(KEYWORDS[i], 1, true) then hits = hits + 1 end
  end
  return format + 0.5 * length + hits / #KEYWORDS
end

if reward then
  reward.define("bench", bench, { doc = "benchmark reward: format + length + keywords" })
else
  local texts = {}
  for line in io.lines(arg[1] or "/tmp/moonlab_score_100k.txt") do texts[#texts + 1] = { completion = line } end
  local best, total = math.huge, 0
  for _ = 1, 3 do
    local t0 = os.clock()
    total = 0
    for i = 1, #texts do total = total + bench(texts[i]) end
    best = math.min(best, os.clock() - t0)
  end
  print(string.format('{"case": "lua5.4 reward in memory", "rows": %d, "s": %.3f, "rows_per_s": %.0f, "sum": %.6f}',
    #texts, best, #texts / best, total))
end
