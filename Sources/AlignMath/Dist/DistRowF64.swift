import Foundation

/// The per-row kernels of `Dist` for Double data, built as `RowF32` is: `SIMD4<Double>` (one
/// AVX2 register), two independent vectors per step so the exponentials' multiply-add chains
/// overlap, `FastExp.expSum` for sums (Estrin-evaluated, see `FastExp.polyD`), the next
/// row's maximum read inside the pass over the current one, and every kernel
/// `@inline(never)` (see `RowF32` on why: inlined into a large closure, the standard
/// library's per-lane SIMD selects were left as scalar code, which is what made the f64
/// paths 9x slower than f32 instead of the 2x their bytes cost). Each works on one row of
/// `n` logits; `s` is 1/temperature and `m` the row maximum times `s`. `-inf` entries give
/// exactly zero weight; the last partial vector is padded with `-inf`. The maxima ignore NaN;
/// a NaN logit makes every sum of its row NaN (`FastExp.expSum` keeps NaN lanes).
enum RowF64 {
    typealias V = SIMD4<Double>
    typealias U = SIMD4<UInt64>
    static let w = 4
    /// Vectors per partial sum.
    static let block = 16

    @inline(__always)
    static func _exp(_ x: Double) -> Double { Foundation.exp(x) }

    @inline(__always)
    static func load(_ p: UnsafePointer<Double>, _ i: Int, _ n: Int) -> V {
        if _fastPath(i + w <= n) { return UnsafeRawPointer(p + i).loadUnaligned(as: V.self) }
        return loadTail(p + i, n - i)
    }

    /// The last `k < w` elements of a row, padded with `-inf` (out of line: once per row).
    @inline(never)
    static func loadTail(_ p: UnsafePointer<Double>, _ k: Int) -> V {
        var v = V(repeating: -.infinity)
        for j in 0..<k { v[j] = p[j] }
        return v
    }

    @inline(__always)
    static func ld(_ p: UnsafePointer<Double>, _ i: Int) -> V { UnsafeRawPointer(p + i).loadUnaligned(as: V.self) }

    /// Lanewise max that ignores NaN in `a` (one `vmaxpd`).
    @inline(__always)
    static func vmax(_ a: V, _ b: V) -> V { FastExp.select(a .> b, a, b) }

    @inline(__always)
    static func bits(_ m: SIMDMask<V.MaskStorage>) -> U { unsafeBitCast(m, to: U.self) }

    @inline(__always)
    static func masked(_ v: V, _ keep: U) -> V { unsafeBitCast(unsafeBitCast(v, to: U.self) & keep, to: V.self) }

    @inline(__always)
    static func blockEnd(_ i: Int, _ n: Int) -> Int { Swift.min(i + block * w, n - w + 1) }

    /// Running maximum of a row (NaN lanes ignored), two accumulators.
    struct RowMax {
        var m0 = V(repeating: -.infinity), m1 = V(repeating: -.infinity)
        @inline(__always) mutating func add(_ a: V) { m0 = RowF64.vmax(a, m0) }
        @inline(__always) mutating func add2(_ a: V, _ b: V) { m0 = RowF64.vmax(a, m0); m1 = RowF64.vmax(b, m1) }
        @inline(__always) var result: Double { RowF64.vmax(m1, m0).max() }
    }

    /// Largest element (`-inf` for an empty or fully masked row; NaN lanes are ignored).
    @inline(never)
    static func max(_ p: UnsafePointer<Double>, _ n: Int) -> Double {
        var m = RowMax()
        var i = 0
        while i + 2 * w <= n { m.add2(ld(p, i), ld(p, i + w)); i += 2 * w }
        while i < n { m.add(load(p, i, n)); i += w }
        return m.result
    }

    /// Σ exp(x·s − m); also the max of row `next` (same length) when given, else -inf.
    @inline(never)
    static func sumExp(_ p: UnsafePointer<Double>, _ n: Int, _ s: Double, _ m: Double,
                       next: UnsafePointer<Double>?) -> (Double, Double) {
        var total = 0.0
        var nm = RowMax()
        let nx = next ?? p, negM = V(repeating: -m)
        var i = 0
        while i + w <= n {
            var acc = V(), acc1 = V()
            let end = blockEnd(i, n)
            while i + w < end {
                acc += FastExp.expSum(negM.addingProduct(ld(p, i), s)).0
                acc1 += FastExp.expSum(negM.addingProduct(ld(p, i + w), s)).0
                nm.add2(ld(nx, i), ld(nx, i + w))
                i += 2 * w
            }
            if i < end {
                acc += FastExp.expSum(negM.addingProduct(ld(p, i), s)).0
                nm.add(ld(nx, i))
                i += w
            }
            total += (acc + acc1).sum()
        }
        if i < n {
            total += FastExp.expSum(negM.addingProduct(load(p, i, n), s)).0.sum()
            nm.add(load(nx, i, n))
        }
        return (total, next == nil ? -.infinity : nm.result)
    }

