/// Lua string patterns over find/match/gmatch/gsub with their results and error messages
/// written out as one text (LuaPatternTests compares Lua 5.4's own lstrlib.c with moonlab's copy).
let patternCorpus = #"""
-- Lua string patterns over find/match/gmatch/gsub, with the results (and error messages)
-- written out as one text: LuaPatternTests runs this in a state with Lua 5.4's own
-- lstrlib.c (the system liblua) and in a LuaState (moonlab's stoppable copy, luapattern.c)
-- and compares the two texts. Each case is run under pcall, so errors are compared too.
local out = {}
local function show(v)
  if type(v) == "string" then return string.format("%q", v) end
  return type(v) .. ":" .. tostring(v)
end
local function record(label, ok, ...)
  local parts = { label, tostring(ok) }
  for i = 1, select("#", ...) do parts[#parts + 1] = show((select(i, ...))) end
  out[#out + 1] = table.concat(parts, " | ")
end

local subjects = {
  "", "a", "hello world", "  padded  ", "key=value; other = 42", "THE (quick) [brown] {fox}",
  "f(a(b)c)d((e)", "aaa", "abcabcabc", "x\0y\0z", "line1\nline2\r\nline3", "3.14 -2 +7e10 0x1F",
  "camelCaseWordsAndMORE", "\xff\xfe\x80 bytes", "%d%s%%", "THE END$", "a.b.c", "[[x]]",
  ("ab"):rep(50), "tab\there", "üñí©ødé",
}
local patterns = {
  "", "a", "^a", "a$", "^$", ".", ".-", ".*", "a*", "a+", "a-", "a?", "^(a*)(.-)$",
  "(%w+)", "(%w+)=(%w+)", "%s*(%S+)%s*", "()ll()", "()", "(h)(e)(l)(l)(o)", "%bxy", "%b()",
  "%b[]", "%f[%w]%w+", "%f[%W]", "%f[%a]%a+%f[%A]", "[%a_][%w_]*", "[^%s]+", "[a-c]+",
  "[]]", "[^]]", "[%]]", "[a-]", "[-a]", "%d+%.?%d*", "[+-]?%d+", "0x%x+", "%p+", "%c",
  "%u%l+", "%l+", "%U+", "%z", "\0", "x%zy", "(.)%1", "(a)(b)%2", "((a)(b))", "%$", "$$",
  "^^", "a^", "(%a+)%s*=%s*(%a+)", "%.", "b.-c", "(.-)c", ".-b", "[%w%s]-%p", "%%", "[%%]",
  "%", "[a", "(", ")", "(()", "%1", "(a)%2", "%b", "%ba", "%f", "%fa", "%g+", "%G",
  "[%d-z]", "[z-a]", "(((((((((((((((((((((((((((((((((a)))))))))))))))))))))))))))))))))",
  "(.)(.)(.)(.)(.)(.)(.)(.)(.)(.)(.)(.)(.)(.)(.)(.)(.)(.)(.)(.)(.)(.)(.)(.)(.)(.)(.)(.)(.)(.)(.)(.)",
  "ü", "[\128-\255]+", "%w+$", "^%s*$",
}
local inits = { nil, 1, 2, -1, -3, 0, 100, -100 }

for si, s in ipairs(subjects) do
  for pi, p in ipairs(patterns) do
    for ii = 1, #inits + 1 do
      local init = inits[ii]
      local tag = si .. "/" .. pi .. "/" .. tostring(init)
      record("find " .. tag, pcall(string.find, s, p, init))
      record("match " .. tag, pcall(string.match, s, p, init))
      record("find-plain " .. tag, pcall(string.find, s, p, init, true))
      local ok, it = pcall(string.gmatch, s, p, init)
      if ok then
        local got, n = {}, 0
        local okk, err = pcall(function()
          for a, b, c in it do
            n = n + 1
            got[#got + 1] = show(a) .. "," .. show(b) .. "," .. show(c)
            if n > 300 then break end
          end
        end)
        record("gmatch " .. tag, okk, err, table.concat(got, ";"))
      else
        record("gmatch " .. tag, ok, it)
      end
    end
    record("gsub-str " .. si .. "/" .. pi, pcall(string.gsub, s, p, "<%0>"))
    record("gsub-cap " .. si .. "/" .. pi, pcall(string.gsub, s, p, "%1-%1"))
    record("gsub-pct " .. si .. "/" .. pi, pcall(string.gsub, s, p, "%%"))
    record("gsub-bad " .. si .. "/" .. pi, pcall(string.gsub, s, p, "%x"))
    record("gsub-num " .. si .. "/" .. pi, pcall(string.gsub, s, p, 7))
    record("gsub-max " .. si .. "/" .. pi, pcall(string.gsub, s, p, "#", 2))
    record("gsub-max0 " .. si .. "/" .. pi, pcall(string.gsub, s, p, "#", 0))
    record("gsub-tbl " .. si .. "/" .. pi, pcall(string.gsub, s, p, { a = "A", hello = false, key = 1, l = {} }))
    record("gsub-fn " .. si .. "/" .. pi, pcall(string.gsub, s, p, function(a, b)
      if a == "l" then return nil end
      if b ~= nil then return tostring(a) .. "+" .. tostring(b) end
      return "[" .. tostring(a) .. "]"
    end))
    record("gsub-fnbad " .. si .. "/" .. pi, pcall(string.gsub, s, p, function() return {} end))
  end
end
-- argument errors and the method form (the string metatable's __index)
record("badarg find", pcall(string.find, {}, "a"))
record("badarg gsub", pcall(string.gsub, "a", "a", true))
record("badarg gmatch", pcall(string.gmatch, "a", nil))
record("badarg init", pcall(string.find, "a", "a", "x"))
record("method", pcall(function() return ("key=val"):match("(%w+)=(%w+)") end))
record("method gsub", pcall(function() return ("hello"):gsub("l+", string.upper) end))
record("too complex", pcall(string.find, ("a"):rep(300), ("a?"):rep(300) .. ("a"):rep(300)))
record("numbers", pcall(string.find, 12345, 3))
record("gsub number subject", pcall(string.gsub, 1e15, "0", "x"))
record("gmatch anchor", pcall(function()
  local r = {} for w in ("aaa bbb"):gmatch("^%a+") do r[#r + 1] = w end return table.concat(r, ",")
end))
record("gmatch init", pcall(function()
  local r = {} for w in ("one two three"):gmatch("%a+", 5) do r[#r + 1] = w end return table.concat(r, ",")
end))
return table.concat(out, "\n")
"""#
