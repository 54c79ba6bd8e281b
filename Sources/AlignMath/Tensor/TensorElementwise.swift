import Foundation

/// A number on one side of an operation with a tensor: Lua's integer, float or boolean.
/// It is "weak", as numpy's NEP 50 treats Python scalars: it takes the tensor's dtype
/// when that dtype is of its kind or higher (`f32 * 2.5` stays f32, `i64 + 1` stays i64),
/// and only lifts the kind (`i64 * 2.5` is f64, `bool + 1` is i64).
public enum Scalar: Sendable, Equatable {
    case int(Int64), float(Double), bool(Bool)

    /// The value as a Double.
    public var asDouble: Double {
        switch self {
        case .int(let i): return Double(i)
        case .float(let d): return d
        case .bool(let b): return b ? 1 : 0
        }
    }

    /// The dtype a tensor of `t` and this scalar compute in (numpy's weak-scalar rule).
    func promoted(with t: DType) -> DType {
        switch self {
        case .bool: return t
        case .int: return t == .bool ? .i64 : t
        case .float: return t.isFloating ? t : .f64
        }
    }

    /// The dtype of the scalar on its own (two scalars meet in `where`).
    public var naturalDtype: DType {
        switch self {
        case .bool: return .bool
        case .int: return .i64
        case .float: return .f64
        }
    }

    /// A 0-d tensor holding the scalar in dtype `d`.
    public func tensor(_ d: DType) -> Tensor {
        let t = Tensor.output([], dtype: d, count: 1)
        if case .int(let i) = self, d == .i64 { t.withRaw(Int64.self) { $0[0] = i } } else { t.fill(asDouble) }
        return t
    }
}

/// Elementwise arithmetic: Lua's `+ - * / ^ %` and `//`, and `tensor.maximum/minimum`.
public enum BinaryOp: String, Sendable {
    case add = "+", sub = "-", mul = "*", div = "/", pow = "^", mod = "%", floorDiv = "//"
    case maximum, minimum

    /// The dtype the operands are cast to, from the dtype they promote to: true division
    /// of integers is f64; `%`, `//` and `^` of booleans are done in i64 (numpy gives int8).
    func computeDtype(_ promoted: DType) throws -> DType {
        switch self {
        case .div: return promoted.floating
        case .mod, .floorDiv, .pow: return promoted == .bool ? .i64 : promoted
        case .sub where promoted == .bool:
            throw AlignMathError.invalidArgument("'-' is not defined for two bool tensors (numpy refuses it too); use a:ne(b) for exclusive or")
        default: return promoted
        }
    }
}

/// Elementwise comparisons, giving bool tensors.
public enum CompareOp: String, Sendable {
    case eq, ne, lt, le, gt, ge
}

extension Tensor {
    // MARK: binary operations

    /// `self op other` with numpy broadcasting and type promotion.
    public func binary(_ op: BinaryOp, _ other: Tensor) throws -> Tensor {
        let shape = try Tensor.broadcastShape([self.shape, other.shape], what: "'\(op.rawValue)'")
        let dt = try op.computeDtype(DType.promote(dtype, other.dtype))
        try Tensor.checkPowExponent(op, other, dt)
        return try Tensor.apply(op, converted(to: dt), other.converted(to: dt), shape: shape)
    }

    /// `self op s`, or `s op self` when `scalarOnLeft` (for `2 - t` in Lua), with the scalar
    /// weak as numpy's NEP 50 has it.
    public func binary(_ op: BinaryOp, _ s: Scalar, scalarOnLeft: Bool = false) throws -> Tensor {
        let dt = try op.computeDtype(s.promoted(with: dtype))
        let st = s.tensor(dt)
        if !scalarOnLeft { try Tensor.checkPowExponent(op, st, dt) } else { try Tensor.checkPowExponent(op, self, dt) }
        let me = converted(to: dt)
        return try scalarOnLeft ? Tensor.apply(op, st, me, shape: shape) : Tensor.apply(op, me, st, shape: shape)
    }

    /// `self op scalar` for a float scalar (a Lua float): see `binary(_:_:scalarOnLeft:)`.
    public func binary(_ op: BinaryOp, scalar: Double, scalarOnLeft: Bool = false) throws -> Tensor {
        try binary(op, .float(scalar), scalarOnLeft: scalarOnLeft)
    }

    /// Elementwise sum (numpy broadcasting).
    public func add(_ o: Tensor) throws -> Tensor { try binary(.add, o) }
    /// Elementwise difference (numpy broadcasting).
    public func sub(_ o: Tensor) throws -> Tensor { try binary(.sub, o) }
    /// Elementwise product (numpy broadcasting).
    public func mul(_ o: Tensor) throws -> Tensor { try binary(.mul, o) }
    /// Elementwise true quotient (numpy broadcasting; integers give f64).
    public func div(_ o: Tensor) throws -> Tensor { try binary(.div, o) }
    /// Elementwise power (numpy broadcasting).
    public func pow(_ o: Tensor) throws -> Tensor { try binary(.pow, o) }

