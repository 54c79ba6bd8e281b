import Foundation

/// Analytic gradients of the preference losses: d(mean loss) / d(each policy
/// log-probability), the quantity a trainer's backward pass sends into the policy. Each
/// formula is the derivative of the loss as `DPO.swift` / `ReferenceFree.swift` compute
/// it (TRL 1.x's formulas); the tests check them against central finite differences and
/// against torch autograd (`Tests/AlignMathTests/Fixtures/generate_pref_grads.py`).
/// References (ref_chosen, ref_rejected) and KTO's KL point carry no gradient, as in TRL
/// (the reference model is frozen, the KL point detached).
extension Preference {
    /// d(mean loss) / d(policy_chosen[i]) and d(mean loss) / d(policy_rejected[i]).
    public struct Gradients: Equatable {
        /// One entry per chosen completion.
        public var policyChosen: [Double]
        /// One entry per rejected completion.
        public var policyRejected: [Double]
    }

    /// `sigmoid(y) * sigmoid(-y)`, the derivative of `sigmoid` at `y`.
    @inline(__always)
    static func sigmoidSlope(_ y: Double) -> Double { sigmoid(y) * sigmoid(-y) }

    /// d/dx of `-logsigmoid(x)(1 - ls) - logsigmoid(-x) ls` (sigmoid, cdpo, aot, SimPO).
    @inline(__always)
    static func smoothedLogisticSlope(_ x: Double, _ ls: Double) -> Double {
        -(1 - ls) * sigmoid(-x) + ls * sigmoid(x)
    }

    /// One pair's `(d loss / d cs, d loss / d rs)` for the losses that read only the two
    /// log-ratios `cs = policy_chosen - ref_chosen`, `rs = policy_rejected - ref_rejected`
    /// (the policy inputs enter only through them, with slope 1). `x = beta (cs - rs)`.
    static func dpoPairGradient(_ kind: DPOLoss, _ cs: Double, _ rs: Double, _ beta: Double, _ ls: Double,
                                _ tau: Double, _ delta: Double) -> (Double, Double) {
        let x = beta * (cs - rs)
        // Losses of x alone: d/dcs = beta * dl/dx, d/drs = -beta * dl/dx.
        func ofMargin(_ g: Double) -> (Double, Double) { (beta * g, -beta * g) }
        switch kind {
        case .sigmoid:
            return ofMargin(-sigmoid(-x))
        case .hinge:
            // torch.relu(1 - x): the slope at the kink is relu'(0) = 0, as autograd takes it.
            return ofMargin(1 - x > 0 ? -1 : 0)
        case .exoPair:
            // d/dx [qw (log qw - log(1-e)) + ql (log ql - log e)] = qw ql (x - log1p(-e) + log e)
            return ofMargin(sigmoidSlope(x) * (x - log1p(-ls) + log(ls)))
        case .robust:
            return ofMargin((-(1 - ls) * sigmoid(-x) - ls * sigmoid(x)) / (1 - 2 * ls))
        case .ncaPair:
            let c = beta * cs, r = beta * rs
            return (beta * (-sigmoid(-c) + 0.5 * sigmoid(c)), beta * 0.5 * sigmoid(r))
        case .bcoPair:
            return (-beta * sigmoid(-(beta * cs - delta)), beta * sigmoid(beta * rs - delta))
        case .sppoHard:
            return (2 * (cs - 0.5 / beta), 2 * (rs + 0.5 / beta))
        case .apoZero:
            return (-beta * sigmoidSlope(beta * cs), beta * sigmoidSlope(beta * rs))
        case .apoDown:
            let s = sigmoidSlope(x)
            return (beta * sigmoidSlope(beta * cs) - beta * s, beta * s)
        case .discopop:
            // l = -logsigmoid(x)(1 - m) + exp(-x) m, m = sigmoid(x / tau), m' = m (1 - m) / tau:
            // dl/dx = -sigmoid(-x)(1 - m) - exp(-x) m + m' (logsigmoid(x) + exp(-x)); the
            // exp(-x) products are formed in log space so that none overflows.
            let lm = logSigmoid(x / tau), l1m = logSigmoid(-x / tau)
            let mPrime = exp(lm + l1m) / tau
            let g = -sigmoid(-x) * exp(l1m) - exp(-x + lm) + mPrime * logSigmoid(x) + exp(-x + lm + l1m) / tau
            return ofMargin(g)
        case .cdpo, .aot, .aotUnpaired:
            return ofMargin(smoothedLogisticSlope(x, ls))
        case .ipo, .sigmoidNorm:
            return (.nan, .nan)  // length-normalised: see dpoGradients
        }
    }