    /// (Σ e, Σ e·y) with y = x·s − m, e = exp(y): what entropy needs; also the max of `next`.
    @inline(never)
    static func sumExpMoment(_ p: UnsafePointer<Double>, _ n: Int, _ s: Double, _ m: Double,
                             next: UnsafePointer<Double>?) -> (Double, Double, Double) {
        var sTot = 0.0, wTot = 0.0
        var nm = RowMax()
        let nx = next ?? p, negM = V(repeating: -m)
        var i = 0
        while i + w <= n {
            var accS = V(), accW = V(), accS1 = V(), accW1 = V()
            let end = blockEnd(i, n)
            while i + w < end {
                let y = negM.addingProduct(ld(p, i), s), y1 = negM.addingProduct(ld(p, i + w), s)
                let (e, keep) = FastExp.expSum(y)
                let (e1, keep1) = FastExp.expSum(y1)
                accS += e; accS1 += e1
                accW += masked(e * y, keep)  // 0·(-inf) lanes are zeroed, not NaN
                accW1 += masked(e1 * y1, keep1)
                nm.add2(ld(nx, i), ld(nx, i + w))
                i += 2 * w
            }
            if i < end {
                let y = negM.addingProduct(ld(p, i), s)
                let (e, keep) = FastExp.expSum(y)
                accS += e
                accW += masked(e * y, keep)
                nm.add(ld(nx, i))
                i += w
            }
            sTot += (accS + accS1).sum(); wTot += (accW + accW1).sum()
        }
        if i < n {
            let y = negM.addingProduct(load(p, i, n), s)
            let (e, keep) = FastExp.expSum(y)
            sTot += e.sum(); wTot += masked(e * y, keep).sum()
            nm.add(load(nx, i, n))
        }
        return (sTot, wTot, next == nil ? -.infinity : nm.result)
    }

    /// Whether some token has p > -inf where q = -inf.
    @inline(never)
    static func massWhereQMasked(_ p: UnsafePointer<Double>, _ q: UnsafePointer<Double>, _ n: Int) -> Bool {
        var inf = U()
        var i = 0
        while i < n {
            inf |= bits(load(q, i, n) .== -.infinity) & ~bits(load(p, i, n) .== -.infinity)
            i += w
        }
        return inf != U()
    }

    /// Maxima of a pair of rows and whether P has mass where q = -inf (tested exactly only
    /// when q holds a -inf).
    @inline(never)
    static func maxPair(_ p: UnsafePointer<Double>, _ q: UnsafePointer<Double>, _ n: Int) -> (Double, Double, Bool) {
        var a = RowMax(), b = RowMax(), minq = V(repeating: .infinity)
        var i = 0
        while i + w <= n {
            let z = ld(q, i)
            a.add(ld(p, i)); b.add(z); minq = FastExp.select(z .< minq, z, minq)
            i += w
        }
        if i < n {
            let z = load(q, i, n)
            a.add(load(p, i, n)); b.add(z); minq = FastExp.select(z .< minq, z, minq)
        }
        return (a.result, b.result, minq.min() == -.infinity && massWhereQMasked(p, q, n))
    }

    /// Σ exp(y) of a buffer of exponents (≤ 0 or NaN), writing each exp into `out`; a partial
    /// last vector is read padded with -inf and written whole.
    @inline(never)
    static func expSumBuffer(_ y: UnsafePointer<Double>, _ out: UnsafeMutablePointer<Double>, _ n: Int) -> Double {
        var acc = V(), acc1 = V()
        var i = 0
        while i + 2 * w <= n {
            let e = FastExp.expSum(ld(y, i)).0, e1 = FastExp.expSum(ld(y, i + w)).0
            UnsafeMutableRawPointer(out + i).storeBytes(of: e, as: V.self)
            UnsafeMutableRawPointer(out + i + w).storeBytes(of: e1, as: V.self)
            acc += e; acc1 += e1
            i += 2 * w
        }
        while i < n {  // whole vectors: `out` has room for n rounded up to w (padding: exp(-inf) = 0)
            let e = FastExp.expSum(load(y, i, n)).0
            UnsafeMutableRawPointer(out + i).storeBytes(of: e, as: V.self)
            acc += e
            i += w
        }
        return (acc + acc1).sum()
    }

