import LuaKit
import AlignMath

extension Workbench {
    /// The `tensor` module: the tensor userdata type (methods in TensorMethods.swift,
    /// indexing and arithmetic in TensorMeta.swift), the constructors, and load/save.
    static func installTensor(_ wb: Workbench) throws {
        let lua = wb.lua
        _ = TensorMemory.installReclaimer
        var docs: [(String, String)] = []
        lua.register(type: Tensor.self, name: "tensor") { b in
            TensorMethods.add(to: b, docs: &docs)
            TensorMeta.add(to: b)
        }
        TensorMethods.registerDocs(lua, docs)
        lua.installMetaIpairs()
        let m = ModuleBuilder(lua, name: "tensor", doc: """
            tensor: N-d arrays of f32, f64 (the default), i64 or bool, the values heavy math runs on
            tensor{1, 2, 3} and tensor{{1, 2}, {3, 4}} build one from Lua arrays (any depth,
            rectangular; f64, or bool for booleans); tensor(t) copies a tensor. Operations follow
            numpy: broadcasting, type promotion bool < i64 < f32 < f64, views that share storage.
            Positions are 1-based (negative count from the end): t[1] is the first element (1-d)
            or a view of the first row (n-d). Functions over a vocabulary (dist.argmax, sampler
            draws, logit_bias) speak 0-based token ids instead: the logit of token id is t[id + 1].
            Methods: help(tensor.methods).
            Example: t = tensor{{1, 2}, {3, 4}}; t[{2, 1}] = 5; t:sum{axis = -1}
            """)
        TensorConstructors.install(m)
        TensorFunctions.install(m)
        TensorFiles.install(m)
        TensorMethods.installMethodsField(m)
        installCall(m)
    }

    /// `tensor{...}`: a `__call` metamethod on the module table. Stack-neutral.
    private static func installCall(_ m: ModuleBuilder) {
        let lua = m.state
        m.push()
        lua.newTable()
        lua.push(function: "tensor") { a in
            // arg 1 is the module table itself; the user's first argument is arg 2.
            let o = try a.options(3, allowed: ["dtype"])
            let dt = try TensorConstructors.optionalDtype(o)
            if let t = a.tensorIfAny(2) {
                a.state.push(tensor: dt == nil || dt == t.dtype ? t.clone() : t.converted(to: dt ?? t.dtype))
                return 1
            }
            guard a.type(2) == .table else {
                throw a.error(1, "table of numbers or tensor expected, got \(a.gotName(2))")
            }
            a.state.push(tensor: try a.state.tensorFromTable(at: 2, function: "tensor", argument: 1, dtype: dt))
            return 1
        }
        lua.setField("__call")
        lua.setMetatable(of: -2)
        lua.pop()
    }
}

extension LuaArguments {
    /// Runs AlignMath work, turning its errors into `fn: message` Lua errors.
    func tensorMath<R>(_ body: () throws -> R) throws -> R {
        do { return try body() } catch let e as AlignMathError {
            throw failure(TensorErrorText.dropRepeatedName(e.description, of: function))
        }
    }

    /// A shape argument: a Lua array of non-negative integers (`{2, 3}`) or one integer.
    /// With `allowInfer`, one entry may be -1 (reshape).
    /// A shape given either as one table at `index` or, as torch's `x.reshape(2, 3)`, as the
    /// numbers from `index` to the last argument (`t:reshape(6, 1)` took the 6 and dropped
    /// the 1).
    func tensorShapeArguments(_ index: Int32, allowInfer: Bool = false) throws -> [Int] {
        guard type(index) == .number, count > index else { return try tensorShape(index, allowInfer: allowInfer) }
        var shape: [Int] = []
        for i in index...count {
            guard type(i) == .number else { throw typeError(i, expected: "integer (a size, as the sizes before it)") }
            let v = try integer(i)
            guard v >= 0 || (allowInfer && v == -1) else {
                throw error(i, "shape sizes must be >= 0\(allowInfer ? " (or one -1)" : ""), got \(v)")
            }
            shape.append(v)
        }
        return shape
    }

