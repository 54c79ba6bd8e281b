import AlignMathC

/// How kernels and the glue get at a tensor's elements.
///
/// - `contiguous()` / `contiguousFloating()`: a dense tensor to run a kernel over, the
///   tensor itself when it already is one (no copy).
/// - `withFloats`/`withDoubles`/`withInt64s`/`withBools` (and `withMutable...`): a dense
///   buffer of one dtype, packed (and for the mutable ones, written back) only when the
///   tensor is a strided view.
/// - `[flat: i]`, `value(at:)`, `int64(flat:)`: one element by row-major position.
extension Tensor {
    // MARK: the write gate

    /// What every write to an existing tensor's elements calls first: a tensor whose
    /// storage borrows another's bytes (copy-on-write, `TensorStorage.borrow`) gets a copy
    /// of its own here, so the lender never changes. Cheap (one test) otherwise. Writers in
    /// this file (`setElement`, `setInt64`, `fill`, `assign`/`copyElements(into:)`,
    /// `withMutableElements`) and `setMasked` call it; a kernel that writes into a tensor
    /// it did not just make must too.
    @inline(__always)
    public func makeWritable() { storage.prepareForWrite() }

    // MARK: raw pointers (dense tensors only)

    /// Typed pointer to element 0 of a dense tensor. Internal: only kernels that have
    /// checked `isContiguous` (or made the tensor themselves) may use it.
    @inline(__always)
    func pointer<T: TensorElement>(_ type: T.Type) -> UnsafeMutablePointer<T> {
        storage.base.assumingMemoryBound(to: T.self) + offset
    }

    /// Runs `body` with the dense buffer of a tensor this code just made.
    @inline(__always)
    func withRaw<T: TensorElement, R>(_ type: T.Type, _ body: (UnsafeMutablePointer<T>) throws -> R) rethrows -> R {
        try body(pointer(T.self))
    }

    /// Pointer to the first Float of a dense `f32` tensor (kernels in AlignMath).
    var floatPointer: UnsafeMutablePointer<Float> { pointer(Float.self) }
    /// Pointer to the first Double of a dense `f64` tensor (kernels in AlignMath).
    var doublePointer: UnsafeMutablePointer<Double> { pointer(Double.self) }

    // MARK: dense views for kernels

    /// This tensor if it is dense row-major, else a dense copy (same dtype).
    public func contiguous() -> Tensor {
        if isContiguous { return self }
        let out = Tensor.output(shape, dtype: dtype, count: count)
        copyElements(into: out)
        return out
    }

    /// A dense `f32` or `f64` tensor with these values: this tensor itself when it already
    /// is one; else a dense copy, with `i64` and `bool` converted to `f64`. What a float
    /// kernel (softmax, KL, ...) runs on.
    public func contiguousFloating() -> Tensor {
        if dtype.isFloating { return contiguous() }
        return converted(to: .f64)
    }

