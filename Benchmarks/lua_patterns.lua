-- Common pattern calls, each timed best of 5 (os.clock), per call; run by Benchmarks/lua_patterns.c
-- (stock Lua and moonlab's copy in one process; WHICH names the one running).
local text = {}
for i = 1, 2000 do text[#text + 1] = ("The answer %d is <answer>%d</answer> because x=%d; "):format(i, i * 7, i % 13) end
local long = table.concat(text)   -- ~110 KB
local short = "The final answer is <answer>42</answer>."
local cases = {
  {"find plain short", function() return short:find("answer", 1, true) end, 200000},
  {"find pattern short", function() return short:find("<answer>(.-)</answer>") end, 200000},
  {"match number short", function() return short:match("%d+") end, 200000},
  {"match anchored", function() return short:match("^%s*(%S+)") end, 200000},
  {"gsub words short", function() return short:gsub("%w+", "x") end, 100000},
  {"find frontier short", function() return short:find("%f[%a]final%f[%A]") end, 200000},
  {"gmatch numbers long", function() local n = 0 for _ in long:gmatch("%d+") do n = n + 1 end return n end, 20},
  {"gsub spaces long", function() return long:gsub("%s+", " ") end, 20},
  {"find tag long", function() return long:find("<answer>1999</answer>", 1, true) end, 200},
  {"match last answer long", function() return long:match(".*<answer>(%d+)</answer>") end, 20},
  {"gsub fn long", function() return long:gsub("%d+", function(d) return d end) end, 10},
}
for _, c in ipairs(cases) do
  local best = math.huge
  for r = 1, 5 do
    local t = os.clock()
    for i = 1, c[3] do c[2]() end
    best = math.min(best, (os.clock() - t) / c[3])
  end
  print(("%s\t%-24s\t%.3f us"):format(WHICH, c[1], best * 1e6))
end
