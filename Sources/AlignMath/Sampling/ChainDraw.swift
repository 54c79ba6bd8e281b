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
    /// (Double, `FastExp`, 8 at a time, the pending temperature `t` applied as one
    /// multiplication; NaN and -inf weigh 0) stored with the sum of each block of 8, one
    /// `uniform()`, and a walk over the block sums, then inside the block. Each weight is
    /// `exp` of the tempered logit to a few ulps. nil (no draw consumed) when the row is
    /// not such a row or its maximum is not finite.
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
        let full = n - n % 8
        let negInf = SIMD8<Double>(repeating: -.infinity)
        @inline(__always) func block(_ i: Int) -> SIMD8<Double> {
            let v = T.widened8(src, i, dividedBy: 1)
            return FastExp.select(v .> negInf, v, negInf)  // NaN -> -inf
        }
        @inline(__always) func scalar(_ i: Int) -> Double {
            let v = Double(src[i])
            return v > -.infinity ? v : -.infinity
        }
        // Division by the positive temperature keeps the order: the maximum is taken raw.
        // NaN lanes are counted on the way (x != x), so the caller's row is refused.
        var mv = negInf
        var nanLanes = SIMDMask<SIMD8<Double>.MaskStorage>(repeating: false)
        var i = 0
        while i < full {
            let raw = T.widened8(src, i, dividedBy: 1)
            nanLanes = nanLanes .| (raw .!= raw)
            let v = FastExp.select(raw .> negInf, raw, negInf)
            mv = FastExp.select(v .> mv, v, mv)
            i += 8
        }
        var xmax = mv.max()
        var nan = any(nanLanes)
        while i < n { nan = nan || src[i] != src[i]; xmax = Swift.max(xmax, scalar(i)); i += 1 }
        if nan && mode == .lazy { sawNaN = true; return nil }
        guard xmax.isFinite, Double(d).isFinite, d > 0 else { return nil }
        let inv = 1 / Double(d)
        let xm = SIMD8<Double>(repeating: xmax), invV = SIMD8<Double>(repeating: inv)
        // Weights and block sums go through pointers taken once: an `append` or a subscript
        // on the workspace's arrays per block is an exclusivity check each (16k per row at
        // 128k), which cost more than the exponentials.
        let blocks = full / 8
        if rowWeights.count < n { rowWeights = [Double](repeating: 0, count: n) }
        if blockSums.count < blocks { blockSums = [Double](repeating: 0, count: blocks) }
        return rowWeights.withUnsafeMutableBufferPointer { e -> (id: Int, prob: Double)? in
            blockSums.withUnsafeMutableBufferPointer { bs -> (id: Int, prob: Double)? in
                guard let out = e.baseAddress, let sums = bs.baseAddress else { return nil }
                let raw = UnsafeMutableRawPointer(out)
                var total = 0.0
                var i = 0
                while i < full {
                    let w = FastExp.exp((block(i) - xm) * invV)
                    raw.storeBytes(of: w, toByteOffset: i &* 8, as: SIMD8<Double>.self)
                    let s = w.sum()
                    sums[i >> 3] = s
                    total += s
                    i &+= 8
                }
                while i < n {
                    let w = FastExp.exp((scalar(i) - xmax) * inv)
                    out[i] = w
                    total += w
                    i &+= 1
                }
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
