import Foundation

/// Views: new shapes and strides over the same storage, never a copy (except `reshape`
/// of a layout no strides can express, which copies as numpy's does). Axes and positions
/// are 0-based here; the Lua glue turns 1-based and negative positions into these.
extension Tensor {
    /// A view with new geometry over the same storage (already validated by the caller).
    func view(offset: Int, shape: [Int], strides: [Int]) -> Tensor {
        Tensor(unchecked: storage, offset: offset, shape: shape, strides: strides, dtype: dtype,
               count: shape.reduce(1, *))
    }

    /// Throws unless `axis` is one of this tensor's axes (0-based).
    func checkAxis(_ axis: Int, _ what: String) throws {
        guard axis >= 0 && axis < ndim else {
            throw AlignMathError.invalidArgument("\(what): axis \(axis + 1) does not exist in a tensor of shape \(shape) (\(ndim) axes)")
        }
    }

    /// Element `i` (0-based) along `axis`, with that axis removed (`t[{..., i, ...}]`):
    /// a view, 0-d for a 1-d tensor.
    public func select(axis: Int, _ i: Int) throws -> Tensor {
        try checkAxis(axis, "select")
        guard i >= 0 && i < shape[axis] else {
            throw AlignMathError.invalidArgument("position \(i + 1) is out of range for axis \(axis + 1) of size \(shape[axis]) (shape \(shape))")
        }
        var sh = shape, st = strides
        sh.remove(at: axis)
        st.remove(at: axis)
        return view(offset: offset + i * strides[axis], shape: sh, strides: st)
    }

    /// `count` elements along `axis` from `start` (0-based), `step` apart (negative walks
    /// backwards): a view. `start` must be a valid position unless `count` is 0.
    public func narrow(axis: Int, start: Int, count n: Int, step: Int = 1) throws -> Tensor {
        try checkAxis(axis, "narrow")
        let d = shape[axis]
        guard step != 0, n >= 0 else { throw AlignMathError.invalidArgument("narrow: step must not be 0") }
        if n > 0 {
            let last = start + (n - 1) * step
            guard start >= 0, start < d, last >= 0, last < d else {
                throw AlignMathError.invalidArgument("range out of bounds for axis \(axis + 1) of size \(d) (shape \(shape))")
            }
        }
        var sh = shape, st = strides
        sh[axis] = n
        st[axis] = strides[axis] * step
        return view(offset: n > 0 ? offset + start * strides[axis] : offset, shape: sh, strides: st)
    }

    /// Row `i` (0-based) along the first axis, as a view (`t[i]` in Lua for an n-d tensor).
    public func row(_ i: Int) throws -> Tensor {
        guard ndim > 0 else { throw AlignMathError.invalidArgument("cannot index a 0-d tensor") }
        return try select(axis: 0, i)
    }

    /// Rows `i..<j` (0-based, half-open) along the first axis, as a view.
    public func slice(_ i: Int, _ j: Int) throws -> Tensor {
        guard let n = shape.first else { throw AlignMathError.invalidArgument("cannot slice a 0-d tensor") }
        guard 0 <= i, i <= j, j <= n else {
            throw AlignMathError.invalidArgument("slice \(i)..<\(j) out of range for axis of size \(n)")
        }
        return try narrow(axis: 0, start: i, count: j - i)
    }

    /// Axes `a` and `b` swapped (0-based): a view.
    public func transpose(_ a: Int, _ b: Int) throws -> Tensor {
        try checkAxis(a, "transpose")
        try checkAxis(b, "transpose")
        var sh = shape, st = strides
        sh.swapAt(a, b)
        st.swapAt(a, b)
        return view(offset: offset, shape: sh, strides: st)
    }

    /// The axes in the order `order` (a permutation of 0..<ndim): a view, as torch.permute.
    public func permute(_ order: [Int]) throws -> Tensor {
        guard order.count == ndim, Set(order) == Set(0..<ndim) else {
            throw AlignMathError.invalidArgument("permute: \(order.map { $0 + 1 }) is not a permutation of the \(ndim) axes 1..\(ndim)")
        }
        return view(offset: offset, shape: order.map { shape[$0] }, strides: order.map { strides[$0] })
    }

    /// A size-1 axis inserted before position `axis` (0...ndim): a view.
    public func unsqueeze(_ axis: Int) throws -> Tensor {
        guard axis >= 0 && axis <= ndim else {
            throw AlignMathError.invalidArgument("unsqueeze: axis \(axis + 1) is out of range for a tensor of \(ndim) axes (1..\(ndim + 1))")
        }
        guard ndim < Tensor.maxRank else { throw AlignMathError.invalidArgument("a tensor has at most \(Tensor.maxRank) axes") }
        var sh = shape, st = strides
        sh.insert(1, at: axis)
        st.insert(axis < ndim ? strides[axis] * shape[axis] : 1, at: axis)
        return view(offset: offset, shape: sh, strides: st)
    }

    /// Size-1 axes removed: all of them, or only `axis` (which must have size 1, as numpy).
    public func squeeze(_ axis: Int? = nil) throws -> Tensor {
        if let a = axis {
            try checkAxis(a, "squeeze")
            guard shape[a] == 1 else {
                throw AlignMathError.invalidArgument("squeeze: axis \(a + 1) has size \(shape[a]), not 1 (shape \(shape))")
            }
            var sh = shape, st = strides
            sh.remove(at: a)
            st.remove(at: a)
            return view(offset: offset, shape: sh, strides: st)
        }
        let keep = shape.indices.filter { shape[$0] != 1 }
        return view(offset: offset, shape: keep.map { shape[$0] }, strides: keep.map { strides[$0] })
    }

