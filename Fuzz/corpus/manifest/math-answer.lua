return {
  name = "math-answer",
  version = "1.0.0",
  description = "Final-answer extraction and equivalence for math: \\boxed{}, fractions, LaTeX numbers, units, percentages",
  requires = { moonlab = ">=0.1" },
  provides = { rewards = { "math_answer" }, detectors = { "math_answer_wrong" }, samplers = {} },
}
