/// A Lua value that Swift can hold without a state: what round-trips through
/// `push(_:)` and `value(at:)`. Strings are bytes (Lua strings may hold zeros).
public enum LuaValue: Hashable, Sendable {
    case `nil`
    case boolean(Bool)
    case integer(Int)
    case number(Double)
    case string([UInt8])
    case table([LuaValue: LuaValue])

    /// A string value from Swift text.
    public static func text(_ s: String) -> LuaValue { .string(Array(s.utf8)) }
}
