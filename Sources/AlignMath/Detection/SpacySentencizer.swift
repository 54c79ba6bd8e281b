/// spaCy's rule-based `Sentencizer` (explosion/spaCy, spacy/pipeline/sentencizer.pyx) over
/// `SpacyTokenizer`'s tokens: a sentence ends after a run of tokens that are in the
/// punctuation set (`.`, `!`, `?`, ...) or are punctuation (`is_punct`, e.g. a closing `)` or
/// quote), and the next sentence starts at the first token after it that is neither.
public struct SpacySentencizer: Sendable {
    public let tokenizer = SpacyTokenizer()

    public init() {}

    /// The sentences of `text` as `[s.text.strip() for s in nlp(text).sents]`.
    public func sentences(_ text: String) -> [String] {
        let scalars = Array(text.unicodeScalars)
        let toks = tokenizer.tokenize(text)
        guard !toks.isEmpty else { return [] }
        var starts = [0]
        var seenPeriod = false
        for (i, t) in toks.enumerated() {
            let ender = SpacyClass.sentenceEnders.contains(t.text)
            if seenPeriod && !ender && !SpacyClass.isPunctuation(Array(t.text.unicodeScalars)) {
                starts.append(i)
                seenPeriod = false
            } else if ender {
                seenPeriod = true
            }
        }
        var out: [String] = []
        for (k, s) in starts.enumerated() {
            let last = (k + 1 < starts.count ? starts[k + 1] : toks.count) - 1
            var a = toks[s].start, b = toks[last].end
            while a < b && SpacyClass.isSpace(scalars[a]) { a += 1 }
            while b > a && SpacyClass.isSpace(scalars[b - 1]) { b -= 1 }
            var v = String.UnicodeScalarView()
            v.append(contentsOf: scalars[a..<b])
            out.append(String(v))
        }
        return out
    }
}
