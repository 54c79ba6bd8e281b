import LuaKit
import AlignMath

/// The methods of a tensor (`t:sum()`, `t:map(fn)`, ...), each with its docstring.
enum TensorMethods {
    typealias Builder = LuaTypeBuilder<Tensor>

    static func add(to b: Builder, docs: inout [(String, String)]) {
        func method(_ name: String, _ doc: String, _ body: @escaping Builder.Method) {
            b.method(name, body)
            docs.append((name, doc))
        }
        method("shape", """
            t:shape() -> {n1, n2, ...}
            The size of each axis as a Lua array of integers ({} for a 0-d tensor).
            Example: tensor.zeros{2, 3}:shape()  --> {2, 3}
            """) { t, a in pushIntegers(a.state, t.shape); return 1 }
        method("numel", """
            t:numel() -> integer
            The number of elements (the product of the shape).
            Example: tensor.zeros{2, 3}:numel()  --> 6
            """) { t, a in a.state.push(t.count); return 1 }
        method("dtype", """
            t:dtype() -> "f32" | "f64" | "i64" | "bool"
            The element type.
            Example: tensor.from({1}, {dtype = "f32"}):dtype()  --> f32
            """) { t, a in a.state.push(t.dtype.rawValue); return 1 }
        method("to", """
            t:to(dtype) -> tensor
            t converted to "f32", "f64", "i64" or "bool": a copy, or t itself when the dtype already
            matches (as torch's Tensor.to). Floats become i64 by truncation toward zero (NaN and
            values beyond the range give the smallest i64, as numpy's astype); anything becomes
            bool as x ~= 0.
            Example: t:to("f32")
            """) { t, a in
            let s = try a.string(2)
            guard let d = DType(rawValue: s) else { throw a.error(2, "dtype must be \"f32\", \"f64\", \"i64\" or \"bool\", got \"\(s)\"") }
            if d == t.dtype { a.state.pushValue(at: 1) } else { a.state.push(tensor: t.converted(to: d)) }
            return 1
        }
        addReductions(method)
        addElementwise(method)
        addShaping(method)
    }

    typealias Adder = (String, String, @escaping Builder.Method) -> Void

    private static func addReductions(_ method: Adder) {
        let what: [(Reduction, String, String)] = [
            (.sum, "The sum of the elements.", "tensor{1, 2, 3}:sum()  --> 6.0"),
            (.mean, "The mean of the elements (NaN for none).", "tensor{{1, 2}, {3, 4}}:mean{axis = -1}"),
            (.std, "The unbiased standard deviation (divides by n - 1, as torch.std; NaN for n < 2).",
             "tensor{1, 2, 3, 4}:std()  --> 1.2909944487358"),
            (.min, "The smallest element (NaN if any is NaN).", "tensor{3, 1, 2}:min()  --> 1.0"),
            (.max, "The largest element (NaN if any is NaN).", "tensor{3, 1, 2}:max()  --> 3.0"),
            (.argmax, "The 1-based position of the first largest element (flat for an n-d tensor).",
             "tensor{3, 1, 5}:argmax()  --> 3"),
        ]
        for (r, meaning, example) in what {
            method(r.rawValue, """
                t:\(r.rawValue)([{axis = -1}]) -> number | tensor
                \(meaning) Over the whole tensor by default (a number); with
                axis = -1 along the last axis (a tensor with the last axis removed; a number for a
                1-d tensor). Only the last axis is supported: -1, or its 1-based number (ndim).
                Options: axis (nil: the whole tensor).
                Example: \(example)
                """) { t, a in try reduce(r, t, a) }
        }
    }

