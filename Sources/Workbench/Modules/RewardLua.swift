/// The Lua half of `reward`: the reward objects, their registry, `combine`, and the
/// built-in rewards. They are plain Lua so that every worker state has the same ones and a
/// combined or user reward can be sent to a worker (see `PortableDefinitions`).
enum RewardLua {
    static let source = #"""
local W = ...
local RewardMT = { __name = "reward" }
RewardMT.__index = RewardMT
RewardMT.__call = function(self, s, state) return self.fn(s, state) end
RewardMT.__tostring = function(self) return "reward " .. self.name end
W.RewardMT = RewardMT
local registry = {}
W.rewards = registry

local function typename(v)
  local mt = getmetatable(v)
  if type(mt) == "table" and type(mt.__name) == "string" then return mt.__name end
  return type(v)
end
W.typename = typename

local function callable(v)
  if type(v) == "function" then return true end
  local mt = getmetatable(v)
  return type(mt) == "table" and mt.__call ~= nil
end
W.callable = callable

function W.checkopts(fname, index, opts, allowed)
  if opts == nil then return {} end
  if type(opts) ~= "table" then
    error(("bad argument #%d to '%s' (table of options expected, got %s)"):format(index, fname, typename(opts)), 0)
  end
  for k in pairs(opts) do
    local ok = false
    for _, a in ipairs(allowed) do if a == k then ok = true end end
    if not ok then
      table.sort(allowed)
      error(("bad argument #%d to '%s' (unknown option '%s'; valid options: %s)"):format(
        index, fname, tostring(k), table.concat(allowed, ", ")), 0)
    end
  end
  return opts
end

function W.new(name, fn, doc, builtin)
  return setmetatable({ name = name, fn = fn, doc = doc or "", builtin = builtin or false }, RewardMT)
end

function W.define(name, fn, opts)
  if type(name) ~= "string" then
    error("bad argument #1 to 'reward.define' (string expected, got " .. typename(name) .. ")", 0)
  end
  if not callable(fn) then
    error("bad argument #2 to 'reward.define' (function expected, got " .. typename(fn) .. ")", 0)
  end
  opts = W.checkopts("reward.define", 3, opts, { "doc" })
  local r = W.new(name, fn, opts.doc, false)
  registry[name] = r
  return r
end

-- A reward from a name, a reward object or a function; nil and a message otherwise.
function W.resolve(x)
  if type(x) == "string" then
    local r = registry[x]
    if not r then return nil, "unknown reward '" .. x .. "'" end
    return r
  end
  if getmetatable(x) == RewardMT then return x end
  if callable(x) then return W.new("<function>", x, "", false) end
  return nil, "reward, name or function expected, got " .. typename(x)
end

function W.get(name)
  if type(name) ~= "string" then
    error("bad argument #1 to 'reward.get' (string expected, got " .. typename(name) .. ")", 0)
  end
  local r = registry[name]
  if not r then error("reward.get: unknown reward '" .. name .. "'", 0) end
  return r
end

function W.list()
  local names = {}
  for k in pairs(registry) do names[#names + 1] = k end
  table.sort(names)
  return names
end

function W.remove(name)
  if type(name) ~= "string" then
    error("bad argument #1 to 'reward.remove' (string expected, got " .. typename(name) .. ")", 0)
  end
  local had = registry[name] ~= nil
  registry[name] = nil
  return had
end

function W.combine(parts)
  if type(parts) ~= "table" then
    error("bad argument #1 to 'reward.combine' (table of {reward, weight} pairs expected, got " .. typename(parts) .. ")", 0)
  end
  if #parts == 0 then error("reward.combine: no parts given", 0) end
  local resolved, names, keys, used = {}, {}, {}, {}
  for i, p in ipairs(parts) do
    if type(p) ~= "table" or getmetatable(p) == RewardMT then
      error(("reward.combine: part %d must be a {reward, weight} pair, got %s"):format(i, typename(p)), 0)
    end
    local r, msg = W.resolve(p[1])
    if not r then error(("reward.combine: part %d: %s"):format(i, msg), 0) end
    local w = p[2] == nil and 1 or p[2]
    if type(w) ~= "number" and not callable(w) then
      error(("reward.combine: part %d: weight must be a number or a function of state, got %s"):format(i, typename(w)), 0)
    end
    resolved[i] = { r, w }
    names[i] = type(w) == "number" and ("%g*%s"):format(w, r.name) or ("w(state)*%s"):format(r.name)
    -- info keys: the part's name, numbered when two parts share it
    local key = r.name
    if used[key] then key = key .. "#" .. i end
    used[key] = true
    keys[i] = key
  end
  -- A part returning nil or NaN does not apply to the sample and adds nothing (TRL 1.x sums
  -- its reward functions with nansum, None being NaN); when no part applies, neither does the
  -- sum.
  -- A weight may be a function of state (a curriculum: state.step, state.epoch,
  -- state.max_steps), evaluated on every call. Called as a reward it returns the sum alone;
  -- r:parts(s, state) passes `info` to fill with each part's raw value, weight and weighted
  -- value (one function, so workers get the same code either way).
  local r = W.new("combine(" .. table.concat(names, " + ") .. ")", function(s, state, info)
    local total, applies = 0, false
    for i, p in ipairs(resolved) do
      local w = p[2]
      if type(w) ~= "number" then
        w = w(state or {})
        if type(w) ~= "number" then
          error(("the weight of part %d ('%s') returned %s, expected a number"):format(i, p[1].name, typename(w)), 0)
        end
      end
      local v = p[1](s, state)
      if v ~= nil then
        if type(v) ~= "number" then
          error(("reward '%s' returned %s, expected a number or nil"):format(p[1].name, typename(v)), 0)
        end
        -- TRL's nansum: a NaN part (None there, or a NaN returned) adds nothing, and so does
        -- a weighted value that is NaN (0 * inf); only all-NaN/nil raw parts make it nil
        if v == v then
          applies = true
          local wv = w * v
          if wv == wv then total = total + wv end
        end
      end
      if info then
        local k = keys[i]
        local weighted = v ~= nil and w * v or nil
        info.parts[i] = { name = k, raw = v, weight = w, weighted = weighted }
        info.raw[k], info.weights[k], info.weighted[k] = v, w, weighted
      end
    end
    if applies then return total end
    return nil
  end, "weighted sum", false)
  r.combined = true
  return r
end

-- reward:parts(s, state) -> value, info: a combined reward's sum and what each part gave.
function RewardMT.parts(self, s, state)
  if getmetatable(self) ~= RewardMT then
    error("bad argument #1 to 'reward:parts' (reward expected, got " .. typename(self) .. ")", 0)
  end
  if not self.combined then
    error("reward:parts: '" .. tostring(self.name) .. "' is not a reward.combine result", 0)
  end
  local info = { parts = {}, raw = {}, weights = {}, weighted = {} }
  local total = self.fn(s, state, info)
  info.total = total
  return total, info
end

-- Records as an array: a Lua array, or anything with an each() iterator (a dataset).
function W.collect(records)
  local t = type(records)
  if t ~= "table" and t ~= "userdata" then return nil end
  local each = t == "table" and rawget(records, "each") or nil
  if each == nil then  -- a dataset: its each() method, found through its metatable
    local ok, e = pcall(function() return records.each end)
    if ok then each = e end
  end
  if type(each) ~= "function" then return records end
  local out = {}
  for r in each(records) do out[#out + 1] = r end
  return out
end

-- Built-in rewards ----------------------------------------------------------------------
-- The text of a message's content: a string, or a list of parts ({type = "text", text =})
-- as OpenAI's and TRL's multimodal messages have; nil for anything else.
local function content_text(c)
  if type(c) == "string" then return c end
  if type(c) ~= "table" then return nil end
  local out = {}
  for _, part in ipairs(c) do
    if type(part) == "string" then out[#out + 1] = part
    elseif type(part) == "table" and type(part.text) == "string" then out[#out + 1] = part.text end
  end
  return table.concat(out)
end

-- The text of a prompt or completion field: a string, or TRL's conversational format (a
-- list of {role =, content =} messages), whose text is the first message's content, as
-- TRL 1.x's own reward functions take it (`completion[0]["content"]`). nil otherwise.
local function field_text(v)
  if type(v) == "string" then return v end
  if type(v) ~= "table" then return nil end
  local m = v[1]
  if type(m) == "table" then return content_text(m.content) end
  if m == nil and v.content ~= nil then return content_text(v.content) end  -- one message alone
  return nil
end
W.field_text = field_text

-- The completion text of a sample (a record table, or the text itself). Errors are raised
-- without a position (level 0): the position would be inside moonlab's own code.
local function text_of(s, field)
  field = field or "completion"
  if type(s) == "string" then return s end
  if type(s) ~= "table" then error("sample table expected, got " .. typename(s), 0) end
  local v = s[field]
  local t = field_text(v)
  if t == nil then
    if v == nil then error("sample has no field '" .. field .. "' (a string or a list of {role, content} messages)", 0) end
    error("sample field '" .. field .. "' is a " .. typename(v) .. ", expected a string or a list of {role, content} messages", 0)
  end
  return t
end
W.text_of = text_of

function W.text(s, field)
  if field ~= nil and type(field) ~= "string" then
    error("bad argument #2 to 'reward.text' (string expected, got " .. typename(field) .. ")", 0)
  end
  if type(s) ~= "table" and type(s) ~= "string" then
    error("bad argument #1 to 'reward.text' (sample table expected, got " .. typename(s) .. ")", 0)
  end
  local ok, t = pcall(text_of, s, field)
  if not ok then error("reward.text: " .. t, 0) end
  return t
end

W.format_pattern = "^%s*<think>.-</think>%s*<answer>.-</answer>%s*$"
function W.make_format(pattern)
  pattern = pattern or W.format_pattern
  return function(s) return string.find(text_of(s), pattern) and 1 or 0 end
end

-- The number of words as Python's len(text.split()) counts them: runs of characters
-- between whitespace, which is str.isspace's: ASCII \t\n\v\f\r, U+001C..U+001F and
-- space, and U+0085, U+00A0, U+1680, U+2000..U+200A, U+2028, U+2029, U+202F, U+205F, U+3000.
local function word_count(t)
  t = t:gsub("\xC2[\x85\xA0]", " "):gsub("\xE1\x9A\x80", " "):gsub("\xE2\x80[\x80-\x8A\xA8\xA9\xAF]", " ")
  t = t:gsub("\xE2\x81\x9F", " "):gsub("\xE3\x80\x80", " ")
  local n = 0
  for _ in t:gmatch("[^%s\28-\31]+") do n = n + 1 end
  return n
end
W.word_count = word_count

function W.make_length(o)
  local target, shape, unit = o.target or 200, o.shape or "linear", o.unit or "chars"
  local scale = o.scale or target
  return function(s)
    local t = text_of(s)
    local n = 0
    if unit == "words" then n = word_count(t)
    elseif unit == "chars" then n = utf8.len(t) or #t
    else n = #t end
    local want = (type(s) == "table" and type(s.target_length) == "number") and s.target_length or target
    local d = (n - want) / scale
    if shape == "linear" then return math.max(0, 1 - math.abs(d))
    elseif shape == "quadratic" then return math.max(0, 1 - d * d)
    elseif shape == "gaussian" then return math.exp(-0.5 * d * d)
    else return n <= want and 1 or 0 end   -- "cutoff"
  end
end

-- The content of the last \boxed{...} (braces balanced), else the last number.
function W.extract_answer(t)
  local last
  local i = 1
  while true do
    local a, b = t:find("\\boxed%s*{", i)
    if not a then break end
    local depth, j = 1, b + 1
    while j <= #t and depth > 0 do
      local c = t:sub(j, j)
      if c == "{" then depth = depth + 1 elseif c == "}" then depth = depth - 1 end
      j = j + 1
    end
    if depth == 0 then last = t:sub(b + 1, j - 2) end
    i = b + 1
  end
  if last then return last end
  local num
  for m in t:gmatch("%-?%d[%d,]*%.?%d*") do num = m end
  if not num then for m in t:gmatch("%-?%.%d+") do num = m end end
  return num
end

local function as_number(x)
  if type(x) == "number" then return x end
  if type(x) ~= "string" then return nil end
  local t = x:gsub("[%s$,]", ""):gsub("\\%%", ""):gsub("%%$", ""):gsub("^\\text{(.*)}$", "%1")
  local p, q = t:match("^\\d?frac{(%-?[%d.]+)}{(%-?[%d.]+)}$")
  if p then return tonumber(p) / tonumber(q) end
  p, q = t:match("^(%-?[%d.]+)/(%-?[%d.]+)$")
  if p and tonumber(p) and tonumber(q) then return tonumber(p) / tonumber(q) end
  return tonumber(t)
end
W.as_number = as_number

function W.make_accuracy(o)
  local field, tol = o.field, o.tolerance or 1e-6
  return function(s)
    local t = text_of(s)
    local truth
    if field then truth = s[field]
    else truth = s.answer; if truth == nil then truth = s.ground_truth end; if truth == nil then truth = s.solution end end
    if truth == nil then error("sample has no ground truth (field '" .. (field or "answer") .. "')", 0) end
    if type(truth) == "string" and not as_number(truth) then
      local boxed = W.extract_answer(truth)
      if boxed and (truth:find("\\boxed") or as_number(boxed)) then truth = boxed end
    end
    local got = W.extract_answer(t)
    if got == nil then return 0 end
    local a, b = as_number(got), as_number(truth)
    if a and b then return math.abs(a - b) <= tol * math.max(1, math.abs(b)) and 1 or 0 end
    local norm = function(x) return (tostring(x):gsub("%s+", " "):gsub("^ ", ""):gsub(" $", ""):gsub("%$", "")) end
    return norm(got) == norm(truth) and 1 or 0
  end
end

function W.make_repetition(o)
  local n = o.n or 3
  return function(s)
    local r = detect.repetition(text_of(s), { n = n })
    return r == 0 and 0 or -r
  end
end

function W.format(pattern)
  if pattern ~= nil and type(pattern) ~= "string" then
    error("bad argument #1 to 'reward.format' (string expected, got " .. typename(pattern) .. ")", 0)
  end
  return W.new("format", W.make_format(pattern), "format reward with pattern " .. (pattern or W.format_pattern), false)
end

local shapes = { linear = true, quadratic = true, gaussian = true, cutoff = true }
function W.length(o)
  o = W.checkopts("reward.length", 1, o, { "target", "shape", "scale", "unit" })
  if o.target ~= nil and (type(o.target) ~= "number" or o.target <= 0) then
    error("bad argument #1 to 'reward.length' (option 'target' must be a positive number)", 0)
  end
  if o.shape ~= nil and not shapes[o.shape] then
    error("bad argument #1 to 'reward.length' (option 'shape' must be one of \"linear\", \"quadratic\", \"gaussian\", \"cutoff\", got " .. tostring(o.shape) .. ")", 0)
  end
  if o.unit ~= nil and o.unit ~= "chars" and o.unit ~= "words" and o.unit ~= "bytes" then
    error("bad argument #1 to 'reward.length' (option 'unit' must be one of \"chars\", \"words\", \"bytes\", got " .. tostring(o.unit) .. ")", 0)
  end
  return W.new("length", W.make_length(o), "length reward", false)
end

function W.accuracy(o)
  o = W.checkopts("reward.accuracy", 1, o, { "field", "tolerance" })
  return W.new("accuracy", W.make_accuracy(o), "accuracy reward", false)
end

function W.repetition(o)
  o = W.checkopts("reward.repetition", 1, o, { "n" })
  return W.new("repetition", W.make_repetition(o), "repetition penalty", false)
end

registry.format = W.new("format", W.make_format(), "", true)
registry.length = W.new("length", W.make_length({}), "", true)
registry.accuracy = W.new("accuracy", W.make_accuracy({}), "", true)
registry.repetition = W.new("repetition", W.make_repetition({}), "", true)

return W
"""#
}
