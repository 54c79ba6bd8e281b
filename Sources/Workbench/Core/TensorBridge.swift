import LuaKit
import AlignMath

/// How vectors cross between Lua and AlignMath: every function that takes a vector
/// accepts a Lua array of numbers or a `tensor`; vectors come back as tensors.
extension LuaArguments {
    /// The tensor at `index`, if it is one.
    public func tensorIfAny(_ index: Int32) -> Tensor? {
        index <= count ? state.object(at: index, Tensor.self) : nil
    }

    /// The argument as a tensor: a tensor is taken as it is (no copy); a Lua array (of
    /// numbers, or of arrays of numbers for 2-d) becomes a new f64 tensor.
    public func tensor(_ index: Int32, what: String = "tensor or array of numbers") throws -> Tensor {
        if let t = tensorIfAny(index) { return t }
        guard type(index) == .table else { throw typeError(index, expected: what) }
        return try state.tensorFromTable(at: index, function: function, argument: index)
    }

    /// The argument as Swift doubles (from a tensor or a Lua array of numbers/booleans).
    public func doubles(_ index: Int32, what: String = "tensor or array of numbers") throws -> [Double] {
        if let t = tensorIfAny(index) { return t.toDoubles() }
        guard type(index) == .table else { throw typeError(index, expected: what) }
        guard let a = state.numberArray(at: index) else {
            throw error(index, "\(what) expected, got a table with a non-number entry")
        }
        return a
    }

    /// Optional doubles: nil when the argument is nil/absent.
    public func optionalDoubles(_ index: Int32) throws -> [Double]? {
        isNil(index) ? nil : try doubles(index)
    }

    /// A Lua array of booleans (or 0/1 numbers, or a tensor) as Swift booleans.
    public func booleans(_ index: Int32, what: String = "array of booleans") throws -> [Bool] {
        if let t = tensorIfAny(index) { return t.toDoubles().map { $0 != 0 } }
        guard type(index) == .table else { throw typeError(index, expected: what) }
        let n = state.rawLength(at: index)
        var out = [Bool](repeating: false, count: n)
        for i in 0..<n {
            let t = state.rawGet(i + 1, of: index)
            defer { state.pop() }
            switch t {
            case .boolean: out[i] = state.boolean(at: -1)
            case .number: out[i] = (state.number(at: -1) ?? 0) != 0
            default: throw error(index, "\(what) expected, entry \(i + 1) is \(state.typeName(at: -1))")
            }
        }
        return out
    }

    /// A Lua array of strings.
    public func strings(_ index: Int32, what: String = "array of strings") throws -> [String] {
        guard type(index) == .table, let s = state.stringArray(at: index) else { throw typeError(index, expected: what) }
        return s
    }
}

extension LuaOptions {
    /// An option holding a vector (Lua array or tensor); nil when absent.
    public func doubles(_ key: String) throws -> [Double]? {
        let t = push(key)
        defer { state.pop() }
        if t == .nil { return nil }
        if let tensor = state.object(at: -1, Tensor.self) { return tensor.toDoubles() }
        guard t == .table, let a = state.numberArray(at: -1) else { throw optionError(key, "a tensor or an array of numbers") }
        return a
    }

    /// An option holding booleans (array of booleans or 0/1 numbers); nil when absent.
    public func booleans(_ key: String) throws -> [Bool]? {
        guard let d = try doublesOrBooleans(key) else { return nil }
        return d.map { $0 != 0 }
    }

    private func doublesOrBooleans(_ key: String) throws -> [Double]? {
        let t = push(key)
        defer { state.pop() }
        if t == .nil { return nil }
        if let tensor = state.object(at: -1, Tensor.self) { return tensor.toDoubles() }
        guard t == .table, let a = state.numberArray(at: -1) else { throw optionError(key, "an array of booleans") }
        return a
    }
}

