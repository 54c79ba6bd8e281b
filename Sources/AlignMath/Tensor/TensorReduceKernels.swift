import Foundation

/// Float and Double, with their SIMD row loops (`RowSIMD`), for the generic reducers.
protocol ReducibleFloat: BinaryFloatingPoint & TensorElement & SIMDScalar & Codable {
    static func rowSum(_ p: UnsafePointer<Self>, _ n: Int) -> Double
    static func rowExtreme(_ p: UnsafePointer<Self>, _ n: Int, largest: Bool) -> Self
    static func rowArgExtreme(_ p: UnsafePointer<Self>, _ n: Int, largest: Bool) -> (Self, Int)
}

extension Double: ReducibleFloat {
    /// numpy's pairwise order at every length (its bits: the mean of var/std is numpy's).
    static func rowSum(_ p: UnsafePointer<Double>, _ n: Int) -> Double { Pairwise<Double>.sum(p, n) }
    static func rowExtreme(_ p: UnsafePointer<Double>, _ n: Int, largest: Bool) -> Double { RowSIMD.extreme(p, n, largest: largest) }
    static func rowArgExtreme(_ p: UnsafePointer<Double>, _ n: Int, largest: Bool) -> (Double, Int) { RowSIMD.argExtreme(p, n, largest: largest) }
}

extension Float: ReducibleFloat {
    static func rowSum(_ p: UnsafePointer<Float>, _ n: Int) -> Double { RowSIMD.sum(p, n) }
    static func rowExtreme(_ p: UnsafePointer<Float>, _ n: Int, largest: Bool) -> Float { RowSIMD.extreme(p, n, largest: largest) }
    static func rowArgExtreme(_ p: UnsafePointer<Float>, _ n: Int, largest: Bool) -> (Float, Int) { RowSIMD.argExtreme(p, n, largest: largest) }
}

/// A reduction over a dense f32/f64 tensor seen as [outer, n, inner] (see `ReducePlan`),
/// accumulated in Double, except f32 sums and means, which add in f32 in numpy's order
/// (`F32Pairwise` along rows, `F32ColumnSums` across them) to give numpy's bits. Rows
/// (inner == 1) use the SIMD loops, split over the cores for a long single row; columns
/// (inner > 1) accumulate a block of neighbouring columns at once so each row of the input
/// is read contiguously.
/// numpy's pairwise summation (pairwise_sum in its loops): runs of up to 128 terms in eight
/// partial sums, longer runs split in halves (a multiple of 8) and the halves added, so the
/// rounding error grows as log n rather than n.
enum PairwiseSum {
    @inline(__always)
    static func sum(_ n: Int, _ term: (Int) -> Double) -> Double { sum(0, n, term) }

    static func sum(_ start: Int, _ n: Int, _ term: (Int) -> Double) -> Double {
        if n < 8 {
            var s = 0.0
            for i in 0..<n { s += term(start + i) }
            return s
        }
        if n <= 128 {
            var r0 = term(start), r1 = term(start + 1), r2 = term(start + 2), r3 = term(start + 3)
            var r4 = term(start + 4), r5 = term(start + 5), r6 = term(start + 6), r7 = term(start + 7)
            var i = 8
            while i < n - n % 8 {
                let b = start + i
                r0 += term(b); r1 += term(b + 1); r2 += term(b + 2); r3 += term(b + 3)
                r4 += term(b + 4); r5 += term(b + 5); r6 += term(b + 6); r7 += term(b + 7)
                i += 8
            }
            var s = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
            while i < n { s += term(start + i); i += 1 }
            return s
        }
        var half = n / 2
        half -= half % 8
        return sum(start, half, term) + sum(start + half, n - half, term)
    }
}

struct FloatReducer<T: ReducibleFloat> {
    let plan: ReducePlan
    let r: Reduction
    /// i64 and bool cast to f64: numpy casts them through its 8,192-element buffer, so a row's
    /// sum is the pairwise sums of its 8,192-element pieces added in order (np.mean of 20,000
    /// int64 near 2^60 was 3 ulps off a pairwise sum of the whole row).
    var castInBuffers = false

    /// Σ of a row as numpy adds it: pairwise, or by buffers (`castInBuffers`).
    private func rowTotal(_ p: UnsafePointer<T>, _ n: Int, parallel: Bool) -> Double {
        guard castInBuffers, n > Self.numpyBuffer else { return Double(Pairwise<T>.sum(p, n, parallel: parallel)) }
        var total = 0.0
        for start in stride(from: 0, to: n, by: Self.numpyBuffer) {
            total += Double(Pairwise<T>.sum(p + start, Swift.min(Self.numpyBuffer, n - start)))
        }
        return total
    }

