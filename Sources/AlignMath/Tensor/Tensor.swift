/// An N-dimensional, contiguous, row-major array of `Float` or `Double`: the value that
/// moonlab's heavy math runs on. Reference semantics with explicit ownership, as PyTorch:
/// views (`row`, `slice`, `reshape`) share storage with their base, `clone()` copies.
public final class Tensor {
    /// The bytes this tensor reads and writes (shared with its views).
    public let storage: TensorStorage
    /// Offset of the first element from `storage.base`, in elements.
    public let offset: Int
    /// Size of each axis; `[]` for a 0-d (scalar) tensor.
    public let shape: [Int]
    /// Element type.
    public let dtype: DType
    /// Number of elements (numel): the product of `shape`.
    public let count: Int

    /// Wraps existing storage (used by views and by the file readers). Checks that the
    /// elements fit inside the storage.
    public init(storage: TensorStorage, offset: Int, shape: [Int], dtype: DType) throws {
        let n = try Tensor.checkedCount(shape)
        guard offset >= 0, (offset + n) * dtype.size <= storage.byteCount else {
            throw AlignMathError.invalidArgument("tensor of shape \(shape) (\(dtype)) at element \(offset) does not fit in \(storage.byteCount) bytes of storage")
        }
        self.storage = storage
        self.offset = offset
        self.shape = shape
        self.dtype = dtype
        self.count = n
    }

    /// Internal initialiser for shapes already validated.
    init(unchecked storage: TensorStorage, offset: Int, shape: [Int], dtype: DType, count: Int) {
        self.storage = storage
        self.offset = offset
        self.shape = shape
        self.dtype = dtype
        self.count = count
    }

    /// A new zero-filled tensor (the allocation every constructor starts from).
    public static func zeros(_ shape: [Int], dtype: DType = .f64) throws -> Tensor {
        let n = try checkedCount(shape)
        let s = try TensorStorage.allocate(bytes: n * dtype.size, zeroed: true)
        return Tensor(unchecked: s, offset: 0, shape: shape, dtype: dtype, count: n)
    }

    /// A new tensor whose elements are garbage until written (kernel outputs only).
    static func uninitialized(_ shape: [Int], dtype: DType) throws -> Tensor {
        let n = try checkedCount(shape)
        let s = try TensorStorage.allocate(bytes: n * dtype.size, zeroed: false)
        return Tensor(unchecked: s, offset: 0, shape: shape, dtype: dtype, count: n)
    }

    /// A tensor of ones.
    public static func ones(_ shape: [Int], dtype: DType = .f64) throws -> Tensor {
        try full(shape, 1, dtype: dtype)
    }

    /// A tensor filled with `value`.
    public static func full(_ shape: [Int], _ value: Double, dtype: DType = .f64) throws -> Tensor {
        let t = try zeros(shape, dtype: dtype)
        if value != 0 { t.fill(value) }
        return t
    }

    /// `[start, start+step, ...)` up to but excluding `end`, as `torch.arange`.
    public static func arange(_ start: Double, _ end: Double, step: Double = 1, dtype: DType = .f64) throws -> Tensor {
        guard step != 0, step.isFinite, start.isFinite, end.isFinite else {
            throw AlignMathError.invalidArgument("arange needs finite bounds and a non-zero step (got \(start), \(end), step \(step))")
        }
        let n = Swift.max(0, Int(((end - start) / step).rounded(.up)))
        guard n <= 1 << 40 else { throw AlignMathError.invalidArgument("arange would have \(n) elements") }
        let t = try zeros([n], dtype: dtype)
        for i in 0..<n { t[flat: i] = start + Double(i) * step }
        return t
    }

    /// A tensor holding `values`; `shape` defaults to `[values.count]` and must have
    /// `values.count` elements.
    public convenience init(_ values: [Double], shape: [Int]? = nil, dtype: DType = .f64) throws {
        let sh = shape ?? [values.count]
        let n = try Tensor.checkedCount(sh)
        guard n == values.count else {
            throw AlignMathError.shapeMismatch("\(values.count) values do not fill shape \(sh) (\(n) elements)")
        }
        let s = TensorStorage(zeroedBytes: n * dtype.size)
        self.init(unchecked: s, offset: 0, shape: sh, dtype: dtype, count: n)
        values.withUnsafeBufferPointer { src in
            switch dtype {
            case .f64: if n > 0, let b = src.baseAddress { doublePointer.update(from: b, count: n) }
            case .f32: let d = floatPointer; for i in 0..<n { d[i] = Float(src[i]) }
            }
        }
    }

