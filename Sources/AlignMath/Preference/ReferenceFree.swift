import Foundation

extension Preference {
    /// Per-pair losses and rewards of SimPO or ORPO, with batch statistics.
    public struct PolicyOnlyResult: Equatable {
        /// Per-pair losses (the preference term only; add an NLL term yourself if wanted).
        public var losses: [Double]
        /// `beta * chosen` (average log-probabilities), as TRL logs them.
        public var chosenRewards: [Double]
        /// `beta * rejected`.
        public var rejectedRewards: [Double]
        /// Mean loss, plus `nllWeight * nll` when an NLL was given.
        public var loss: Double
        /// Fraction of pairs with `chosen_reward > rejected_reward` (a tie is not correct).
        public var accuracy: Double
        /// Mean of `chosen_reward - rejected_reward`.
        public var margin: Double
        /// ORPO only: mean log-odds ratio (TRL's `log_odds_chosen`); NaN for SimPO.
        public var logOdds: Double = .nan
        /// ORPO only: mean `logsigmoid(log_odds)` (TRL's `log_odds_ratio`); NaN for SimPO.
        public var logOddsRatio: Double = .nan
    }

    static func averaged(_ x: [Double], _ lengths: [Double]?, _ what: String) throws -> [Double] {
        guard let l = lengths else { return x }
        try checkSameLength(x.count, l.count, "\(what) and its lengths")
        return (0..<x.count).map { x[$0] / Swift.max(l[$0], 1) }
    }

    static func summarize(_ losses: [Double], _ c: [Double], _ r: [Double], extra: Double) -> (Double, Double, Double) {
        var sl = 0.0, acc = 0.0, sm = 0.0
        for i in 0..<losses.count {
            sl += losses[i]
            sm += c[i] - r[i]
            if c[i] > r[i] { acc += 1 }
        }
        let n = Double(losses.count)
        return (sl / n + extra, acc / n, sm / n)
    }

    /// SimPO as TRL's CPO trainer computes it (`loss_type="simpo"`, `trl/experimental/cpo/cpo_trainer.py`):
    /// `logits = (chosen - rejected) - gamma / beta`,
    /// `loss = -logsigmoid(beta*logits)*(1-ls) - logsigmoid(-beta*logits)*ls`, on average
    /// log-probabilities. Pass summed log-probabilities with `chosenLengths`/`rejectedLengths`
    /// (token counts, clamped to at least 1) to have them averaged here. `nll` (the chosen
    /// cross-entropy) is added to the mean loss with weight `nllWeight` (TRL's `cpo_alpha`).
    public static func simpoLoss(chosen: [Double], rejected: [Double], beta: Double = 0.1, gamma: Double = 0.5,
                                 labelSmoothing ls: Double = 0, chosenLengths: [Double]? = nil,
                                 rejectedLengths: [Double]? = nil, nll: Double? = nil,
                                 nllWeight: Double = 1) throws -> PolicyOnlyResult {
        try checkSameLength(chosen.count, rejected.count, "chosen and rejected")
        if !(beta > 0) { throw AlignMathError.invalidArgument("beta must be > 0, got \(beta)") }
        if !(ls >= 0 && ls <= 1) { throw AlignMathError.invalidArgument("label_smoothing must be in [0, 1], got \(ls)") }
        let c = try averaged(chosen, chosenLengths, "chosen")
        let r = try averaged(rejected, rejectedLengths, "rejected")
        let gammaLogratios = gamma / beta
        var losses = [Double](repeating: 0, count: c.count)
        for i in 0..<c.count {
            let logits = (c[i] - r[i]) - gammaLogratios
            losses[i] = -logSigmoid(beta * logits) * (1 - ls) - logSigmoid(-beta * logits) * ls
        }
        let cr = c.map { beta * $0 }, rr = r.map { beta * $0 }
        let (l, a, m) = summarize(losses, cr, rr, extra: nll.map { nllWeight * $0 } ?? 0)
        return PolicyOnlyResult(losses: losses, chosenRewards: cr, rejectedRewards: rr, loss: l, accuracy: a, margin: m)
    }

    /// `log(1 - exp(x))` for `x < 0`, branching at `-ln 2` as TRL's ORPO `log1mexp`.
    @inline(__always)
    public static func log1mexp(_ x: Double) -> Double {
        x < -0.6931471805599453 ? log1p(-exp(x)) : log(-expm1(x))
    }