    /// numpy's default buffer size, in elements (np.getbufsize()).
    static var numpyBuffer: Int { 8192 }

    func run(_ x: Tensor, into out: Tensor) throws {
        let p = UnsafePointer(x.pointer(T.self))
        withExtendedLifetime(x) {
            if plan.inner == 1 { rows(p, out) } else { columns(p, out) }
        }
    }

    // MARK: rows

    private func rows(_ p: UnsafePointer<T>, _ out: Tensor) {
        let n = plan.n
        if plan.outer == 1 {
            write(row: p, n, parallel: true, to: out, at: 0)
            return
        }
        Parallel.forEach(plan.outer, cost: Swift.max(1, n)) { range in
            for o in range { write(row: p + o * n, n, parallel: false, to: out, at: o) }
        }
    }

    /// Reduces one dense row into element `i` of `out`.
    private func write(row p: UnsafePointer<T>, _ n: Int, parallel: Bool, to out: Tensor, at i: Int) {
        func put(_ v: Double) {
            if out.dtype == .f32 { out.pointer(Float.self)[i] = Float(v) } else { out.pointer(Double.self)[i] = v }
        }
        let pieces = parallel ? Swift.max(1, Swift.min(ParallelFor.workers * 4, n >> 16)) : 1
        let piece = (n + pieces - 1) / Swift.max(pieces, 1)
        switch r {
        case .sum, .mean:
            // In the dtype by numpy's pairwise order: numpy's bits (Pairwise).
            let s = rowTotal(p, n, parallel: parallel)
            put(r == .sum ? s : (n == 0 ? .nan : s / Double(n)))
        case .min, .max:
            if n == 0 { return }
            let parts = Parallel.map(pieces, cost: piece) { rr in
                rr.map { k in T.rowExtreme(p + k * piece, Swift.min(piece, n - k * piece), largest: r == .max) }
            }.flatMap { $0 }
            var m = parts[0]
            for v in parts.dropFirst() where m.isNaN == false { if v.isNaN || (r == .max ? v > m : v < m) { m = v } }
            put(Double(m))
        case .argmax, .argmin:
            let parts = Parallel.map(pieces, cost: piece) { rr in
                rr.map { k -> (T, Int) in
                    let (v, at) = T.rowArgExtreme(p + k * piece, Swift.min(piece, n - k * piece), largest: r == .argmax)
                    return (v, at + k * piece)
                }
            }.flatMap { $0 }
            var best = parts[0]
            for b in parts.dropFirst() where !best.0.isNaN {
                if b.0.isNaN || (r == .argmax ? b.0 > best.0 : b.0 < best.0) { best = b }
            }
            out.pointer(Int64.self)[i] = Int64(best.1)
        case .nansum, .nanmean:
            // numpy's nansum: NaN replaced by 0, then its pairwise sum (in the dtype).
            if castInBuffers {  // from integers: no NaN, numpy's nanmean is its mean
                let s = rowTotal(p, n, parallel: parallel)
                put(r == .nansum ? s : (n == 0 ? .nan : s / Double(n)))
                return
            }
            let (s, c) = Pairwise<T>.nansum(p, n, parallel: parallel)
            put(r == .nansum ? Double(s) : (c == 0 ? .nan : Double(s) / Double(c)))
        case .prod:
            // in the dtype, one after another, as numpy's multiply.reduce (f32 in f32)
            var s: T = 1
            for j in 0..<n { s *= p[j] }
            put(Double(s))
        case .var, .std:
            let mean = (castInBuffers ? rowTotal(p, n, parallel: false) : T.rowSum(p, n)) / Double(n)
            // Σ(x - mean)² pairwise, as numpy's var (a running total lost ~200 ulps on 4,097 bools).
            let m2 = PairwiseSum.sum(n) { j in let d = Double(p[j]) - mean; return d * d }
            let v = FloatReducer.spread(m2, n, plan.ddof)
            put(r == .var ? v : v.squareRoot())
        case .logsumexp:
            put(n == 0 ? -.infinity : FloatReducer.logSumExp(p, n, stride: 1))
        case .any:
            var found = false
            for j in 0..<n where p[j] != 0 { found = true; break }
            out.pointer(Bool.self)[i] = found
        case .all:
            var all = true
            for j in 0..<n where p[j] == 0 { all = false; break }
            out.pointer(Bool.self)[i] = all
        }
    }

