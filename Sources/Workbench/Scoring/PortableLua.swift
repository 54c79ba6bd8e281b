/// The Lua code that moves definitions between states: `export` turns a value into plain
/// data (a `LuaValue` tree Swift can hand to another thread), `import` rebuilds it in a
/// worker state.
///
/// A Lua function travels as its bytecode (`string.dump`) plus its upvalues, each exported
/// in turn: numbers, strings, booleans, tables of exportable values, other Lua functions
/// (recursively), reward and detector objects, compiled `re` patterns (compiled again),
/// and C functions that the standard library or
/// a moonlab module holds (`math.floor` travels as the path "math.floor"). `_ENV` is rebound
/// to the worker's globals. Limits: tensors, userdata, coroutines and cyclic tables cannot
/// travel; two closures that share an upvalue get separate copies; changes a worker makes
/// to an upvalue stay in that worker. User globals (plain values and Lua functions) are
/// copied too, so a reward may call a global helper defined at the prompt.
enum PortableLua {
    static let source = #"""
local W = ...
local P = {}

local function cpaths()
  local map = {}
  for k, v in pairs(_G) do
    if type(k) == "string" then
      if type(v) == "function" then map[v] = k
      elseif type(v) == "table" and k ~= "_G" then
        for k2, v2 in pairs(v) do
          if type(k2) == "string" and type(v2) == "function" and not map[v2] then map[v2] = k .. "." .. k2 end
        end
      end
    end
  end
  return map
end

-- Tables and functions nested deeper than this do not travel: the exported tree is read
-- into Swift with a depth limit (value(at:depth:), three levels of it per level here).
local MAX_DEPTH = 60

function P.export(v, seen, paths, where, depth)
  local t = type(v)
  if t == "nil" then return { k = "nil" } end
  if t == "number" or t == "string" or t == "boolean" then return { k = "v", v = v } end
  seen = seen or {}
  depth = (depth or 0) + 1
  if depth > MAX_DEPTH then
    error((where or "value") .. " is nested deeper than " .. MAX_DEPTH .. " levels, which cannot be sent to a worker", 0)
  end
  if t == "table" then
    local mt = getmetatable(v)
    if mt == W.RewardMT and v.builtin then return { k = "builtin", kind = "reward", name = v.name } end
    if mt == W.DetectorMT and v.builtin then return { k = "builtin", kind = "detector", name = v.name } end
    if mt ~= nil and mt ~= W.RewardMT and mt ~= W.DetectorMT then
      error((where or "value") .. " is a " .. W.typename(v) .. " (a table with a metatable), which cannot be sent to a worker", 0)
    end
    if seen[v] then error((where or "value") .. " is a cyclic table, which cannot be sent to a worker", 0) end
    seen[v] = true
    local e = {}
    for k2, v2 in pairs(v) do
      e[#e + 1] = { P.export(k2, seen, paths, where, depth), P.export(v2, seen, paths, (where or "value") .. "." .. tostring(k2), depth) }
    end
    seen[v] = nil
    return { k = "t", e = e, mt = mt == W.RewardMT and "reward" or mt == W.DetectorMT and "detector" or nil }
  end
  if t == "userdata" and W.regex_source then
    local pattern, flags = W.regex_source(v)
    if pattern then return { k = "re", pattern = pattern, flags = flags } end
  end
  if t == "function" then
    local info = debug.getinfo(v, "Su")
    if info.what == "C" then
      paths = paths or cpaths()
      local p = paths[v]
      if p then return { k = "path", path = p } end
      error((where or "value") .. " is a C function that is not in a global table, which cannot be sent to a worker", 0)
    end
    if seen[v] then error((where or "value") .. " is a recursive function, which cannot be sent to a worker", 0) end
    seen[v] = true
    local ups = {}
    for i = 1, info.nups do
      local name, u = debug.getupvalue(v, i)
      if name == "_ENV" then ups[i] = { k = "env" }
      else ups[i] = P.export(u, seen, paths, "upvalue '" .. tostring(name) .. "'", depth) end
    end
    seen[v] = nil
    return { k = "f", code = string.dump(v), ups = ups, n = info.nups }
  end
  error((where or "value") .. " is a " .. W.typename(v) .. ", which cannot be sent to a worker", 0)
end

function P.import(x)
  local k = x.k
  if k == "nil" then return nil end
  if k == "v" then return x.v end
  if k == "builtin" then
    return (x.kind == "reward" and W.rewards or W.detectors)[x.name]
  end
  if k == "re" then return re.compile(x.pattern, { flags = x.flags }) end
  if k == "path" then
    local v = _G
    for part in x.path:gmatch("[^.]+") do v = v and v[part] end
    return v
  end
  if k == "t" then
    local t = {}
    for _, kv in ipairs(x.e) do t[P.import(kv[1])] = P.import(kv[2]) end
    if x.mt == "reward" then setmetatable(t, W.RewardMT) elseif x.mt == "detector" then setmetatable(t, W.DetectorMT) end
    return t
  end
  if k == "f" then
    local f = assert(load(x.code, "=worker", "b"))
    for i = 1, x.n do
      local u = x.ups[i]
      if u.k == "env" then debug.setupvalue(f, i, _G) else debug.setupvalue(f, i, P.import(u)) end
    end
    return f
  end
  error("cannot import a value of kind " .. tostring(k))
end

-- Everything a worker needs: user globals, user rewards and detectors, and the target.
function P.bundle(target, startup)
  local paths = cpaths()
  local g = {}
  for name, v in pairs(_G) do
    if type(name) == "string" and startup[name] == nil and (type(v) ~= "function" or debug.getinfo(v, "S").what ~= "C") then
      local ok, e = pcall(P.export, v, nil, paths, "global '" .. name .. "'")
      if ok then g[name] = e end
    end
  end
  local function user(reg)
    local out = {}
    for name, r in pairs(reg) do
      if not r.builtin then
        local ok, e = pcall(P.export, r, nil, paths, name)
        if ok then out[name] = e end
      end
    end
    return out
  end
  return { globals = g, rewards = user(W.rewards), detectors = user(W.detectors or {}),
           target = P.export(target, nil, paths, "the reward") }
end

function P.install(b)
  for name, e in pairs(b.globals) do
    if rawget(_G, name) == nil then
      local ok, v = pcall(P.import, e)
      if ok then rawset(_G, name, v) end
    end
  end
  for name, e in pairs(b.rewards) do W.rewards[name] = P.import(e) end
  for name, e in pairs(b.detectors) do if W.detectors then W.detectors[name] = P.import(e) end end
  local target = P.import(b.target)
  if b.target_name then W.rewards[b.target_name] = target end
  return target
end

return P
"""#
}
