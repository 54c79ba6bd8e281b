import Foundation

/// Options shared by every `Dist` function (`{temperature = t, probs = true}` in Lua).
public struct DistOptions: Sendable {
    /// Divides the logits before normalising (with `probs`, p becomes p^(1/T) renormalised).
    public var temperature: Double
    /// The inputs are probabilities (non-negative, renormalised per row), not logits.
    public var probs: Bool
    /// Options with PyTorch's defaults: temperature 1, logits.
    public init(temperature: Double = 1, probs: Bool = false) {
        self.temperature = temperature
        self.probs = probs
    }
}

/// Distributions over the last axis of a batch of logits: the `dist` module's math.
///
/// A 1-d input is one distribution; a 2-d or 3-d input is a batch of rows. Functions that
/// give one number per row return an `f64` tensor of shape `shape.dropLast()` (0-d for a
/// 1-d input: read it with `.scalar`); `softmax`/`logSoftmax` keep shape and dtype.
/// All work in the log domain after subtracting the row maximum; `-inf` entries are
/// excluded tokens (0·log 0 = 0). A row whose entries are all `-inf` (no token left) gives
/// what torch 2.x gives for it, never an error, so one such row does not lose a batch:
/// `logsumexp` -inf, NaN for every other function (every value of the row for
/// softmax/log_softmax; kl, js and tv when either side is such a row; cross_entropy unless
/// its target is -100). With `probs`, a row of zeros is such a row (its logs are -inf), as
/// torch's p / p.sum() gives NaN for it. Float inputs accumulate
/// in Double. A NaN anywhere in a row gives NaN for that row (every value of it for
/// softmax/log_softmax), never a number and never an error. Rows are split over the cores (`ParallelFor`), and
/// Ctrl-C (`Interruption`) stops a long call with `.interrupted`.
public enum Dist {
    /// Checks the options and turns the input into logits: returns the tensor to read
    /// and `s = 1/temperature`.
    static func prepare(_ x: Tensor, _ o: DistOptions, _ what: String) throws -> (Tensor, Double) {
        guard o.temperature > 0, o.temperature.isFinite else {
            throw AlignMathError.invalidArgument("temperature must be a finite number > 0, got \(o.temperature)")
        }
        guard x.ndim >= 1 else {
            throw AlignMathError.invalidArgument("\(what) must have at least one axis (got a 0-d tensor)")
        }
        // The kernels read dense f32/f64 rows: views are packed, i64/bool become f64.
        var x = x.contiguousFloating()
        if o.probs {
            for i in 0..<x.count {
                let v = x[flat: i]
                // NaN passes: its row gives NaN, never an error (the contract's NaN rows)
                guard v >= 0 || v.isNaN else {
                    throw AlignMathError.invalidArgument("\(what): probabilities must be >= 0, got \(v) at flat index \(i) (pass logits without probs = true)")
                }
            }
            x = try x.log()
        }
        let s = 1 / o.temperature
        guard s > prescaleAbove else { return (x, s) }
        return (try x.binary(.div, scalar: o.temperature), 1)
    }

    /// Above this `s = 1/temperature` the logits are divided by the temperature first, in
    /// their own dtype as torch's `x / T` (an f32 row over 3.4e38 becomes inf, and its row
    /// NaN, as torch's), and the kernels run at s = 1. The kernels form y = x·s − max·s with
    /// one fused multiply-add, exact up to the rounding of max·s: half an ulp of it, which is
    /// nothing at usual temperatures but shifts every exponent of a row out of exp's range
    /// once max·s passes ~1e9 in f32 or ~6e18 in f64 (T = 1e-30 gave a NaN softmax and an
    /// entropy of 1.39 where torch gives one-hot and 0). A temperature this small is rare,
    /// so the extra pass is paid only there.
    static let prescaleAbove = 1024.0

