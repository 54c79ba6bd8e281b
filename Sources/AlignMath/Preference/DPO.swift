import Foundation

extension Preference {
    /// The DPO-family losses of TRL 1.x's `DPOTrainer._compute_loss` (`trl/trainer/dpo_trainer.py`),
    /// plus TRL 0.x's label-smoothed sigmoid (`cdpo`).
    public enum DPOLoss: String, CaseIterable {
        case sigmoid, hinge, ipo, robust
        case exoPair = "exo_pair", ncaPair = "nca_pair", bcoPair = "bco_pair", sppoHard = "sppo_hard"
        case apoZero = "apo_zero", apoDown = "apo_down", discopop
        case sigmoidNorm = "sigmoid_norm", aot, aotUnpaired = "aot_unpaired", cdpo

        /// The loss named `name`; an unknown name is an error listing the valid ones.
        public static func named(_ name: String) throws -> DPOLoss {
            guard let l = DPOLoss(rawValue: name) else {
                let valid = DPOLoss.allCases.map(\.rawValue).joined(separator: ", ")
                throw AlignMathError.invalidArgument("unknown loss '\(name)' (valid: \(valid))")
            }
            return l
        }

        /// True for the losses that read `labelSmoothing` (the others ignore it, as TRL does).
        public var usesLabelSmoothing: Bool {
            switch self {
            case .robust, .exoPair, .aot, .aotUnpaired, .cdpo: return true
            default: return false
            }
        }

        /// True for the losses that need completion lengths.
        public var needsLengths: Bool { self == .ipo || self == .sigmoidNorm }
    }

    /// The reference point `delta` of `bco_pair`: `-logsigmoid(beta*c - delta) - logsigmoid(-(beta*r - delta))`.
    public enum BCODelta: Equatable {
        /// `delta = 0`: TRL 1.x, which dropped the running mean (its default here).
        case zero
        /// `delta = mean(chosen_rewards ++ rejected_rewards)` of this batch: what TRL 0.x's running
        /// mean (`RunningMoments`) holds after its first update, i.e. on a single batch.
        case batchMean
        /// A value carried by the caller, e.g. a running mean kept across batches.
        case fixed(Double)
    }

    /// Options of `Preference.dpoLoss`; defaults as TRL's `DPOConfig`.
    public struct DPOOptions {
        /// Deviation from the reference (IPO's tau).
        public var beta: Double = 0.1
        /// Which loss.
        public var loss: DPOLoss = .sigmoid
        /// Label smoothing / flip probability for robust, exo_pair, aot, aot_unpaired and cdpo.
        public var labelSmoothing: Double = 0
        /// Token counts of the chosen completions (ipo and sigmoid_norm; clamped to at least 1).
        public var chosenLengths: [Double]? = nil
        /// Token counts of the rejected completions.
        public var rejectedLengths: [Double]? = nil
        /// DiscoPOP's temperature.
        public var discopopTau: Double = 0.05
        /// `bco_pair`'s reference point.
        public var bcoDelta: BCODelta = .zero
        /// Defaults as TRL.
        public init() {}
    }

    /// Per-pair losses, implicit rewards and batch statistics of a DPO-family loss.
    public struct DPOResult: Equatable {
        /// Per-pair losses (for aot and aot_unpaired: per rank of the sorted log-ratios, as TRL).
        public var losses: [Double]
        /// `beta * (policy_chosen - ref_chosen)`.
        public var chosenRewards: [Double]
        /// `beta * (policy_rejected - ref_rejected)`.
        public var rejectedRewards: [Double]
        /// Mean loss (NaN for no pairs, as a mean of nothing).
        public var loss: Double
        /// Fraction of pairs with `chosen_reward > rejected_reward`; a tie is not correct.
        public var accuracy: Double
        /// Mean of `chosen_reward - rejected_reward`.
        public var margin: Double
    }

