import LuaShim

/// The arguments of a Swift function called from Lua, with checks that fail as Lua's own
/// do: `bad argument #2 to 'rl.gae' (number expected, got string)`.
public struct LuaArguments {
    public let state: LuaState
    /// The function's name as errors show it (`'rl.gae'`).
    public let function: String

    public init(state: LuaState, function: String) {
        self.state = state
        self.function = function
    }

    /// Number of arguments passed.
    public var count: Int32 { state.top }

    /// An argument error naming this function. `problem` reads like Lua's:
    /// "number expected, got string" or "p must be in (0, 1], got 1.5".
    public func error(_ index: Int32, _ problem: String) -> LuaArgumentError {
        LuaArgumentError(function: function, index: Int(index), problem: problem)
    }

    /// "X expected, got Y" for the argument at `index`.
    public func typeError(_ index: Int32, expected: String) -> LuaArgumentError {
        error(index, "\(expected) expected, got \(gotName(index))")
    }

    /// What Lua calls the value at `index`, or "no value" past the last argument.
    public func gotName(_ index: Int32) -> String {
        index > count ? "no value" : state.typeName(at: index)
    }

    /// A plain error about this call: "rl.gae: rewards and values differ in length".
    public func failure(_ message: String) -> LuaScriptError {
        LuaScriptError("\(function): \(message)")
    }

    public func isNil(_ index: Int32) -> Bool { index > count || state.isNil(index) }

    public func type(_ index: Int32) -> LuaType { index > count ? .none : state.type(at: index) }

    public func number(_ index: Int32) throws -> Double {
        guard type(index) == .number, let d = state.number(at: index) else {
            throw typeError(index, expected: "number")
        }
        return d
    }

    public func number(_ index: Int32, default value: Double) throws -> Double {
        isNil(index) ? value : try number(index)
    }

    public func integer(_ index: Int32) throws -> Int {
        guard type(index) == .number else { throw typeError(index, expected: "integer") }
        guard let i = state.integer(at: index) else {
            throw error(index, "number has no integer representation")
        }
        return i
    }

    public func integer(_ index: Int32, default value: Int) throws -> Int {
        isNil(index) ? value : try integer(index)
    }

    public func string(_ index: Int32) throws -> String {
        guard type(index) == .string, let s = state.string(at: index) else {
            throw typeError(index, expected: "string")
        }
        return s
    }

    public func string(_ index: Int32, default value: String) throws -> String {
        isNil(index) ? value : try string(index)
    }

    public func bytes(_ index: Int32) throws -> [UInt8] {
        guard type(index) == .string, let b = state.bytes(at: index) else {
            throw typeError(index, expected: "string")
        }
        return b
    }

    /// Runs `body` over the bytes of the string argument at `index`, read in place.
    public func withBytes<R>(_ index: Int32, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        guard type(index) == .string, let r = try state.withStringBytes(at: index, body) else {
            throw typeError(index, expected: "string")
        }
        return r
    }

    public func boolean(_ index: Int32) -> Bool { index <= count && state.boolean(at: index) }

    /// Checks that the argument is a table.
    public func table(_ index: Int32) throws {
        guard type(index) == .table else { throw typeError(index, expected: "table") }
    }

    /// Checks that the argument is a function (or callable table/userdata).
    public func callable(_ index: Int32) throws {
        let t = type(index)
        if t == .function { return }
        if t == .table || t == .userdata, state.getMetatable(of: index) {
            let has = state.getField("__call") != .nil
            state.pop(2)
            if has { return }
        }
        throw typeError(index, expected: "function")
    }

    /// The Swift object in the userdata at `index`, of the registered type `T`.
    public func object<T: AnyObject>(_ index: Int32, _ type: T.Type) throws -> T {
        guard let o = state.object(at: index, type) else {
            throw typeError(index, expected: state.luaName(of: type))
        }
        return o
    }

    /// The options table at `index` (nil or absent gives an empty one). Unknown keys are an
    /// error naming the key and the valid ones.
    public func options(_ index: Int32, allowed: [String]) throws -> LuaOptions {
        if isNil(index) { return LuaOptions(arguments: self, index: 0, keys: []) }
        guard type(index) == .table else { throw typeError(index, expected: "table of options") }
        let keys = state.stringKeys(of: index)
        var nonString = false
        state.forEachPair(of: index) {
            if state.type(at: -2) != .string { nonString = true }
            return !nonString
        }
        if nonString { throw error(index, "options must be a table with string keys") }
        for k in keys where !allowed.contains(k) {
            if allowed.isEmpty { throw error(index, "unknown option '\(k)': this function takes no options") }
            throw error(index, "unknown option '\(k)'; valid options: \(allowed.sorted().joined(separator: ", "))")
        }
        return LuaOptions(arguments: self, index: state.absolute(index), keys: Set(keys))
    }

    /// A function without options: a table of options at `index` (as the contract's
    /// trailing table) is an error naming its first key, not silently ignored; nil or
    /// nothing passes, as does an empty table.
    public func noOptions(_ index: Int32) throws {
        guard !isNil(index), type(index) == .table else { return }
        _ = try options(index, allowed: [])
    }
}

/// Typed reads of an options table, each with a default and a clear error.
public struct LuaOptions {
    public let arguments: LuaArguments
    /// The table's stack index, 0 when no table was given.
    public let index: Int32
    public let keys: Set<String>

    public var state: LuaState { arguments.state }

    public func has(_ key: String) -> Bool { keys.contains(key) }

    /// Pushes the option's value (nil when absent). Stack: [] -> [v].
    @discardableResult
    public func push(_ key: String) -> LuaType {
        guard index != 0 else { state.pushNil(); return .nil }
        return state.getField(key, of: index)
    }

    public func optionError(_ key: String, _ expected: String) -> LuaArgumentError {
        arguments.error(index, "option '\(key)' must be \(expected), got \(state.typeName(at: -1))")
    }

    public func number(_ key: String, default value: Double) throws -> Double {
        try number(key) ?? value
    }

    public func number(_ key: String) throws -> Double? {
        let t = push(key)
        defer { state.pop() }
        if t == .nil { return nil }
        guard t == .number, let d = state.number(at: -1) else { throw optionError(key, "a number") }
        return d
    }

    public func integer(_ key: String, default value: Int) throws -> Int {
        try integer(key) ?? value
    }

    public func integer(_ key: String) throws -> Int? {
        let t = push(key)
        defer { state.pop() }
        if t == .nil { return nil }
        guard t == .number, let i = state.integer(at: -1) else { throw optionError(key, "an integer") }
        return i
    }

    public func boolean(_ key: String, default value: Bool) throws -> Bool {
        let t = push(key)
        defer { state.pop() }
        if t == .nil { return value }
        guard t == .boolean else { throw optionError(key, "a boolean") }
        return state.boolean(at: -1)
    }

    public func string(_ key: String, default value: String) throws -> String {
        try string(key) ?? value
    }

    public func string(_ key: String) throws -> String? {
        let t = push(key)
        defer { state.pop() }
        if t == .nil { return nil }
        guard t == .string, let s = state.string(at: -1) else { throw optionError(key, "a string") }
        return s
    }

    /// A string option that must be one of `choices`.
    public func choice(_ key: String, _ choices: [String], default value: String) throws -> String {
        let s = try string(key, default: value)
        guard choices.contains(s) else {
            throw arguments.error(index, "option '\(key)' must be one of \(choices.map { "\"\($0)\"" }.joined(separator: ", ")), got \"\(s)\"")
        }
        return s
    }
}
