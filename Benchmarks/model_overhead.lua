-- 40 one-token completions, 4 in flight, through llm:complete_many: what moonlab adds to the
-- server's own time. Compare with Benchmarks/model_overhead.py in the same run
-- (Benchmarks/model_overhead.sh alternates them).
--   moonlab run Benchmarks/model_overhead.lua http://127.0.0.1:8471/v1 5
local base, runs = arg[1] or "http://127.0.0.1:8471/v1", tonumber(arg[2]) or 5
local llm = model.openai{base_url = base, model = "smollm2", concurrency = 4}
local prompts = {}
for i = 0, 39 do prompts[#prompts + 1] = ("Item %d:"):format(i) end
local median, min, max = timeit(function()
  local rs = llm:complete_many(prompts, {max_tokens = 1, temperature = 0})
  for i, r in ipairs(rs) do assert(not r.error, r.error) end
end, {runs = runs, warmup = 1})
print(("moonlab complete_many: median %.3f s (min %.3f, max %.3f) over %d runs"):format(median, min, max, runs))
