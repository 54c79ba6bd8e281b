import AlignMathC
import COpenBLAS

extension AlignMath {
    /// Makes OpenBLAS run kernels this CPU can run at full width where it fell back to generic
    /// ones for a CPU model newer than the library (Debian 12's 0.3.21 runs Prescott's SSE3
    /// kernels on an AVX-512 Xeon of 2023: matmul at a quarter of numpy's speed); see
    /// `am_blas_prepare`. Idempotent; `Tensor.matmul` calls it too. Call at start-up, before
    /// other threads run. Returns the core switched to, or nil when OpenBLAS's choice stands.
    @discardableResult
    public static func prepareBLAS() -> String? {
        am_blas_prepare().map { String(cString: $0) }
    }

    /// Stops OpenBLAS's worker threads until the next threaded BLAS call. Its library
    /// constructor starts them at load time and they spin (`sched_yield`) for ~0.1-0.2 s of a
    /// core before they sleep: every moonlab process paid that at start, and it counted in
    /// the process CPU time of whatever ran first. Call once, before any other thread runs;
    /// the first matmul big enough for threads starts them again (as after a `fork`).
    public static func parkBLASThreads() { _ = blas_thread_shutdown_() }
}

/// Matrix products as numpy's `matmul`: 1-d · 1-d is a dot product; a 1-d left operand is
/// a row vector and a 1-d right operand a column vector (the added axis removed from the
/// result); more axes are batches, broadcast against each other. f32 and f64 go to
/// OpenBLAS's sgemm/dgemm (transposed views without a copy), or its dot/gemv/syrk where
/// numpy calls those (a side of one row or column: `vectorProduct`; a matrix times its own
/// transpose: `gram`); i64 and bool use a plain loop
/// (bool: any of the ands, numpy's result).
extension Tensor {
    public static func matmul(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        _ = am_blas_prepare()  // once: OpenBLAS's kernels for this CPU, before its first call
        guard a.ndim > 0, b.ndim > 0 else {
            throw AlignMathError.invalidArgument("matmul: operands must have at least one axis (got shapes \(a.shape) and \(b.shape)); use * for scalars")
        }
        let dt = DType.promote(a.dtype, b.dtype)
        let x = a.ndim == 1 ? try a.unsqueeze(0) : a
        let y = b.ndim == 1 ? try b.unsqueeze(1) : b
        let m = x.shape[x.ndim - 2], k = x.shape[x.ndim - 1], k2 = y.shape[y.ndim - 2], n = y.shape[y.ndim - 1]
        guard k == k2 else {
            throw AlignMathError.shapeMismatch("matmul: shapes \(a.shape) and \(b.shape) do not align (\(k) vs \(k2) on the summed axis)")
        }
        guard Swift.max(m, k, n) <= Int(Int32.max) else {  // BLAS takes 32-bit sizes
            throw AlignMathError.invalidArgument("matmul: an axis of \(Swift.max(m, k, n)) is over BLAS's limit of \(Int32.max)")
        }
        let batch = try broadcastShape([Array(x.shape.dropLast(2)), Array(y.shape.dropLast(2))], what: "matmul (batch axes)")
        let out = try Tensor.empty(batch + [m, n], dtype: dt)
        let xb = try x.converted(to: dt).expand(batch + [m, k]), yb = try y.converted(to: dt).expand(batch + [k, n])
        if out.count > 0 {
            let batches = batch.reduce(1, *)
            for i in 0..<batches {
                let xi = try matrix(xb, i, batch), yi = try matrix(yb, i, batch)
                let oi = out.pointer(UInt8.self, byteOffset: i * m * n * dt.size)
                let finished: Bool
                switch dt {
                case .f64, .f32: finished = vectorProduct(xi, yi, oi, m, n, k) || gemm(xi, yi, oi, m, n, k)
                case .i64: finished = naive(Int64.self, xi, yi, oi, m, n, k, zero: 0) { $0 &+ $1 &* $2 }
                case .bool: finished = naive(Bool.self, xi, yi, oi, m, n, k, zero: false) { $0 || ($1 && $2) }
                }
                if !finished || Interruption.isPending { throw AlignMathError.interrupted }
            }
        }
        var shape = batch + [m, n]
        if b.ndim == 1 { shape.remove(at: shape.count - 1) }
        if a.ndim == 1 { shape.remove(at: shape.count - (b.ndim == 1 ? 1 : 2)) }
        return try out.reshape(shape)
    }

    /// Batch `i` of `t` (whose leading axes are `batch`) as a 2-d view.
    private static func matrix(_ t: Tensor, _ i: Int, _ batch: [Int]) throws -> Tensor {
        var v = t, rest = i
        var index = [Int](repeating: 0, count: batch.count)
        for d in stride(from: batch.count - 1, through: 0, by: -1) { index[d] = rest % batch[d]; rest /= batch[d] }
        for d in 0..<batch.count { v = try v.select(axis: 0, index[d]) }
        return v
    }

