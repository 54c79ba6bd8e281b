/// The walk every strided kernel shares: the elements of one or more operands of the same
/// (broadcast) shape, visited in row-major order as runs along the last axis. Axes that
/// are laid out back to back in every operand are merged first, so a contiguous tensor is
/// one long run and a row-sliced matrix is one run per row.
struct StridedRuns {
    /// The merged shape (at least one axis; `[1]` for a 0-d walk).
    let shape: [Int]
    /// Per operand, the stride of each merged axis (elements).
    let strides: [[Int]]
    /// Number of elements in all.
    let count: Int

    /// - Parameters:
    ///   - shape: the common shape of the operands.
    ///   - strides: each operand's strides for `shape` (0 on a broadcast axis).
    init(shape: [Int], strides: [[Int]]) {
        var sh: [Int] = []
        var st: [[Int]] = strides.map { _ in [] }
        for axis in 0..<shape.count where shape[axis] != 1 {
            let d = shape[axis]
            if let last = sh.last, strides.indices.allSatisfy({ st[$0].last == strides[$0][axis] * d }) {
                sh[sh.count - 1] = last * d
                for k in strides.indices { st[k][st[k].count - 1] = strides[k][axis] }
            } else {
                sh.append(d)
                for k in strides.indices { st[k].append(strides[k][axis]) }
            }
        }
        if sh.isEmpty {
            sh = [1]
            st = strides.map { _ in [0] }
        }
        self.shape = sh
        self.strides = st
        count = sh.contains(0) ? 0 : sh.reduce(1, *)
    }

    /// Length of each run (the merged last axis).
    var runLength: Int { shape[shape.count - 1] }
    /// Number of runs.
    var runCount: Int { count == 0 ? 0 : count / runLength }
    /// Operand `k`'s stride inside a run.
    func innerStride(_ k: Int) -> Int { strides[k][shape.count - 1] }

    /// Calls `body(starts, n)` for runs `range` (in row-major order), where `starts[k]` is
    /// the storage offset of operand `k`'s run relative to its first element.
    func forEachRun(_ range: Range<Int>, _ body: (UnsafePointer<Int>, Int) -> Void) {
        let ops = strides.count, outer = shape.count - 1, n = runLength
        if range.isEmpty { return }
        withUnsafeTemporaryAllocation(of: Int.self, capacity: ops + outer + 1) { buf in
            let starts = buf.baseAddress.unsafelyUnwrapped
            let index = starts + ops  // the position along each outer axis
            // Position and offsets of the first run of the range.
            var rest = range.lowerBound
            for k in 0..<ops { starts[k] = 0 }
            var axis = outer - 1
            while axis >= 0 {
                let d = shape[axis]
                index[axis] = rest % d
                rest /= d
                for k in 0..<ops { starts[k] += index[axis] * strides[k][axis] }
                axis -= 1
            }
            for _ in range {
                body(UnsafePointer(starts), n)
                // Advance the odometer over the outer axes.
                var a = outer - 1
                while a >= 0 {
                    index[a] += 1
                    for k in 0..<ops { starts[k] += strides[k][a] }
                    if index[a] < shape[a] { break }
                    for k in 0..<ops { starts[k] -= strides[k][a] * shape[a] }
                    index[a] = 0
                    a -= 1
                }
            }
        }
    }

    /// Every run, split over the cores when there are many elements (`cost` weighs the
    /// work of one element against a copy). A single long run is cut into pieces.
    func forEachRunParallel(cost: Int = 1, _ body: (UnsafePointer<Int>, Int) -> Void) {
        let runs = runCount
        if runs == 0 { return }
        if runs == 1 {
            let n = runLength
            let inner = strides.map { $0[shape.count - 1] }
            let piece = 1 << 14
            Parallel.forEach((n + piece - 1) / piece, cost: piece * cost) { r in
                withUnsafeTemporaryAllocation(of: Int.self, capacity: inner.count) { st in
                    let s = st.baseAddress.unsafelyUnwrapped
                    for p in r {
                        let lo = p * piece
                        for k in inner.indices { s[k] = lo * inner[k] }
                        body(UnsafePointer(s), Swift.min(piece, n - lo))
                    }
                }
            }
            return
        }
        Parallel.forEach(runs, cost: runLength * cost) { r in forEachRun(r, body) }
    }
}

extension Tensor {
    /// This tensor's strides broadcast to `target` (a shape it broadcasts to): size-1 and
    /// missing leading axes get stride 0.
    func strides(broadcastTo target: [Int]) -> [Int] {
        var out = [Int](repeating: 0, count: target.count)
        let lead = target.count - ndim
        for i in 0..<ndim where shape[i] != 1 { out[lead + i] = strides[i] }
        return out
    }

    /// numpy's broadcast of two shapes, or nil when they do not broadcast.
    public static func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let n = Swift.max(a.count, b.count)
        var out = [Int](repeating: 1, count: n)
        for i in 0..<n {
            let x = i < n - a.count ? 1 : a[i - (n - a.count)]
            let y = i < n - b.count ? 1 : b[i - (n - b.count)]
            if x == y || y == 1 { out[i] = x } else if x == 1 { out[i] = y } else { return nil }
        }
        return out
    }

    /// The broadcast shape of several shapes, throwing numpy's message when they do not.
    static func broadcastShape(_ shapes: [[Int]], what: String) throws -> [Int] {
        var out: [Int] = []
        for s in shapes {
            guard let b = broadcastShape(out, s) else {
                throw AlignMathError.shapeMismatch("\(what): shapes \(shapes.map { "\($0)" }.joined(separator: " and ")) do not broadcast (each axis, aligned from the last, must be equal or 1)")
            }
            out = b
        }
        return out
    }
}
