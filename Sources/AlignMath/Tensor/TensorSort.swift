import AlignMathC

/// Ordering along an axis: `sort` (values and positions), `argsort`, `topk`. Orders are
/// torch's: stable (equal elements keep their order, so ties go to the lower position),
/// -0.0 equal to 0.0, and NaN greater than everything (last ascending, first descending;
/// the first picks of `topk` with `largest`).
///
/// Rows of f64, f32 and i64 go to the C sorts of `alignmath_sort.h` on order-preserving
/// integer keys (no comparison closure): a long row (65,536 elements and more) on every
/// core; shorter rows spread over the cores: where the CPU has AVX-512, as unique words of
/// key and position sorted by register networks and a quicksort of compressed partitions
/// (sortsimd.c), elsewhere by rank up to 128 elements (stable by construction) and by value
/// buckets above. Bool rows and f32 rows of 768 to 65,535 (without AVX-512) take the LSD
/// radix sort below (11 bits a pass, passes whose digit is the same everywhere
/// skipped), rows of 48 or fewer of those insertion sort.
extension Tensor {
    /// Values and positions (i64, counted from `positionBase`: 0, or 1 for Lua) sorted along
    /// `axis` (0-based, negative from the last).
    public func sort(axis: Int = -1, descending: Bool = false, positionBase: Int64 = 0) throws -> (values: Tensor, positions: Tensor) {
        let (values, positions) = try alongLastAxis(axis, "sort") { x in
            try x.sortRows(descending: descending, wantValues: true, base: positionBase)
        }
        return (values.unsafelyUnwrapped, positions)
    }

