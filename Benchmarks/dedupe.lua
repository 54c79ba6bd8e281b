-- synth.dedupe on the benchmark's records, timed as a user runs it (the Lua call on records
-- read with data.jsonl). Writes the dropped ids and whom they matched for comparison.
--   moonlab run Benchmarks/dedupe.lua /tmp/dedupe.jsonl 0.85 /tmp/dedupe_moonlab.json
local path, threshold, out = arg[1] or "/tmp/dedupe.jsonl", tonumber(arg[2]) or 0.85, arg[3]
local records = {}
for r in data.jsonl(path):each() do records[#records + 1] = r end
local kept, dropped
local seconds = timeit(function()
  kept, dropped = synth.dedupe(records, {threshold = threshold, num_perm = 128, shingle = 5})
end, {runs = 1, warmup = 0})
local planted = 0
for _, r in ipairs(records) do if r.dup_of ~= data.null then planted = planted + 1 end end
print(("synth.dedupe: %d records in %.2f s; dropped %d (planted %d)"):format(#records, seconds, #dropped, planted))
if out then
  local map = {}
  for _, d in ipairs(dropped) do map[tostring(d.record.id)] = d.kept.id end
  local f = assert(io.open(out, "w")); f:write(data.encode({seconds = seconds, dropped = map})); f:close()
end
