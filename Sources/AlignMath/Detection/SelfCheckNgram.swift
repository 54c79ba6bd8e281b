import Foundation

/// SelfCheckGPT's n-gram score (Manakul et al. 2023), exactly as potsawee/selfcheckgpt's
/// `modeling_ngram.py` (`UnigramModel`, `NgramModel`) and `SelfCheckNgram.predict` compute it:
/// the passage and every sample are added to one count model sentence by sentence (spaCy
/// sentences, lower-cased spaCy tokens); n-grams (n > 1) are padded on the left of each
/// sentence with n - 1 `<s>`; probabilities are `(count + k) / (total + k * V)` where V counts
/// the vocabulary plus `<unk>`, with `k = 0` as `predict` trains it; each evaluated sentence
/// is tokenized whole and scored token by token (an n-gram never seen falls back to `<unk>`,
/// whose count is 0: with k = 0 its -log p is +inf, as numpy's `log(0)` gives).
public enum SelfCheckNgram {
    /// Sentence- and document-level scores, as `evaluate` returns them.
    public struct Result: Equatable, Sendable {
        /// Per evaluated sentence: mean of -log p over its tokens.
        public var avgNegLogprob: [Double]
        /// Per evaluated sentence: max of -log p over its tokens.
        public var maxNegLogprob: [Double]
        /// Mean of -log p over all tokens of all sentences.
        public var docAvgNegLogprob: Double
        /// Mean over sentences of their max -log p.
        public var docAvgMaxNegLogprob: Double
    }

    /// A text split as selfcheckgpt splits it, or already split by the caller.
    public enum Text: Sendable {
        /// Raw text: split into sentences and tokens as spaCy does.
        case text(String)
        /// One sentence as its tokens (lower-cased here).
        case tokens([String])
    }

    /// Scores `sentences` against an n-gram model of `passage` and `samples`.
    /// - Parameters:
    ///   - n: 1 for the unigram model, n > 1 for `NgramModel(n)`.
    ///   - k: the add-k pseudo-count (`train(k=0)` in `predict`).
    /// - Throws: `invalidArgument` for n < 1, k < 0, or a sentence without tokens.
    public static func score(sentences: [Text], passage: Text, samples: [Text], n: Int = 1,
                             k: Double = 0) throws -> Result {
        guard n >= 1 else { throw AlignMathError.invalidArgument("n must be an integer >= 1, got \(n)") }
        guard k >= 0 else { throw AlignMathError.invalidArgument("k must be >= 0, got \(k)") }
        let sentencizer = SpacySentencizer()
        let tokenizer = sentencizer.tokenizer
        var counts: [[String]: Int] = [:]
        var total = 0
        func add(_ text: Text) {
            let sentences: [[String]]
            switch text {
            case .text(let s): sentences = sentencizer.sentences(s).map { tokenizer.tokens($0).map { $0.lowercased() } }
            case .tokens(let t): sentences = [t.map { $0.lowercased() }]
            }
            for toks in sentences {
                for g in grams(toks, n) { counts[g, default: 0] += 1 }
                total += toks.count
            }
        }
        add(passage)
        samples.forEach(add)
        let vocabulary = Double(counts.count + 1)  // + '<unk>'
        let denominator = Double(total) + k * vocabulary
        var avg: [Double] = [], mx: [Double] = [], all: [Double] = []
        for (i, sentence) in sentences.enumerated() {
            let toks: [String]
            switch sentence {
            case .text(let s): toks = tokenizer.tokens(s).map { $0.lowercased() }
            case .tokens(let t): toks = t.map { $0.lowercased() }
            }
            guard !toks.isEmpty else {
                throw AlignMathError.invalidArgument("sentence \(i + 1) has no tokens")
            }
            var sum = 0.0, worst = -Double.infinity
            for g in grams(toks, n) {
                let nll = -Foundation.log((Double(counts[g] ?? 0) + k) / denominator)
                sum += nll
                worst = Swift.max(worst, nll)
                all.append(nll)
            }
            avg.append(sum / Double(toks.count))
            mx.append(worst)
        }
        return Result(avgNegLogprob: avg, maxNegLogprob: mx,
                      docAvgNegLogprob: mean(all), docAvgMaxNegLogprob: mean(mx))
    }

    /// nltk's `ngrams(tokens, n, pad_left=True, left_pad_symbol='<s>')`: one n-gram per token.
    static func grams(_ toks: [String], _ n: Int) -> [[String]] {
        if n == 1 { return toks.map { [$0] } }
        let padded = [String](repeating: "<s>", count: n - 1) + toks
        return (0..<toks.count).map { Array(padded[$0..<($0 + n)]) }
    }

    static func mean(_ x: [Double]) -> Double { x.isEmpty ? .nan : x.reduce(0, +) / Double(x.count) }
}
