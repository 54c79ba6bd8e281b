-- How far are llama.cpp's sampling defaults from HF transformers' on a real distribution?
-- And does one configuration (top-k 40, top-p 0.95, min-p 0.05, temperature 0.8) mean the
-- same thing in transformers, llama.cpp and vLLM? (llama.cpp#4091: its sampler order and
-- top-p differ from HF's.)
--   moonlab run Scripts/sample_compare.lua
-- The data: SmolLM2-135M-Instruct's real next-token logits (49,152 ids) at two positions of
-- an answer, dumped by llama-cpp-python with logits_all (Scripts/data/make_smollm2_logits.py).
local here = arg and arg[0] and arg[0]:match("^(.*)/[^/]*$") or "."
local logits = tensor.load(here .. "/data/smollm2_logits.npy")
local info = data.json(here .. "/data/smollm2_logits.json")
local shape = logits:shape()
assert(shape[1] == 2 and shape[2] == 49152)

local function text(row, id)
  local t = info.top_tokens[row][tostring(id)]
  return t and ("%q"):format(t) or ("#" .. id)
end

-- 1. One nominal configuration, three engines.
local config = {sample.top_k(40), sample.top_p(0.95), sample.min_p(0.05), sample.temperature(0.8)}
for row = 1, 2 do
  local r = sample.compare(logits[row], config)
  print(("row %d (%s): the same four settings in each engine's order"):format(row,
    row == 1 and "first answer token" or ("after %q"):format(info.greedy_text)))
  print(r)
  for _, pair in ipairs{"transformers|llama.cpp", "transformers|vllm", "llama.cpp|vllm"} do
    local p = r.pairs[pair]
    assert(p.tv >= 0 and p.tv <= 1)
  end
  -- transformers and vLLM share the order (temperature first) and top-p's rule: the same
  -- distribution up to float32; llama.cpp applies temperature last, after truncating the
  -- untempered row, so it keeps more tokens.
  assert(r.pairs["transformers|vllm"].tv < 1e-5, "transformers and vLLM agree")
  assert(#r["llama.cpp"].ids >= #r.transformers.ids, "llama.cpp's truncation on the untempered row keeps at least as many")
  local only = r.pairs["transformers|llama.cpp"]["only_llama.cpp"]
  if #only > 0 then
    local shown = {}
    for i = 1, math.min(#only, 5) do shown[i] = text(row, only[i]) end
    print(("kept by llama.cpp only: %s%s\n"):format(table.concat(shown, " "), #only > 5 and " ..." or ""))
  end
end

-- 2. Each engine's OWN defaults: llama.cpp (llama-cli / llama-server: top_k 40, top_p 0.95,
-- min_p 0.05, temperature 0.8) against HF transformers' GenerationConfig (do_sample with
-- top_k 50, top_p 1.0, temperature 1.0) and vLLM's SamplingParams (temperature 1.0, no
-- truncation).
for row = 1, 2 do
  local hf = sample.compare(logits[row], {sample.top_k(50), sample.temperature(1.0)}, {engines = {"transformers"}})
  local ll = sample.compare(logits[row], config, {engines = {"llama.cpp"}})
  local vl = sample.compare(logits[row], {sample.temperature(1.0)}, {engines = {"vllm"}})
  local p, q, v = hf.transformers.distribution, ll["llama.cpp"].distribution, vl.vllm.distribution
  local tv_hf = (p - q):abs():sum() / 2
  local tv_vllm = (v - q):abs():sum() / 2
  print(("row %d defaults: llama.cpp keeps %d tokens, HF %d, vLLM all %d; TV(llama.cpp, HF) = %.3f, TV(llama.cpp, vLLM) = %.3f")
    :format(row, #ll["llama.cpp"].ids, #hf.transformers.ids, #vl.vllm.ids, tv_hf, tv_vllm))
  print(("  most likely token %s: %.3f under llama.cpp's defaults, %.3f under HF's"):format(
    text(row, ll["llama.cpp"].ids[1]), ll["llama.cpp"].probs[1], p[ll["llama.cpp"].ids[1] + 1]))
  assert(tv_hf > 0 and tv_hf < 1)
end
