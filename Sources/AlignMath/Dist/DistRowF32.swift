import AlignMathC
import Foundation

/// The per-row kernels of `Dist` for Float data: `SIMD8<Float>` (one AVX2 register; 16
/// lanes on AVX2 ran out of the 16 registers and spilled), fused multiply-adds, `FastExp.expSum` for sums (`FastExp.exp`
/// where exponentials are written out), partial sums of at most 16 terms per lane in
/// Float flushed into Double accumulators. Each works on one row of `n` logits already
/// known to have a finite maximum; `s` is 1/temperature and `m` the row maximum times
/// `s`, so every exponent `x·s − m` is ≤ 0 and nothing overflows. `-inf` entries give
/// exactly zero weight. The last partial vector of a row is padded with `-inf` (no mass).
///
/// The row kernels are `@inline(never)`: the standard library's SIMD bitwise operators
/// and selects are per-lane loops that LLVM's SLP vectorizer rebuilds into vector code
/// reliably in a small function, not always once inlined into a large closure (which
/// produced per-lane scalar code for the clamps). One call per row costs nothing.
///
/// Rows are processed in order by `Dist`, which reads the *next* row's maximum inside the
/// exp pass of the current one (`next`/`nextMax` arguments): the max pass is the one that
/// brings a row from memory, and fusing it into the compute-bound pass over the previous
/// row (already in L2) overlaps the memory traffic with the exponentials.
enum RowF32 {
    typealias V = SIMD8<Float>
    typealias U = SIMD8<UInt32>
    static let w = 8
    /// Vectors per Float partial sum before it is flushed into Double.
    static let block = 16

    /// Loads `w` elements at `i`; past the end of the row the lanes are `-inf` (no mass).
    @inline(__always)
    static func load(_ p: UnsafePointer<Float>, _ i: Int, _ n: Int) -> V {
        if _fastPath(i + w <= n) { return UnsafeRawPointer(p + i).loadUnaligned(as: V.self) }
        return loadTail(p + i, n - i)
    }

    /// The last `k < w` elements of a row, padded with `-inf` (no mass) or `pad` (out of
    /// line: once per row).
    @inline(never)
    static func loadTail(_ p: UnsafePointer<Float>, _ k: Int, pad: Float = -.infinity) -> V {
        var v = V(repeating: pad)
        for j in 0..<k { v[j] = p[j] }
        return v
    }

    /// Plain vector load (the caller knows `w` elements are there).
    @inline(__always)
    static func ld(_ p: UnsafePointer<Float>, _ i: Int) -> V { UnsafeRawPointer(p + i).loadUnaligned(as: V.self) }

    /// Lanewise max that ignores NaN in `a` (compiles to one `maxps`).
    @inline(__always)
    static func vmax(_ a: V, _ b: V) -> V { FastExp.select(a .> b, a, b) }

    @inline(__always)
    static func bits(_ m: SIMDMask<V.MaskStorage>) -> U { unsafeBitCast(m, to: U.self) }

    /// `v` where `keep` is all ones, +0 elsewhere.
    @inline(__always)
    static func masked(_ v: V, _ keep: U) -> V { unsafeBitCast(unsafeBitCast(v, to: U.self) & keep, to: V.self) }

    /// End (exclusive) of the block of full vectors starting at `i`: at most `block`
    /// vectors, none reaching past `n`.
    @inline(__always)
    static func blockEnd(_ i: Int, _ n: Int) -> Int { Swift.min(i + block * w, n - w + 1) }

    /// Largest element (`-inf` for an empty or fully masked row; NaN lanes are ignored).
    @inline(never)
    static func max(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
        var m0 = V(repeating: -.infinity), m1 = m0
        var i = 0
        while i + 2 * w <= n {
            m0 = vmax(ld(p, i), m0)
            m1 = vmax(ld(p, i + w), m1)
            i += 2 * w
        }
        while i < n { m0 = vmax(load(p, i, n), m0); i += w }
        return vmax(m1, m0).max()
    }

    /// Whether `Dist.kl` sends the rows that fit it to the fast kernel (`am_kl_sums_f32_fast`,
    /// ~21% less CPU per f32 row pair). On since the f64 kernel follows it: issue 11 holds f64
    /// KL within 2.2x of f32 KL, and with this kernel alone one 128k row gave f64 = 3.07x f32;
    /// the f64 blocks that fit now take `am_kl_block_f64_fast` (a 256-entry table read by byte
    /// loads, degree-4 polynomial), ~36% faster, so the ratio is ~1.9x (BENCHMARKS.md, "f64 KL
    /// with a 256-entry table"). Both kernels are tested against wider references
    /// (`DistKLF32KernelTests`, `DistKLF64KernelTests`).
    static let fastKLEnabled = true