    /// A DPO-family loss over pairs of summed completion log-probabilities, with TRL 1.x's
    /// formulas in float64. Runs in one pass, split over the cores for large batches.
    public static func dpoLoss(policyChosen pc: [Double], policyRejected pr: [Double],
                               refChosen rc: [Double], refRejected rr: [Double],
                               options o: DPOOptions = DPOOptions()) throws -> DPOResult {
        let n = try checkDPOInputs(pc, pr, rc, rr, o)
        let beta = o.beta, ls = o.labelSmoothing
        var delta = 0.0
        switch o.bcoDelta {
        case .zero: break
        case .fixed(let d): delta = d
        case .batchMean:
            var s = 0.0
            for i in 0..<n { s += beta * (pc[i] - rc[i]) + beta * (pr[i] - rr[i]) }
            delta = n > 0 ? s / Double(2 * n) : 0
        }
        // aot and aot_unpaired pair the i-th smallest of one side with the i-th smallest of the other,
        // in torch.sort's order: NaN last (Swift's `<` has no order for NaN, and sorted() then
        // misplaces finite values too).
        var sortedA: [Double] = [], sortedB: [Double] = []
        if o.loss == .aot {
            sortedA = (0..<n).map { pc[$0] - pr[$0] }.sorted(by: torchAscending)
            sortedB = (0..<n).map { rc[$0] - rr[$0] }.sorted(by: torchAscending)
        } else if o.loss == .aotUnpaired {
            sortedA = (0..<n).map { pc[$0] - rc[$0] }.sorted(by: torchAscending)
            sortedB = (0..<n).map { pr[$0] - rr[$0] }.sorted(by: torchAscending)
        }
        let lc = o.chosenLengths ?? [], lr = o.rejectedLengths ?? []
        let kind = o.loss, tau = o.discopopTau
        let block = 1 << 15
        let nBlocks = (n + block - 1) / block
        var partial = [Double](repeating: 0, count: 3 * nBlocks)
        var cr: [Double] = [], rjr: [Double] = []
        // Outputs are written (first touched) inside the parallel loop, so page faults split too.
        let losses = try [Double](unsafeUninitializedCapacity: n) { lo, loCount in
            cr = try [Double](unsafeUninitializedCapacity: n) { cw, cwCount in
                rjr = try [Double](unsafeUninitializedCapacity: n) { rw, rwCount in
                    try partial.withUnsafeMutableBufferPointer { part in
                        let lo = lo, cw = cw, rw = rw, part = part
                        try ParallelFor.rowsNoThrow(nBlocks, costPerRow: block * 8) { blocks in
                            for b in blocks {
                                var sl = 0.0, acc = 0.0, sm = 0.0
                                for i in (b * block)..<Swift.min(n, (b + 1) * block) {
                                    let cs = pc[i] - rc[i], rs = pr[i] - rr[i]
                                    let l: Double
                                    switch kind {
                                    case .aot, .aotUnpaired:
                                        let d = sortedA[i] - sortedB[i]
                                        l = -logSigmoid(beta * d) * (1 - ls) - logSigmoid(-beta * d) * ls
                                    case .cdpo:
                                        let x = beta * ((pc[i] - pr[i]) - (rc[i] - rr[i]))
                                        l = -logSigmoid(x) * (1 - ls) - logSigmoid(-x) * ls
                                    case .ipo, .sigmoidNorm:
                                        let d = cs / Swift.max(lc[i], 1) - rs / Swift.max(lr[i], 1)
                                        l = kind == .ipo ? (d - 1 / (2 * beta)) * (d - 1 / (2 * beta)) : -logSigmoid(beta * d)
                                    default:
                                        l = dpoPair(kind, cs, rs, beta, ls, tau, delta)
                                    }
                                    let c = beta * cs, r = beta * rs
                                    lo[i] = l
                                    cw[i] = c
                                    rw[i] = r
                                    sl += l
                                    sm += c - r
                                    if c > r { acc += 1 }
                                }
                                part[3 * b] = sl
                                part[3 * b + 1] = acc
                                part[3 * b + 2] = sm
                            }
                        }
                    }
                    rwCount = n
                }
                cwCount = n
            }
            loCount = n
        }
        var sl = 0.0, acc = 0.0, sm = 0.0
        for b in 0..<nBlocks { sl += partial[3 * b]; acc += partial[3 * b + 1]; sm += partial[3 * b + 2] }
        let dn = Double(n)
        return DPOResult(losses: losses, chosenRewards: cr, rejectedRewards: rjr,
                         loss: sl / dn, accuracy: acc / dn, margin: sm / dn)
    }

