-- Crash probes for one target (see drive.py): moonlab run probe.lua list | run TARGET START
local mode, target, start = arg[1], arg[2], tonumber(arg[3] or "1")
local docs = debug.getregistry()["moonlab.docs"] or {}

-- Paths point into the scratch folder drive.py runs in (a probe may write to them: never
-- a system file; an earlier version named /etc/passwd and a writer overwrote it).
do local h = io.open("probe-victim.txt", "w") if h then h:write('{"a":1}\n') h:close() end end

local function deep(n) local t = {} local c = t for i = 1, n do c[1] = {} c = c[1] end c[1] = 1 return t end
local cyc = {} cyc[1] = cyc cyc.x = cyc
local bad_index = setmetatable({}, {__index = function() error("boom index") end,
  __len = function() error("boom len") end, __newindex = function() error("boom newindex") end,
  __pairs = function() error("boom pairs") end})
local function mkvalues()
  local V = {
    {"nil", nil}, {"false", false}, {"true", true}, {"0", 0}, {"-1", -1}, {"1", 1}, {"2", 2}, {"0.5", 0.5},
    {"-0.5", -0.5}, {"3", 3}, {"1e9", 1000000000}, {"2^31", 2^31}, {"2^31i", 1 << 31}, {"2^40", 2^40}, {"2^53", 2^53},
    {"maxint", math.maxinteger}, {"minint", math.mininteger}, {"2^63", 2^63}, {"-2^63f", -2^63},
    {"1e308", 1e308}, {"-1e308", -1e308}, {"tiny", 5e-324}, {"nan", 0/0}, {"inf", 1/0}, {"-inf", -1/0},
    {"emptystr", ""}, {"str", "abc"}, {"path", "probe-victim.txt"}, {"dirpath", "."}, {"missing", "no/such/dir/x"},
    {"bigstr", ("ab"):rep(500000)}, {"regexbomb", "(\\w+\\s?)+$"}, {"regexbad", "((((a"}, {"backtracked", (("a"):rep(20) .. "!"):rep(200)}, {"nulstr", "a\0b"},
    {"emptytab", {}}, {"arr", {1, 2, 3}}, {"nanarr", {0/0, 1, 2}}, {"hugearr", {1e308, -1e308, 0}},
    {"infarr", {1/0, -1/0, 1}}, {"mat", {{1, 2}, {3, 4}}}, {"deep300", deep(300)}, {"deep5000", deep(5000)},
    {"cyc", cyc}, {"badmeta", bad_index}, {"strarr", {"a", "b"}}, {"mixed", {1, "a", {}}},
    {"holes", {1, nil, 3}}, {"fn", function() end}, {"fnerr", function() error("fnerr") end},
    {"fnnan", function() return 0/0 end}, {"fnid", function(...) return ... end},
    {"fntab", function() return {} end},
    {"tensor", tensor{1, 2, 3}}, {"tensor0", tensor.zeros{0}}, {"tensor20", tensor.zeros{2, 0}},
    {"tensornan", tensor{0/0, 1}}, {"tensor2d", tensor{{1, 2}, {3, 4}}},
    {"co", coroutine.create(function() end)}, {"file", io.stdout},
    {"shape_neg", {-1, 2}}, {"shape_huge", {2^40, 2^40}}, {"shape_maxint", {math.maxinteger}},
    {"idarr", {0, 1, 2}}, {"bigidarr", {math.maxinteger, -1}},
  }
  return V
end