    /// Multiply-adds in one BLAS call of a large product. One call cannot be stopped, so
    /// Ctrl-C lands between blocks: 2^29 is 40-80 ms of f64 dgemm on the 2-core dev box
    /// (up to ~150 ms at load 11); it was 2^31, about a second under load. Smaller blocks
    /// cost: each call repacks B and wakes OpenBLAS's threads (BENCHMARKS.md, "Robustness").
    static let multiplyAddsPerBlock = 1 << 29

    /// Products up to this many multiply-adds ([1024, 1024]·[1024, 1024], under 100 ms on
    /// a quiet box) run as one call, where splitting costs most (1.1-1.5x under load).
    static let multiplyAddsInOneCall = 1 << 30

    /// Rows of A per BLAS call for an [m, k]·[k, n] product (at least one row: a single row
    /// of more than `multiplyAddsPerBlock` runs whole).
    static func rowsPerBlock(m: Int, n: Int, k: Int) -> Int {
        let perRow = n.multipliedReportingOverflow(by: k)
        if perRow.overflow { return 1 }
        let whole = perRow.partialValue.multipliedReportingOverflow(by: m)
        if !whole.overflow && whole.partialValue <= multiplyAddsInOneCall { return Swift.max(1, m) }
        return Swift.max(1, multiplyAddsPerBlock / Swift.max(1, perRow.partialValue))
    }

    /// C = A·B with BLAS, A [m, k] and B [k, n] any 2-d views; C dense [m, n]. A large
    /// product runs as blocks of rows (`rowsPerBlock`), Ctrl-C polled between them; false
    /// when it stopped early.
    private static func gemm(_ a: Tensor, _ b: Tensor, _ c: UnsafeMutableRawPointer, _ m: Int, _ n: Int, _ k: Int) -> Bool {
        if k == 0 { c.initializeMemory(as: UInt8.self, repeating: 0, count: m * n * a.dtype.size); return true }
        let (ta, lda, pa) = blasLayout(a), (tb, ldb, pb) = blasLayout(b)
        let rowsPerBlock = rowsPerBlock(m: m, n: n, k: k)
        if rowsPerBlock >= m, isGram(a, b, ta, tb, m, n) {
            gram(pa, c, ta, lda, n, k)
            return true
        }
        return withExtendedLifetime((pa, pb)) {
            var r0 = 0
            while r0 < m {
                if r0 > 0, Interruption.isPending { return false }
                let rows = Swift.min(rowsPerBlock, m - r0)
                let aStart = ta == CblasNoTrans ? r0 * lda : r0  // element offset of row r0 of A
                if a.dtype == .f64 {
                    cblas_dgemm(CblasRowMajor, ta, tb, Int32(rows), Int32(n), Int32(k), 1,
                                pa.pointer(Double.self) + aStart, Int32(lda), pb.pointer(Double.self), Int32(ldb), 0,
                                c.assumingMemoryBound(to: Double.self) + r0 * n, Int32(n))
                } else {
                    cblas_sgemm(CblasRowMajor, ta, tb, Int32(rows), Int32(n), Int32(k), 1,
                                pa.pointer(Float.self) + aStart, Int32(lda), pb.pointer(Float.self), Int32(ldb), 0,
                                c.assumingMemoryBound(to: Float.self) + r0 * n, Int32(n))
                }
                r0 += rows
            }
            return true
        }
    }

    /// A matrix times its own transpose (the same elements, one side a transposed view of the
    /// other): numpy's matmul then calls syrk, not gemm (matmul.c.src), with other bits.
    private static func isGram(_ a: Tensor, _ b: Tensor, _ ta: CBLAS_TRANSPOSE, _ tb: CBLAS_TRANSPOSE, _ m: Int, _ n: Int) -> Bool {
        guard m == n, ta != tb, a.strides[0] == b.strides[1], a.strides[1] == b.strides[0] else { return false }
        return a.dtype == .f64
            ? UnsafeRawPointer(a.pointer(Double.self)) == UnsafeRawPointer(b.pointer(Double.self))
            : UnsafeRawPointer(a.pointer(Float.self)) == UnsafeRawPointer(b.pointer(Float.self))
    }

    /// C = A·Aᵀ ([n, n] from A [n, k] as `ta` reads it) by syrk's upper triangle, copied to
    /// the lower one, as numpy does.
    private static func gram(_ a: Tensor, _ c: UnsafeMutableRawPointer, _ ta: CBLAS_TRANSPOSE, _ lda: Int, _ n: Int, _ k: Int) {
        withExtendedLifetime(a) {
            if a.dtype == .f64 {
                let o = c.assumingMemoryBound(to: Double.self)
                cblas_dsyrk(CblasRowMajor, CblasUpper, ta, Int32(n), Int32(k), 1, a.pointer(Double.self), Int32(lda), 0, o, Int32(n))
                for i in 0..<n { for j in (i + 1)..<Swift.max(i + 1, n) { o[j * n + i] = o[i * n + j] } }
            } else {
                let o = c.assumingMemoryBound(to: Float.self)
                cblas_ssyrk(CblasRowMajor, CblasUpper, ta, Int32(n), Int32(k), 1, a.pointer(Float.self), Int32(lda), 0, o, Int32(n))
                for i in 0..<n { for j in (i + 1)..<Swift.max(i + 1, n) { o[j * n + i] = o[i * n + j] } }
            }
        }
    }

