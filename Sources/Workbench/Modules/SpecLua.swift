/// The Lua half of `spec`: describe/it/expect for plugin specs and users' own checks.
enum SpecLua {
    static let source = #"""
local M = { verbose = false }
local names, results = {}, nil
local traceback = debug and debug.traceback
local print, pcall, xpcall, type, tostring, error, ipairs, pairs = print, pcall, xpcall, type, tostring, error, ipairs, pairs
local getmetatable, setmetatable, concat, abs = getmetatable, setmetatable, table.concat, math.abs

function M.reset() results = { passed = 0, failed = 0, failures = {} } end
M.reset()

local function show(v)
  if type(v) == "string" then return ("%q"):format(v) end
  if type(v) == "number" and v == math.floor(v) and abs(v) < 2^53 then return ("%d"):format(v) end
  if type(v) == "number" then return ("%.17g"):format(v) end
  return tostring(v)
end

local function deep_equal(a, b, seen)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" then
    local ma = getmetatable(a)
    if type(a) == "userdata" and type(b) == "userdata" and type(ma) == "table" and ma.__name == "tensor" then
      return a:equal(b)
    end
    return false
  end
  seen = seen or {}
  if seen[a] == b then return true end
  seen[a] = b
  for k, v in pairs(a) do if not deep_equal(v, b[k], seen) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end

local function values(x)
  if type(x) == "number" then return { x } end
  if type(x) == "userdata" and x.totable then return x:totable() end
  return x
end

local Expect = {}
Expect.__index = Expect
Expect.__name = "expectation"

local function fail(msg) error(msg, 3) end

function Expect:to_be(y)
  if self.value ~= y then fail("expected " .. show(y) .. ", got " .. show(self.value)) end
  return self
end
function Expect:not_to_be(y)
  if self.value == y then fail("expected something other than " .. show(y)) end
  return self
end
function Expect:to_equal(y)
  if not deep_equal(self.value, y) then fail("expected a value equal to " .. show(y) .. ", got " .. show(self.value)) end
  return self
end
function Expect:to_be_close(y, tol)
  tol = tol or 1e-9
  local a, b = values(self.value), values(y)
  if type(a) ~= "table" or type(b) ~= "table" or #a ~= #b then
    fail("expected " .. show(y) .. " (within " .. show(tol) .. "), got " .. show(self.value))
  end
  for i = 1, #a do
    if type(a[i]) ~= "number" or not (abs(a[i] - b[i]) <= tol) then
      fail(("expected %s (within %s), got %s%s"):format(show(b[i]), show(tol), show(a[i]), #a > 1 and (" at " .. i) or ""))
    end
  end
  return self
end
function Expect:to_fail(msg)
  if type(self.value) ~= "function" then fail("expect(fn):to_fail(): a function expected, got " .. type(self.value)) end
  local ok, err = pcall(self.value)
  if ok then fail("expected an error" .. (msg and (" containing " .. show(msg)) or "") .. ", but it succeeded") end
  if msg and not tostring(err):find(msg, 1, true) then
    fail("expected an error containing " .. show(msg) .. ", got " .. show(tostring(err)))
  end
  return self
end
function Expect:to_be_truthy() if not self.value then fail("expected a true value, got " .. show(self.value)) end return self end
function Expect:to_be_falsy() if self.value then fail("expected false or nil, got " .. show(self.value)) end return self end
function Expect:to_be_nil() if self.value ~= nil then fail("expected nil, got " .. show(self.value)) end return self end
function Expect:to_be_a(t)
  local mt = getmetatable(self.value)
  local name = type(mt) == "table" and type(mt.__name) == "string" and mt.__name or type(self.value)
  if name ~= t and type(self.value) ~= t then fail("expected a " .. t .. ", got " .. name) end
  return self
end
function Expect:to_contain(x)
  local v = self.value
  if type(v) == "string" then
    if not v:find(tostring(x), 1, true) then fail("expected " .. show(v) .. " to contain " .. show(x)) end
    return self
  end
  if type(v) == "table" then
    for _, e in pairs(v) do if deep_equal(e, x) then return self end end
  end
  fail("expected " .. show(v) .. " to contain " .. show(x))
end
function Expect:to_match(pattern)
  if type(self.value) ~= "string" or not self.value:find(pattern) then
    fail("expected " .. show(self.value) .. " to match " .. show(pattern))
  end
  return self
end

function M.expect(x) return setmetatable({ value = x }, Expect) end

local function record(name, ok, err)
  if ok then
    results.passed = results.passed + 1
    if M.verbose then print("  ok    " .. name) end
  else
    results.failed = results.failed + 1
    results.failures[#results.failures + 1] = { name = name, message = tostring(err) }
    if M.verbose then print("  FAIL  " .. name .. "\n        " .. tostring(err):gsub("\n", "\n        ")) end
  end
end

function M.describe(name, fn)
  names[#names + 1] = tostring(name)
  local ok, err = pcall(fn)
  if not ok then record(concat(names, " > ") .. " (outside it)", false, err) end
  names[#names] = nil
end

function M.it(name, fn)
  names[#names + 1] = tostring(name)
  local full = concat(names, " > ")
  names[#names] = nil
  local ok, err = pcall(fn)
  record(full, ok, err)
  return ok
end

function M.results()
  local f = {}
  for i, x in ipairs(results.failures) do f[i] = { name = x.name, message = x.message } end
  return { passed = results.passed, failed = results.failed, failures = f }
end

function M.report()
  if not M.verbose then
    for _, x in ipairs(results.failures) do print("FAIL  " .. x.name .. "\n      " .. x.message) end
  end
  print(("%d passed, %d failed"):format(results.passed, results.failed))
  return results.failed == 0, results.passed, results.failed
end

function M.check()
  if results.failed > 0 then
    error(("%d of %d checks failed (first: %s: %s)"):format(results.failed, results.failed + results.passed,
      results.failures[1].name, results.failures[1].message), 2)
  end
  return results.passed
end

return M
"""#
}
