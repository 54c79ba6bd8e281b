extension Metrics {
    static func checkBinary(_ conf: [Double], _ correct: [Double], _ a: String, _ b: String) throws {
        if conf.count != correct.count {
            throw AlignMathError.shapeMismatch("\(a) and \(b) differ in length (\(conf.count) vs \(correct.count))")
        }
        if conf.isEmpty { throw AlignMathError.invalidArgument("\(a) is empty") }
        for (i, y) in correct.enumerated() where y != 0 && y != 1 {
            throw AlignMathError.invalidArgument("\(b)[\(i + 1)] must be 0 or 1 (or a boolean), got \(y)")
        }
    }

    static func checkProbabilities(_ conf: [Double], _ name: String) throws {
        for (i, p) in conf.enumerated() where !(p >= 0 && p <= 1) {
            throw AlignMathError.invalidArgument("\(name)[\(i + 1)] must be in [0, 1], got \(p)")
        }
    }

    /// Expected calibration error (Guo et al. 2017, as their reference code `_ECELoss`): equal-width
    /// bins `(lo, hi]` with edges `linspace(0, 1, bins + 1)`, `sum over bins of |acc - conf| * n_b / N`.
    /// As in that code, a confidence of exactly 0 falls in no bin but still counts in N.
    public static func ece(confidence: [Double], correct: [Double], bins: Int = 10) throws -> Double {
        try checkBinary(confidence, correct, "conf", "correct")
        try checkProbabilities(confidence, "conf")
        if bins < 1 { throw AlignMathError.invalidArgument("bins must be >= 1, got \(bins)") }
        // numpy's linspace(0, 1, bins + 1): i * (1 / bins), the last edge exactly 1.
        let step = 1 / Double(bins)
        var edges = (0...bins).map { Double($0) * step }
        edges[bins] = 1
        var count = [Int](repeating: 0, count: bins)
        var sumConf = [Double](repeating: 0, count: bins)
        var sumAcc = [Double](repeating: 0, count: bins)
        for (i, p) in confidence.enumerated() where p > 0 {
            // First guess from the arithmetic, then settle on the exact edges.
            var b = Swift.min(bins - 1, Swift.max(0, Int((p * Double(bins)).rounded(.up)) - 1))
            while b > 0 && !(p > edges[b]) { b -= 1 }
            while b < bins - 1 && p > edges[b + 1] { b += 1 }
            count[b] += 1
            sumConf[b] += p
            sumAcc[b] += correct[i]
        }
        let total = Double(confidence.count)
        var e = 0.0
        for b in 0..<bins where count[b] > 0 {
            let nb = Double(count[b])
            e += Swift.abs(sumConf[b] / nb - sumAcc[b] / nb) * (nb / total)
        }
        return e
    }

    /// Brier score: `mean((conf - correct)^2)`.
    public static func brier(confidence: [Double], correct: [Double]) throws -> Double {
        try checkBinary(confidence, correct, "conf", "correct")
        try checkProbabilities(confidence, "conf")
        var s = 0.0
        for i in 0..<confidence.count { let d = confidence[i] - correct[i]; s += d * d }
        return s / Double(confidence.count)
    }

    /// Area under the ROC curve, equal to scikit-learn's `roc_auc_score`: the Mann–Whitney
    /// statistic with midranks for tied scores, `(sum of positive ranks - P(P+1)/2) / (P N)`.
    /// Both classes must be present.
    public static func auroc(scores: [Double], labels: [Double]) throws -> Double {
        try checkBinary(scores, labels, "scores", "labels")
        if scores.contains(where: { $0.isNaN }) { throw AlignMathError.invalidArgument("scores contain NaN") }
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var rankSumPos = 0.0
        var pos = 0.0
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && scores[order[j + 1]] == scores[order[i]] { j += 1 }
            let midrank = Double(i + j + 2) / 2  // ranks are 1-based
            for k in i...j where labels[order[k]] == 1 { rankSumPos += midrank; pos += 1 }
            i = j + 1
        }
        let neg = Double(scores.count) - pos
        if pos == 0 || neg == 0 {
            throw AlignMathError.invalidArgument("auroc needs both positive and negative labels, got only \(pos == 0 ? 0 : 1)s")
        }
        return (rankSumPos - pos * (pos + 1) / 2) / (pos * neg)
    }

    /// Area under the precision–recall curve as scikit-learn's `average_precision_score`:
    /// `sum over distinct thresholds (high to low) of (R_k - R_{k-1}) * P_k`, tied scores taken
    /// together. Needs at least one positive label.
    public static func auprc(scores: [Double], labels: [Double]) throws -> Double {
        try checkBinary(scores, labels, "scores", "labels")
        if scores.contains(where: { $0.isNaN }) { throw AlignMathError.invalidArgument("scores contain NaN") }
        var totalPos = 0.0
        for y in labels { totalPos += y }
        if totalPos == 0 { throw AlignMathError.invalidArgument("auprc needs at least one positive label") }
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        var tp = 0.0, fp = 0.0, prevRecall = 0.0, ap = 0.0
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && scores[order[j + 1]] == scores[order[i]] { j += 1 }
            for k in i...j { if labels[order[k]] == 1 { tp += 1 } else { fp += 1 } }
            let recall = tp / totalPos
            let precision = tp / (tp + fp)
            ap += (recall - prevRecall) * precision
            prevRecall = recall
            i = j + 1
        }
        return ap
    }
}
