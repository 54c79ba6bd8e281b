/// Indexing that copies: positions along an axis (`index`, torch's `index_select`),
/// `gather`, and bool masks (numpy's `x[mask]` and `x[mask] = v`). Positions are 0-based
/// here; the Lua glue turns 1-based and negative ones into these.
extension Tensor {
    /// The slices at `positions` along `axis`, in that order (repeats allowed): a copy whose
    /// `axis` has `positions.count` entries.
    public func index(axis: Int, _ positions: [Int]) throws -> Tensor {
        try checkAxis(axis, "index")
        let n = shape[axis]
        for (k, p) in positions.enumerated() where p < 0 || p >= n {
            throw AlignMathError.invalidArgument("index: position \(p + 1) (entry \(k + 1)) is out of range for axis \(axis + 1) of size \(n) (shape \(shape))")
        }
        var outShape = shape
        outShape[axis] = positions.count
        let out = try Tensor.empty(outShape, dtype: dtype)
        if out.count == 0 { return out }
        let x = contiguous()
        let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *)
        let m = positions.count, size = dtype.size
        let src = x.storage.base + x.offset * size, dst = out.storage.base
        withExtendedLifetime(x) {
            positions.withUnsafeBufferPointer { pos in
                Parallel.forEach(outer * m, cost: inner) { range in
                    for k in range {
                        let o = k / m, j = k % m
                        (dst + (o * m + j) * inner * size).copyMemory(from: src + (o * n + pos[j]) * inner * size, byteCount: inner * size)
                    }
                }
            }
        }
        return out
    }

    /// torch's `gather`: `out[i][j][k] = t[i][index[i][j][k]][k]` for `axis` 1, and so on;
    /// `index` is an i64 tensor of 0-based positions with this tensor's number of axes and no
    /// axis longer than this tensor's (except along `axis`). The result has `index`'s shape.
    public func gather(axis: Int, _ index: Tensor) throws -> Tensor {
        try checkAxis(axis, "gather")
        guard index.ndim == ndim else {
            throw AlignMathError.shapeMismatch("gather: positions have \(index.ndim) axes, the tensor has \(ndim) (shape \(shape)); they must have as many")
        }
        for d in 0..<ndim where d != axis && index.shape[d] > shape[d] {
            throw AlignMathError.shapeMismatch("gather: positions of shape \(index.shape) do not fit a tensor of shape \(shape) (axis \(d + 1))")
        }
        let ids = index.dense(.i64)
        let n = shape[axis]
        let bad = ids.withRaw(Int64.self) { p in (0..<ids.count).first { p[$0] < 0 || p[$0] >= n } }
        if let b = bad {
            throw AlignMathError.invalidArgument("gather: position \(ids.int64(flat: b) + 1) is out of range for axis \(axis + 1) of size \(n) (shape \(shape))")
        }
        let out = try Tensor.empty(index.shape, dtype: dtype)
        if out.count == 0 { return out }
        // Walk the index's shape: out and ids densely, the source with its strides except
        // along `axis`, where the position read from `ids` decides.
        var srcStrides = strides
        srcStrides[axis] = 0
        let runs = StridedRuns(shape: index.shape, strides: [out.strides, ids.strides, srcStrides])
        let step = strides[axis]
        let so = runs.innerStride(0), si = runs.innerStride(1), ss = runs.innerStride(2)
        let size = dtype.size
        let src = storage.base + offset * size, dst = out.storage.base
        let ip = UnsafePointer(ids.pointer(Int64.self))
        withExtendedLifetime(ids) {
            runs.forEachRun(0..<runs.runCount) { starts, len in
                for j in 0..<len {
                    let at = starts[2] + j * ss + Int(ip[starts[1] + j * si]) * step
                    (dst + (starts[0] + j * so) * size).copyMemory(from: src + at * size, byteCount: size)
                }
            }
        }
        return out
    }

    /// numpy's `x[mask]`: the elements (or, for a mask over the first axes, the sub-arrays)
    /// where the bool `mask` is true, in row-major order. `mask` has this tensor's shape or
    /// the shape of its first axes; the result has one axis for the selected entries plus
    /// the axes the mask did not cover.
    public func masked(_ mask: Tensor) throws -> Tensor {
        let (m, inner) = try maskGeometry(mask, "select")
        let mp = UnsafePointer(m.pointer(Bool.self))
        // Count per piece of the mask (in parallel): each piece then knows where its output starts.
        let pieces = Parallel.ranges(m.count, cost: inner)
        let counts = withExtendedLifetime(m) {
            Parallel.map(pieces.count, cost: m.count / Swift.max(pieces.count, 1)) { pr in
                pr.map { Tensor.trueCount(mp + pieces[$0].lowerBound, pieces[$0].count) }
            }.flatMap { $0 }
        }
        var starts: [Int] = []
        var selected = 0
        for c in counts { starts.append(selected); selected += c }
        let out = try Tensor.empty([selected] + Array(shape[m.ndim...]), dtype: dtype)
        if out.count == 0 { return out }
        let x = contiguous()
        let size = dtype.size, chunkBytes = inner * size
        let src = x.storage.base + x.offset * size, dst = out.storage.base
        withExtendedLifetime((x, m)) {
            Parallel.forEach(pieces.count, cost: m.count * inner / Swift.max(pieces.count, 1)) { pr in
                for p in pr {
                    var at = starts[p]
                    let r = pieces[p]
                    if size == 4 && inner == 1 {
                        let s = src.assumingMemoryBound(to: UInt32.self), d = dst.assumingMemoryBound(to: UInt32.self)
                        for i in r where mp[i] { d[at] = s[i]; at += 1 }
                    } else if size == 8 && inner == 1 {
                        let s = src.assumingMemoryBound(to: UInt64.self), d = dst.assumingMemoryBound(to: UInt64.self)
                        for i in r where mp[i] { d[at] = s[i]; at += 1 }
                    } else {
                        for i in r where mp[i] {
                            (dst + at * chunkBytes).copyMemory(from: src + i * chunkBytes, byteCount: chunkBytes)
                            at += 1
                        }
                    }
                }
            }
        }
        return out
    }

    /// numpy's `x[mask] = value`: writes `value` (broadcast to the selected entries' shape,
    /// `[trues] + remaining axes`; a 0-d tensor fills) into the entries where `mask` is true,
    /// through views into their base.
    public func setMasked(_ mask: Tensor, _ value: Tensor) throws {
        let (m, inner) = try maskGeometry(mask, "assign")
        let selected = Tensor.trueCount(m)
        let target = [selected] + Array(shape[m.ndim...])
        var v = value
        if v.shape != target {
            do { v = try v.expandForWrite(target) } catch {
                throw AlignMathError.shapeMismatch("cannot write a value of shape \(value.shape) into the \(selected) selected entries (shape \(target))")
            }
        }
        v = v.storage === storage ? v.converted(to: dtype).clone() : v.dense(dtype)
        makeWritable()
        let mp = UnsafePointer(m.pointer(Bool.self))
        let size = dtype.size
        try withExtendedLifetime((m, v)) {
            var at = 0
            if inner == 1 {
                let src = v.storage.base + v.offset * size, dst = storage.base
                for i in 0..<m.count where mp[i] {
                    (dst + storageIndex(flat: i) * size).copyMemory(from: src + at * size, byteCount: size)
                    at += 1
                }
                return
            }
            var idx = [Int](repeating: 0, count: m.ndim)
            for i in 0..<m.count where mp[i] {
                var rest = i
                for axis in stride(from: m.ndim - 1, through: 0, by: -1) { idx[axis] = rest % m.shape[axis]; rest /= m.shape[axis] }
                var view = self
                for axis in 0..<m.ndim { view = try view.select(axis: 0, idx[axis]) }
                try view.assign(try v.select(axis: 0, at))
                at += 1
            }
        }
    }

    /// The dense bool mask and the number of elements each of its entries covers.
    private func maskGeometry(_ mask: Tensor, _ what: String) throws -> (Tensor, Int) {
        guard mask.dtype == .bool else {
            throw AlignMathError.invalidArgument("mask \(what): the mask must be a bool tensor (from a comparison such as t:gt(0)), got \(mask.dtype)")
        }
        guard mask.ndim <= ndim, Array(shape.prefix(mask.ndim)) == mask.shape else {
            throw AlignMathError.shapeMismatch("mask \(what): a mask of shape \(mask.shape) does not fit a tensor of shape \(shape) (it must have the tensor's shape, or that of its first axes)")
        }
        return (mask.contiguous(), shape[mask.ndim...].reduce(1, *))
    }

    /// Number of true elements of a dense bool tensor.
    static func trueCount(_ m: Tensor) -> Int {
        let p = UnsafePointer(m.pointer(Bool.self))
        return withExtendedLifetime(m) {
            Parallel.map(m.count) { r in trueCount(p + r.lowerBound, r.count) }.reduce(0, +)
        }
    }

    /// Number of true bytes in `n` bools at `p` (bytes are 0 or 1: summed 32 lanes at a time).
    static func trueCount(_ p: UnsafePointer<Bool>, _ n: Int) -> Int {
        let raw = UnsafeRawPointer(p)
        var total = 0, i = 0
        while i + 32 <= n {
            var acc = SIMD32<UInt8>()
            let end = Swift.min(n, i + 32 * 255)  // a lane holds at most 255
            while i + 32 <= end {
                acc &+= raw.loadUnaligned(fromByteOffset: i, as: SIMD32<UInt8>.self)
                i += 32
            }
            let wide = SIMD32<UInt16>(truncatingIfNeeded: acc)
            total += Int(wide.wrappedSum())
        }
        while i < n { if p[i] { total += 1 }; i += 1 }
        return total
    }
}
