/// Running sums and products along an axis (numpy's `cumsum`/`cumprod`), accumulated in the
/// result's dtype in order, as numpy does (so f32 results match numpy's bit for bit):
/// booleans and integers give i64 (wrapping), floats keep their dtype.
extension Tensor {
    /// Which running total.
    public enum Scan: String, Sendable { case sum = "cumsum", prod = "cumprod" }

    /// The running total along `axis` (0-based, negative from the last), or over the
    /// flattened tensor when `axis` is nil (numpy's default).
    public func scan(_ op: Scan, axis: Int?) throws -> Tensor {
        let dt: DType = dtype.isFloating ? dtype : .i64
        var x = converted(to: dt).contiguous()
        var outer = 1, n = count, inner = 1
        if let a = axis {
            let k = a < 0 ? a + ndim : a
            guard k >= 0 && k < ndim else {
                throw AlignMathError.invalidArgument("\(op.rawValue): axis \(a < 0 ? a : a + 1) is out of range for a tensor of shape \(shape)")
            }
            outer = shape[..<k].reduce(1, *)
            n = shape[k]
            inner = shape[(k + 1)...].reduce(1, *)
        } else {
            x = try x.reshape([count])
        }
        let out = Tensor.output(x.shape, dtype: dt, count: count)
        if count == 0 { return out }
        switch (dt, op) {
        case (.f64, .sum): Tensor.scan(Add<Double>.self, x, out, outer, n, inner)
        case (.f64, .prod): Tensor.scan(Mul<Double>.self, x, out, outer, n, inner)
        case (.f32, .sum): Tensor.scan(Add<Float>.self, x, out, outer, n, inner)
        case (.f32, .prod): Tensor.scan(Mul<Float>.self, x, out, outer, n, inner)
        case (_, .sum): Tensor.scan(IAdd.self, x, out, outer, n, inner)
        case (_, .prod): Tensor.scan(IMul.self, x, out, outer, n, inner)
        }
        return out
    }

    private static func scan<K: Kernel2>(_: K.Type, _ x: Tensor, _ out: Tensor, _ outer: Int, _ n: Int, _ inner: Int) where K.R == K.A {
        let src = UnsafePointer(x.pointer(K.A.self)), dst = out.pointer(K.A.self)
        withExtendedLifetime(x) {
            if inner == 1 {
                Parallel.forEach(outer, cost: n) { range in
                    for o in range {
                        let s = src + o * n, d = dst + o * n
                        var acc = s[0]
                        d[0] = acc
                        for i in 1..<Swift.max(n, 1) { acc = K.apply(acc, s[i]); d[i] = acc }
                    }
                }
                return
            }
            // Along a leading axis: each row adds the previous output row, all columns at once.
            let width = 1024, blocks = (inner + width - 1) / width
            Parallel.forEach(outer * blocks, cost: n * width) { range in
                for task in range {
                    let o = task / blocks, c0 = (task % blocks) * width, len = Swift.min(width, inner - c0)
                    let s = src + o * n * inner + c0, d = dst + o * n * inner + c0
                    for j in 0..<len { d[j] = s[j] }
                    for i in 1..<Swift.max(n, 1) {
                        let prev = d + (i - 1) * inner, cur = d + i * inner, row = s + i * inner
                        for j in 0..<len { cur[j] = K.apply(prev[j], row[j]) }
                    }
                }
            }
        }
    }
}
