import Foundation

/// How the last sampler of a chain picks its token in llama.cpp: `dist` (the default),
/// mirostat's `std::discrete_distribution`, or greedy's selection without a draw.
enum ChainDrawKind { case dist, discrete, selected }

/// The last step of `SamplerChain.sampleDetailed`: one token drawn from what the stages
/// left, as the generator's engine draws.
extension SamplerWorkspace {
    /// The chosen id and its probability, or nil when no token survives.
    func draw(_ rng: RandomGenerator, _ how: ChainDrawKind) -> (id: Int, prob: Double)? {
        if rng.engine == .llamaCpp {
            return rng.withLlamaStreams { streams -> (id: Int, prob: Double)? in
                switch how {
                case .dist: return llamaDist(&streams.draw)
                case .discrete: return llamaDiscrete(&streams.draw)
                case .selected:
                    makeSparse()
                    return ids.isEmpty ? nil : (Int(ids[0]), 1)
                }
            } ?? nil
        }
        if let pick = drawWholeRow(rng) { return pick }
        makeSparse()
        let n = count
        guard n > 0 else { return nil }
        softmax()
        let target = rng.uniform()
        var cum = 0.0
        var pick = -1
        for i in 0..<n where probs[i] > 0 {
            cum += probs[i]
            pick = i
            if cum > target { break }
        }
        if pick < 0 { pick = 0 }
        return (Int(ids[pick]), probs[pick])
    }

    /// The moonlab draw on a row no stage truncated (lazy without patches, or dense),
    /// without building the candidate list: the row's maximum, then `exp((x - max) / t)`
    /// (Double, the table exp, the pending temperature `t` applied as one multiplication;
    /// -inf weighs 0) stored with the sum of each block of 8 (`WholeRowDraw`), one
    /// `uniform()`, and a walk over the block sums, then inside the block. Each weight is
    /// `exp` of the tempered logit within 1 ulp. nil (no draw consumed) when the row is not
    /// such a row or its maximum is not finite.
    func drawWholeRow(_ rng: RandomGenerator) -> (id: Int, prob: Double)? {
        let src: UnsafePointer<T>
        var d: T = 1
        switch mode {
        case .lazy:
            guard patchIds.isEmpty, let b = base.baseAddress else { return nil }
            src = b
            d = divisor
        case .dense:
            guard let b = dense.baseAddress else { return nil }
            src = UnsafePointer(b)
        case .sparse:
            return nil
        }
        let n = vocab
        // The kernels are written for each dtype (not generic): SIMD4<Double> code that
        // LLVM keeps in whole AVX2 registers (the generic SIMD8 version split into halves
        // and spilled: 2.3 ns per entry).
        let raw = UnsafeRawPointer(src)
        let f64 = T.self == Double.self
        // Division by the positive temperature keeps the order: the maximum is taken raw.
        // NaN is noticed on the way, so the caller's row (or a stage's) is refused.
        let (xmax, nan) = f64 ? WholeRowDraw.maxAndNaN(raw.assumingMemoryBound(to: Double.self), n)
                              : WholeRowDraw.maxAndNaN(raw.assumingMemoryBound(to: Float.self), n)
        if nan {  // the caller's NaN (lazy) or a custom stage's (dense): refused by the chain
            if mode == .lazy { sawNaN = true } else { stageNaN = true }
            return nil
        }
        guard xmax.isFinite, Double(d).isFinite, d > 0 else { return nil }
        let inv = 1 / Double(d)
        let blocks = n / 8
        // Weights and block sums go through pointers taken once: an `append` or a subscript
        // on the workspace's arrays per block is an exclusivity check each.
        if rowWeights.count < n { rowWeights = [Double](repeating: 0, count: n) }
        if blockSums.count < blocks { blockSums = [Double](repeating: 0, count: blocks) }
        return rowWeights.withUnsafeMutableBufferPointer { e -> (id: Int, prob: Double)? in
            blockSums.withUnsafeMutableBufferPointer { bs -> (id: Int, prob: Double)? in
                guard let out = e.baseAddress, let sums = bs.baseAddress else { return nil }
                let total = f64 ? WholeRowDraw.weights(raw.assumingMemoryBound(to: Double.self), n, xmax, inv, out, sums)
                                : WholeRowDraw.weights(raw.assumingMemoryBound(to: Float.self), n, xmax, inv, out, sums)
                let target = rng.uniform() * total
                var cum = 0.0
                var b = 0
                while b < blocks && cum + sums[b] <= target { cum += sums[b]; b &+= 1 }
                var k = b &* 8
                while k < n {
                    if out[k] > 0 {
                        cum += out[k]
                        if cum > target { return (k, out[k] / total) }
                    }
                    k &+= 1
                }
                // rounding left the target at the very end: the last entry with weight
                k = n &- 1
                while k >= 0 && !(out[k] > 0) { k &-= 1 }
                return k < 0 ? nil : (k, out[k] / total)
            }
        }
    }

