-- The `re` benchmark (BENCHMARKS.md, "re"): a TRL-style format reward written three ways
-- over the same completions, timed per row with the records in memory, plus the same
-- reward for `moonlab score` (as Benchmarks/peers_re.py writes it in Python):
--   moonlab run Benchmarks/re_reward.lua [/tmp/moonlab_score_100k.jsonl]
--   moonlab score --workers 2 --reward Benchmarks/re_reward.lua --data /tmp/moonlab_score_100k.jsonl --out /tmp/x
-- TRL's docs write the reward as re.match(r"^<think>.*?</think>\s*<answer>.*?</answer>$", c, re.S).
local FORMAT = re.compile([[^<think>.*?</think>\s*<answer>.*?</answer>$]], { flags = "s" })

local function format_re(s) return FORMAT:match(s.completion) and 1.0 or 0.0 end
local function format_module(s)
  return re.match([[^<think>.*?</think>\s*<answer>.*?</answer>$]], s.completion, { flags = "s" }) and 1.0 or 0.0
end
-- Lua patterns cannot say "\s" after a lazy run across newlines exactly; this is the usual port.
local function format_lua(s) return s.completion:find("^<think>.-</think>%s*<answer>.-</answer>$") and 1.0 or 0.0 end

reward.define("format_re", format_re, { doc = "TRL-style format reward with re" })

if arg and arg[0] and arg[0]:find("re_reward.lua", 1, true) then
  local rows = data.jsonl(arg[1] or "/tmp/moonlab_score_100k.jsonl"):take(100000)
  local records = {}
  for r in rows:each() do records[#records + 1] = { completion = r.completion } end
  for _, case in ipairs({ { "re.compile'd pattern :match", format_re }, { "re.match (module function, cached)", format_module },
                          { "Lua pattern string.find", format_lua } }) do
    local fn = case[2]
    local best, total = math.huge, 0
    for _ = 1, 5 do
      local t0 = os.clock()
      total = 0
      for i = 1, #records do total = total + fn(records[i]) end
      best = math.min(best, os.clock() - t0)
    end
    print(string.format('{"case": "%s", "rows": %d, "us_per_row": %.3f, "sum": %d}', case[1], #records, best / #records * 1e6, total))
  end
end
