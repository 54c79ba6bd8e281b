import LuaKit
import AlignMath

/// `t[i]`, `t[{...}]`, `t[mask]` and their writes, as Torch7 and numpy spell them with Lua's
/// 1-based positions: a position drops its axis, `{i, j}` and `{i, j, step}` are inclusive
/// ranges (views), `{}` is the whole axis, negative positions count from the end. Out of
/// range is an error that shows the shape.
enum TensorIndexing {
    /// What a key selects.
    enum Selection {
        /// A view (possibly 0-d: a single element).
        case view(Tensor)
        /// Elements picked by a bool mask (a copy when read).
        case mask(Tensor)
        /// Rows at positions along the first axis (an i64 tensor key; a copy when read), and
        /// the key's shape: as numpy's a[p], the result has shape p.shape + a.shape[1:].
        case rows([Int], keyShape: [Int])
    }

    /// Reads the key at stack index 2 for tensor `t` (nil for a string key: not a method).
    static func select(_ t: Tensor, _ a: LuaArguments) throws -> Selection? {
        let s = a.state
        switch s.type(at: 2) {
        case .string:
            return nil
        case .number:
            guard let k = s.integerIfIntegral(at: 2) else {
                throw LuaScriptError("tensor index must be an integer position, got \(s.describe(at: 2))")
            }
            return .view(try position(t, axis: 0, k))
        case .table:
            return .view(try multiIndex(t, a))
        case .userdata:
            if let key = a.tensorIfAny(2) {
                if key.dtype == .bool { return .mask(key) }
                if key.dtype == .i64 {
                    guard let n = t.shape.first else { throw LuaScriptError("cannot index a 0-d tensor") }
                    return .rows(try a.positions(2, size: n, what: "tensor index", axis: 0, shape: t.shape), keyShape: key.shape)
                }
                throw LuaScriptError("a tensor used as an index must be a bool mask or i64 positions, got \(key.dtype)")
            }
            fallthrough
        default:
            throw LuaScriptError("tensor index must be an integer position, a table of ranges or a bool mask, got \(s.typeName(at: 2))")
        }
    }

    /// `t[k]` along `axis`: the view of that position with the axis removed.
    static func position(_ t: Tensor, axis: Int, _ k: Int) throws -> Tensor {
        guard axis < t.ndim else { throw LuaScriptError("cannot index a 0-d tensor") }
        let n = t.shape[axis]
        let z = k < 0 ? k + n : k - 1
        guard k != 0, z >= 0, z < n else {
            let valid = n == 0 ? "the axis is empty" : "positions are 1..\(n) or -\(n)..-1"
            throw LuaScriptError("tensor index \(k) is out of range for axis \(axis + 1) of shape \(shapeText(t.shape)) (\(valid))")
        }
        return try t.select(axis: axis, z)
    }

    /// `t[{a, b, ...}]`: one entry per axis from the first; missing trailing entries are `{}`.
    private static func multiIndex(_ t: Tensor, _ a: LuaArguments) throws -> Tensor {
        let s = a.state
        let n = s.rawLength(at: 2)
        guard n <= t.ndim else {
            throw LuaScriptError("tensor index has \(n) entries, the tensor has \(t.ndim) axes (shape \(shapeText(t.shape)))")
        }
        var view = t
        var axis = 0  // the axis of `view` the next entry applies to (positions remove axes)
        for e in 1...max(n, 1) where e <= n {
            let kind = s.rawGet(e, of: 2)
            defer { s.pop() }
            switch kind {
            case .number:
                guard let k = s.integerIfIntegral(at: -1) else {
                    throw LuaScriptError("tensor index entry \(e) must be an integer position, got \(s.describe(at: -1))")
                }
                view = try position(view, axis: axis, k, shown: t.shape, original: e - 1)
            case .table:
                view = try range(view, axis: axis, at: -1, entry: e, shown: t.shape, s)
                axis += 1
            default:
                throw LuaScriptError("tensor index entry \(e) must be a position or a range {i, j[, step]}, got \(s.typeName(at: -1))")
            }
        }
        return view
    }

    private static func position(_ t: Tensor, axis: Int, _ k: Int, shown: [Int], original: Int) throws -> Tensor {
        let n = t.shape[axis]
        let z = k < 0 ? k + n : k - 1
        guard k != 0, z >= 0, z < n else {
            throw LuaScriptError("tensor index \(k) is out of range for axis \(original + 1) of shape \(shapeText(shown)) (positions are 1..\(n) or -\(n)..-1)")
        }
        return try t.select(axis: axis, z)
    }

