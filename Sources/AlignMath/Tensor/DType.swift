/// Element type of a `Tensor`: the four a researcher needs. `f64` is the default (Lua's
/// numbers are doubles), `f32` is what models emit, `i64` holds token ids and counts, and
/// `bool` holds masks (one byte per element, 0 or 1, as numpy's `bool_`).
public enum DType: String, CaseIterable, CustomStringConvertible, Sendable {
    case bool, i64, f32, f64

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .bool: return 1
        case .f32: return 4
        case .i64, .f64: return 8
        }
    }

    /// The name as shown in `description` and accepted by the Lua glue (`"f32"`, ...).
    public var description: String { rawValue }

    /// True for `f32` and `f64`.
    public var isFloating: Bool { self == .f32 || self == .f64 }

    /// Position in the promotion lattice bool < i64 < f32 < f64.
    var rank: Int {
        switch self {
        case .bool: return 0
        case .i64: return 1
        case .f32: return 2
        case .f64: return 3
        }
    }

    /// The result type of a binary operation between two tensors, numpy's: the higher of the
    /// two in the lattice bool < i64 < f32 < f64, except that `i64` with `f32` gives `f64`
    /// (an f32 cannot hold every i64; numpy widens, torch would give f32).
    public static func promote(_ a: DType, _ b: DType) -> DType {
        if (a == .i64 && b == .f32) || (a == .f32 && b == .i64) { return .f64 }
        return a.rank >= b.rank ? a : b
    }

    /// The floating type an operation that needs fractions computes in (true division,
    /// `mean`, `exp`): `f32` stays `f32`, everything else becomes `f64`, as numpy does.
    public var floating: DType { self == .f32 ? .f32 : .f64 }

    /// The numpy type string of the `.npy` header (`<f8`, `<i8`, `|b1`, ...).
    var npyDescr: String {
        switch self {
        case .bool: return "|b1"
        case .i64: return "<i8"
        case .f32: return "<f4"
        case .f64: return "<f8"
        }
    }

    /// The safetensors dtype name (`F64`, `F32`, `I64`, `BOOL`).
    var safetensorsName: String {
        switch self {
        case .bool: return "BOOL"
        case .i64: return "I64"
        case .f32: return "F32"
        case .f64: return "F64"
        }
    }
}

/// The Swift types a tensor's elements are read and written as, one per `DType`, so
/// kernels can be written once over `T` and specialised for each.
public protocol TensorElement {
    /// The dtype whose elements have this Swift type.
    static var dtype: DType { get }
    /// The element as a Double (bool: 0 or 1; i64: rounded above 2^53).
    var asDouble: Double { get }
    /// The element nearest `x`, as numpy's casts give it (to i64: truncation; NaN and
    /// values beyond the range give Int64.min, numpy's result; to bool: x != 0).
    static func fromDouble(_ x: Double) -> Self
}

extension Float: TensorElement {
    public static var dtype: DType { .f32 }
    @inline(__always) public var asDouble: Double { Double(self) }
    @inline(__always) public static func fromDouble(_ x: Double) -> Float { Float(x) }
}

extension Double: TensorElement {
    public static var dtype: DType { .f64 }
    @inline(__always) public var asDouble: Double { self }
    @inline(__always) public static func fromDouble(_ x: Double) -> Double { x }
}

extension Int64: TensorElement {
    public static var dtype: DType { .i64 }
    @inline(__always) public var asDouble: Double { Double(self) }
    @inline(__always) public static func fromDouble(_ x: Double) -> Int64 {
        // ±2^63 are exact Doubles; from 2^63 up, below -2^63 and NaN there is no i64.
        (x >= -9.223372036854775808e18 && x < 9.223372036854775808e18) ? Int64(x) : .min
    }
}

extension Bool: TensorElement {
    public static var dtype: DType { .bool }
    @inline(__always) public var asDouble: Double { self ? 1 : 0 }
    @inline(__always) public static func fromDouble(_ x: Double) -> Bool { x != 0 }
}