    /// Whether the rows `Dist.kl` sends to the fast kernel run its AVX-512 twin
    /// (`am_kl_sums_f32_fast_avx512`: the same exponential sixteen lanes a step, ~40% less
    /// CPU per row pair in L2; BENCHMARKS.md, "KL with AVX-512 and prefetched rows") by
    /// default. Off: with it one 128k f32 row takes 0.060-0.066 ms where f64 KL takes 0.18,
    /// 2.75-3.04x, against issue 11's f64 within 2.2x of f32 (1.94-2.04x with the AVX2 kernel),
    /// until the f64 kernel follows; the [4096, 32000] batch is within 1.5x of the read floor
    /// without it (the prefetched rows).
    static let avx512KLByDefault = false

    /// Whether `Dist.kl` runs the AVX-512 fast kernel: only on CPUs whose AVX-512 (F and DQ)
    /// the OS enables (checked at run time; the binary itself stays x86-64-v3), by default as
    /// `avx512KLByDefault` says, or as `MOONLAB_KL_AVX512=1` / `=0` in the environment says (to
    /// time or test either kernel on such a CPU).
    static let avx512KL: Bool = {
        guard am_cpu_has_avx512() != 0 else { return false }
        guard let v = getenv("MOONLAB_KL_AVX512") else { return avx512KLByDefault }
        return String(cString: v) == "1"
    }()

    /// What KL needs to know of a pair of rows before its pass: the maxima (the shifts), whether
    /// some token has P-mass (p > -inf) where q = -inf (then KL is +inf; only a row of q
    /// holding a `-inf` can have one, so the exact test `massWhereQMasked` runs only for
    /// those rows), and the minima, which tell whether every exponent stays in the range of
    /// the fast kernel (`am_kl_sums_f32_fast`).
    struct PairExtremes {
        var mp: Float, mq: Float, inf: Bool, minp: Float, minq: Float

        /// Whether every (x − max)·s of both rows is above -86 (so 2^((x − max)·s·8/ln 2 / 8)
        /// never underflows; no -inf, finite maxima): the rows the fast kernel takes. NaN
        /// lanes are not in the minima; they give NaN through either kernel.
        func fitsFastKernel(_ s: Double) -> Bool {
            (Double(minp) - Double(mp)) * s >= -86 && (Double(minq) - Double(mq)) * s >= -86
        }
    }

    /// Running extremes of a pair of rows (see `PairExtremes`).
    struct PairMax {
        var mp = V(repeating: -.infinity), mq = V(repeating: -.infinity)
        var minq = V(repeating: .infinity), minp = V(repeating: .infinity)
        @inline(__always)
        mutating func add(_ x: V, _ z: V) {
            mp = RowF32.vmax(x, mp); mq = RowF32.vmax(z, mq)
            minq = FastExp.select(z .< minq, z, minq)
            minp = FastExp.select(x .< minp, x, minp)
        }
        /// The last `k < w` elements of both rows: the padding is -inf for the maxima and
        /// +inf for the minima, so neither sees it.
        mutating func addTail(_ p: UnsafePointer<Float>, _ q: UnsafePointer<Float>, _ k: Int) {
            let x = RowF32.loadTail(p, k), z = RowF32.loadTail(q, k)
            let xi = RowF32.loadTail(p, k, pad: .infinity), zi = RowF32.loadTail(q, k, pad: .infinity)
            mp = RowF32.vmax(x, mp); mq = RowF32.vmax(z, mq)
            minq = FastExp.select(zi .< minq, zi, minq)
            minp = FastExp.select(xi .< minp, xi, minp)
        }
        /// The extremes of the rows `p`, `q` just scanned.
        @inline(__always)
        func result(_ p: UnsafePointer<Float>, _ q: UnsafePointer<Float>, _ n: Int) -> PairExtremes {
            let inf = minq.min() == -.infinity && RowF32.massWhereQMasked(p, q, n)
            return PairExtremes(mp: mp.max(), mq: mq.max(), inf: inf, minp: minp.min(), minq: minq.min())
        }
    }