    /// d(mean loss) / d(policy_chosen) and d / d(policy_rejected) of `dpoLoss` with the same
    /// inputs, for every loss type. aot and aot_unpaired route each rank's slope back to the
    /// pair that sorted into that rank (ties: the lower index takes the lower rank, as a
    /// stable sort); bco_pair's `batch_mean` reference point is treated as a constant (TRL
    /// 0.x detached its running mean).
    public static func dpoGradients(policyChosen pc: [Double], policyRejected pr: [Double],
                                    refChosen rc: [Double], refRejected rr: [Double],
                                    options o: DPOOptions = DPOOptions()) throws -> Gradients {
        let n = try checkDPOInputs(pc, pr, rc, rr, o)
        let beta = o.beta, ls = o.labelSmoothing, scale = 1 / Double(n)
        var gc = [Double](repeating: 0, count: n), gr = [Double](repeating: 0, count: n)
        var delta = 0.0
        switch o.bcoDelta {
        case .zero: break
        case .fixed(let d): delta = d
        case .batchMean:
            var s = 0.0
            for i in 0..<n { s += beta * (pc[i] - rc[i]) + beta * (pr[i] - rr[i]) }
            delta = n > 0 ? s / Double(2 * n) : 0
        }
        switch o.loss {
        case .aot, .aotUnpaired:
            let paired = o.loss == .aot
            let a = (0..<n).map { paired ? pc[$0] - pr[$0] : pc[$0] - rc[$0] }
            let b = (0..<n).map { paired ? rc[$0] - rr[$0] : pr[$0] - rr[$0] }
            let orderA = stableOrder(a), orderB = stableOrder(b)
            let sortedB = orderB.map { b[$0] }
            for (k, i) in orderA.enumerated() {
                let g = beta * smoothedLogisticSlope(beta * (a[i] - sortedB[k]), ls) * scale
                gc[i] += g
                if paired { gr[i] -= g } else { gr[orderB[k]] -= g }
            }
        case .ipo, .sigmoidNorm:
            guard let lc = o.chosenLengths, let lr = o.rejectedLengths else { return Gradients(policyChosen: gc, policyRejected: gr) }
            for i in 0..<n {
                let nc = Swift.max(lc[i], 1), nr = Swift.max(lr[i], 1)
                let d = (pc[i] - rc[i]) / nc - (pr[i] - rr[i]) / nr
                let g = o.loss == .ipo ? 2 * (d - 1 / (2 * beta)) : -beta * sigmoid(-beta * d)
                gc[i] = g / nc * scale
                gr[i] = -g / nr * scale
            }
        default:
            for i in 0..<n {
                let (a, b) = dpoPairGradient(o.loss, pc[i] - rc[i], pr[i] - rr[i], beta, ls, o.discopopTau, delta)
                gc[i] = a * scale
                gr[i] = b * scale
            }
        }
        return Gradients(policyChosen: gc, policyRejected: gr)
    }

    /// Indices of `x` in ascending order of value, ties by index (a stable sort), NaN last as
    /// torch.sort puts it.
    static func stableOrder(_ x: [Double]) -> [Int] {
        x.indices.sorted { i, j in
            let a = x[i], b = x[j]
            if a.isNaN || b.isNaN { return a.isNaN != b.isNaN ? b.isNaN : i < j }
            return a < b || (a == b && i < j)
        }
    }

    /// `d/dx` of x averaged by its length: 1 / max(length, 1), or 1 without lengths.
    static func lengthSlopes(_ count: Int, _ lengths: [Double]?) -> [Double] {
        guard let l = lengths else { return [Double](repeating: 1, count: count) }
        return l.map { 1 / Swift.max($0, 1) }
    }