    /// Row max (times s) of row `r`; NaN for a row without a finite maximum (see `noMax`).
    @inline(__always)
    static func rowMax(_ x: Tensor, _ r: Int, _ s: Double) -> Double {
        let n = x.rowLength
        let m: Double = x.dtype == .f32 ? Double(RowF32.max(x.floatPointer + r * n, n))
                                        : RowF64.max(x.doublePointer + r * n, n)
        return m > -.infinity ? m * s : noMax
    }

    /// The maximum the kernels get for a row whose maximum is -inf. The maxima ignore NaN,
    /// so such a row is all -inf (no token left) or holds a NaN; torch gives NaN for both
    /// (softmax, log_softmax, entropy, kl, js, tv, cross_entropy), which a NaN maximum
    /// carries into every sum of the row. Only logsumexp tells them apart (`maskedLSE`).
    static let noMax = Double.nan

    /// logsumexp of a row the kernels cannot sum (its maximum is ±inf, or a NaN in it): NaN
    /// when it holds a NaN, +inf when it holds +inf, else -inf (every entry -inf: log 0), as
    /// torch's logsumexp. Only runs for such rows.
    static func maskedLSE(_ x: Tensor, _ r: Int) -> Double {
        let n = x.rowLength
        var hasNaN = false, hasInf = false
        for i in 0..<n {
            let v = x.dtype == .f32 ? Double(x.floatPointer[r * n + i]) : x.doublePointer[r * n + i]
            hasNaN = hasNaN || v.isNaN
            hasInf = hasInf || v == .infinity
        }
        return hasNaN ? .nan : hasInf ? .infinity : -.infinity
    }

    /// A positive NaN in place of every NaN of a per-row result: x86's arithmetic makes the
    /// NaN of inf − inf negative, which Lua prints as "-nan" (torch prints nan).
    static func plainNaNs(_ out: Tensor) -> Tensor {
        let d = out.doublePointer
        for i in 0..<out.count where d[i].isNaN { d[i] = .nan }
        return out
    }

    /// `max(0, x)` that keeps NaN (Swift.max(0, .nan) is 0).
    @inline(__always)
    static func nonNegative(_ x: Double) -> Double { x < 0 ? 0 : x }

    /// Runs the Float rows of `x` in parallel chunks, each chunk's rows in order:
    /// `body(r, m, next)` gets row `r`'s maximum times `s` (`noMax`, NaN, when it has no
    /// finite entry) and the next row of the chunk (nil for the last), and returns
    /// that next row's raw maximum, which the kernels read inside their pass over row `r`
    /// so the next row's trip from memory overlaps the current row's exponentials.
    static func eachRowF32(_ x: Tensor, _ s: Double,
                           _ body: (Int, Double, UnsafePointer<Float>?) -> Float) throws {
        let n = x.rowLength, base = UnsafePointer(x.floatPointer)
        try ParallelFor.rows(x.rowCount, costPerRow: Swift.max(1, n) * 2) { range in
            var mNext = RowF32.max(base + range.lowerBound * n, n)
            for r in range {
                let m = mNext > -.infinity ? Double(mNext) * s : noMax
                let next = r + 1 < range.upperBound ? base + (r + 1) * n : nil
                mNext = body(r, m, next)
            }
        }
    }

    /// Runs `body(r, row)` over the Double rows of `x` in parallel chunks of rows. (Each row
    /// kernel reads its row once, block by block, see `RowF64.maxSumExp`.)
    static func eachRowF64(_ x: Tensor, _ body: (Int, UnsafePointer<Double>) throws -> Void) throws {
        let n = x.rowLength, base = UnsafePointer(x.doublePointer)
        try ParallelFor.rows(x.rowCount, costPerRow: Swift.max(1, n) * 4) { range in
            for r in range { try body(r, base + r * n) }
        }
    }

