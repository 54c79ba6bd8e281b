extension Metrics {
    /// Whitespace tokens, as Python's `str.split()`.
    static func whitespaceTokens(_ s: String) -> [Substring] {
        s.split(whereSeparator: { $0.isWhitespace })
    }

    /// Distinct-n: unique n-grams over total n-grams, counted over all `texts` together
    /// (whitespace tokens, case kept). 0 when there are no n-grams at all.
    public static func distinctN(_ texts: [String], n: Int) throws -> Double {
        if n < 1 { throw AlignMathError.invalidArgument("n must be >= 1, got \(n)") }
        var seen = Set<[Substring]>()
        var total = 0
        for t in texts {
            let toks = whitespaceTokens(t)
            if toks.count < n { continue }
            for i in 0...(toks.count - n) {
                seen.insert(Array(toks[i..<(i + n)]))
                total += 1
            }
        }
        return total == 0 ? 0 : Double(seen.count) / Double(total)
    }

    /// ROUGE-L of `candidate` against `reference`, as Google's `rouge_score`
    /// (`rouge_scorer.RougeScorer(["rougeL"])`, no stemmer): lower-cased, every run of characters
    /// other than `a-z0-9` a separator; LCS precision, recall and their F-measure.
    public static func rougeL(candidate: String, reference: String) -> (precision: Double, recall: Double, f: Double) {
        let c = rougeTokens(candidate), r = rougeTokens(reference)
        if c.isEmpty || r.isEmpty { return (0, 0, 0) }
        let lcs = Double(lcsLength(r, c))
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
    static func lcsLength<T: Equatable>(_ a: [T], _ b: [T]) -> Int {
        var prev = [Int](repeating: 0, count: b.count + 1)
        var cur = prev
        for i in 1...a.count {
            for j in 1...b.count {
                cur[j] = a[i - 1] == b[j - 1] ? prev[j - 1] + 1 : Swift.max(prev[j], cur[j - 1])
            }
            swap(&prev, &cur)
        }
        return prev[b.count]
    }

    /// SQuAD v1.1's `normalize_answer`: lower-case, drop ASCII punctuation (`string.punctuation`),
    /// drop the words a, an, the, and collapse whitespace. Returns the tokens.
    public static func squadNormalizedTokens(_ s: String) -> [String] {
        let punct = Set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~".unicodeScalars)
        var noPunct = String.UnicodeScalarView()
        for u in s.lowercased().unicodeScalars where !punct.contains(u) { noPunct.append(u) }
        // `re.sub(r"\b(a|an|the)\b", " ", text)`: a whole word-character run equal to an article.
        var text = ""
        var word = ""
        func flush() {
            if word == "a" || word == "an" || word == "the" { text += " " } else { text += word }
            word = ""
        }
        for ch in String(noPunct) {
            if ch.isLetter || ch.isNumber || ch == "_" { word.append(ch) } else { flush(); text.append(ch) }
        }
        flush()
        return whitespaceTokens(text).map(String.init)
    }

    /// SQuAD v1.1 exact match: 1 when the normalised answers are equal, else 0.
    public static func exactMatch(_ prediction: String, _ groundTruth: String) -> Double {
        squadNormalizedTokens(prediction) == squadNormalizedTokens(groundTruth) ? 1 : 0
    }

    /// SQuAD v1.1 token F1 of the normalised answers (0 when they share no token, also when both
    /// are empty, as v1.1's `f1_score`).
    public static func tokenF1(_ prediction: String, _ groundTruth: String) -> Double {
        let p = squadNormalizedTokens(prediction), g = squadNormalizedTokens(groundTruth)
        var counts = [String: Int]()
        for t in g { counts[t, default: 0] += 1 }
        var same = 0
        for t in p {
            if let k = counts[t], k > 0 { same += 1; counts[t] = k - 1 }
        }
        if same == 0 { return 0 }
        let precision = Double(same) / Double(p.count), recall = Double(same) / Double(g.count)
        return 2 * precision * recall / (precision + recall)
    }
}