    /// Gradients of `simpoLoss`'s mean loss (the NLL term, a separate input, has none here).
    public static func simpoGradients(chosen: [Double], rejected: [Double], beta: Double = 0.1, gamma: Double = 0.5,
                                      labelSmoothing ls: Double = 0, chosenLengths: [Double]? = nil,
                                      rejectedLengths: [Double]? = nil) throws -> Gradients {
        let r = try simpoLoss(chosen: chosen, rejected: rejected, beta: beta, gamma: gamma, labelSmoothing: ls,
                              chosenLengths: chosenLengths, rejectedLengths: rejectedLengths)
        let n = chosen.count, scale = 1 / Double(n)
        let sc = lengthSlopes(n, chosenLengths), sr = lengthSlopes(n, rejectedLengths)
        var gc = [Double](repeating: 0, count: n), gr = gc
        for i in 0..<n {
            // chosen_rewards = beta * c, so beta * logits = margin - gamma.
            let z = r.chosenRewards[i] - r.rejectedRewards[i] - gamma
            let g = beta * smoothedLogisticSlope(z, ls) * scale
            gc[i] = g * sc[i]
            gr[i] = -g * sr[i]
        }
        return Gradients(policyChosen: gc, policyRejected: gr)
    }

    /// Gradients of `orpoLoss`'s mean odds-ratio term: with `lo` the log-odds ratio,
    /// d/dc = beta sigmoid(-lo) / expm1(c) and d/dr = -beta sigmoid(-lo) / expm1(r)
    /// (c, r average log-probabilities, d lo/dc = 1 / (1 - e^c)).
    public static func orpoGradients(chosen: [Double], rejected: [Double], beta: Double = 0.1,
                                     chosenLengths: [Double]? = nil, rejectedLengths: [Double]? = nil) throws -> Gradients {
        _ = try orpoLoss(chosen: chosen, rejected: rejected, beta: beta,
                         chosenLengths: chosenLengths, rejectedLengths: rejectedLengths)
        let c = try averaged(chosen, chosenLengths, "chosen"), r = try averaged(rejected, rejectedLengths, "rejected")
        let n = c.count, scale = 1 / Double(n)
        let sc = lengthSlopes(n, chosenLengths), sr = lengthSlopes(n, rejectedLengths)
        var gc = [Double](repeating: 0, count: n), gr = gc
        for i in 0..<n {
            let lo = (c[i] - r[i]) - (log1mexp(c[i]) - log1mexp(r[i]))
            let w = beta * sigmoid(-lo) * scale
            gc[i] = w / expm1(c[i]) * sc[i]
            gr[i] = -w / expm1(r[i]) * sr[i]
        }
        return Gradients(policyChosen: gc, policyRejected: gr)
    }

    /// Gradients of `ktoLoss`'s mean (over desirable and undesirable losses together): the
    /// reference point z is a constant (TRL detaches it).
    public static func ktoGradients(policyChosen: [Double], refChosen: [Double], policyRejected: [Double],
                                    refRejected: [Double], klPolicy: [Double]? = nil, klRef: [Double]? = nil,
                                    kl: Double? = nil, beta: Double = 0.1, desirableWeight: Double = 1,
                                    undesirableWeight: Double = 1) throws -> Gradients {
        let res = try ktoLoss(policyChosen: policyChosen, refChosen: refChosen, policyRejected: policyRejected,
                              refRejected: refRejected, klPolicy: klPolicy, klRef: klRef, kl: kl, beta: beta,
                              desirableWeight: desirableWeight, undesirableWeight: undesirableWeight)
        let z = res.kl, scale = 1 / Double(policyChosen.count + policyRejected.count)
        let gc = (0..<policyChosen.count).map { i in
            -desirableWeight * beta * sigmoidSlope(beta * ((policyChosen[i] - refChosen[i]) - z)) * scale
        }
        let gr = (0..<policyRejected.count).map { i in
            undesirableWeight * beta * sigmoidSlope(beta * (z - (policyRejected[i] - refRejected[i]))) * scale
        }
        return Gradients(policyChosen: gc, policyRejected: gr)
    }

    /// d(mean loss) / d(r_chosen[i]) and d / d(r_rejected[i]) of `btLoss` (TRL's reward
    /// trainer): `-sigmoid(-(c - r - m)) / N` and its negative; the margin carries none.
    public static func btGradients(chosen: [Double], rejected: [Double], margin: [Double]? = nil) throws -> Gradients {
        try checkSameLength(chosen.count, rejected.count, "r_chosen and r_rejected")
        if let m = margin { try checkSameLength(chosen.count, m.count, "r_chosen and margin") }
        let n = Double(chosen.count)
        var gc = [Double](repeating: 0, count: chosen.count), gr = gc
        for i in 0..<chosen.count {
            let g = -sigmoid(-(chosen[i] - rejected[i] - (margin?[i] ?? 0))) / n
            gc[i] = g
            gr[i] = -g
        }
        return Gradients(policyChosen: gc, policyRejected: gr)
    }
}