    /// Σ(x - mean)² / (n - ddof), with numpy's answers when n - ddof <= 0: NaN for no
    /// spread (or no elements), +inf otherwise.
    static func spread(_ m2: Double, _ n: Int, _ ddof: Int) -> Double {
        if n == 0 { return .nan }
        if n - ddof <= 0 { return m2 == 0 || m2.isNaN ? .nan : .infinity }
        return m2 / Double(n - ddof)
    }

    /// log Σ exp over `n` elements `stride` apart: the maximum first (NaN propagates; an
    /// all -inf or any +inf line gives that infinity), then the sum of exp(x - max).
    static func logSumExp(_ p: UnsafePointer<T>, _ n: Int, stride: Int) -> Double {
        var m = -Double.infinity
        for j in 0..<n {
            let v = Double(p[j * stride])
            if v.isNaN { return .nan }
            if v > m { m = v }
        }
        if m.isInfinite { return m }
        let s = PairwiseSum.sum(n) { j in Foundation.exp(Double(p[j * stride]) - m) }
        return m + Foundation.log(s)
    }

    // MARK: columns

    private func columns(_ p: UnsafePointer<T>, _ out: Tensor) {
        // Blocks as wide as two per core allow: each row's piece of a block is one contiguous
        // run the prefetcher follows. (Blocks of 256 columns read 1 KB and then jumped a whole
        // row: the sum over the first axis of [4096, 32000] f32 ran at a third of numpy's speed.)
        let n = plan.n, inner = plan.inner
        if T.self == Float.self && [.sum, .mean, .nansum, .nanmean].contains(r) {
            let f = UnsafeRawPointer(p).assumingMemoryBound(to: Float.self)
            return F32ColumnSums(plan: plan, r: r).run(f, out.pointer(Float.self))
        }
        let width = Swift.max(256, (inner + 2 * ParallelFor.workers - 1) / (2 * ParallelFor.workers))
        let blocks = (inner + width - 1) / width
        Parallel.forEach(plan.outer * blocks, cost: Swift.max(1, n) * width) { range in
            withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * width) { buf in
                withUnsafeTemporaryAllocation(of: Int64.self, capacity: width) { ibuf in
                    let acc = buf.baseAddress.unsafelyUnwrapped, acc2 = acc + width
                    let at = ibuf.baseAddress.unsafelyUnwrapped
                    for task in range {
                        let o = task / blocks, c0 = (task % blocks) * width
                        let len = Swift.min(width, inner - c0)
                        column(p + o * n * inner + c0, len, acc, acc2, at, out, o * inner + c0)
                    }
                }
            }
        }
    }

    /// Reduces `len` neighbouring columns starting at `base` (each `n` long, `inner` apart)
    /// into `out` from element `first`.
    private func column(_ base: UnsafePointer<T>, _ len: Int, _ acc: UnsafeMutablePointer<Double>,
                        _ acc2: UnsafeMutablePointer<Double>, _ at: UnsafeMutablePointer<Int64>,
                        _ out: Tensor, _ first: Int) {
        let n = plan.n, inner = plan.inner
        func put(_ j: Int, _ v: Double) {
            if out.dtype == .f32 { out.pointer(Float.self)[first + j] = Float(v) } else { out.pointer(Double.self)[first + j] = v }
        }
        switch r {
        case .sum, .mean, .nansum, .nanmean, .prod:
            let start: Double = r == .prod ? 1 : 0
            for j in 0..<len { acc[j] = start; acc2[j] = 0 }
            for i in 0..<n {
                let row = base + i * inner
                switch r {
                case .prod: for j in 0..<len { acc[j] = Double(T(acc[j]) * row[j]) }  // in the dtype
                case .nansum, .nanmean:
                    for j in 0..<len { let v = Double(row[j]); let ok = !v.isNaN; acc[j] += ok ? v : 0; acc2[j] += ok ? 1 : 0 }
                default: for j in 0..<len { acc[j] += Double(row[j]) }
                }
            }
            for j in 0..<len {
                switch r {
                case .mean: put(j, n == 0 ? .nan : acc[j] / Double(n))
                case .nanmean: put(j, acc2[j] == 0 ? .nan : acc[j] / acc2[j])
                default: put(j, acc[j])
                }
            }
        case .min, .max:
            for j in 0..<len { acc[j] = Double(base[j]) }
            let largest = r == .max
            for i in 1..<Swift.max(n, 1) {
                let row = base + i * inner
                for j in 0..<len {
                    let v = Double(row[j]), a = acc[j]
                    acc[j] = (v.isNaN || (largest ? v > a : v < a)) ? v : a
                }
            }
            for j in 0..<len { put(j, acc[j]) }
        case .argmax, .argmin:
            for j in 0..<len { acc[j] = Double(base[j]); at[j] = 0 }
            let largest = r == .argmax
            for i in 1..<Swift.max(n, 1) {
                let row = base + i * inner
                for j in 0..<len {
                    let v = Double(row[j]), a = acc[j]
                    let take = !a.isNaN && (v.isNaN || (largest ? v > a : v < a))
                    acc[j] = take ? v : a
                    at[j] = take ? Int64(i) : at[j]
                }
            }
            let o = out.pointer(Int64.self) + first
            for j in 0..<len { o[j] = at[j] }
        case .var, .std:
            for j in 0..<len { acc[j] = 0; acc2[j] = 0 }
            for i in 0..<n { let row = base + i * inner; for j in 0..<len { acc[j] += Double(row[j]) } }
            for j in 0..<len { acc[j] /= Double(n) }
            for i in 0..<n {
                let row = base + i * inner
                for j in 0..<len { let d = Double(row[j]) - acc[j]; acc2[j] += d * d }
            }
            for j in 0..<len {
                let v = FloatReducer.spread(acc2[j], n, plan.ddof)
                put(j, r == .var ? v : v.squareRoot())
            }
        case .logsumexp:
            for j in 0..<len { put(j, n == 0 ? -.infinity : FloatReducer.logSumExp(base + j, n, stride: inner)) }
        case .any, .all:
            let o = out.pointer(Bool.self) + first
            for j in 0..<len { o[j] = r == .all }
            for i in 0..<n {
                let row = base + i * inner
                if r == .any { for j in 0..<len where row[j] != 0 { o[j] = true } } else { for j in 0..<len where row[j] == 0 { o[j] = false } }
            }
        }
    }
}

