import LuaKit
import AlignMath

/// Elementwise methods: math functions, clamp, map, comparisons to bool tensors, matmul.
enum TensorMethodsMath {
    static func add(_ method: TensorMethods.Adder) {
        let meanings: [(UnaryOp, String)] = [
            (.exp, "e^x"), (.log, "the natural log (log 0 = -inf, negative gives NaN)"),
            (.log1p, "log(1 + x), exact near 0"), (.expm1, "e^x - 1, exact near 0"),
            (.sqrt, "the square root (negative gives NaN)"), (.tanh, "tanh(x)"),
            (.sigmoid, "1 / (1 + e^-x), without overflow"),
        ]
        for (op, meaning) in meanings {
            method(op.rawValue, """
                t:\(op.rawValue)() -> tensor
                A new tensor of \(meaning) for every element: f32 stays f32, other dtypes give f64.
                Example: tensor{1, 4, 9}:\(op.rawValue)()
                """) { t, a in a.state.push(tensor: try a.tensorMath { try t.unary(op) }); return 1 }
        }
        let keeping: [(UnaryOp, String, String)] = [
            (.abs, "|x|", "tensor{-2, 3}:abs()  --> tensor([2., 3.], dtype=f64)"),
            (.floor, "the largest whole number <= x", "tensor{1.5, -1.5}:floor()"),
            (.ceil, "the smallest whole number >= x", "tensor{1.5, -1.5}:ceil()"),
            (.round, "x rounded to the nearest whole number, halves to even (as numpy and torch)", "tensor{0.5, 1.5, 2.5}:round()  --> tensor([0., 2., 2.], dtype=f64)"),
            (.sign, "-1, 0 or 1 by the sign of x (NaN stays NaN; an error for bool)", "tensor{-3, 0, 2}:sign()"),
        ]
        for (op, meaning, example) in keeping where op != .round {
            method(op.rawValue, """
                t:\(op.rawValue)() -> tensor
                A new tensor of \(meaning) for every element, in t's dtype.
                Example: \(example)
                """) { t, a in a.state.push(tensor: try a.tensorMath { try t.unary(op) }); return 1 }
        }
        method("round", """
            t:round([decimals]) -> tensor
            A new tensor of x rounded to the nearest whole number, halves to even (as numpy and
            torch), in t's dtype; with decimals, to that many places (negative: tens, hundreds,
            ...), as numpy.round(x, decimals) and torch.round(x, decimals=d): rint(x * 10^d) / 10^d
            in t's dtype, so 2.675 gives 2.68 as numpy's (Python's round: 2.67). i64 is unchanged for
            decimals >= 0.
            Example: tensor{0.5, 1.5, 2.5}:round()  --> tensor([0., 2., 2.], dtype=f64)
            """) { t, a in
            if a.type(2) == .none || a.type(2) == .nil {
                a.state.push(tensor: try a.tensorMath { try t.unary(.round) })
            } else {
                let d = try a.integer(2)
                a.state.push(tensor: try a.tensorMath { try t.round(decimals: d) })
            }
            return 1
        }
        method("clamp", """
            t:clamp(lo, hi) -> tensor
            Each element limited to [lo, hi]; either bound may be nil (no limit), as torch.clamp.
            NaN stays NaN. A lo above hi gives hi everywhere, as numpy.clip and torch.clamp. Numbers
            are weak: an i64 tensor clamped by 0.5 becomes f64.
            Example: tensor{-2, 0.5, 3}:clamp(0, 1)  --> tensor([0.0000, 0.5000, 1.0000], dtype=f64)
            """) { t, a in
            func bound(_ i: Int32) throws -> Scalar? {
                if a.isNil(i) { return nil }
                guard case .scalar(let s) = try a.operand(i, what: "clamp bound") else { throw a.typeError(i, expected: "number or nil") }
                return s
            }
            let lo = try bound(2), hi = try bound(3)
            a.state.push(tensor: try a.tensorMath { try t.clamp(lo, hi) })
            return 1
        }
        method("map", """
            t:map(fn) -> tensor
            A new tensor of fn(x) for every element, in row-major order; fn must return a number.
            The slow path (one Lua call per element): prefer arithmetic and the methods above.
            f32 stays f32; other dtypes give f64.
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
        addComparisons(method)
        method("matmul", """
            t:matmul(u) -> tensor
            The matrix product, as numpy's matmul and tensor.matmul(t, u): 1-d and 2-d operands, and
            batches over leading axes (broadcast). f32 and f64 run on OpenBLAS.
            Example: tensor{{1, 2}, {3, 4}}:matmul{1, 1}  --> tensor([3., 7.], dtype=f64)
            """) { t, a in
            let u = try a.tensor(2)
            a.state.push(result: try a.tensorMath { try Tensor.matmul(t, u) })
            return 1
        }
    }

    private static func addComparisons(_ method: TensorMethods.Adder) {
        let ops: [(CompareOp, String)] = [(.eq, "=="), (.ne, "~="), (.lt, "<"), (.le, "<="), (.gt, ">"), (.ge, ">=")]
        for (op, symbol) in ops {
            method(op.rawValue, """
                t:\(op.rawValue)(x) -> bool tensor
                Elementwise t \(symbol) x with numpy broadcasting; x is a tensor, a number, a boolean or
                a Lua array. NaN compares false except with ~=. Use it as a mask: t[t:\(op.rawValue)(0)].
                Example: tensor{1, 2, 3}:\(op.rawValue)(2)
                """) { t, a in
                let out: Tensor
                switch try a.operand(2, what: "comparison") {
                case .tensor(let u): out = try a.tensorMath { try t.compare(op, u) }
                case .scalar(let s): out = t.compare(op, s)
                }
                a.state.push(tensor: out)
                return 1
            }
        }
        method("isnan", """
            t:isnan() -> bool tensor
            True where the element is NaN (never for i64 or bool tensors).
            Example: tensor{1, 0/0}:isnan()  --> tensor([false,  true], dtype=bool)
            """) { t, a in a.state.push(tensor: t.isNaN()); return 1 }
        method("isfinite", """
            t:isfinite() -> bool tensor
            True where the element is neither NaN nor infinite.
            Example: tensor{1, math.huge, 0/0}:isfinite()
            """) { t, a in a.state.push(tensor: t.isFinite()); return 1 }
    }
}