    /// (m, Σ exp(x·s − m)) of a Double row (both NaN for a row without a finite maximum).
    @inline(__always)
    static func maxSumExp(_ x: Tensor, _ p: UnsafePointer<Double>, _ s: Double) -> (Double, Double) {
        let (m, se) = RowF64.maxSumExp(p, x.rowLength, s)
        return m == -.infinity ? (noMax, .nan) : (m, se)
    }

    /// A zero `f64` tensor for one value per row of `x`.
    static func perRowResult(_ x: Tensor) throws -> Tensor {
        try Tensor.zeros(Array(x.shape.dropLast()), dtype: .f64)
    }

    static func requireNonEmpty(_ x: Tensor, _ what: String) throws {
        if x.rowLength == 0 && x.rowCount > 0 {
            throw AlignMathError.invalidArgument("\(what): the last axis has length 0 (a distribution needs at least one token)")
        }
    }

    /// log Σ exp(x/T) per row. An empty row and an all-`-inf` row give `-inf` (log 0, as
    /// scipy and torch).
    public static func logsumexp(_ x: Tensor, _ o: DistOptions = .init()) throws -> Tensor {
        let (x, s) = try prepare(x, o, "logsumexp")
        let out = try perRowResult(x), d = out.doublePointer, n = x.rowLength
        if n == 0 { out.fill(-.infinity); return out }
        if x.dtype == .f32 {
            let p = x.floatPointer
            try eachRowF32(x, s) { r, m, next in
                let (se, nm) = RowF32.sumExp(p + r * n, n, Float(s), Float(m), next: next)
                let v = m.isNaN ? .nan : m + Foundation.log(se)
                d[r] = v.isNaN ? maskedLSE(x, r) : v  // a NaN, +inf, or all -inf row
                return nm
            }
            return out
        }
        try eachRowF64(x) { r, p in
            // (-inf, 0) for an all -inf row: -inf + log 0 = -inf, as torch
            let (m, se) = RowF64.maxSumExp(p, n, s)
            let v = m + Foundation.log(se)
            d[r] = v.isNaN ? maskedLSE(x, r) : v  // a NaN or +inf in the row
        }
        return out
    }

    /// log softmax(x/T) along the last axis; same shape and dtype as `x`.
    public static func logSoftmax(_ x: Tensor, _ o: DistOptions = .init()) throws -> Tensor {
        let (x, s) = try prepare(x, o, "log_softmax")
        let out = try Tensor.uninitialized(x.shape, dtype: x.dtype), n = x.rowLength
        if n == 0 { return out }
        if x.dtype == .f32 {
            // Row r's sums run together with the writes of row r−1 (still in L2), so the
            // output's trip to memory overlaps the exponentials.
            let src = UnsafePointer(x.floatPointer), dst = out.floatPointer, sf = Float(s)
            try ParallelFor.rows(x.rowCount, costPerRow: n * 2) { range in
                var mNext = RowF32.max(src + range.lowerBound * n, n)
                var pending: (row: Int, m: Float, l: Float)? = nil
                for r in range {
                    let m = mNext > -.infinity ? Double(mNext) * s : noMax
                    let next = r + 1 < range.upperBound ? src + (r + 1) * n : nil
                    let (se, nm): (Double, Float)
                    if let w = pending {
                        (se, nm) = RowF32.sumExpWritingPrevious(src + r * n, n, sf, Float(m), next: next,
                                                                src + w.row * n, dst + w.row * n, w.m, w.l)
                    } else {
                        (se, nm) = RowF32.sumExp(src + r * n, n, sf, Float(m), next: next)
                    }
                    pending = (r, Float(m), Float(Foundation.log(se)))
                    mNext = nm
                }
                if let w = pending { RowF32.writeShifted(src + w.row * n, dst + w.row * n, n, sf, w.m, w.l) }
            }
            return out
        }
        let dst = out.doublePointer
        try eachRowF64(x) { r, p in
            let (m, se) = maxSumExp(x, p, s)
            RowF64.writeShifted(p, dst + r * n, n, s, m, Foundation.log(se))
        }
        return out
    }

