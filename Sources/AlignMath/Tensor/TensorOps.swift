import Foundation

/// Elementwise arithmetic between tensors and scalars, the `+ - * / ^` of the Lua glue.
public enum BinaryOp: String, Sendable {
    case add = "+", sub = "-", mul = "*", div = "/", pow = "^"

    @inline(__always) func apply(_ a: Double, _ b: Double) -> Double {
        switch self {
        case .add: return a + b
        case .sub: return a - b
        case .mul: return a * b
        case .div: return a / b
        case .pow: return Foundation.pow(a, b)
        }
    }
    @inline(__always) func apply(_ a: Float, _ b: Float) -> Float {
        switch self {
        case .add: return a + b
        case .sub: return a - b
        case .mul: return a * b
        case .div: return a / b
        case .pow: return Foundation.pow(a, b)
        }
    }
}

/// Elementwise functions of one tensor.
public enum UnaryOp: String, Sendable {
    case exp, log, abs, sqrt, neg

    @inline(__always) func apply(_ x: Double) -> Double {
        switch self {
        case .exp: return Foundation.exp(x)
        case .log: return Foundation.log(x)
        case .abs: return Swift.abs(x)
        case .sqrt: return x.squareRoot()
        case .neg: return -x
        }
    }
    @inline(__always) func apply(_ x: Float) -> Float {
        switch self {
        case .exp: return Foundation.exp(x)
        case .log: return Foundation.log(x)
        case .abs: return Swift.abs(x)
        case .sqrt: return x.squareRoot()
        case .neg: return -x
        }
    }
}

extension Tensor {
    /// A new tensor with `op` applied to every element (same shape and dtype).
    public func unary(_ op: UnaryOp) -> Tensor {
        let x = contiguousFloating()
        let out = Tensor.output(shape, dtype: x.dtype, count: count)
        let count = self.count
        switch x.dtype {
        case .f32:
            let s = x.floatPointer, d = out.floatPointer
            switch op {  // hoist the switch out of the loop
            case .exp: for i in 0..<count { d[i] = Foundation.exp(s[i]) }
            case .log: for i in 0..<count { d[i] = Foundation.log(s[i]) }
            case .abs: for i in 0..<count { d[i] = Swift.abs(s[i]) }
            case .sqrt: for i in 0..<count { d[i] = s[i].squareRoot() }
            case .neg: for i in 0..<count { d[i] = -s[i] }
            }
        case .f64:
            let s = x.doublePointer, d = out.doublePointer
            switch op {
            case .exp: for i in 0..<count { d[i] = Foundation.exp(s[i]) }
            case .log: for i in 0..<count { d[i] = Foundation.log(s[i]) }
            case .abs: for i in 0..<count { d[i] = Swift.abs(s[i]) }
            case .sqrt: for i in 0..<count { d[i] = s[i].squareRoot() }
            case .neg: for i in 0..<count { d[i] = -s[i] }
            }
        default: preconditionFailure("contiguousFloating gave \(x.dtype)")
        }
        return out
    }

    /// Elementwise `exp`.
    public func exp() -> Tensor { unary(.exp) }
    /// Elementwise natural `log` (`log 0 = -inf`, negative gives NaN, as torch).
    public func log() -> Tensor { unary(.log) }
    /// Elementwise absolute value.
    public func abs() -> Tensor { unary(.abs) }
    /// Elementwise square root.
    public func sqrt() -> Tensor { unary(.sqrt) }
    /// Elementwise negation (unary minus).
    public func neg() -> Tensor { unary(.neg) }

    /// Values limited to `[lo, hi]` (either bound may be nil, as `torch.clamp`); NaN stays NaN.
    public func clamp(_ lo: Double?, _ hi: Double?) throws -> Tensor {
        if let l = lo, let h = hi, l > h {
            throw AlignMathError.invalidArgument("clamp: lower bound \(l) is above upper bound \(h)")
        }
        return map { x in
            var y = x
            if let l = lo, y < l { y = l }
            if let h = hi, y > h { y = h }
            return y
        }
    }

    /// A new tensor of `f(x)` for every element (slow path, through Double).
    public func map(_ f: (Double) throws -> Double) rethrows -> Tensor {
        let out = Tensor.output(shape, dtype: dtype.floating, count: count)
        for i in 0..<count { out[flat: i] = try f(self[flat: i]) }
        return out
    }