    /// Whether some token has p > -inf where q = -inf.
    @inline(never)
    static func massWhereQMasked(_ p: UnsafePointer<Float>, _ q: UnsafePointer<Float>, _ n: Int) -> Bool {
        var inf = U()
        var i = 0
        while i < n {
            inf |= bits(load(q, i, n) .== -.infinity) & ~bits(load(p, i, n) .== -.infinity)
            i += w
        }
        return inf != U()
    }

    @inline(never)
    static func maxPair(_ p: UnsafePointer<Float>, _ q: UnsafePointer<Float>, _ n: Int) -> PairExtremes {
        var a = PairMax()
        var i = 0
        while i + w <= n { a.add(ld(p, i), ld(q, i)); i += w }
        if i < n { a.addTail(p + i, q + i, n - i) }
        return a.result(p, q, n)
    }

    /// Σ exp(x·s − m); also the max of row `next` (same length) when given, else -inf.
    @inline(never)
    static func sumExp(_ p: UnsafePointer<Float>, _ n: Int, _ s: Float, _ m: Float,
                       next: UnsafePointer<Float>?) -> (Double, Float) {
        var total = 0.0
        var nm = V(repeating: -.infinity)
        let nx = next ?? p, negM = V(repeating: -m)
        var i = 0
        while i + w <= n {
            var acc = V(), acc1 = V()
            let end = blockEnd(i, n)
            // Two independent exponentials per step: the polynomial is a chain of
            // dependent multiply-adds, and interleaving two keeps both FMA units busy.
            while i + w < end {
                acc += FastExp.expSum(negM.addingProduct(ld(p, i), s)).0
                acc1 += FastExp.expSum(negM.addingProduct(ld(p, i + w), s)).0
                nm = vmax(ld(nx, i), nm)
                nm = vmax(ld(nx, i + w), nm)
                i += 2 * w
            }
            if i < end {
                acc += FastExp.expSum(negM.addingProduct(ld(p, i), s)).0
                nm = vmax(ld(nx, i), nm)
                i += w
            }
            total += Double((acc + acc1).sum())
        }
        if i < n {
            total += Double(FastExp.expSum(negM.addingProduct(load(p, i, n), s)).0.sum())
            nm = vmax(load(nx, i, n), nm)
        }
        return (total, next == nil ? -.infinity : nm.max())
    }

    /// `sumExp` of row `p` that also writes the log_softmax of the previous row
    /// (`wdst = (wsrc·s − wm) − wl`, see `writeShifted`): that row is still in L2, and
    /// its stores to memory overlap this row's exponentials instead of following them.
    @inline(never)
    static func sumExpWritingPrevious(_ p: UnsafePointer<Float>, _ n: Int, _ s: Float, _ m: Float,
                                      next: UnsafePointer<Float>?,
                                      _ wsrc: UnsafePointer<Float>, _ wdst: UnsafeMutablePointer<Float>,
                                      _ wm: Float, _ wl: Float) -> (Double, Float) {
        var total = 0.0
        var nm = V(repeating: -.infinity)
        let nx = next ?? p, negM = V(repeating: -m), negWm = V(repeating: -wm)
        var i = 0
        while i + w <= n {
            var acc = V()
            let end = blockEnd(i, n)
            while i < end {
                acc += FastExp.expSum(negM.addingProduct(ld(p, i), s)).0
                nm = vmax(ld(nx, i), nm)
                UnsafeMutableRawPointer(wdst + i).storeBytes(of: negWm.addingProduct(ld(wsrc, i), s) - wl, as: V.self)
                i += w
            }
            total += Double(acc.sum())
        }
        if i < n {
            total += Double(FastExp.expSum(negM.addingProduct(load(p, i, n), s)).0.sum())
            nm = vmax(load(nx, i, n), nm)
            let y = negWm.addingProduct(load(wsrc, i, n), s) - wl
            for k in 0..<(n - i) { wdst[i + k] = y[k] }
        }
        return (total, next == nil ? -.infinity : nm.max())
    }

