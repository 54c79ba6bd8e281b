-- Element access: `t[i]` and `t[i] = x` with an integer i (served by moonlab's Lua VM for 1-d
-- tensors without a metamethod call, Sources/LuaShim/arraybox.c) must answer exactly as the
-- table-key form `t[{i}]` (the Swift __index/__newindex path) does: every dtype, 1-d views
-- (reversed, stepped, a column, a row, stride 0, memory-mapped file slices and a whole mapped
-- file, whose file must never change), positions in and out of range (0, +-n, +-(n+1),
-- math.mininteger/maxinteger, 2.0, 1.5) and values of every Lua type (integers, floats, NaN,
-- +-inf, 1e300, 2^53 + 1, booleans, strings, nil, tables, tensors). Errors agree as errors.
--   .build/debug/moonlab run Tests/Differential/element_access.lua   (~14,000 pairs, ~20 min in a debug build)
local function ser(v)
  if type(v) == "userdata" then
    local o = {v:dtype(), table.concat(v:shape(), ",")}
    for _, x in ipairs(v:flatten():totable()) do o[#o + 1] = (math.type(x) == "float") and string.format("%a", x) or tostring(x) end
    return table.concat(o, " ")
  elseif type(v) == "number" then return math.type(v) .. ":" .. ((math.type(v) == "float") and string.format("%a", v) or tostring(v))
  else return type(v) .. ":" .. tostring(v) end
end
local function errmsg(e) return (tostring(e):gsub("^.-:%d+: ", "")) end
local big = os.tmpname() .. ".npy"
tensor.save(big, tensor.arange(0, 300000))  -- 2.4 MB: memory-mapped on load
local makers = {
  f64 = function() return tensor{1.5, -2, 3, 4, 5, 6} end,
  f32 = function() return tensor.from({1.5, -2, 3, 4, 5, 6}, {dtype = "f32"}) end,
  i64 = function() return tensor.from({1, -2, 3, 4, 5, 6}, {dtype = "i64"}) end,
  bool = function() return tensor.from({true, false, true, true, false, true}, {dtype = "bool"}) end,
}
local views = {
  plain = function(t) return t, t end,
  rev = function(t) return t, t[{{-1, 1, -1}}] end,
  step = function(t) return t, t[{{2, -1, 2}}] end,
  col = function(t) local m = t:reshape{3, 2}; return m, m[{{}, 2}] end,
  row = function(t) local m = t:reshape{2, 3}; return m, m[2] end,
  expand = function(t) local u = t[{{1, 1}}]; return u, u:expand{4} end,
  mmap = function(t) local b = tensor.load(big); if t:dtype() ~= "f64" then return b, b[{{100, 110}}]:to(t:dtype()) end; return b, b[{{100, 110}}] end,
  mmap_whole = function(t) local b = tensor.load(big); return b, b end,
  mmap_rev = function(t) local b = tensor.load(big); return b, b[{{-1, 1, -3}}] end,
  cloned_view = function(t) local c = t:T():clone(); return c, c end,
}
local vals = {"0", "7", "-3", "2.5", "-2.5", "0.1", "1e300", "-1e300", "0/0", "math.huge", "true", "false", "math.maxinteger", "math.mininteger", "2^53 + 1", "(2^53 + 1) | 0", "16777217", "'3'", "nil", "{}", "tensor{9}", "tensor.full({}, 9)", "3.0", "-0.0"}
local idx = {"1", "2", "-1", "-2", "0", "3", "4", "7", "-7", "100", "math.mininteger", "math.maxinteger", "2.0", "1.5"}
local nbad, nok = 0, 0
local fn = 0
for dn, mk in pairs(makers) do
  for vn, vf in pairs(views) do
    for _, i in ipairs(idx) do
      -- reads: fast path vs the table-key form
      local base, v = vf(mk())
      local okA, a = pcall(load("local v = ...; return v[" .. i .. "]"), v)
      local okB, b = pcall(load("local v = ...; return v[{" .. i .. "}]"), v)
      local ra = okA and ser(a) or ("ERR " .. errmsg(a))
      local rb = okB and ser(b) or ("ERR " .. errmsg(b))
      if ra ~= rb and not (not okA and not okB) then
        nbad = nbad + 1
        print("READ  " .. dn .. " " .. vn .. " [" .. i .. "]: t[i] " .. ra .. " | t[{i}] " .. rb)
      else nok = nok + 1 end
      for _, x in ipairs(vals) do
        local b1, v1 = vf(mk())
        local b2, v2 = vf(mk())
        local okA, ea = pcall(load("local v, x = ...; v[" .. i .. "] = x"), v1, load("return " .. x)())
        local okB, eb = pcall(load("local v, x = ...; v[{" .. i .. "}] = x"), v2, load("return " .. x)())
        local ra, rb
        if vn:sub(1, 4) ~= "mmap" then
          ra = (okA and "" or ("ERR ")) .. ser(b1) .. " / " .. ser(v1)
          rb = (okB and "" or ("ERR ")) .. ser(b2) .. " / " .. ser(v2)
        else
          -- the file must not change
          local f = tensor.load(big)
          if f[1] ~= 0 or f[101] ~= 100 or f[-1] ~= 299999 or f[102] ~= 101 then nbad = nbad + 1; print("FILE CHANGED " .. dn .. " " .. vn .. " [" .. i .. "] = " .. x) end
          ra = (okA and "" or "ERR ") .. ser(v1); rb = (okB and "" or "ERR ") .. ser(v2)
        end
        if ra ~= rb then
          nbad = nbad + 1
          print("WRITE " .. dn .. " " .. vn .. " [" .. i .. "] = " .. x .. ":\n   t[i]   " .. ra:sub(1, 200) .. (okA and "" or (" (" .. errmsg(ea):sub(1, 100) .. ")")) .. "\n   t[{i}] " .. rb:sub(1, 200) .. (okB and "" or (" (" .. errmsg(eb):sub(1, 100) .. ")")))
        else nok = nok + 1 end
      end
    end
  end
end
print("element access: " .. nok .. " agree, " .. nbad .. " differ")