    /// ORPO's odds-ratio term as TRL's ORPO trainer (`odds_ratio_loss`, `trl/experimental/orpo/orpo_trainer.py`):
    /// `log_odds = (c - r) - (log1mexp(c) - log1mexp(r))` on average log-probabilities, and the
    /// per-pair loss `-beta * logsigmoid(log_odds)` (TRL returns `beta * logsigmoid` and subtracts
    /// its mean from the NLL). The mean loss adds `nll` when given: `nll - mean(beta * ratio)`.
    /// Average log-probabilities must be < 0 (a probability of 1 has no odds).
    public static func orpoLoss(chosen: [Double], rejected: [Double], beta: Double = 0.1,
                                chosenLengths: [Double]? = nil, rejectedLengths: [Double]? = nil,
                                nll: Double? = nil) throws -> PolicyOnlyResult {
        try checkSameLength(chosen.count, rejected.count, "chosen and rejected")
        let c = try averaged(chosen, chosenLengths, "chosen")
        let r = try averaged(rejected, rejectedLengths, "rejected")
        var losses = [Double](repeating: 0, count: c.count)
        var sumOdds = 0.0, sumRatio = 0.0
        for i in 0..<c.count {
            if !(c[i] < 0 && r[i] < 0) {
                throw AlignMathError.invalidArgument(
                    "average log-probabilities must be < 0, got \(c[i]) and \(r[i]) in pair \(i + 1)")
            }
            let logOdds = (c[i] - r[i]) - (log1mexp(c[i]) - log1mexp(r[i]))
            let ratio = logSigmoid(logOdds)
            losses[i] = -(beta * ratio)
            sumOdds += logOdds
            sumRatio += ratio
        }
        let cr = c.map { beta * $0 }, rr = r.map { beta * $0 }
        let (l, a, m) = summarize(losses, cr, rr, extra: nll ?? 0)
        let n = Double(c.count)
        return PolicyOnlyResult(losses: losses, chosenRewards: cr, rejectedRewards: rr, loss: l, accuracy: a,
                                margin: m, logOdds: sumOdds / n, logOddsRatio: sumRatio / n)
    }

    /// KTO's losses, rewards and reference point.
    public struct KTOResult: Equatable {
        /// `desirable_weight * chosen_losses` followed by `undesirable_weight * rejected_losses`.
        public var losses: [Double]
        /// `beta * (policy_chosen - ref_chosen)`.
        public var chosenRewards: [Double]
        /// `beta * (policy_rejected - ref_rejected)`.
        public var rejectedRewards: [Double]
        /// The KL reference point used (clamped at 0).
        public var kl: Double
        /// Mean of `losses` (NaN when there are none).
        public var loss: Double
    }

    /// KTO (Ethayarajh et al. 2024) as TRL's KTO trainer (`loss_type="kto"`, `trl/trainer/kto_trainer.py`):
    /// `kl = max(mean(kl_policy - kl_ref), 0)` (or `kl` given directly, also clamped at 0),
    /// desirable losses `1 - sigmoid(beta*(c - kl))`, undesirable `1 - sigmoid(beta*(kl - r))`, weighted
    /// and concatenated, mean over all. Either side may be empty.
    public static func ktoLoss(policyChosen: [Double], refChosen: [Double], policyRejected: [Double],
                               refRejected: [Double], klPolicy: [Double]? = nil, klRef: [Double]? = nil,
                               kl: Double? = nil, beta: Double = 0.1, desirableWeight: Double = 1,
                               undesirableWeight: Double = 1) throws -> KTOResult {
        try checkSameLength(policyChosen.count, refChosen.count, "policy_chosen and ref_chosen")
        try checkSameLength(policyRejected.count, refRejected.count, "policy_rejected and ref_rejected")
        if !(beta > 0) { throw AlignMathError.invalidArgument("beta must be > 0, got \(beta)") }
        var z = 0.0
        if let k = kl {
            if klPolicy != nil || klRef != nil {
                throw AlignMathError.invalidArgument("give either kl or kl_policy and kl_ref, not both")
            }
            z = Swift.max(k, 0)
        } else if let kp = klPolicy, let kr = klRef {
            try checkSameLength(kp.count, kr.count, "kl_policy and kl_ref")
            if kp.isEmpty { throw AlignMathError.invalidArgument("kl_policy and kl_ref are empty") }
            var s = 0.0
            for i in 0..<kp.count { s += kp[i] - kr[i] }
            z = Swift.max(s / Double(kp.count), 0)
        } else if klPolicy != nil || klRef != nil {
            throw AlignMathError.invalidArgument("kl_policy and kl_ref must be given together")
        }
        let cr = (0..<policyChosen.count).map { beta * (policyChosen[$0] - refChosen[$0]) }
        let rr = (0..<policyRejected.count).map { beta * (policyRejected[$0] - refRejected[$0]) }
        var losses = [Double]()
        losses.reserveCapacity(cr.count + rr.count)
        // 1 - sigmoid(y) is computed as sigmoid(-y): the same number without cancellation.
        for i in 0..<policyChosen.count {
            losses.append(desirableWeight * sigmoid(-(beta * ((policyChosen[i] - refChosen[i]) - z))))
        }
        for i in 0..<policyRejected.count {
            losses.append(undesirableWeight * sigmoid(-(beta * (z - (policyRejected[i] - refRejected[i])))))
        }
        var s = 0.0
        for l in losses { s += l }
        return KTOResult(losses: losses, chosenRewards: cr, rejectedRewards: rr, kl: z, loss: s / Double(losses.count))
    }
}