    /// (Σ e, Σ e·y) with y = x·s − m, e = exp(y): what entropy needs (H = log Σe − Σey/Σe);
    /// also the max of row `next` when given.
    @inline(never)
    static func sumExpMoment(_ p: UnsafePointer<Float>, _ n: Int, _ s: Float, _ m: Float,
                             next: UnsafePointer<Float>?) -> (Double, Double, Float) {
        var sTot = 0.0, wTot = 0.0
        var nm = V(repeating: -.infinity)
        let nx = next ?? p, negM = V(repeating: -m)
        var i = 0
        while i + w <= n {
            var accS = V(), accW = V(), accS1 = V(), accW1 = V()
            let end = blockEnd(i, n)
            // Two independent exponentials per step (see `sumExp`).
            while i + w < end {
                let y = negM.addingProduct(ld(p, i), s), y1 = negM.addingProduct(ld(p, i + w), s)
                let (e, keep) = FastExp.expSum(y)
                let (e1, keep1) = FastExp.expSum(y1)
                accS += e; accS1 += e1
                accW += masked(e * y, keep)  // 0·(-inf) lanes are zeroed, not NaN
                accW1 += masked(e1 * y1, keep1)
                nm = vmax(ld(nx, i), nm)
                nm = vmax(ld(nx, i + w), nm)
                i += 2 * w
            }
            if i < end {
                let y = negM.addingProduct(ld(p, i), s)
                let (e, keep) = FastExp.expSum(y)
                accS += e
                accW += masked(e * y, keep)
                nm = vmax(ld(nx, i), nm)
                i += w
            }
            sTot += Double((accS + accS1).sum()); wTot += Double((accW + accW1).sum())
        }
        if i < n {
            let y = negM.addingProduct(load(p, i, n), s)
            let (e, keep) = FastExp.expSum(y)
            sTot += Double(e.sum()); wTot += Double(masked(e * y, keep).sum())
            nm = vmax(load(nx, i, n), nm)
        }
        return (sTot, wTot, next == nil ? -.infinity : nm.max())
    }

    /// Partial sums of KL over a pair of rows (see `klSums`).
    struct KLAcc {
        var p = V(), q = V(), w = V()
        let negMp: V, negMq: V, s: Float
        @inline(__always)
        init(_ s: Float, _ mp: Float, _ mq: Float) { self.s = s; negMp = V(repeating: -mp); negMq = V(repeating: -mq) }
        @inline(__always)
        mutating func add(_ x: V, _ z: V) {
            let yp = negMp.addingProduct(x, s), yq = negMq.addingProduct(z, s)
            let (ep, keep) = FastExp.expSum(yp)
            q += FastExp.expSum(yq).0
            p += ep
            // Lanes where e_p = 0 are zeroed (their product may be 0·inf or NaN); where
            // e_p > 0 and q = -inf the term is +inf, and the caller returns +inf anyway.
            w += RowF32.masked(ep * (yp - yq), keep)
        }
        @inline(__always)
        mutating func flush(_ sp: inout Double, _ sq: inout Double, _ sw: inout Double) {
            sp += Double(p.sum()); sq += Double(q.sum()); sw += Double(w.sum())
            p = V(); q = V(); w = V()
        }
    }

