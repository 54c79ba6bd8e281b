/// Selection of the largest entries of a dense row in one pass, without sorting the row:
/// a SIMD scan compares 16 logits at a time against a running threshold, the k-th
/// largest value seen so far (kept in a size-k min-heap), and only blocks with an entry
/// at or above it are looked at one by one. After m entries a block passes with
/// probability about 16k/m, so a row of V logits costs one vectorised read plus
/// O(k log V) heap updates. Every entry at or above the threshold when it is read is
/// collected, so ties with the final k-th value all survive.
enum TopKSelect {
    /// Appends to `ids`/`vals` (in increasing id order) every finite entry of `x` whose
    /// id has no non-zero entry in `skip` and whose value is `>=` the k-th largest such entry
    /// (ties included; all of them if there are fewer than k). `-inf` and NaN are never
    /// collected; a NaN sets `sawNaN` (found by the block test, which lets NaN lanes
    /// through, so a row without NaN pays nothing). Returns that k-th largest value
    /// (`-greatestFiniteMagnitude` if fewer).
    @discardableResult
    static func collect<T: SamplingScalar>(_ x: UnsafePointer<T>, count n: Int, k: Int,
                                           skip: UnsafePointer<Int32>?,
                                           ids: inout [Int32], vals: inout [T], scratch: inout [T],
                                           sawNaN: inout Bool) -> T {
        if scratch.count < k { scratch = [T](repeating: 0, count: k) }
        let floor = -T.greatestFiniteMagnitude
        // A first threshold from a sample of the row (see `sampledThreshold`): the scan then
        // skips most blocks from the start instead of raising its threshold as it goes. It
        // is only a guess; when fewer than k entries clear it, the scan runs again without.
        let seed = scratch.withUnsafeMutableBufferPointer { sampledThreshold(x, count: n, k: k, skip: skip, buffer: $0) }
        if seed > floor, let tau = scan(x, count: n, k: k, skip: skip, from: seed, ids: &ids, vals: &vals,
                                        scratch: &scratch, sawNaN: &sawNaN) {
            return tau
        }
        return scan(x, count: n, k: k, skip: skip, from: floor, ids: &ids, vals: &vals, scratch: &scratch,
                    sawNaN: &sawNaN) ?? floor
    }

    /// A value that at least k entries of `x` are likely to reach, from a sample of 1,024
    /// entries in 8 runs of 128 spread over the row (runs, not a stride: a strided pass over a
    /// 128k row touches a quarter of its cache lines and cost more than it saved): the
    /// ⌈2k·1024/n⌉+1-th largest finite, unskipped sampled value (about 2k entries of the row
    /// reach it when the sample is typical; when it is not, `scan` finds out and starts
    /// over). `-greatestFiniteMagnitude` (no seed) for short rows or large k.
    static func sampledThreshold<T: SamplingScalar>(_ x: UnsafePointer<T>, count n: Int, k: Int,
                                                    skip: UnsafePointer<Int32>?,
                                                    buffer: UnsafeMutableBufferPointer<T>) -> T {
        let runs = 8, run = 128
        let floor = -T.greatestFiniteMagnitude
        guard n >= 8192, k >= 1 else { return floor }
        let want = (2 * k * runs * run + n - 1) / n + 1
        guard want <= 64, want <= buffer.count else { return floor }
        // the `want` largest sampled values, in descending order (a short insertion list:
        // most samples are below its last entry and cost one compare)
        var have = 0
        for r in 0..<runs {
            let start = r * (n / runs)
            for i in start..<start + run {
                let xv = x[i]
                guard xv >= floor, have < want || xv > buffer[have - 1] else { continue }
                if let s = skip, s[i] != 0 { continue }
                var j = have < want ? have : want - 1
                if have < want { have += 1 }
                while j > 0 && buffer[j - 1] < xv { buffer[j] = buffer[j - 1]; j -= 1 }
                buffer[j] = xv
            }
        }
        return have == want ? buffer[want - 1] : floor
    }

    /// The scan of `collect` with its threshold starting at `from`. Nil when fewer than k
    /// entries reached `from` (then the k-th largest is below it: scan again from the floor).
    private static func scan<T: SamplingScalar>(_ x: UnsafePointer<T>, count n: Int, k: Int,
                                                skip: UnsafePointer<Int32>?, from: T,
                                                ids: inout [Int32], vals: inout [T], scratch: inout [T],
                                                sawNaN: inout Bool) -> T? {
        ids.removeAll(keepingCapacity: true)
        vals.removeAll(keepingCapacity: true)
        let seeded = from > -T.greatestFiniteMagnitude
        return scratch.withUnsafeMutableBufferPointer { hb -> T? in
            let heap = hb
            var size = 0
            var tau = from
            var cap = max(4 * k, 1024)
            @inline(__always) func offer(_ xv: T, _ id: Int) {
                if let s = skip, s[id] != 0 { return }
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
            var i = 0
            while i + 16 <= n {
                if T.anyNotBelow(x, i, tau) {
                    // Rare once the heap is full: visit the lanes one by one.
                    for lane in 0..<16 {
                        let xv = x[i &+ lane]
                        if xv >= tau { offer(xv, i &+ lane) } else if xv != xv { sawNaN = true }
                    }
                }
                i &+= 16
            }
            while i < n {
                if x[i] >= tau { offer(x[i], i) } else if x[i] != x[i] { sawNaN = true }
                i &+= 1
            }
            if seeded && size < k { return nil }
            filterAtLeast(tau, ids: &ids, vals: &vals)
            return tau
        }
    }

    /// Keeps the entries `>= tau` (order preserved).
    static func filterAtLeast<T: SamplingScalar>(_ tau: T, ids: inout [Int32], vals: inout [T]) {
        let n = vals.count
        var w = 0
        for r in 0..<n where vals[r] >= tau {
            ids[w] = ids[r]; vals[w] = vals[r]; w &+= 1
        }
        ids.removeLast(n - w)
        vals.removeLast(n - w)
    }
}
