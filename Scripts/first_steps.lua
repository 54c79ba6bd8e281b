-- A first script: run with `moonlab run Scripts/first_steps.lua`.
-- Checks the basics a recipe relies on: the moonlab table, help, timing, arg.
assert(moonlab.version:match("^%d+%.%d+%.%d+$"), "moonlab.version is semver")
assert(type(help) == "function")
local median, lo, hi = timeit(function() local s = 0 for i = 1, 1000 do s = s + i end end, {runs = 3})
assert(lo <= median and median <= hi)
assert(arg[0]:match("first_steps%.lua$"))
print(string.format("moonlab %s: a loop of 1000 additions takes %.1f us", moonlab.version, median * 1e6))