    /// The sums of KL(P‖Q) over a pair of rows: (Σ e_p, Σ e_q, Σ e_p·(y_p − y_q)), in blocks of
    /// 256 through L1 buffers: exponents, then their exponentials (`expSumBuffer`, a loop
    /// with few live values), then the weighted sum. Fused into one loop the kernel needed
    /// more than the 16 AVX2 registers and spilled; this is 1.3x faster. Lanes where
    /// e_p = 0 add nothing to the last sum (0·inf or NaN there); where P has mass and
    /// q = -inf the caller already answers +inf.
    @inline(never)
    static func klSums(_ p: UnsafePointer<Double>, _ q: UnsafePointer<Double>, _ n: Int, _ s: Double,
                              _ mp: Double, _ mq: Double) -> (Double, Double, Double) {
        let b = 256
        let buf = UnsafeMutablePointer<Double>.allocate(capacity: 4 * b)
        defer { buf.deallocate() }
        let yp = buf, yq = buf + b, ep = buf + 2 * b, eq = buf + 3 * b
        var sp = 0.0, sq = 0.0, sw = 0.0
        let negMp = V(repeating: -mp), negMq = V(repeating: -mq)
        var c = 0
        while c < n {
            let k = Swift.min(b, n - c)
            var i = 0
            while i < k {
                UnsafeMutableRawPointer(yp + i).storeBytes(of: negMp.addingProduct(load(p + c, i, k), s), as: V.self)
                UnsafeMutableRawPointer(yq + i).storeBytes(of: negMq.addingProduct(load(q + c, i, k), s), as: V.self)
                i += w
            }
            sp += expSumBuffer(yp, ep, k)
            sq += expSumBuffer(yq, eq, k)
            var aw = V()
            i = 0
            while i < k {
                let e = ld(ep, i)
                let keep = ~bits(e .== 0)
                aw += masked(e * (ld(yp, i) - ld(yq, i)), keep)
                i += w
            }
            sw += aw.sum()
            c += k
        }
        return (sp, sq, sw)
    }

    /// Elements per chunk of a long row: a chunk of a pair of rows (2 × 128 KB) stays in L2
    /// between its max pass and its sum pass, so a row of 128k doubles (1 MB, 2 MB a pair) is
    /// read from memory once instead of twice; the chunks' sums are then combined exactly
    /// (rescaled to the row's maximum).
    static let chunk = 16_384

    /// Whether `p[0..<n]` holds a NaN (for chunks whose maximum is -inf; rare).
    static func hasNaN(_ p: UnsafePointer<Double>, _ n: Int) -> Bool { (0..<n).contains { p[$0].isNaN } }

    /// (m, Σ exp(x·s − m)) of a row, m its maximum times `s` (-inf for a row of -inf; NaN
    /// when it holds a NaN), chunk by chunk: one trip from memory.
    @inline(never)
    static func maxSumExp(_ p: UnsafePointer<Double>, _ n: Int, _ s: Double) -> (Double, Double) {
        var m = -Double.infinity, total = 0.0, nan = false
        var c = 0
        while c < n {
            let k = Swift.min(chunk, n - c)
            let mc = max(p + c, k) * s
            if mc == -.infinity { nan = nan || hasNaN(p + c, k); c += k; continue }
            let sc = sumExp(p + c, k, s, mc, next: nil).0
            if mc > m { total = total * _exp(m - mc) + sc; m = mc } else { total += sc * _exp(mc - m) }
            c += k
        }
        return nan ? (.nan, .nan) : (m, total)
    }

    /// (m, Σ e, Σ e·y), y = x·s − m, e = exp(y), chunk by chunk (see `maxSumExp`).
    @inline(never)
    static func maxSumExpMoment(_ p: UnsafePointer<Double>, _ n: Int, _ s: Double) -> (Double, Double, Double) {
        var m = -Double.infinity, st = 0.0, wt = 0.0, nan = false
        var c = 0
        while c < n {
            let k = Swift.min(chunk, n - c)
            let mc = max(p + c, k) * s
            if mc == -.infinity { nan = nan || hasNaN(p + c, k); c += k; continue }
            let (sc, wc, _) = sumExpMoment(p + c, k, s, mc, next: nil)
            // y relative to the new maximum M is y_c − (M − m_c): W = Σ e'(y_c − d)
            if mc > m {
                let d = mc - m, f = _exp(-d)
                (st, wt) = m == -.infinity ? (sc, wc) : (st * f + sc, f * (wt - d * st) + wc)
                m = mc
            } else {
                let d = m - mc, f = _exp(-d)
                st += sc * f
                wt += f * (wc - d * sc)
            }
            c += k
        }
        return nan ? (.nan, .nan, .nan) : (m, st, wt)
    }

