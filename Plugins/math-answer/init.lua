-- math-answer: pull the final answer out of a solution and decide whether two answers agree.
local M = {}

-- The contents of the last \boxed{...} or \fbox{...} (braces balanced), or nil.
local function last_boxed(t)
  local last, i = nil, 1
  while true do
    local a, b = t:find("\\f?boxed%s*{", i)
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
  return last
end

--- The final answer of a solution: the last \boxed{}, else what follows "####" (GSM8K),
--- else "the answer is X", else the last number. nil if there is none.
function M.extract(text)
  if type(text) ~= "string" then return nil end
  local boxed = last_boxed(text)
  if boxed then return boxed end
  local hash = text:match("####%s*([^\n]+)")
  if hash then return (hash:gsub("%s+$", "")) end
  local said = text:lower():match("answer is%s*:?%s*([^\n]+)")
  if said then
    said = said:gsub("%.%s*$", ""):gsub("%s+$", "")
    if said ~= "" then return said end
  end
  local num
  for m in text:gmatch("%-?%$?%d[%d,]*%.?%d*%%?") do num = m end
  if not num then for m in text:gmatch("%-?%.%d+") do num = m end end
  return num and (num:gsub("[,.]$", ""))
end

local units = { "degrees", "degree", "dollars", "dollar", "cents", "units", "unit", "meters", "metres", "cm", "mm", "km", "kg",
  "g", "m", "inches", "inch", "feet", "ft", "hours", "hour", "minutes", "min", "seconds", "sec", "s", "miles", "mph", "square", "sq" }

--- A canonical text form: no $, spaces, \left/\right, \!, \text{unit}, ^\circ, trailing
--- period; \dfrac and \tfrac as \frac; thousands separators dropped.
function M.normalize(s)
  if s == nil then return nil end
  s = tostring(s)
  s = s:gsub("\\text%s*{%s*([^}]*)}", "%1"):gsub("\\mbox%s*{%s*([^}]*)}", "%1"):gsub("\\mathrm%s*{%s*([^}]*)}", "%1")
  s = s:gsub("\\left", ""):gsub("\\right", ""):gsub("\\!", ""):gsub("\\,", ""):gsub("\\;", ""):gsub("\\ ", " ")
  s = s:gsub("%^%s*{?\\circ}?", ""):gsub("°", ""):gsub("\\%%", "%%"):gsub("%$", "")
  s = s:gsub("\\[dt]frac", "\\frac")
  s = s:gsub("^%s+", ""):gsub("%s+$", ""):gsub("%.$", "")
  for _ = 1, 2 do
    for _, u in ipairs(units) do
      s = s:gsub("%s*%f[%a]" .. u .. "%f[%A]%^?%d?$", "")
    end
  end
  s = s:gsub("(%d),(%d%d%d)", "%1%2"):gsub("(%d),(%d%d%d)", "%1%2")
  s = s:gsub("%s+", "")
  return s
end

--- The number an answer means, or nil: 1,000; 0.5; -3; 1/2; \frac{1}{2}; \frac12; 2\frac{1}{2};
--- 50% (as 50, with `percent` true); 1e-3.
function M.to_number(s)
  if type(s) == "number" then return s end
  s = M.normalize(s)
  if not s or s == "" then return nil end
  local percent = false
  if s:sub(-1) == "%" then percent = true; s = s:sub(1, -2) end
  local n = tonumber(s)
  if n then return n, percent end
  local sign = 1
  if s:sub(1, 1) == "-" then sign = -1; s = s:sub(2) end
  local whole, p, q = s:match("^(%d*)\\frac{(%-?[%d.]+)}{(%-?[%d.]+)}$")
  if not p then whole, p, q = s:match("^(%d*)\\frac(%d)(%d)$") end
  if p and tonumber(q) ~= 0 then
    return sign * ((tonumber(whole) or 0) + tonumber(p) / tonumber(q)), percent
  end
  p, q = s:match("^(%-?[%d.]+)/(%-?[%d.]+)$")
  if p and tonumber(p) and tonumber(q) and tonumber(q) ~= 0 then return sign * tonumber(p) / tonumber(q), percent end
  return nil
end

--- Whether two answers agree: as numbers (relative tolerance 1e-6; a percentage also
--- matches its fraction, 50% = 0.5), else as normalized text (case-insensitive).
function M.equivalent(a, b, tol)
  if a == nil or b == nil then return false end
  tol = tol or 1e-6
  local x, xp = M.to_number(a)
  local y, yp = M.to_number(b)
  if x and y then
    local function close(u, v) return math.abs(u - v) <= tol * math.max(1, math.abs(v)) end
    if close(x, y) then return true end
    if xp and not yp and close(x / 100, y) then return true end
    if yp and not xp and close(x, y / 100) then return true end
    return false
  end
  return M.normalize(a):lower() == M.normalize(b):lower()
end

local function truth_of(s)
  local t = s.answer
  if t == nil then t = s.ground_truth end
  if t == nil then t = s.solution end
  if t == nil then error("math_answer: the sample has no answer, ground_truth or solution field", 0) end
  if type(t) == "string" and t:find("\\boxed") then t = last_boxed(t) end
  if type(t) == "string" and t:find("####") then t = t:match("####%s*([^\n]+)") end
  return t
end

reward.define("math_answer", function(s)
  local got = M.extract(reward.text(s))
  local want = truth_of(s)
  return M.equivalent(got, want) and 1 or 0, { extracted = got, expected = want }
end, { doc = "1 when the final answer of s.completion (\\boxed{}, ####, 'the answer is', last number) equals s.answer (or ground_truth, solution) as a number or normalized text, else 0" })

detect.define("math_answer_wrong", function(s)
  local got = M.extract(reward.text(s))
  local want = truth_of(s)
  if got == nil then return true, 1, "no final answer found" end
  if M.equivalent(got, want) then return false, 0 end
  return true, 1, ("answered %s, expected %s"):format(tostring(got), tostring(want))
end, { doc = "flags a completion whose final answer is missing or differs from s.answer" })

math_answer = M
return { unload = function() math_answer = nil end }
