/// Selection of the largest entries of a dense row in one pass, without sorting the row:
/// a SIMD scan compares 16 logits at a time against a running threshold, the k-th
/// largest value seen so far (kept in a size-k min-heap), and only blocks with an entry
/// at or above it are looked at one by one. After m entries a block passes with
/// probability about 16k/m, so a row of V logits costs one vectorised read plus
/// O(k log V) heap updates. Every entry at or above the threshold when it is read is
/// collected, so ties with the final k-th value all survive.
enum TopKSelect {
    /// Appends to `ids`/`vals` (in increasing id order) every finite entry of `x` whose
    /// id is not marked in `skip` and whose value is `>=` the k-th largest such entry
    /// (ties included; all of them if there are fewer than k). `-inf` and NaN are never
    /// collected. Returns that k-th largest value (`-greatestFiniteMagnitude` if fewer).
    @discardableResult
    static func collect(_ x: UnsafePointer<Float>, count n: Int, k: Int,
                        skip: UnsafePointer<UInt64>?,
                        ids: inout [Int32], vals: inout [Float], scratch: inout [Float]) -> Float {
        ids.removeAll(keepingCapacity: true)
        vals.removeAll(keepingCapacity: true)
        if scratch.count < k { scratch = [Float](repeating: 0, count: k) }
        return scratch.withUnsafeMutableBufferPointer { hb -> Float in
            let heap = hb
            var size = 0
            var tau = -Float.greatestFiniteMagnitude
            var cap = max(4 * k, 1024)
            @inline(__always) func offer(_ xv: Float, _ id: Int) {
                if let s = skip, s[id >> 6] & (1 << UInt64(id & 63)) != 0 { return }
                ids.append(Int32(truncatingIfNeeded: id))
                vals.append(xv)
                if size < k {
                    // Sift up in a min-heap.
                    var c = size
                    heap[c] = xv
                    size += 1
                    while c > 0 {
                        let p = (c - 1) >> 1
                        if heap[p] <= heap[c] { break }
                        heap.swapAt(p, c); c = p
                    }
                    if size == k { tau = heap[0] }
                } else if xv > heap[0] {
                    // Replace the minimum and sift down.
                    heap[0] = xv
                    var c = 0
                    while true {
                        let l = 2 * c + 1
                        if l >= size { break }
                        let r = l + 1
                        let m = (r < size && heap[r] < heap[l]) ? r : l
                        if heap[c] <= heap[m] { break }
                        heap.swapAt(c, m); c = m
                    }
                    tau = heap[0]
                }
                if vals.count >= cap {
                    filterAtLeast(tau, ids: &ids, vals: &vals)
                    if vals.count * 2 > cap { cap = vals.count * 4 }
                }
            }
            var tauV = SIMD16<Float>(repeating: tau)
            let laneBits = SIMD16<Int32>(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768)
            let raw = UnsafeRawPointer(x)
            var i = 0
            while i + 16 <= n {
                let v = raw.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<Float>.self)
                let pass = v .>= tauV
                if any(pass) {
                    // The passing lanes as a 16-bit mask, visited bit by bit.
                    var bits = (unsafeBitCast(pass, to: SIMD16<Int32>.self) & laneBits).wrappedSum()
                    while bits != 0 {
                        let lane = bits.trailingZeroBitCount
                        bits &= bits &- 1
                        let xv = v[lane]
                        if xv >= tau { offer(xv, i &+ lane) }
                    }
                    tauV = SIMD16<Float>(repeating: tau)
                }
                i &+= 16
            }
            while i < n {
                if x[i] >= tau { offer(x[i], i) }
                i &+= 1
            }
            filterAtLeast(tau, ids: &ids, vals: &vals)
            return tau
        }
    }

    /// Keeps the entries `>= tau` (order preserved).
    static func filterAtLeast(_ tau: Float, ids: inout [Int32], vals: inout [Float]) {
        let n = vals.count
        var w = 0
        for r in 0..<n where vals[r] >= tau {
            ids[w] = ids[r]; vals[w] = vals[r]; w &+= 1
        }
        ids.removeLast(n - w)
        vals.removeLast(n - w)
    }

    /// Keeps the entries `>=` the k-th largest value (order preserved); returns it.
    @discardableResult
    static func compact(k: Int, ids: inout [Int32], vals: inout [Float], scratch: inout [Float]) -> Float {
        let n = vals.count
        guard n > k else { return -Float.greatestFiniteMagnitude }
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: vals)
        let tau = scratch.withUnsafeMutableBufferPointer { kthLargest($0, k) }
        var w = 0
        ids.withUnsafeMutableBufferPointer { ib in
            vals.withUnsafeMutableBufferPointer { vb in
                for r in 0..<n where vb[r] >= tau {
                    ib[w] = ib[r]; vb[w] = vb[r]; w &+= 1
                }
            }
        }
        ids.removeLast(n - w)
        vals.removeLast(n - w)
        return tau
    }

    /// The k-th largest value (1-based) of `a`, by quickselect with a three-way
    /// partition (fast on many ties). Reorders `a`. Requires `1 <= k <= a.count`.
    static func kthLargest(_ a: UnsafeMutableBufferPointer<Float>, _ k: Int) -> Float {
        var lo = 0, hi = a.count - 1
        let target = k - 1
        while lo < hi {
            let mid = lo + (hi - lo) / 2
            // Median of three as the pivot.
            let x = a[lo], y = a[mid], z = a[hi]
            let pivot = max(min(x, y), min(max(x, y), z))
            // Descending three-way partition: [lo, lt) > pivot, [lt, gt] == pivot, (gt, hi] < pivot.
            var lt = lo, i = lo, gt = hi
            while i <= gt {
                let v = a[i]
                if v > pivot { a.swapAt(lt, i); lt += 1; i += 1 }
                else if v < pivot { a.swapAt(i, gt); gt -= 1 }
                else { i += 1 }
            }
            if target < lt { hi = lt - 1 } else if target > gt { lo = gt + 1 } else { return pivot }
        }
        return a[lo]
    }
}
