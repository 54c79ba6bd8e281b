/// The per-row kernels of `Dist` for Double data: the same passes as `RowF32` with
/// SIMD4<Double> and the Double `FastExp.exp`, accumulating in Double throughout. Each
/// works on one row of `n` logits already known to have a finite maximum; `s` is
/// 1/temperature and `m` the row maximum times `s`. `-inf` entries give exactly zero weight.
enum RowF64 {
    typealias V = SIMD4<Double>
    static let w = 4
    /// Vectors per partial sum (kept for symmetry with RowF32; all sums are Double).
    static let block = 8

    /// Loads 4 elements at `i`; past the end of the row the lanes are `-inf` (no mass).
    @inline(__always)
    static func load(_ p: UnsafePointer<Double>, _ i: Int, _ n: Int) -> V {
        if _fastPath(i + w <= n) { return UnsafeRawPointer(p + i).loadUnaligned(as: V.self) }
        var v = V(repeating: -.infinity)
        for k in 0..<(n - i) { v[k] = p[i + k] }
        return v
    }

    /// Largest element (`-inf` for an empty or fully masked row; NaN lanes are ignored).
    @inline(__always)
    static func max(_ p: UnsafePointer<Double>, _ n: Int) -> Double {
        var m0 = V(repeating: -.infinity), m1 = m0
        var i = 0
        while i + 2 * w <= n {
            let a = UnsafeRawPointer(p + i).loadUnaligned(as: V.self)
            m0 = FastExp.select(a .> m0, a, m0)
            let b = UnsafeRawPointer(p + i + w).loadUnaligned(as: V.self)
            m1 = FastExp.select(b .> m1, b, m1)
            i += 2 * w
        }
        while i < n { let a = load(p, i, n); m0 = FastExp.select(a .> m0, a, m0); i += w }
        m0 = FastExp.select(m1 .> m0, m1, m0)
        return m0.max()
    }

    /// Σ exp(x·s − m).
    @inline(__always)
    static func sumExp(_ p: UnsafePointer<Double>, _ n: Int, _ s: Double, _ m: Double) -> Double {
        var total = 0.0
        var i = 0
        while i < n {
            var acc = V()
            var k = 0
            while k < block && i < n {
                acc += FastExp.exp(load(p, i, n) * s - m)
                i += w; k += 1
            }
            total += acc.sum()
        }
        return total
    }

    /// (Σ e, Σ e·y) with y = x·s − m, e = exp(y): what entropy needs (H = log Σe − Σey/Σe).
    @inline(__always)
    static func sumExpMoment(_ p: UnsafePointer<Double>, _ n: Int, _ s: Double, _ m: Double) -> (Double, Double) {
        var sTot = 0.0, wTot = 0.0
        var i = 0
        while i < n {
            var accS = V(), accW = V()
            var k = 0
            while k < block && i < n {
                let x = load(p, i, n)
                var y = x * s - m
                let e = FastExp.exp(y)
                y = FastExp.select(x .== -.infinity, V(), y)
                accS += e
                accW += e * y
                i += w; k += 1
            }
            sTot += accS.sum(); wTot += accW.sum()
        }
        return (sTot, wTot)
    }

    /// One pass over a pair of rows for KL(P‖Q): (Σ e_p, Σ e_q, Σ e_p·(y_p − y_q), inf)
    /// where `inf` says some token has P-mass (p > -inf) but q = -inf.
    @inline(__always)
    static func klSums(_ p: UnsafePointer<Double>, _ q: UnsafePointer<Double>, _ n: Int, _ s: Double,
                       _ mp: Double, _ mq: Double) -> (Double, Double, Double, Bool) {
        var sp = 0.0, sq = 0.0, wt = 0.0
        var inf = SIMD4<UInt64>()  // lanes with P-mass where q = -inf (mask bits)
        var i = 0
        while i < n {
            var accP = V(), accQ = V(), accW = V()
            var k = 0
            while k < block && i < n {
                let x = load(p, i, n), z = load(q, i, n)
                let yp = x * s - mp, yq = z * s - mq
                let ep = FastExp.exp(yp)
                accP += ep
                accQ += FastExp.exp(yq)
                // Bitwise masks (SIMDMask's own operators are per-lane loops).
                let pm = unsafeBitCast(x .== -.infinity, to: SIMD4<UInt64>.self)
                let qm = unsafeBitCast(z .== -.infinity, to: SIMD4<UInt64>.self)
                inf |= qm & ~pm
                let d = unsafeBitCast(unsafeBitCast(yp - yq, to: SIMD4<UInt64>.self) & ~(pm | qm), to: V.self)
                accW += ep * d
                i += w; k += 1
            }
            sp += accP.sum(); sq += accQ.sum(); wt += accW.sum()
        }
        return (sp, sq, wt, inf != SIMD4<UInt64>())
    }

    /// out = (x·s − m) − l (log_softmax with l = log Σe): the max is subtracted first, so
    /// logits far from 0 (1e4 + noise) keep their digits.
    @inline(__always)
    static func writeShifted(_ p: UnsafePointer<Double>, _ out: UnsafeMutablePointer<Double>, _ n: Int, _ s: Double, _ m: Double, _ l: Double) {
        var i = 0
        while i + w <= n {
            let x = UnsafeRawPointer(p + i).loadUnaligned(as: V.self)
            UnsafeMutableRawPointer(out + i).storeBytes(of: (x * s - m) - l, as: V.self)
            i += w
        }
        while i < n { out[i] = (p[i] * s - m) - l; i += 1 }
    }

    /// out = exp(x·s − m), returns Σ out (first half of softmax).
    @inline(__always)
    static func writeExp(_ p: UnsafePointer<Double>, _ out: UnsafeMutablePointer<Double>, _ n: Int, _ s: Double, _ m: Double) -> Double {
        var total = 0.0
        var i = 0
        while i + w <= n {
            var acc = V()
            var k = 0
            while k < block && i + w <= n {
                let e = FastExp.exp(UnsafeRawPointer(p + i).loadUnaligned(as: V.self) * s - m)
                UnsafeMutableRawPointer(out + i).storeBytes(of: e, as: V.self)
                acc += e
                i += w; k += 1
            }
            total += acc.sum()
        }
        while i < n { let e = FastExp.exp(p[i] * s - m); out[i] = e; total += e; i += 1 }
        return total
    }

    /// out *= c.
    @inline(__always)
    static func scale(_ out: UnsafeMutablePointer<Double>, _ n: Int, _ c: Double) {
        var i = 0
        while i + w <= n {
            let v = UnsafeRawPointer(out + i).loadUnaligned(as: V.self)
            UnsafeMutableRawPointer(out + i).storeBytes(of: v * c, as: V.self)
            i += w
        }
        while i < n { out[i] *= c; i += 1 }
    }
}