    /// Read access to the elements of an `f32` tensor as a dense buffer (packed first when
    /// the tensor is a strided view); throws for another dtype.
    public func withFloats<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) throws -> R {
        try withElements(Float.self, body)
    }
    /// Read access to the elements of an `f64` tensor (see `withFloats`).
    public func withDoubles<R>(_ body: (UnsafeBufferPointer<Double>) throws -> R) throws -> R {
        try withElements(Double.self, body)
    }
    /// Read access to the elements of an `i64` tensor (see `withFloats`).
    public func withInt64s<R>(_ body: (UnsafeBufferPointer<Int64>) throws -> R) throws -> R {
        try withElements(Int64.self, body)
    }
    /// Read access to the elements of a `bool` tensor (see `withFloats`).
    public func withBools<R>(_ body: (UnsafeBufferPointer<Bool>) throws -> R) throws -> R {
        try withElements(Bool.self, body)
    }
    /// Write access to the elements of an `f32` tensor as a dense buffer; for a strided
    /// view the buffer is a copy written back afterwards. Throws for another dtype.
    public func withMutableFloats<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) throws -> R {
        try withMutableElements(Float.self, body)
    }
    /// Write access to the elements of an `f64` tensor (see `withMutableFloats`).
    public func withMutableDoubles<R>(_ body: (UnsafeMutableBufferPointer<Double>) throws -> R) throws -> R {
        try withMutableElements(Double.self, body)
    }
    /// Write access to the elements of an `i64` tensor (see `withMutableFloats`).
    public func withMutableInt64s<R>(_ body: (UnsafeMutableBufferPointer<Int64>) throws -> R) throws -> R {
        try withMutableElements(Int64.self, body)
    }
    /// Write access to the elements of a `bool` tensor (see `withMutableFloats`).
    public func withMutableBools<R>(_ body: (UnsafeMutableBufferPointer<Bool>) throws -> R) throws -> R {
        try withMutableElements(Bool.self, body)
    }

    /// Read access to the elements as a dense buffer of `T` (dtype must match).
    public func withElements<T: TensorElement, R>(_ type: T.Type, _ body: (UnsafeBufferPointer<T>) throws -> R) throws -> R {
        guard dtype == T.dtype else { throw AlignMathError.invalidArgument("expected an \(T.dtype) tensor, got \(dtype)") }
        let dense = contiguous()
        return try withExtendedLifetime(dense) { try body(UnsafeBufferPointer(start: dense.pointer(T.self), count: count)) }
    }

    /// Write access to the elements as a dense buffer of `T` (dtype must match); a strided
    /// view is packed, and written back after `body`.
    public func withMutableElements<T: TensorElement, R>(_ type: T.Type, _ body: (UnsafeMutableBufferPointer<T>) throws -> R) throws -> R {
        guard dtype == T.dtype else { throw AlignMathError.invalidArgument("expected an \(T.dtype) tensor, got \(dtype)") }
        makeWritable()
        if isContiguous { return try body(UnsafeMutableBufferPointer(start: pointer(T.self), count: count)) }
        let dense = contiguous()
        defer { dense.copyElements(into: self) }
        return try body(UnsafeMutableBufferPointer(start: dense.pointer(T.self), count: count))
    }

    // MARK: single elements

    /// Element `i` (row-major position, 0-based) as a Double: bool as 0/1, i64 rounded above
    /// 2^53. Unchecked beyond a precondition: the Lua glue uses `value(at:)`, which throws.
    public subscript(flat i: Int) -> Double {
        get {
            precondition(i >= 0 && i < count, "flat index out of range")
            return element(atStorage: storageIndex(flat: i))
        }
        set {
            precondition(i >= 0 && i < count, "flat index out of range")
            setElement(newValue, atStorage: storageIndex(flat: i))
        }
    }

    /// The element at storage offset `s` (elements from `storage.base`) as a Double.
    @inline(__always)
    func element(atStorage s: Int) -> Double {
        let b = storage.base
        switch dtype {
        case .f64: return b.assumingMemoryBound(to: Double.self)[s]
        case .f32: return Double(b.assumingMemoryBound(to: Float.self)[s])
        case .i64: return Double(b.assumingMemoryBound(to: Int64.self)[s])
        case .bool: return b.assumingMemoryBound(to: Bool.self)[s] ? 1 : 0
        }
    }

    /// Writes `v` (cast as numpy casts) at storage offset `s`.
    @inline(__always)
    func setElement(_ v: Double, atStorage s: Int) {
        storage.prepareForWrite()
        let b = storage.base
        switch dtype {
        case .f64: b.assumingMemoryBound(to: Double.self)[s] = v
        case .f32: b.assumingMemoryBound(to: Float.self)[s] = Float(v)
        case .i64: b.assumingMemoryBound(to: Int64.self)[s] = Int64.fromDouble(v)
        case .bool: b.assumingMemoryBound(to: Bool.self)[s] = v != 0
        }
    }

    /// Element `i` (row-major, 0-based) of an `i64` tensor exactly; other dtypes converted.
    public func int64(flat i: Int) -> Int64 {
        precondition(i >= 0 && i < count, "flat index out of range")
        let s = storageIndex(flat: i)
        if dtype == .i64 { return storage.base.assumingMemoryBound(to: Int64.self)[s] }
        return Int64.fromDouble(element(atStorage: s))
    }

    /// Writes an integer exactly into element `i` (row-major, 0-based).
    public func setInt64(_ v: Int64, flat i: Int) {
        precondition(i >= 0 && i < count, "flat index out of range")
        let s = storageIndex(flat: i)
        if dtype == .i64 {
            makeWritable()
            storage.base.assumingMemoryBound(to: Int64.self)[s] = v
        } else {
            setElement(Double(v), atStorage: s)
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

    // MARK: whole-tensor copies

    /// Sets every element to `value` (cast to the dtype), through views too.
    public func fill(_ value: Double) {
        switch dtype {
        case .f64: fillElements(value)
        case .f32: fillElements(Float(value))
        case .i64: fillElements(Int64.fromDouble(value))
        case .bool: fillElements(value != 0)
        }
    }

    /// Sets every element to `value` (whose type must be this tensor's element type).
    func fillElements<T: TensorElement>(_ value: T) {
        precondition(T.dtype == dtype)
        makeWritable()
        if isContiguous { pointer(T.self).update(repeating: value, count: count); return }
        let base = storage.base.assumingMemoryBound(to: T.self) + offset
        let runs = StridedRuns(shape: shape, strides: [strides])
        let s = runs.innerStride(0)
        runs.forEachRun(0..<runs.runCount) { starts, n in
            let p = base + starts[0]
            for j in 0..<n { p[j * s] = value }
        }
    }

    /// All elements in row-major order as Doubles (a copy).
    public func toDoubles() -> [Double] {
        if dtype == .f64 && isContiguous { return Array(UnsafeBufferPointer(start: pointer(Double.self), count: count)) }
        return dense(.f64).toDoubles()
    }

    /// All elements in row-major order as Floats (a copy, rounding f64 values).
    public func toFloats() -> [Float] {
        if dtype == .f32 && isContiguous { return Array(UnsafeBufferPointer(start: pointer(Float.self), count: count)) }
        return dense(.f32).toFloats()
    }

    /// All elements in row-major order as Int64s (a copy; floats truncated as numpy casts).
    public func toInt64s() -> [Int64] {
        if dtype == .i64 && isContiguous { return Array(UnsafeBufferPointer(start: pointer(Int64.self), count: count)) }
        return dense(.i64).toInt64s()
    }

    /// A dense copy with its own storage.
    public func clone() -> Tensor {
        let out = Tensor.output(shape, dtype: dtype, count: count)
        copyElements(into: out)
        return out
    }

    /// This tensor in another dtype: `self` when the dtype already matches (as
    /// `torch.Tensor.to`), else a converted dense copy (numpy's casts: floats to i64
    /// truncate, anything to bool is `!= 0`).
    public func converted(to d: DType) -> Tensor {
        if d == dtype { return self }
        let out = Tensor.output(shape, dtype: d, count: count)
        copyElements(into: out)
        return out
    }

    /// Writes `src` into every element of this tensor (through a view, into its base):
    /// `src` is broadcast to this shape and cast to this dtype, as numpy's `dst[...] = src`.
    /// Overlapping source and destination are handled (the source is read first).
    public func assign(_ src: Tensor) throws {
        var from = src
        if from.shape != shape {
            do { from = try from.expandForWrite(shape) } catch {
                throw AlignMathError.shapeMismatch("cannot write a value of shape \(src.shape) into a view of shape \(shape)")
            }
        }
        if from.storage === storage { from = from.clone() }
        from.copyElements(into: self)
    }

    /// This value broadcast to `target` for a write, as numpy's `dst[...] = src`: leading
    /// size-1 axes beyond the target's are dropped first (numpy writes np.ones((1, 1, 3)) into
    /// a row of 3), then size-1 axes repeat.
    public func expandForWrite(_ target: [Int]) throws -> Tensor {
        var v = self
        while v.ndim > target.count, v.shape.first == 1 { v = try v.select(axis: 0, 0) }
        return v.shape == target ? v : try v.expand(target)
    }

    /// A dense tensor of dtype `d` with these values: this one when it already is one.
    public func dense(_ d: DType) -> Tensor { d == dtype ? contiguous() : converted(to: d) }

    /// Copies (and casts) every element into `dst`, which has the same shape (any
    /// strides, any dtype). Large copies are split over the cores.
    func copyElements(into dst: Tensor) {
        precondition(dst.shape == shape)
        if count == 0 { return }
        dst.makeWritable()
        switch (dtype, dst.dtype) {
        case (.f64, .f64): copy(Identity<Double>.self, into: dst)
        case (.f32, .f32): copy(Identity<Float>.self, into: dst)
        case (.i64, .i64): copy(Identity<Int64>.self, into: dst)
        case (.bool, .bool): copy(Identity<Bool>.self, into: dst)
        case (.f32, .f64): copy(Cast<Float, Double>.self, into: dst)
        case (.f64, .f32): copy(Cast<Double, Float>.self, into: dst)
        case (.i64, .f64): copy(Cast<Int64, Double>.self, into: dst)
        case (.i64, .f32): copy(CastI64ToF32.self, into: dst)
        case (.bool, .f64): copy(Cast<Bool, Double>.self, into: dst)
        case (.bool, .f32): copy(Cast<Bool, Float>.self, into: dst)
        case (.bool, .i64): copy(Cast<Bool, Int64>.self, into: dst)
        case (.f64, .i64): copy(Cast<Double, Int64>.self, into: dst)
        case (.f32, .i64): copy(Cast<Float, Int64>.self, into: dst)
        case (.f64, .bool): copy(Cast<Double, Bool>.self, into: dst)
        case (.f32, .bool): copy(Cast<Float, Bool>.self, into: dst)
        case (.i64, .bool): copy(Cast<Int64, Bool>.self, into: dst)
        }
    }

    /// The elements of this tensor through `K` into `dst` (same shape): a parallel memcpy
    /// when both are dense and `K` is the identity.
    private func copy<K: Kernel1>(_: K.Type, into dst: Tensor) {
        if isContiguous && dst.isContiguous && K.A.self == K.R.self {
            let bytes = count * dtype.size
            let out = dst.storage.base + dst.offset * dst.dtype.size
            let from = UnsafeRawPointer(storage.base + offset * dtype.size)
            if bytes >= 1 << 22 {
                // Two cores copy faster than one on this kind of machine; a large copy
                // into other storage goes out with streaming stores (as `Tensor.streamed`).
                let chunk = 1 << 21, pieces = (bytes + chunk - 1) / chunk
                let stream = Tensor.streams(dst, self)
                Parallel.forEach(pieces, cost: chunk) { r in
                    let lo = r.lowerBound * chunk, hi = Swift.min(bytes, r.upperBound * chunk)
                    if stream {
                        am_stream_copy(out + lo, from + lo, hi - lo)
                        am_store_fence()
                    } else {
                        (out + lo).copyMemory(from: from + lo, byteCount: hi - lo)
                    }
                }
            } else {
                out.copyMemory(from: from, byteCount: bytes)
            }
            return
        }
        Tensor.map1(K.self, self, dst)
    }

    /// Same shape and equal values (compared as Doubles, so f32 and f64 tensors holding
    /// the same numbers are equal; NaN is never equal), like `torch.equal`.
    public func equal(_ other: Tensor) -> Bool {
        guard shape == other.shape else { return false }
        let a = dense(.f64), b = other.dense(.f64)
        let p = a.pointer(Double.self), q = b.pointer(Double.self)
        for i in 0..<count where p[i] != q[i] { return false }
        return true
    }
}
