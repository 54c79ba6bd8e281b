import Foundation
import AlignMathC

/// The per-row kernels of `Dist` for Double data. A row is walked once, in blocks of
/// `block` elements (4 KB, L1-sized): the sums of block b are taken against the running
/// maximum, and the maximum of block b + 1 is read inside the pass over block b, so the next
/// block's trip from memory overlaps the exponentials of this one (the f32 kernels do the
/// same across rows). When a block raises the running maximum, the sums so far are rescaled
/// (one scalar `exp` per such block). A row is thus read from memory once, not twice (a max
/// pass, then a sum pass) — for a 1 MB row, the max pass from L3 was a third of the time.
///
/// Each works on one row of `n` logits; `s` is 1/temperature and `m` a maximum times `s`.
/// Vectors are `SIMD4<Double>` (one AVX2 register), two per step so the exponentials'
/// multiply-add chains overlap, every kernel `@inline(never)` (see `RowF32` on why).
/// Exponents of the sums are clamped at `FastExp.minNormalInputD` (`clampedExp`): a masked
/// (`-inf`) token or padding lane then weighs e^-708 ≈ 3e-308 instead of 0, nothing next to
/// the row maximum's e^0 = 1 in the same sum, and the sums need no masks (`0·-inf`). KL's
/// Σ e_p·(y_p − y_q) keeps y_q unclamped (a token P keeps and Q nearly excludes is a large
/// term, not noise) and zeroes the terms whose e_p is the clamp's.
/// The maxima ignore NaN; a NaN logit makes every sum of its row NaN.
enum RowF64 {
    typealias V = SIMD4<Double>
    typealias U = SIMD4<UInt64>
    static let w = 4
    /// Elements per block: 4 KB (8 KB for a pair) stays in L1 between its max and its sums.
    static let block = 512

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

    /// `e^y` of `y ≤ 0` for a sum: `y` raised to `minNormalInputD` first (NaN kept: one
    /// `vmaxpd`), so the result is always a normal number and no lane needs masking.
    @inline(__always)
    static func clampedExp(_ y: V) -> (e: V, y: V) {
        let lo = V(repeating: FastExp.minNormalInputD)
        let yc = FastExp.select(y .< lo, lo, y)
        return (FastExp.expNormal(yc), yc)
    }

    /// Largest element (`-inf` for an empty or fully masked row; NaN lanes are ignored).
    @inline(never)
    static func max(_ p: UnsafePointer<Double>, _ n: Int) -> Double {
        var m0 = V(repeating: -.infinity), m1 = m0
        var i = 0
        while i + 2 * w <= n { m0 = vmax(ld(p, i), m0); m1 = vmax(ld(p, i + w), m1); i += 2 * w }
        while i < n { m0 = vmax(load(p, i, n), m0); i += w }
        return vmax(m1, m0).max()
    }

    /// Whether `p[0..<n]` holds a NaN (for rows whose maximum is -inf; rare).
    static func hasNaN(_ p: UnsafePointer<Double>, _ n: Int) -> Bool { (0..<n).contains { p[$0].isNaN } }

    /// The blocks of a row: `(start, count)` of block `b`, and of the one after it.
    @inline(__always)
    static func blockCount(_ n: Int, _ c: Int) -> Int { Swift.min(block, n - c) }

    // MARK: Σ e

    /// Σ exp(x·s − m) over `p[0..<k]`, and the max of `next[0..<k]` when `next` is given (a
    /// block of the same length).
    @inline(never)
    static func sumExpBlock(_ p: UnsafePointer<Double>, _ k: Int, _ s: Double, _ m: Double,
                            next: UnsafePointer<Double>?) -> (Double, Double) {
        let negM = V(repeating: -m)
        var a0 = V(), a1 = V()
        var n0 = V(repeating: -.infinity), n1 = n0
        var i = 0
        if let nx = next {
            while i + 2 * w <= k {
                a0 += clampedExp(negM.addingProduct(ld(p, i), s)).e
                a1 += clampedExp(negM.addingProduct(ld(p, i + w), s)).e
                n0 = vmax(ld(nx, i), n0); n1 = vmax(ld(nx, i + w), n1)
                i += 2 * w
            }
        } else {
            while i + 2 * w <= k {
                a0 += clampedExp(negM.addingProduct(ld(p, i), s)).e
                a1 += clampedExp(negM.addingProduct(ld(p, i + w), s)).e
                i += 2 * w
            }
        }
        while i < k {
            a0 += clampedExp(negM.addingProduct(load(p, i, k), s)).e
            if let nx = next { n0 = vmax(load(nx, i, k), n0) }
            i += w
        }
        return ((a0 + a1).sum(), vmax(n1, n0).max())
    }

