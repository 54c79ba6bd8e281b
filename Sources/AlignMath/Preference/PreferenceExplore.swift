import Foundation

/// A preference loss as a function of the implicit-reward margin, for plotting: what the
/// loss and its gradient look like as the chosen completion's implicit reward moves past the
/// rejected one's. DPO's family depends on the margin alone (sigmoid, hinge, ...), or on
/// both rewards (nca_pair, bco_pair, apo_*, sppo_hard, KTO, ORPO): for those the path
/// through the (chosen, rejected) plane has to be chosen, and the gradient is the
/// derivative along it.
extension Preference {
    /// Which loss `explore` draws.
    public enum ExploreLoss: Equatable {
        /// A DPO-family loss; implicit rewards `beta * (policy - ref)`.
        case dpo(DPOLoss)
        /// SimPO; implicit rewards `beta * average log-probability`.
        case simpo
        /// ORPO; implicit rewards `beta * average log-probability` (must stay < 0).
        case orpo
        /// KTO on one desirable and one undesirable completion, mean of the two losses.
        case kto

        /// The loss named `name`: a `pref.dpo_loss` type, `simpo`, `orpo` or `kto`.
        public static func named(_ name: String) throws -> ExploreLoss {
            switch name {
            case "simpo": return .simpo
            case "orpo": return .orpo
            case "kto": return .kto
            default:
                guard let l = DPOLoss(rawValue: name) else {
                    let valid = (DPOLoss.allCases.map(\.rawValue) + ["simpo", "orpo", "kto"]).joined(separator: ", ")
                    throw AlignMathError.invalidArgument("unknown loss '\(name)' (valid: \(valid))")
                }
                return .dpo(l)
            }
        }
    }

    /// Parameters of `explore` besides the margins.
    public struct ExploreOptions {
        /// The loss's beta.
        public var beta = 0.1
        /// Label smoothing where the loss reads it.
        public var labelSmoothing = 0.0
        /// DiscoPOP's temperature.
        public var discopopTau = 0.05
        /// SimPO's target margin gamma.
        public var gamma = 0.5
        /// bco_pair's reference point.
        public var bcoDelta = 0.0
        /// KTO's reference point z (as `kl`, clamped at 0).
        public var ktoKL = 0.0
        /// The chosen implicit reward, one per margin or one for all; nil splits each
        /// margin evenly (chosen `m/2`, rejected `-m/2`).
        public var chosen: [Double]? = nil
        /// Defaults as the losses'.
        public init() {}
    }

    /// Loss and gradients along the explored path.
    public struct ExploreResult: Equatable {
        /// The loss at each margin.
        public var losses: [Double]
        /// d loss / d margin along the path (chosen fixed: through the rejected reward;
        /// split: half through each). For losses of the margin alone, the plain derivative.
        public var grads: [Double]
        /// The chosen and rejected implicit rewards used.
        public var chosenRewards: [Double], rejectedRewards: [Double]
        /// d loss / d chosen reward and d loss / d rejected reward.
        public var gradChosen: [Double], gradRejected: [Double]
    }

    /// The loss and its gradients at each implicit-reward margin `m = chosen - rejected`.
    public static func explore(_ loss: ExploreLoss, margins: [Double], options o: ExploreOptions = ExploreOptions()) throws -> ExploreResult {
        if !(o.beta > 0) { throw AlignMathError.invalidArgument("beta must be > 0, got \(o.beta)") }
        let n = margins.count
        var chosen = margins.map { $0 / 2 }
        if let c = o.chosen {
            guard c.count == 1 || c.count == n else {
                throw AlignMathError.shapeMismatch("chosen needs one value or one per margin (\(n)), got \(c.count)")
            }
            chosen = c.count == 1 ? [Double](repeating: c[0], count: n) : c
        } else if loss == .orpo {
            throw AlignMathError.invalidArgument("orpo depends on each reward, not only the margin: give chosen (its implicit reward, beta * average log-probability, < 0)")
        }
        let rejected = (0..<n).map { chosen[$0] - margins[$0] }
        var res = ExploreResult(losses: [], grads: [], chosenRewards: chosen, rejectedRewards: rejected,
                                gradChosen: [], gradRejected: [])
        for i in 0..<n {
            let (l, gc, gr) = try point(loss, chosen[i], rejected[i], o)
            res.losses.append(l)
            res.gradChosen.append(gc)
            res.gradRejected.append(gr)
            res.grads.append(o.chosen == nil ? 0.5 * (gc - gr) : -gr)
        }
        return res
    }

    /// Loss, d/d chosen reward and d/d rejected reward at one point.
    static func point(_ loss: ExploreLoss, _ c: Double, _ r: Double, _ o: ExploreOptions) throws -> (Double, Double, Double) {
        let beta = o.beta
        switch loss {
        case .dpo(let kind):
            // Log-ratios from the rewards; lengths of 1 for the length-normalised losses.
            let cs = c / beta, rs = r / beta
            var opts = DPOOptions()
            opts.beta = beta
            opts.loss = kind
            opts.labelSmoothing = o.labelSmoothing
            opts.discopopTau = o.discopopTau
            opts.bcoDelta = o.bcoDelta == 0 ? .zero : .fixed(o.bcoDelta)
            if kind.needsLengths { opts.chosenLengths = [1]; opts.rejectedLengths = [1] }
            let l = try dpoLoss(policyChosen: [cs], policyRejected: [rs], refChosen: [0], refRejected: [0], options: opts)
            let g = try dpoGradients(policyChosen: [cs], policyRejected: [rs], refChosen: [0], refRejected: [0], options: opts)
            return (l.losses[0], g.policyChosen[0] / beta, g.policyRejected[0] / beta)
        case .simpo:
            let l = try simpoLoss(chosen: [c / beta], rejected: [r / beta], beta: beta, gamma: o.gamma, labelSmoothing: o.labelSmoothing)
            let g = try simpoGradients(chosen: [c / beta], rejected: [r / beta], beta: beta, gamma: o.gamma, labelSmoothing: o.labelSmoothing)
            return (l.losses[0], g.policyChosen[0] / beta, g.policyRejected[0] / beta)
        case .orpo:
            guard c < 0 && r < 0 else { return (.nan, .nan, .nan) }
            let l = try orpoLoss(chosen: [c / beta], rejected: [r / beta], beta: beta)
            let g = try orpoGradients(chosen: [c / beta], rejected: [r / beta], beta: beta)
            return (l.losses[0], g.policyChosen[0] / beta, g.policyRejected[0] / beta)
        case .kto:
            let l = try ktoLoss(policyChosen: [c / beta], refChosen: [0], policyRejected: [r / beta], refRejected: [0],
                                kl: o.ktoKL, beta: beta)
            let g = try ktoGradients(policyChosen: [c / beta], refChosen: [0], policyRejected: [r / beta], refRejected: [0],
                                     kl: o.ktoKL, beta: beta)
            return (l.loss, g.policyChosen[0] / beta, g.policyRejected[0] / beta)
        }
    }
}