    func tensorShape(_ index: Int32, allowInfer: Bool = false) throws -> [Int] {
        if type(index) == .number {
            let n = try integer(index)
            guard n >= 0 else { throw error(index, "shape sizes must be >= 0, got \(n)") }
            return [n]
        }
        guard type(index) == .table, tensorIfAny(index) == nil else {
            throw typeError(index, expected: "shape (array of integers)")
        }
        let s = state, at = state.absolute(index)
        var shape: [Int] = []
        for k in 0..<s.rawLength(at: at) {
            let t = s.rawGet(k + 1, of: at)
            defer { s.pop() }
            guard t == .number, let v = s.integer(at: -1) else {
                throw error(index, "shape entries must be integers, entry \(k + 1) is \(t == .number ? (s.string(at: -1) ?? "?") : s.typeName(at: -1))")
            }
            guard v >= 0 || (allowInfer && v == -1) else {
                throw error(index, "shape sizes must be >= 0\(allowInfer ? " (or one -1)" : ""), got \(v) at entry \(k + 1)")
            }
            shape.append(v)
        }
        return shape
    }
}

/// The module functions: constructors and files.
enum TensorConstructors {
    /// The `dtype` option ("f64" by default).
    static func dtype(_ o: LuaOptions, default d: DType = .f64) throws -> DType {
        try optionalDtype(o) ?? d
    }

    /// The `dtype` option, nil when absent.
    static func optionalDtype(_ o: LuaOptions) throws -> DType? {
        guard o.has("dtype") else { return nil }
        return DType(rawValue: try o.choice("dtype", ["f32", "f64", "i64", "bool"], default: "f64"))
    }

