/// Ordering along an axis: `sort` (values and positions), `argsort`, `topk`. Orders are
/// torch's: stable (equal elements keep their order, so ties go to the lower position),
/// -0.0 equal to 0.0, and NaN greater than everything (last ascending, first descending;
/// the first picks of `topk` with `largest`).
///
/// Rows are sorted by an LSD radix sort of order-preserving integer keys (11 bits a pass,
/// passes whose digit is the same everywhere skipped), which is stable by construction and
/// needs no comparison closure; short rows use insertion sort.
extension Tensor {
    /// Values and 0-based positions (i64) sorted along `axis` (0-based, negative from the last).
    public func sort(axis: Int = -1, descending: Bool = false) throws -> (values: Tensor, positions: Tensor) {
        let (values, positions) = try alongLastAxis(axis, "sort") { x in
            try x.sortRows(descending: descending, wantValues: true)
        }
        return (values.unsafelyUnwrapped, positions)
    }

    /// The 0-based positions (i64) that sort the tensor along `axis`.
    public func argsort(axis: Int = -1, descending: Bool = false) throws -> Tensor {
        try alongLastAxis(axis, "argsort") { x in try x.sortRows(descending: descending, wantValues: false) }.1
    }

    /// A sorted copy along the last axis (the values of `sort`).
    public func sort(descending: Bool = false) -> Tensor {
        (try? sort(axis: -1, descending: descending).values) ?? clone()
    }

    /// The `k` largest (`largest`) or smallest elements along `axis` and their 0-based
    /// positions, best first; ties go to the lower position; NaN counts as the largest.
    public func topk(_ k: Int, axis: Int = -1, largest: Bool = true) throws -> (values: Tensor, positions: Tensor) {
        guard ndim > 0 else { throw AlignMathError.invalidArgument("topk: a 0-d tensor has no axis") }
        let a = axis < 0 ? axis + ndim : axis
        guard a >= 0 && a < ndim else { throw AlignMathError.invalidArgument("topk: axis \(axis < 0 ? axis : axis + 1) does not exist in a tensor of shape \(shape)") }
        guard k >= 0 && k <= shape[a] else {
            throw AlignMathError.invalidArgument("topk: k = \(k) is out of range for an axis of size \(shape[a]) (shape \(shape))")
        }
        let (values, positions) = try alongLastAxis(axis, "topk") { x in try x.topkRows(k, largest: largest) }
        return (values.unsafelyUnwrapped, positions)
    }

    /// Runs `body` on this tensor with `axis` moved last and made dense, and moves the
    /// axis of its results back.
    private func alongLastAxis(_ axis: Int, _ what: String, _ body: (Tensor) throws -> (Tensor?, Tensor)) throws -> (Tensor?, Tensor) {
        if ndim == 0 {
            let (v, p) = try body(try reshape([1]))
            return (try v?.reshape([]), try p.reshape([]))
        }
        let a = axis < 0 ? axis + ndim : axis
        guard a >= 0 && a < ndim else { throw AlignMathError.invalidArgument("\(what): axis \(axis < 0 ? axis : axis + 1) does not exist in a tensor of shape \(shape)") }
        if a == ndim - 1 { return try body(contiguous()) }
        let moved = try transpose(a, ndim - 1).contiguous()
        let (v, p) = try body(moved)
        return (try v?.transpose(a, ndim - 1).contiguous(), try p.transpose(a, ndim - 1).contiguous())
    }

    // MARK: sort

