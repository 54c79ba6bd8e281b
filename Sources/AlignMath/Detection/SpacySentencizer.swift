/// spaCy's rule-based `Sentencizer` (explosion/spaCy, spacy/pipeline/sentencizer.pyx) over
/// `SpacyTokenizer`'s tokens: a sentence ends after a run of tokens that are in the
/// punctuation set (`.`, `!`, `?`, ...) or are punctuation (`is_punct`, e.g. a closing `)` or
/// quote), and the next sentence starts at the first token after it that is neither.
public struct SpacySentencizer: Sendable {
    public let tokenizer = SpacyTokenizer()

    public init() {}

    /// The index of the first token of each sentence of `tokens` (ranges over `s`, from
    /// `SpacyTokenizer.ranges`).
    public func sentenceStarts(_ s: [Unicode.Scalar], _ toks: [(Int, Int)]) -> [Int] {
        guard !toks.isEmpty else { return [] }
        var starts = [0]
        var seenPeriod = false
        for (i, t) in toks.enumerated() {
            let ender = isEnder(s, t.0, t.1)
            if seenPeriod && !ender && !(t.0 < t.1 && s[t.0..<t.1].allSatisfy { $0.properties.generalCategory.isPunctuation }) {
                starts.append(i)
                seenPeriod = false
            } else if ender {
                seenPeriod = true
            }
        }
        return starts
    }

    /// Whether a token is one of the sentencizer's punctuation characters (each is one code point).
    private func isEnder(_ s: [Unicode.Scalar], _ a: Int, _ b: Int) -> Bool {
        b - a == 1 && SpacySentencizer.enderScalars.contains(s[a])
    }

    static let enderScalars: Set<Unicode.Scalar> = Set(SpacyClass.sentenceEnders.compactMap { $0.unicodeScalars.count == 1 ? $0.unicodeScalars.first : nil })

    /// The sentences of `text` as `[s.text.strip() for s in nlp(text).sents]`.
    public func sentences(_ text: String) -> [String] {
        let scalars = Array(text.unicodeScalars)
        let toks = tokenizer.ranges(scalars)
        let starts = sentenceStarts(scalars, toks)
        var out: [String] = []
        for (k, s) in starts.enumerated() {
            let last = (k + 1 < starts.count ? starts[k + 1] : toks.count) - 1
            var a = toks[s].0, b = toks[last].1
            while a < b && SpacyClass.isSpace(scalars[a]) { a += 1 }
            while b > a && SpacyClass.isSpace(scalars[b - 1]) { b -= 1 }
            var v = String.UnicodeScalarView()
            v.append(contentsOf: scalars[a..<b])
            out.append(String(v))
        }
        return out
    }
}
