import Foundation

extension Metrics {
    /// Sentence BLEU of one hypothesis against references, as NLTK's `sentence_bleu` with
    /// uniform weights `(1/n, ..., 1/n)` and `SmoothingFunction().method1` (epsilon 0.1 added to
    /// the numerator of a zero precision): clipped n-gram counts against the maximum over the
    /// references, the closest reference length (ties to the shorter) for the brevity penalty,
    /// and 0 when no unigram matches. Tokens are given, not split here.
    public static func sentenceBLEU(hypothesis: [Substring], references: [[Substring]], n: Int = 4) -> Double {
        let hypLen = hypothesis.count
        var numerators = [Int](repeating: 0, count: n)
        var denominators = [Int](repeating: 0, count: n)
        for order in 1...n {
            var counts = [ArraySlice<Substring>: Int]()
            if hypLen >= order {
                for i in 0...(hypLen - order) { counts[hypothesis[i..<(i + order)], default: 0] += 1 }
            }
            var maxRef = [ArraySlice<Substring>: Int]()
            for ref in references where ref.count >= order {
                var rc = [ArraySlice<Substring>: Int]()
                for i in 0...(ref.count - order) {
                    let g = ref[i..<(i + order)]
                    if counts[g] != nil { rc[g, default: 0] += 1 }
                }
                for (g, k) in rc where k > (maxRef[g] ?? 0) { maxRef[g] = k }
            }
            var num = 0, total = 0
            for (g, k) in counts {
                num += Swift.min(k, maxRef[g] ?? 0)
                total += k
            }
            numerators[order - 1] = num
            denominators[order - 1] = Swift.max(1, total)
        }
        if numerators[0] == 0 { return 0 }
        var closest = Int.max
        for ref in references {
            let d = Swift.abs(ref.count - hypLen), cd = Swift.abs(closest - hypLen)
            if closest == Int.max || d < cd || (d == cd && ref.count < closest) { closest = ref.count }
        }
        let bp: Double
        if hypLen > closest { bp = 1 } else if hypLen == 0 { bp = 0 } else { bp = exp(1 - Double(closest) / Double(hypLen)) }
        let w = 1 / Double(n)
        var s = 0.0
        for i in 0..<n {
            let p = numerators[i] == 0 ? 0.1 / Double(denominators[i]) : Double(numerators[i]) / Double(denominators[i])
            s += w * log(p)
        }
        return bp * exp(s)
    }

    /// Self-BLEU (Zhu et al. 2018, Texygen): each text in turn is the hypothesis and all the
    /// others are its references (`sentenceBLEU`, whitespace tokens, weights uniform up to `n`,
    /// NLTK smoothing method1); the mean over texts. Needs at least two texts.
    public static func selfBLEU(_ texts: [String], n: Int = 4) throws -> Double {
        if n < 1 { throw AlignMathError.invalidArgument("n must be >= 1, got \(n)") }
        if texts.count < 2 {
            throw AlignMathError.invalidArgument("self_bleu needs at least 2 texts (each is scored against the others), got \(texts.count)")
        }
        let toks = texts.map(whitespaceTokens)
        var sum = 0.0
        for i in 0..<toks.count {
            var refs = toks
            refs.remove(at: i)
            sum += sentenceBLEU(hypothesis: toks[i], references: refs, n: n)
        }
        return sum / Double(toks.count)
    }
}
