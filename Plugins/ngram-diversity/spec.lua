local D = ngram_diversity
local group = { "the cat sat on the mat", "the cat sat on the mat", "a dog ran in the park" }

describe("novelty", function()
  it("is 0 for a copy and 1 for a text with nothing shared", function()
    expect(D.novelty(group[1], { group[2], group[3] })):to_be(0)
    expect(D.novelty(group[3], { group[1], group[2] })):to_be(1)
    expect(D.novelty("one", { "two" })):to_be(0)
  end)
end)

describe("group", function()
  it("uses metrics.distinct_n and metrics.self_bleu", function()
    local g = D.group(group)
    expect(g.distinct_n):to_be_close(metrics.distinct_n(group, 2))
    expect(g.self_bleu):to_be_close(metrics.self_bleu(group, { n = 4 }))
    expect(g.diversity):to_be_close(1 - g.self_bleu)
    expect(g.size):to_be(3)
  end)
  it("groups records by prompt", function()
    local by, mean = D.by_prompt({
      { prompt = "p1", completion = "a b c" }, { prompt = "p1", completion = "a b c" },
      { prompt = "p2", completion = "x y z" }, { prompt = "p2", completion = "u v w" },
    })
    expect(by.p1.distinct_n):to_be(0.5)
    expect(by.p2.distinct_n):to_be(1)
    expect(mean.groups):to_be(2)
    expect(mean.distinct_n):to_be_close(0.75)
  end)
end)

describe("rewards", function()
  it("ngram_novelty rewards the odd one out", function()
    local r = reward.get("ngram_novelty")
    expect(r{ completion = group[3], group = group }):to_be(1)
    expect(r{ completion = group[1], group = group }):to_be(0)
  end)
  it("splits words as Python's str.split(): U+001C..U+001F and Unicode spaces", function()
    -- Python 3.11.7: a = "the\x1ccat\x1dsat\u2003on the\x1e\x1fmat\x85now"; the bigrams of
    -- a.lower().split() not in the others' ('The\u3000cat x', 'a\xa0dog', 'mat\u2028now\u205fthen'): 4 of 6
    local a = "the\28cat\29sat\226\128\131on the\30\31mat\194\133now"
    local others = { "The\227\128\128cat x", "a\194\160dog", "mat\226\128\168now\226\129\159then" }
    expect(D.novelty(a, others)):to_be_close(0.6666666666666666)
    local group = { { { role = "assistant", content = a } } }
    for i, o in ipairs(others) do group[i + 1] = o end
    expect(reward.get("ngram_novelty"){ completion = { { role = "assistant", content = a } }, group = group }):to_be_close(0.6666666666666666)
  end)
  it("group_distinct_n is the group's distinct-2", function()
    expect(reward.get("group_distinct_n"){ completion = group[1], group = group }):to_be_close(metrics.distinct_n(group, 2))
  end)
  it("reads TRL's conversational records (completions as {role, content} messages)", function()
    local function chat(t) return { { role = "assistant", content = t } } end
    local cgroup = { chat(group[1]), chat(group[2]), chat(group[3]) }
    expect(reward.get("ngram_novelty"){ completion = chat(group[3]), group = cgroup }):to_be(1)
    expect(reward.get("ngram_novelty"){ completion = chat(group[1]), group = cgroup }):to_be(0)
    expect(reward.get("group_distinct_n"){ completion = chat(group[1]), group = cgroup }):to_be_close(metrics.distinct_n(group, 2))
  end)
  it("says what is missing without a group", function()
    expect(function() reward.get("ngram_novelty"){ completion = "x" } end):to_fail("needs a group field")
  end)
end)
