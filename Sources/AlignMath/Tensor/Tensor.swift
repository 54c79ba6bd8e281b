/// An N-dimensional array of `f32`, `f64`, `i64` or `bool`: the value that moonlab's heavy
/// math runs on. As in Torch7, a tensor is a storage, an offset and strides: views
/// (`select`, `narrow`, `transpose`, `t[{...}]`, `expand`) share the storage of their base
/// and writes through them reach it; `clone()` and `contiguous()` copy.
///
/// Kernels read raw memory only through `contiguous()` / `contiguousFloating()` or the
/// `with...` accessors (TensorAccess.swift), which hand out a dense row-major buffer and
/// copy only when the tensor is a non-contiguous view.
public final class Tensor {
    /// The bytes this tensor reads and writes (shared with its views).
    public let storage: TensorStorage
    /// Offset of element [0, 0, ...] from `storage.base`, in elements.
    public let offset: Int
    /// Size of each axis; `[]` for a 0-d (scalar) tensor.
    public let shape: [Int]
    /// Elements to step in storage for +1 along each axis (0 for an expanded axis,
    /// negative for a reversed range).
    public let strides: [Int]
    /// Element type.
    public let dtype: DType
    /// Number of elements (numel): the product of `shape`.
    public let count: Int
    /// True when the elements lie row-major and dense from `offset` (what kernels want).
    public let isContiguous: Bool

    /// The most axes a tensor may have (numpy's limit). Readers of nested Lua tables stop
    /// at this depth.
    public static let maxRank = 64

    /// Wraps existing storage with row-major strides (views of files, kernel outputs).
    /// Checks that the elements fit inside the storage.
    public convenience init(storage: TensorStorage, offset: Int, shape: [Int], dtype: DType) throws {
        try self.init(storage: storage, offset: offset, shape: shape, strides: Tensor.rowMajorStrides(shape), dtype: dtype)
    }

    /// Wraps existing storage with any strides; every addressed element must lie inside
    /// the storage.
    public init(storage: TensorStorage, offset: Int, shape: [Int], strides: [Int], dtype: DType) throws {
        let n = try Tensor.checkedCount(shape)
        guard strides.count == shape.count else {
            throw AlignMathError.invalidArgument("\(strides.count) strides for a shape of \(shape.count) axes")
        }
        if n > 0 {
            var lo = offset, hi = offset
            for (d, s) in zip(shape, strides) {
                let (span, o) = s.multipliedReportingOverflow(by: d - 1)
                guard !o else { throw AlignMathError.invalidArgument("strides \(strides) overflow for shape \(shape)") }
                if span < 0 { lo += span } else { hi += span }
            }
            guard lo >= 0, (hi + 1) * dtype.size <= storage.byteCount else {
                throw AlignMathError.invalidArgument("tensor of shape \(shape), strides \(strides) (\(dtype)) at element \(offset) does not fit in \(storage.byteCount) bytes of storage")
            }
        }
        self.storage = storage
        self.offset = offset
        self.shape = shape
        self.strides = strides
        self.dtype = dtype
        self.count = n
        self.isContiguous = Tensor.isRowMajor(shape, strides)
    }

    /// Internal initialiser for geometry already validated.
    init(unchecked storage: TensorStorage, offset: Int, shape: [Int], strides: [Int], dtype: DType, count: Int) {
        self.storage = storage
        self.offset = offset
        self.shape = shape
        self.strides = strides
        self.dtype = dtype
        self.count = count
        self.isContiguous = Tensor.isRowMajor(shape, strides)
    }

    /// Internal initialiser for a dense row-major tensor of validated shape.
    convenience init(unchecked storage: TensorStorage, offset: Int, shape: [Int], dtype: DType, count: Int) {
        self.init(unchecked: storage, offset: offset, shape: shape, strides: Tensor.rowMajorStrides(shape),
                  dtype: dtype, count: count)
    }

