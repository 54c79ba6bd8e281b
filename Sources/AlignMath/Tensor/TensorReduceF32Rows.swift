/// `sum`, `mean`, `nansum` and `nanmean` of f32 and f64 rows (over the last axis, or the
/// whole tensor) added as numpy adds them, so the results are numpy's to the bit: in the
/// dtype, by numpy's pairwise summation (`pairwise_sum` in
/// numpy/_core/src/umath/loops_utils.h.src): runs of at most 128 elements are added in eight
/// interleaved partial sums (one SIMD8 lane each), combined as ((r0 + r1) + (r2 + r3)) +
/// ((r4 + r5) + (r6 + r7)), the tail one by one; longer runs are halved (the first half a
/// multiple of 8) and the halves' sums added. The reduction starts from numpy's identity 0
/// (an all -0.0 row sums to 0.0). `nansum` adds 0 for NaN, as `np.nansum` does (it sums a
/// copy with NaN replaced). (f64 rows past 2,048 elements were summed in 16 SIMD lanes per
/// block: within the same error, but not numpy's bits.)
typealias F32Pairwise = Pairwise<Float>

enum Pairwise<T: BinaryFloatingPoint & SIMDScalar> {
    /// Σ p[0..<n] as `np.sum` of a float32/float64 row gives it.
    static func sum(_ p: UnsafePointer<T>, _ n: Int, parallel: Bool = false) -> T {
        0 + tree(p, n, parallel: parallel, skipNaN: false).sum
    }

    /// The sum of the non-NaN elements of p[0..<n] (as `np.nansum`) and their count.
    static func nansum(_ p: UnsafePointer<T>, _ n: Int, parallel: Bool = false) -> (sum: T, count: Int) {
        let t = tree(p, n, parallel: parallel, skipNaN: true)
        return (0 + t.sum, t.count)
    }

    /// The pairwise sum; with `parallel`, the subtrees a few levels down are summed on all
    /// cores and then combined in the same order (so the bits do not depend on the cores).
    private static func tree(_ p: UnsafePointer<T>, _ n: Int, parallel: Bool, skipNaN: Bool) -> (sum: T, count: Int) {
        guard parallel, n >= 1 << 18, ParallelFor.workers > 1 else { return pairwise(p, n, skipNaN) }
        var leaves: [(start: Int, count: Int)] = []
        func split(_ start: Int, _ count: Int, _ depth: Int) {
            if depth == 0 || count <= 128 { leaves.append((start, count)); return }
            let half = count / 2 - (count / 2) % 8
            split(start, half, depth - 1)
            split(start + half, count - half, depth - 1)
        }
        split(0, n, 3)  // 8 subtrees: 4 per core on 2 cores
        let parts = leaves
        let sums = Parallel.map(parts.count, cost: n / parts.count) { range in
            range.map { pairwise(p + parts[$0].start, parts[$0].count, skipNaN) }
        }.flatMap { $0 }
        var next = 0
        func combine(_ count: Int, _ depth: Int) -> (sum: T, count: Int) {
            if depth == 0 || count <= 128 { next += 1; return sums[next - 1] }
            let half = count / 2 - (count / 2) % 8
            let a = combine(half, depth - 1), b = combine(count - half, depth - 1)
            return (a.sum + b.sum, a.count + b.count)
        }
        return combine(n, 3)
    }

    private static func pairwise(_ p: UnsafePointer<T>, _ n: Int, _ skipNaN: Bool) -> (sum: T, count: Int) {
        if n < 8 {
            var s: T = -0.0, c = 0
            for i in 0..<n where !(skipNaN && p[i].isNaN) { s += p[i]; c += 1 }
            return (s, c)
        }
        if n <= 128 { return skipNaN ? block(p, n, nan: ()) : (block(p, n), n) }
        let half = n / 2 - (n / 2) % 8
        let a = pairwise(p, half, skipNaN), b = pairwise(p + half, n - half, skipNaN)
        return (a.sum + b.sum, a.count + b.count)
    }

    /// One run of 8 to 128 elements.
    @inline(__always)
    private static func block(_ p: UnsafePointer<T>, _ n: Int) -> T {
        let raw = UnsafeRawPointer(p), size = MemoryLayout<T>.stride
        var r = raw.loadUnaligned(as: SIMD8<T>.self)
        var i = 8
        let end = n - n % 8
        while i < end {
            r += raw.loadUnaligned(fromByteOffset: i * size, as: SIMD8<T>.self)
            i += 8
        }
        var s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        while i < n { s += p[i]; i += 1 }
        return s
    }

    /// As `block`, NaN counted as 0 and left out of the count.
    @inline(__always)
    private static func block(_ p: UnsafePointer<T>, _ n: Int, nan: Void) -> (sum: T, count: Int) {
        let raw = UnsafeRawPointer(p), size = MemoryLayout<T>.stride
        let one = SIMD8<T>(repeating: 1)
        var x = raw.loadUnaligned(as: SIMD8<T>.self)
        var seen = one.replacing(with: 0, where: x .!= x)  // at most 16 per lane: exact in f32
        x.replace(with: 0, where: x .!= x)
        var r = x
        var i = 8
        let end = n - n % 8
        while i < end {
            var y = raw.loadUnaligned(fromByteOffset: i * size, as: SIMD8<T>.self)
            seen += one.replacing(with: 0, where: y .!= y)
            y.replace(with: 0, where: y .!= y)
            r += y
            i += 8
        }
        var s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        var c = Int(seen.sum())
        while i < n {
            if !p[i].isNaN { s += p[i]; c += 1 } else { s += 0 }
            i += 1
        }
        return (s, c)
    }
}
