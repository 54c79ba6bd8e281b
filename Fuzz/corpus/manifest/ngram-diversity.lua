return {
  name = "ngram-diversity",
  version = "1.0.0",
  description = "distinct-n and self-BLEU per prompt group, and n-gram novelty as a reward for diversity-aware RL",
  requires = { moonlab = ">=0.1" },
  provides = { rewards = { "ngram_novelty", "group_distinct_n" }, detectors = {}, samplers = {} },
}
