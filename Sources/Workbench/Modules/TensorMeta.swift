import LuaKit
import AlignMath

/// A tensor's metamethods: `t[i]`, `t[i] = x`, `#t`, `tostring(t)` and arithmetic.
/// `==` is left to Lua's default, identity (`t:equal(u)` compares values).
enum TensorMeta {
    static func add(to b: LuaTypeBuilder<Tensor>) {
        b.index { t, a in
            let s = a.state
            switch s.type(at: 2) {
            case .number:
                let i = try position(t, a)
                if t.ndim == 1 { s.push(element: i, of: t) } else { s.push(tensor: try a.tensorMath { try t.row(i) }) }
            case .string:
                s.pushNil()  // not a method
            default:
                throw LuaScriptError("tensor index must be an integer position, got \(s.typeName(at: 2))")
            }
            return 1
        }
        b.newIndex { t, a in
            guard a.type(2) == .number else {
                throw LuaScriptError("tensor index must be an integer position, got \(a.gotName(2)) (a tensor has no fields to set)")
            }
            let i = try position(t, a)
            try write(t, row: i, a)
            return 0
        }
        b.meta("__len") { a in
            let t = try a.object(1, Tensor.self)
            guard let n = t.shape.first else { throw LuaScriptError("length of a 0-d tensor (it has no axis)") }
            a.state.push(n)
            return 1
        }
        b.meta("__tostring") { a in a.state.push(try a.object(1, Tensor.self).description); return 1 }
        for (event, op) in [("__add", BinaryOp.add), ("__sub", .sub), ("__mul", .mul), ("__div", .div), ("__pow", .pow)] {
            b.meta(event) { a in try arithmetic(op, a) }
        }
        b.meta("__unm") { a in a.state.push(tensor: try a.object(1, Tensor.self).neg()); return 1 }
    }

    /// The 0-based position of the 1-based integer key at argument 2 along the first axis.
    private static func position(_ t: Tensor, _ a: LuaArguments) throws -> Int {
        let s = a.state
        guard let k = s.integer(at: 2) else {
            throw LuaScriptError("tensor index must be an integer position, got \(s.string(at: 2) ?? "?")")
        }
        guard let n = t.shape.first else { throw LuaScriptError("cannot index a 0-d tensor") }
        guard k >= 1 && k <= n else {
            let valid = n == 0 ? "the first axis is empty" : "positions are 1..\(n)"
            throw LuaScriptError("tensor index \(k) out of range (\(valid); negative positions do not count from the end)")
        }
        return k - 1
    }

    /// `t[i] = x`: a number into a 1-d tensor; a number (fill), a tensor or an array of the
    /// row's shape into a row of an n-d tensor. Writes through views into their base.
    private static func write(_ t: Tensor, row i: Int, _ a: LuaArguments) throws {
        if t.ndim == 1 {
            if t.dtype == .bool, a.type(3) == .boolean { t[flat: i] = a.state.boolean(at: 3) ? 1 : 0; return }
            guard a.type(3) == .number, let x = a.state.number(at: 3) else {
                throw LuaScriptError("tensor[\(i + 1)] = x: a number expected, got \(a.gotName(3))")
            }
            if t.dtype == .i64, let k = a.state.integer(at: 3) { t.setInt64(Int64(k), flat: i); return }
            t[flat: i] = x
            return
        }
        let row = try a.tensorMath { try t.row(i) }
        if a.type(3) == .number, let x = a.state.number(at: 3) { row.fill(x); return }
        guard a.tensorIfAny(3) != nil || a.type(3) == .table else {
            throw LuaScriptError("tensor[\(i + 1)] = x: a number, tensor or array of shape \(row.shape) expected, got \(a.gotName(3))")
        }
        let src = try a.tensor(3)
        guard src.shape == row.shape else {
            throw LuaScriptError("tensor[\(i + 1)] = x: x has shape \(src.shape), the row has shape \(row.shape)")
        }
        try a.tensorMath { try row.assign(src) }
    }

    /// `a op b` where at least one side is a tensor; the other may be a number, a tensor or
    /// a Lua array.
    private static func arithmetic(_ op: BinaryOp, _ a: LuaArguments) throws -> Int32 {
        func operand(_ i: Int32) throws -> Tensor? {
            if let t = a.tensorIfAny(i) { return t }
            if a.type(i) == .number { return nil }
            guard a.type(i) == .table else {
                throw LuaScriptError("attempt to perform arithmetic ('\(op.rawValue)') on a tensor and a \(a.gotName(i)) value")
            }
            return try a.state.tensorFromTable(at: i, function: "tensor '\(op.rawValue)'", argument: i)
        }
        let x = try operand(1), y = try operand(2)
        let out: Tensor
        switch (x, y) {
        case let (x?, y?):
            do { out = try x.binary(op, y) } catch let e as AlignMathError { throw LuaScriptError("tensor: \(e.description)") }
        case let (x?, nil):
            out = x.binary(op, scalar: try a.number(2))
        case let (nil, y?):
            out = y.binary(op, scalar: try a.number(1), scalarOnLeft: true)
        case (nil, nil):
            throw LuaScriptError("attempt to perform arithmetic ('\(op.rawValue)') without a tensor")
        }
        a.state.push(tensor: out)
        return 1
    }
}