    /// The sums of KL(P‖Q) over a pair of rows: (Σ e_p, Σ e_q, Σ e_p·(y_p − y_q)), and
    /// the extremes of the next pair (`PairExtremes`) when given.
    /// Where P has mass and q = -inf the caller already knows the answer is +inf.
    /// `fast` (rows that `PairExtremes.fitsFastKernel`, with their maxima before the
    /// temperature in `maxP`, `maxQ`) takes the cheaper exponential of
    /// `am_kl_sums_f32_fast` on x86-64 (`am_kl_sums_f32_fast_avx512` when `avx512`, which
    /// only a CPU with AVX-512 F and DQ may ask for); `vectorsInC: false` (tests) runs the Swift loop.
    @inline(never)
    static func klSums(_ p: UnsafePointer<Float>, _ q: UnsafePointer<Float>, _ n: Int, _ s: Float,
                       _ mp: Float, _ mq: Float,
                       nextP: UnsafePointer<Float>?, nextQ: UnsafePointer<Float>?,
                       fast: Bool = false, maxP: Float = 0, maxQ: Float = 0, vectorsInC: Bool = true,
                       avx512: Bool = RowF32.avx512KL)
        -> (Double, Double, Double, PairExtremes?) {
        var sp = 0.0, sq = 0.0, sw = 0.0
        let np = nextP ?? p, nq = nextQ ?? q
        var acc = KLAcc(s, mp, mq)
        var nxt = PairMax()
        var i = 0
        #if arch(x86_64)
        // The whole vectors in C (`am_kl_sums_f32`: the loop below, the same bits, two
        // vectors a step and no spilled constants: ~10% less CPU per row, BENCHMARKS.md
        // "Issue 11/13, sixth pass"); the tail below as before. With `fast`, the whole
        // row in `am_kl_sums_f32_fast` (~30% less CPU again), or its AVX-512 twin.
        if vectorsInC && (fast || n >= w) {
            var sums = SIMD4<Double>()
            var next = (nxt.mp, nxt.mq, nxt.minq, nxt.minp)
            let m = fast ? n : n - n % w
            withUnsafeMutableBytes(of: &sums) { sb in
                withUnsafeMutableBytes(of: &next) { nb in
                    let sums = sb.baseAddress.unsafelyUnwrapped.assumingMemoryBound(to: Double.self)
                    let next = nb.baseAddress.unsafelyUnwrapped.assumingMemoryBound(to: Float.self)
                    if fast && avx512 { am_kl_sums_f32_fast_avx512(p, q, m, s, maxP, maxQ, np, nq, sums, next) }
                    else if fast { am_kl_sums_f32_fast(p, q, m, s, maxP, maxQ, np, nq, sums, next) }
                    else { am_kl_sums_f32(p, q, m, s, mp, mq, np, nq, sums, next) }
                }
            }
            (sp, sq, sw) = (sums[0], sums[1], sums[2])
            (nxt.mp, nxt.mq, nxt.minq, nxt.minp) = next
            i = m
        }
        #endif
        while i + w <= n {
            let end = blockEnd(i, n)
            while i < end {
                acc.add(ld(p, i), ld(q, i))
                nxt.add(ld(np, i), ld(nq, i))
                i += w
            }
            acc.flush(&sp, &sq, &sw)
        }
        if i < n {
            acc.add(load(p, i, n), load(q, i, n))
            nxt.addTail(np + i, nq + i, n - i)
            acc.flush(&sp, &sq, &sw)
        }
        if nextP == nil { return (sp, sq, sw, nil) }
        return (sp, sq, sw, nxt.result(np, nq, n))
    }

    /// out = (x·s − m) − l (log_softmax with l = log Σe): the max is subtracted first, so
    /// logits far from 0 (1e4 + noise) keep their digits.
    @inline(never)
    static func writeShifted(_ p: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int, _ s: Float, _ m: Float, _ l: Float) {
        var i = 0
        while i + w <= n {
            let x = UnsafeRawPointer(p + i).loadUnaligned(as: V.self)
            UnsafeMutableRawPointer(out + i).storeBytes(of: V(repeating: -m).addingProduct(x, s) - l, as: V.self)
            i += w
        }
        if i < n {
            let y = V(repeating: -m).addingProduct(load(p, i, n), s) - l
            for k in 0..<(n - i) { out[i + k] = y[k] }
        }
    }

    /// out = exp(x·s − m), returns Σ out (first half of softmax) and the max of `next`.
    @inline(never)
    static func writeExp(_ p: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int, _ s: Float, _ m: Float,
                         next: UnsafePointer<Float>?) -> (Double, Float) {
        var total = 0.0
        var nm = V(repeating: -.infinity)
        let nx = next ?? p, negM = V(repeating: -m)
        var i = 0
        while i + w <= n {
            var acc = V()
            let end = blockEnd(i, n)
            while i < end {
                let e = FastExp.exp(negM.addingProduct(ld(p, i), s))
                UnsafeMutableRawPointer(out + i).storeBytes(of: e, as: V.self)
                acc += e
                nm = vmax(ld(nx, i), nm)
                i += w
            }
            total += Double(acc.sum())
        }
        if i < n {
            let e = FastExp.exp(negM.addingProduct(load(p, i, n), s))
            for k in 0..<(n - i) { out[i + k] = e[k] }
            total += Double(e.sum())
            nm = vmax(load(nx, i, n), nm)
        }
        return (total, next == nil ? -.infinity : nm.max())
    }

    /// out *= c.
    @inline(never)
    static func scale(_ out: UnsafeMutablePointer<Float>, _ n: Int, _ c: Float) {
        var i = 0
        while i + w <= n {
            let v = UnsafeRawPointer(out + i).loadUnaligned(as: V.self)
            UnsafeMutableRawPointer(out + i).storeBytes(of: v * c, as: V.self)
            i += w
        }
        while i < n { out[i] *= c; i += 1 }
    }
}
