/// The Lua half of `detect`: detector objects, their registry and `detect.run`'s report.
enum DetectLua {
    static let source = #"""
local W = ...
local typename = W.typename
local DetectorMT = { __name = "detector" }
DetectorMT.__index = DetectorMT
-- What a detector returned, as the three values every caller reads (detect.run, d(s),
-- moonlab score and serve through __call): flag (boolean), score, reason, or one table
-- {flag =, score =, reason =} whose flag is a boolean. nil is not flagged (a bare
-- `return`); any other first value is an error naming the detector and what was expected.
local function shown(v)
  if type(v) == "string" then return ("string %q"):format(#v > 40 and v:sub(1, 40) .. "..." or v) end
  if type(v) == "number" then return "number " .. tostring(v) end
  return typename(v)
end
local function detector_result(name, flag, score, reason)
  local tf = type(flag)
  if tf == "boolean" or flag == nil then return flag == true, score, reason end
  if tf == "table" then
    local t = flag
    if type(t.flag) ~= "boolean" then
      error(("detector '%s' returned a table whose flag is %s; expected flag = true or false (score and reason optional)")
        :format(name, t.flag == nil and "missing" or shown(t.flag)), 0)
    end
    return t.flag, t.score, t.reason
  end
  error(("detector '%s' returned %s as its flag; expected a boolean (return flag, score, reason) or a table {flag = boolean, score =, reason =}")
    :format(name, shown(flag)), 0)
end
W.detector_result = detector_result
DetectorMT.__call = function(self, s, state) return detector_result(self.name, self.fn(s, state)) end
DetectorMT.__tostring = function(self) return "detector " .. self.name end
W.DetectorMT = DetectorMT
local registry = {}
W.detectors = registry

function W.detect_define(name, fn, opts)
  if type(name) ~= "string" then
    error("bad argument #1 to 'detect.define' (string expected, got " .. typename(name) .. ")", 0)
  end
  if not W.callable(fn) then
    error("bad argument #2 to 'detect.define' (function expected, got " .. typename(fn) .. ")", 0)
  end
  opts = W.checkopts("detect.define", 3, opts, { "doc" })
  local d = setmetatable({ name = name, fn = fn, doc = opts.doc or "", builtin = false }, DetectorMT)
  registry[name] = d
  return d
end

function W.detect_get(name)
  if type(name) ~= "string" then
    error("bad argument #1 to 'detect.get' (string expected, got " .. typename(name) .. ")", 0)
  end
  local d = registry[name]
  if not d then error("detect.get: unknown detector '" .. name .. "'", 0) end
  return d
end

function W.detect_list()
  local names = {}
  for k in pairs(registry) do names[#names + 1] = k end
  table.sort(names)
  return names
end

function W.detect_remove(name)
  if type(name) ~= "string" then
    error("bad argument #1 to 'detect.remove' (string expected, got " .. typename(name) .. ")", 0)
  end
  local had = registry[name] ~= nil
  registry[name] = nil
  return had
end

local function resolve(x, i)
  if type(x) == "string" then
    local d = registry[x]
    if not d then error(("detect.run: unknown detector '%s'"):format(x), 0) end
    return x, d
  end
  if getmetatable(x) == DetectorMT then return x.name, x end
  if W.callable(x) then
    local name = "rule" .. i
    return name, function(s) return detector_result(name, x(s)) end
  end
  error(("detect.run: rule %d must be a detector, a name or a function, got %s"):format(i, typename(x)), 0)
end

local ReportMT = { __name = "detect.report" }
ReportMT.__tostring = function(r)
  local lines = { ("detect report: %d rows, %d rules"):format(r.n, #r.order) }
  local w = 4
  for _, name in ipairs(r.order) do w = math.max(w, #name) end
  lines[#lines + 1] = ("  %-" .. w .. "s  %9s  %10s  %6s"):format("rule", "flag rate", "mean score", "errors")
  for _, name in ipairs(r.order) do
    local s = r.rules[name]
    lines[#lines + 1] = ("  %-" .. w .. "s  %9.3f  %10s  %6d"):format(name, s.flag_rate,
      s.mean_score == s.mean_score and ("%.4g"):format(s.mean_score) or "-", s.errors)
  end
  local shown = 0
  for i, row in ipairs(r.rows) do
    local hits = {}
    for _, name in ipairs(r.order) do
      if row.flags[name] then hits[#hits + 1] = name .. (row.reasons[name] and (" (" .. row.reasons[name] .. ")") or "") end
    end
    if #hits > 0 and shown < 10 then
      lines[#lines + 1] = ("  row %d: %s"):format(i, table.concat(hits, "; "))
      shown = shown + 1
    end
  end
  return table.concat(lines, "\n")
end

function W.detect_run(rules, records)
  if type(rules) ~= "table" or getmetatable(rules) == DetectorMT then rules = { rules } end
  local rs, order = {}, {}
  for i, x in ipairs(rules) do
    local name, d = resolve(x, i)
    rs[#rs + 1] = { name, d }
    order[#order + 1] = name
  end
  if #rs == 0 then error("detect.run: no rules given", 0) end
  local recs = W.collect(records)
  if type(recs) ~= "table" then
    error("bad argument #2 to 'detect.run' (array of records expected, got " .. typename(records) .. ")", 0)
  end
  local stats, rows = {}, {}
  for _, name in ipairs(order) do stats[name] = { flagged = 0, flag_rate = 0, mean_score = 0 / 0, errors = 0, scored = 0, sum = 0 } end
  for i, s in ipairs(recs) do
    local row = { flags = {}, scores = {}, reasons = {} }
    for _, p in ipairs(rs) do
      local name, st = p[1], stats[p[1]]
      local ok, flag, score, reason = pcall(p[2], s)
      if not ok then
        st.errors = st.errors + 1
        row.flags[name] = false
        row.reasons[name] = "error: " .. tostring(flag)
      else
        row.flags[name] = flag and true or false
        if flag then st.flagged = st.flagged + 1 end
        if type(score) == "number" then row.scores[name] = score; st.sum = st.sum + score; st.scored = st.scored + 1 end
        if reason ~= nil then row.reasons[name] = tostring(reason) end
      end
    end
    rows[i] = row
  end
  for _, name in ipairs(order) do
    local st = stats[name]
    st.flag_rate = #recs > 0 and st.flagged / #recs or 0
    if st.scored > 0 then st.mean_score = st.sum / st.scored end
    st.sum, st.scored = nil, nil
  end
  return setmetatable({ n = #recs, order = order, rules = stats, rows = rows }, ReportMT)
end

return W
"""#
}
