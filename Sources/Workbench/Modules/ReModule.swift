import LuaKit
import LuaShim

extension Workbench {
    /// The `re` module (lua-api.md, "re"): Python's regular expressions through PCRE2.
    /// A global only: `require "re"` keeps giving LPeg's re module where lua-lpeg is
    /// installed, as moonlab never registers its own in `package.loaded`.
    static func installRe(_ wb: Workbench) throws {
        let lua = wb.lua
        let runtime = RegexRuntime()
        lua.register(type: CompiledRegex.self, name: "re.pattern") { t in
            for (name, _, body) in ReMethods.all { t.method(name, body) }
            t.index { r, args in
                switch args.state.string(at: 2) {
                case "pattern": args.state.push(bytes: r.pattern)
                case "flags": args.state.push(r.flags)
                case "groups": args.state.push(r.groupCount)
                default: args.state.pushNil()
                }
                return 1
            }
            t.meta("__tostring") { args in
                let r = try args.object(1, CompiledRegex.self)
                args.state.push("re.compile(\"\(PrettyPrinter.escaped(String(decoding: r.pattern, as: UTF8.self)))\", {flags = \"\(r.flags)\"})")
                return 1
            }
        }
        mlshim_rematch_install(lua.L)  // match objects (LuaShim's rematch.c)
        try lua.run("return setmetatable({}, {__mode = 'k'})", name: "=re")
        runtime.namesTables = LuaRef(popping: lua)
        lua.pushRegistry()
        lua.getField("re.pattern")
        lua.getField("__methods")
        // match/search/fullmatch in C for the common case (LuaShim's rematch.c), over the
        // Swift methods for the rest: a reward's `P:match(c)` skips the generic dispatch.
        for (mode, name) in ["search", "match", "fullmatch"].enumerated() {
            mlshim_rematch_fastmethod(lua.L, -1, -2, name, "re.pattern:\(name)", Int32(mode), CompiledRegex.lookup)
        }
        try lua.load(ReMatchLua.gmatch, name: "=re")
        lua.pushValue(at: -2)
        try lua.pcall(nargs: 1, nresults: 0)
        // Every method documented, as `pattern:NAME` (the docs write `p:NAME`), so
        // `help(p.search)` answers.
        for (name, doc) in ReMethods.all.map({ ($0.0, $0.1) }) + [("gmatch", ReDocs.gmatch)] {
            lua.getField(name, of: -1)
            Help.register(lua, value: -1, name: "pattern:\(name)", doc: doc, isModule: false)
            lua.pop()
        }
        lua.pop(3)
        // Compiled patterns travel to scoring workers as their text and flags (PortableLua).
        try RewardLibrary.pushField(lua, "lib", "typename")  // proves the reward library is there
        lua.pop()
        lua.pushRegistry()
        lua.getField(RewardLibrary.libraryKey)
        try lua.load("""
            local mt = ...
            return function(v) if getmetatable(v) == mt then return v.pattern, v.flags end end
            """, name: "=re")
        lua.getField("re.pattern", of: -3)
        try lua.pcall(nargs: 1, nresults: 1)
        lua.setField("regex_source", of: -2)
        lua.pop(2)
        let cache = RegexCache(runtime: runtime)
        lua.userInfo[RegexCache.key] = cache
        let m = ModuleBuilder(lua, name: "re", doc: ReDocs.module)
        m.function("compile", doc: ReDocs.compile) { args in
            let pattern = try args.bytes(1)
            let o = try args.options(2, allowed: ["flags"])
            let flags = try o.string("flags", default: "")
            let regex = try cache.compile(pattern, flags: flags, function: "re.compile")
            args.state.push(object: regex)
            return 1
        }
        m.function("escape", doc: ReDocs.escape) { args in
            args.state.push(bytes: ReMethods.escape(try args.bytes(1)))
            return 1
        }
        for (name, doc, method) in ReMethods.moduleFunctions {
            let qualified = "re.\(name)"
            m.function(name, doc: doc) { args in
                let lua = args.state
                // The pattern comes first; an options table may end the arguments (after the
                // subject: no other argument is a table).
                var flags = ""
                let last = args.count
                if last >= 3, lua.type(at: last) == .table {
                    let o = try args.options(last, allowed: ["flags"])
                    flags = try o.string("flags", default: "")
                    lua.top = last - 1
                }
                guard lua.type(at: 1) == .string else { throw args.typeError(1, expected: "string (a pattern)") }
                // The compiled pattern replaces the text as argument 1, then the method runs.
                let regex = try cache.cached(lua, flags: flags, function: qualified)
                return try method(regex, args)
            }
        }
    }
}

