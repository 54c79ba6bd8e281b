import LuaShim

/// Bounds shared by every reader of sizes and depths, so a size from Lua or from a file is
/// checked before it is used (never converted with a trap, never allocated unchecked).
public enum LuaLimits {
    /// The largest count a Lua function takes for anything that is looped over or
    /// allocated per unit (k, n, bins, runs, a shape entry): 2^31 - 1.
    public static let maxCount = Int(Int32.max)
    /// Elements a single tensor or array built from Lua may hold: 2^40 (8 TiB of f64, far
    /// past any machine; the memory check refuses much less, with a clear message).
    public static let maxElements = 1 << 40
    /// How deep a recursive reader (tables to tensors, JSON, printing, copying values
    /// between states, sessions) follows nested tables before it refuses the value.
    public static let maxDepth = 200

    /// The error for a value nested deeper than `maxDepth`.
    public static func depthProblem(_ what: String) -> String {
        "\(what) nested deeper than \(maxDepth) levels"
    }
}

/// A number as Lua prints it (`%.14g`; integers exactly), for "got ..." in messages.
func luaNumberText(_ state: LuaState, at index: Int32) -> String {
    if state.isInteger(at: index) { return String(state.rawInteger(at: index)) }
    return formatLuaFloat(state.rawNumber(at: index))
}

/// A float as Lua's `tostring` writes it (`1e+308`, `2147483648.0`, `inf`, `nan`).
public func formatLuaFloat(_ d: Double) -> String {
    var out = [CChar](repeating: 0, count: 64)
    mlshim_format_float(d, &out, 64)
    return out.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
}

/// "in [1, 2147483647]" for a range in messages; ">= 0" when it has no upper end.
func rangeText(_ r: ClosedRange<Int>) -> String {
    r.upperBound == Int.max ? ">= \(r.lowerBound)" : "in [\(r.lowerBound), \(r.upperBound)]"
}

/// "in [0, 1]", ">= 0" or "> 0" (a range from the least positive double) for messages.
func rangeText(_ r: ClosedRange<Double>) -> String {
    let open = r.upperBound == .infinity || r.upperBound == .greatestFiniteMagnitude
    if r.lowerBound == .leastNonzeroMagnitude { return open ? "> 0" : "in (0, \(formatLuaFloat(r.upperBound))]" }
    if open { return ">= \(formatLuaFloat(r.lowerBound))" }
    return "in [\(formatLuaFloat(r.lowerBound)), \(formatLuaFloat(r.upperBound))]"
}

/// Ranges of reals that messages name plainly.
public enum LuaRanges {
    /// Numbers > 0 (NaN and infinity refused).
    public static let positive = Double.leastNonzeroMagnitude...Double.greatestFiniteMagnitude
    /// Numbers >= 0 (NaN and infinity refused).
    public static let nonNegative = 0...Double.greatestFiniteMagnitude
}

extension LuaState {
    /// The number at `index` as an Int when it is an integer (or a float with an integral
    /// value) inside `range`; nil otherwise (NaN, inf, fractions, out of range).
    func checkedInteger(at index: Int32, in range: ClosedRange<Int>) -> Int? {
        guard rawType(at: index) == LUA_TNUMBER else { return nil }
        if isInteger(at: index) {
            let v = rawInteger(at: index)
            guard v >= Int64(range.lowerBound), v <= Int64(range.upperBound) else { return nil }
            return Int(v)
        }
        let d = rawNumber(at: index)
        guard d.isFinite, d == d.rounded(), d >= Double(range.lowerBound), d <= Double(range.upperBound),
              let v = Int(exactly: d), range.contains(v) else { return nil }
        return v
    }
}

/// Checked sizes, counts and ranged numbers for positional arguments:
/// `bad argument #1 to 'sample.top_k' (k must be an integer in [0, 2147483647], got 1e+308)`.
extension LuaArguments {
    /// An integer argument (a float with an integral value is taken) inside `range`.
    /// - Parameters:
    ///   - index: the argument's position.
    ///   - name: how the message names it (`"k"`, `"n"`).
    public func count(_ index: Int32, _ name: String, in range: ClosedRange<Int>) throws -> Int {
        guard type(index) == .number else { throw error(index, "\(name) must be an integer \(rangeText(range)), got \(gotName(index))") }
        guard let v = state.checkedInteger(at: index, in: range) else {
            throw error(index, "\(name) must be an integer \(rangeText(range)), got \(luaNumberText(state, at: index))")
        }
        return v
    }

    /// Like `count(_:_:in:)`, with `value` when the argument is nil or absent.
    public func count(_ index: Int32, _ name: String, in range: ClosedRange<Int>, default value: Int) throws -> Int {
        isNil(index) ? value : try count(index, name, in: range)
    }

    /// A number argument inside `range` (NaN is refused).
    public func number(_ index: Int32, _ name: String, in range: ClosedRange<Double>) throws -> Double {
        guard type(index) == .number, let d = state.number(at: index) else {
            throw error(index, "\(name) must be a number \(rangeText(range)), got \(gotName(index))")
        }
        guard range.contains(d) else {
            throw error(index, "\(name) must be a number \(rangeText(range)), got \(luaNumberText(state, at: index))")
        }
        return d
    }

    /// Like `number(_:_:in:)`, with `value` when the argument is nil or absent.
    public func number(_ index: Int32, _ name: String, in range: ClosedRange<Double>, default value: Double) throws -> Double {
        isNil(index) ? value : try number(index, name, in: range)
    }
}

/// The same checks for options: `bad argument #3 to 'metrics.ece' (option 'bins' must be an
/// integer in [1, 1000000], got 1099511627776)`.
extension LuaOptions {
    /// An integer option inside `range`; nil when absent.
    public func count(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        let t = push(key)
        defer { state.pop() }
        if t == .nil { return nil }
        guard t == .number else { throw optionError(key, "an integer \(rangeText(range))") }
        guard let v = state.checkedInteger(at: -1, in: range) else {
            throw arguments.error(index, "option '\(key)' must be an integer \(rangeText(range)), got \(luaNumberText(state, at: -1))")
        }
        return v
    }

    /// An integer option inside `range`, `value` when absent.
    public func count(_ key: String, in range: ClosedRange<Int>, default value: Int) throws -> Int {
        try count(key, in: range) ?? value
    }

    /// A number option inside `range` (NaN refused); nil when absent.
    public func number(_ key: String, in range: ClosedRange<Double>) throws -> Double? {
        let t = push(key)
        defer { state.pop() }
        if t == .nil { return nil }
        guard t == .number, let d = state.number(at: -1) else { throw optionError(key, "a number \(rangeText(range))") }
        guard range.contains(d) else {
            throw arguments.error(index, "option '\(key)' must be a number \(rangeText(range)), got \(luaNumberText(state, at: -1))")
        }
        return d
    }

    /// A number option inside `range`, `value` when absent.
    public func number(_ key: String, in range: ClosedRange<Double>, default value: Double) throws -> Double {
        try number(key, in: range) ?? value
    }
}
