-- What does clamping do to the k3 KL estimator? OpenRLHF clamps every per-token KL
-- estimate to [-10, 10]; verl clamps k3's log-ratio to [-20, 20] and k3 to [-10, 10].
-- rl.kl_lab puts the estimators beside the exact KL on full-vocabulary rows.
--   moonlab run Scripts/kl_clamp.lua
-- The data: SmolLM2-135M-Instruct's real next-token logits at two positions (49,152 ids,
-- Scripts/data/make_smollm2_logits.py). The reference policy is the model; the policy is
-- the model sharpened to temperature 0.5, as RL tends to sharpen a policy.
local here = arg and arg[0] and arg[0]:match("^(.*)/[^/]*$") or "."
local logits = tensor.load(here .. "/data/smollm2_logits.npy"):to("f64")
local ref = dist.log_softmax(logits)
local policy = dist.log_softmax(logits / 0.5)

local r = rl.kl_lab(policy, ref, {samples = 2000, rng = random.new(7)})
print("a policy sharpened to temperature 0.5 against the model it came from:")
print(r)
for row = 1, 2 do
  local exact = r.exact[row]
  local k3, verl = r.k3, r.k3.clamped.verl
  -- Unclamped, k3 is unbiased (its expectation under the policy is the KL)...
  assert(math.abs(k3.expected[row] - exact) < 1e-9 * math.max(1, exact))
  -- ...but its per-token variance is huge: tokens the policy almost never draws and the
  -- reference finds likely give r = ref / policy in the thousands, and k3 ~ r.
  assert(k3.expected_variance[row] > 100 * verl.expected_variance[row])
  -- The clamp buys a small variance with a bias: it cuts exactly those tokens' r - 1 - log r.
  assert(verl.expected_bias[row] < 0)
  print(("row %d: exact KL %.4f; k3 unclamped: expectation %.4f, variance of one token %.3g; "
      .. "verl's clamp: expectation %.4f (%.0f%% of the KL), variance %.3g"):format(
    row, exact, k3.expected[row], k3.expected_variance[row], verl.expected[row],
    100 * verl.expected[row] / exact, verl.expected_variance[row]))
end

-- A policy that has drifted far (the model's distribution at the second position, against the
-- first position's as reference): every estimate is above 10, so the clamp caps the KL penalty
-- at 10 whatever the truth is, and the penalty stops growing with the drift.
local far = rl.kl_lab(policy[2]:clone(), ref[1]:clone(), {samples = 2000, rng = random.new(7)})
print(("\na policy far from its reference: exact KL %.2f, k3 with verl's clamp %.2f, with OpenRLHF's %.2f, k1 unclamped %.2f")
  :format(far.exact, far.k3.clamped.verl.expected, far.k3.clamped.openrlhf.expected, far.k1.expected))
assert(far.k3.clamped.verl.expected <= 10 and far.exact > 10)

-- The spread of each estimator's per-token values on row 1, unclamped and with verl's clamp.
r.plot{row = 1, estimator = "k3", clamp = "none", width = 60, height = 8}
r.plot{row = 1, estimator = "k3", clamp = "verl", width = 60, height = 8}