    /// Sorts every row of a dense tensor along its last axis.
    private func sortRows(descending: Bool, wantValues: Bool) throws -> (Tensor?, Tensor) {
        let n = rowLength, rows = count == 0 ? 0 : count / Swift.max(n, 1)
        let positions = try Tensor.empty(shape, dtype: .i64)
        let values = wantValues ? try Tensor.empty(shape, dtype: dtype) : nil
        if count == 0 { return (values, positions) }
        guard n < Int(UInt32.max) else { throw AlignMathError.invalidArgument("sort: rows longer than 2^32 elements are not supported") }
        switch dtype {
        case .f64: sortRows(Double.self, UInt64.self, rows, n, descending, values, positions)
        case .f32: sortRows(Float.self, UInt32.self, rows, n, descending, values, positions)
        case .i64: sortRows(Int64.self, UInt64.self, rows, n, descending, values, positions)
        case .bool: sortRows(Bool.self, UInt32.self, rows, n, descending, values, positions)
        }
        return (values, positions)
    }

    private func sortRows<T: SortKeyed, K: FixedWidthInteger & UnsignedInteger>(
        _: T.Type, _: K.Type, _ rows: Int, _ n: Int, _ descending: Bool, _ values: Tensor?, _ positions: Tensor
    ) where T.Key == K {
        let src = UnsafePointer(pointer(T.self))
        let pos = positions.pointer(Int64.self)
        let vals = values?.pointer(T.self)
        let perRowBytes = n * 2 * (MemoryLayout<K>.size + 4)
        if rows < ParallelFor.workers && n >= RadixSort.splitAbove && ParallelFor.workers > 1 {
            // Fewer rows than cores: each long row is split over the cores instead.
            for r in 0..<rows {
                sortLongRow(src + r * n, n, descending, pos + r * n, vals.map { $0 + r * n })
            }
            return
        }
        // One scratch block per task: keys and positions, twice (the radix ping-pong).
        Parallel.forEach(rows, cost: n * 8) { range in
            let scratch = TensorStorage(uninitializedBytes: Swift.max(perRowBytes, 64))
            let k0 = scratch.base.assumingMemoryBound(to: K.self), k1 = k0 + n
            let i0 = UnsafeMutableRawPointer(k1 + n).assumingMemoryBound(to: UInt32.self), i1 = i0 + n
            for r in range {
                let row = src + r * n
                for j in 0..<n { k0[j] = row[j].sortKey(descending: descending); i0[j] = UInt32(j) }
                let inFirst = RadixSort.sort(keys: k0, k1, positions: i0, i1, count: n)
                let order = UnsafePointer(inFirst ? i0 : i1)
                let p = pos + r * n
                for j in 0..<n { p[j] = Int64(order[j]) }
                if let v = vals { let d = v + r * n; for j in 0..<n { d[j] = row[Int(order[j])] } }
            }
            withExtendedLifetime(scratch) {}
        }
    }

