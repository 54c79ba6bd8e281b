import Foundation

/// The KL estimators under the microscope: on full-vocabulary rows, the exact
/// KL(policy ‖ ref) beside what k1, k2 and k3 (Schulman's estimators from one sampled token,
/// as `rl.kl` computes them) give on average, how far that is from the truth and how much
/// they scatter, with and without the clamps RL frameworks put on them. Both exactly (sums
/// over the vocabulary weighted by the policy) and by Monte-Carlo over tokens drawn from
/// the policy, as a trainer sees them.
extension RL {
    /// The clamps `klLab` compares, with their names: none, OpenRLHF's ±10, verl's.
    public static let klLabClamps: [(String, KLClamp)] = [("none", .none), ("openrlhf", .symmetric(10)), ("verl", .verl)]

    /// One estimator under one clamp on one row.
    public struct KLEstimate: Equatable {
        /// Monte-Carlo mean of the per-token estimate over the drawn tokens.
        public var mean: Double
        /// `mean - exact KL`.
        public var bias: Double
        /// Sample variance (ddof 1) of the per-token estimate over the drawn tokens.
        public var variance: Double
        /// Standard error of `mean`: `sqrt(variance / samples)`.
        public var stderr: Double
        /// The estimator's exact expectation under the policy: `sum_x p(x) k(x)`.
        public var expected: Double
        /// `expected - exact KL`: the estimator's true bias (0 for k1 and k3 unclamped).
        public var expectedBias: Double
        /// The exact variance of one token's estimate under the policy.
        public var expectedVariance: Double
    }

    /// The report of one row.
    public struct KLLabRow {
        /// KL(policy ‖ ref) summed over the vocabulary.
        public var exact: Double
        /// `estimates[e][c]`: estimator `KLEstimator.allCases[e]` under clamp `klLabClamps[c]`.
        public var estimates: [[KLEstimate]]
        /// The drawn token ids (0-based).
        public var draws: [Int]
        /// `values[e][c][s]`: the estimate of draw `s`.
        public var values: [[[Double]]]
    }

    /// `klLab` on `rows` rows of `width` log-probabilities each (row-major). Each row is
    /// renormalised by log-softmax first (a row of log-probabilities is unchanged; logits
    /// are accepted); `samples` tokens are drawn per row from the policy with `rng` (the
    /// same draws serve every estimator and clamp).
    /// - Throws: a row of ref with -inf where the policy has mass makes KL infinite: the
    ///   exact value is +inf and so is k1's expectation; no error. A ref row of every entry
    ///   -inf, or holding a NaN, gives NaN for the exact KL and every estimate of that row
    ///   (torch 2.15: its `log_softmax` is NaN, and so is `F.kl_div`), its draws as for any
    ///   ref, so a batch keeps its other rows. A policy row of every entry -inf throws
    ///   `allMasked` (1-based row), one holding a NaN `invalidArgument`: there is nothing
    ///   to draw tokens from (`torch.multinomial` refuses both too).
    public static func klLab(logp: [Double], refLogp: [Double], rows: Int, width: Int, samples: Int,
                             rng: RandomGenerator) throws -> [KLLabRow] {
        try checkSameLength(logp.count, refLogp.count, "logp and ref_logp")
        if logp.isEmpty { throw AlignMathError.invalidArgument("logp is empty (one row of log-probabilities over the vocabulary expected)") }
        if rows * width != logp.count || width < 1 {
            throw AlignMathError.shapeMismatch("\(logp.count) log-probabilities do not make \(rows) rows of \(width)")
        }
        if samples < 2 { throw AlignMathError.invalidArgument("samples must be >= 2 (a variance needs two draws), got \(samples)") }
        var out: [KLLabRow] = []
        for row in 0..<rows {
            if Interruption.isPending { throw AlignMathError.interrupted }
            let policy = logp[(row * width)..<((row + 1) * width)]
            if policy.contains(where: \.isNaN) {
                throw AlignMathError.invalidArgument("logp row \(row + 1) holds NaN: no tokens can be drawn from it (torch.multinomial refuses such a row too)")
            }
            guard let lp = logSoftmaxRow(policy) else { throw AlignMathError.allMasked(row: row + 1) }
            let lq = logSoftmaxRow(refLogp[(row * width)..<((row + 1) * width)])
            var r = try klLabRow(lp, lq ?? [Double](repeating: .nan, count: width), samples: samples, rng: rng)
            if lq == nil {
                // every value NaN (one NaN: k1 = -(lq - lp) would print -nan), the draws kept
                let nan = KLEstimate(mean: .nan, bias: .nan, variance: .nan, stderr: .nan, expected: .nan,
                                     expectedBias: .nan, expectedVariance: .nan)
                r.exact = .nan
                r.estimates = r.estimates.map { $0.map { _ in nan } }
                r.values = r.values.map { $0.map { $0.map { _ in .nan } } }
            }
            out.append(r)
        }
        return out
    }