extension LuaState {
    /// A Lua array of numbers (1-d) or of equal-length arrays of numbers (2-d) read straight
    /// into a new f64 tensor's storage by one C loop per row: the one copy a Lua array costs.
    /// Nil for anything else (deeper nesting, a stray entry, ragged rows), which the generic
    /// walk then reads or reports.
    private func numericTableFast(at idx: Int32) throws -> Tensor? {
        let n = rawLength(at: idx)
        guard n > 0 else { return nil }
        let first = rawGet(1, of: idx)
        defer { pop() }
        switch first {
        case .number, .boolean:
            let t = try Tensor.zeros([n], dtype: .f64)
            let bad = try t.withMutableDoubles { b -> Int? in
                guard let p = b.baseAddress else { return nil }
                return readNumbers(at: idx, count: n, into: p)
            }
            return bad == nil ? t : nil
        case .table:
            let width = rawLength(at: -1)
            guard width > 0, type(at: -1) == .table else { return nil }
            let inner = rawGet(1, of: -1)
            pop()
            guard inner == .number || inner == .boolean else { return nil }
            let t = try Tensor.zeros([n, width], dtype: .f64)
            let ok = try t.withMutableDoubles { b -> Bool in
                guard let p = b.baseAddress else { return false }
                for r in 0..<n {
                    guard rawGet(r + 1, of: idx) == .table else { pop(); return false }
                    defer { pop() }
                    guard rawLength(at: -1) == width, readNumbers(at: -1, count: width, into: p + r * width) == nil else {
                        return false
                    }
                }
                return true
            }
            return ok ? t : nil
        default:
            return nil
        }
    }

    /// Pushes a tensor as userdata. Stack: [] -> [tensor].
    public func push(tensor: Tensor) { push(object: tensor) }

    /// Pushes Swift doubles as a new f64 tensor. Stack: [] -> [tensor].
    public func push(tensorOf values: [Double], shape: [Int]? = nil) throws {
        push(tensor: try Tensor(values, shape: shape))
    }

    /// Builds an f64 tensor from a nested Lua array at `index` (1-d, 2-d or 3-d,
    /// rectangular).
    func tensorFromTable(at index: Int32, function: String, argument: Int32) throws -> Tensor {
        let idx = absolute(index)
        if let t = try numericTableFast(at: idx) { return t }
        var shape: [Int] = []
        var values: [Double] = []
        var leafDepth: Int?  // the depth where numbers live; tables may only appear above it
        func fail(_ what: String) -> LuaArgumentError {
            LuaArgumentError(function: function, index: Int(argument), problem: what)
        }
        func leaf(at depth: Int) throws {
            if leafDepth == nil { leafDepth = depth }
            guard leafDepth == depth else { throw fail("mixed numbers and rows at depth \(depth + 1); a tensor must be rectangular") }
        }
        func walk(_ at: Int32, depth: Int) throws {
            let n = rawLength(at: at)
            if depth == shape.count { shape.append(n) } else if shape[depth] != n {
                throw fail("rows of different lengths (\(shape[depth]) vs \(n)); a tensor must be rectangular")
            }
            for i in 1...max(n, 1) where i <= n {
                let t = rawGet(i, of: at)
                defer { pop() }
                switch t {
                case .number:
                    try leaf(at: depth)
                    values.append(number(at: -1) ?? 0)
                case .boolean:
                    try leaf(at: depth)
                    values.append(boolean(at: -1) ? 1 : 0)
                case .table:
                    if let d = leafDepth, depth >= d { throw fail("mixed numbers and rows at depth \(depth + 1); a tensor must be rectangular") }
                    try walk(absolute(-1), depth: depth + 1)
                case .userdata where object(at: -1, Tensor.self) != nil:
                    throw fail("a table of tensors; stack them or pass the tensor itself")
                default:
                    throw fail("tensor or array of numbers expected, entry \(i) is \(typeName(at: -1))")
                }
            }
        }
        try walk(idx, depth: 0)
        if shape.count > 1, shape.last == 0 { shape = [shape[0], 0] }
        guard values.count == shape.reduce(1, *) else {
            throw fail("rows of different lengths; a tensor must be rectangular")
        }
        return try Tensor(values, shape: shape)
    }
}
