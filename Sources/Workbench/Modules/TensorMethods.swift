import LuaKit
import AlignMath

/// The methods of a tensor (`t:sum()`, `t:reshape{2, -1}`, ...), each with its docstring.
/// Looking and copying here; math in TensorMethodsMath, reductions and ordering in
/// TensorMethodsReduce, shapes and gathering in TensorMethodsShape.
enum TensorMethods {
    typealias Builder = LuaTypeBuilder<Tensor>
    typealias Adder = (String, String, @escaping Builder.Method) -> Void

    static func add(to b: Builder, docs: inout [(String, String)]) {
        func method(_ name: String, _ doc: String, _ body: @escaping Builder.Method) {
            b.method(name, body)
            docs.append((name, doc))
        }
        addLooking(method)
        TensorMethodsMath.add(method)
        TensorMethodsReduce.add(method)
        TensorMethodsShape.add(method)
    }

    private static func addLooking(_ method: Adder) {
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
        method("ndim", """
            t:ndim() -> integer
            The number of axes (0 for a scalar tensor).
            Example: tensor.zeros{2, 3}:ndim()  --> 2
            """) { t, a in a.state.push(t.ndim); return 1 }
        method("dtype", """
            t:dtype() -> "f32" | "f64" | "i64" | "bool"
            The element type.
            Example: tensor.from({1}, {dtype = "f32"}):dtype()  --> f32
            """) { t, a in a.state.push(t.dtype.rawValue); return 1 }
        method("is_contiguous", """
            t:is_contiguous() -> boolean
            True when the elements lie densely in row-major order; views such as t:T() or
            t[{{}, {1, -1, 2}}] are not (t:contiguous() makes a dense copy).
            Example: tensor.zeros{2, 3}:T():is_contiguous()  --> false
            """) { t, a in a.state.push(t.isContiguous); return 1 }
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
        method("totable", """
            t:totable() -> table
            The elements as a Lua array (nested arrays for n-d; a value for a 0-d tensor): floats
            as numbers, i64 as integers, bool as booleans.
            Example: tensor{{1, 2}, {3, 4}}:totable()  --> {{1.0, 2.0}, {3.0, 4.0}}
            """) { t, a in
            if t.ndim == 0 { a.state.push(element: 0, of: t) } else { pushNested(a.state, t, axis: 0, start: 0) }
            return 1
        }
        method("clone", """
            t:clone() -> tensor
            A dense copy with its own storage (views share storage; a clone does not).
            Example: u = t:clone(); u[1] = 0  -- t is unchanged
            """) { t, a in a.state.push(tensor: t.clone()); return 1 }
        method("contiguous", """
            t:contiguous() -> tensor
            t itself when its elements are dense in row-major order, else a dense copy (as torch's
            contiguous).
            Example: t:T():contiguous()
            """) { t, a in
            let c = t.contiguous()
            if c === t { a.state.pushValue(at: 1) } else { a.state.push(tensor: c) }
            return 1
        }
        method("equal", """
            t:equal(u) -> boolean
            True when u (a tensor or Lua array) has the same shape and the same values (an f32 and
            an f64 tensor holding the same numbers are equal; NaN never is), as torch.equal.
            t == u compares identity instead; t:eq(u) compares element by element.
            Example: tensor{1, 2}:equal{1, 2}  --> true
            """) { t, a in a.state.push(t.equal(try a.tensor(2))); return 1 }
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
            Indexing (1-based; negative positions count from the end): t[i] is a number (1-d) or a
            view of row i; t[{2, {1, 3}, {}, -1}] indexes several axes (a position drops the axis,
            {i, j} and {i, j, step} are inclusive ranges, {} the whole axis) and gives a view that
            writes through; t[mask] with a bool tensor selects, t[mask] = x writes. #t, ipairs(t)
            (rows), tostring(t). Arithmetic + - * / ^ % // and unary - with numpy broadcasting (a
            number is a weak scalar: f32 * 2 stays f32); == is identity (t:equal(u) compares).
            Axes are 1-based too ({axis = 1} is the first, -1 the last).
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