    /// `llama_sampler_dist_apply`: one entry consumes a draw and is chosen; otherwise
    /// `p = expf(logit - max)` in float (the max is the first entry's when the array is
    /// flagged sorted), summed in double, one `uniform_real_distribution<double>` draw,
    /// and the first entry at which the running double sum reaches `sum * draw`. The
    /// probability returned is llama.cpp's normalised float `p`.
    func llamaDist(_ mt: inout MersenneTwister19937) -> (id: Int, prob: Double)? {
        loadLlama()
        let size = llama.count
        guard size > 0 else { return nil }
        if size == 1 {
            _ = mt.canonicalDouble()
            return (Int(ids[0]), 1)
        }
        var maxL = llama[0].logit
        if !llamaSorted { for i in 1..<size { maxL = Float.cxxMax(maxL, llama[i].logit) } }
        var sumCum = 0.0
        for i in 0..<size {
            let p = expf(llama[i].logit - maxL)
            llama[i].p = p
            sumCum += Double(p)
        }
        let target = sumCum * mt.canonicalDouble()
        var sumRun = 0.0
        var selected = size - 1
        for i in 0..<size {
            sumRun += Double(llama[i].p)
            if sumRun >= target { selected = i; break }
        }
        return (Int(ids[selected]), Double(Float(Double(llama[selected].p) / sumCum)))
    }

    /// `llama_sample_dist` (mirostat's draw): the sorted float softmax, then
    /// `std::discrete_distribution<int>` as libstdc++ builds it (weights as doubles,
    /// normalised, partial sums, the last set to 1; fewer than 2 weights: index 0 and no
    /// draw) and one `generate_canonical<double>` looked up with `lower_bound`.
    func llamaDiscrete(_ mt: inout MersenneTwister19937) -> (id: Int, prob: Double)? {
        loadLlama()
        let size = llama.count
        guard size > 0 else { return nil }
        llamaSoftmax(size: size, sort: true)
        storeLlama(size: size)  // the sort may have reordered the entries
        guard size >= 2 else { return (Int(ids[0]), Double(llama[0].p)) }
        var sum = 0.0
        for e in llama { sum += Double(e.p) }
        var cp = [Double](repeating: 0, count: size)
        var run = 0.0
        for i in 0..<size {
            run += Double(llama[i].p) / sum
            cp[i] = run
        }
        cp[size - 1] = 1
        let u = mt.canonicalDouble()
        var lo = 0, hi = size
        while lo < hi {
            let mid = (lo + hi) / 2
            if cp[mid] < u { lo = mid + 1 } else { hi = mid }
        }
        let idx = min(lo, size - 1)
        return (Int(ids[idx]), Double(llama[idx].p))
    }
}

/// The two passes of the whole-row draw over a row of Doubles or Floats (widened to
/// Double): its maximum, then the weights. `@inline(never)` and not generic, as the `Dist`
/// row kernels (see `RowF32` on why).
enum WholeRowDraw {
    typealias V = SIMD4<Double>