    /// `self op scalar`, or `scalar op self` when `scalarOnLeft` (for `2 - t` in Lua).
    public func binary(_ op: BinaryOp, scalar: Double, scalarOnLeft: Bool = false) -> Tensor {
        let x = contiguousFloating()
        let out = Tensor.output(shape, dtype: x.dtype, count: count)
        let count = self.count
        switch x.dtype {
        case .f32:
            let s = x.floatPointer, d = out.floatPointer, c = Float(scalar)
            if scalarOnLeft { for i in 0..<count { d[i] = op.apply(c, s[i]) } }
            else { for i in 0..<count { d[i] = op.apply(s[i], c) } }
        case .f64:
            let s = x.doublePointer, d = out.doublePointer
            if scalarOnLeft { for i in 0..<count { d[i] = op.apply(scalar, s[i]) } }
            else { for i in 0..<count { d[i] = op.apply(s[i], scalar) } }
        default: preconditionFailure("contiguousFloating gave \(x.dtype)")
        }
        return out
    }

    /// `self op other`, elementwise. Shapes must be equal, or one side has a single
    /// element (scalar broadcast), or one side's shape is a suffix of the other's
    /// (last-axis broadcast: `[.., n] op [n]`). The result has the wider dtype.
    public func binary(_ op: BinaryOp, _ other: Tensor) throws -> Tensor {
        let a = self, b = other
        let outShape: [Int]
        if a.shape == b.shape { outShape = a.shape }
        else if b.count == 1 && b.ndim <= a.ndim { outShape = a.shape }
        else if a.count == 1 && a.ndim <= b.ndim { outShape = b.shape }
        else if b.ndim <= a.ndim && Array(a.shape.suffix(b.ndim)) == b.shape { outShape = a.shape }
        else if a.ndim < b.ndim && Array(b.shape.suffix(a.ndim)) == a.shape { outShape = b.shape }
        else {
            throw AlignMathError.shapeMismatch("cannot broadcast shapes \(a.shape) and \(b.shape) for '\(op.rawValue)' (need equal shapes, a scalar, or a shape matching the trailing axes)")
        }
        let dt = DType.promote(a.dtype, b.dtype).floating
        let n = try Tensor.checkedCount(outShape)
        let out = try Tensor.empty(outShape, dtype: dt)
        if n == 0 { return out }
        let x = a.converted(to: dt).contiguous(), y = b.converted(to: dt).contiguous()
        switch dt {
        case .f32: Tensor.broadcastLoop(op, x.floatPointer, x.count, y.floatPointer, y.count, out.floatPointer, n)
        default: Tensor.broadcastLoop(op, x.doublePointer, x.count, y.doublePointer, y.count, out.doublePointer, n)
        }
        return out
    }

    /// The one loop behind `binary`: each input repeats with its own period.
    @inline(__always)
    static func broadcastLoop<T: BinaryFloatingPoint>(_ op: BinaryOp, _ a: UnsafePointer<T>, _ na: Int,
                                                     _ b: UnsafePointer<T>, _ nb: Int,
                                                     _ d: UnsafeMutablePointer<T>, _ n: Int) {
        let f: (T, T) -> T
        switch op {
        case .add: f = { $0 + $1 }
        case .sub: f = { $0 - $1 }
        case .mul: f = { $0 * $1 }
        case .div: f = { $0 / $1 }
        case .pow: f = { T(Foundation.pow(Double($0), Double($1))) }
        }
        if na == n && nb == n {
            for i in 0..<n { d[i] = f(a[i], b[i]) }
        } else if nb < n {
            var i = 0
            while i < n { for j in 0..<nb { d[i + j] = f(a[i + j], b[j]) }; i += nb }
        } else {
            var i = 0
            while i < n { for j in 0..<na { d[i + j] = f(a[j], b[i + j]) }; i += na }
        }
    }

    /// Elementwise sum (see `binary` for broadcasting).
    public func add(_ o: Tensor) throws -> Tensor { try binary(.add, o) }
    /// Elementwise difference (see `binary` for broadcasting).
    public func sub(_ o: Tensor) throws -> Tensor { try binary(.sub, o) }
    /// Elementwise product (see `binary` for broadcasting).
    public func mul(_ o: Tensor) throws -> Tensor { try binary(.mul, o) }
    /// Elementwise quotient (see `binary` for broadcasting).
    public func div(_ o: Tensor) throws -> Tensor { try binary(.div, o) }
    /// Elementwise power (see `binary` for broadcasting).
    public func pow(_ o: Tensor) throws -> Tensor { try binary(.pow, o) }
}
