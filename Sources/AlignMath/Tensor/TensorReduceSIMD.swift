/// The SIMD loops of the whole-row reductions (sum, min/max, argmax/argmin) over a dense
/// run of Float or Double, the ones a researcher runs on a 1 GB logits file: each reads the
/// memory once, 16 lanes at a time, and leaves NaN handling to a mask it checks at the end.
enum RowSIMD {
    // MARK: sums (accumulated in Double)

    /// Σ p[0..<n] of Floats, accumulated in Double: 16 lanes of partial sums per block of
    /// 2048 elements, the block totals added in order (the mean of an f32 var/std).
    static func sum(_ p: UnsafePointer<Float>, _ n: Int) -> Double {
        var total = 0.0, i = 0
        let raw = UnsafeRawPointer(p)
        while i < n {
            let end = Swift.min(n, i + 2048)
            var a0 = SIMD4<Double>(), a1 = SIMD4<Double>(), a2 = SIMD4<Double>(), a3 = SIMD4<Double>()
            while i + 16 <= end {
                let x = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                let y = raw.loadUnaligned(fromByteOffset: i * 4 + 32, as: SIMD8<Float>.self)
                a0 += SIMD4<Double>(x.lowHalf)
                a1 += SIMD4<Double>(x.highHalf)
                a2 += SIMD4<Double>(y.lowHalf)
                a3 += SIMD4<Double>(y.highHalf)
                i += 16
            }
            var s = ((a0 + a1) + (a2 + a3)).sum()
            while i < end { s += Double(p[i]); i += 1 }
            total += s
        }
        return total
    }

    // MARK: extremes

    /// The largest (`largest`) or smallest element of p[0..<n] (n > 0); NaN if any is NaN.
    static func extreme(_ p: UnsafePointer<Double>, _ n: Int, largest: Bool) -> Double {
        var i = 0
        let raw = UnsafeRawPointer(p)
        var m0 = SIMD4<Double>(repeating: p[0]), m1 = m0
        var nan = SIMDMask<SIMD4<Int64>>(repeating: false)
        if largest {
            while i + 8 <= n {
                let x = raw.loadUnaligned(fromByteOffset: i * 8, as: SIMD4<Double>.self)
                let y = raw.loadUnaligned(fromByteOffset: i * 8 + 32, as: SIMD4<Double>.self)
                m0.replace(with: x, where: x .> m0)
                m1.replace(with: y, where: y .> m1)
                nan .|= (x .!= x) .| (y .!= y)
                i += 8
            }
        } else {
            while i + 8 <= n {
                let x = raw.loadUnaligned(fromByteOffset: i * 8, as: SIMD4<Double>.self)
                let y = raw.loadUnaligned(fromByteOffset: i * 8 + 32, as: SIMD4<Double>.self)
                m0.replace(with: x, where: x .< m0)
                m1.replace(with: y, where: y .< m1)
                nan .|= (x .!= x) .| (y .!= y)
                i += 8
            }
        }
        if any(nan) { return .nan }
        var m = largest ? Swift.max(m0.max(), m1.max()) : Swift.min(m0.min(), m1.min())
        while i < n {
            let v = p[i]
            if v.isNaN { return .nan }
            if largest ? v > m : v < m { m = v }
            i += 1
        }
        return m
    }

    /// As `extreme` for Floats.
    static func extreme(_ p: UnsafePointer<Float>, _ n: Int, largest: Bool) -> Float {
        var i = 0
        let raw = UnsafeRawPointer(p)
        var m0 = SIMD8<Float>(repeating: p[0]), m1 = m0
        var nan = SIMDMask<SIMD8<Int32>>(repeating: false)
        if largest {
            while i + 16 <= n {
                let x = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                let y = raw.loadUnaligned(fromByteOffset: i * 4 + 32, as: SIMD8<Float>.self)
                m0.replace(with: x, where: x .> m0)
                m1.replace(with: y, where: y .> m1)
                nan .|= (x .!= x) .| (y .!= y)
                i += 16
            }
        } else {
            while i + 16 <= n {
                let x = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                let y = raw.loadUnaligned(fromByteOffset: i * 4 + 32, as: SIMD8<Float>.self)
                m0.replace(with: x, where: x .< m0)
                m1.replace(with: y, where: y .< m1)
                nan .|= (x .!= x) .| (y .!= y)
                i += 16
            }
        }
        if any(nan) { return .nan }
        var m = largest ? Swift.max(m0.max(), m1.max()) : Swift.min(m0.min(), m1.min())
        while i < n {
            let v = p[i]
            if v.isNaN { return .nan }
            if largest ? v > m : v < m { m = v }
            i += 1
        }
        return m
    }