    /// Strides of a dense row-major tensor of `shape`.
    public static func rowMajorStrides(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            s[i] = acc
            acc *= Swift.max(shape[i], 1)
        }
        return s
    }

    /// True when `strides` lay `shape` out densely in row-major order (size-1 axes may
    /// have any stride; an empty tensor is contiguous).
    static func isRowMajor(_ shape: [Int], _ strides: [Int]) -> Bool {
        var expected = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            let d = shape[i]
            if d == 0 { return true }
            if d != 1 {
                if strides[i] != expected { return false }
                expected *= d
            }
        }
        return true
    }

    /// Product of `shape`, checking for negative sizes, too many axes and overflow.
    static func checkedCount(_ shape: [Int]) throws -> Int {
        guard shape.count <= maxRank else {
            throw AlignMathError.invalidArgument("a tensor has at most \(maxRank) axes, got \(shape.count)")
        }
        // `span` (the product with 0 taken as 1) bounds the strides as well: a zero-size axis
        // made the count 0 and let [0, 2^40, 2^40] through, whose row-major strides overflow
        // (numpy 2.4.6 refuses np.zeros((0, 2**40, 2**40)): "array is too big").
        var n = 1, span = 1
        for d in shape {
            guard d >= 0 else { throw AlignMathError.invalidArgument("negative dimension in shape \(shape)") }
            let (m, o) = n.multipliedReportingOverflow(by: d)
            let (w, o2) = span.multipliedReportingOverflow(by: Swift.max(d, 1))
            guard !o, !o2, w <= 1 << 48 else { throw AlignMathError.invalidArgument("shape \(shape) is too large") }
            n = m
            span = w
        }
        return n
    }

    // MARK: making

    /// A new zero-filled tensor (false for bool).
    public static func zeros(_ shape: [Int], dtype: DType = .f64) throws -> Tensor {
        let n = try checkedCount(shape)
        let s = try TensorStorage.allocate(bytes: n * dtype.size, zeroed: true)
        return Tensor(unchecked: s, offset: 0, shape: shape, dtype: dtype, count: n)
    }

    /// A new tensor whose elements are garbage until written: for kernel outputs that are
    /// written in full (no pass over memory to zero them first).
    public static func empty(_ shape: [Int], dtype: DType) throws -> Tensor {
        let n = try checkedCount(shape)
        let s = try TensorStorage.allocate(bytes: n * dtype.size, zeroed: false)
        return Tensor(unchecked: s, offset: 0, shape: shape, dtype: dtype, count: n)
    }

    /// Same as `empty` (the name kernels used before it was public).
    static func uninitialized(_ shape: [Int], dtype: DType) throws -> Tensor { try empty(shape, dtype: dtype) }

    /// An output for a shape that already exists in memory (a kernel result the size of an
    /// input): stops the process only if memory is exhausted, as an `Array` would.
    static func output(_ shape: [Int], dtype: DType, count: Int) -> Tensor {
        let s = TensorStorage(uninitializedBytes: count * dtype.size)
        return Tensor(unchecked: s, offset: 0, shape: shape, dtype: dtype, count: count)
    }

    /// A tensor of ones (true for bool).
    public static func ones(_ shape: [Int], dtype: DType = .f64) throws -> Tensor {
        try full(shape, 1, dtype: dtype)
    }

    /// A tensor filled with `value` (converted to the dtype as numpy casts).
    public static func full(_ shape: [Int], _ value: Double, dtype: DType = .f64) throws -> Tensor {
        if value == 0 && value.sign == .plus { return try zeros(shape, dtype: dtype) }
        let t = try empty(shape, dtype: dtype)
        t.fill(value)
        return t
    }

    /// `[start, start+step, ...)` up to but excluding `end`, as `numpy.arange`: the length is
    /// ceil((end - start) / step); the first two values are `start` and `start + step` in the
    /// dtype, and the others `first + i * delta` with `delta = second - first` computed in the
    /// dtype (numpy's PyArray_Arange and its `fill` functions). For f64 and f32 that differs
    /// from `start + i * step` by an ulp here and there (numpy 2.4: arange(1, 2, 0.1)[7] is
    /// 1.7000000000000002); for i64 with fractional bounds the values step by
    /// trunc(start + step) - trunc(start) (np.arange(0.7, 5, 1.6, dtype=np.int64) is [0, 2, 4]).
    public static func arange(_ start: Double, _ end: Double, step: Double = 1, dtype: DType = .f64) throws -> Tensor {
        guard step != 0, step.isFinite, start.isFinite, end.isFinite else {
            throw AlignMathError.invalidArgument("arange needs finite bounds and a non-zero step (got \(start), \(end), step \(step))")
        }
        let steps = ((end - start) / step).rounded(.up)
        guard steps <= Double(1 << 40) else { throw AlignMathError.invalidArgument("arange would have \(steps) elements") }
        let n = steps > 0 ? Int(steps) : 0  // also -inf, when end - start overflows
        let t = try empty([n], dtype: dtype)
        guard n > 0 else { return t }
        switch dtype {
        case .f64:
            t.withRaw(Double.self) { p in
                p[0] = start
                guard n > 1 else { return }
                p[1] = start + step
                let delta = p[1] - start
                for i in 2..<n { p[i] = start + Double(i) * delta }
            }
        case .f32:
            t.withRaw(Float.self) { p in
                let first = Float(start)
                p[0] = first
                guard n > 1 else { return }
                p[1] = Float(start + step)
                let delta = p[1] - first
                for i in 2..<n { p[i] = first + Float(i) * delta }
            }
        case .i64:
            t.withRaw(Int64.self) { p in
                let first = Int64.fromDouble(start)
                let delta = start == start.rounded() && step == step.rounded()
                    ? Int64.fromDouble(step) : Int64.fromDouble(start + step) &- first
                for i in 0..<n { p[i] = first &+ Int64(i) &* delta }
            }
        case .bool: t.withRaw(Bool.self) { p in for i in 0..<n { p[i] = start + Double(i) * step != 0 } }
        }
        return t
    }

    /// The number of elements of `arange(start, end, step)` over integers, as numpy computes it
    /// for Python ints: ceil((end - start) / step) with the difference exact and the quotient
    /// a Double (0 when the range is empty; nil for step 0).
    public static func arangeCount(_ start: Int64, _ end: Int64, step: Int64) -> Double? {
        guard step != 0 else { return nil }
        guard step > 0 ? end > start : end < start else { return 0 }
        // |end - start| fits a UInt64 even from Int64.min to Int64.max
        let span = step > 0 ? UInt64(bitPattern: end &- start) : UInt64(bitPattern: start &- end)
        let s = step.magnitude
        let (q, r) = span.quotientAndRemainder(dividingBy: s)
        return (Double(q) + Double(r) / Double(s)).rounded(.up)
    }

    /// `arange` over Lua integers into an i64 tensor, exact at every magnitude, as
    /// `numpy.arange(start, end, step, dtype=np.int64)` with Python ints: `start + i * step`
    /// in int64 (through Doubles, bounds past 2^53 lost their low bits and a range such as
    /// arange(2^62, 2^62 + 10, 3) came out empty).
    public static func arange(_ start: Int64, _ end: Int64, step: Int64) throws -> Tensor {
        guard let steps = arangeCount(start, end, step: step) else {
            throw AlignMathError.invalidArgument("arange needs a non-zero step (got \(start), \(end), step 0)")
        }
        guard steps <= Double(1 << 40) else { throw AlignMathError.invalidArgument("arange would have \(steps) elements") }
        let n = Int(steps)
        let t = try empty([n], dtype: .i64)
        // every value lies between start and end, so the wrapping products never wrap
        t.withRaw(Int64.self) { p in for i in 0..<n { p[i] = start &+ Int64(i) &* step } }
        return t
    }

    /// `n` evenly spaced values from `start` to `end`, both included, as `numpy.linspace`
    /// (numpy 2.x's function_base.py): `i * step + start` in f64 with `step = (end - start) /
    /// (n - 1)` (`i / (n - 1) * (end - start)` where step underflows to 0), the last value
    /// exactly `end`; floored before the cast for i64 (np.linspace(-3.3, 8.1, 13,
    /// dtype=np.int64) starts at -4; torch.linspace truncates to -3), cast as numpy's
    /// astype for f32 and bool.
    public static func linspace(_ start: Double, _ end: Double, count n: Int, dtype: DType = .f64) throws -> Tensor {
        guard n >= 0 else { throw AlignMathError.invalidArgument("linspace needs n >= 0, got \(n)") }
        let t = try empty([n], dtype: .f64)
        let delta = end - start
        t.withRaw(Double.self) { y in
            if n > 1 {
                let div = Double(n - 1), step = delta / div
                if step == 0 {
                    for i in 0..<n { y[i] = Double(i) / div * delta + start }
                } else {
                    for i in 0..<n { y[i] = Double(i) * step + start }
                }
                y[n - 1] = end
            } else if n == 1 {
                y[0] = 0 * delta + start
            }
            if dtype == .i64 { for i in 0..<n { y[i] = y[i].rounded(.down) } }
        }
        return dtype == .f64 ? t : t.converted(to: dtype)
    }

    /// A tensor holding `values` (converted to `dtype`); `shape` defaults to
    /// `[values.count]` and must have `values.count` elements.
    public convenience init(_ values: [Double], shape: [Int]? = nil, dtype: DType = .f64) throws {
        let sh = shape ?? [values.count]
        let n = try Tensor.checkedCount(sh)
        guard n == values.count else {
            throw AlignMathError.shapeMismatch("\(values.count) values do not fill shape \(sh) (\(n) elements)")
        }
        let s = try TensorStorage.allocate(bytes: n * dtype.size, zeroed: false)
        self.init(unchecked: s, offset: 0, shape: sh, dtype: dtype, count: n)
        values.withUnsafeBufferPointer { src in
            switch dtype {
            case .f64: withRaw(Double.self) { d in for i in 0..<n { d[i] = src[i] } }
            case .f32: withRaw(Float.self) { d in for i in 0..<n { d[i] = Float(src[i]) } }
            case .i64: withRaw(Int64.self) { d in for i in 0..<n { d[i] = Int64.fromDouble(src[i]) } }
            case .bool: withRaw(Bool.self) { d in for i in 0..<n { d[i] = src[i] != 0 } }
            }
        }
    }

    /// A Float tensor holding `values` (no round trip through Double).
    public convenience init(floats values: [Float], shape: [Int]? = nil) throws {
        try self.init(elements: values, shape: shape)
    }

    /// A tensor of the dtype of `T` holding `values` exactly (`[Int64]` gives an i64
    /// tensor, `[Bool]` a bool one).
    public convenience init<T: TensorElement>(elements values: [T], shape: [Int]? = nil) throws {
        let sh = shape ?? [values.count]
        let n = try Tensor.checkedCount(sh)
        guard n == values.count else {
            throw AlignMathError.shapeMismatch("\(values.count) values do not fill shape \(sh) (\(n) elements)")
        }
        let s = try TensorStorage.allocate(bytes: n * T.dtype.size, zeroed: false)
        self.init(unchecked: s, offset: 0, shape: sh, dtype: T.dtype, count: n)
        values.withUnsafeBufferPointer { src in
            if n > 0, let b = src.baseAddress { storage.base.assumingMemoryBound(to: T.self).update(from: b, count: n) }
        }
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

    /// The storage offset (in elements) of the element at row-major position `i`.
    @inline(__always)
    func storageIndex(flat i: Int) -> Int {
        if isContiguous { return offset + i }
        var rest = i, at = offset
        var axis = shape.count - 1
        while axis >= 0 {
            let d = shape[axis]
            at += (rest % d) * strides[axis]
            rest /= d
            axis -= 1
        }
        return at
    }
}