-- targets: module functions, globals, methods of sample userdata
local function targets()
  local list = {}
  local seen = {}
  for _, m in ipairs({"tensor", "dist", "rl", "pref", "sample", "random", "reward", "detect", "metrics", "data",
                      "plot", "session", "plugin", "spec", "re", "model", "synth", "math_answer", "ngram_diversity",
                      "pope", "selfcheck"}) do
    local t = rawget(_G, m)
    if type(t) == "table" then
      for k, v in pairs(t) do
        if type(v) == "function" then list[#list + 1] = m .. "." .. k end
      end
    end
  end
  for _, g in ipairs({"timeit", "help", "print", "tensor"}) do list[#list + 1] = g end
  table.sort(list)
  return list
end

local instances = {
  tensor = function() return tensor{{1, 2, 3}, {4, 5, 6}} end,
  rng = function() return random.new(1) end,
  chain = function() return sample.chain{sample.top_k(2)} end,
  dataset = function()
    local f = "probe-dataset.jsonl"  -- in the scratch folder (os.tmpname() left a file in /tmp per run)
    local h = io.open(f, "w") h:write('{"a":1}\n{"a":2}\n') h:close()
    return data.jsonl(f)
  end,
  kl = function() return rl.adaptive_kl{} end,
  regex = function() return re.compile("(a)(?P<n>b)?") end,
  client = function() return model.openai{base_url = "http://127.0.0.1:9/v1", retries = 0, timeout = 1} end,
}
local function methodtargets(list)
  for name, mk in pairs(instances) do
    local ok, obj = pcall(mk)
    if ok and obj then
      local mt = getmetatable(obj)
      local ms = mt and (mt.__methods or (type(mt.__index) == "table" and mt.__index))
      if type(ms) == "table" then
        for k, v in pairs(ms) do if type(v) == "function" then list[#list + 1] = name .. ":" .. k end end
      end
      if mt then
        for _, mm in ipairs({"__index", "__newindex", "__call", "__add", "__sub", "__mul", "__div", "__pow", "__mod",
                             "__unm", "__len", "__eq", "__lt", "__le", "__concat", "__tostring"}) do
          if type(mt[mm]) == "function" then list[#list + 1] = name .. "@" .. mm end
        end
      end
    end
  end
end

local function resolve(t)
  local m, sep, k = t:match("^([%w_]+)([%.:@])([%w_]+)$")
  if not m then return rawget(_G, t) == tensor and setmetatable({}, {__call = function(_, ...) return tensor(...) end}) or rawget(_G, t), nil end
  if sep == "." then return rawget(_G, m)[k], nil end
  local obj = instances[m]()
  local mt = getmetatable(obj)
  if sep == "@" then return mt[k], obj end
  local ms = mt.__methods or mt.__index
  return ms[k], obj
end

-- capture a valid call from the doc example
local function example_args(t, fn)
  local d = docs[fn]
  if not d or not d.doc then return nil end
  local ex = d.doc:match("Example:%s*(.-)\n") or d.doc:match("Example:%s*(.*)$")
  if not ex then return nil end
  -- the example runs, and its arguments are then reused by every probe: absolute paths in it
  -- ("/tmp/out.jsonl") become names in the scratch folder, URLs a closed local port
  ex = ex:gsub('"/[^"]*"', function(p) return '"' .. p:match("([^/]*)\"$") .. '"' end)
  ex = ex:gsub("https?://[%w%.%-]+:?%d*", "http://127.0.0.1:9")
  local captured
  local m, sep, k = t:match("^([%w_]+)([%.:])([%w_]+)$")
  if sep ~= "." then return nil end
  local mod = rawget(_G, m)
  local orig = mod[k]
  mod[k] = function(...) if not captured then captured = table.pack(...) end return orig(...) end
  local chunk = load(ex)
  if chunk then pcall(chunk) end
  mod[k] = orig
  return captured
end

if mode == "list" then
  local l = targets()
  methodtargets(l)
  for _, t in ipairs(l) do print(t) end
  return
end

local fn, self = resolve(target)
if type(fn) ~= "function" and type(fn) ~= "table" then io.stderr:write("no target " .. tostring(target) .. "\n") return end
local manual = {
  ["timeit"] = {function() end, {runs = 2}, n = 2},
  ["reward.score"] = {function(s) return 1 end, {{completion = "a"}, {completion = "b"}}, {progress = false}, n = 3},
  ["detect.run"] = {{function(s) return true, 1, "r" end}, {{completion = "a"}}, n = 2},
  ["sample.best_of_n"] = {{"a", "bb"}, function(s) return #s end, n = 2},
  ["metrics.pass_at_k"] = {10, 3, 2, n = 3},
  ["rl.gae"] = {{1, 0, 1}, {0.5, 0.4, 0.3}, {gamma = 0.99}, n = 3},
  ["plot.hist"] = {{1, 2, 3}, {bins = 3, print = false}, n = 2},
  ["plot.line"] = {{1, 2, 3}, {print = false}, n = 2},
  ["plot.scatter"] = {{1, 2, 3}, {3, 2, 1}, {print = false}, n = 3},
  ["plot.calibration"] = {{0.1, 0.9}, {0, 1}, {print = false}, n = 3},
  ["data.decode"] = {'{"a": [1, 2]}', n = 1},
  ["data.encode"] = {{a = {1, 2}}, n = 1},
  ["tensor.full"] = {{2, 2}, 1, n = 2},
  ["random.new"] = {1, n = 1},
  ["model.openai"] = {{base_url = "http://127.0.0.1:9/v1", retries = 0, timeout = 1}, n = 1},
  ["synth.taxonomy"] = {"no/such/dir", n = 1},
  ["data.write_chat"] = {"probe-out.jsonl", {{question = "q", answer = "a"}}, n = 2},
}
local base = manual[target] or example_args(target, fn) or {n = 0}
if mode == "base" then io.stderr:write(target .. " base n=" .. base.n .. "\n") return end
local V = mkvalues()
local probes = {}
local nargs = math.max(base.n, 2) + 1
local function addcall(desc, args)
  probes[#probes + 1] = {desc, args}
end
-- single-position mutations
for pos = 1, nargs do
  for _, v in ipairs(V) do
    local args = {n = math.max(base.n, pos)}
    for i = 1, args.n do args[i] = base[i] end
    args[pos] = v[2]
    addcall(("arg%d=%s"):format(pos, v[1]), args)
  end
end
-- option mutations: discover option keys
for pos = 1, nargs do
  local args = {n = math.max(base.n, pos)}
  for i = 1, args.n do args[i] = base[i] end
  args[pos] = {zzz_bogus = 1}
  local ok, err = pcall(fn, self or args[1], table.unpack(args, self and 1 or 2, args.n))
  if self then ok, err = pcall(fn, self, table.unpack(args, 1, args.n)) end
  local keys = type(err) == "string" and err:match("valid options: ([%w_, ]+)")
  local opts = {}
  if keys then for k in keys:gmatch("[%w_]+") do opts[#opts + 1] = k end end
  if type(base[pos]) == "table" then
    for k, v in pairs(base[pos]) do if type(k) == "string" then opts[#opts + 1] = k end end
  end
  for _, key in ipairs(opts) do
    for _, v in ipairs(V) do
      local a = {n = args.n}
      for i = 1, args.n do a[i] = base[i] end
      local o = {}
      if type(base[pos]) == "table" and getmetatable(base[pos]) == nil then
        for kk, vv in pairs(base[pos]) do o[kk] = vv end
      end
      o[key] = v[2]
      a[pos] = o
      addcall(("arg%d.%s=%s"):format(pos, key, v[1]), a)
    end
  end
end
io.stderr:write("total " .. #probes .. "\n")
for i = start, #probes do
  local p = probes[i]
  io.stderr:write("probe " .. i .. " " .. p[1] .. "\n")
  io.stderr:flush()
  local args = p[2]
  local ok, err
  if self then ok, err = pcall(fn, self, table.unpack(args, 1, args.n))
  else ok, err = pcall(fn, table.unpack(args, 1, args.n)) end
  if not ok then io.stdout:write(i, " ", p[1], " ERR ", tostring(err):sub(1, 200), "\n") end
end
io.stderr:write("done\n")