    /// A row shifted to log-probabilities: `x - logsumexp(x)`; nil for a row of only -inf or
    /// holding a NaN (torch's `log_softmax` of either is NaN; the caller decides).
    static func logSoftmaxRow(_ x: ArraySlice<Double>) -> [Double]? {
        var m = -Double.infinity
        for v in x where v > m { m = v }
        if x.contains(where: \.isNaN) { return nil }
        guard m > -.infinity else { return nil }
        var s = 0.0
        for v in x { s += exp(v - m) }
        let lse = m + log(s)
        return x.map { $0 - lse }
    }

    static func klLabRow(_ lp: [Double], _ lq: [Double], samples: Int, rng: RandomGenerator) throws -> KLLabRow {
        let p = lp.map { exp($0) }
        var exact = 0.0
        for i in 0..<p.count where p[i] > 0 { exact += p[i] * (lp[i] - lq[i]) }
        let table = try AliasTable(p)
        var draws = [Int](repeating: 0, count: samples)
        for s in 0..<samples { draws[s] = table.sample(rng) }
        var estimates: [[KLEstimate]] = [], values: [[[Double]]] = []
        let v = p.count
        // Each token's estimate under one estimator and clamp, once per token: the exact
        // moments weight it by p, the draws look it up.
        var perToken = [Double](repeating: 0, count: v), raw = perToken
        for e in KLEstimator.allCases {
            var perClamp: [KLEstimate] = [], perClampValues: [[Double]] = []
            for i in 0..<v { raw[i] = e.apply(lp[i], lq[i]) }
            for (_, clamp) in klLabClamps {
                var ex = 0.0, exVar = 0.0
                p.withUnsafeBufferPointer { pb in
                    lp.withUnsafeBufferPointer { lpb in
                        lq.withUnsafeBufferPointer { lqb in
                            perToken.withUnsafeMutableBufferPointer { kb in
                                for i in 0..<v {
                                    kb[i] = clamp.apply(raw[i], e, logr: lqb[i] - lpb[i])
                                    if pb[i] > 0 { ex += pb[i] * kb[i] }
                                }
                                for i in 0..<v where pb[i] > 0 { let d = kb[i] - ex; exVar += pb[i] * d * d }
                            }
                        }
                    }
                }
                let vals = draws.map { perToken[$0] }
                let mean = vals.reduce(0, +) / Double(samples)
                var ss = 0.0
                for x in vals { ss += (x - mean) * (x - mean) }
                let variance = ss / Double(samples - 1)
                perClamp.append(KLEstimate(mean: mean, bias: mean - exact, variance: variance,
                                           stderr: (variance / Double(samples)).squareRoot(), expected: ex,
                                           expectedBias: ex - exact, expectedVariance: exVar))
                perClampValues.append(vals)
            }
            estimates.append(perClamp)
            values.append(perClampValues)
        }
        return KLLabRow(exact: exact, estimates: estimates, draws: draws, values: values)
    }
}
