-- Rewards served to the Python client tests (Scripts/test.sh starts `moonlab serve` with
-- this file on two ports). Each one has a known value on the tests' rows.
local ANSWER = re.compile([[<answer>(.*?)</answer>]], { flags = "s" })

reward.define("tagged", function(s)
  return ANSWER:search(reward.text(s)) and 1 or 0
end, { doc = "1 when the completion has <answer>...</answer>" })

reward.define("step", function(s, state)
  return (state.step or 0) / 1000
end, { doc = "the training step / 1000 (curriculum rewards read state.step)" })

reward.define("fragile", function(s)
  local t = reward.text(s)
  if t:find("boom", 1, true) then error("boom in the completion") end
  if t:find("nan!", 1, true) then return 0 / 0 end
  if t:find("skip", 1, true) then return nil end
  local m = ANSWER:search(t)
  local gold = s.label or s.ground_truth
  if m and gold then return m[1] == tostring(gold) and 2 or 0 end
  return 0
end, { doc = "2 when the answer equals the label; raises on 'boom', NaN on 'nan!', nil on 'skip'" })