    private static func reduce(_ r: Reduction, _ t: Tensor, _ a: LuaArguments) throws -> Int32 {
        let o = try a.options(2, allowed: ["axis"])
        guard let axis = try o.integer("axis") else {
            let v = try a.tensorMath { try t.reduce(r) }
            if r == .argmax { a.state.push(Int(v) + 1) } else { a.state.push(v) }
            return 1
        }
        guard t.ndim >= 1, axis == -1 || axis == t.ndim else {
            throw a.error(2, t.ndim == 0 ? "option 'axis': a 0-d tensor has no axis"
                : "option 'axis' must be -1 or \(t.ndim) (the last axis, the only one supported), got \(axis)")
        }
        var out = try a.tensorMath { try t.reduce(r, axis: -1) }
        if r == .argmax { out = out.binary(.add, scalar: 1) }
        if out.ndim == 0, let v = out.scalar {
            if r == .argmax { a.state.push(Int(v)) } else { a.state.push(v) }
        } else {
            a.state.push(tensor: out)
        }
        return 1
    }

    private static func addElementwise(_ method: Adder) {
        for (op, meaning) in [(UnaryOp.exp, "e^x"), (.log, "the natural log (log 0 = -inf, negative gives NaN)"),
                              (.abs, "|x|"), (.sqrt, "the square root (negative gives NaN)")] {
            method(op.rawValue, """
                t:\(op.rawValue)() -> tensor
                A new tensor of \(meaning) for every element; same shape and dtype.
                Example: tensor{1, 4, 9}:\(op.rawValue)()
                """) { t, a in a.state.push(tensor: t.unary(op)); return 1 }
        }
        method("clamp", """
            t:clamp(lo, hi) -> tensor
            Each element limited to [lo, hi]; either bound may be nil (no limit), as torch.clamp.
            NaN stays NaN. lo must not be above hi.
            Example: tensor{-2, 0.5, 3}:clamp(0, 1)  --> tensor([0.0000, 0.5000, 1.0000], dtype=f64)
            """) { t, a in
            let lo = a.isNil(2) ? nil : try a.number(2)
            let hi = a.isNil(3) ? nil : try a.number(3)
            a.state.push(tensor: try a.tensorMath { try t.clamp(lo, hi) })
            return 1
        }
        method("map", """
            t:map(fn) -> tensor
            A new tensor of fn(x) for every element, in row-major order; fn must return a number.
            The slow path (one Lua call per element): prefer arithmetic and the methods above.
            Example: tensor{1, 2, 3}:map(function(x) return x % 2 end)
            """) { t, a in
            try a.callable(2)
            let s = a.state
            var k = 0
            let out = try t.map { x in
                k += 1
                s.pushValue(at: 2)
                s.push(x)
                try s.pcall(nargs: 1, nresults: 1)
                defer { s.pop() }
                guard s.type(at: -1) == .number, let y = s.number(at: -1) else {
                    throw a.failure("fn must return a number, got \(s.typeName(at: -1)) for element \(k)")
                }
                return y
            }
            s.push(tensor: out)
            return 1
        }
        method("equal", """
            t:equal(u) -> boolean
            True when u (a tensor or Lua array) has the same shape and the same values (an f32 and
            an f64 tensor holding the same numbers are equal; NaN never is), as torch.equal.
            t == u compares identity instead.
            Example: tensor{1, 2}:equal{1, 2}  --> true
            """) { t, a in a.state.push(t.equal(try a.tensor(2))); return 1 }
    }

