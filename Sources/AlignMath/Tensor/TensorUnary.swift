import Foundation

/// Elementwise functions of one tensor (numpy's ufuncs of one argument).
public enum UnaryOp: String, CaseIterable, Sendable {
    case exp, log, log1p, expm1, sqrt, tanh, sigmoid
    case abs, neg, sign, floor, ceil, round

    /// True for the functions whose result is a fraction (computed in f32/f64: an i64 or
    /// bool input gives f64, as numpy).
    var isTranscendental: Bool {
        switch self {
        case .exp, .log, .log1p, .expm1, .sqrt, .tanh, .sigmoid: return true
        default: return false
        }
    }
}

extension Tensor {
    /// A new tensor of `op` applied to every element. Transcendental functions give f32 for
    /// f32 and f64 otherwise; `abs`, `neg`, `sign`, `floor`, `ceil`, `round` keep the dtype
    /// (`round` is half to even, as numpy and torch; `neg` and `sign` of bool are errors,
    /// as in numpy).
    public func unary(_ op: UnaryOp) throws -> Tensor {
        if op.isTranscendental {
            let x = dtype.isFloating ? self : converted(to: .f64)
            let out = Tensor.output(shape, dtype: x.dtype, count: count)
            if x.dtype == .f32 { Tensor.floatUnary(Float.self, op, x, out) } else { Tensor.floatUnary(Double.self, op, x, out) }
            return out
        }
        switch dtype {
        case .f64:
            let out = Tensor.output(shape, dtype: .f64, count: count)
            Tensor.floatUnary(Double.self, op, self, out)
            return out
        case .f32:
            let out = Tensor.output(shape, dtype: .f32, count: count)
            Tensor.floatUnary(Float.self, op, self, out)
            return out
        case .i64:
            let out = Tensor.output(shape, dtype: .i64, count: count)
            switch op {
            case .abs: Tensor.map1(IAbs.self, self, out)
            case .neg: Tensor.map1(INeg.self, self, out)
            case .sign: Tensor.map1(ISign.self, self, out)
            default: Tensor.map1(Identity<Int64>.self, self, out)
            }
            return out
        case .bool:
            guard op != .neg && op != .sign else {
                throw AlignMathError.invalidArgument("\(op == .neg ? "unary -" : "sign") is not defined for a bool tensor (numpy refuses it too); use t:to('i64') first")
            }
            return clone()
        }
    }

    private static func floatUnary<T: FloatElement>(_: T.Type, _ op: UnaryOp, _ x: Tensor, _ out: Tensor) {
        switch op {
        case .exp:
            // f64: the vectorised table exp (within 1 ulp of libm, libm's bits at the edges)
            if T.self == Double.self { expF64(x, out) } else { map1(Exp<T>.self, x, out, cost: 10) }
        case .log: map1(Log<T>.self, x, out, cost: 10)
        case .log1p: map1(Log1p<T>.self, x, out, cost: 10)
        case .expm1: map1(Expm1<T>.self, x, out, cost: 10)
        case .sqrt: map1(Sqrt<T>.self, x, out)
        case .tanh: map1(Tanh<T>.self, x, out, cost: 10)
        case .sigmoid: map1(Sigmoid<T>.self, x, out, cost: 10)
        case .abs: map1(Abs<T>.self, x, out)
        case .neg: map1(Neg<T>.self, x, out)
        case .sign: map1(Sign<T>.self, x, out)
        case .floor: map1(Floor<T>.self, x, out)
        case .ceil: map1(Ceil<T>.self, x, out)
        case .round: map1(Round<T>.self, x, out)
        }
    }