    /// The row's starting maximum (times `s`): its first block's when that is finite, else the
    /// whole row's. `-inf` for a row without a finite maximum (all -inf or NaN).
    @inline(__always)
    static func startMax(_ p: UnsafePointer<Double>, _ n: Int, _ s: Double) -> (m: Double, first: Double) {
        let first = max(p, blockCount(n, 0))
        return first > -.infinity ? (first * s, first) : (max(p, n) * s, first)
    }

    /// (m, Σ exp(x·s − m)) of a row, m its maximum times `s`: `-inf` for a row of only -inf
    /// (and NaN), NaN (with the sum) when it holds a NaN. One trip from memory.
    @inline(never)
    static func maxSumExp(_ p: UnsafePointer<Double>, _ n: Int, _ s: Double) -> (Double, Double) {
        guard n > 0 else { return (-.infinity, 0) }
        #if arch(x86_64)
        // A row whose exponents all stay above `fastKLFloor` (no -inf, no +inf, a spread
        // under 690/s): the table exponential of the KL kernel, after one pass for the
        // extremes (the row is then in the cache for the sums). 2^(y'/256) is exactly 1 at
        // the maximum, so the shift is the maximum's own, as below.
        if fastSumExpEnabled && n >= 256 {
            let (mx, mn) = maxMin(p, n)
            if mx.isFinite && mn.isFinite && (mn - mx) * s >= fastKLFloor {
                return (mx * s, am_sumexp_f64_fast(p, n, s * (256 / M_LN2), mx))
            }
        }
        #endif
        var (m, bm) = startMax(p, n, s)
        if !(m > -.infinity) { return hasNaN(p, n) ? (.nan, .nan) : (-.infinity, 0) }
        var total = 0.0, c = 0
        while c < n {
            let k = blockCount(n, c), nc = c + k
            if bm * s > m { total *= _exp(m - bm * s); m = bm * s }
            let same = nc < n && blockCount(n, nc) == k
            let (sb, nm) = sumExpBlock(p + c, k, s, m, next: same ? p + nc : nil)
            total += sb
            bm = same ? nm : (nc < n ? max(p + nc, n - nc) : -.infinity)
            c = nc
        }
        return (m, total)
    }

    // MARK: Σ e, Σ e·y (entropy)

    /// (Σ e, Σ e·y) with y = x·s − m, e = exp(y) over `p[0..<k]`; the max of `next` as above.
    @inline(never)
    static func momentBlock(_ p: UnsafePointer<Double>, _ k: Int, _ s: Double, _ m: Double,
                            next: UnsafePointer<Double>?) -> (Double, Double, Double) {
        let negM = V(repeating: -m)
        var s0 = V(), s1 = V(), w0 = V(), w1 = V()
        var n0 = V(repeating: -.infinity), n1 = n0
        var i = 0
        @inline(__always) func step(_ x0: V, _ x1: V) {
            let (e0, y0) = clampedExp(negM.addingProduct(x0, s))
            let (e1, y1) = clampedExp(negM.addingProduct(x1, s))
            s0 += e0; s1 += e1
            w0.addProduct(e0, y0); w1.addProduct(e1, y1)
        }
        if let nx = next {
            while i + 2 * w <= k {
                step(ld(p, i), ld(p, i + w))
                n0 = vmax(ld(nx, i), n0); n1 = vmax(ld(nx, i + w), n1)
                i += 2 * w
            }
        } else {
            while i + 2 * w <= k { step(ld(p, i), ld(p, i + w)); i += 2 * w }
        }
        while i < k {
            let (e, y) = clampedExp(negM.addingProduct(load(p, i, k), s))
            s0 += e; w0.addProduct(e, y)
            if let nx = next { n0 = vmax(load(nx, i, k), n0) }
            i += w
        }
        return ((s0 + s1).sum(), (w0 + w1).sum(), vmax(n1, n0).max())
    }

