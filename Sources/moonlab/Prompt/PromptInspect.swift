import LuaKit
import Workbench

/// `??fn` (a function's source) and `:whos` (the user's globals), IPython's `??` and
/// `%whos`.
extension PromptSession {
    /// `??name`: the source of a Lua function; for anything else, its doc.
    func showSource(_ name: String) {
        guard !name.isEmpty else { complain("?? needs a function: ??my_reward"); return }
        let lua = workbench.lua
        let top = lua.top
        defer { lua.top = top }
        guard Help.pushPath(lua, name) else { complain("??\(name): no such name"); return }
        guard lua.type(at: -1) == .function else {
            lua.top = top
            evaluate("help(\(quoteLua(name)))")
            return
        }
        do {
            write(try workbench.functionSource(at: -1) + "\n")
        } catch let e as FunctionSourceError where e.native {
            lua.top = top
            write(style.dim("(native: no Lua source; its doc)") + "\n")
            evaluate("help(\(quoteLua(name)))")
        } catch {
            complain("??\(name): \(error)")
        }
    }

    /// `:whos`: each global the user made, with its type and a short description (a
    /// tensor's dtype and shape, a table's size, a function's definition site).
    func whos() {
        let lua = workbench.lua
        let top = lua.top
        defer { lua.top = top }
        lua.pushGlobals()
        let names = lua.stringKeys(of: -1).filter(workbench.isUserGlobal).sorted()
        lua.pop()
        guard !names.isEmpty else { write("no variables of your own yet\n"); return }
        do {
            try lua.load(PromptSession.whosSource, name: "=whos")
            lua.push(strings: names)
            lua.pushRegistry()
            _ = lua.getField("moonlab.getinfo")
            lua.remove(at: -2)
            try lua.pcall(nargs: 2, nresults: 1)
            write((lua.string(at: -1) ?? "") + "\n")
        } catch {
            complain(":whos: \(error)")
        }
    }

    /// Formats the table of `:whos` from a list of global names (Lua: what a value is
    /// is easiest asked in Lua, through the same methods a user calls).
    static let whosSource = """
        local names, getinfo = ...
        local function clip(s, n)
          s = tostring(s):gsub("\\n", " ")
          if #s > n then s = s:sub(1, n - 3) .. "..." end
          return s
        end
        local function describe(v)
          local t = type(v)
          if t == "number" or t == "boolean" then return t, tostring(v) end
          if t == "string" then return t, ("%d bytes: %q"):format(#v, clip(v, 40)) end
          if t == "function" then
            local info = getinfo and getinfo(v, "S")
            if info and info.what ~= "C" then return t, ("defined at %s:%d"):format(info.short_src, info.linedefined) end
            return t, "native"
          end
          if t == "table" then
            local n, keys = #v, 0
            for _ in pairs(v) do keys = keys + 1 end
            if n > 0 and n == keys then return t, ("%d items"):format(n) end
            if n > 0 then return t, ("%d items, %d other keys"):format(n, keys - n) end
            return t, ("%d keys"):format(keys)
          end
          if t == "userdata" then
            local ok, shape = pcall(function() return v:shape() end)
            local ok2, dtype = pcall(function() return v:dtype() end)
            if ok and type(shape) == "table" and ok2 then
              return "tensor", ("%s [%s]"):format(dtype, table.concat(shape, ", "))
            end
            local mt = getmetatable(v)
            local kind = type(mt) == "table" and type(rawget(mt, "__name")) == "string" and rawget(mt, "__name") or t
            return kind, clip(tostring(v), 50)
          end
          return t, clip(tostring(v), 50)
        end
        local rows, w1, w2 = {}, #"Variable", #"Type"
        for _, name in ipairs(names) do
          local kind, info = describe(rawget(_G, name))
          rows[#rows + 1] = {name, kind, info}
          w1, w2 = math.max(w1, #name), math.max(w2, #kind)
        end
        local fmt = "%-" .. w1 .. "s  %-" .. w2 .. "s  %s"
        local out = {fmt:format("Variable", "Type", "Data/Info"), ("-"):rep(w1 + w2 + 13)}
        for _, r in ipairs(rows) do out[#out + 1] = (fmt:format(r[1], r[2], r[3]):gsub("%s+$", "")) end
        return table.concat(out, "\\n")
        """
}
