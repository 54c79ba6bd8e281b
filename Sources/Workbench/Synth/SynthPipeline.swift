/// The LAB pipeline (`synth.generate`), `synth.coverage` and `synth.mix`, written in Lua:
/// each step is a few lines a researcher can read, and the teacher's calls go through
/// `model.openai`'s `chat_many` (concurrent, recorded, replayable).
enum SynthPipeline {
    static let source = #"""
local templates_source, null, may_open_files, loadfile = ...

local M = {}

local function default_templates()
  return assert(load(templates_source, "=synth.templates"))()
end

local function load_templates(t)
  if t == nil then return default_templates() end
  if type(t) == "table" then
    local base = default_templates()
    for k, v in pairs(t) do base[k] = v end
    return base
  end
  if type(t) ~= "string" then error("synth.generate: templates must be a table or a file path, got " .. type(t), 3) end
  local refused = may_open_files()  -- refused in the sandbox (the file is code)
  if refused then error(refused, 3) end
  local chunk, err = loadfile(t)
  if not chunk then error("synth.generate: templates: " .. tostring(err), 3) end
  local ok, tt = pcall(chunk)
  if not ok or type(tt) ~= "table" then error("synth.generate: templates file " .. t .. " must return a table", 3) end
  local base = default_templates()
  for k, v in pairs(tt) do base[k] = v end
  return base
end

local function fill(template, fields, name)
  if type(template) ~= "string" then error("synth.generate: template '" .. name .. "' is missing", 0) end
  return (template:gsub("{([%w_]+)}", function(k)
    local v = fields[k]
    if v == nil or v == null then return "" end
    return tostring(v)
  end))
end

local function messages(system, user)
  return {{role = "system", content = system}, {role = "user", content = user}}
end

-- Asks the teacher every prompt at once; returns texts (nil where the call failed) and errors.
local function ask(teacher, system, prompts, opts)
  local convs = {}
  for i, p in ipairs(prompts) do convs[i] = messages(system, p) end
  if #convs == 0 then return {}, {} end
  local rs = teacher:chat_many(convs, opts)
  local texts, errs = {}, {}
  for i, r in ipairs(rs) do
    if r.error then errs[i] = r.error else texts[i] = r.text end
  end
  return texts, errs
end

local function keep_by(check, record)
  local ok, v = pcall(check, record)
  if not ok then return false, "raised: " .. tostring(v) end
  if v == true then return true end
  if type(v) == "number" then return v > 0, ("scored %.4g"):format(v) end
  return false, "returned " .. tostring(v)
end

local function as_check(x, what)
  if x == nil or x == false then return nil end
  if type(x) == "function" then return x end
  if type(x) == "string" then
    local r = reward.get(x)
    return function(s) return (r(s)) end
  end
  if type(x) == "table" and x.detector then
    local d = detect.get(x.detector)
    return function(s) local flag = d(s); return not flag end
  end
  if type(x) == "table" and x.reward then
    local r = reward.get(x.reward)
    return function(s) return (r(s)) end
  end
  local mt = getmetatable(x)
  if mt and mt.__call then return function(s) return (x(s)) end end
  error("synth.generate: " .. what .. " must be a function, a reward name, {reward = name} or {detector = name}", 3)
end

local function new_step(name)
  return {name = name, generated = 0, dropped = 0, reasons = {}, log = {}}
end

local function drop(step, leaf_report, item, reason)
  step.dropped = step.dropped + 1
  local key = reason:match("^[^:]+") or reason
  step.reasons[key] = (step.reasons[key] or 0) + 1
  leaf_report.dropped[#leaf_report.dropped + 1] = {step = step.name, item = item, reason = reason}
end

local valid = {leaves = true, teacher = true, per_leaf = true, seed = true, filter = true, templates = true,
  faithfulness = true, judge = true, max_tokens = true, temperature = true, examples = true, rounds = true,
  progress = true}

function M.generate(o)
  if type(o) ~= "table" then error("synth.generate: expected a table of options {leaves =, teacher =, ...}", 2) end
  for k in pairs(o) do
    if not valid[k] then
      local names = {}
      for n in pairs(valid) do names[#names + 1] = n end
      table.sort(names)
      error("synth.generate: unknown option '" .. tostring(k) .. "'; valid options: " .. table.concat(names, ", "), 2)
    end
  end
  if type(o.leaves) ~= "table" then error("synth.generate: leaves must be the list synth.taxonomy returns", 2) end
  if o.teacher == nil then error("synth.generate: teacher is required (a model.openai client)", 2) end
  local per_leaf = o.per_leaf or 10
  if math.type(per_leaf) ~= "integer" or per_leaf < 1 then error("synth.generate: per_leaf must be a positive integer", 2) end
  local T = load_templates(o.templates)
  local seed = o.seed or 0
  local rng = random.new(seed)
  local n_examples = o.examples or 3
  local rounds = o.rounds or 3
  local gen_opts = {max_tokens = o.max_tokens or 256, temperature = o.temperature or 0.7}
  local judge_opts = {max_tokens = 8, temperature = 0}
  local judge = o.judge ~= false
  local filter = as_check(o.filter, "filter")
  local faithfulness = o.faithfulness
  local faith_check = (faithfulness ~= nil and faithfulness ~= false and faithfulness ~= "teacher") and as_check(faithfulness, "faithfulness") or nil
  local records, report = {}, {total = {generated = 0, kept = 0, dropped = 0}, leaves = {}}
  for li, leaf in ipairs(o.leaves) do
    if type(leaf) ~= "table" or type(leaf.seeds) ~= "table" then error("synth.generate: leaves[" .. li .. "] is not a leaf", 2) end
    local lr = {path = leaf.path, kind = leaf.kind, seeds = #leaf.seeds, steps = {}, dropped = {}, kept = 0}
    report.leaves[#report.leaves + 1] = lr
    report[leaf.path] = lr
    local fields = {task_description = leaf.task_description or ("Answer questions about " .. tostring(leaf.domain)),
                    domain = leaf.domain or leaf.task_description or "", document_outline = leaf.document_outline}
    -- 1. questions, from a few seeds at a time (and their context, when grounded)
    local s1 = new_step("questions")
    local candidates, seen = {}, {}
    for _, sd in ipairs(leaf.seeds) do seen[sd.question:lower()] = true end
    for round = 1, rounds do
      if #candidates >= per_leaf * 2 then break end
      local picks, prompts, contexts = {}, {}, {}
      local batches = leaf.grounded and math.min(#leaf.seeds, 2) or 1
      for b = 1, batches do
        local ex, ctx = {}, nil
        for k = 1, math.min(n_examples, #leaf.seeds) do
          local sd = leaf.seeds[math.floor(rng:uniform() * #leaf.seeds) + 1]
          ex[#ex + 1] = "- " .. sd.question
          ctx = ctx or sd.context
        end
        local f = setmetatable({examples = table.concat(ex, "\n"), context = ctx, n = per_leaf}, {__index = fields})
        prompts[b] = fill(leaf.grounded and ctx and T.questions_grounded or T.questions_skill, f, "questions")
        contexts[b] = ctx
      end
      local opts = {max_tokens = gen_opts.max_tokens, temperature = gen_opts.temperature, seed = seed * 1000 + li * 10 + round}
      local texts, errs = ask(o.teacher, T.system, prompts, opts)
      for b = 1, #prompts do
        s1.log[#s1.log + 1] = {input = prompts[b], output = texts[b] or errs[b]}
        if errs[b] then drop(s1, lr, prompts[b], "error: " .. errs[b]) end
        for _, q in ipairs(texts[b] and T.parse_questions(texts[b]) or {}) do
          s1.generated = s1.generated + 1
          if seen[q:lower()] then drop(s1, lr, q, "duplicate: asked before or a seed")
          else seen[q:lower()] = true; candidates[#candidates + 1] = {question = q, context = contexts[b]} end
        end
      end
    end
    lr.steps[#lr.steps + 1] = s1
    -- 2. the teacher judges the questions
    local s2 = new_step("judge_questions")
    local kept_q = {}
    if judge and #candidates > 0 then
      local prompts = {}
      for i, c in ipairs(candidates) do prompts[i] = fill(T.judge_question, setmetatable({question = c.question}, {__index = fields}), "judge_question") end
      local texts, errs = ask(o.teacher, T.system, prompts, judge_opts)
      for i, c in ipairs(candidates) do
        s2.generated = s2.generated + 1
        s2.log[#s2.log + 1] = {input = prompts[i], output = texts[i] or errs[i]}
        local v = texts[i] and T.verdict(texts[i])
        if errs[i] then drop(s2, lr, c.question, "error: " .. errs[i])
        elseif v == false then drop(s2, lr, c.question, "judge: the teacher said no")
        elseif v == nil then drop(s2, lr, c.question, "judge: no yes/no in " .. ("%q"):format(texts[i]:sub(1, 60)))
        else kept_q[#kept_q + 1] = c end
      end
    else
      kept_q = candidates
    end
    lr.steps[#lr.steps + 1] = s2
    -- 3. answers (grounded in the context where there is one)
    local s3 = new_step("answers")
    local pairs_ = {}
    if #kept_q > 0 then
      local prompts = {}
      for i, c in ipairs(kept_q) do
        prompts[i] = fill(c.context and T.answer_grounded or T.answer, setmetatable({question = c.question, context = c.context}, {__index = fields}), "answer")
      end
      local texts, errs = ask(o.teacher, T.system, prompts, {max_tokens = gen_opts.max_tokens, temperature = gen_opts.temperature, seed = seed * 1000 + li})
      for i, c in ipairs(kept_q) do
        s3.log[#s3.log + 1] = {input = prompts[i], output = texts[i] or errs[i]}
        if errs[i] then drop(s3, lr, c.question, "error: " .. errs[i])
        elseif not texts[i]:find("%S") then drop(s3, lr, c.question, "empty: the teacher gave no answer")
        else
          s3.generated = s3.generated + 1
          pairs_[#pairs_ + 1] = {leaf = leaf.path, context = c.context, question = c.question, answer = texts[i]:gsub("^%s+", ""):gsub("%s+$", "")}
        end
      end
    end
    lr.steps[#lr.steps + 1] = s3
    -- 4. faithfulness: the teacher as judge, or a detector / reward / function in its place
    local s4 = new_step("faithfulness")
    local faithful = {}
    if faith_check then
      for _, p in ipairs(pairs_) do
        s4.generated = s4.generated + 1
        local ok, why = keep_by(faith_check, p)
        if ok then faithful[#faithful + 1] = p else drop(s4, lr, p.question, "faithfulness: " .. (why or "rejected")) end
      end
    elseif faithfulness ~= false and judge and #pairs_ > 0 then
      local prompts = {}
      for i, p in ipairs(pairs_) do
        prompts[i] = fill(p.context and T.judge_faithfulness or T.judge_answer, setmetatable({question = p.question, answer = p.answer, context = p.context}, {__index = fields}), "judge_faithfulness")
      end
      local texts, errs = ask(o.teacher, T.system, prompts, judge_opts)
      for i, p in ipairs(pairs_) do
        s4.generated = s4.generated + 1
        s4.log[#s4.log + 1] = {input = prompts[i], output = texts[i] or errs[i]}
        local v = texts[i] and T.verdict(texts[i])
        if errs[i] then drop(s4, lr, p.question, "error: " .. errs[i])
        elseif v == false then drop(s4, lr, p.question, "faithfulness: the teacher said no")
        elseif v == nil then drop(s4, lr, p.question, "faithfulness: no yes/no in " .. ("%q"):format(texts[i]:sub(1, 60)))
        else faithful[#faithful + 1] = p end
      end
    else
      faithful = pairs_
    end
    lr.steps[#lr.steps + 1] = s4
    -- 5. the filter (a reward, its name, or a function; kept when > 0), then per_leaf at most
    local s5 = new_step("filter")
    for _, p in ipairs(faithful) do
      p.messages = {{role = "user", content = p.context and (p.context .. "\n\n" .. p.question) or p.question},
                    {role = "assistant", content = p.answer}}
      s5.generated = s5.generated + 1
      local ok, why = true, nil
      if filter then
        local s = setmetatable({prompt = p.question, completion = p.answer}, {__index = p})
        ok, why = keep_by(filter, s)
      end
      if not ok then drop(s5, lr, p.question, "filter: " .. (why or "rejected"))
      elseif lr.kept >= per_leaf then drop(s5, lr, p.question, "surplus: per_leaf reached")
      else lr.kept = lr.kept + 1; records[#records + 1] = p end
    end
    lr.steps[#lr.steps + 1] = s5
    report.total.generated = report.total.generated + s1.generated
    report.total.kept = report.total.kept + lr.kept
    report.total.dropped = report.total.dropped + #lr.dropped
  end
  return records, report
end

function M.coverage(leaves, records)
  if type(leaves) ~= "table" then error("synth.coverage: leaves must be the list synth.taxonomy returns", 2) end
  local counts, unknown = {}, 0
  local known = {}
  for _, l in ipairs(leaves) do known[l.path] = true end
  local function add(r)
    local k = type(r) == "table" and r.leaf or nil
    if k ~= nil and known[k] then counts[k] = (counts[k] or 0) + 1 else unknown = unknown + 1 end
  end
  if records ~= nil then
    if type(records) == "table" and records.each == nil then for _, r in ipairs(records) do add(r) end
    else for r in records:each() do add(r) end end
  end
  local out = {unknown = unknown}
  for i, l in ipairs(leaves) do
    out[i] = {path = l.path, kind = l.kind, seeds = #l.seeds, generated = counts[l.path] or 0}
    out[l.path] = out[i]
  end
  return out
end

local function materialise(x, what)
  if x == nil then return {} end
  if type(x) == "table" and x.each == nil then return x end
  local ok, list = pcall(function() local t = {} for r in x:each() do t[#t + 1] = r end return t end)
  if not ok then error("synth.mix: " .. what .. " must be a list of records or a dataset", 3) end
  return list
end

function M.mix(o)
  if type(o) ~= "table" then error("synth.mix: expected {skills =, replay =, alpha = 0.5, total = nil, seed = 0}", 2) end
  for k in pairs(o) do
    if k ~= "skills" and k ~= "replay" and k ~= "alpha" and k ~= "total" and k ~= "seed" then
      error("synth.mix: unknown option '" .. tostring(k) .. "'; valid options: alpha, replay, seed, skills, total", 2)
    end
  end
  local skills, replay = materialise(o.skills, "skills"), materialise(o.replay, "replay")
  local alpha = o.alpha or 0.5
  if type(alpha) ~= "number" or alpha ~= alpha or alpha < 0 or alpha > 1 then error("synth.mix: alpha must be in [0, 1], got " .. tostring(alpha), 2) end
  local total = o.total
  if total == nil then
    if alpha > 0 then total = math.floor(#skills / alpha + 0.5) else total = #replay end
  end
  if math.type(total) ~= "integer" then
    if type(total) == "number" and total == math.floor(total) then total = math.tointeger(total)
    else error("synth.mix: total must be a non-negative integer, got " .. tostring(total), 2) end
  end
  if total < 0 then error("synth.mix: total must be a non-negative integer, got " .. total, 2) end
  local n_skills = math.floor(alpha * total + 0.5)
  local n_replay = total - n_skills
  if n_skills > 0 and #skills == 0 then error("synth.mix: " .. n_skills .. " skills records asked for, but skills is empty", 2) end
  if n_replay > 0 and #replay == 0 then error("synth.mix: " .. n_replay .. " replay records asked for, but replay is empty", 2) end
  local rng = random.new(o.seed or 0)
  local function shuffled(n) local p = {} for i = 1, n do p[i] = i end
    for i = n, 2, -1 do local j = math.floor(rng:uniform() * i) + 1; p[i], p[j] = p[j], p[i] end return p end
  -- without replacement while a pool lasts: whole shuffled passes, then a shuffled part
  local function draw(pool, n, out)
    local k = 0
    while k < n do
      local perm = shuffled(#pool)
      for _, i in ipairs(perm) do if k == n then break end k = k + 1; out[#out + 1] = pool[i] end
    end
  end
  local out = {}
  draw(skills, n_skills, out)
  draw(replay, n_replay, out)
  local perm = shuffled(#out)
  local mixed = {}
  for i, j in ipairs(perm) do mixed[i] = out[j] end
  return mixed, {skills = n_skills, replay = n_replay, total = total}
end

return M

"""#
}