    /// numpy refuses integers to negative integer powers; so does this.
    static func checkPowExponent(_ op: BinaryOp, _ exponent: Tensor, _ dt: DType) throws {
        guard op == .pow, dt == .i64 else { return }
        let e = exponent.dense(.i64)
        let negative = e.pointer(Int64.self).withMemoryRebound(to: Int64.self, capacity: e.count) { p in
            (0..<e.count).contains { p[$0] < 0 }
        }
        if negative { throw AlignMathError.invalidArgument("integers to negative integer powers are not allowed (convert to f64 first: t:to('f64'))") }
    }

    /// Runs `op` over `x` and `y` (both of one dtype, broadcastable to `shape`).
    static func apply(_ op: BinaryOp, _ x: Tensor, _ y: Tensor, shape: [Int]) throws -> Tensor {
        // A broadcast result may be far larger than its operands: allocated failably.
        let out = try Tensor.empty(shape, dtype: x.dtype)
        switch x.dtype {
        case .f64: floatOp(Double.self, op, x, y, out)
        case .f32: floatOp(Float.self, op, x, y, out)
        case .i64: intOp(op, x, y, out)
        case .bool: boolOp(op, x, y, out)
        }
        return out
    }

    private static func floatOp<T: FloatElement>(_: T.Type, _ op: BinaryOp, _ x: Tensor, _ y: Tensor, _ out: Tensor) {
        switch op {
        case .add: zip2(Add<T>.self, x, y, out)
        case .sub: zip2(Sub<T>.self, x, y, out)
        case .mul: zip2(Mul<T>.self, x, y, out)
        case .div: zip2(Div<T>.self, x, y, out)
        case .pow:
            if y.count == 1, y[flat: 0] == 0.5 { zip2(PowHalf<T>.self, x, y, out, cost: 2) } else { zip2(Pow<T>.self, x, y, out, cost: 20) }
        case .mod: zip2(Mod<T>.self, x, y, out, cost: 10)
        case .floorDiv: zip2(FloorDiv<T>.self, x, y, out, cost: 10)
        case .maximum: zip2(Maximum<T>.self, x, y, out)
        case .minimum: zip2(Minimum<T>.self, x, y, out)
        }
    }

    private static func intOp(_ op: BinaryOp, _ x: Tensor, _ y: Tensor, _ out: Tensor) {
        switch op {
        case .add: zip2(IAdd.self, x, y, out)
        case .sub: zip2(ISub.self, x, y, out)
        case .mul: zip2(IMul.self, x, y, out)
        case .div: preconditionFailure("true division is computed in f64")
        case .pow: zip2(IPow.self, x, y, out, cost: 10)
        case .mod: zip2(IMod.self, x, y, out, cost: 4)
        case .floorDiv: zip2(IFloorDiv.self, x, y, out, cost: 4)
        case .maximum: zip2(IMax.self, x, y, out)
        case .minimum: zip2(IMin.self, x, y, out)
        }
    }

    private static func boolOp(_ op: BinaryOp, _ x: Tensor, _ y: Tensor, _ out: Tensor) {
        switch op {
        case .add, .maximum: zip2(Or.self, x, y, out)
        case .mul, .minimum: zip2(And.self, x, y, out)
        default: preconditionFailure("\(op) on bool is computed in another dtype")
        }
    }

    /// numpy's `npy_divmod` for floats: Python's floor division and modulo (the result of
    /// `%` has the sign of the divisor; `1 // 0.1` is 9, as `fmod` sees it).
    @inline(__always)
    static func divmod(_ a: Double, _ b: Double) -> (div: Double, mod: Double) {
        var mod = Foundation.fmod(a, b)
        if b == 0 { return (a / b, mod) }
        var div = (a - mod) / b
        if mod != 0 {
            if (b < 0) != (mod < 0) { mod += b; div -= 1 }
        } else {
            mod = Double(signOf: b, magnitudeOf: 0)
        }
        var floorDiv: Double
        if div != 0 {
            floorDiv = div.rounded(.down)
            if div - floorDiv > 0.5 { floorDiv += 1 }
        } else {
            floorDiv = Double(signOf: a / b, magnitudeOf: 0)
        }
        return (floorDiv, mod)
    }