    @inline(__always)
    static func load(_ p: UnsafePointer<Double>, _ i: Int) -> V { UnsafeRawPointer(p + i).loadUnaligned(as: V.self) }

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>, _ i: Int) -> V { V(UnsafeRawPointer(p + i).loadUnaligned(as: SIMD4<Float>.self)) }

    /// The largest entry (NaN and -inf ignored; -inf when there is none) and whether a NaN
    /// was met.
    @inline(never)
    static func maxAndNaN(_ p: UnsafePointer<Double>, _ n: Int) -> (Double, Bool) {
        var m0 = V(repeating: -.infinity), m1 = m0
        var nan = SIMD4<Int64>()
        var i = 0
        while i + 8 <= n {
            let a = load(p, i), b = load(p, i + 4)
            m0 = FastExp.select(a .> m0, a, m0); m1 = FastExp.select(b .> m1, b, m1)
            nan |= unsafeBitCast((a .!= a) .| (b .!= b), to: SIMD4<Int64>.self)
            i += 8
        }
        var m = FastExp.select(m1 .> m0, m1, m0).max()
        var found = nan != SIMD4<Int64>()
        while i < n { let v = p[i]; if v > m { m = v }; if v != v { found = true }; i += 1 }
        return (m, found)
    }

    /// `maxAndNaN` of Floats, as Double.
    @inline(never)
    static func maxAndNaN(_ p: UnsafePointer<Float>, _ n: Int) -> (Double, Bool) {
        var m0 = SIMD8<Float>(repeating: -.infinity)
        var nan = SIMD8<Int32>()
        var i = 0
        while i + 8 <= n {
            let a = UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
            m0 = FastExp.select(a .> m0, a, m0)
            nan |= unsafeBitCast(a .!= a, to: SIMD8<Int32>.self)
            i += 8
        }
        var m = Double(m0.max())
        var found = nan != SIMD8<Int32>()
        while i < n { let v = p[i]; if Double(v) > m { m = Double(v) }; if v != v { found = true }; i += 1 }
        return (m, found)
    }

    /// e^y of y = (x − xmax)·inv <= 0: the table exp where the result is a normal number,
    /// exactly 0 below (-inf, and weights under 2^-1022 of the maximum's, which cannot move a
    /// sum that holds the maximum's 1 nor be reached by the walk).
    @inline(__always)
    static func weight(_ y: V) -> V {
        let lo = V(repeating: FastExp.minNormalInputD)
        let keep = y .>= lo
        let e = FastExp.expNormal(FastExp.select(keep, y, lo))
        return unsafeBitCast(unsafeBitCast(e, to: SIMD4<UInt64>.self) & unsafeBitCast(keep, to: SIMD4<UInt64>.self), to: V.self)
    }

    /// The sums of `w` by blocks of 8 into `sums`, and the total of `w`.
    @inline(never)
    static func blockSums(_ w: UnsafeMutablePointer<Double>, _ n: Int, _ sums: UnsafeMutablePointer<Double>) -> Double {
        let src = UnsafePointer(w)
        var total = 0.0
        var i = 0
        while i + 8 <= n {
            let s = (load(src, i) + load(src, i + 4)).sum()
            sums[i >> 3] = s
            total += s
            i &+= 8
        }
        while i < n { total += w[i]; i &+= 1 }
        return total
    }

    /// Writes the weights of `p[0..<n]` into `out` and the sum of each block of 8 into
    /// `sums` (the last `n % 8` entries are in no block); returns their total. Two loops,
    /// the weights then the block sums (over `out`, in cache): with both in one loop LLVM
    /// split the vectors into halves and ran 1.5x slower.
    @inline(never)
    static func weights(_ p: UnsafePointer<Double>, _ n: Int, _ xmax: Double, _ inv: Double,
                        _ out: UnsafeMutablePointer<Double>, _ sums: UnsafeMutablePointer<Double>) -> Double {
        let xm = V(repeating: xmax), iv = V(repeating: inv)
        let dst = UnsafeMutableRawPointer(out)
        var i = 0
        while i + 4 <= n {
            dst.storeBytes(of: weight((load(p, i) - xm) * iv), toByteOffset: i &* 8, as: V.self)
            i &+= 4
        }
        while i < n { out[i] = weight(V(repeating: (p[i] - xmax) * inv))[0]; i &+= 1 }
        return blockSums(out, n, sums)
    }

    /// `weights` of Floats (each widened to Double first).
    @inline(never)
    static func weights(_ p: UnsafePointer<Float>, _ n: Int, _ xmax: Double, _ inv: Double,
                        _ out: UnsafeMutablePointer<Double>, _ sums: UnsafeMutablePointer<Double>) -> Double {
        let xm = V(repeating: xmax), iv = V(repeating: inv)
        let dst = UnsafeMutableRawPointer(out)
        var i = 0
        while i + 4 <= n {
            dst.storeBytes(of: weight((load(p, i) - xm) * iv), toByteOffset: i &* 8, as: V.self)
            i &+= 4
        }
        while i < n { out[i] = weight(V(repeating: (Double(p[i]) - xmax) * inv))[0]; i &+= 1 }
        return blockSums(out, n, sums)
    }
}