    /// (m, Σ e, Σ e·y), y = x·s − m, e = exp(y), in one trip (see `maxSumExp`).
    @inline(never)
    static func maxSumExpMoment(_ p: UnsafePointer<Double>, _ n: Int, _ s: Double) -> (Double, Double, Double) {
        guard n > 0 else { return (-.infinity, 0, 0) }
        var (m, bm) = startMax(p, n, s)
        if !(m > -.infinity) { return hasNaN(p, n) ? (.nan, .nan, .nan) : (-.infinity, 0, 0) }
        var st = 0.0, wt = 0.0, c = 0
        while c < n {
            let k = blockCount(n, c), nc = c + k
            if bm * s > m {
                // relative to the new maximum, y = y_old − d: W = f·(W_old − d·S_old), S = f·S_old
                let d = bm * s - m, f = _exp(-d)
                wt = f * (wt - d * st); st *= f; m = bm * s
            }
            let same = nc < n && blockCount(n, nc) == k
            let (sb, wb, nm) = momentBlock(p + c, k, s, m, next: same ? p + nc : nil)
            st += sb; wt += wb
            bm = same ? nm : (nc < n ? max(p + nc, n - nc) : -.infinity)
            c = nc
        }
        return (m, st, wt)
    }

    /// The most a lane raised to `minNormalInputD` by `clampedExp` (a `-inf` or very small
    /// entry, or a lane of padding) adds to an entropy log Σe − Σe·y/Σe: e_lo·(1 + |y_lo|) ≈
    /// 1.58e-305, rounded up.
    static let clampResidue = 1.6e-305

    // MARK: KL

    /// The sums of KL(P‖Q) over a block of a pair of rows: (Σ e_p, Σ e_q, Σ e_p·(y_p − y_q),
    /// min of q); also the maxima of the next block of p and q when given. Two loops over the
    /// block (q's exponentials, then p's with the weighted differences; the block is in L1
    /// for the second): one loop doing both needed more than AVX2's 16 vector registers and
    /// spilled 6 accumulators to the stack on every step (5-6% slower here). `unit` is
    /// `s == 1` (the default temperature), where y = x − m is an add and needs no register
    /// for `s` (the same bits as the fused multiply-add by 1).
    @inline(__always)
    static func klBlockBody(_ p: UnsafePointer<Double>, _ q: UnsafePointer<Double>, _ k: Int, _ s: Double,
                            _ mp: Double, _ mq: Double, nextP: UnsafePointer<Double>?,
                            nextQ: UnsafePointer<Double>?, unit: Bool)
        -> (sp: Double, sq: Double, w: Double, minQ: Double, np: Double, nq: Double) {
        let negP = V(repeating: -mp), negQ = V(repeating: -mq)
        let lo = V(repeating: FastExp.minNormalInputD)
        @inline(__always) func y(_ x: V, _ neg: V) -> V { unit ? x + neg : neg.addingProduct(x, s) }
        // Σ e_q, min q, max of q's next block
        var sq = V(), mnq = V(repeating: .infinity), nq = V(repeating: -.infinity)
        let full = k & ~(w - 1)
        var i = 0
        if let qx = nextQ {
            while i < full {
                let b = ld(q, i)
                sq += clampedExp(y(b, negQ)).e
                mnq = FastExp.select(b .< mnq, b, mnq)
                nq = vmax(ld(qx, i), nq)
                i += w
            }
        } else {
            while i < full {
                let b = ld(q, i)
                sq += clampedExp(y(b, negQ)).e
                mnq = FastExp.select(b .< mnq, b, mnq)
                i += w
            }
        }
        // Σ e_p, Σ e_p·(y_p − y_q), max of p's next block
        var sp = V(), sw = V(), np = V(repeating: -.infinity)
        @inline(__always) func step(_ a: V, _ b: V) {
            let yp = y(a, negP), yq = y(b, negQ)
            let ep = clampedExp(yp).e
            sp += ep
            // y_p − y_q unclamped where P has mass (q may lie far below e^-708 there: that
            // is a large KL, not a rounding), 0 where its weight is the clamp's e^-708
            // (masked p, whose difference may be -inf + inf)
            sw.addProduct(ep, FastExp.select(yp .>= lo, yp - yq, V()))
        }
        i = 0
        if let px = nextP {
            while i < full { step(ld(p, i), ld(q, i)); np = vmax(ld(px, i), np); i += w }
        } else {
            while i < full { step(ld(p, i), ld(q, i)); i += w }
        }
        if i < k {  // the padding lanes (-inf in both) are not a q = -inf token
            var real = V(repeating: .infinity)
            for j in 0..<(k - i) { real[j] = q[i + j] }
            let b = load(q, i, k)
            sq += clampedExp(y(b, negQ)).e
            mnq = FastExp.select(real .< mnq, real, mnq)
            step(load(p, i, k), b)
            if let px = nextP, let qx = nextQ { np = vmax(load(px, i, k), np); nq = vmax(load(qx, i, k), nq) }
        }
        return (sp.sum(), sq.sum(), sw.sum(), mnq.min(), np.max(), nq.max())
    }

