import LuaKit
import AlignMath

/// Module functions over several tensors: cat, stack, where, matmul, maximum, minimum.
enum TensorFunctions {
    /// The axis of cat/stack at `i`: a number (torch's `dim`) or `{axis = k}` (1 by default).
    static func axisArgument(_ a: LuaArguments, _ i: Int32) throws -> Int {
        if a.type(i) == .number { return try a.integer(i) }
        return try a.options(i, allowed: ["axis"]).integer("axis", default: 1)
    }

    static func install(_ m: ModuleBuilder) {
        m.function("cat", doc: """
            tensor.cat(list, {axis = 1}) -> tensor
            The tensors (or Lua arrays) of list joined along an existing axis (1-based, negative from
            the last), as torch.cat and numpy.concatenate; all other sizes must match; dtypes promote.
            The axis may also be given as a number, as torch.cat(list, dim): tensor.cat(list, 2).
            Example: tensor.cat({tensor{1, 2}, tensor{3}})  --> tensor([1., 2., 3.], dtype=f64)
            """) { a in
            let list = try tensorList(a, 1)
            let ndim = list.first?.ndim ?? 1
            let axis = try a.axis(try axisArgument(a, 2), ndim: ndim, argument: 2)
            a.state.push(tensor: try a.tensorMath { try Tensor.cat(list, axis: axis) })
            return 1
        }
        m.function("stack", doc: """
            tensor.stack(list, {axis = 1}) -> tensor
            The tensors (or Lua arrays) of list, all of one shape, stacked along a new axis that
            becomes axis number `axis` (1..ndim+1; -1 is last), as torch.stack and numpy.stack.
            The axis may also be given as a number, as torch.stack(list, dim): tensor.stack(list, 2).
            Example: tensor.stack({tensor{1, 2}, tensor{3, 4}}):shape()  --> {2, 2}
            """) { a in
            let list = try tensorList(a, 1)
            let ndim = list.first?.ndim ?? 0
            let axis = try a.axis(try axisArgument(a, 2), ndim: ndim, insert: true, argument: 2)
            a.state.push(tensor: try a.tensorMath { try Tensor.stack(list, axis: axis) })
            return 1
        }
        m.function("where", doc: """
            tensor.where(mask, a, b) -> tensor
            Elements of a where mask is true and of b elsewhere, mask, a and b broadcast together (as
            numpy.where); a and b are tensors, numbers (weak scalars) or Lua arrays. A mask that is
            not bool counts as mask ~= 0.
            Example: tensor.where(t:gt(0), t, 0)
            """) { a in
            let mask = try a.tensor(1)
            let x = try a.operand(2, what: "where"), y = try a.operand(3, what: "where")
            a.state.push(result: try a.tensorMath { try Tensor.select(mask, x, y) })
            return 1
        }
        m.function("matmul", doc: """
            tensor.matmul(a, b) -> tensor
            The matrix product, as numpy.matmul: 1-d x 1-d is a dot product (a number), a 1-d
            operand is a row (left) or column (right) vector, and leading axes are batches that
            broadcast. f32 and f64 run on OpenBLAS; dtypes promote.
            Example: tensor.matmul(tensor{{1, 2}, {3, 4}}, tensor{{1}, {1}})
            """) { a in
            let x = try a.tensor(1), y = try a.tensor(2)
            a.state.push(result: try a.tensorMath { try Tensor.matmul(x, y) })
            return 1
        }
        for (op, name, doc) in [(BinaryOp.maximum, "maximum", "larger"), (.minimum, "minimum", "smaller")] {
            m.function(name, doc: """
                tensor.\(name)(a, b) -> tensor
                The \(doc) of a and b element by element, with broadcasting (NaN if either is NaN, as
                numpy.\(name)); a and b are tensors, numbers or Lua arrays.
                Example: tensor.\(name)(tensor{1, 5}, 3)
                """) { a in
                let x = try a.operand(1, what: name), y = try a.operand(2, what: name)
                let out: Tensor = try a.tensorMath {
                    switch (x, y) {
                    case let (.tensor(p), .tensor(q)): return try p.binary(op, q)
                    case let (.tensor(p), .scalar(s)): return try p.binary(op, s)
                    case let (.scalar(s), .tensor(q)): return try q.binary(op, s, scalarOnLeft: true)
                    case let (.scalar(s), .scalar(r)): return try s.tensor(DType.promote(s.naturalDtype, r.naturalDtype)).binary(op, r)
                    }
                }
                a.state.push(result: out)
                return 1
            }
        }
    }

    /// A Lua array of tensors (or of Lua arrays) at argument `i`.
    static func tensorList(_ a: LuaArguments, _ i: Int32) throws -> [Tensor] {
        guard a.type(i) == .table, a.tensorIfAny(i) == nil else { throw a.typeError(i, expected: "array of tensors") }
        let s = a.state
        let n = s.rawLength(at: i)
        guard n > 0 else { throw a.error(i, "no tensors given") }
        var out: [Tensor] = []
        for k in 1...n {
            _ = s.rawGet(k, of: i)
            defer { s.pop() }
            if let t = s.object(at: -1, Tensor.self) { out.append(t); continue }
            guard s.type(at: -1) == .table else { throw a.error(i, "entry \(k) must be a tensor or an array of numbers, got \(s.typeName(at: -1))") }
            out.append(try s.tensorFromTable(at: -1, function: a.function, argument: i))
        }
        return out
    }
}
