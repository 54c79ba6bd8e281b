-- InstructLab's LAB loop on moonlab's own small taxonomy (Examples/taxonomy) with SmolLM2 as
-- the teacher: coverage before and after, generation, a detector in the faithfulness step, a
-- reward filter, near-duplicate removal, replay mixing with hh-rlhf, and the answers' lengths
-- per leaf. SmolLM2-135M is a poor teacher (and a harsh judge: it answers "no" to nearly every
-- question it is asked to rate), so this run skips the teacher's judges; the plumbing is the point.
--   Scripts/servers.sh start && moonlab run Scripts/instructlab_sdg.lua [PER_LEAF]
local per_leaf = tonumber(arg[1]) or 3
local here = arg and arg[0] and arg[0]:match("^(.*)/[^/]*$") or "."
local root = here .. "/.."

local leaves, problems = synth.taxonomy(root .. "/Examples/taxonomy")
print(("taxonomy: %d leaves, %d bad files"):format(#leaves, #problems))

local function show_coverage(title, records)
  print(title)
  for _, c in ipairs(synth.coverage(leaves, records)) do
    print(("  %-44s %-22s seeds %3d  generated %3d"):format(c.path, c.kind, c.seeds, c.generated))
  end
end
show_coverage("coverage before:", {})

local teacher = model.openai{base_url = os.getenv("MOONLAB_LLM_URL") or "http://127.0.0.1:8471/v1",
                             model = os.getenv("MOONLAB_LLM_MODEL") or "smollm2", concurrency = 2, timeout = 120}

-- The faithfulness step swapped for a detector: an answer that repeats itself is flagged.
detect.define("degenerate", function(s)
  local r = detect.repetition(s.answer, {n = 3})
  return r > 0.3, r, "repeats its 3-grams"
end)
-- The reward filter: kept when > 0 (an answer of 3 to 120 words).
reward.define("sane_length", function(s)
  local n = select(2, s.completion:gsub("%S+", ""))
  return (n >= 3 and n <= 120) and 1 or -1
end)

local records, report = synth.generate{leaves = leaves, teacher = teacher, per_leaf = per_leaf, seed = 7,
  rounds = 1, max_tokens = 128, judge = false, faithfulness = {detector = "degenerate"}, filter = "sane_length"}
print(("generated: %d records kept, %d candidates dropped"):format(report.total.kept, report.total.dropped))
for _, lr in ipairs(report.leaves) do
  local parts = {}
  for _, s in ipairs(lr.steps) do parts[#parts + 1] = ("%s %d/-%d"):format(s.name, s.generated, s.dropped) end
  print(("  %-44s %s -> kept %d"):format(lr.path, table.concat(parts, ", "), lr.kept))
  for k = 1, math.min(2, #lr.dropped) do print(("      dropped at %s: %s"):format(lr.dropped[k].step, lr.dropped[k].reason)) end
end
show_coverage("coverage after:", records)

local kept, dropped = synth.dedupe(records, {field = "question", threshold = 0.7, shingle = 3})
print(("dedupe: %d kept, %d near-duplicates dropped"):format(#kept, #dropped))

-- Replay against forgetting: hh-rlhf conversations beside the new skills, alpha = 0.5.
local replay = {}
for r in data.jsonl(root .. "/Examples/data/hh-rlhf/harmless-base/test.jsonl.gz"):take(200):each() do
  replay[#replay + 1] = {question = r.chosen:match("Human: (.-)\n\nAssistant:") or r.chosen,
                         answer = r.chosen:match(".*Assistant: (.*)$") or "", leaf = "replay/hh-rlhf"}
end
local mixed, counts = synth.mix{skills = kept, replay = replay, alpha = 0.5, seed = 7}
print(("mix: %d records, %d skills + %d replay"):format(#mixed, counts.skills, counts.replay))
local out = os.tmpname()
print(("wrote %d lines of chat messages (TRL SFT / ilab train) to %s"):format(data.write_chat(out, mixed, {format = "messages"}), out))
os.remove(out)

print("answer length (words) per leaf:")
for _, leaf in ipairs(leaves) do
  local lengths = {}
  for _, r in ipairs(kept) do
    if r.leaf == leaf.path then lengths[#lengths + 1] = select(2, r.answer:gsub("%S+", "")) end
  end
  if #lengths > 0 then
    print("  " .. leaf.path)
    plot.hist(lengths, {bins = 5, width = 50, height = 8})
  else
    print("  " .. leaf.path .. ": no records")
  end
end
assert(#leaves == 4 and #problems == 0)
assert(counts.skills + counts.replay == #mixed)
