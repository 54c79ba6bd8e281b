import Foundation

/// Uncertainty of one generated sequence from its per-token log-probabilities.
public enum TokenUncertainty {
    /// The four scores of `detect.token_uncertainty`.
    public struct Scores: Equatable, Sendable {
        /// Mean over positions of -log p(chosen token).
        public var avgNegLogprob: Double
        /// Max over positions of -log p(chosen token).
        public var maxNegLogprob: Double
        /// Mean over positions of the entropy of the top-logprobs distribution (nil without them).
        public var avgEntropy: Double?
        /// Max over positions of that entropy (nil without top logprobs).
        public var maxEntropy: Double?
    }

    /// Scores from the chosen tokens' logprobs and, optionally, each position's top logprobs.
    ///
    /// The entropy at a position is over the listed alternatives only (an API returns the
    /// top k, not the vocabulary). With `renormalize` (the default) they are first
    /// renormalised to sum to 1: `p_j = exp(l_j) / sum exp(l)`, `H = -sum p_j log p_j`, the
    /// entropy of the truncated distribution, comparable across positions. Without it,
    /// `H = -sum exp(l_j) l_j` over the listed tokens: the part of the full entropy they
    /// account for (a lower bound when the rest of the mass is spread thin). Positions with
    /// an empty top list are skipped; if every list is empty the entropies are nil. A NaN
    /// logprob (a `null` in the response, e.g. the first prompt token with echo) is skipped.
    public static func scores(logprobs: [Double], topLogprobs: [[Double]]? = nil,
                              renormalize: Bool = true) throws -> Scores {
        guard !logprobs.isEmpty else { throw AlignMathError.invalidArgument("no tokens (logprobs is empty)") }
        guard logprobs.contains(where: { !$0.isNaN }) else { throw AlignMathError.invalidArgument("every logprob is NaN") }
        if let t = topLogprobs, t.count != logprobs.count {
            throw AlignMathError.shapeMismatch("logprobs and top_logprobs differ in length (\(logprobs.count) vs \(t.count))")
        }
        let nll = logprobs.filter { !$0.isNaN }.map { -$0 }
        var entropies: [Double] = []
        for row in topLogprobs ?? [] where !row.isEmpty {
            entropies.append(entropy(row, renormalize: renormalize))
        }
        return Scores(avgNegLogprob: nll.reduce(0, +) / Double(nll.count),
                      maxNegLogprob: nll.max() ?? .nan,
                      avgEntropy: entropies.isEmpty ? nil : entropies.reduce(0, +) / Double(entropies.count),
                      maxEntropy: entropies.max())
    }

    /// Perplexity: `exp(mean(-log p))` over the tokens (NaN logprobs skipped).
    public static func perplexity(logprobs: [Double]) throws -> Double {
        let lp = logprobs.filter { !$0.isNaN }
        guard !lp.isEmpty else { throw AlignMathError.invalidArgument("no tokens (logprobs is empty or all NaN)") }
        return Foundation.exp(-lp.reduce(0, +) / Double(lp.count))
    }

    /// Entropy (nats) of one position's listed log-probabilities.
    public static func entropy(_ row: [Double], renormalize: Bool) -> Double {
        let finite = row.filter { $0 > -.infinity }
        guard let m = finite.max() else { return 0 }
        if !renormalize {
            return finite.reduce(0) { $0 - Foundation.exp($1) * $1 }
        }
        let z = finite.reduce(0) { $0 + Foundation.exp($1 - m) }
        let logZ = m + Foundation.log(z)
        return finite.reduce(0) { acc, l in
            let lp = l - logZ
            return acc - Foundation.exp(lp) * lp
        }
    }
}