    /// `{}`, `{i}`, `{i, j}` or `{i, j, step}` (inclusive, negative from the end) on `axis`.
    private static func range(_ t: Tensor, axis: Int, at idx: Int32, entry: Int, shown: [Int], _ s: LuaState) throws -> Tensor {
        let r = s.absolute(idx)
        let len = s.rawLength(at: r)
        guard len <= 3 else { throw LuaScriptError("tensor index entry \(entry): a range is {i, j} or {i, j, step}, got \(len) numbers") }
        var parts: [Int] = []
        for k in 1...max(len, 1) where k <= len {
            _ = s.rawGet(k, of: r)
            defer { s.pop() }
            guard let v = s.integerIfIntegral(at: -1) else {
                throw LuaScriptError("tensor index entry \(entry): range bounds must be integers, got \(s.describe(at: -1))")
            }
            parts.append(v)
        }
        let n = t.shape[axis]
        if parts.isEmpty { return t }
        var step = parts.count == 3 ? parts[2] : 1
        guard step != 0 else { throw LuaScriptError("tensor index entry \(entry): the step of a range must not be 0") }
        let outOfRange = LuaScriptError("tensor index entry \(entry): range {\(parts.map(String.init).joined(separator: ", "))} is out of range for axis \(entry) of shape \(shapeText(shown)) (positions are 1..\(n) or -\(n)..-1)")
        // Bounds beyond one past either end are never valid (and math.mininteger would
        // overflow below); a step longer than the axis takes one element, as n + 1 does.
        guard parts.prefix(2).allSatisfy({ $0 >= -(n + 1) && $0 <= n + 1 }) else { throw outOfRange }
        step = Swift.max(-(n + 1), Swift.min(n + 1, step))
        func resolve(_ p: Int) -> Int { p < 0 ? p + n : p - 1 }
        let i = resolve(parts[0]), j = parts.count >= 2 ? resolve(parts[1]) : i
        // An empty range (j one step before i) is allowed from any position up to one past the end.
        let count = step > 0 ? (j >= i ? (j - i) / step + 1 : 0) : (j <= i ? (i - j) / (-step) + 1 : 0)
        if count == 0 {
            guard i >= 0 && i <= n, j >= -1 && j <= n else { throw outOfRange }
            return try t.narrow(axis: axis, start: 0, count: 0)
        }
        guard i >= 0, i < n, j >= 0, j < n else { throw outOfRange }
        return try t.narrow(axis: axis, start: i, count: count, step: step)
    }

    /// Writes the value at stack index 3 into `sel`.
    static func write(_ t: Tensor, _ sel: Selection, _ a: LuaArguments) throws {
        do { try assign(t, sel, a) } catch let e as AlignMathError { throw LuaScriptError("tensor[...] = x: \(e.description)") }
    }

    private static func assign(_ t: Tensor, _ sel: Selection, _ a: LuaArguments) throws {
        let value = try valueTensor(a, 3, like: t)
        switch sel {
        case .view(let v):
            try v.assign(value)
        case .mask(let m):
            try t.setMasked(m, value)
        case .rows(let rows, let keyShape):
            // numpy's a[p] = x: x broadcasts to p.shape + a.shape[1:] (a later position wins).
            let rest = Array(t.shape.dropFirst())
            let v: Tensor
            do {
                v = try value.expandForWrite(keyShape + rest).contiguous().reshape([rows.count] + rest)
            } catch {
                throw LuaScriptError("tensor[positions] = x: x has shape \(shapeText(value.shape)), which does not broadcast to \(shapeText(keyShape + rest)) (the positions' shape \(shapeText(keyShape)), then rows of shape \(shapeText(rest)))")
            }
            for (k, r) in rows.enumerated() {
                try t.select(axis: 0, r).assign(try v.select(axis: 0, k))
            }
        }
    }

    /// The value written by `t[...] = x`: a number or boolean (a 0-d tensor of t's dtype), a
    /// tensor, or a Lua array.
    static func valueTensor(_ a: LuaArguments, _ i: Int32, like t: Tensor) throws -> Tensor {
        switch a.type(i) {
        case .number:
            if t.dtype == .i64, let k = a.state.integerIfInteger(at: i) { return try Tensor(elements: [Int64(k)], shape: []) }
            if t.dtype == .i64, let x = a.state.number(at: i), !(x >= -0x1p63 && x < 0x1p63) {
                // numpy: a[0] = np.nan on an int64 array raises "cannot convert float NaN to integer"
                throw LuaScriptError("tensor[...] = x: cannot write \(x.isNaN ? "nan" : "\(x)") into an i64 tensor (no integer has that value)")
            }
            return try Tensor([a.state.number(at: i) ?? .nan], shape: [], dtype: t.dtype == .bool ? .f64 : t.dtype)
        case .boolean:
            return try Tensor(elements: [a.state.boolean(at: i)], shape: [])
        case .table, .userdata:
            if let v = a.tensorIfAny(i) { return v }
            if a.type(i) == .table { return try a.state.tensorFromTable(at: i, function: "tensor[...] =", argument: i) }
            fallthrough
        default:
            throw LuaScriptError("tensor[...] = x: x must be a number, boolean, tensor or array, got \(a.gotName(i))")
        }
    }

    static func shapeText(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }
}

extension LuaState {
    /// The number at `index` as an Int when it is integral (a Lua integer or a float such as
    /// 2.0), else nil.
    func integerIfIntegral(at index: Int32) -> Int? { integer(at: index) }
}