/// The compiled patterns of one state, and those `re.search(pattern, ...)` and the other
/// module functions compiled for a pattern they were given as text: kept in a Lua table
/// keyed by the pattern string (so a hit costs one table lookup, no Swift string), one
/// table per flags string; at most `limit` are kept (then the cache starts again, as
/// Python's re module does).
final class RegexCache {
    static let key = "moonlab.re"
    static let limit = 512
    let runtime: RegexRuntime
    private var tables: LuaRef?
    private var entries = 0

    init(runtime: RegexRuntime) {
        self.runtime = runtime
    }

    static func of(_ lua: LuaState) -> RegexCache? { lua.userInfo[key] as? RegexCache }

    func compile(_ pattern: [UInt8], flags: String, function: String) throws -> CompiledRegex {
        do {
            return try CompiledRegex(pattern: pattern, flags: flags, runtime: runtime)
        } catch let e as CompiledRegex.Failure {
            throw LuaScriptError("\(function): \(e.description)")
        }
    }

    /// The compiled pattern whose text is argument 1 of the running function, with
    /// `flags`; its userdata replaces the text at index 1. Raw table accesses only: a hit
    /// costs two lookups and no allocation.
    func cached(_ lua: LuaState, flags: String, function: String) throws -> CompiledRegex {
        if tables == nil || entries >= RegexCache.limit {
            tables?.release(lua)
            lua.newTable()
            tables = LuaRef(popping: lua)
            entries = 0
        }
        guard let tables else { throw LuaScriptError("\(function): no pattern cache") }
        tables.push(lua)
        lua.push(flags)
        if lua.rawGet(of: -2) != .table {
            lua.pop()
            lua.newTable()
            lua.push(flags)
            lua.pushValue(at: -2)
            lua.rawSetPair(of: -4)
        }
        lua.pushValue(at: 1)
        lua.rawGet(of: -2)  // [root, byFlags, regex?]
        if let r = lua.object(at: -1, CompiledRegex.self) {
            lua.copy(from: -1, to: 1)
            lua.pop(3)
            return r
        }
        lua.pop()
        let pattern = lua.bytes(at: 1) ?? []
        let r = try compile(pattern, flags: flags, function: function)
        lua.pushValue(at: 1)
        lua.push(object: r)
        lua.copy(from: -1, to: 1)
        lua.rawSetPair(of: -3)
        lua.pop(2)
        entries += 1
        return r
    }
}

/// What the `re` module runs in Lua: `gmatch` (match objects are LuaShim's rematch.c).
enum ReMatchLua {
    /// `regex:gmatch(s)`, added to the pattern type's methods: an iterator over the match
    /// objects of every match (Python's finditer), stepping with `finditer_step`.
    static let gmatch = #"""
local methods = ...
function methods.gmatch(r, s)
  if type(s) ~= "string" then error("bad argument #1 to 'gmatch' (string expected, got " .. type(s) .. ")", 2) end
  local pos, after_empty = 0, false
  return function()
    if pos == nil then return nil end
    local m = r:finditer_step(s, pos, after_empty)
    if m == nil then pos = nil return nil end
    local a, b = m:span(0)
    after_empty = b < a
    pos = b
    return m
  end
end
"""#
}
