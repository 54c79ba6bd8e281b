local P = pope
local dir = os.tmpname()
os.remove(dir)
local function write(path, lines)
  local f = assert(io.open(path, "w"))
  f:write(table.concat(lines, "\n"), "\n")
  f:close()
end

describe("parse", function()
  it("reads answers as evaluate.py does", function()
    expect(P.parse("Yes, there is a dog.")):to_be("yes")
    expect(P.parse("No, there is not.")):to_be("no")
    expect(P.parse("There is not a cat.")):to_be("no")
    expect(P.parse("Yes. No cat though")):to_be("yes")
    expect(P.parse("NO")):to_be("yes")
  end)
end)

describe("evaluate", function()
  local answers, labels = dir .. "-answers.jsonl", dir .. "-labels.jsonl"
  write(answers, { '{"answer": "Yes, there is."}', '{"answer": "No."}', '{"text": "Yes"}', '{"answer": "no"}' })
  write(labels, { '{"label": "yes"}', '{"label": "no"}', '{"label": "no"}', '{"label": "yes"}' })
  it("computes POPE's metrics for a file pair", function()
    local m = P.evaluate(answers, labels)
    expect(m.accuracy):to_be(0.5)
    expect(m.tp):to_be(1)
    expect(m.fp):to_be(1)
    expect(m.yes_ratio):to_be(0.5)
  end)
  it("reports metrics by split", function()
    local right = dir .. "-right.jsonl"
    write(right, { '{"answer": "Yes"}', '{"answer": "No"}', '{"answer": "No"}', '{"answer": "Yes"}' })
    local by = P.by_split({ random = { answers = answers, labels = labels }, popular = { answers = right, labels = labels } }, { print = false })
    os.remove(right)
    expect(by.popular.accuracy):to_be(1)
    expect(P.format(by)):to_contain("random")
  end)
  it("names both files when lengths differ", function()
    write(labels, { '{"label": "yes"}' })
    expect(function() P.evaluate(answers, labels) end):to_fail("has 4 answers")
  end)
  os.remove(answers); os.remove(labels)
end)

describe("the shipped POPE labels", function()
  -- In a moonlab checkout the plugin sits in Plugins/, beside Examples/data (the labels
  -- must be there); an installed copy has no example data, so these checks are left out.
  local checkout = plugin.info("pope").path .. "/../.."
  local labels = checkout .. "/Examples/data/POPE/coco/coco_pope_random.json"
  local in_checkout = io.open(checkout .. "/Package.swift")
  if in_checkout then
    in_checkout:close()
    it("an all-yes answerer has precision = share of yes and recall 1", function()
      local n, answers, ls = 0, {}, {}
      for r in data.jsonl(labels):each() do n = n + 1; answers[n] = "Yes"; ls[n] = r.label end
      local m = detect.pope(answers, ls)
      expect(n):to_be(3000)
      expect(m.precision):to_be(0.5)
      expect(m.recall):to_be(1)
      expect(m.yes_ratio):to_be(1)
    end)
  end
end)

describe("reward and detector", function()
  it("scores and flags per record", function()
    expect(reward.get("pope_correct"){ answer = "No, there is none.", label = "no" }):to_be(1)
    local rep = detect.run({ "pope_hallucination" }, { { answer = "Yes", label = "no", text = "Is there a cat?" }, { answer = "No", label = "no" } })
    expect(rep.rules.pope_hallucination.flagged):to_be(1)
  end)
  it("reads a trainer's completion, plain or in TRL's conversational format", function()
    -- POPE evaluate.py: "No, there is none." -> no; "Yes, a dog." -> yes (the label decides the score)
    local r = reward.get("pope_correct")
    expect(r{ prompt = "Is there a dog?", completion = "No, there is none.", label = "no" }):to_be(1)
    expect(r{ prompt = "Is there a dog?", completion = "Yes, a dog.", label = "no" }):to_be(0)
    expect(r{ prompt = { { role = "user", content = "Is there a dog?" } },
              completion = { { role = "assistant", content = "No, there is none." } }, label = "no" }):to_be(1)
    local rep = detect.run({ "pope_hallucination" }, { { completion = { { role = "assistant", content = "Yes." } }, label = "no" },
                                                       { completion = "No.", label = "no" } })
    expect(rep.rules.pope_hallucination.flagged):to_be(1)
  end)
end)
