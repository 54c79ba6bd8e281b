extension Metrics {
    /// ROUGE-L of `candidate` against `reference`, as Google's `rouge_score`
    /// (`rouge_scorer.RougeScorer(["rougeL"])`, no stemmer): lower-cased, every run of characters
    /// other than `a-z0-9` a separator; LCS precision, recall and their F-measure.
    /// The LCS is quadratic in the lengths: a long pair polls Ctrl-C (`.interrupted`).
    public static func rougeL(candidate: String, reference: String) throws -> (precision: Double, recall: Double, f: Double) {
        let c = rougeTokens(candidate), r = rougeTokens(reference)
        if c.isEmpty || r.isEmpty { return (0, 0, 0) }
        let lcs = Double(try lcsLength(r, c))
        let p = lcs / Double(c.count), rec = lcs / Double(r.count)
        let f = p + rec > 0 ? 2 * p * rec / (p + rec) : 0
        return (p, rec, f)
    }

    /// `rouge_score`'s tokenizer: lower-case, then keep maximal runs of ASCII `a-z0-9`.
    static func rougeTokens(_ s: String) -> [String] {
        var out = [String]()
        var cur = String.UnicodeScalarView()
        for u in s.lowercased().unicodeScalars {
            if (u >= "a" && u <= "z") || (u >= "0" && u <= "9") {
                cur.append(u)
            } else if !cur.isEmpty {
                out.append(String(cur))
                cur = String.UnicodeScalarView()
            }
        }
        if !cur.isEmpty { out.append(String(cur)) }
        return out
    }

    /// Length of the longest common subsequence, two rows of the DP table.
    static func lcsLength<T: Equatable>(_ a: [T], _ b: [T]) throws -> Int {
        var prev = [Int](repeating: 0, count: b.count + 1)
        var cur = prev
        for i in 1...a.count {
            if i & 63 == 0, Interruption.isPending { throw AlignMathError.interrupted }
            for j in 1...b.count {
                cur[j] = a[i - 1] == b[j - 1] ? prev[j - 1] + 1 : Swift.max(prev[j], cur[j - 1])
            }
            swap(&prev, &cur)
        }
        return prev[b.count]
    }
}
