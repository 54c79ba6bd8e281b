import LuaKit

/// The registries of rewards and detectors of a state, read from Swift: which names there
/// are, and which ones a rewards file defined (`moonlab score --reward FILE`, `moonlab
/// serve`). No Lua source is generated: the registry tables are read directly.
public enum Registries {
    public enum Kind: String, Sendable {
        case rewards, detectors
    }

    /// The registered names, sorted.
    public static func names(_ lua: LuaState, _ kind: Kind) throws -> [String] {
        try push(lua, kind)
        defer { lua.pop() }
        return lua.stringKeys(of: -1).sorted()
    }

    /// Whether `name` is registered.
    public static func contains(_ lua: LuaState, _ kind: Kind, _ name: String) throws -> Bool {
        try push(lua, kind)
        defer { lua.pop(2) }
        return lua.getField(name) != .nil
    }

    /// A copy of the registry as it is now (name -> object), held in the Lua registry so a
    /// replaced object cannot be collected (and its address reused) before `changed` runs.
    /// Release it with `release(_:)` when done.
    public static func snapshot(_ lua: LuaState, _ kind: Kind) throws -> LuaRef {
        try push(lua, kind)
        let source = lua.top
        lua.newTable()
        lua.pushNil()
        while lua.next(of: source) {
            lua.pushValue(at: -2)
            lua.insert(at: -2)
            lua.rawSetPair(of: source + 1)
        }
        let ref = LuaRef(popping: lua)
        lua.pop()
        return ref
    }

    /// The names registered now that were absent from `snapshot` or hold another object
    /// (a file that redefines a name counts as defining it), sorted.
    public static func changed(_ lua: LuaState, _ kind: Kind, since snapshot: LuaRef) throws -> [String] {
        try push(lua, kind)
        let now = lua.top
        snapshot.push(lua)
        let before = lua.top
        defer { lua.top = now - 1 }
        var out: [String] = []
        lua.pushNil()
        while lua.next(of: now) {
            if lua.type(at: -2) == .string, let name = lua.string(at: -2) {
                lua.pushValue(at: -2)
                lua.rawGet(of: before)
                if !lua.rawEqual(-1, -2) { out.append(name) }
                lua.pop()
            }
            lua.pop()
        }
        return out.sorted()
    }

    /// Pushes the registry table. Stack: [] -> [t].
    private static func push(_ lua: LuaState, _ kind: Kind) throws {
        try RewardLibrary.pushField(lua, "lib", kind.rawValue)
        guard lua.type(at: -1) == .table else {
            lua.pop()
            throw LuaScriptError("no \(kind.rawValue) registry")
        }
    }
}
