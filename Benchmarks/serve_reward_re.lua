-- The benchmark reward of Benchmarks/score_reward.lua with its format check written with `re`
-- (Python's pattern, as Benchmarks/serve_rm_peer.py has it) instead of a Lua pattern.
--   moonlab serve --reward Benchmarks/serve_reward_re.lua --port 8000
local KEYWORDS = { "because", "therefore", "verify", "answer" }
local TARGET = 200
local FORMAT = re.compile([[<think>.*?</think>\s*<answer>.*?</answer>\Z]], { flags = "s" })

reward.define("bench", function(s)
  local c = s.completion
  local format = FORMAT:match(c) and 1 or 0
  local length = 1 - math.min(1, math.abs(#c - TARGET) / TARGET)
  local hits = 0
  for i = 1, #KEYWORDS do
    if c:find(KEYWORDS[i], 1, true) then hits = hits + 1 end
  end
  return format + 0.5 * length + hits / #KEYWORDS
end, { doc = "benchmark reward: format (re) + length + keywords" })