    /// softmax(x/T) along the last axis; same shape and dtype as `x`.
    public static func softmax(_ x: Tensor, _ o: DistOptions = .init()) throws -> Tensor {
        let (x, s) = try prepare(x, o, "softmax")
        let out = try Tensor.uninitialized(x.shape, dtype: x.dtype), n = x.rowLength
        if n == 0 { return out }
        if x.dtype == .f32 {
            let src = x.floatPointer, dst = out.floatPointer
            try eachRowF32(x, s) { r, m, next in
                let (total, nm) = RowF32.writeExp(src + r * n, dst + r * n, n, Float(s), Float(m), next: next)
                RowF32.scale(dst + r * n, n, Float(1 / total))
                return nm
            }
            return out
        }
        let dst = out.doublePointer
        try eachRowF64(x) { r, p in
            // false: every entry -inf, NaN as torch (a NaN row the kernel already wrote)
            if !RowF64.softmax(p, dst + r * n, n, s) { (dst + r * n).update(repeating: .nan, count: n) }
        }
        return out
    }

    /// Shannon entropy −Σ p log p (nats) of softmax(x/T), one per row. Exactly 0 for a
    /// one-hot row (probs {0, 1}, logits {0, -inf}), as torch's `special.entr(p).sum(-1)`.
    public static func entropy(_ x: Tensor, _ o: DistOptions = .init()) throws -> Tensor {
        let (x, s) = try prepare(x, o, "entropy")
        try requireNonEmpty(x, "entropy")
        let out = try perRowResult(x), d = out.doublePointer, n = x.rowLength
        // A one-hot row's entropy is 0 (torch.special.entr(p).sum(): entr(0) = entr(1) = 0),
        // but the kernels leave noise: the f64 one a clamp residue up to `RowF64.clampResidue`
        // per -inf or padding lane (4.7e-305 for the probs {0, 1}), both the rounding of
        // x·s − m at the maximum when x·s is inexact (T != 1: ~1e-16 in f64, ~1e-8 with the
        // f32 kernel's Float exponentials). An entropy below `tinyF64` / `tinyF32` (a row
        // one-hot or nearly so) is summed again in Double (`entropyUnclamped`: y = x·s − m,
        // exactly 0 at the maximum, exp unclamped), which gives torch's value: exactly 0
        // for a one-hot row. Outside the hot loop: one comparison per row, and a second
        // pass only over such rows.
        if x.dtype == .f32 {
            let p = x.floatPointer
            try eachRowF32(x, s) { r, m, next in
                let (se, sw, nm) = RowF32.sumExpMoment(p + r * n, n, Float(s), Float(m), next: next)
                let h = nonNegative(Foundation.log(se) - sw / se)
                d[r] = h < tinyF32 ? entropyUnclamped(UnsafePointer(p + r * n), n, s, m) : h
                return nm
            }
            return plainNaNs(out)
        }
        try eachRowF64(x) { r, p in
            var (m, se, sw) = RowF64.maxSumExpMoment(p, n, s)
            if m == -.infinity { m = noMax }
            guard !m.isNaN else { d[r] = .nan; return }
            let h = nonNegative(Foundation.log(se) - sw / se)
            d[r] = h < tinyF64 ? entropyUnclamped(UnsafePointer(p), n, s, m) : h
        }
        return plainNaNs(out)
    }

    /// Entropies below these are summed again by `entropyUnclamped` (see `entropy`).
    static let tinyF64 = 1e-14, tinyF32 = 1e-6

