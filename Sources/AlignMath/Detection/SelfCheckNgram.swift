import Foundation

/// SelfCheckGPT's n-gram score (Manakul et al. 2023), exactly as potsawee/selfcheckgpt's
/// `modeling_ngram.py` (`UnigramModel`, `NgramModel`) and `SelfCheckNgram.predict` compute it:
/// the passage and every sample are added to one count model sentence by sentence (spaCy
/// sentences, lower-cased spaCy tokens); n-grams (n > 1) are padded on the left of each
/// sentence with n - 1 `<s>`; probabilities are `(count + k) / (total + k * V)` where V counts
/// the vocabulary plus `<unk>`, with `k = 0` as `predict` trains it; each evaluated sentence
/// is tokenized whole and scored token by token (an n-gram never seen falls back to `<unk>`,
/// whose count is 0: with k = 0 its -log p is +inf, as numpy's `log(0)` gives; a unigram
/// model that counted the token "<unk>" itself gives unseen tokens that count, as the peer's
/// shared dictionary entry does).
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
    ///
    /// Each text is tokenized once: a sentence of the model is its run of the text's tokens
    /// without whitespace tokens at its ends, which is what `add` gets by tokenizing
    /// `sent.text.strip()` again, unless the sentence starts or ends inside a whitespace-separated
    /// chunk (then it is tokenized again alone, as `add` does); each evaluated sentence is
    /// tokenized whole (`evaluate`). Tokens are lower-cased and interned into integer ids;
    /// n-grams (padded with the id of "<s>") are counted in a hash table of id sequences.
    public static func score(sentences: [Text], passage: Text, samples: [Text], n: Int = 1,
                             k: Double = 0) throws -> Result {
        guard n >= 1 else { throw AlignMathError.invalidArgument("n must be an integer >= 1, got \(n)") }
        guard k >= 0 else { throw AlignMathError.invalidArgument("k must be >= 0, got \(k)") }
        var model = Model(n: n)
        model.add(passage)
        samples.forEach { model.add($0) }
        // selfcheckgpt's counts start as {'<unk>': 0}: a unigram model that counted the token
        // "<unk>" (or "<UNK>", lower-cased) has added to that same entry, so V does not grow and
        // a token never seen scores with its count. (An n-gram is a tuple, never the string '<unk>'.)
        var unseen = 0
        if n == 1 {
            model.ids.append(model.unk)
            unseen = model.count(at: model.ids.count - 1)
        }
        let vocabulary = Double(model.grams.count + (unseen > 0 ? 0 : 1))  // + '<unk>'
        let denominator = Double(model.total) + k * vocabulary
        var avg: [Double] = [], mx: [Double] = [], all: [Double] = []
        for (i, sentence) in sentences.enumerated() {
            let (start, count) = model.evaluated(sentence)
            guard count > 0 else { throw AlignMathError.invalidArgument("sentence \(i + 1) has no tokens") }
            var sum = 0.0, worst = -Double.infinity
            for g in 0..<count {
                var c = model.count(at: start + g)
                if c == 0 { c = unseen }
                let nll = -Foundation.log((Double(c) + k) / denominator)
                sum += nll
                worst = Swift.max(worst, nll)
                all.append(nll)
            }
            avg.append(sum / Double(count))
            mx.append(worst)
        }
        return Result(avgNegLogprob: avg, maxNegLogprob: mx,
                      docAvgNegLogprob: mean(all), docAvgMaxNegLogprob: mean(mx))
    }

    /// The counts of selfcheckgpt's model over integer token ids.
    struct Model {
        let n: Int
        let sentencizer = SpacySentencizer()
        var interner: TokenInterner
        /// Padded id sequences of every sentence, one after another; n-grams are positions in it.
        var ids: [Int32] = []
        var grams: NgramSet
        var counts: [Int32] = []
        var total = 0
        let pad: Int32
        /// The id of the token "<unk>".
        let unk: Int32
        var bytes: [UInt8] = []

        init(n: Int) {
            self.n = n
            grams = NgramSet(n: n, capacity: 1 << 14)
            var names = TokenInterner(capacity: 4096)
            pad = Array("<s>".utf8).withUnsafeBufferPointer { names.id($0) }
            unk = Array("<unk>".utf8).withUnsafeBufferPointer { names.id($0) }
            interner = names
        }

        /// The id of the lower-cased token `s[a..<b]` (ASCII lower-cased byte by byte, other
        /// text as Python's `str.lower`, final sigma included: `PythonLower`).
        mutating func tokenID(_ s: [Unicode.Scalar], _ a: Int, _ b: Int) -> Int32 {
            bytes.removeAll(keepingCapacity: true)
            var ascii = true
            for i in a..<b {
                let v = s[i].value
                if v >= 128 { ascii = false; break }
                bytes.append(UInt8(v >= 65 && v <= 90 ? v + 32 : v))
            }
            if !ascii {
                bytes.removeAll(keepingCapacity: true)
                bytes.append(contentsOf: PythonLower.lower(SpacyTokenizer.string(s, a, b)).utf8)
            }
            return bytes.withUnsafeBufferPointer { interner.id($0) }
        }

        mutating func tokenID(_ t: String) -> Int32 {
            bytes.removeAll(keepingCapacity: true)
            bytes.append(contentsOf: PythonLower.lower(t).utf8)
            return bytes.withUnsafeBufferPointer { interner.id($0) }
        }

        /// Appends one sentence's padded ids; returns the position of its first n-gram.
        mutating func append(_ tokenIDs: [Int32]) -> Int {
            for _ in 0..<(n - 1) { ids.append(pad) }
            let start = ids.count - (n - 1)
            ids.append(contentsOf: tokenIDs)
            return start
        }

        /// `add(text)`: every sentence's n-grams counted.
        mutating func add(_ text: Text) {
            var sentenceIDs: [[Int32]] = []
            switch text {
            case .text(let t):
                let s = Array(t.unicodeScalars)
                let toks = sentencizer.tokenizer.ranges(s)
                let starts = sentencizer.sentenceStarts(s, toks)
                for (j, first) in starts.enumerated() {
                    // selfcheckgpt tokenizes `sent.text.strip()` again; the same tokens are this
                    // run without whitespace tokens at its ends when the sentence is whole
                    // whitespace-separated chunks (the affix rules never look across whitespace),
                    // so the text is tokenized only once then. A sentence that starts or ends
                    // inside a chunk ("-'.む" ends one after "." and starts the next) is tokenized
                    // again alone, as the peer does: "-'." alone splits as - ' . where the chunk
                    // gave -' and .
                    var a = first, b = j + 1 < starts.count ? starts[j + 1] : toks.count
                    func blank(_ t: (Int, Int)) -> Bool { s[t.0..<t.1].allSatisfy(SpacyClass.isSpace) }
                    while a < b && blank(toks[a]) { a += 1 }
                    while b > a && blank(toks[b - 1]) { b -= 1 }
                    guard a < b else { sentenceIDs.append([]); continue }
                    let x = toks[a].0, y = toks[b - 1].1
                    let whole = (x == 0 || SpacyClass.isSpace(s[x - 1])) && (y == s.count || SpacyClass.isSpace(s[y]))
                    if whole {
                        sentenceIDs.append((a..<b).map { tokenID(s, toks[$0].0, toks[$0].1) })
                    } else {
                        let sub = Array(s[x..<y])
                        sentenceIDs.append(sentencizer.tokenizer.ranges(sub).map { tokenID(sub, $0.0, $0.1) })
                    }
                }
            case .tokens(let t):
                sentenceIDs = [t.map { tokenID($0) }]
            }
            for sid in sentenceIDs {
                let start = append(sid)
                ids.withUnsafeBufferPointer { b in
                    guard let p = b.baseAddress else { return }
                    for g in 0..<sid.count {
                        let d = Int(grams.denseID(p, at: start + g))
                        if d == counts.count { counts.append(0) }
                        counts[d] += 1
                    }
                }
                total += sid.count
            }
        }

        /// An evaluated sentence appended as padded ids: (position of its first n-gram, tokens).
        mutating func evaluated(_ sentence: Text) -> (Int, Int) {
            let sid: [Int32]
            switch sentence {
            case .text(let t):
                let s = Array(t.unicodeScalars)
                sid = sentencizer.tokenizer.ranges(s).map { tokenID(s, $0.0, $0.1) }
            case .tokens(let t):
                sid = t.map { tokenID($0) }
            }
            return (append(sid), sid.count)
        }

        /// The count of the n-gram at `position` of `ids` (0 when never counted).
        func count(at position: Int) -> Int {
            ids.withUnsafeBufferPointer { b in
                guard let p = b.baseAddress, let d = grams.find(p, at: position) else { return 0 }
                return Int(counts[Int(d)])
            }
        }
    }

    static func mean(_ x: [Double]) -> Double { x.isEmpty ? .nan : x.reduce(0, +) / Double(x.count) }
}