    /// This tensor broadcast to `target` (numpy's `broadcast_to`, torch's `expand`): size-1
    /// axes repeat with stride 0, new leading axes are added; -1 keeps an axis's size. A view:
    /// writing to it writes the shared elements.
    public func expand(_ target: [Int]) throws -> Tensor {
        guard target.count >= ndim else {
            throw AlignMathError.shapeMismatch("expand: cannot expand shape \(shape) to \(target) (fewer axes)")
        }
        let lead = target.count - ndim
        var sh = target, st = [Int](repeating: 0, count: target.count)
        for i in 0..<target.count {
            if i < lead {
                guard target[i] >= 0 else { throw AlignMathError.shapeMismatch("expand: -1 is not allowed for the new leading axis \(i + 1)") }
                continue
            }
            let d = shape[i - lead]
            if target[i] == -1 || target[i] == d {
                sh[i] = d
                st[i] = strides[i - lead]
            } else if d == 1 && target[i] >= 0 {
                st[i] = 0
            } else {
                throw AlignMathError.shapeMismatch("expand: cannot expand shape \(shape) to \(target) (axis \(i + 1): \(d) to \(target[i]); only size-1 axes repeat)")
            }
        }
        let n = try Tensor.checkedCount(sh)
        // A view of repeated elements costs nothing, but every copy of it (an operation's
        // input made dense) costs its full size: refuse one that no copy could ever hold.
        let (bytes, overflow) = n.multipliedReportingOverflow(by: dtype.size)
        guard !overflow, UInt64(bytes) <= ProcessInfo.processInfo.physicalMemory else {
            throw AlignMathError.invalidArgument("expand: shape \(target) would take \(bytes / (1 << 30)) GiB if copied, more than this machine's memory")
        }
        return view(offset: offset, shape: sh, strides: st)
    }

    /// The same elements in row-major order with another shape; one axis may be `-1`
    /// (inferred), as in `torch.reshape`. A view when the strides allow one (always for
    /// a contiguous tensor), else a copy, as numpy's `reshape`.
    public func reshape(_ newShape: [Int]) throws -> Tensor {
        var sh = newShape
        let holes = sh.indices.filter { sh[$0] == -1 }
        guard holes.count <= 1 else { throw AlignMathError.invalidArgument("reshape: at most one -1 in \(newShape)") }
        guard sh.allSatisfy({ $0 >= -1 }) else { throw AlignMathError.invalidArgument("reshape: negative size in \(newShape)") }
        if let h = holes.first {
            let known = try Tensor.checkedCount(sh.enumerated().filter { $0.offset != h }.map { $0.element })
            guard known > 0, count % known == 0 else {
                throw AlignMathError.shapeMismatch("cannot reshape \(shape) (\(count) elements) into \(newShape)")
            }
            sh[h] = count / known
        }
        let n = try Tensor.checkedCount(sh)
        guard n == count else { throw AlignMathError.shapeMismatch("cannot reshape \(shape) (\(count) elements) into \(newShape)") }
        if isContiguous || count == 0 { return view(offset: offset, shape: sh, strides: Tensor.rowMajorStrides(sh)) }
        if let st = Tensor.stridesWithoutCopy(from: shape, strides, to: sh) { return view(offset: offset, shape: sh, strides: st) }
        let dense = contiguous()
        return dense.view(offset: dense.offset, shape: sh, strides: Tensor.rowMajorStrides(sh))
    }

    /// All elements as one axis: a view when possible (as `torch.flatten`), else a copy.
    public func flatten() throws -> Tensor { try reshape([count]) }

    /// Axes `start...end` (0-based, inclusive) merged into one, as `torch.flatten(x,
    /// start_dim, end_dim)`: a view when the layout allows. A 0-d tensor gives shape [1].
    public func flatten(from start: Int, through end: Int) throws -> Tensor {
        if ndim == 0 { return try reshape([1]) }
        guard 0 <= start, start <= end, end < ndim else {
            throw AlignMathError.invalidArgument("flatten: axes \(start + 1)..\(end + 1) are not an increasing range of the \(ndim) axes of shape \(shape)")
        }
        let merged = shape[start...end].reduce(1, *)
        return try reshape(Array(shape[..<start]) + [merged] + Array(shape[(end + 1)...]))
    }

    /// Strides that give `newShape` over the elements of (`shape`, `strides`) in row-major
    /// order without moving them, or nil when none exist (numpy's
    /// `_attempt_nocopy_reshape`).
    static func stridesWithoutCopy(from shape: [Int], _ strides: [Int], to newShape: [Int]) -> [Int]? {
        let keep = shape.indices.filter { shape[$0] != 1 }
        let od = keep.map { shape[$0] }, os = keep.map { strides[$0] }
        var ns = [Int](repeating: 0, count: newShape.count)
        var oi = 0, oj = 1, ni = 0, nj = 1
        while ni < newShape.count && oi < od.count {
            var np = newShape[ni], op = od[oi]
            while np != op {
                if np < op {
                    guard nj < newShape.count else { return nil }
                    np *= newShape[nj]; nj += 1
                } else {
                    guard oj < od.count else { return nil }
                    op *= od[oj]; oj += 1
                }
            }
            for ok in oi..<(oj - 1) where os[ok] != od[ok + 1] * os[ok + 1] { return nil }
            ns[nj - 1] = os[oj - 1]
            var nk = nj - 1
            while nk > ni { ns[nk - 1] = ns[nk] * newShape[nk]; nk -= 1 }
            ni = nj; nj += 1
            oi = oj; oj += 1
        }
        let last = ni > 0 ? ns[ni - 1] : 1
        for nk in ni..<newShape.count { ns[nk] = last }
        return ns
    }
}