    /// log Σe − Σe·y/Σe of a row of `n` entries, y = x·s − m (`m` the row maximum times `s`,
    /// so y is exactly 0 there), e = exp(y) unclamped (subnormal or 0; 0·-inf terms left
    /// out), in Double, four lanes at a time (`FastExp.expNormal` / `exp`, within an ulp or
    /// two of libm):
    /// only for rows whose entropy is tiny, which at low temperatures can be most rows (a
    /// scalar libm pass took [1024, 32000] f32 at T = 0.05 from 18.6 to 74 ms).
    @inline(never)
    static func entropyUnclamped(_ p: UnsafePointer<Double>, _ n: Int, _ s: Double, _ m: Double) -> Double {
        entropyUnclampedBody(n, s, m, { UnsafeRawPointer(p + $0).loadUnaligned(as: SIMD4<Double>.self) }, { p[$0] })
    }

    @inline(never)
    static func entropyUnclamped(_ p: UnsafePointer<Float>, _ n: Int, _ s: Double, _ m: Double) -> Double {
        entropyUnclampedBody(n, s, m, { SIMD4<Double>(UnsafeRawPointer(p + $0).loadUnaligned(as: SIMD4<Float>.self)) },
                             { Double(p[$0]) })
    }

    @inline(__always)
    static func entropyUnclampedBody(_ n: Int, _ s: Double, _ m: Double, _ x4: (Int) -> SIMD4<Double>,
                                     _ x: (Int) -> Double) -> Double {
        typealias V = SIMD4<Double>
        let vs = V(repeating: s), vm = V(repeating: m), lo = V(repeating: FastExp.minNormalInputD)
        var se4 = V(), sw4 = V()
        var i = 0
        while i + 4 <= n {
            let y = x4(i) * vs - vm  // two roundings, as m was made: exactly 0 at the maximum
            // the table exp while every lane is in the normal range (NaN is not below it and
            // stays NaN); `exp` for subnormals, 0 below -745.1 and for -inf
            let e = any(y .< lo) ? FastExp.exp(y) : FastExp.expNormal(y)
            se4 += e
            sw4 += FastExp.select(e .> 0, e * y, V())
            i += 4
        }
        var se = se4.sum(), sw = sw4.sum()
        while i < n {
            let y = x(i) * s - m
            if y > -746 {  // exp(y) is 0 below (and y may be -inf)
                let e = Foundation.exp(y)
                se += e; sw += e * y
            } else if y.isNaN { se = .nan }
            i += 1
        }
        return nonNegative(Foundation.log(se) - sw / se)
    }

    /// Brings two inputs to one dtype and checks their shapes agree.
    static func pair(_ p: Tensor, _ q: Tensor, _ o: DistOptions, _ what: String) throws -> (Tensor, Tensor, Double) {
        guard p.shape == q.shape else {
            throw AlignMathError.shapeMismatch("\(what): p and q differ in shape (\(p.shape) vs \(q.shape))")
        }
        let dt = DType.promote(p.dtype, q.dtype)
        let (a, s) = try prepare(p.converted(to: dt), o, what + " p")
        let (b, _) = try prepare(q.converted(to: dt), o, what + " q")
        try requireNonEmpty(a, what)
        return (a, b, s)
    }

