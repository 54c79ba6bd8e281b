import Foundation

extension RL {
    /// Schulman's estimators of KL(policy ‖ ref) from samples of the policy, with
    /// `r = ref / policy` (so `log r = ref_logp - logp`).
    public enum KLEstimator: String, CaseIterable, Sendable {
        /// `k1 = -log r = logp - ref_logp` (unbiased, high variance, can be negative).
        case k1
        /// `k2 = (log r)^2 / 2` (biased, low variance).
        case k2
        /// `k3 = (r - 1) - log r` (unbiased, low variance, never negative), computed so that its
        /// relative error stays within a few ulp also near r = 1 (see `RL.k3Exact`).
        case k3

        /// verl's names for the same estimators (`kl_penalty_forward`: "kl" is k1, "mse" k2,
        /// "low_var_kl" k3).
        public static let aliases: [String: KLEstimator] = ["kl": .k1, "mse": .k2, "low_var_kl": .k3]

        /// The estimator named `name` (or a verl alias); an unknown name is an error listing the valid ones.
        public static func named(_ name: String) throws -> KLEstimator {
            guard let e = KLEstimator(rawValue: name) ?? aliases[name] else {
                throw AlignMathError.invalidArgument("unknown KL estimator '\(name)' (valid: k1, k2, k3, kl, mse, low_var_kl)")
            }
            return e
        }

        @inline(__always) func apply(_ logp: Double, _ refLogp: Double) -> Double {
            let logr = refLogp - logp
            switch self {
            case .k1: return -logr
            case .k2: return 0.5 * logr * logr
            case .k3: return RL.k3Exact(logr)
            }
        }
    }

    /// Per-token KL estimates between a policy and a reference from their log-probabilities
    /// of the sampled tokens (see `KLEstimator`, `KLClamp`).
    public static func kl(logp: [Double], refLogp: [Double], estimator: KLEstimator = .k1,
                          clamp: KLClamp = .none) throws -> [Double] {
        try checkSameLength(logp.count, refLogp.count, "logp and ref_logp")
        return try kl(logp: Tensor(logp), refLogp: Tensor(refLogp), estimator: estimator, clamp: clamp).toDoubles()
    }

    /// KL-shaped per-token rewards of one sequence, as TRL 0.11's `PPOTrainer.compute_rewards`
    /// builds them (and OpenRLHF's `compute_reward`): `-beta * KL[t]` on every token, plus the
    /// sequence `score` on the last one (`mask.nonzero()[-1]`, the last real token).
    /// An empty sequence is an error (there is no last token to carry the score).
    public static func klPenalty(score: Double, logp: [Double], refLogp: [Double], beta: Double = 0.1,
                                 estimator: KLEstimator = .k1, clamp: KLClamp = .none) throws -> [Double] {
        if logp.isEmpty { throw AlignMathError.invalidArgument("kl_penalty needs at least one token, got 0") }
        var out = try kl(logp: logp, refLogp: refLogp, estimator: estimator, clamp: clamp)
        for i in 0..<out.count { out[i] *= -beta }
        out[out.count - 1] += score
        return out
    }

    /// KL-shaped rewards of a batch stored row-major (`scores.count` rows of `logp.count /
    /// scores.count` tokens). `lengths[i]` (default: the full row) says how many tokens of row
    /// i are real; the score goes on token `lengths[i] - 1` and padding tokens get 0.
    public static func klPenalty(scores: [Double], logp: [Double], refLogp: [Double], lengths: [Int]? = nil,
                                 beta: Double = 0.1, estimator: KLEstimator = .k1, clamp: KLClamp = .none) throws -> [Double] {
        try checkSameLength(logp.count, refLogp.count, "logp and ref_logp")
        let rows = scores.count
        if rows == 0 {
            if !logp.isEmpty { throw AlignMathError.shapeMismatch("no scores for \(logp.count) tokens") }
            return []
        }
        if logp.count % rows != 0 {
            throw AlignMathError.shapeMismatch("\(logp.count) tokens do not split into \(rows) rows of equal length")
        }
        let width = logp.count / rows
        if let l = lengths { try checkSameLength(rows, l.count, "scores and lengths") }
        var out = [Double](repeating: 0, count: logp.count)
        for row in 0..<rows {
            let len = lengths?[row] ?? width
            if len < 1 || len > width {
                throw AlignMathError.invalidArgument("length of row \(row + 1) must be in [1, \(width)], got \(len)")
            }
            let base = row * width
            for t in base..<(base + len) {
                out[t] = -beta * clamp.apply(estimator.apply(logp[t], refLogp[t]), estimator, logr: refLogp[t] - logp[t])
            }
            out[base + len - 1] += scores[row]
        }
        return out
    }

    /// The adaptive KL coefficient of Ziegler et al. (2019), as TRL's `AdaptiveKLController`:
    /// `e = clip(current / target - 1, -0.2, 0.2)`, `value *= 1 + e * nSteps / horizon`.
    public struct AdaptiveKLController: Equatable {
        /// The current KL coefficient (beta).
        public private(set) var value: Double
        /// The KL the controller steers toward.
        public let target: Double
        /// Steps over which a full proportional correction is applied.
        public let horizon: Double

        /// A controller starting at `initial` (TRL's `init_kl_coef`).
        public init(initial: Double = 0.2, target: Double = 6, horizon: Double = 10000) throws {
            if !(target > 0) { throw AlignMathError.invalidArgument("target must be > 0, got \(target)") }
            if !(horizon > 0) { throw AlignMathError.invalidArgument("horizon must be > 0, got \(horizon)") }
            if !(initial >= 0) { throw AlignMathError.invalidArgument("init must be >= 0, got \(initial)") }
            self.value = initial
            self.target = target
            self.horizon = horizon
        }

        /// Updates `value` from the KL measured over the last `nSteps` steps; returns the new value.
        @discardableResult
        public mutating func update(currentKL: Double, nSteps: Double) -> Double {
            let e = Swift.min(Swift.max(currentKL / target - 1, -0.2), 0.2)
            value *= 1 + e * nSteps / horizon
            return value
        }
    }
}