    /// numpy's matmul special cases (numpy/_core/src/umath/matmul.c.src), so the bits are
    /// numpy's: one row times one column is BLAS's dot (added to 0.0, numpy's `sum += dot`);
    /// one row times a matrix, or a matrix times one column, is a gemv called as numpy calls
    /// it (Trans, column-major for a row-dense matrix, row-major for a column-dense one). As
    /// a gemm with a size-1 side, 199 of 200 random products differed from numpy's in the
    /// last bit. False (and nothing written) where numpy takes none of them: k of 0 or 1,
    /// both sides longer than 1, or strides BLAS cannot take.
    private static func vectorProduct(_ a: Tensor, _ b: Tensor, _ c: UnsafeMutableRawPointer, _ m: Int, _ n: Int, _ k: Int) -> Bool {
        guard k > 1, m == 1 || n == 1 else { return false }
        func inc(_ s: Int) -> Int32? { s > 0 && s <= Int(Int32.max) ? Int32(s) : nil }
        let f64 = a.dtype == .f64
        if m == 1 && n == 1 {
            guard let ia = inc(a.strides[1]), let ib = inc(b.strides[0]) else { return false }
            withExtendedLifetime((a, b)) {
                if f64 {
                    c.assumingMemoryBound(to: Double.self)[0] = 0 + cblas_ddot(Int32(k), a.pointer(Double.self), ia, b.pointer(Double.self), ib)
                } else {
                    c.assumingMemoryBound(to: Float.self)[0] = Float(0 + Double(cblas_sdot(Int32(k), a.pointer(Float.self), ia, b.pointer(Float.self), ib)))
                }
            }
            return true
        }
        // out[r] = Σ_j mat[r, j] · v[j]: the matrix is a (n == 1) or b's transpose (m == 1)
        let (mat, v, rows) = n == 1 ? (a, b, m) : (b, a, n)
        let (rowStride, colStride) = n == 1 ? (a.strides[0], a.strides[1]) : (b.strides[1], b.strides[0])
        guard let incv = inc(n == 1 ? b.strides[0] : a.strides[1]) else { return false }
        let order: CBLAS_ORDER, lda: Int
        if colStride == 1 && rowStride >= k { (order, lda) = (CblasColMajor, rowStride) }
        else if rowStride == 1 && colStride >= rows { (order, lda) = (CblasRowMajor, colStride) }
        else { return false }
        guard let ld = inc(lda) else { return false }
        withExtendedLifetime((mat, v)) {
            if f64 {
                cblas_dgemv(order, CblasTrans, Int32(k), Int32(rows), 1, mat.pointer(Double.self), ld,
                            v.pointer(Double.self), incv, 0, c.assumingMemoryBound(to: Double.self), 1)
            } else {
                cblas_sgemv(order, CblasTrans, Int32(k), Int32(rows), 1, mat.pointer(Float.self), ld,
                            v.pointer(Float.self), incv, 0, c.assumingMemoryBound(to: Float.self), 1)
            }
        }
        return true
    }

    /// How BLAS reads a 2-d view: as it is (rows dense), transposed (columns dense), or
    /// from a dense copy.
    private static func blasLayout(_ t: Tensor) -> (CBLAS_TRANSPOSE, Int, Tensor) {
        let rows = t.shape[0], cols = t.shape[1]
        if t.strides[1] == 1 && t.strides[0] >= Swift.max(1, cols) { return (CblasNoTrans, t.strides[0], t) }
        if t.strides[0] == 1 && t.strides[1] >= Swift.max(1, rows) { return (CblasTrans, t.strides[1], t) }
        let d = t.clone()
        return (CblasNoTrans, Swift.max(1, cols), d)
    }

    /// The plain loop for i64 and bool; Ctrl-C polled per row (false when it stopped).
    private static func naive<T: TensorElement>(_: T.Type, _ a: Tensor, _ b: Tensor, _ c: UnsafeMutableRawPointer,
                                                _ m: Int, _ n: Int, _ k: Int, zero: T, _ fma: (T, T, T) -> T) -> Bool {
        let x = a.contiguous(), y = b.contiguous()
        let p = x.pointer(T.self), q = y.pointer(T.self), o = c.assumingMemoryBound(to: T.self)
        return withExtendedLifetime((x, y)) {
            for i in 0..<m {
                if Interruption.isPending { return false }
                for j in 0..<n { o[i * n + j] = zero }
                for l in 0..<k {
                    let av = p[i * k + l]
                    for j in 0..<n { o[i * n + j] = fma(o[i * n + j], av, q[l * n + j]) }
                }
            }
            return true
        }
    }

    /// Raw pointer to byte `byteOffset` of a dense tensor's elements.
    func pointer(_: UInt8.Type, byteOffset: Int) -> UnsafeMutableRawPointer {
        storage.base + offset * dtype.size + byteOffset
    }
}
