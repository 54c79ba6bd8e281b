/// The Lua half of the plugin host: reading manifests in an empty environment, running
/// `init.lua`, seeing what it registered, and the sandbox environment. It captures the
/// real `loadfile` and `load` when the state starts, so it works after `--sandbox` has
/// taken them away from scripts. Called with `(W, guard)`: the reward library (its
/// `rewards` and `detectors` registries) and the Swift function that runs a function
/// under a sandboxed call's limits. Returns the host table H.
enum PluginLua {
    static let source = #"""
local W, guard = ...
local loadfile, load, pairs, ipairs, type, error, select, rawget = loadfile, load, pairs, ipairs, type, error, select, rawget
local setmetatable, getmetatable, tostring, collectgarbage = setmetatable, getmetatable, tostring, collectgarbage
local debug_getinfo = debug.getinfo
local coroutine_lib = coroutine
local sort, G = table.sort, _G
local H = { samplers = {}, sandboxed_chunk_prefix = "\#(FileAccess.sandboxedChunkPrefix)" }
local kinds = { "rewards", "detectors" }

function H.read_manifest(path)
  local f, err = loadfile(path, "t", {})
  if not f then error(err, 0) end
  return f()
end

function H.snapshot()
  local s = { rewards = {}, detectors = {}, samplers = {} }
  for _, k in ipairs(kinds) do for n, v in pairs(W[k]) do s[k][n] = v end end
  return s
end

-- Names added or replaced since the snapshot, sorted, per kind.
function H.changed(before)
  local out = {}
  for _, k in ipairs(kinds) do
    local list = {}
    for n, v in pairs(W[k]) do if before[k][n] ~= v then list[#list + 1] = n end end
    sort(list)
    out[k] = list
  end
  return out
end

function H.remove(kind, names)
  local reg = kind == "samplers" and H.samplers or W[kind]
  for _, n in ipairs(names) do reg[n] = nil end
end

-- Runs init.lua in env (the globals, or a sandbox environment); returns what it returns.
function H.run_init(path, env, info)
  local f, err = loadfile(path, "t", env or G)
  if not f then error(err, 0) end
  return f(info)
end

-- Sandbox ------------------------------------------------------------------------------
local function blocked(what)
  return function() error("sandbox: " .. what .. " is not available in the sandbox", 2) end
end

local function copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  local mt = getmetatable(t)
  if type(mt) == "table" then setmetatable(c, mt) end
  return c
end

-- A copy of a module table for a sandbox: nested tables copied too (so the plugin cannot
-- change the user's), the metatable shared (getmetatable in the sandbox does not hand it out).
local function deepcopy(t, seen)
  seen = seen or {}
  if seen[t] then return seen[t] end
  local c = {}
  seen[t] = c
  for k, v in pairs(t) do c[k] = type(v) == "table" and getmetatable(v) == nil and deepcopy(v, seen) or v end
  local mt = getmetatable(t)
  if type(mt) == "table" then setmetatable(c, mt) end
  return c
end

local function no_svg(fn, name)
  return function(...)
    local n = select("#", ...)
    local last = n > 0 and select(n, ...) or nil
    if type(last) == "table" and rawget(last, "svg") ~= nil then
      error("sandbox: " .. name .. " with {svg = ...} writes a file and is not available in the sandbox", 2)
    end
    return fn(...)
  end
end

local safe_os = { clock = os.clock, time = os.time, date = os.date, difftime = os.difftime }
local file_functions = {
  tensor = { "load", "save" }, data = { "jsonl", "csv", "json", "write_jsonl" },
  session = { "record", "stop", "replay" },
}

-- The collector's modes are harmless (the memory ceiling still holds); stopping it is not
-- offered. moonlab score's workers switch to the generational mode.
local gc_options = { collect = true, count = true, step = true, isrunning = true, generational = true, incremental = true }
local function safe_collectgarbage(opt, ...)
  if opt == nil or gc_options[opt] then return collectgarbage(opt, ...) end
  error("sandbox: collectgarbage('" .. tostring(opt) .. "') is not available in the sandbox", 2)
end

-- load, text only; with `prefix`, chunk names are marked as sandboxed code (FileAccess).
local function safe_load(env, prefix)
  return function(chunk, name, mode, e)
    if mode ~= nil and mode ~= "t" then
      if type(mode) == "string" and mode:find("b") then return nil, "sandbox: binary chunks are not loaded in the sandbox" end
    end
    if e == nil then e = env end
    if prefix then name = prefix .. " " .. (type(name) == "string" and name or "load") end
    return load(chunk, name, "t", e)
  end
end

-- getmetatable that hands out only metatables the sandboxed code set itself: the string
-- metatable, the tensor's and every other shared one stay out of its reach.
local function safe_getmetatable(own)
  return function(v)
    local mt = getmetatable(v)
    if type(mt) == "table" and own[mt] then return mt end
    if type(v) == "table" and type(mt) == "table" and rawget(mt, "__metatable") ~= nil then return rawget(mt, "__metatable") end
    return nil
  end
end

local function own_setmetatable(own)
  return function(t, mt)
    local r = setmetatable(t, mt)
    if type(mt) == "table" then own[mt] = true end
    return r
  end
end

-- Coroutines of Lua functions only: a coroutine running a host function directly would
-- hide the sandboxed caller from the host's check of who is calling.
local function safe_coroutines(co)
  local c = copy(co)
  local function lua_only(f)
    if type(f) ~= "function" or debug_getinfo(f, "S").what == "C" then
      error("sandbox: coroutines run Lua functions only", 3)
    end
  end
  c.create = function(f) lua_only(f) return co.create(f) end
  c.wrap = function(f) lua_only(f) return co.wrap(f) end
  return c
end

local function safe_require(env, modules)
  return function(name)
    if modules[name] and env[name] ~= nil then return env[name] end
    error("sandbox: require('" .. tostring(name) .. "') reads files or native code and is not available in the sandbox", 2)
  end
end

H.base = { "assert", "error", "ipairs", "next", "pairs", "pcall", "xpcall", "print", "rawequal", "rawget",
  "rawlen", "rawset", "select", "setmetatable", "getmetatable", "tonumber", "tostring", "type", "_VERSION",
  "timeit", "help", "describe", "it", "expect" }
H.libraries = { "string", "table", "math", "utf8", "coroutine" }
H.modules = { "tensor", "dist", "rl", "pref", "metrics", "random", "sample", "reward", "detect", "data", "plot", "spec", "moonlab", "re" }

-- A fresh environment for a sandboxed plugin: the safe part of the globals, copies of the
-- libraries and modules (so the plugin cannot change the user's), file access taken out,
-- and functions it registers (rewards, detectors, sampler stages) run under guard's limits.
function H.sandbox_env()
  local env = {}
  for _, n in ipairs(H.base) do env[n] = G[n] end
  for _, n in ipairs(H.libraries) do if type(G[n]) == "table" then env[n] = deepcopy(G[n]) end end
  local mods = {}
  for _, n in ipairs(H.modules) do
    if G[n] ~= nil then env[n] = type(G[n]) == "table" and deepcopy(G[n]) or G[n]; mods[n] = true end
  end
  local own = setmetatable({}, { __mode = "k" })
  env.getmetatable = safe_getmetatable(own)
  env.setmetatable = own_setmetatable(own)
  env.coroutine = safe_coroutines(coroutine_lib)
  mods.string, mods.table, mods.math, mods.utf8, mods.coroutine = true, true, true, true, true
  env.os = copy(safe_os)
  for m, fns in pairs(file_functions) do
    if type(env[m]) == "table" then for _, f in ipairs(fns) do env[m][f] = nil end end
  end
  if type(env.data) == "table" then env.data.from = nil end  -- datasets can write files (ds:write)
  if type(env.plot) == "table" then
    for k, f in pairs(env.plot) do if type(f) == "function" then env.plot[k] = no_svg(f, "plot." .. k) end end
  end
  local function guarded(fn)
    if type(fn) ~= "function" then return fn end
    return function(...) return guard(fn, ...) end
  end
  -- Registries are shared with the user: a sandboxed plugin adds names and removes its
  -- own; it may not replace or remove the user's, the built-ins' or another plugin's, and
  -- what `get` hands it is a copy (it could otherwise set `reward.get("length").fn`).
  local own_names = { rewards = {}, detectors = {} }
  local function registry(module, kind, what)
    local m = env[module]
    if type(m) ~= "table" then return end
    local real = G[module]
    m.define = function(name, fn, o)
      if W[kind][name] ~= nil and not own_names[kind][name] then
        error("sandbox: " .. what .. " '" .. tostring(name) .. "' is already defined; a sandboxed plugin defines new names only", 2)
      end
      local r = real.define(name, guarded(fn), o)
      own_names[kind][name] = true
      return r
    end
    m.remove = function(name)
      if W[kind][name] ~= nil and not own_names[kind][name] then
        error("sandbox: " .. what .. " '" .. tostring(name) .. "' was not defined by this plugin and cannot be removed from the sandbox", 2)
      end
      own_names[kind][name] = nil
      return real.remove(name)
    end
    m.get = function(...)
      local v = real.get(...)
      if type(v) == "table" then return copy(v) end
      return v
    end
  end
  registry("reward", "rewards", "reward")
  registry("detect", "detectors", "detector")
  if env.sample then env.sample.stage = function(name, fn) return G.sample.stage(name, guarded(fn)) end end
  env.load = safe_load(env, H.sandboxed_chunk_prefix)
  env.require = safe_require(env, mods)
  env.collectgarbage = safe_collectgarbage
  env._G = env
  return env
end

-- `--sandbox`: the same rules applied to the globals of the whole state, in place.
function H.restrict()
  G.io, G.debug, G.dofile, G.loadfile = nil, nil, nil, nil
  G.os = copy(safe_os)
  G.load = safe_load(G)
  local mods = {}
  for _, n in ipairs(H.modules) do mods[n] = true end
  for _, n in ipairs(H.libraries) do mods[n] = true end
  G.require = safe_require(G, mods)
  G.package = nil
  G.collectgarbage = safe_collectgarbage
  for m, fns in pairs(file_functions) do
    if type(G[m]) == "table" then
      for _, f in ipairs(fns) do G[m][f] = blocked(m .. "." .. f .. " (file access)") end
    end
  end
  if type(G.data) == "table" and G.data.from then
    local ok, ds = pcall(G.data.from, {})
    local mt = ok and getmetatable(ds)
    if type(mt) == "table" and type(mt.__index) == "table" and mt.__index.write then
      mt.__index.write = blocked("dataset:write (file access)")
    end
  end
  if type(G.plot) == "table" then
    for k, f in pairs(G.plot) do if type(f) == "function" then G.plot[k] = no_svg(f, "plot." .. k) end end
  end
end

return H
"""#
}