    /// `klBlockBody` for any `s`.
    @inline(never)
    static func klBlock(_ p: UnsafePointer<Double>, _ q: UnsafePointer<Double>, _ k: Int, _ s: Double,
                        _ mp: Double, _ mq: Double, nextP: UnsafePointer<Double>?, nextQ: UnsafePointer<Double>?)
        -> (sp: Double, sq: Double, w: Double, minQ: Double, np: Double, nq: Double) {
        klBlockBody(p, q, k, s, mp, mq, nextP: nextP, nextQ: nextQ, unit: false)
    }

    /// `klBlockBody` for `s == 1`.
    @inline(never)
    static func klBlockUnit(_ p: UnsafePointer<Double>, _ q: UnsafePointer<Double>, _ k: Int,
                            _ mp: Double, _ mq: Double, nextP: UnsafePointer<Double>?, nextQ: UnsafePointer<Double>?)
        -> (sp: Double, sq: Double, w: Double, minQ: Double, np: Double, nq: Double) {
        klBlockBody(p, q, k, 1, mp, mq, nextP: nextP, nextQ: nextQ, unit: true)
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

    /// Whether `maxSumExp` takes `am_sumexp_f64_fast` for the rows it fits (tests turn it off
    /// to compare with the kernel below).
    nonisolated(unsafe) static var fastSumExpEnabled = true

    /// A block goes to the fast kernel when every (x − max)·s of both its rows is at least
    /// this (2^(y'/256) then stays above 2^-996, a normal number: no clamp or mask there).
    static let fastKLFloor = -690.0

    /// (max, min) of a block, NaN ignored.
    @inline(__always)
    static func maxMin(_ p: UnsafePointer<Double>, _ n: Int) -> (Double, Double) {
        #if arch(x86_64)
        var r = SIMD2<Double>()
        withUnsafeMutableBytes(of: &r) { am_max_min_f64(p, n, $0.baseAddress.unsafelyUnwrapped.assumingMemoryBound(to: Double.self)) }
        return (r[0], r[1])
        #else
        var mn = Double.infinity
        for i in 0..<n where p[i] < mn { mn = p[i] }
        return (max(p, n), mn)
        #endif
    }

    /// KL(P‖Q) of a pair of rows in one trip (see `maxSumExp`): +inf where P has mass that Q
    /// excludes; NaN when a row holds a NaN or p or q is all -inf (as torch's kl_div).
    /// Blocks whose minima keep every exponent above `fastKLFloor` take the fast kernel
    /// (x86-64); from the first block that does not (a -inf, a spread over 690/s), the row
    /// keeps `klBlock`. The fast kernel (`am_kl_block_f64_fast`: e^y as 2^(y'/256) from a
    /// 256-entry table read by byte loads and a degree-4 polynomial) costs about a third less
    /// per row pair (BENCHMARKS.md, "f64 KL with a 256-entry table"); `fastKernel: false`
    /// (tests) sends every block to `klBlock`.
    @inline(never)
    static func klRow(_ p: UnsafePointer<Double>, _ q: UnsafePointer<Double>, _ n: Int, _ s: Double,
                      fastKernel: Bool = true) -> Double {
        guard n > 0 else { return .nan }
        let k0 = blockCount(n, 0)
        #if arch(x86_64)
        var fast = fastKernel && s > 0 && s.isFinite
        #else
        var fast = false
        #endif
        // the first block's extremes (its max and min in one pass when the fast kernel may take it)
        var bp: Double, bq: Double, lp = -Double.infinity, lq = -Double.infinity
        if fast { (bp, lp) = maxMin(p, k0); (bq, lq) = maxMin(q, k0) } else { bp = max(p, k0); bq = max(q, k0) }
        // the running maxima before the temperature (rp, rq) and times it (mp, mq)
        var rp = bp > -.infinity ? bp : max(p, n), rq = bq > -.infinity ? bq : max(q, n)
        var mp = rp * s, mq = rq * s
        if !(mp > -.infinity) || !(mq > -.infinity) { return .nan }
        let c = s * (256 / 0.693147180559945309417)  // y' in units of ln 2 / 256
        var sp = 0.0, sq = 0.0, w = 0.0, minQ = Double.infinity, cur = 0
        while cur < n {
            let k = blockCount(n, cur), nc = cur + k
            if fast {
                // the fast kernel's shifts are rp·s and rq·s exactly (y' = (x − rp)·c), so a
                // new maximum moves them by (b − r)·s, not by the difference of two rounded
                // products (off by ulp(1e4·s) for logits near 1e4)
                if bq > rq { let d = (bq - rq) * s; w += d * sp; sq *= _exp(-d); rq = bq; mq = bq * s }
                if bp > rp { let d = (bp - rp) * s, f = _exp(-d); w = f * (w - d * sp); sp *= f; rp = bp; mp = bp * s }
                // NaN minima or maxima fail the test (the block goes to klBlock)
                if !((lp - rp) * s >= fastKLFloor && (lq - rq) * s >= fastKLFloor) {
                    // from here klBlock, whose shifts are the rounded mp = rp·s, mq = rq·s:
                    // the sums so far move by the exact residuals δ = r·s − m (y = y' + δ)
                    fast = false
                    let dp = (-mp).addingProduct(rp, s), dq = (-mq).addingProduct(rq, s)
                    let fp = _exp(dp)
                    w = fp * (w + (dp - dq) * sp); sp *= fp; sq *= _exp(dq)
                }
            } else {
                if bq * s > mq {  // y_q = y_q,old − d: W gains d·Σe_p
                    let d = bq * s - mq
                    w += d * sp; sq *= _exp(-d); mq = bq * s
                }
                if bp * s > mp {  // y_p = y_p,old − d: W = f·(W − d·Σe_p), Σe_p = f·Σe_p
                    let d = bp * s - mp, f = _exp(-d)
                    w = f * (w - d * sp); sp *= f; mp = bp * s
                }
            }
            let same = nc < n && blockCount(n, nc) == k
            let nxP: UnsafePointer<Double>? = same ? p + nc : nil, nxQ: UnsafePointer<Double>? = same ? q + nc : nil
            #if arch(x86_64)
            if fast {
                var o = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
                withUnsafeMutableBytes(of: &o) {
                    am_kl_block_f64_fast(p + cur, q + cur, k, c, rp, rq, nxP, nxQ,
                                         $0.baseAddress.unsafelyUnwrapped.assumingMemoryBound(to: Double.self))
                }
                sp += o.0; sq += o.1; w += o.2; minQ = Swift.min(minQ, lq)
                if same { (bp, bq, lp, lq) = (o.3, o.4, o.5, o.6) } else if nc < n {
                    (bp, lp) = maxMin(p + nc, n - nc); (bq, lq) = maxMin(q + nc, n - nc)
                }
                cur = nc
                continue
            }
            #endif
            let b = s == 1 ? klBlockUnit(p + cur, q + cur, k, mp, mq, nextP: nxP, nextQ: nxQ)
                : klBlock(p + cur, q + cur, k, s, mp, mq, nextP: nxP, nextQ: nxQ)
            sp += b.sp; sq += b.sq; w += b.w; minQ = Swift.min(minQ, b.minQ)
            if same { (bp, bq) = (b.np, b.nq) } else if nc < n {
                (bp, bq) = (max(p + nc, n - nc), max(q + nc, n - nc))
            }
            cur = nc
        }
        let inf = minQ == -.infinity && massWhereQMasked(p, q, n)
        return Dist.klValue(sp, sq, w, inf)
    }

    // MARK: writes

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

    /// out = exp(x·s − m) over a block, returns Σ out and the max of `next`, a block of the
    /// same length, when given. A vector whose exponents are all in the normal range (all
    /// but the far tail of a real row) takes the table exp (`FastExp.expNormal`); one with
    /// a lane below it, `FastExp.exp` (exact zeros for -inf, and subnormals).
    @inline(never)
    static func writeExpBlock(_ p: UnsafePointer<Double>, _ out: UnsafeMutablePointer<Double>, _ k: Int,
                              _ s: Double, _ m: Double, next: UnsafePointer<Double>?) -> (Double, Double) {
        let negM = V(repeating: -m)
        let lo = V(repeating: FastExp.minNormalInputD)
        var a0 = V(), n0 = V(repeating: -.infinity)
        var i = 0
        while i + w <= k {
            let y = negM.addingProduct(ld(p, i), s)
            let e = any(y .< lo) ? FastExp.exp(y) : FastExp.expNormal(y)  // NaN: not below, stays NaN
            UnsafeMutableRawPointer(out + i).storeBytes(of: e, as: V.self)
            a0 += e
            if let nx = next { n0 = vmax(ld(nx, i), n0) }
            i += w
        }
        while i < k {
            let y = (-m).addingProduct(p[i], s)
            let e = y < FastExp.minNormalInputD ? FastExp.exp(y) : FastExp.expNormal(V(repeating: y))[0]
            out[i] = e; a0[0] += e
            if let nx = next { n0[0] = Swift.max(n0[0], nx[i]) }  // NaN ignored as vmax does
            i += 1
        }
        return (a0.sum(), n0.max())
    }

    /// softmax of a row into `out` in one trip from memory: each block's exponentials are
    /// written against the running maximum of its time, then every block is scaled by
    /// exp(m_b − m)/Σ (one multiply pass over the output, which is in cache for a row that
    /// fits). Returns false for a row without a finite maximum (the caller reports it).
    @inline(never)
    static func softmax(_ p: UnsafePointer<Double>, _ out: UnsafeMutablePointer<Double>, _ n: Int, _ s: Double) -> Bool {
        guard n > 0 else { return true }
        var (m, bm) = startMax(p, n, s)
        if !(m > -.infinity) {
            if hasNaN(p, n) { for i in 0..<n { out[i] = .nan }; return true }
            return false
        }
        let blocks = (n + block - 1) / block
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: blocks) { shifts in
            var total = 0.0, c = 0, b = 0
            while c < n {
                let k = blockCount(n, c), nc = c + k
                if bm * s > m { total *= _exp(m - bm * s); m = bm * s }
                let same = nc < n && blockCount(n, nc) == k
                let (sb, nm) = writeExpBlock(p + c, out + c, k, s, m, next: same ? p + nc : nil)
                total += sb; shifts[b] = m
                bm = same ? nm : (nc < n ? max(p + nc, n - nc) : -.infinity)
                c = nc; b += 1
            }
            let inv = 1 / total
            c = 0; b = 0
            while c < n {
                let k = blockCount(n, c)
                scale(out + c, k, shifts[b] == m ? inv : _exp(shifts[b] - m) * inv)
                c += k; b += 1
            }
            return true
        }
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