    static func install(_ m: ModuleBuilder) {
        m.function("zeros", doc: """
            tensor.zeros(shape, {dtype = "f64"}) -> tensor
            A tensor of zeros; shape is an array of sizes or one size (or the sizes one per
            argument, as torch's: tensor.zeros(2, 3)).
            Options: dtype "f64" (default), "f32", "i64" or "bool".
            Example: tensor.zeros{2, 3}
            """) { a in try filled(a, 0) }
        m.function("ones", doc: """
            tensor.ones(shape, {dtype = "f64"}) -> tensor
            A tensor of ones; shape is an array of sizes or one size (or the sizes one per
            argument, as torch's: tensor.ones(2, 3)).
            Options: dtype "f64" (default), "f32", "i64" or "bool".
            Example: tensor.ones{4}
            """) { a in try filled(a, 1) }
        m.function("full", doc: """
            tensor.full(shape, x, {dtype = "f64"}) -> tensor
            A tensor with every element x (-math.huge and 0/0 allowed; true or false gives a bool
            tensor unless dtype says otherwise, as numpy.full).
            Options: dtype "f64" (default for numbers), "f32", "i64" or "bool".
            Example: tensor.full({2, 3}, -math.huge)
            """) { a in
            if a.type(2) == .boolean {
                let x = a.state.boolean(at: 2)
                let shape = try a.tensorShape(1)
                let dt = try dtype(try a.options(3, allowed: ["dtype"]), default: .bool)
                try a.checkAllocation(shape: shape, bytesPerElement: dt.size)
                a.state.push(tensor: try a.tensorMath { try Tensor.full(shape, x ? 1 : 0, dtype: dt) })
                return 1
            }
            // a Lua integer fills an i64 tensor exactly (np.full(2, 2**63 - 1, dtype=np.int64));
            // through a Double it lost everything past 2^53.
            if let k = a.state.integerIfInteger(at: 2) {
                let shape = try a.tensorShape(1)
                let dt = try dtype(try a.options(3, allowed: ["dtype"]))
                if dt == .i64 {
                    try a.checkAllocation(shape: shape, bytesPerElement: dt.size)
                    a.state.push(tensor: try a.tensorMath { try Tensor(elements: [Int64(k)], shape: []).expand(shape).clone() })
                    return 1
                }
            }
            return try filled(a, try a.number(2), options: 3)
        }
        m.function("arange", doc: """
            tensor.arange(a, b[, step], {dtype = "f64"}) -> tensor
            a, a + step, ... up to but excluding b, as numpy.arange (the same values bit for bit:
            a + i * ((a + step) - a), in the dtype; Lua integers into "i64" exactly, past 2^53 too);
            tensor.arange(n) is 0..n-1.
            step defaults to 1 and may be negative. Options: dtype "f64" (default), "f32", "i64"
            or "bool" (f64 even for integer bounds, as the contract's default dtype; numpy and torch
            give int64 there: ask for "i64").
            Example: tensor.arange(0, 1, 0.25)  --> tensor([0.0000, 0.2500, 0.5000, 0.7500], dtype=f64)
            """) { a in
            var nums: [Double] = []
            var i: Int32 = 1
            while i <= 3 && a.type(i) == .number { nums.append(try a.number(i)); i += 1 }
            guard !nums.isEmpty else { throw a.typeError(1, expected: "number") }
            let o = try a.options(i, allowed: ["dtype"])
            let (start, end) = nums.count == 1 ? (0, nums[0]) : (nums[0], nums[1])
            let step = nums.count == 3 ? nums[2] : 1
            let dt = try dtype(o)
            // Lua integers into i64: exact (numpy computes Python ints' arange in int64)
            let ints = (1..<i).compactMap { a.state.integerIfInteger(at: $0) }
            if dt == .i64, ints.count == nums.count {
                let (s, e) = ints.count == 1 ? (Int64(0), Int64(ints[0])) : (Int64(ints[0]), Int64(ints[1]))
                let st = ints.count == 3 ? Int64(ints[2]) : 1
                if let n = Tensor.arangeCount(s, e, step: st), n > 0, n <= Double(LuaLimits.maxElements) {
                    try a.checkAllocation(shape: [Int(n)], bytesPerElement: 8)
                }
                a.state.push(tensor: try a.tensorMath { try Tensor.arange(s, e, step: st) })
                return 1
            }
            let steps = ((end - start) / step).rounded(.up)
            if steps > 0, steps <= Double(LuaLimits.maxElements) { try a.checkAllocation(shape: [Int(steps)], bytesPerElement: dt.size) }
            a.state.push(tensor: try a.tensorMath { try Tensor.arange(start, end, step: step, dtype: dt) })
            return 1
        }
        m.function("randn", doc: """
            tensor.randn(shape, rng, {dtype = "f64"}) -> tensor
            Standard normal samples drawn from the generator rng (random.new(seed)) in row-major
            order, so the same seed gives the same tensor on every machine.
            Options: dtype "f64" (default), "f32", "i64" or "bool".
            Example: tensor.randn({2, 3}, random.new(0))
            """) { a in
            let shape = try a.tensorShape(1)
            let rng = try a.object(2, RandomGenerator.self)
            let dt = try dtype(try a.options(3, allowed: ["dtype"]))
            try a.checkAllocation(shape: shape, bytesPerElement: dt.size)
            let t = try a.tensorMath { try Tensor.zeros(shape, dtype: dt) }
            for i in 0..<t.count {
                if i & 0xFFFF == 0 { try a.state.checkpoint(cost: 1 << 16) }
                t[flat: i] = rng.normal()
            }
            a.state.push(tensor: t)
            return 1
        }
        m.function("from", doc: """
            tensor.from(list, {dtype = "f64"}) -> tensor
            A new tensor from a Lua array (nested for 2-d and 3-d) or a copy of a tensor, in the
            given dtype. Options: dtype "f64" (default), "f32", "i64" or "bool".
            Example: tensor.from({1, 2, 3}, {dtype = "f32"})
            """) { a in
            let o = try a.options(2, allowed: ["dtype"])
            let dt = try optionalDtype(o)
            if let t = a.tensorIfAny(1) {
                a.state.push(tensor: dt == nil || dt == t.dtype ? t.clone() : t.converted(to: dt ?? t.dtype))
                return 1
            }
            guard a.type(1) == .table else { throw a.typeError(1, expected: "tensor or array of numbers") }
            a.state.push(tensor: try a.state.tensorFromTable(at: 1, function: "tensor.from", argument: 1, dtype: dt))
            return 1
        }
        installMore(m)
    }