    private static func addShaping(_ method: Adder) {
        method("slice", """
            t:slice(i[, j]) -> tensor
            Rows i to j inclusive (1-based) along the first axis, as a view sharing storage:
            writes to it change t. j defaults to the last row; i = j + 1 gives an empty slice.
            Example: tensor{10, 20, 30, 40}:slice(2, 3)  --> tensor([20., 30.], dtype=f64)
            """) { t, a in
            guard let n = t.shape.first else { throw a.failure("cannot slice a 0-d tensor") }
            let i = try a.integer(2), j = try a.integer(3, default: n)
            guard i >= 1, j <= n, i <= j + 1 else {
                throw a.failure("rows \(i)..\(j) out of range for a first axis of size \(n) (1-based, inclusive: need 1 <= i <= j + 1 <= \(n + 1))")
            }
            a.state.push(tensor: try a.tensorMath { try t.slice(i - 1, j) })
            return 1
        }
        method("reshape", """
            t:reshape(shape) -> tensor
            The same elements with another shape, as a view sharing storage; one size may be -1
            (inferred), as torch.reshape.
            Example: tensor.arange(6):reshape{2, -1}
            """) { t, a in
            let shape = try a.tensorShape(2, allowInfer: true)
            a.state.push(tensor: try a.tensorMath { try t.reshape(shape) })
            return 1
        }
        method("totable", """
            t:totable() -> table
            The elements as a Lua array (nested arrays for n-d; a number for a 0-d tensor).
            Example: tensor{{1, 2}, {3, 4}}:totable()  --> {{1.0, 2.0}, {3.0, 4.0}}
            """) { t, a in
            if t.ndim == 0 { a.state.push(element: 0, of: t) } else { pushNested(a.state, t, axis: 0, start: 0) }
            return 1
        }
        method("clone", """
            t:clone() -> tensor
            A copy with its own storage (views share storage; a clone does not).
            Example: u = t:clone(); u[1] = 0  -- t is unchanged
            """) { t, a in a.state.push(tensor: t.clone()); return 1 }
        method("sort", """
            t:sort({descending = false}) -> tensor
            A sorted copy, ascending along the last axis (each row of a batch on its own), NaN last,
            as torch.sort's values.
            Options: descending (false).
            Example: tensor{3, 1, 2}:sort()  --> tensor([1., 2., 3.], dtype=f64)
            """) { t, a in
            let o = try a.options(2, allowed: ["descending"])
            a.state.push(tensor: t.sort(descending: try o.boolean("descending", default: false)))
            return 1
        }
    }

    /// Pushes a Lua array of integers. Stack: [] -> [table].
    static func pushIntegers(_ s: LuaState, _ values: [Int]) {
        s.newTable(arrayCount: values.count)
        for (i, v) in values.enumerated() { s.push(v); s.rawSet(i + 1) }
    }

    /// Pushes the elements from `axis` on as nested arrays. Stack: [] -> [table].
    static func pushNested(_ s: LuaState, _ t: Tensor, axis: Int, start: Int) {
        let n = t.shape[axis]
        let stride = t.shape.dropFirst(axis + 1).reduce(1, *)
        s.newTable(arrayCount: n)
        for i in 0..<n {
            if axis == t.ndim - 1 { s.push(element: start + i, of: t) } else { pushNested(s, t, axis: axis + 1, start: start + i * stride) }
            s.rawSet(i + 1)
        }
    }

    /// Gives each method its docstring, so `help(t.sum)` prints it. Stack-neutral.
    static func registerDocs(_ lua: LuaState, _ docs: [(String, String)]) {
        pushMethods(lua)
        for (name, doc) in docs {
            lua.getField(name)
            Help.register(lua, value: -1, name: "tensor:\(name)", doc: doc, isModule: false)
            lua.pop()
        }
        Help.register(lua, value: -1, name: "tensor.methods", doc: """
            tensor methods: what a tensor t answers to, as t:name(...)
            Also t[i] (1-based; a number for 1-d, a row view for n-d), t[i] = x, #t, tostring(t),
            + - * / ^ and unary - (with numbers, arrays or tensors: equal shapes, a scalar, or a
            shape matching the trailing axes), and == (identity; t:equal(u) compares values).
            Example: t:sum{axis = -1}
            """, isModule: true)
        lua.pop()
    }

    /// Pushes the table of tensor methods. Stack: [] -> [methods].
    private static func pushMethods(_ lua: LuaState) {
        lua.pushRegistry()
        lua.getField("tensor")
        lua.getField("__methods")
        lua.remove(at: -2)
        lua.remove(at: -2)
    }

    /// `tensor.methods`: the methods table, for `help(tensor.methods)`.
    static func installMethodsField(_ m: ModuleBuilder) {
        pushMethods(m.state)
        m.field("methods")
    }
}
