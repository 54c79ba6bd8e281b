-- A DPO-style look at preference pairs: is "longer" what the labellers preferred?
--   moonlab run Scripts/hh_length_bias.lua
-- On Anthropic's hh-rlhf harmless-base test split (2,312 real pairs, gzip JSON Lines, in
-- Examples/data/hh-rlhf). Each side of a pair is a whole dialogue; the two share every
-- turn but the last assistant reply.
-- The data ships in the repository (Examples/data, with SOURCES.md), found from this file.
local function example_data()
  local here = arg and arg[0] and arg[0]:match("^(.*)/[^/]*$") or "."
  local dir = here .. "/../Examples/data"
  local f = io.open(dir .. "/SOURCES.md")
  if not f then error("example data not found at " .. dir .. " (run the recipe from a moonlab checkout)", 0) end
  f:close()
  return dir
end
local path = example_data() .. "/hh-rlhf/harmless-base/test.jsonl.gz"

-- The last assistant reply of a dialogue.
local function reply(dialogue)
  local last = 1
  for pos in dialogue:gmatch("()\n\nAssistant:") do last = pos end
  return (dialogue:sub(last):gsub("^\n\nAssistant:%s*", ""))
end

-- The length-bias reward: a "reward model" that only counts bytes of the reply.
reward.define("reply_length", function(s) return #reply(s.completion) end,
  {doc = "bytes in the last assistant reply: a reward that prefers whatever is longer"})

local chosen, rejected = {}, {}
for pair in data.jsonl(path):each() do
  chosen[#chosen + 1] = {completion = pair.chosen}
  rejected[#rejected + 1] = {completion = pair.rejected}
end
local rc = reward.score("reply_length", chosen, {workers = 2, progress = false})
local rr = reward.score("reply_length", rejected, {workers = 2, progress = false})
local n = #rc
assert(n == 2312, "2312 pairs in harmless-base test")

local longer, shorter, ties, sc, sr = 0, 0, 0, 0, 0
local gap = {}
for i = 1, n do
  gap[i] = rc[i] - rr[i]
  if gap[i] > 0 then longer = longer + 1 elseif gap[i] < 0 then shorter = shorter + 1 else ties = ties + 1 end
  sc, sr = sc + rc[i], sr + rr[i]
end
print(("%d pairs: the chosen reply is longer in %d (%.1f%%), shorter in %d, as long in %d"):format(
  n, longer, 100 * longer / n, shorter, ties))
print(("mean reply length: chosen %.1f bytes, rejected %.1f bytes"):format(sc / n, sr / n))
-- Counted independently (Python over the same file): 1021 longer, 1281 shorter, 10 ties.
assert(longer == 1021 and shorter == 1281 and ties == 10)

-- As a reward model in a Bradley-Terry loss (lengths in hundreds of bytes), its accuracy
-- is how often the preferred reply is the longer one: under half here. Harmless-base
-- prefers the shorter, more careful reply, so a length-biased reward points the wrong way.
local loss, accuracy = pref.bt_loss(tensor(rc) / 100, tensor(rr) / 100)
print(("Bradley-Terry with the length reward: loss %.4f, accuracy %.4f"):format(loss, accuracy))
assert(math.abs(accuracy - longer / n) < 1e-12, "accuracy = share of pairs where chosen is longer")
assert(accuracy < 0.5)

print()
plot.hist(gap, {bins = 40, range = {-600, 600}, title = "chosen minus rejected reply length (bytes)",
  xlabel = "bytes", ylabel = "pairs"})
local outside = 0
for i = 1, n do if gap[i] < -600 or gap[i] > 600 then outside = outside + 1 end end
print(("(%d pairs differ by more than 600 bytes and are outside the picture)"):format(outside))