    /// KL(P‖Q) = Σ P (log P − log Q) in nats with P = softmax(p/T), Q = softmax(q/T), one
    /// per row. Computed from log-probabilities (never from underflowed probabilities);
    /// exactly `+inf` where P has mass on a token that Q masks with `-inf`.
    public static func kl(_ p: Tensor, _ q: Tensor, _ o: DistOptions = .init()) throws -> Tensor {
        let (p, q, s) = try pair(p, q, o, "kl")
        let out = try perRowResult(p), d = out.doublePointer, n = p.rowLength
        if p.dtype == .f32 {
            // Each chunk's rows in order, the next pair's maxima read inside the sums of
            // the current pair (see `eachRowF32`).
            let a = UnsafePointer(p.floatPointer), b = UnsafePointer(q.floatPointer)
            try ParallelFor.rows(p.rowCount, costPerRow: n * 4) { range in
                var e = RowF32.maxPair(a + range.lowerBound * n, b + range.lowerBound * n, n)
                for r in range {
                    let smp = e.mp > -.infinity ? Double(e.mp) * s : noMax
                    let smq = e.mq > -.infinity ? Double(e.mq) * s : noMax
                    let last = r + 1 == range.upperBound
                    let (sp, sq, w, next) = RowF32.klSums(
                        a + r * n, b + r * n, n, Float(s), Float(smp), Float(smq),
                        nextP: last ? nil : a + (r + 1) * n, nextQ: last ? nil : b + (r + 1) * n,
                        fast: RowF32.fastKLEnabled && e.fitsFastKernel(s), maxP: e.mp, maxQ: e.mq)
                    // Σ P (y_p − log Sp − y_q + log Sq) with y = x·s − m.
                    d[r] = klValue(sp, sq, w, e.inf)
                    if let next { e = next }
                }
            }
            return plainNaNs(out)
        }
        let b = UnsafePointer(q.doublePointer)
        try eachRowF64(p) { r, a in
            d[r] = RowF64.klRow(a, b + r * n, n, s)  // NaN when a row is all -inf, as torch
        }
        return plainNaNs(out)
    }

    /// KL of a row pair from its sums: Σ P (y_p − log Sp − y_q + log Sq) with y = x·s − m; +inf
    /// where P has mass that Q excludes; NaN stays NaN (no clamp turns it into 0).
    @inline(__always)
    static func klValue(_ sp: Double, _ sq: Double, _ w: Double, _ inf: Bool) -> Double {
        let v = w / sp - Foundation.log(sp) + Foundation.log(sq)
        return inf && !v.isNaN ? .infinity : nonNegative(v)
    }

    /// Normalised log-probabilities of row `r` of `x`, as Doubles, into `buf`.
    static func logProbs(_ x: Tensor, _ r: Int, _ s: Double, _ buf: UnsafeMutablePointer<Double>) {
        let n = x.rowLength
        let m = rowMax(x, r, s)  // NaN for an all -inf row: its log-probabilities are NaN
        let c: Double
        if x.dtype == .f32 {
            let p = x.floatPointer + r * n
            c = Foundation.log(RowF32.sumExp(p, n, Float(s), Float(m), next: nil).0)
            for i in 0..<n { buf[i] = (Double(p[i]) * s - m) - c }
        } else {
            let p = x.doublePointer + r * n
            c = Foundation.log(RowF64.maxSumExp(p, n, s).1)
            for i in 0..<n { buf[i] = (p[i] * s - m) - c }
        }
    }

    /// Runs `body(row, logP, logQ)` per row pair with scratch buffers of log-probabilities
    /// (one pair of buffers per chunk of rows, none per row).
    static func eachRowPair(_ p: Tensor, _ q: Tensor, _ s: Double,
                            _ body: (Int, UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>) -> Double,
                            into d: UnsafeMutablePointer<Double>) throws {
        let n = p.rowLength
        try ParallelFor.rows(p.rowCount, costPerRow: n * 16) { range in
            let lp = UnsafeMutablePointer<Double>.allocate(capacity: n), lq = UnsafeMutablePointer<Double>.allocate(capacity: n)
            defer { lp.deallocate(); lq.deallocate() }
            for r in range {
                logProbs(p, r, s, lp)
                logProbs(q, r, s, lq)
                d[r] = body(r, lp, lq)
            }
        }
    }

