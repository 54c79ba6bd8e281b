return {
  name = "pope",
  version = "1.0.0",
  description = "POPE object-hallucination evaluation of answer files, with metrics by split",
  requires = { moonlab = ">=0.1" },
  provides = { rewards = { "pope_correct" }, detectors = { "pope_hallucination" }, samplers = {} },
}
