import LuaKit

/// The two values JSON needs beyond plain Lua, one pair per state:
/// - `null`: the `data.null` sentinel, a userdata that prints as `data.null`, is truthy (it
///   is a value, not an absence) and encodes as JSON `null`;
/// - `arrayMeta`: the metatable `data.array(t)` sets, marking a table that encodes as a JSON
///   array even when empty (decoded empty arrays carry it, so `[]` round-trips).
public final class DataSentinels {
    /// Registry reference of `data.null`.
    public let null: LuaRef
    /// Registry reference of the array-marker metatable.
    public let arrayMeta: LuaRef
    static let key = "moonlab.data.sentinels"

    private init(null: LuaRef, arrayMeta: LuaRef) {
        self.null = null
        self.arrayMeta = arrayMeta
    }

    /// The sentinels of `state`, created on first use.
    public static func of(_ state: LuaState) -> DataSentinels {
        if let s = state.userInfo[key] as? DataSentinels { return s }
        state.newUserdata(size: 1)
        state.newTable()
        state.push("data.null"); state.setField("__name")
        state.push(function: "data.null.__tostring") { args in args.state.push("data.null"); return 1 }
        state.setField("__tostring")
        state.push("data.null is a constant"); state.setField("__metatable")
        state.setMetatable(of: -2)
        let null = LuaRef(popping: state)
        state.newTable()
        state.push("json.array"); state.setField("__name")
        let meta = LuaRef(popping: state)
        let s = DataSentinels(null: null, arrayMeta: meta)
        state.userInfo[key] = s
        return s
    }

    /// Whether the value at `index` is `data.null`.
    public func isNull(_ state: LuaState, at index: Int32) -> Bool {
        guard state.rawType(at: index) == LuaType.userdata.rawValue else { return false }
        let i = state.absolute(index)
        state.push(ref: null)
        defer { state.pop() }
        return state.rawEqual(i, -1)
    }

    /// Whether the table at `index` carries the array marker.
    public func isMarkedArray(_ state: LuaState, at index: Int32) -> Bool {
        guard state.getMetatable(of: index) else { return false }
        state.push(ref: arrayMeta)
        defer { state.pop(2) }
        return state.rawEqual(-1, -2)
    }
}