/// The integer reductions of a dense i64 tensor: sums and products wrap as numpy's do;
/// `min`, `max`, positions, `any`, `all`.
struct IntReducer {
    let plan: ReducePlan
    let r: Reduction

    func run(_ x: Tensor, into out: Tensor) {
        let p = UnsafePointer(x.pointer(Int64.self))
        let n = plan.n, inner = plan.inner
        withExtendedLifetime(x) {
            Parallel.forEach(plan.outer * inner, cost: Swift.max(1, n)) { range in
                for k in range {
                    let o = k / inner, c = k % inner
                    line(p + o * n * inner + c, n, inner, out, k)
                }
            }
        }
    }

    /// Reduces `n` elements `stride` apart into element `i` of `out`.
    private func line(_ p: UnsafePointer<Int64>, _ n: Int, _ stride: Int, _ out: Tensor, _ i: Int) {
        switch r {
        case .sum, .nansum:
            var s: Int64 = 0
            for j in 0..<n { s = s &+ p[j * stride] }
            out.pointer(Int64.self)[i] = s
        case .prod:
            var s: Int64 = 1
            for j in 0..<n { s = s &* p[j * stride] }
            out.pointer(Int64.self)[i] = s
        case .min, .max:
            var m = p[0]
            for j in 1..<Swift.max(n, 1) { let v = p[j * stride]; if r == .max ? v > m : v < m { m = v } }
            out.pointer(Int64.self)[i] = m
        case .argmax, .argmin:
            var m = p[0], at = 0
            for j in 1..<Swift.max(n, 1) { let v = p[j * stride]; if r == .argmax ? v > m : v < m { m = v; at = j } }
            out.pointer(Int64.self)[i] = Int64(at)
        case .any:
            var f = false
            for j in 0..<n where p[j * stride] != 0 { f = true; break }
            out.pointer(Bool.self)[i] = f
        case .all:
            var f = true
            for j in 0..<n where p[j * stride] == 0 { f = false; break }
            out.pointer(Bool.self)[i] = f
        case .mean, .nanmean, .std, .var, .logsumexp:
            preconditionFailure("computed in f64")
        }
    }
}
