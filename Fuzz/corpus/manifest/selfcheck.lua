return {
  name = "selfcheck",
  version = "1.0.0",
  description = "SelfCheck-style hallucination detectors over sampled passages: n-gram and consistency",
  requires = { moonlab = ">=0.1" },
  provides = { rewards = {}, detectors = { "selfcheck_ngram", "selfcheck_consistency" }, samplers = {} },
}
