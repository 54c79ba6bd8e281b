import LuaKit
import AlignMath

/// Shapes (views where numpy gives views) and gathering along an axis.
enum TensorMethodsShape {
    static func add(_ method: TensorMethods.Adder) {
        method("reshape", """
            t:reshape(shape) -> tensor
            The same elements in row-major order with another shape; one size may be -1 (inferred),
            as torch.reshape. A view when the layout allows (always for a contiguous t), else a copy.
            The sizes may also be given one per argument, as torch's: t:reshape(3, -1).
            Example: tensor.arange(6):reshape{2, -1}
            """) { t, a in
            let shape = try a.tensorShapeArguments(2, allowInfer: true)
            a.state.push(tensor: try a.tensorMath { try t.reshape(shape) })
            return 1
        }
        method("flatten", """
            t:flatten([start[, end]]) -> tensor
            All elements as one axis, in row-major order (a view when possible, as torch.flatten).
            With start (and end, default -1), only axes start..end are merged, as torch's
            flatten(start_dim, end_dim) (1-based, negative from the last): t:flatten(2) keeps the
            first axis (a batch) and merges the rest.
            Example: tensor{{1, 2}, {3, 4}}:flatten()  --> tensor([1., 2., 3., 4.], dtype=f64)
            """) { t, a in
            if a.type(2) == .none || a.type(2) == .nil {
                a.state.push(tensor: try a.tensorMath { try t.flatten() })
                return 1
            }
            let n = max(t.ndim, 1)
            let s = try a.axis(try a.integer(2), ndim: n, what: "start", argument: 2)
            let e = try a.axis(a.type(3) == .number ? try a.integer(3) : -1, ndim: n, what: "end", argument: 3)
            guard s <= e else { throw a.failure("start axis \(s + 1) comes after end axis \(e + 1) (shape \(TensorIndexing.shapeText(t.shape)))") }
            a.state.push(tensor: try a.tensorMath { t.ndim == 0 ? try t.flatten() : try t.flatten(from: s, through: e) })
            return 1
        }
        method("transpose", """
            t:transpose(a, b) -> tensor
            Axes a and b swapped (1-based, negative from the last): a view sharing storage.
            Example: tensor.zeros{2, 3, 4}:transpose(1, 3):shape()  --> {4, 3, 2}
            """) { t, a in
            let x = try a.axis(try a.integer(2), ndim: t.ndim, argument: 2)
            let y = try a.axis(try a.integer(3), ndim: t.ndim, argument: 3)
            a.state.push(tensor: try a.tensorMath { try t.transpose(x, y) })
            return 1
        }
        method("T", """
            t:T() -> tensor
            The transpose of a 2-d tensor (a view; a 1-d tensor is returned as it is).
            Example: tensor{{1, 2, 3}}:T():shape()  --> {3, 1}
            """) { t, a in
            guard t.ndim <= 2 else { throw a.failure("T() is for 1-d and 2-d tensors (shape \(TensorIndexing.shapeText(t.shape))); use transpose(a, b) or permute") }
            if t.ndim < 2 { a.state.pushValue(at: 1) } else { a.state.push(tensor: try a.tensorMath { try t.transpose(0, 1) }) }
            return 1
        }
        method("permute", """
            t:permute{a1, a2, ...} -> tensor
            The axes in a new order (each axis once, 1-based or negative), as torch.permute: a view.
            The axes may also be given one per argument, as torch's: t:permute(3, 1, 2).
            Example: tensor.zeros{2, 3, 4}:permute{3, 1, 2}:shape()  --> {4, 2, 3}
            """) { t, a in
            let raw: [Int]
            if a.type(2) == .number {
                raw = try (2...max(a.count, 2)).map { try a.integer($0) }
            } else {
                guard a.type(2) == .table else { throw a.typeError(2, expected: "array of axes") }
                raw = try a.state.integerArray(at: 2, a)
            }
            let order = try raw.map { try a.axis($0, ndim: t.ndim, argument: 2) }
            a.state.push(tensor: try a.tensorMath { try t.permute(order) })
            return 1
        }
        method("unsqueeze", """
            t:unsqueeze(axis) -> tensor
            A size-1 axis inserted so that it becomes axis number `axis` (1..ndim+1; -1 appends), as
            torch.unsqueeze: a view.
            Example: tensor{1, 2}:unsqueeze(1):shape()  --> {1, 2}
            """) { t, a in
            let x = try a.axis(try a.integer(2), ndim: t.ndim, insert: true, argument: 2)
            a.state.push(tensor: try a.tensorMath { try t.unsqueeze(x) })
            return 1
        }
        method("squeeze", """
            t:squeeze([axis]) -> tensor
            Size-1 axes removed: all of them, or only `axis` (which must have size 1): a view.
            Example: tensor.zeros{1, 3, 1}:squeeze():shape()  --> {3}
            """) { t, a in
            let x = a.isNil(2) ? nil : try a.axis(try a.integer(2), ndim: t.ndim, argument: 2)
            a.state.push(tensor: try a.tensorMath { try t.squeeze(x) })
            return 1
        }
        method("expand", """
            t:expand(shape) -> tensor
            t broadcast to a larger shape without copying (size-1 axes repeat; -1 keeps a size), as
            torch.expand: a view whose repeated elements share memory. The sizes may also be given
            one per argument, as torch's: t:expand(2, 3).
            Example: tensor{{1}, {2}}:expand{2, 3}
            """) { t, a in
            let shape = try a.tensorShapeArguments(2, allowInfer: true)
            a.state.push(tensor: try a.tensorMath { try t.expand(shape) })
            return 1
        }
        method("slice", """
            t:slice(i[, j[, step]]) -> tensor
            Rows i to j inclusive (1-based, negative from the end) along the first axis, every step-th
            (step may be negative to walk backwards), as a view sharing storage: t[{{i, j, step}}].
            j defaults to the last row; an empty slice is i = j + 1.
            Example: tensor{10, 20, 30, 40}:slice(1, 4, 2)  --> tensor([10., 30.], dtype=f64)
            """) { t, a in
            guard let n = t.shape.first else { throw a.failure("cannot slice a 0-d tensor") }
            // Positions and steps beyond the axis mean the same as the axis's ends: clamped
            // first, so the arithmetic below cannot overflow (slice(math.mininteger) trapped).
            func clamp(_ v: Int) -> Int { Swift.min(Swift.max(v, -(n + 2)), n + 2) }
            let step = clamp(try a.isNil(4) ? 1 : a.integer(4))
            guard step != 0 else { throw a.error(4, "step must not be 0") }
            func resolve(_ p: Int) -> Int { let p = clamp(p); return p < 0 ? p + n : p - 1 }
            let i = resolve(try a.integer(2)), j = resolve(try a.isNil(3) ? (step > 0 ? n : 1) : a.integer(3))
            let count = step > 0 ? (j >= i ? (j - i) / step + 1 : 0) : (j <= i ? (i - j) / -step + 1 : 0)
            guard count == 0 ? (i >= 0 && i <= n) : (i >= 0 && i < n && j >= 0 && j < n) else {
                throw a.failure("rows \(try a.integer(2))..\(a.isNil(3) ? String(n) : String(try a.integer(3))) out of range for axis 1 of shape [\(t.shape.map(String.init).joined(separator: ", "))] (positions are 1..\(n) or -\(n)..-1)")
            }
            a.state.push(tensor: try a.tensorMath { try t.narrow(axis: 0, start: count == 0 ? 0 : i, count: count, step: step) })
            return 1
        }
        method("index", """
            t:index(axis, positions) -> tensor
            The slices at 1-based positions (a Lua array or i64 tensor; negative from the end;
            repeats allowed) along axis, in that order, as torch.index_select: a copy. An i64
            tensor of positions with other than one axis gives numpy's np.take shape (its shape in
            place of the axis).
            Example: tensor{10, 20, 30}:index(1, {3, 1})  --> tensor([30., 10.], dtype=f64)
            """) { t, a in
            let axis = try a.axis(try a.integer(2), ndim: t.ndim, argument: 2)
            let p = try a.positions(3, size: t.shape[axis], what: "positions", axis: axis, shape: t.shape)
            let picked = try a.tensorMath { try t.index(axis: axis, p) }
            // positions as an i64 tensor of another rank: numpy's np.take(a, p, axis) shape,
            // a.shape[:axis] + p.shape + a.shape[axis + 1:] (they were flattened)
            if let key = a.tensorIfAny(3), key.ndim != 1 {
                let shape = Array(t.shape[..<axis]) + key.shape + Array(t.shape[(axis + 1)...])
                a.state.push(result: try a.tensorMath { try picked.reshape(shape) })
            } else {
                a.state.push(tensor: picked)
            }
            return 1
        }
        method("gather", """
            t:gather(axis, positions) -> tensor
            torch.gather with 1-based positions: out[i][j] = t[i][positions[i][j]] along axis 2, and so
            on; positions is an i64 tensor (or nested Lua array) with t's number of axes.
            Example: tensor{{1, 2}, {3, 4}}:gather(2, {{2}, {1}})  --> tensor([[2.], [3.]]...)
            """) { t, a in
            let axis = try a.axis(try a.integer(2), ndim: t.ndim, argument: 2)
            let raw = try a.tensorIfAny(3) ?? a.state.tensorFromTable(at: 3, function: a.function, argument: 3, dtype: .i64)
            guard raw.dtype == .i64 || (raw.count == 0) else { throw a.error(3, "positions must be an i64 tensor or integers, got \(raw.dtype)") }
            // 1-based (negative from the end) to 0-based.
            let n = t.shape[axis]
            let zero = raw.converted(to: .i64).clone()
            try zero.withMutableInt64s { b in
                for k in b.indices {
                    let p = b[k]
                    let z = p < 0 ? p + Int64(n) : p - 1
                    guard p != 0, z >= 0, z < n else {
                        throw a.error(3, "position \(p) is out of range for axis \(axis + 1) of size \(n) (shape \(TensorIndexing.shapeText(t.shape)))")
                    }
                    b[k] = z
                }
            }
            a.state.push(tensor: try a.tensorMath { try t.gather(axis: axis, zero) })
            return 1
        }
    }
}

extension LuaState {
    /// A Lua array of integers at `index`, with argument errors naming `a`'s function.
    func integerArray(at index: Int32, _ a: LuaArguments) throws -> [Int] {
        let n = rawLength(at: index)
        var out: [Int] = []
        for k in 1...max(n, 1) where k <= n {
            _ = rawGet(k, of: index)
            defer { pop() }
            guard let v = integer(at: -1) else { throw a.error(index, "entry \(k) must be an integer, got \(describe(at: -1))") }
            out.append(v)
        }
        return out
    }
}
