/// `topk` of every row without sorting it: one pass keeps the best `k` (key, position)
/// pairs in a heap whose root is the worst kept; an element gets in only when it is better
/// than that root. Rows are read in order of position, so an element equal to the root is
/// always worse (a later position) and is skipped: the comparison is strict, and for floats
/// a SIMD pre-test skips whole blocks that cannot contain a better element.
enum TopK {
    static func rows<T: SortKeyed>(_: T.Type, _ src: UnsafeMutablePointer<T>, _ rows: Int, _ n: Int, _ k: Int, _ largest: Bool,
                                    _ values: UnsafeMutablePointer<T>, _ positions: UnsafeMutablePointer<Int64>) {
        Parallel.forEach(rows, cost: n) { range in
            withUnsafeTemporaryAllocation(of: (key: T.Key, at: Int).self, capacity: k) { hb in
                let heap = hb.baseAddress.unsafelyUnwrapped
                for r in range {
                    row(UnsafePointer(src + r * n), n, k, largest, heap)
                    // Best first: sort the k survivors (heap order is not sorted).
                    var kept = UnsafeMutableBufferPointer(start: heap, count: k)
                    kept.sort { better($0, $1, largest) }
                    let v = values + r * k, p = positions + r * k, s = src + r * n
                    for j in 0..<k { p[j] = Int64(heap[j].at); v[j] = s[heap[j].at] }
                }
            }
        }
    }

    /// a is better than b: a larger (smaller) key, or an equal key at a lower position.
    @inline(__always)
    static func better<K: Comparable>(_ a: (key: K, at: Int), _ b: (key: K, at: Int), _ largest: Bool) -> Bool {
        if a.key != b.key { return largest ? a.key > b.key : a.key < b.key }
        return a.at < b.at
    }

    /// Fills `heap` with the best `k` of the row (a heap whose root is the worst kept).
    private static func row<T: SortKeyed>(_ x: UnsafePointer<T>, _ n: Int, _ k: Int, _ largest: Bool,
                                           _ heap: UnsafeMutablePointer<(key: T.Key, at: Int)>) {
        for j in 0..<k {
            heap[j] = (x[j].sortKey, j)
            siftUp(heap, j, largest)
        }
        var j = k
        if T.self == Float.self {
            let f = UnsafeRawPointer(x).assumingMemoryBound(to: Float.self)
            while j + 8 <= n {
                // The root as a float: an element passes the pre-test when it may be better.
                let root = heap[0].key
                if root == T.Key.max && largest { return }  // the worst kept is NaN: nothing beats it
                let block = UnsafeRawPointer(f + j).loadUnaligned(as: SIMD8<Float>.self)
                let rootValue = SIMD8(repeating: Float(sortKey: UInt32(truncatingIfNeeded: root)))
                let maybe: SIMDMask<SIMD8<Int32>>
                if largest {
                    maybe = (block .> rootValue) .| (block .!= block)
                } else {
                    // Against a NaN root every number is better.
                    maybe = root == T.Key.max ? block .== block : block .< rootValue
                }
                if any(maybe) {
                    for l in 0..<8 { offer(x[j + l].sortKey, j + l, k, largest, heap) }
                }
                j += 8
            }
        }
        while j < n {
            offer(x[j].sortKey, j, k, largest, heap)
            j += 1
        }
    }

    @inline(__always)
    private static func offer<K: Comparable>(_ key: K, _ at: Int, _ k: Int, _ largest: Bool, _ heap: UnsafeMutablePointer<(key: K, at: Int)>) {
        // Later positions lose ties, so only a strictly better key gets in.
        guard largest ? key > heap[0].key : key < heap[0].key else { return }
        heap[0] = (key, at)
        siftDown(heap, k, largest)
    }

    /// Root = worst: a parent is worse than its children.
    @inline(__always)
    private static func siftUp<K: Comparable>(_ h: UnsafeMutablePointer<(key: K, at: Int)>, _ i: Int, _ largest: Bool) {
        var c = i
        while c > 0 {
            let p = (c - 1) >> 1
            if better(h[p], h[c], largest) { h.swapAt(p, c); c = p } else { break }
        }
    }

    @inline(__always)
    private static func siftDown<K: Comparable>(_ h: UnsafeMutablePointer<(key: K, at: Int)>, _ size: Int, _ largest: Bool) {
        var c = 0
        while true {
            let l = 2 * c + 1
            if l >= size { return }
            let r = l + 1
            let worse = (r < size && better(h[l], h[r], largest)) ? r : l
            if better(h[c], h[worse], largest) { h.swapAt(c, worse); c = worse } else { return }
        }
    }
}

extension UnsafeMutablePointer {
    @inline(__always) func swapAt(_ a: Int, _ b: Int) {
        let t = self[a]
        self[a] = self[b]
        self[b] = t
    }
}

extension Float {
    /// The float whose `sortKey` is `key` (NaN for the NaN key).
    init(sortKey key: UInt32) {
        if key == .max { self = .nan; return }
        self = Float(bitPattern: key & (1 << 31) != 0 ? key & ~(1 << 31) : ~key)
    }
}