    /// KL(P‖Q) of a pair of rows, chunk by chunk (see `maxSumExp`): the sums of each chunk
    /// relative to its own maxima, combined at the end; +inf where P has mass that Q
    /// excludes; NaN when a row holds a NaN. `masked` is true when p or q is all -inf.
    @inline(never)
    static func klRow(_ p: UnsafePointer<Double>, _ q: UnsafePointer<Double>, _ n: Int, _ s: Double)
        -> (kl: Double, masked: Bool) {
        if n <= chunk {  // one chunk: no combining (and no allocation per row of a batch)
            let (a, b, inf) = maxPair(p, q, n)
            if a > -.infinity && b > -.infinity {
                let (sp, sq, w) = klSums(p, q, n, s, a * s, b * s)
                return (Dist.klValue(sp, sq, w, inf), false)
            }
            return (.nan, !(hasNaN(p, n) || hasNaN(q, n)))
        }
        struct Part { var mp: Double; var mq: Double; var sp: Double; var sq: Double; var w: Double }
        var parts: [Part] = []
        var inf = false, nan = false
        var mp = -Double.infinity, mq = -Double.infinity
        var c = 0
        while c < n {
            let k = Swift.min(chunk, n - c)
            let (a, b, infc) = maxPair(p + c, q + c, k)
            let mpc = a * s, mqc = b * s
            inf = inf || infc
            if mpc == -.infinity || mqc == -.infinity { nan = nan || hasNaN(p + c, k) || hasNaN(q + c, k) }
            if mpc > -.infinity && mqc > -.infinity {
                let (sp, sq, w) = klSums(p + c, q + c, k, s, mpc, mqc)
                parts.append(Part(mp: mpc, mq: mqc, sp: sp, sq: sq, w: w))
            } else if mqc > -.infinity {  // no P mass here: only Σ e_q
                parts.append(Part(mp: -.infinity, mq: mqc, sp: 0, sq: sumExp(q + c, k, s, mqc, next: nil).0, w: 0))
            }
            mp = Swift.max(mp, mpc); mq = Swift.max(mq, mqc)
            c += k
        }
        if nan { return (.nan, false) }
        if mp == -.infinity || mq == -.infinity { return (.nan, true) }
        if parts.count == 1, let only = parts.first, only.mp == mp, only.mq == mq {
            return (Dist.klValue(only.sp, only.sq, only.w, inf), false)
        }
        var sp = 0.0, sq = 0.0, w = 0.0
        for t in parts {
            sq += t.sq * _exp(t.mq - mq)
            guard t.mp > -.infinity else { continue }
            let dp = mp - t.mp, dq = mq - t.mq, f = _exp(-dp)
            sp += t.sp * f
            w += f * (t.w - (dp - dq) * t.sp)
        }
        return (Dist.klValue(sp, sq, w, inf), false)
    }

    /// out = (x·s − m) − l (log_softmax with l = log Σe): the max is subtracted first, so
    /// logits far from 0 (1e4 + noise) keep their digits.
    @inline(never)
    static func writeShifted(_ p: UnsafePointer<Double>, _ out: UnsafeMutablePointer<Double>, _ n: Int, _ s: Double, _ m: Double, _ l: Double) {
        let negM = V(repeating: -m)
        var i = 0
        while i + w <= n {
            UnsafeMutableRawPointer(out + i).storeBytes(of: negM.addingProduct(ld(p, i), s) - l, as: V.self)
            i += w
        }
        while i < n { out[i] = (-m).addingProduct(p[i], s) - l; i += 1 }
    }

    /// out = exp(x·s − m)·c (softmax with m and c = 1/Σe known).
    @inline(never)
    static func writeExpScaled(_ p: UnsafePointer<Double>, _ out: UnsafeMutablePointer<Double>, _ n: Int, _ s: Double,
                               _ m: Double, _ c: Double) {
        let negM = V(repeating: -m)
        var i = 0
        while i + w <= n {
            let e = FastExp.exp(negM.addingProduct(ld(p, i), s)) * c
            UnsafeMutableRawPointer(out + i).storeBytes(of: e, as: V.self)
            i += w
        }
        while i < n { out[i] = FastExp.exp((-m).addingProduct(p[i], s)) * c; i += 1 }
    }

    /// out = exp(x·s − m), returns Σ out (first half of softmax).
    @inline(never)
    static func writeExp(_ p: UnsafePointer<Double>, _ out: UnsafeMutablePointer<Double>, _ n: Int, _ s: Double, _ m: Double) -> Double {
        let negM = V(repeating: -m)
        var total = 0.0
        var i = 0
        while i + w <= n {
            var acc = V()
            let end = blockEnd(i, n)
            while i < end {
                let e = FastExp.exp(negM.addingProduct(ld(p, i), s))
                UnsafeMutableRawPointer(out + i).storeBytes(of: e, as: V.self)
                acc += e
                i += w
            }
            total += acc.sum()
        }
        while i < n { let e = FastExp.exp((-m).addingProduct(p[i], s)); out[i] = e; total += e; i += 1 }
        return total
    }

    /// out *= c.
    @inline(never)
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