    /// The positions (i64, counted from `positionBase`) that sort the tensor along `axis`.
    public func argsort(axis: Int = -1, descending: Bool = false, positionBase: Int64 = 0) throws -> Tensor {
        try alongLastAxis(axis, "argsort") { x in try x.sortRows(descending: descending, wantValues: false, base: positionBase) }.1
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
    private func sortRows(descending: Bool, wantValues: Bool, base: Int64) throws -> (Tensor?, Tensor) {
        let n = rowLength, rows = count == 0 ? 0 : count / Swift.max(n, 1)
        let positions = try Tensor.empty(shape, dtype: .i64)
        let values = wantValues ? try Tensor.empty(shape, dtype: dtype) : nil
        if count == 0 { return (values, positions) }
        guard n < Int(UInt32.max) else { throw AlignMathError.invalidArgument("sort: rows longer than 2^32 elements are not supported") }
        switch dtype {
        case .f64: sortRows(Double.self, UInt64.self, rows, n, descending, base, values, positions)
        case .f32: sortRows(Float.self, UInt32.self, rows, n, descending, base, values, positions)
        case .i64: sortRows(Int64.self, UInt64.self, rows, n, descending, base, values, positions)
        case .bool: sortRows(Bool.self, UInt32.self, rows, n, descending, base, values, positions)
        }
        return (values, positions)
    }

    private func sortRows<T: SortKeyed, K: FixedWidthInteger & UnsignedInteger>(
        _: T.Type, _: K.Type, _ rows: Int, _ n: Int, _ descending: Bool, _ base: Int64, _ values: Tensor?, _ positions: Tensor
    ) where T.Key == K {
        let src = UnsafePointer(pointer(T.self))
        let pos = positions.pointer(Int64.self)
        let vals = values?.pointer(T.self)
        let perRowBytes = n * 2 * (MemoryLayout<K>.size + 4)
        // f32 rows of 768 to 65,535 keep the LSD below (three 11-bit passes over 32-bit keys:
        // 0.7-0.8x the CPU of the value buckets on rows of 1,000 to 32,000, 1.1x on rows of
        // 500; 12-06), but not where the CPU has AVX-512 (`am_sort_simd_active`: sortsimd.c's
        // words beat it there).
        if let kind = T.longSortKind,
           T.self != Float.self || n < 768 || n >= RadixSort.splitAbove || am_sort_simd_active() != 0 {
            let down: Int32 = descending ? 1 : 0
            if n >= RadixSort.splitAbove {
                // A long row is sorted on all the cores, one row after the other.
                for r in 0..<rows {
                    Tensor.sortLongRow(kind, UnsafeRawPointer(src + r * n), n, descending, pos + r * n,
                                       vals.map { UnsafeMutableRawPointer($0 + r * n) }, base)
                }
                return
            }
            // Shorter rows (alignmath_sort.h, `am_sort_rows`): by rank up to 128 elements,
            // by value buckets above; the rows spread over the cores, one scratch per task.
            let scratchBytes = am_sort_rows_scratch(n)
            let (s, o, v) = (UncheckedSendable(UnsafeRawPointer(src)), UncheckedSendable(pos),
                             UncheckedSendable(vals.map { UnsafeMutableRawPointer($0) }))
            Parallel.forEach(rows, cost: n * 8) { range in
                let scratch = TensorStorage(uninitializedBytes: scratchBytes)
                am_sort_rows(s.value, kind, down, n, range.lowerBound, range.upperBound, scratch.base, o.value, v.value, base)
                withExtendedLifetime(scratch) {}
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
                for j in 0..<n { p[j] = Int64(order[j]) + base }
                if let v = vals { let d = v + r * n; for j in 0..<n { d[j] = row[Int(order[j])] } }
            }
            withExtendedLifetime(scratch) {}
        }
    }

    /// One long row on every core, by the phases of `alignmath_sort.h`: the keys' extremes
    /// and a histogram of a window of their top bits per piece of the row, a plan that merges
    /// neighbouring digits into buckets of about 16k keys, a stable scatter into the buckets
    /// per piece (each piece writes after the earlier pieces in every bucket), then the
    /// buckets sorted in cache and written out, spread over the cores. numpy's values-only
    /// `np.sort` of 1e7 doubles is the peer (BENCHMARKS.md, "A long sort").
    static func sortLongRow(_ kind: Int32, _ row: UnsafeRawPointer, _ n: Int, _ descending: Bool,
                            _ pos: UnsafeMutablePointer<Int64>, _ vals: UnsafeMutableRawPointer?, _ base: Int64) {
        let pieces = Swift.max(1, Swift.min(ParallelFor.workers, 8))
        let cuts = (0...pieces).map { n * $0 / pieces }
        let down: Int32 = descending ? 1 : 0
        var extremes = [UInt64](repeating: 0, count: 2 * pieces)
        // A window guessed from a sample of the keys (alignmath_sort.h), so that one pass
        // finds the extremes and the histogram; checked against the extremes below.
        var guessShift: Int32 = 0
        let guess = am_sort_window_guess(row, kind, n, down, &guessShift)
        var guessHists: TensorStorage? = nil
        if guess > 0 {
            let hs = TensorStorage(zeroedBytes: pieces * (1 << Int(guess)) * 4)
            let (h, gd) = (UncheckedSendable(hs.base.assumingMemoryBound(to: UInt32.self)), 1 << Int(guess))
            extremes.withUnsafeMutableBufferPointer { e in
                let out = UncheckedSendable(e.baseAddress.unsafelyUnwrapped)
                Parallel.each(pieces) { p in
                    am_sort_minmax_hist(row, kind, cuts[p], cuts[p + 1], down, guessShift, guess,
                                        out.value + 2 * p, out.value + 2 * p + 1, h.value + p * gd)
                }
            }
            guessHists = hs
        } else {
            extremes.withUnsafeMutableBufferPointer { e in
                let out = UncheckedSendable(e.baseAddress.unsafelyUnwrapped)
                Parallel.each(pieces) { p in
                    am_sort_minmax(row, kind, cuts[p], cuts[p + 1], down, out.value + 2 * p, out.value + 2 * p + 1)
                }
            }
        }
        var lowest = UInt64.max, highest = UInt64(0)
        for p in 0..<pieces { lowest = Swift.min(lowest, extremes[2 * p]); highest = Swift.max(highest, extremes[2 * p + 1]) }
        var shift: Int32 = 0
        var window = am_sort_window(n, lowest, highest, &shift)
        // Keys that straddle a power of two closely (small integers of both signs lie on both
        // sides of 2^63) differ in more top bits than their spread: they are sorted less the
        // smallest key, so the window falls on the bits where they spread.
        var offset: UInt64 = 0
        let spread = highest &- lowest
        if spread.leadingZeroBitCount > (lowest ^ highest).leadingZeroBitCount {
            offset = lowest
            window = am_sort_window(n, 0, spread, &shift)
        }
        if guessHists != nil {
            // the guessed window's histogram holds where the extremes agree above it (its
            // digits are then in the keys' order), unless the keys go less their smallest
            if offset == 0 && 64 - (lowest ^ highest).leadingZeroBitCount <= Int(guessShift + guess) {
                window = guess
                shift = guessShift
            } else {
                guessHists = nil
            }
        }
        let digits = 1 << Int(window)
        defer { withExtendedLifetime(guessHists) {} }
        // The keys go to their buckets in the output positions' memory (each bucket reads
        // its keys before it writes its positions there), so a fresh sort maps 4 bytes of
        // scratch a key, not 12 (fresh pages cost ~1 ms a MB here). One block: the positions
        // in their buckets, then the histograms, the digit -> bucket table, the buckets'
        // starts and the pieces' cursors.
        let positionBytes = (n * 4 + 7) & ~7  // the Int tables after it stay 8-byte aligned
        let histBytes = pieces * digits * 4, lutBytes = digits * 4
        let startBytes = (digits + 1) * 8, nextBytes = pieces * digits * 8
        let total = positionBytes + histBytes + lutBytes + startBytes + nextBytes
        let scratch = TensorStorage(uninitializedBytes: total)
        defer { withExtendedLifetime(scratch) {} }
        var at = scratch.base
        func carve<P>(_ bytes: Int, _: P.Type) -> UnsafeMutablePointer<P> {
            let p = at.assumingMemoryBound(to: P.self)
            at += bytes
            return p
        }
        let keys = UnsafeMutableRawPointer(pos).assumingMemoryBound(to: UInt64.self)
        let positions = carve(positionBytes, UInt32.self)
        let carved = carve(histBytes, UInt32.self), lut = carve(lutBytes, UInt32.self)
        let starts = carve(startBytes, Int.self), next = carve(nextBytes, Int.self)
        let hists = guessHists.map { $0.base.assumingMemoryBound(to: UInt32.self) } ?? carved
        let (k, ps, h, l, nx) = (UncheckedSendable(keys), UncheckedSendable(positions), UncheckedSendable(hists),
                                 UncheckedSendable(lut), UncheckedSendable(next))
        if guessHists == nil {
            hists.initialize(repeating: 0, count: pieces * digits)
            Parallel.each(pieces) { p in
                am_sort_hist(row, kind, cuts[p], cuts[p + 1], down, offset, shift, window, h.value + p * digits)
            }
        }
        let buckets = am_sort_plan(hists, Int32(pieces), n, shift, window, lut, starts, next)
        Parallel.each(pieces) { p in
            am_sort_scatter(row, kind, cuts[p], cuts[p + 1], down, offset, shift, window, l.value, nx.value + p * digits,
                            k.value, ps.value)
        }
        // The buckets in contiguous groups of about equal size, a few per core; each group
        // sorts its buckets one by one in one scratch as long as its largest.
        var groups: [Range<Int>] = [], first = 0, size = 0
        let target = Swift.max(1, n / (ParallelFor.workers * 4))
        for b in 0..<buckets {
            size += starts[b + 1] - starts[b]
            if size >= target || b == buckets - 1 { groups.append(first..<(b + 1)); first = b + 1; size = 0 }
        }
        let (st, o, v) = (UncheckedSendable(starts), UncheckedSendable(pos), UncheckedSendable(vals))
        let width = kind == Int32(AM_SORT_F32) ? 4 : 8
        Parallel.each(groups.count) { g in
            var largest = 1
            for b in groups[g] { largest = Swift.max(largest, st.value[b + 1] - st.value[b]) }
            let words = TensorStorage(uninitializedBytes: largest * 12)
            let w = words.base.assumingMemoryBound(to: UInt64.self)
            for b in groups[g] {
                let a = st.value[b], m = st.value[b + 1] - a
                am_sort_bucket_from(row, kind, down, offset, k.value + a, ps.value + a, w, m, o.value + a,
                                    v.value.map { $0 + a * width }, base)
            }
            withExtendedLifetime(words) {}
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
    /// The element kind of the C long-row sort (`AM_SORT_F64` ...), nil where it has none.
    static var longSortKind: Int32? { get }
}

extension SortKeyed {
    /// The key in the order asked for: descending is the complement (NaN, the largest
    /// key, comes first; ties keep their order in a stable sort either way).
    @inline(__always) func sortKey(descending: Bool) -> Key { descending ? ~sortKey : sortKey }
}

extension Double: SortKeyed {
    static var longSortKind: Int32? { Int32(AM_SORT_F64) }
    @inline(__always) var sortKey: UInt64 {
        if isNaN { return .max }
        let b = (self == 0 ? 0.0 : self).bitPattern
        return b & (1 << 63) != 0 ? ~b : b | (1 << 63)
    }
}

extension Float: SortKeyed {
    static var longSortKind: Int32? { Int32(AM_SORT_F32) }
    @inline(__always) var sortKey: UInt32 {
        if isNaN { return .max }
        let b = (self == 0 ? Float(0) : self).bitPattern
        return b & (1 << 31) != 0 ? ~b : b | (1 << 31)
    }
}

extension Int64: SortKeyed {
    static var longSortKind: Int32? { Int32(AM_SORT_I64) }
    @inline(__always) var sortKey: UInt64 { UInt64(bitPattern: self) ^ (1 << 63) }
}

extension Bool: SortKeyed {
    static var longSortKind: Int32? { nil }
    @inline(__always) var sortKey: UInt32 { self ? 1 : 0 }
}

/// A stable LSD radix sort of (key, position) pairs, 11 bits a pass.
enum RadixSort {
    static let bits = 11, buckets = 1 << 11
    /// Rows at least this long (f64, f32, i64) take the long-row sort of alignmath_sort.h, one
    /// row at a time, each on all the cores.
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
