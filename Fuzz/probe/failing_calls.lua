-- Memory under failing calls (issue 10 §9; by hand): moonlab run Fuzz/probe/failing_calls.lua [ROUNDS]
-- calls every module function and method with bad arguments under pcall, many times, and
-- prints the process RSS and the Lua heap before and after (they must stay flat).
local function rss()
  local f = io.open("/proc/self/statm") local s = f:read("a") f:close()
  return tonumber(s:match("%d+%s+(%d+)")) * 4096 / 1e6
end
local bad = {false, -1, 0/0, "x", {}, {1, "a"}, math.maxinteger, function() error("e") end, tensor{1,2}, {{1},{1,2}}}
local calls = {}
for _, m in ipairs({"tensor", "dist", "rl", "pref", "sample", "random", "reward", "detect", "metrics", "data", "re", "synth"}) do
  for k, f in pairs(_G[m]) do
    if type(f) == "function" and not k:match("save") and not k:match("write") and k ~= "define" and k ~= "stage" then
      calls[#calls + 1] = {m .. "." .. k, f}
    end
  end
end
table.sort(calls, function(a, b) return a[1] < b[1] end)
local N = tonumber(arg[1] or "200")
-- warm up
for _, c in ipairs(calls) do for _, b in ipairs(bad) do pcall(c[2], b, b, b) end end
collectgarbage() collectgarbage()
local before, lbefore = rss(), collectgarbage("count")
local t0 = os.clock()
for i = 1, N do
  for _, c in ipairs(calls) do
    for _, b in ipairs(bad) do pcall(c[2], b, b, b) pcall(c[2], b) pcall(c[2], {1, 2, 3}, b) end
  end
end
collectgarbage() collectgarbage()
print(("%d rounds of %d functions: RSS %.1f -> %.1f MB, Lua heap %.0f -> %.0f KB (%.1f s)"):format(N, #calls, before, rss(), lbefore, collectgarbage("count"), os.clock() - t0))
-- methods and calls back into Lua that fail
local t, ch, g = tensor{{1, 2}, {3, 4}}, sample.chain{sample.top_k(2)}, random.new(1)
local ms = {}
for k, f in pairs(getmetatable(t).__methods or {}) do ms[#ms + 1] = {t, f} end
for k, f in pairs(getmetatable(ch).__methods or {}) do ms[#ms + 1] = {ch, f} end
for k, f in pairs(getmetatable(g).__methods or {}) do ms[#ms + 1] = {g, f} end
local rx = re.compile("(a)(b)?")
for k, f in pairs(getmetatable(rx).__methods or {}) do ms[#ms + 1] = {rx, f} end
local function round()
  for _, m in ipairs(ms) do for _, b in ipairs(bad) do pcall(m[2], m[1], b, b) pcall(m[2], m[1], b) end end
  pcall(reward.score, function() error("x") end, {{completion = "a"}, {completion = "b"}}, {progress = false})
  pcall(sample.best_of_n, {"a"}, function() error("x") end)
  pcall(data.from({{a = 1}}):map(function() error("x") end).count, data.from({{a = 1}}):map(function() error("x") end))
  pcall(dist.softmax, setmetatable({}, {__index = function() error("x") end}))
  pcall(timeit, function() error("x") end)
  pcall(re.sub, "a", function() error("x") end, "aaa")
  pcall(re.sub, "a", function() return {} end, "aaa")
end
for i = 1, 3 do round() end
collectgarbage() collectgarbage()
local b2 = rss()
local t1 = os.clock()
for i = 1, N * 20 do round() end
collectgarbage() collectgarbage()
print(("%d method rounds: RSS %.1f -> %.1f MB, Lua heap %.0f KB (%.1f s)"):format(N * 20, b2, rss(), collectgarbage("count"), os.clock() - t1))