    /// A Float tensor holding `values` (no round trip through Double).
    public convenience init(floats values: [Float], shape: [Int]? = nil) throws {
        let sh = shape ?? [values.count]
        let n = try Tensor.checkedCount(sh)
        guard n == values.count else {
            throw AlignMathError.shapeMismatch("\(values.count) values do not fill shape \(sh) (\(n) elements)")
        }
        self.init(unchecked: TensorStorage(zeroedBytes: n * 4), offset: 0, shape: sh, dtype: .f32, count: n)
        values.withUnsafeBufferPointer { src in
            if n > 0, let b = src.baseAddress { floatPointer.update(from: b, count: n) }
        }
    }

    /// Product of `shape`, checking for negative sizes and overflow.
    static func checkedCount(_ shape: [Int]) throws -> Int {
        var n = 1
        for d in shape {
            guard d >= 0 else { throw AlignMathError.invalidArgument("negative dimension in shape \(shape)") }
            let (m, o) = n.multipliedReportingOverflow(by: d)
            guard !o, m <= 1 << 48 else { throw AlignMathError.invalidArgument("shape \(shape) is too large") }
            n = m
        }
        return n
    }

    // MARK: geometry

    /// Number of axes.
    public var ndim: Int { shape.count }
    /// Length of the last axis (the row length the `Dist` kernels work along); 1 for 0-d.
    public var rowLength: Int { shape.last ?? 1 }
    /// Number of rows along the last axis (product of all axes but the last).
    public var rowCount: Int { shape.isEmpty ? 1 : shape.dropLast().reduce(1, *) }
    /// True when the bytes are a memory-mapped file.
    public var isMapped: Bool { storage.isMapped }

    // MARK: raw access

    /// Pointer to the first Float element. Only meaningful when `dtype == .f32`.
    var floatPointer: UnsafeMutablePointer<Float> {
        storage.base.assumingMemoryBound(to: Float.self) + offset
    }
    /// Pointer to the first Double element. Only meaningful when `dtype == .f64`.
    var doublePointer: UnsafeMutablePointer<Double> {
        storage.base.assumingMemoryBound(to: Double.self) + offset
    }

    /// Element `i` of the flattened tensor, as a Double. Unchecked beyond a precondition:
    /// the Lua glue should use `value(at:)`, which throws.
    public subscript(flat i: Int) -> Double {
        get {
            precondition(i >= 0 && i < count, "flat index out of range")
            return dtype == .f64 ? doublePointer[i] : Double(floatPointer[i])
        }
        set {
            precondition(i >= 0 && i < count, "flat index out of range")
            if dtype == .f64 { doublePointer[i] = newValue } else { floatPointer[i] = Float(newValue) }
        }
    }

    /// Element `i` (0-based) of the flattened tensor; throws when out of range.
    public func value(at i: Int) throws -> Double {
        guard i >= 0 && i < count else { throw AlignMathError.invalidArgument("index \(i) out of range for \(count) elements") }
        return self[flat: i]
    }

    /// Writes element `i` (0-based) of the flattened tensor; throws when out of range.
    public func setValue(_ v: Double, at i: Int) throws {
        guard i >= 0 && i < count else { throw AlignMathError.invalidArgument("index \(i) out of range for \(count) elements") }
        self[flat: i] = v
    }

    /// The single value of a tensor with one element (0-d results of the reductions).
    public var scalar: Double? { count == 1 ? self[flat: 0] : nil }

    /// Sets every element to `value`.
    public func fill(_ value: Double) {
        switch dtype {
        case .f64: doublePointer.update(repeating: value, count: count)
        case .f32: floatPointer.update(repeating: Float(value), count: count)
        }
    }

