local S = selfcheck
local passage = "Paris is the capital of France. It was founded on the moon in 1999."
local samples = {
  "Paris is the capital of France. It lies on the Seine.",
  "Paris is the capital of France and its largest city.",
  "The capital of France is Paris. It is an old city.",
}

describe("sentences", function()
  it("splits after . ! ?", function()
    expect(S.sentences("One. Two! Three?")):to_equal({ "One.", "Two!", "Three?" })
    expect(S.sentences("no stop at the end")):to_equal({ "no stop at the end" })
  end)
  it("takes linear time on a long text without punctuation", function()
    local t = os.clock()
    expect(#S.sentences(("ab"):rep(100000))):to_be(1)  -- was about a minute: gmatch retried from every position
    expect(os.clock() - t < 2):to_be(true)
  end)
end)

describe("n-gram", function()
  it("scores the unsupported sentence higher", function()
    local r = S.ngram(passage, samples)
    expect(#r.sentences):to_be(2)
    expect(r.sentences[2].avg_neg_logprob > r.sentences[1].avg_neg_logprob):to_be(true)
  end)
end)

describe("consistency", function()
  it("is 0 for a sentence every sample repeats and high for an invented one", function()
    local r = S.consistency(passage, samples)
    expect(r.sentences[1]):to_be_close(1 - (1 + 1 + 0.8) / 3, 0.2)
    expect(r.sentences[2] > 0.5):to_be(true)
  end)
  it("takes a Lua similarity function", function()
    local exact = function(a, b) return a == b and 1 or 0 end
    local r = S.consistency("A b. C d.", { "A b. X.", "A b." }, exact)
    expect(r.sentences):to_equal({ 0, 1 })
    expect(r.doc):to_be(0.5)
  end)
  it("names a similarity that returns no number", function()
    expect(function() S.consistency("A.", { "A." }, function() return "x" end) end):to_fail("similarity returned string")
  end)
end)

describe("detectors", function()
  it("flag the invented passage and not the supported one", function()
    local rep = detect.run({ "selfcheck_ngram", "selfcheck_consistency" }, {
      { completion = passage, samples = samples },
      { completion = "Paris is the capital of France.", samples = samples },
    })
    expect(rep.rows[1].flags.selfcheck_consistency):to_be(true)
    expect(rep.rows[2].flags.selfcheck_consistency):to_be(false)
    expect(rep.rows[1].scores.selfcheck_ngram > rep.rows[2].scores.selfcheck_ngram):to_be(true)
  end)
  it("read TRL's conversational records as the plain ones", function()
    local function chat(t) return { { role = "assistant", content = t } } end
    local csamples = {}
    for i, t in ipairs(samples) do csamples[i] = chat(t) end
    local plain = detect.run({ "selfcheck_ngram", "selfcheck_consistency" }, { { completion = passage, samples = samples } })
    local conv = detect.run({ "selfcheck_ngram", "selfcheck_consistency" }, { { completion = chat(passage), samples = csamples } })
    expect(conv.rows[1].scores.selfcheck_ngram):to_be(plain.rows[1].scores.selfcheck_ngram)
    expect(conv.rows[1].scores.selfcheck_consistency):to_be(plain.rows[1].scores.selfcheck_consistency)
  end)
  it("define_consistency registers a custom detector", function()
    S.define_consistency("sc_exact", function(a, b) return a == b and 1 or 0 end, { threshold = 0.1 })
    local rep = detect.run({ "sc_exact" }, { { completion = "A b. C d.", samples = { "A b." } } })
    expect(rep.rows[1].flags.sc_exact):to_be(true)
  end)
end)