    /// One long row on every core (numpy's `np.sort` of 1e7 doubles ran 3.4x faster than one
    /// core's LSD pass over it): the keys are split by their top 11 bits (a stable MSD pass:
    /// each piece of the row counts its digits, then writes its elements after the earlier
    /// pieces' in each bucket), then each bucket is sorted on its own, buckets spread over the
    /// cores, by the LSD sort (its pass over the top digit, the same for all, is skipped).
    private func sortLongRow<T: SortKeyed, K: FixedWidthInteger & UnsignedInteger>(
        _ row: UnsafePointer<T>, _ n: Int, _ descending: Bool,
        _ pos: UnsafeMutablePointer<Int64>, _ vals: UnsafeMutablePointer<T>?
    ) where T.Key == K {
        let scratch = TensorStorage(uninitializedBytes: n * 2 * (MemoryLayout<K>.size + 4))
        defer { withExtendedLifetime(scratch) {} }
        let k0 = scratch.base.assumingMemoryBound(to: K.self), k1 = k0 + n
        let i0 = UnsafeMutableRawPointer(k1 + n).assumingMemoryBound(to: UInt32.self), i1 = i0 + n
        let pieces = Parallel.ranges(n, cost: 8)
        let buckets = RadixSort.buckets, shift = K.bitWidth - RadixSort.bits
        // counts[p * buckets + b]: piece p's keys with top digit b; then, in place, where
        // piece p writes its first such key
        var counts = [Int](repeating: 0, count: pieces.count * buckets)
        counts.withUnsafeMutableBufferPointer { cb in
            let c = UncheckedSendable(cb.baseAddress.unsafelyUnwrapped)
            let (ks, is_, kd, id) = (UncheckedSendable(k0), UncheckedSendable(i0), UncheckedSendable(k1), UncheckedSendable(i1))
            let src = UncheckedSendable(row)
            Parallel.each(pieces.count) { p in
                let h = c.value + p * buckets
                for j in pieces[p] {
                    let key = src.value[j].sortKey(descending: descending)
                    ks.value[j] = key; is_.value[j] = UInt32(j)
                    h[Int(truncatingIfNeeded: key >> shift)] += 1
                }
            }
            var at = 0
            for b in 0..<buckets {
                for p in 0..<pieces.count { let v = c.value[p * buckets + b]; c.value[p * buckets + b] = at; at += v }
            }
            var starts = [Int](), ends = [Int]()
            for b in 0..<buckets {
                let a = c.value[b], e = b + 1 < buckets ? c.value[b + 1] : n
                if e > a { starts.append(a); ends.append(e) }
            }
            Parallel.each(pieces.count) { p in
                let h = c.value + p * buckets
                for j in pieces[p] {
                    let key = ks.value[j], d = Int(truncatingIfNeeded: key >> shift)
                    let to = h[d]; h[d] = to + 1
                    kd.value[to] = key; id.value[to] = is_.value[j]
                }
            }
            // The buckets, in contiguous groups of about equal size, one group per task.
            var groupList: [Range<Int>] = [], first = 0, size = 0
            let target = Swift.max(1, n / (ParallelFor.workers * 4))
            for b in starts.indices {
                size += ends[b] - starts[b]
                if size >= target || b == starts.count - 1 { groupList.append(first..<(b + 1)); first = b + 1; size = 0 }
            }
            let (groups, bucketStarts, bucketEnds) = (groupList, starts, ends)
            Parallel.each(groups.count) { g in
                for b in groups[g] {
                    let a = bucketStarts[b], m = bucketEnds[b] - a
                    let inFirst = RadixSort.sort(keys: kd.value + a, ks.value + a, positions: id.value + a, is_.value + a, count: m)
                    if !inFirst { (id.value + a).update(from: is_.value + a, count: m) }
                }
            }
            let (o, v) = (UncheckedSendable(pos), UncheckedSendable(vals))
            Parallel.each(pieces.count) { p in
                for j in pieces[p] {
                    let at = Int(id.value[j])
                    o.value[j] = Int64(at)
                    if let d = v.value { d[j] = src.value[at] }
                }
            }
        }
    }

    // MARK: topk

    private func topkRows(_ k: Int, largest: Bool) throws -> (Tensor?, Tensor) {
        let n = rowLength, rows = count == 0 ? 0 : count / Swift.max(n, 1)
        var outShape = shape
        outShape[ndim - 1] = k
        let positions = try Tensor.empty(outShape, dtype: .i64)
        let values = try Tensor.empty(outShape, dtype: dtype)
        if k == 0 || rows == 0 { return (values, positions) }
        switch dtype {
        case .f64: TopK.rows(Double.self, pointer(Double.self), rows, n, k, largest, values.pointer(Double.self), positions.pointer(Int64.self))
        case .f32: TopK.rows(Float.self, pointer(Float.self), rows, n, k, largest, values.pointer(Float.self), positions.pointer(Int64.self))
        case .i64: TopK.rows(Int64.self, pointer(Int64.self), rows, n, k, largest, values.pointer(Int64.self), positions.pointer(Int64.self))
        case .bool: TopK.rows(Bool.self, pointer(Bool.self), rows, n, k, largest, values.pointer(Bool.self), positions.pointer(Int64.self))
        }
        return (values, positions)
    }
}

/// Elements with an unsigned key whose order is torch's order of the values: -0.0 and 0.0
/// get one key, every NaN the largest.
protocol SortKeyed: TensorElement {
    associatedtype Key: FixedWidthInteger & UnsignedInteger
    var sortKey: Key { get }
}