    /// Elements rounded to `decimals` places (halves to even), as `numpy.round(x, decimals)`
    /// (numpy 2.4.6's PyArray_Round): decimals 0 is `round()`; for floats `rint(x * 10^d) /
    /// 10^d`, or `rint(x / 10^-d) * 10^-d` for a negative d, in the tensor's dtype (f32 in f32,
    /// with 10^d as numpy's power_of_ten); an i64 tensor is unchanged for d >= 0 and rounded
    /// through f64 for d < 0 (np.round([15, 25], -1) is [20, 20]); bool is refused, as numpy.
    public func round(decimals d: Int) throws -> Tensor {
        if d == 0 { return try unary(.round) }
        guard dtype != .bool else {
            throw AlignMathError.invalidArgument("round with decimals is not defined for a bool tensor (numpy refuses it too); use t:to('f64') first")
        }
        if dtype == .i64 && d > 0 { return clone() }
        let n = Int(Swift.min(d.magnitude, 400))  // (abs(Int.min) traps; 10^400 is inf, as numpy's)
        // numpy's power_of_ten: exact table to 1e8, then repeated multiplication by 10
        var f: Double = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8][Swift.min(n, 8)]
        if n > 8 { f = 1e9; for _ in 0..<(n - 9) { f *= 10 } }
        let src = contiguous()
        let out = Tensor.output(shape, dtype: dtype, count: count)
        switch dtype {
        case .f64:
            let x = src.toDoubles()
            out.withRaw(Double.self) { p in
                for i in 0..<count { p[i] = d > 0 ? (x[i] * f).rounded(.toNearestOrEven) / f : (x[i] / f).rounded(.toNearestOrEven) * f }
            }
        case .f32:
            let ff = Float(f)
            src.withRaw(Float.self) { x in
                out.withRaw(Float.self) { p in
                    for i in 0..<count { p[i] = d > 0 ? (x[i] * ff).rounded(.toNearestOrEven) / ff : (x[i] / ff).rounded(.toNearestOrEven) * ff }
                }
            }
        case .i64:
            src.withRaw(Int64.self) { x in
                out.withRaw(Int64.self) { p in
                    for i in 0..<count { p[i] = Int64.fromDouble((Double(x[i]) / f).rounded(.toNearestOrEven) * f) }
                }
            }
        case .bool: break
        }
        return out
    }

    /// Elementwise `exp` (f64 for integer input).
    public func exp() throws -> Tensor { try unary(.exp) }
    /// Elementwise natural `log` (`log 0 = -inf`, negative gives NaN, as torch).
    public func log() throws -> Tensor { try unary(.log) }
    /// Elementwise absolute value.
    public func abs() throws -> Tensor { try unary(.abs) }
    /// Elementwise square root.
    public func sqrt() throws -> Tensor { try unary(.sqrt) }
    /// Elementwise negation (unary minus).
    public func neg() throws -> Tensor { try unary(.neg) }

    /// True where the element is NaN (never for i64/bool).
    public func isNaN() -> Tensor {
        let out = Tensor.output(shape, dtype: .bool, count: count)
        switch dtype {
        case .f64: Tensor.map1(IsNaN<Double>.self, self, out)
        case .f32: Tensor.map1(IsNaN<Float>.self, self, out)
        case .i64, .bool: out.fill(0)
        }
        return out
    }

    /// True where the element is finite (always for i64/bool).
    public func isFinite() -> Tensor {
        let out = Tensor.output(shape, dtype: .bool, count: count)
        switch dtype {
        case .f64: Tensor.map1(IsFinite<Double>.self, self, out)
        case .f32: Tensor.map1(IsFinite<Float>.self, self, out)
        case .i64, .bool: out.fill(1)
        }
        return out
    }

    /// Values limited to `[lo, hi]` (either bound may be nil, as `torch.clamp`); NaN stays
    /// NaN. The bounds are weak scalars: an i64 tensor clamped by floats becomes f64. As
    /// `numpy.clip` (minimum(maximum(x, lo), hi)), a lo above hi gives hi everywhere
    /// (np.clip([1, 5], 3, 1) is [1, 1]; torch.clamp gives the same).
    public func clamp(_ lo: Scalar?, _ hi: Scalar?) throws -> Tensor {
        var out = self
        // Zeros of either sign tie. With both bounds numpy's clip loop keeps the value on a tie
        // (np.clip(-0.0, 0, 1) is -0.0): the bound goes first, a tie giving the second operand;
        // with one bound it is np.maximum(x, lo) or np.minimum(x, hi), a tie giving the bound.
        let valueOnTie = lo != nil && hi != nil
        if let l = lo { out = try out.binary(.maximum, l, scalarOnLeft: valueOnTie) }
        if let h = hi { out = try out.binary(.minimum, h, scalarOnLeft: valueOnTie) }
        return out === self ? clone() : out
    }

    /// `clamp` with float bounds.
    public func clamp(_ lo: Double?, _ hi: Double?) throws -> Tensor {
        try clamp(lo.map { .float($0) }, hi.map { .float($0) })
    }

    /// A new tensor of `f(x)` for every element (the slow path, through Double): f32 stays
    /// f32, everything else gives f64.
    public func map(_ f: (Double) throws -> Double) rethrows -> Tensor {
        let out = Tensor.output(shape, dtype: dtype.floating, count: count)
        for i in 0..<count { out[flat: i] = try f(self[flat: i]) }
        return out
    }
}