    /// Typed read access to the elements of an `f32` tensor; throws for `f64`.
    public func withFloats<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) throws -> R {
        guard dtype == .f32 else { throw AlignMathError.invalidArgument("expected an f32 tensor, got \(dtype)") }
        return try body(UnsafeBufferPointer(start: floatPointer, count: count))
    }
    /// Typed read access to the elements of an `f64` tensor; throws for `f32`.
    public func withDoubles<R>(_ body: (UnsafeBufferPointer<Double>) throws -> R) throws -> R {
        guard dtype == .f64 else { throw AlignMathError.invalidArgument("expected an f64 tensor, got \(dtype)") }
        return try body(UnsafeBufferPointer(start: doublePointer, count: count))
    }
    /// Typed write access to the elements of an `f32` tensor; throws for `f64`.
    public func withMutableFloats<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) throws -> R {
        guard dtype == .f32 else { throw AlignMathError.invalidArgument("expected an f32 tensor, got \(dtype)") }
        return try body(UnsafeMutableBufferPointer(start: floatPointer, count: count))
    }
    /// Typed write access to the elements of an `f64` tensor; throws for `f32`.
    public func withMutableDoubles<R>(_ body: (UnsafeMutableBufferPointer<Double>) throws -> R) throws -> R {
        guard dtype == .f64 else { throw AlignMathError.invalidArgument("expected an f64 tensor, got \(dtype)") }
        return try body(UnsafeMutableBufferPointer(start: doublePointer, count: count))
    }

    /// All elements, flattened, as Doubles (a copy).
    public func toDoubles() -> [Double] {
        switch dtype {
        case .f64: return Array(UnsafeBufferPointer(start: doublePointer, count: count))
        case .f32:
            let p = floatPointer
            return (0..<count).map { Double(p[$0]) }
        }
    }

    /// All elements, flattened, as Floats (a copy, rounding f64 values).
    public func toFloats() -> [Float] {
        switch dtype {
        case .f32: return Array(UnsafeBufferPointer(start: floatPointer, count: count))
        case .f64:
            let p = doublePointer
            return (0..<count).map { Float(p[$0]) }
        }
    }

    // MARK: copies and views

    /// A copy with its own storage.
    public func clone() -> Tensor {
        let s = TensorStorage(zeroedBytes: count * dtype.size)
        if count > 0 { s.base.copyMemory(from: storage.base + offset * dtype.size, byteCount: count * dtype.size) }
        return Tensor(unchecked: s, offset: 0, shape: shape, dtype: dtype, count: count)
    }

    /// This tensor in another dtype: `self` when the dtype already matches (as
    /// `torch.Tensor.to`), else a converted copy.
    public func converted(to d: DType) -> Tensor {
        if d == dtype { return self }
        let s = TensorStorage(zeroedBytes: count * d.size)
        let t = Tensor(unchecked: s, offset: 0, shape: shape, dtype: d, count: count)
        if d == .f64 {
            let src = floatPointer, dst = t.doublePointer
            for i in 0..<count { dst[i] = Double(src[i]) }
        } else {
            let src = doublePointer, dst = t.floatPointer
            for i in 0..<count { dst[i] = Float(src[i]) }
        }
        return t
    }

    /// Row `i` (0-based) along the first axis, as a view sharing storage (`t[i]` in Lua
    /// for an n-d tensor). For a 1-d tensor this is a 0-d view of element `i`.
    public func row(_ i: Int) throws -> Tensor {
        guard let n = shape.first else { throw AlignMathError.invalidArgument("cannot index a 0-d tensor") }
        guard i >= 0 && i < n else { throw AlignMathError.invalidArgument("index \(i) out of range for axis of size \(n)") }
        let sub = Array(shape.dropFirst())
        let m = sub.reduce(1, *)
        return Tensor(unchecked: storage, offset: offset + i * m, shape: sub, dtype: dtype, count: m)
    }

    /// Rows `i..<j` (0-based, half-open) along the first axis, as a view sharing storage.
    public func slice(_ i: Int, _ j: Int) throws -> Tensor {
        guard let n = shape.first else { throw AlignMathError.invalidArgument("cannot slice a 0-d tensor") }
        guard 0 <= i, i <= j, j <= n else {
            throw AlignMathError.invalidArgument("slice \(i)..<\(j) out of range for axis of size \(n)")
        }
        let m = shape.dropFirst().reduce(1, *)
        var sh = shape
        sh[0] = j - i
        return Tensor(unchecked: storage, offset: offset + i * m, shape: sh, dtype: dtype, count: (j - i) * m)
    }

    /// The same elements with another shape, sharing storage. One axis may be `-1`
    /// (inferred), as in `torch.reshape`.
    public func reshape(_ newShape: [Int]) throws -> Tensor {
        var sh = newShape
        let holes = sh.indices.filter { sh[$0] == -1 }
        guard holes.count <= 1 else { throw AlignMathError.invalidArgument("reshape: at most one -1 in \(newShape)") }
        if let h = holes.first {
            let known = try Tensor.checkedCount(sh.enumerated().filter { $0.offset != h }.map { $0.element })
            guard known > 0, count % known == 0 else {
                throw AlignMathError.shapeMismatch("cannot reshape \(shape) (\(count) elements) into \(newShape)")
            }
            sh[h] = count / known
        }
        let n = try Tensor.checkedCount(sh)
        guard n == count else { throw AlignMathError.shapeMismatch("cannot reshape \(shape) (\(count) elements) into \(newShape)") }
        return Tensor(unchecked: storage, offset: offset, shape: sh, dtype: dtype, count: n)
    }

    /// Same shape and equal values (compared as Doubles, so f32 and f64 tensors holding
    /// the same numbers are equal; NaN is never equal), like `torch.equal`.
    public func equal(_ other: Tensor) -> Bool {
        guard shape == other.shape else { return false }
        for i in 0..<count where self[flat: i] != other[flat: i] { return false }
        return true
    }
}