extension SortKeyed {
    /// The key in the order asked for: descending is the complement (NaN, the largest
    /// key, comes first; ties keep their order in a stable sort either way).
    @inline(__always) func sortKey(descending: Bool) -> Key { descending ? ~sortKey : sortKey }
}

extension Double: SortKeyed {
    @inline(__always) var sortKey: UInt64 {
        if isNaN { return .max }
        let b = (self == 0 ? 0.0 : self).bitPattern
        return b & (1 << 63) != 0 ? ~b : b | (1 << 63)
    }
}

extension Float: SortKeyed {
    @inline(__always) var sortKey: UInt32 {
        if isNaN { return .max }
        let b = (self == 0 ? Float(0) : self).bitPattern
        return b & (1 << 31) != 0 ? ~b : b | (1 << 31)
    }
}

extension Int64: SortKeyed {
    @inline(__always) var sortKey: UInt64 { UInt64(bitPattern: self) ^ (1 << 63) }
}

extension Bool: SortKeyed {
    @inline(__always) var sortKey: UInt32 { self ? 1 : 0 }
}

/// A stable LSD radix sort of (key, position) pairs, 11 bits a pass.
enum RadixSort {
    static let bits = 11, buckets = 1 << 11
    /// Rows at least this long are split over the cores when there are fewer rows than cores.
    static let splitAbove = 1 << 16

    /// Sorts `count` keys in `k0` carrying `i0` along, using `k1`/`i1` as the other half of
    /// the ping-pong. Returns true when the result ended in `k0`/`i0`, false for `k1`/`i1`.
    static func sort<K: FixedWidthInteger & UnsignedInteger>(keys k0: UnsafeMutablePointer<K>, _ k1: UnsafeMutablePointer<K>,
                                                              positions i0: UnsafeMutablePointer<UInt32>, _ i1: UnsafeMutablePointer<UInt32>,
                                                              count n: Int) -> Bool {
        if n <= 48 {
            insertion(k0, i0, n)
            return true
        }
        let passes = (K.bitWidth + bits - 1) / bits
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: passes * buckets) { hb in
            let hist = hb.baseAddress.unsafelyUnwrapped
            hist.initialize(repeating: 0, count: passes * buckets)
            for j in 0..<n {
                let key = k0[j]
                for p in 0..<passes { hist[p * buckets + Int(truncatingIfNeeded: (key >> (p * bits)) & K(buckets - 1))] += 1 }
            }
            var (ks, is_, kd, id) = (k0, i0, k1, i1)
            var inFirst = true
            for p in 0..<passes {
                let h = hist + p * buckets
                let first = Int(truncatingIfNeeded: (ks[0] >> (p * bits)) & K(buckets - 1))
                if h[first] == n { continue }  // every key has this digit: nothing moves
                var sum = 0
                for b in 0..<buckets { let c = h[b]; h[b] = sum; sum += c }
                let shift = p * bits
                for j in 0..<n {
                    let key = ks[j]
                    let d = Int(truncatingIfNeeded: (key >> shift) & K(buckets - 1))
                    let at = h[d]
                    h[d] = at + 1
                    kd[at] = key
                    id[at] = is_[j]
                }
                swap(&ks, &kd)
                swap(&is_, &id)
                inFirst.toggle()
            }
            return inFirst
        }
    }

    /// Stable insertion sort of a short run.
    static func insertion<K: FixedWidthInteger>(_ k: UnsafeMutablePointer<K>, _ i: UnsafeMutablePointer<UInt32>, _ n: Int) {
        if n < 2 { return }
        for j in 1..<n {
            let key = k[j], idx = i[j]
            var m = j
            while m > 0 && k[m - 1] > key {
                k[m] = k[m - 1]
                i[m] = i[m - 1]
                m -= 1
            }
            k[m] = key
            i[m] = idx
        }
    }
}