    /// Jensen–Shannon divergence ½KL(P‖M) + ½KL(Q‖M), M = (P+Q)/2, in nats, one per row
    /// (the divergence, not scipy's `jensenshannon` distance, which is its square root).
    public static func js(_ p: Tensor, _ q: Tensor, _ o: DistOptions = .init()) throws -> Tensor {
        let (p, q, s) = try pair(p, q, o, "js")
        let out = try perRowResult(p), n = p.rowLength
        let ln2 = Foundation.log(2.0)
        try eachRowPair(p, q, s, { _, lp, lq in
            var total = 0.0
            for i in 0..<n {
                let a = lp[i], b = lq[i]
                if a.isNaN || b.isNaN { return .nan }  // max/min below would drop a NaN
                let hi = Swift.max(a, b)
                if hi == -.infinity { continue }
                let lm = hi + Foundation.log1p(Foundation.exp(Swift.min(a, b) - hi)) - ln2  // log M
                if a > -.infinity { total += Foundation.exp(a) * (a - lm) }
                if b > -.infinity { total += Foundation.exp(b) * (b - lm) }
            }
            return nonNegative(0.5 * total)
        }, into: out.doublePointer)
        return plainNaNs(out)
    }

    /// Total variation distance ½ Σ |P − Q|, one per row.
    public static func tv(_ p: Tensor, _ q: Tensor, _ o: DistOptions = .init()) throws -> Tensor {
        let (p, q, s) = try pair(p, q, o, "tv")
        let out = try perRowResult(p), n = p.rowLength
        try eachRowPair(p, q, s, { _, lp, lq in
            var total = 0.0
            for i in 0..<n { total += Swift.abs(Foundation.exp(lp[i]) - Foundation.exp(lq[i])) }
            return 0.5 * total
        }, into: out.doublePointer)
        return plainNaNs(out)
    }

    /// torch's default `ignore_index`: a row whose target is -100 gets 0, as
    /// `F.cross_entropy(logits, target, reduction="none")` gives it (HF labels mask prompt
    /// and padding tokens with -100).
    public static let ignoreIndex = -100

    /// −log softmax(x/T)[target] per row; `targets` are 0-based token ids, one per row
    /// (`+inf` when the target's logit is `-inf`; 0 for the target -100, torch's ignore_index).
    public static func crossEntropy(_ x: Tensor, targets: [Int], _ o: DistOptions = .init()) throws -> Tensor {
        let (x, s) = try prepare(x, o, "cross_entropy")
        try requireNonEmpty(x, "cross_entropy")
        let n = x.rowLength
        guard targets.count == x.rowCount else {
            throw AlignMathError.shapeMismatch("cross_entropy: \(targets.count) targets for \(x.rowCount) rows")
        }
        for (r, t) in targets.enumerated() where (t < 0 || t >= n) && t != ignoreIndex {
            throw AlignMathError.invalidArgument("cross_entropy: target id \(t) of row \(r) is outside the vocabulary 0..<\(n)")
        }
        // log Σ exp(y) − y_t with y = x·s − m as the kernels form it (torch's log_softmax:
        // the maximum cancels before anything is rounded; logsumexp − x_t·s lost ~1e-8 of
        // the loss at logits of 3e7). A row of only -inf, or holding a NaN or +inf, gives NaN
        // (torch), a plain one.
        let out = try perRowResult(x), d = out.doublePointer
        if n == 0 { return out }
        func loss(_ r: Int, _ yt: Double, _ se: Double) {
            let t = targets[r]
            guard t != ignoreIndex else { d[r] = 0; return }
            let v = Foundation.log(se) - yt
            d[r] = v.isNaN ? .nan : v
        }
        if x.dtype == .f32 {
            let p = x.floatPointer
            try eachRowF32(x, s) { r, m, next in
                let (se, nm) = RowF32.sumExp(p + r * n, n, Float(s), Float(m), next: next)
                let t = targets[r] == ignoreIndex ? 0 : targets[r]
                let yt = m.isNaN ? .nan : Double((-Float(m)).addingProduct(p[r * n + t], Float(s)))
                loss(r, yt, se)
                return nm
            }
            return out
        }
        let base = x.doublePointer
        try eachRowF64(x) { r, p in
            let (m, se) = RowF64.maxSumExp(p, n, s)
            let t = targets[r] == ignoreIndex ? 0 : targets[r]
            loss(r, m > -.infinity ? (-m).addingProduct(base[r * n + t], s) : .nan, se)
        }
        return out
    }
}
