import LuaKit
import AlignMath

// Argument readers shared by the `rl`, `pref` and `metrics` modules: option fields that hold
// vectors (required or not), 0/1 flags, 1-based positions, and the stats tables they return.

extension LuaOptions {
    /// The field `key` as a tensor: a tensor as it is, a (nested) Lua array as a new f64
    /// tensor; nil when absent. Stack-neutral.
    func tensor(_ key: String) throws -> Tensor? {
        let t = push(key)
        defer { state.pop() }
        if t == .nil { return nil }
        if let tensor = state.object(at: -1, Tensor.self) { return tensor }
        guard t == .table else { throw optionError(key, "a tensor or an array of numbers") }
        return try state.tensorFromTable(at: -1, function: arguments.function, argument: index)
    }

    /// The field `key` as a vector of doubles (any shape, flattened); nil when absent.
    func vector(_ key: String) throws -> [Double]? {
        try tensor(key)?.toDoubles()
    }

    /// A field that must be present: a tensor or an array of numbers.
    func requiredVector(_ key: String) throws -> [Double] {
        guard let v = try vector(key) else {
            throw arguments.error(index, "field '\(key)' is required (a tensor or an array of numbers)")
        }
        return v
    }

    /// Either `key` or its alias `alias` (not both); nil when neither is given.
    func vector(_ key: String, alias: String) throws -> [Double]? {
        if has(key) && has(alias) {
            throw arguments.error(index, "give '\(key)' or its alias '\(alias)', not both")
        }
        return try vector(key) ?? vector(alias)
    }

    /// `key` (or its alias), required.
    func requiredVector(_ key: String, alias: String) throws -> [Double] {
        guard let v = try vector(key, alias: alias) else {
            throw arguments.error(index, "field '\(key)' is required (a tensor or an array of numbers)")
        }
        return v
    }
}

extension LuaOptions {
    /// The field `key` as flags (RL's `dones`): a tensor as it is (the kernel checks that its
    /// entries are 0/1), a Lua array (or array of equal-length arrays, for a batch) of
    /// booleans or 0/1 numbers read once, by one C loop per row, into a new bool tensor;
    /// nil when absent. A bad entry is an error naming the option and the entry.
    func flags(_ key: String) throws -> Tensor? {
        let t = push(key)
        defer { state.pop() }
        if t == .nil { return nil }
        if let tensor = state.object(at: -1, Tensor.self) { return tensor }
        guard t == .table else { throw optionError(key, "a tensor or an array of booleans or 0/1") }
        let n = state.rawLength(at: -1)
        let rowType = n > 0 ? state.rawGet(1, of: -1) : .nil
        if n > 0 { state.pop() }
        if rowType != .table { return try flagRow(key, count: n, shape: [n], row: nil) }
        // a batch: one array per row, every row as long as the first
        let width = state.rawGet(1, of: -1) == .table ? state.rawLength(at: -1) : 0
        state.pop()
        let out = try Tensor.empty([n, width], dtype: .bool)
        try out.withMutableBools { b in
            guard let base = b.baseAddress else { return }
            let bytes = UnsafeMutableRawPointer(base).assumingMemoryBound(to: UInt8.self)
            for r in 0..<n {
                guard state.rawGet(r + 1, of: -1) == .table else {
                    let name = state.typeName(at: -1)
                    state.pop()
                    throw arguments.error(index, "option '\(key)' rows must be arrays, row \(r + 1) is \(name)")
                }
                defer { state.pop() }
                let len = state.rawLength(at: -1)
                guard len == width else {
                    throw arguments.error(index, "option '\(key)' rows differ in length (row \(r + 1) has \(len) entries, row 1 has \(width))")
                }
                if let bad = state.readFlags(at: -1, count: width, into: bytes + r * width) {
                    throw badFlag(key, at: -1, position: bad, row: r + 1)
                }
            }
        }
        return out
    }

    /// The array on top of the stack read as `count` flags into a new bool tensor of `shape`.
    private func flagRow(_ key: String, count: Int, shape: [Int], row: Int?) throws -> Tensor {
        let out = try Tensor.empty(shape, dtype: .bool)
        let bad = try out.withMutableBools { b -> Int? in
            guard let base = b.baseAddress else { return nil }
            return state.readFlags(at: -1, count: count,
                                   into: UnsafeMutableRawPointer(base).assumingMemoryBound(to: UInt8.self))
        }
        if let bad { throw badFlag(key, at: -1, position: bad, row: row) }
        return out
    }

    /// "option 'dones' must hold booleans or 0/1, entry 3 is a string" (entry `position`,
    /// 1-based, of the array at `at`).
    private func badFlag(_ key: String, at: Int32, position: Int, row: Int?) -> LuaArgumentError {
        let shown: String
        switch state.rawGet(position, of: at) {
        case .number: shown = formatNumber(state.number(at: -1) ?? .nan)
        case .nil: shown = "nil"
        default: shown = "a \(state.typeName(at: -1))"
        }
        state.pop()
        let place = row.map { "row \($0), entry \(position)" } ?? "entry \(position)"
        return arguments.error(index, "option '\(key)' must hold booleans or 0/1, \(place) is \(shown)")
    }
}

extension LuaArguments {
    /// Booleans or 0/1 numbers (Lua array or tensor) as 1/0 doubles; other numbers are kept,
    /// so the math can say which entry was wrong.
    func binary(_ index: Int32, what: String = "array of booleans or 0/1 numbers") throws -> [Double] {
        try doubles(index, what: what)
    }

    /// 1-based positions (a number or an array) as 0-based integers.
    func positions(_ values: [Double], index: Int32) throws -> [Int] {
        try values.enumerated().map { i, v in
            guard v == v.rounded(), abs(v) < 1e15 else {
                throw error(index, "positions must be integers, entry \(i + 1) is \(formatNumber(v))")
            }
            return Int(v) - 1
        }
    }

    /// Integer counts from doubles (for pass@k's n and c), each inside `range`.
    func integers(_ values: [Double], index: Int32, what: String,
                  in range: ClosedRange<Int> = 0...LuaLimits.maxCount) throws -> [Int] {
        try values.enumerated().map { i, v in
            guard v == v.rounded(), v >= Double(range.lowerBound), v <= Double(range.upperBound), let n = Int(exactly: v) else {
                throw error(index, "\(what) must hold integers in [\(range.lowerBound), \(range.upperBound)], entry \(i + 1) is \(formatLuaFloat(v))")
            }
            return n
        }
    }
}

extension LuaState {
    /// Pushes a table of named numbers (keys in the given order). Stack: [] -> [t].
    func push(stats: KeyValuePairs<String, Double>) {
        newTable(recordCount: stats.count)
        for (k, v) in stats {
            push(v)
            setField(k)
        }
    }

    /// Pushes a vector as a tensor with `shape` when it fits (a batch keeps its shape),
    /// else as 1-d. Stack: [] -> [tensor].
    func push(vector values: [Double], shape: [Int]?) throws {
        if let s = shape, s.reduce(1, *) == values.count, !s.isEmpty {
            try push(tensorOf: values, shape: s)
        } else {
            try push(tensorOf: values)
        }
    }
}

/// A number as an error message shows it: integers without a fraction.
func formatNumber(_ x: Double) -> String {
    if x == x.rounded(), abs(x) < 1e15 { return String(Int(x)) }
    return "\(x)"
}

/// A shape as `2x3`.
func formatShape(_ s: [Int]) -> String { s.map(String.init).joined(separator: "x") }