    /// The four log-probability lists have one length and the options suit it (the loss and
    /// its gradients check the same things); returns that length.
    static func checkDPOInputs(_ pc: [Double], _ pr: [Double], _ rc: [Double], _ rr: [Double],
                               _ o: DPOOptions) throws -> Int {
        let n = pc.count
        try checkSameLength(n, pr.count, "policy_chosen and policy_rejected")
        try checkSameLength(n, rc.count, "policy_chosen and ref_chosen")
        try checkSameLength(n, rr.count, "policy_chosen and ref_rejected")
        try checkDPOOptions(o, n)
        return n
    }

    static func checkDPOOptions(_ o: DPOOptions, _ n: Int) throws {
        if !(o.beta > 0) { throw AlignMathError.invalidArgument("beta must be > 0, got \(o.beta)") }
        let ls = o.labelSmoothing
        if !(ls >= 0 && ls <= 1) {
            throw AlignMathError.invalidArgument("label_smoothing must be in [0, 1], got \(ls)")
        }
        switch o.loss {
        case .robust where !(ls < 0.5):
            throw AlignMathError.invalidArgument("label_smoothing must be in [0, 0.5) for robust, got \(ls)")
        case .exoPair where !(ls > 0 && ls < 1):
            throw AlignMathError.invalidArgument(
                "label_smoothing must be in (0, 1) for exo_pair (the EXO paper suggests 1e-3), got \(ls)")
        case .discopop where !(o.discopopTau > 0):
            throw AlignMathError.invalidArgument("discopop_tau must be > 0, got \(o.discopopTau)")
        default: break
        }
        if o.loss.needsLengths {
            guard let lc = o.chosenLengths, let lr = o.rejectedLengths else {
                throw AlignMathError.invalidArgument("\(o.loss.rawValue) needs chosen_len and rejected_len (token counts)")
            }
            try checkSameLength(n, lc.count, "policy_chosen and chosen_len")
            try checkSameLength(n, lr.count, "policy_chosen and rejected_len")
        }
    }

    /// torch.sort's ascending order: NaN after every number.
    @inline(__always)
    static func torchAscending(_ a: Double, _ b: Double) -> Bool { !a.isNaN && (b.isNaN || a < b) }

    /// One pair's loss for the losses that need nothing but the two log-ratios
    /// `cs = policy_chosen - ref_chosen` and `rs = policy_rejected - ref_rejected`.
    @inline(__always)
    static func dpoPair(_ kind: DPOLoss, _ cs: Double, _ rs: Double, _ beta: Double, _ ls: Double,
                        _ tau: Double, _ delta: Double) -> Double {
        let x = beta * (cs - rs)
        switch kind {
        case .sigmoid:
            return -logSigmoid(x)
        case .hinge:
            // torch.relu keeps NaN (Swift.max(0, .nan) is 0)
            let h = 1 - x
            return h > 0 || h.isNaN ? h : 0
        case .exoPair:
            let qw = sigmoid(x), ql = sigmoid(-x)
            return qw * (logSigmoid(x) - log1p(-ls)) + ql * (logSigmoid(-x) - log(ls))
        case .ncaPair:
            let c = beta * cs, r = beta * rs
            return -logSigmoid(c) - 0.5 * logSigmoid(-c) - 0.5 * logSigmoid(-r)
        case .robust:
            let clean = -(1 - ls) * logSigmoid(x)
            let flipped = -ls * logSigmoid(-x)
            return (clean - flipped) / (1 - 2 * ls)
        case .bcoPair:
            return -logSigmoid(beta * cs - delta) - logSigmoid(-(beta * rs - delta))
        case .sppoHard:
            let w = cs - 0.5 / beta, l = rs + 0.5 / beta
            return w * w + l * l
        case .apoZero:
            // 1 - sigmoid(beta*cs) written as sigmoid(-beta*cs): the same number, without cancellation.
            return sigmoid(-beta * cs) + sigmoid(beta * rs)
        case .apoDown:
            return sigmoid(beta * cs) + sigmoid(-x)
        case .discopop:
            // logistic*(1 - m) + exp(-x)*m with m = sigmoid(x/tau); 1 - m = sigmoid(-x/tau) and
            // exp(-x)*m = exp(-x + logsigmoid(x/tau)), so neither term overflows or cancels.
            return -logSigmoid(x) * sigmoid(-x / tau) + exp(-x + logSigmoid(x / tau))
        case .ipo, .sigmoidNorm, .aot, .aotUnpaired, .cdpo:
            return .nan  // handled by the caller
        }
    }
}
