import Foundation

extension RL {
    /// Whitening as TRL's `masked_whiten` (all-ones mask): `(x - mean) / sqrt(var + 1e-8)` with
    /// the unbiased (Bessel-corrected) variance; `shiftMean = false` adds the mean back.
    /// Needs at least two values (TRL divides by `n - 1`).
    public static func whiten(_ x: [Double], shiftMean: Bool = true) throws -> [Double] {
        let n = x.count
        if n < 2 {
            throw AlignMathError.invalidArgument("whiten needs at least 2 values (unbiased variance), got \(n)")
        }
        var sum = 0.0
        for v in x { sum += v }
        let mean = sum / Double(n)
        var ss = 0.0
        for v in x { let d = v - mean; ss += d * d }
        let variance = (ss / Double(n)) * (Double(n) / Double(n - 1))
        let inv = 1 / (variance + 1e-8).squareRoot()
        let back = shiftMean ? 0 : mean
        return x.map { ($0 - mean) * inv + back }
    }

    /// The result of `RL.ppoLoss`.
    public struct PPOLossResult: Equatable {
        /// Mean clipped surrogate loss, `mean(max(-A * ratio, -A * clip(ratio)))`.
        public var loss: Double
        /// Fraction of tokens where the clipped term was the larger (TRL's `pg_clipfrac`).
        public var clipfrac: Double
        /// `0.5 * mean((logp - old_logp)^2)`, as TRL's PPO trainer logs `approxkl`.
        public var approxKL: Double
        /// Mean of `exp(logp - old_logp)`.
        public var ratioMean: Double
    }

    /// PPO's clipped surrogate objective (Schulman et al. 2017) as TRL's PPO trainer computes it,
    /// with an optional asymmetric upper clip as in DAPO: the ratio is clipped to
    /// `[1 - clip, 1 + (clipHigh ?? clip)]`. Empty input gives NaN statistics (a mean of nothing).
    public static func ppoLoss(logp: [Double], oldLogp: [Double], advantages: [Double],
                               clip: Double = 0.2, clipHigh: Double? = nil) throws -> PPOLossResult {
        try checkSameLength(logp.count, oldLogp.count, "logp and old_logp")
        try checkSameLength(logp.count, advantages.count, "logp and advantages")
        if !(clip >= 0) { throw AlignMathError.invalidArgument("clip must be >= 0, got \(clip)") }
        let hi = clipHigh ?? clip
        if !(hi >= 0) { throw AlignMathError.invalidArgument("clip_high must be >= 0, got \(hi)") }
        let lo = 1 - clip, up = 1 + hi
        var loss = 0.0, clipped = 0.0, kl = 0.0, ratioSum = 0.0
        for i in 0..<logp.count {
            let diff = logp[i] - oldLogp[i]
            let ratio = exp(diff)
            let a = advantages[i]
            let l1 = -a * ratio
            let l2 = -a * torchMin(torchMax(ratio, lo), up)
            loss += torchMax(l1, l2)
            if l2 > l1 { clipped += 1 }
            kl += diff * diff
            ratioSum += ratio
        }
        let n = Double(logp.count)
        return PPOLossResult(loss: loss / n, clipfrac: clipped / n, approxKL: 0.5 * kl / n, ratioMean: ratioSum / n)
    }

    /// The result of `RL.valueLoss`.
    public struct ValueLossResult: Equatable {
        /// `0.5 * mean(max((v - R)^2, (clip(v, old - clip, old + clip) - R)^2))`.
        public var loss: Double
        /// Fraction of values where the clipped error was the larger (TRL's `vf_clipfrac`).
        public var clipfrac: Double
    }

    /// Clipped value loss as TRL's PPO trainer computes it.
    public static func valueLoss(values: [Double], oldValues: [Double], returns: [Double],
                                 clip: Double = 0.2) throws -> ValueLossResult {
        try checkSameLength(values.count, oldValues.count, "values and old_values")
        try checkSameLength(values.count, returns.count, "values and returns")
        if !(clip >= 0) { throw AlignMathError.invalidArgument("clip must be >= 0, got \(clip)") }
        var loss = 0.0, clipped = 0.0
        for i in 0..<values.count {
            let v = values[i], old = oldValues[i], r = returns[i]
            // torch.clamp / torch.max keep NaN (a NaN old value gives NaN, as in TRL); Swift.max/min drop it
            let vc = torchMin(torchMax(v, old - clip), old + clip)
            let l1 = (v - r) * (v - r)
            let l2 = (vc - r) * (vc - r)
            loss += torchMax(l1, l2)
            if l2 > l1 { clipped += 1 }
        }
        let n = Double(values.count)
        return ValueLossResult(loss: 0.5 * loss / n, clipfrac: clipped / n)
    }

    /// torch.maximum / torch.minimum: NaN if either is NaN (Swift.max(1, .nan) is 1).
    @inline(__always) static func torchMax(_ a: Double, _ b: Double) -> Double { a.isNaN || b.isNaN ? .nan : Swift.max(a, b) }
    @inline(__always) static func torchMin(_ a: Double, _ b: Double) -> Double { a.isNaN || b.isNaN ? .nan : Swift.min(a, b) }
}
