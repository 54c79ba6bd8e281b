import LuaKit
import AlignMath

/// A tensor's metamethods: indexing (TensorIndexing), `#t`, `tostring(t)`, arithmetic with
/// numpy broadcasting and weak scalars, and `ipairs(t)` over the first axis. `==` is Lua's
/// default, identity (`t:equal(u)` compares values).
enum TensorMeta {
    static func add(to b: LuaTypeBuilder<Tensor>) {
        b.arrayBoxes()  // t[i], t[i] = x, #t and ipairs(t) of 1-d tensors run in C (LuaShim's arraybox.c)
        b.index { t, a in
            switch try TensorIndexing.select(t, a) {
            case nil: a.state.pushNil()  // an unknown name, like a table's missing key
            case .view(let v)?: a.state.push(result: v)
            case .mask(let m)?: a.state.push(tensor: try a.tensorMath { try t.masked(m) })
            case .rows(let r, let keyShape)?:
                // numpy's a[p]: shape p.shape + a.shape[1:] (a 0-d key drops the axis, as a position)
                let rows = try a.tensorMath { try t.index(axis: 0, r) }
                if keyShape.count == 1 { a.state.push(tensor: rows) } else {
                    a.state.push(result: try a.tensorMath { try rows.reshape(keyShape + Array(t.shape.dropFirst())) })
                }
            }
            return 1
        }
        b.newIndex { t, a in
            guard let sel = try TensorIndexing.select(t, a) else {
                throw LuaScriptError("tensor index must be an integer position, a table of ranges or a bool mask, got string (a tensor has no fields to set)")
            }
            try TensorIndexing.write(t, sel, a)
            return 0
        }
        b.meta("__len") { a in
            let t = try a.object(1, Tensor.self)
            guard let n = t.shape.first else { throw LuaScriptError("length of a 0-d tensor (it has no axis)") }
            a.state.push(n)
            return 1
        }
        b.meta("__tostring") { a in
            let t = try a.object(1, Tensor.self)
            a.state.push(t.description(lineWidth: TensorMeta.lineWidth(a.state)))
            return 1
        }
        let ops: [(String, BinaryOp)] = [("__add", .add), ("__sub", .sub), ("__mul", .mul), ("__div", .div),
                                         ("__pow", .pow), ("__mod", .mod), ("__idiv", .floorDiv)]
        for (event, op) in ops {
            b.meta(event) { a in try arithmetic(op, a) }
        }
        b.meta("__unm") { a in a.state.push(tensor: try a.tensorMath { try a.object(1, Tensor.self).neg() }); return 1 }
    }

    /// The width tensors wrap at: `moonlab.print_width`, but no wider than the terminal (or
    /// the picture size a replayed session recorded).
    static func lineWidth(_ s: LuaState) -> Int {
        guard let wb = Workbench.of(s) else { return 80 }
        return max(20, min(wb.printLimits.width, wb.pictureSize.columns))
    }

    /// `a op b` where at least one side is a tensor; the other may be a number (a weak
    /// scalar), a boolean, a tensor or a Lua array.
    private static func arithmetic(_ op: BinaryOp, _ a: LuaArguments) throws -> Int32 {
        let what = "'\(op.rawValue)' with a tensor"
        func operand(_ i: Int32) throws -> Tensor.Operand {
            do { return try a.operand(i, what: what) } catch is LuaArgumentError {
                throw LuaScriptError("attempt to perform arithmetic ('\(op.rawValue)') on a tensor and a \(a.gotName(i)) value")
            }
        }
        let x = try operand(1), y = try operand(2)
        let out: Tensor
        do {
            switch (x, y) {
            case let (.tensor(p), .tensor(q)): out = try p.binary(op, q)
            case let (.tensor(p), .scalar(s)): out = try p.binary(op, s)
            case let (.scalar(s), .tensor(q)): out = try q.binary(op, s, scalarOnLeft: true)
            case (.scalar, .scalar): throw LuaScriptError("attempt to perform arithmetic ('\(op.rawValue)') without a tensor")
            }
        } catch let e as AlignMathError {
            throw LuaScriptError("tensor '\(op.rawValue)': \(TensorErrorText.dropRepeatedName(e.description, of: "'\(op.rawValue)'"))")
        }
        a.state.push(tensor: out)
        return 1
    }
}