    /// zeros/ones/full: `shape` at 1, options at `options`.
    private static func filled(_ a: LuaArguments, _ x: Double, options: Int32 = 2) throws -> Int32 {
        var shape: [Int], at = options
        if options == 2, a.type(1) == .number, a.type(2) == .number {
            // torch's tensor.zeros(2, 3[, {dtype = ...}]): the sizes one per argument
            shape = []
            at = 1
            while a.type(at) == .number {
                let v = try a.integer(at)
                guard v >= 0 else { throw a.error(at, "shape sizes must be >= 0, got \(v)") }
                shape.append(v)
                at += 1
            }
        } else {
            shape = try a.tensorShape(1)
        }
        let dt = try dtype(try a.options(at, allowed: ["dtype"]))
        try a.checkAllocation(shape: shape, bytesPerElement: dt.size)
        a.state.push(tensor: try a.tensorMath { try Tensor.full(shape, x, dtype: dt) })
        return 1
    }
}

extension TensorConstructors {
    /// linspace, eye and rand.
    static func installMore(_ m: ModuleBuilder) {
        m.function("linspace", doc: """
            tensor.linspace(a, b, n, {dtype = "f64"}) -> tensor
            n evenly spaced numbers from a to b, both included (as numpy.linspace and torch.linspace).
            Options: dtype "f64" (default), "f32", "i64" (floored, as numpy; torch truncates) or "bool".
            Example: tensor.linspace(0, 1, 5)  --> tensor([0.0000, 0.2500, 0.5000, 0.7500, 1.0000], dtype=f64)
            """) { a in
            let lo = try a.number(1), hi = try a.number(2), n = try a.integer(3)
            guard n >= 0 else { throw a.error(3, "n must be >= 0, got \(n)") }
            let dt = try dtype(try a.options(4, allowed: ["dtype"]))
            try a.checkAllocation(shape: [n], bytesPerElement: 8)
            a.state.push(tensor: try a.tensorMath { try Tensor.linspace(lo, hi, count: n, dtype: dt) })
            return 1
        }
        m.function("eye", doc: """
            tensor.eye(n[, m], {dtype = "f64"}) -> tensor
            The n x m identity matrix (m defaults to n): ones on the diagonal, zeros elsewhere.
            Options: dtype "f64" (default), "f32", "i64" or "bool".
            Example: tensor.eye(2)  --> tensor([[1., 0.], [0., 1.]], ...)
            """) { a in
            let n = try a.integer(1)
            let m2 = a.type(2) == .number ? try a.integer(2) : n
            guard n >= 0, m2 >= 0 else { throw a.failure("sizes must be >= 0, got \(n) x \(m2)") }
            let dt = try dtype(try a.options(a.type(2) == .number ? 3 : 2, allowed: ["dtype"]))
            try a.checkAllocation(shape: [n, m2], bytesPerElement: dt.size)
            let t = try a.tensorMath { try Tensor.zeros([n, m2], dtype: dt) }
            for i in 0..<min(n, m2) { t[flat: i * m2 + i] = 1 }
            a.state.push(tensor: t)
            return 1
        }
        m.function("rand", doc: """
            tensor.rand(shape, rng, {dtype = "f64"}) -> tensor
            Uniform samples in [0, 1) drawn from the generator rng (random.new(seed)) in row-major
            order, so the same seed gives the same tensor on every machine.
            Options: dtype "f64" (default) or "f32".
            Example: tensor.rand({2, 3}, random.new(0))
            """) { a in
            let shape = try a.tensorShape(1)
            let rng = try a.object(2, RandomGenerator.self)
            let dt = try dtype(try a.options(3, allowed: ["dtype"]))
            try a.checkAllocation(shape: shape, bytesPerElement: 8)
            let t = try a.tensorMath { try Tensor.empty(shape, dtype: .f64) }
            try t.withMutableDoubles { b in
                for i in b.indices {
                    if i & 0xFFFF == 0 { try a.state.checkpoint(cost: 1 << 16) }
                    b[i] = rng.uniform()
                }
            }
            a.state.push(tensor: t.converted(to: dt))
            return 1
        }
    }
}

/// AlignMath starts its messages with the operation's name (`matmul: shapes [1, 2] and ...`),
/// which a Swift caller needs; the Lua error already begins with the function's name
/// (`tensor.matmul: `), so the repeat is dropped there.
enum TensorErrorText {
    static func dropRepeatedName(_ message: String, of function: String) -> String {
        let short = function.split(whereSeparator: { $0 == "." || $0 == ":" }).last.map(String.init) ?? function
        for prefix in [short + ": ", "'\(short)': "] where message.hasPrefix(prefix) {
            return String(message.dropFirst(prefix.count))
        }
        return message
    }
}
