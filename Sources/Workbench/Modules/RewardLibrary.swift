import LuaKit

/// Where the Lua halves of `reward` and `detect` live in a state: the table `RewardLua`
/// fills (kept in the registry as `moonlab.rewardlib`) and `PortableLua`'s table (as
/// `moonlab.portable`).
enum RewardLibrary {
    static let libraryKey = "moonlab.rewardlib"
    static let portableKey = "moonlab.portable"

    /// Runs `RewardLua`, `DetectLua` and `PortableLua` once per state. Stack-neutral.
    static func install(_ lua: LuaState) throws {
        lua.pushRegistry()
        defer { lua.pop() }
        if lua.getField(libraryKey) == .table { lua.pop(); return }
        lua.pop()
        try lua.load(RewardLua.source, name: "=reward")
        lua.newTable()
        try lua.pcall(nargs: 1, nresults: 1)
        lua.pushValue(at: -1)
        lua.setField(libraryKey, of: -3)  // registry[libraryKey] = W; stack: [reg W]
        try lua.load(DetectLua.source, name: "=detect")
        lua.pushValue(at: -2)
        try lua.pcall(nargs: 1, nresults: 0)
        try lua.load(PortableLua.source, name: "=portable")
        lua.pushValue(at: -2)
        try lua.pcall(nargs: 1, nresults: 1)
        lua.setField(portableKey, of: -3)
        lua.pop()
    }

    /// Pushes `lib[key]` of the reward library ("lib") or the portable table ("portable").
    /// Stack: [] -> [v].
    static func pushField(_ lua: LuaState, _ which: String, _ key: String) throws {
        lua.pushRegistry()
        lua.getField(which == "portable" ? portableKey : libraryKey)
        lua.remove(at: -2)
        guard lua.type(at: -1) == .table else {
            lua.pop()
            throw LuaScriptError("reward library is not installed")
        }
        lua.getField(key)
        lua.remove(at: -2)
    }

    /// A registry reference to `lib[registry][name]` (a reward or detector object).
    static func ref(_ lua: LuaState, registry: String, name: String) throws -> LuaRef {
        try pushField(lua, "lib", registry)
        guard lua.type(at: -1) == .table else { lua.pop(); throw LuaScriptError("no \(registry) registry") }
        lua.getField(name)
        lua.remove(at: -2)
        guard lua.type(at: -1) != .nil else {
            lua.pop()
            throw LuaScriptError("unknown \(registry == "rewards" ? "reward" : "detector") '\(name)'")
        }
        return LuaRef(popping: lua)
    }

    /// A Swift function that calls `lib[key]` with its arguments and returns its results, so
    /// the Lua half's errors are raised with the caller's position like every other function.
    static func forwarder(_ key: String) -> LuaFunction {
        return { args in
            let lua = args.state
            let n = args.count
            try pushField(lua, "lib", key)
            lua.insert(at: 1)
            do { try lua.pcall(nargs: n) } catch let e as LuaError { throw LuaScriptError(e.message) }
            return lua.top
        }
    }

    /// Calls `lib[key](args...)` with the values already pushed. Stack: [a1..an] -> [r1..rk].
    static func call(_ lua: LuaState, _ key: String, nargs: Int32, nresults: Int32) throws {
        try pushField(lua, "lib", key)
        lua.insert(at: -(nargs + 1))
        try lua.pcall(nargs: nargs, nresults: nresults)
    }
}

/// Lua stack slots reserved before reading or pushing a nested `LuaValue` (two per level of
/// nesting, for the deepest bundle `value(at:depth: 200)` reads).
let stackReserve: Int32 = 2 * 200 + 40

/// Exporting a reward and everything it needs from one state, for the workers of
/// `ScoringEngine` (see `PortableLua` for what can travel).
public enum PortableDefinitions {
    /// The bundle for scoring the value at `index` (a reward object, name or function) in
    /// worker states: user globals, user rewards and detectors, and the target itself,
    /// registered in the worker as `targetName`. Throws when the target cannot travel.
    public static func bundle(_ lua: LuaState, targetAt index: Int32, targetName: String) throws -> LuaValue {
        let idx = lua.absolute(index)
        try RewardLibrary.pushField(lua, "portable", "bundle")
        lua.pushValue(at: idx)
        try RewardLibrary.pushField(lua, "lib", "startup")
        try lua.pcall(nargs: 2, nresults: 1)
        defer { lua.pop() }
        // value(at:) recurses without lua_checkstack: reserve room for a deep bundle.
        guard lua.checkStack(stackReserve) else { throw LuaScriptError("not enough Lua stack to export the reward") }
        guard case .table(var t)? = lua.value(at: -1, depth: 200) else {
            throw LuaScriptError("could not export the reward")
        }
        t[.text("target_name")] = .text(targetName)
        return .table(t)
    }
}