    /// Python's floor division of integers; 0 for a zero divisor (numpy's result).
    @inline(__always)
    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        if b == 0 { return 0 }
        if b == -1 { return 0 &- a }
        let q = a / b
        return (a % b != 0) && ((a < 0) != (b < 0)) ? q - 1 : q
    }

    /// Python's modulo of integers (sign of the divisor); 0 for a zero divisor.
    @inline(__always)
    static func floorMod(_ a: Int64, _ b: Int64) -> Int64 {
        if b == 0 || b == -1 { return 0 }
        let r = a % b
        return r != 0 && ((r < 0) != (b < 0)) ? r + b : r
    }

    /// a^b for b >= 0 with wrapping multiplication, as numpy's integer power.
    @inline(__always)
    static func intPow(_ a: Int64, _ b: Int64) -> Int64 {
        var result: Int64 = 1, base = a, e = b
        while e > 0 {
            if e & 1 == 1 { result = result &* base }
            base = base &* base
            e >>= 1
        }
        return result
    }

    // MARK: comparisons and selection

    /// Elementwise comparison with broadcasting; a bool tensor.
    public func compare(_ op: CompareOp, _ other: Tensor) throws -> Tensor {
        let shape = try Tensor.broadcastShape([self.shape, other.shape], what: op.rawValue)
        let dt = DType.promote(dtype, other.dtype)
        return try Tensor.compare(op, converted(to: dt), other.converted(to: dt), shape: shape)
    }

    /// Elementwise comparison with a (weak) scalar; a bool tensor.
    public func compare(_ op: CompareOp, _ s: Scalar) -> Tensor {
        let dt = s.promoted(with: dtype)
        let out = Tensor.output(shape, dtype: .bool, count: count)
        Tensor.compare(op, converted(to: dt), s.tensor(dt), into: out)
        return out
    }

    static func compare(_ op: CompareOp, _ x: Tensor, _ y: Tensor, shape: [Int]) throws -> Tensor {
        let out = try Tensor.empty(shape, dtype: .bool)
        compare(op, x, y, into: out)
        return out
    }

    static func compare(_ op: CompareOp, _ x: Tensor, _ y: Tensor, into out: Tensor) {
        switch x.dtype {
        case .f64: compareOp(Double.self, op, x, y, out)
        case .f32: compareOp(Float.self, op, x, y, out)
        case .i64: compareOp(Int64.self, op, x, y, out)
        case .bool: compareBools(op, x, y, out)
        }
    }

    private static func compareOp<T: Comparable & TensorElement>(_: T.Type, _ op: CompareOp, _ x: Tensor, _ y: Tensor, _ out: Tensor) {
        switch op {
        case .eq: zip2(Eq<T>.self, x, y, out)
        case .ne: zip2(Ne<T>.self, x, y, out)
        case .lt: zip2(Lt<T>.self, x, y, out)
        case .le: zip2(Le<T>.self, x, y, out)
        case .gt: zip2(Gt<T>.self, x, y, out)
        case .ge: zip2(Ge<T>.self, x, y, out)
        }
    }

    /// Comparisons of booleans, false < true.
    private static func compareBools(_ op: CompareOp, _ x: Tensor, _ y: Tensor, _ out: Tensor) {
        switch op {
        case .eq: zip2(Eq<Bool>.self, x, y, out)
        case .ne: zip2(Ne<Bool>.self, x, y, out)
        case .lt: zip2(BoolLt.self, x, y, out)
        case .le: zip2(BoolLe.self, x, y, out)
        case .gt: zip2(BoolGt.self, x, y, out)
        case .ge: zip2(BoolGe.self, x, y, out)
        }
    }

    /// `where(cond, a, b)`: elements of `a` where `cond` is true, of `b` elsewhere, all three
    /// broadcast together (numpy's `where`). `a` and `b` are tensors or weak scalars; a
    /// `cond` that is not bool counts as `!= 0`.
    public static func select(_ cond: Tensor, _ a: Operand, _ b: Operand) throws -> Tensor {
        let dt: DType
        switch (a, b) {
        case let (.tensor(x), .tensor(y)): dt = DType.promote(x.dtype, y.dtype)
        case let (.tensor(x), .scalar(s)), let (.scalar(s), .tensor(x)): dt = s.promoted(with: x.dtype)
        case let (.scalar(s), .scalar(r)): dt = DType.promote(s.naturalDtype, r.naturalDtype)
        }
        let x = a.tensor(dt), y = b.tensor(dt)
        let c = cond.dtype == .bool ? cond : cond.compare(.ne, .int(0))
        let shape = try broadcastShape([c.shape, x.shape, y.shape], what: "where")
        let out = try Tensor.empty(shape, dtype: dt)
        switch dt {
        case .f64: choose(Double.self, c, x, y, out)
        case .f32: choose(Float.self, c, x, y, out)
        case .i64: choose(Int64.self, c, x, y, out)
        case .bool: choose(Bool.self, c, x, y, out)
        }
        return out
    }

    /// One side of `where` (or of a binary operation): a tensor or a scalar.
    public enum Operand {
        case tensor(Tensor), scalar(Scalar)

        func tensor(_ d: DType) -> Tensor {
            switch self {
            case .tensor(let t): return t.converted(to: d)
            case .scalar(let s): return s.tensor(d)
            }
        }
    }
}
