import Foundation

/// The distribution a chain actually samples from, and a token's log-probability under it
/// and under the untouched logits: the two numbers an importance ratio can be built from,
/// and the two that inference servers return under the same name (vLLM's "raw" and
/// "processed" logprobs, vllm#9453, trl#4159).
///
/// Deterministic stages give the distribution exactly (`probs`). Two stages are random:
/// XTC (a coin per token) and mirostat (its truncation depends on `mu`, which each draw
/// moves). For them the distribution is estimated by Monte-Carlo, averaging the chain's
/// full distribution over the runs (each run's `probs`, not token counts: the estimate has
/// far less variance than a histogram of draws):
/// - XTC: `samples` independent runs, each drawing its own coin; standard error from the
///   spread of the runs.
/// - mirostat: `samples` consecutive draws on this row, `mu` moving as `sample` moves it
///   from its current value (the chain's own `mu` is restored afterwards): the distribution
///   of a token drawn at a random step of that run. The runs are correlated through `mu`,
///   so the standard error comes from the means of 20 consecutive batches.
public struct ChainDistribution {
    /// The probability of each token (0-based id), summing to 1.
    public var probs: [Double]
    /// The Monte-Carlo standard error of each probability (zeros when exact).
    public var standardErrors: [Double]
    /// True when the chain is deterministic and `probs` exact.
    public var exact: Bool
    /// How many runs were averaged (1 when exact).
    public var samples: Int
}

extension SamplerChain {
    /// True when a stage draws randomness (XTC) or moves with each draw (mirostat).
    public var isRandom: Bool {
        stages.contains { s in
            switch s.kind {
            case .xtc, .mirostatV1, .mirostatV2: return true
            default: return false
            }
        }
    }

    /// The distribution the chain samples from on `logits` (see `ChainDistribution`).
    /// `samples` nil: exact for deterministic chains, 1000 runs for random ones; a number
    /// forces that many runs (for a custom stage that draws from `ctx.rng` itself).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func distribution<T: SamplingScalar>(_ logits: UnsafeBufferPointer<T>, context: SamplingContext = SamplingContext(),
                                                samples: Int? = nil, rng: RandomGenerator) throws -> ChainDistribution {
        let v = logits.count
        try SamplerChain.refuseNaN(logits)
        guard isRandom || samples != nil else {
            let p = try probs64(logits, context: context)
            return ChainDistribution(probs: p, standardErrors: [Double](repeating: 0, count: v), exact: true, samples: 1)
        }
        let n = samples ?? 1000
        guard n >= 2 else { throw AlignMathError.invalidArgument("samples must be >= 2 for a Monte-Carlo estimate, got \(n)") }
        var ctx = context
        ctx.rng = rng
        let moving = stages.contains { $0.mirostatTau != nil }
        let savedMu = stages.map(\.mu)
        defer { for (s, mu) in zip(stages, savedMu) { s.mu = mu } }
        // The mean over all runs; the standard error from the spread of the runs (XTC) or
        // of 20 batch means (mirostat, the last batch taking the remainder), accumulated
        // with Welford's update so no run is kept.
        let batches = moving ? Swift.min(20, n) : n
        let perBatch = n / batches
        var total = [Double](repeating: 0, count: v), batch = total, unitMean = total, unitM2 = total
        var units = 0, inBatch = 0
        for run in 0..<n {
            if Interruption.isPending { throw AlignMathError.interrupted }
            let p = try probs64(logits, context: ctx)
            if moving { _ = try sampleDetailed(logits, rng: rng, context: ctx, withEntropy: false) }
            for i in 0..<v { batch[i] += p[i] }
            inBatch += 1
            if (inBatch == perBatch && units < batches - 1) || run == n - 1 {
                units += 1
                let w = Double(inBatch), k = Double(units)
                for i in 0..<v {
                    let x = batch[i] / w
                    let d = x - unitMean[i]
                    unitMean[i] += d / k
                    unitM2[i] += d * (x - unitMean[i])
                    total[i] += batch[i]
                    batch[i] = 0
                }
                inBatch = 0
            }
        }
        let mean = total.map { $0 / Double(n) }
        let k = Double(units)
        let se = unitM2.map { k > 1 ? ($0 / (k - 1) / k).squareRoot() : 0 }
        return ChainDistribution(probs: mean, standardErrors: se, exact: false, samples: n)
    }

    /// A NaN logit has no probability to give: an error naming its id (a NaN would otherwise
    /// be dropped by one stage and kept by another).
    static func refuseNaN<T: SamplingScalar>(_ logits: UnsafeBufferPointer<T>) throws {
        for i in 0..<logits.count where Double(logits[i]).isNaN {
            throw AlignMathError.invalidArgument("logits contain NaN at id \(i)")
        }
    }

    /// `distribution` on an array.
    public func distribution<T: SamplingScalar>(_ logits: [T], context: SamplingContext = SamplingContext(),
                                                samples: Int? = nil, rng: RandomGenerator) throws -> ChainDistribution {
        try logits.withUnsafeBufferPointer { try distribution($0, context: context, samples: samples, rng: rng) }
    }

    /// The log-probability of token `id` under the chain's distribution (`processed`: -inf
    /// for a removed token) and under the softmax of the untouched logits (`raw`), both in
    /// double precision. A kept token whose probability underflows (below double's smallest
    /// normal) still has its finite log-probability, taken in log space from the processed
    /// logits, as torch's log_softmax gives it (for an exact chain).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func logprob<T: SamplingScalar>(_ logits: UnsafeBufferPointer<T>, id: Int, context: SamplingContext = SamplingContext(),
                                           samples: Int? = nil, rng: RandomGenerator) throws -> (processed: Double, raw: Double) {
        guard id >= 0 && id < logits.count else {
            throw AlignMathError.invalidArgument("token id \(id) is outside the vocabulary (0..<\(logits.count))")
        }
        let d = try distribution(logits, context: context, samples: samples, rng: rng)
        var m = -Double.infinity
        for x in logits where Double(x) > m { m = Double(x) }
        guard m > -.infinity else { throw AlignMathError.allMasked(row: 0) }
        var s = 0.0
        for x in logits { s += Foundation.exp(Double(x) - m) }
        var processed = Foundation.log(d.probs[id])
        if d.exact, !(d.probs[id] >= Double.leastNormalMagnitude) {
            // p underflowed (log p = -inf for a kept token) or is subnormal (few digits left):
            // log softmax of the processed logits instead, z[id] - max - log sum exp(z - max).
            let z = try apply(logits, context: context)
            let zi = Double(z[id])
            var mz = -Double.infinity
            for x in z where Double(x) > mz { mz = Double(x) }
            if zi > -.infinity, mz.isFinite {
                var sz = 0.0
                for x in z { sz += Foundation.exp(Double(x) - mz) }
                processed = zi - mz - Foundation.log(sz)
            }
        }
        return (processed, Double(logits[id]) - m - Foundation.log(s))
    }

    /// `logprob` on an array.
    public func logprob<T: SamplingScalar>(_ logits: [T], id: Int, context: SamplingContext = SamplingContext(),
                                           samples: Int? = nil, rng: RandomGenerator) throws -> (processed: Double, raw: Double) {
        try logits.withUnsafeBufferPointer { try logprob($0, id: id, context: context, samples: samples, rng: rng) }
    }
}
