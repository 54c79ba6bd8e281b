import Foundation

/// Preference losses: Bradley–Terry and Plackett–Luce for reward models, the DPO family
/// (TRL's `trl/trainer/dpo_trainer.py`), SimPO, ORPO and KTO. All in `Double`, with
/// log-sigmoids computed so that tiny losses stay positive.
public enum Preference {
    /// `log(sigmoid(x))` without overflow or loss of tiny values:
    /// `min(x, 0) - log1p(exp(-|x|))` (as torch's `logsigmoid`). `logSigmoid(500)` is `-7.1e-218`.
    @inline(__always)
    public static func logSigmoid(_ x: Double) -> Double {
        Swift.min(x, 0) - log1p(exp(-Swift.abs(x)))
    }

    /// `sigmoid(x)` without overflow; `sigmoid(-x)` is used wherever a formula says `1 - sigmoid(x)`.
    @inline(__always)
    public static func sigmoid(_ x: Double) -> Double {
        if x >= 0 { return 1 / (1 + exp(-x)) }
        let e = exp(x)
        return e / (1 + e)
    }

    static func checkSameLength(_ a: Int, _ b: Int, _ what: String) throws {
        if a != b { throw AlignMathError.shapeMismatch("\(what) differ in length (\(a) vs \(b))") }
    }

    /// Loss and accuracy of a reward model on pairs.
    public struct PairLossResult: Equatable {
        /// Per-pair losses.
        public var losses: [Double]
        /// Mean loss (NaN for no pairs).
        public var loss: Double
        /// Fraction of pairs with `chosen > rejected` (a tie is not correct).
        public var accuracy: Double
    }

    /// Bradley–Terry reward-model loss `-logsigmoid(chosen - rejected - margin)` per pair
    /// (TRL's reward trainer; `margin` per pair as its `margin` column), with its mean and the
    /// pairwise accuracy. Accuracy compares `chosen > rejected` without the margin.
    public static func btLoss(chosen: [Double], rejected: [Double], margin: [Double]? = nil) throws -> PairLossResult {
        try checkSameLength(chosen.count, rejected.count, "r_chosen and r_rejected")
        if let m = margin { try checkSameLength(chosen.count, m.count, "r_chosen and margin") }
        let n = chosen.count
        var losses = [Double](repeating: 0, count: n)
        var sum = 0.0, correct = 0
        for i in 0..<n {
            let l = -logSigmoid(chosen[i] - rejected[i] - (margin?[i] ?? 0))
            losses[i] = l
            sum += l
            if chosen[i] > rejected[i] { correct += 1 }
        }
        return PairLossResult(losses: losses, loss: sum / Double(n), accuracy: Double(correct) / Double(n))
    }

    /// Plackett–Luce top-1 (listwise softmax) loss: `-log softmax(scores[row])[best[row]]` for each
    /// row of a row-major `rows x width` matrix; `best` holds 0-based column indices
    /// (the Lua glue converts from 1-based). Rows may contain `-inf` (excluded items); `+inf`
    /// where the best is excluded. A row of only `-inf` gives NaN, never an error, as torch
    /// 2.15's `F.cross_entropy(scores, best, reduction="none")` (its `log_softmax` of such a
    /// row is NaN), so one such row does not lose the other rows of a batch.
    public static func listwiseLoss(scores: [Double], width: Int, best: [Int]) throws -> [Double] {
        if width < 1 { throw AlignMathError.invalidArgument("each row needs at least one score, got width \(width)") }
        if scores.count % width != 0 {
            throw AlignMathError.shapeMismatch("\(scores.count) scores do not split into rows of \(width)")
        }
        let rows = scores.count / width
        try checkSameLength(rows, best.count, "rows and best")
        var out = [Double](repeating: 0, count: rows)
        for r in 0..<rows {
            let b = best[r]
            if b < 0 || b >= width {
                throw AlignMathError.invalidArgument("best of row \(r + 1) must be in 1...\(width), got \(b + 1)")
            }
            let row = scores[(r * width)..<((r + 1) * width)]
            var mx = -Double.infinity
            for v in row where v > mx { mx = v }
            // no finite maximum: every score -inf (torch: NaN), or -inf and NaN (NaN)
            if mx == -.infinity { out[r] = .nan; continue }
            let vb = scores[r * width + b]
            if vb == mx {
                // log(1 + sum over the others of exp(v - vb)): exact for a tiny loss.
                var s = 0.0
                for (j, v) in row.enumerated() where j != b { s += exp(v - mx) }
                out[r] = log1p(s)
            } else {
                var s = 0.0
                for v in row { s += exp(v - mx) }
                out[r] = (mx + log(s)) - vb
            }
        }
        return out
    }
}