    // MARK: positions of extremes

    /// The position (0-based) of the first largest/smallest element of p[0..<n] (n > 0),
    /// or of the first NaN if there is one (numpy's and torch's argmax), with its value.
    static func argExtreme(_ p: UnsafePointer<Double>, _ n: Int, largest: Bool) -> (Double, Int) {
        argExtreme(p, n, block: 2048, largest: largest, extreme: { extreme($0, $1, largest: largest) },
                   locate: { firstIndex(of: $0, $1, $2) })
    }

    /// As `argExtreme` for Floats.
    static func argExtreme(_ p: UnsafePointer<Float>, _ n: Int, largest: Bool) -> (Float, Int) {
        argExtreme(p, n, block: 4096, largest: largest, extreme: { extreme($0, $1, largest: largest) },
                   locate: { firstIndex(of: $0, $1, $2) })
    }

    /// One pass over memory in blocks of 16 KB: each block's extreme by the vectorised
    /// `extreme`, and only when it beats the best so far (or is NaN) its first position,
    /// searched while the block is still in L1. On random data the search runs for a few
    /// dozen blocks of thousands. (Two whole passes, the extreme then its position, read
    /// memory up to twice: 0.72x numpy's argmax over 1e7 f64. One pass that carries
    /// positions in SIMD lanes spends its time converting masks between lane widths.)
    @inline(__always)
    private static func argExtreme<T: BinaryFloatingPoint>(
        _ p: UnsafePointer<T>, _ n: Int, block: Int, largest: Bool,
        extreme: (UnsafePointer<T>, Int) -> T, locate: (T, UnsafePointer<T>, Int) -> Int
    ) -> (T, Int) {
        var best = p[0], at = 0, i = 0
        while i < n {
            let len = Swift.min(block, n - i)
            let m = extreme(p + i, len)
            if m.isNaN { return (m, i + firstNaN(p + i, len).1) }
            if largest ? m > best : m < best {
                best = m
                at = i + locate(m, p + i, len)
            }
            i += len
        }
        return (best, at)
    }

    /// The first position of `target` (not NaN) in `p[0..<n]`, 8 or 16 elements at a time.
    static func firstIndex(of target: Double, _ p: UnsafePointer<Double>, _ n: Int) -> Int {
        var i = 0
        let raw = UnsafeRawPointer(p), t = SIMD4<Double>(repeating: target)
        while i + 8 <= n {
            let x = raw.loadUnaligned(fromByteOffset: i * 8, as: SIMD4<Double>.self)
            let y = raw.loadUnaligned(fromByteOffset: i * 8 + 32, as: SIMD4<Double>.self)
            if any((x .== t) .| (y .== t)) { break }
            i += 8
        }
        while i < n && p[i] != target { i += 1 }
        return i
    }

    static func firstIndex(of target: Float, _ p: UnsafePointer<Float>, _ n: Int) -> Int {
        var i = 0
        let raw = UnsafeRawPointer(p), t = SIMD8<Float>(repeating: target)
        while i + 16 <= n {
            let x = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            let y = raw.loadUnaligned(fromByteOffset: i * 4 + 32, as: SIMD8<Float>.self)
            if any((x .== t) .| (y .== t)) { break }
            i += 16
        }
        while i < n && p[i] != target { i += 1 }
        return i
    }

    private static func firstNaN<T: BinaryFloatingPoint>(_ p: UnsafePointer<T>, _ n: Int) -> (T, Int) {
        for i in 0..<n where p[i].isNaN { return (p[i], i) }
        return (p[0], 0)
    }
}
