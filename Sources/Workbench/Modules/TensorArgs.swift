import LuaKit
import AlignMath

/// Reading tensor arguments the way the contract speaks them (1-based axes and positions,
/// negative ones counting from the end, weak scalars) and pushing results back.
extension LuaArguments {
    /// The value at `i` as an operand of arithmetic: a tensor, a Lua number or boolean (a weak
    /// scalar: an integer stays integer), or a Lua array (a new tensor).
    func operand(_ i: Int32, what: String) throws -> Tensor.Operand {
        if let t = tensorIfAny(i) { return .tensor(t) }
        switch type(i) {
        case .number:
            if let k = state.integerIfInteger(at: i) { return .scalar(.int(Int64(k))) }
            return .scalar(.float(state.number(at: i) ?? .nan))
        case .boolean:
            return .scalar(.bool(state.boolean(at: i)))
        case .table:
            return .tensor(try state.tensorFromTable(at: i, function: function, argument: i))
        default:
            throw typeError(i, expected: "tensor, number, boolean or array of numbers (\(what))")
        }
    }

    /// A 1-based axis number (negative counts from the last) turned into a 0-based axis of a
    /// tensor with `ndim` axes; with `insert`, positions 1...ndim+1 (where a new axis goes).
    func axis(_ value: Int, ndim: Int, insert: Bool = false, what: String = "axis", argument: Int32? = nil) throws -> Int {
        let n = insert ? ndim + 1 : ndim
        let k = value < 0 ? value + n : value - 1
        guard value != 0, k >= 0, k < n else {
            let range = n == 0 ? "a 0-d tensor has no axis" : "axes are 1..\(n) or -\(n)..-1"
            let message = "\(what) \(value) is out of range (\(range))"
            if let i = argument { throw error(i, message) }
            throw failure(message)
        }
        return k
    }

    /// The axis option of a reduction-like method at argument `i`: a number (`t:sum(2)`), a
    /// table with the axis first (`t:cumsum{2}`) or an options table `{axis = 2, ...}`.
    /// Returns the options (for the other keys) and the 0-based axis, nil for none.
    func axisOption(_ i: Int32, ndim: Int, allowed: [String]) throws -> (LuaOptions, Int?) {
        if type(i) == .number {
            return (try options(i + 1, allowed: allowed), try axis(try integer(i), ndim: ndim, argument: i))
        }
        guard type(i) == .table else { return (try options(i, allowed: allowed), nil) }
        let s = state
        let first = s.rawGet(1, of: i)
        defer { if first == .nil { s.pop() } }
        guard first != .nil else {
            let o = try options(i, allowed: allowed)
            return (o, try o.integer("axis").map { try axis($0, ndim: ndim, argument: i) })
        }
        guard let p = s.integer(at: -1) else { throw error(i, "the axis must be an integer, got \(s.describe(at: -1))") }
        s.pop()
        // {2, keepdim = true}: the string keys are the options (copied to a table of their own).
        s.newTable()
        let copy = s.absolute(-1)
        var extra: Int? = nil
        s.forEachPair(of: i) {
            if s.type(at: -2) == .string, let k = s.string(at: -2) {
                s.pushValue(at: -1)
                s.setField(k, of: copy)
            } else if !(s.type(at: -2) == .number && s.integer(at: -2) == 1) {
                extra = 1
            }
            return true
        }
        if extra != nil { throw error(i, "give the axis alone or as {axis = k}, with string-keyed options") }
        return (try options(copy, allowed: allowed), try axis(p, ndim: ndim, argument: i))
    }

    /// Positions (1-based, negative from the end) along an axis of size `n` from a Lua array
    /// or an i64 tensor, as 0-based positions. An out-of-range position is an error that
    /// names the axis and the tensor's shape when they are given.
    func positions(_ i: Int32, size n: Int, what: String, axis: Int? = nil, shape: [Int]? = nil) throws -> [Int] {
        var raw: [Int] = []
        if let t = tensorIfAny(i) {
            guard t.dtype == .i64 || t.dtype == .bool || t.count == 0 else {
                throw error(i, "\(what) must be integer positions (a Lua array or an i64 tensor), got a \(t.dtype) tensor")
            }
            raw = t.toInt64s().map { Int($0) }
        } else {
            guard type(i) == .table else { throw typeError(i, expected: "\(what) (array of positions or i64 tensor)") }
            let c = state.rawLength(at: i)
            raw.reserveCapacity(c)
            for k in 1...max(c, 1) where k <= c {
                _ = state.rawGet(k, of: i)
                defer { state.pop() }
                guard let p = state.integer(at: -1) else {
                    throw error(i, "\(what) must be integers, entry \(k) is \(state.describe(at: -1))")
                }
                raw.append(p)
            }
        }
        return try raw.enumerated().map { k, p in
            let z = p < 0 ? p + n : p - 1
            guard p != 0, z >= 0, z < n else {
                let place = shape.map { "axis \((axis ?? 0) + 1) of shape [\($0.map(String.init).joined(separator: ", "))]" } ?? "an axis of size \(n)"
                let valid = n == 0 ? "the axis is empty" : "positions are 1..\(n) or -\(n)..-1"
                throw error(i, "\(what): position \(p) (entry \(k + 1)) is out of range for \(place) (\(valid))")
            }
            return z
        }
    }
}

extension LuaState {
    /// The integer at `index` when it is a Lua integer (not a float with an integral value).
    func integerIfInteger(at index: Int32) -> Int? {
        isInteger(at: index) ? integer(at: index) : nil
    }

    /// Pushes a result: a 0-d tensor as a Lua value (number, integer or boolean), any other
    /// tensor as it is. Stack: [] -> [value].
    func push(result t: Tensor) {
        if t.ndim == 0 { push(element: 0, of: t) } else { push(tensor: t) }
    }
}
