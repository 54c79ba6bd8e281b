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
    /// tokenized whole (`evaluate`). Chunks are tokenized through spaCy's cache
    /// (`SpacyTokenCache`: a chunk seen before, in this call or an earlier one, is a hash
    /// lookup); tokens are lower-cased and interned into integer ids, unigrams counted by id,
    /// bigrams and trigrams (padded with the id of "<s>") under one 64-bit key each.
    public static func score(sentences: [Text], passage: Text, samples: [Text], n: Int = 1,
                             k: Double = 0) throws -> Result {
        guard n >= 1 else { throw AlignMathError.invalidArgument("n must be an integer >= 1, got \(n)") }
        guard k >= 0 else { throw AlignMathError.invalidArgument("k must be >= 0, got \(k)") }
        return try SpacyTokenCache.withCache {
            try score(sentences: sentences, passage: passage, samples: samples, n: n, k: k, cache: $0)
        }
    }

    /// `score` with the given tokenizer cache.
    static func score(sentences: [Text], passage: Text, samples: [Text], n: Int, k: Double,
                      cache: SpacyTokenCache) throws -> Result {
        var model = Model(n: n, cache: cache)
        try model.add(passage)
        for s in samples { try model.add(s) }
        let counts = model.count()
        // selfcheckgpt's counts start as {'<unk>': 0}: a unigram model that counted the token
        // "<unk>" (or "<UNK>", lower-cased) has added to that same entry, so V does not grow and
        // a token never seen scores with its count. (An n-gram is a tuple, never the string '<unk>'.)
        let unseen = n == 1 ? counts.unigram(cache.unk) : 0
        let vocabulary = Double(counts.distinct + (unseen > 0 ? 0 : 1))  // + '<unk>'
        let denominator = Double(model.total) + k * vocabulary
        var avg: [Double] = [], mx: [Double] = []
        avg.reserveCapacity(sentences.count)
        mx.reserveCapacity(sentences.count)
        var allSum = 0.0, allCount = 0
        for (i, sentence) in sentences.enumerated() {
            let (start, count) = try model.evaluated(sentence)
            guard count > 0 else { throw AlignMathError.invalidArgument("sentence \(i + 1) has no tokens") }
            var sum = 0.0, worst = -Double.infinity
            for g in 0..<count {
                var c = model.ids.withUnsafeBufferPointer { counts.count($0.baseAddress!, at: start + g) }
                if c == 0 { c = unseen }
                let nll = -Foundation.log((Double(c) + k) / denominator)
                sum += nll
                worst = Swift.max(worst, nll)
                allSum += nll
            }
            allCount += count
            avg.append(sum / Double(count))
            mx.append(worst)
        }
        counts.release(to: cache)
        return Result(avgNegLogprob: avg, maxNegLogprob: mx,
                      docAvgNegLogprob: allCount == 0 ? .nan : allSum / Double(allCount),
                      docAvgMaxNegLogprob: mean(mx))
    }

    /// The texts of selfcheckgpt's model as padded token-id sequences.
    struct Model {
        let n: Int
        let cache: SpacyTokenCache
        /// Padded id sequences of every sentence, one after another; n-grams are positions in it.
        var ids: [Int32] = []
        /// The model's sentences: (position of the first n-gram in `ids`, tokens).
        var sentences: [(start: Int, count: Int)] = []
        var total = 0
        private var starts: [Int] = []

        init(n: Int, cache: SpacyTokenCache) {
            self.n = n
            self.cache = cache
        }

        private mutating func pad() -> Int {
            for _ in 0..<(n - 1) { ids.append(cache.pad) }
            return ids.count - (n - 1)
        }

        static func tooLong(_ count: Int) -> AlignMathError {
            AlignMathError.invalidArgument("a text of \(count) bytes is longer than the 2 GiB selfcheck_ngram takes")
        }

        /// Tokenizes `text`'s UTF-8 bytes into `toks` and calls `body` with the bytes' address
        /// and count while they are alive; an empty text calls nothing (no tokens, nothing counted).
        private static func tokenized(_ text: String, by cache: SpacyTokenCache, into toks: SpacyTokenCache.Tokens,
                               _ body: (UnsafePointer<UInt8>, Int) throws -> Void) throws {
            var text = text
            try text.withUTF8 { b in
                guard let p = b.baseAddress, b.count > 0 else { return }
                guard b.count < Int(Int32.max) else { throw Model.tooLong(b.count) }
                cache.tokenize(p, b.count, into: toks)
                try body(p, b.count)
            }
        }

        /// `add(text)`: every sentence's ids appended (counted by `count()`).
        mutating func add(_ text: Text) throws {
            switch text {
            case .text(let t):
                let toks = cache.textTokens
                try Model.tokenized(t, by: cache, into: toks) { p, count in
                    SpacyTokenCache.sentenceStarts(toks, into: &starts)
                    ids.reserveCapacity(ids.count + toks.count + starts.count * (n - 1))
                    for j in starts.indices {
                        // selfcheckgpt tokenizes `sent.text.strip()` again; the same tokens are this
                        // run without whitespace tokens at its ends when the sentence is whole
                        // whitespace-separated chunks (the affix rules never look across whitespace),
                        // so the text is tokenized only once then. A sentence that starts or ends
                        // inside a chunk ("-'.む" ends one after "." and starts the next) is tokenized
                        // again alone, as the peer does: "-'." alone splits as - ' . where the chunk
                        // gave -' and .
                        var a = starts[j], e = j + 1 < starts.count ? starts[j + 1] : toks.count
                        while a < e && toks[a].flags & SpacyTokenCache.blank != 0 { a += 1 }
                        while e > a && toks[e - 1].flags & SpacyTokenCache.blank != 0 { e -= 1 }
                        guard a < e else { continue }  // no tokens: nothing counted
                        let x = Int(toks[a].start), y = Int(toks[e - 1].end)
                        let start = pad()
                        if SpacyTokenCache.spaceBefore(p, x) && SpacyTokenCache.spaceAt(p, y, count) {
                            for q in a..<e { ids.append(toks[q].id) }
                        } else {
                            let sub = cache.sentenceTokens
                            cache.tokenize(p + x, y - x, into: sub)
                            for q in 0..<sub.count { ids.append(sub[q].id) }
                        }
                        sentences.append((start, ids.count - start - (n - 1)))
                        total += ids.count - start - (n - 1)
                    }
                }
            case .tokens(let t):
                let start = pad()
                for token in t { ids.append(cache.id(lowering: token)) }
                sentences.append((start, t.count))
                total += t.count
            }
        }

        /// An evaluated sentence appended as padded ids: (position of its first n-gram, tokens).
        mutating func evaluated(_ sentence: Text) throws -> (Int, Int) {
            let start = pad()
            switch sentence {
            case .text(let t):
                let toks = cache.sentenceTokens
                try Model.tokenized(t, by: cache, into: toks) { _, _ in
                    for q in 0..<toks.count { ids.append(toks[q].id) }
                }
            case .tokens(let t):
                for token in t { ids.append(cache.id(lowering: token)) }
            }
            return (start, ids.count - start - (n - 1))
        }

        /// The counts of every n-gram of the model's sentences (in the cache's memory, which
        /// `NgramCounts.release` gives back).
        func count() -> NgramCounts {
            var storage = NgramCountsStorage()
            swap(&storage, &cache.counts)
            var counts = NgramCounts(n: n, tokens: total, vocabulary: cache.lower.count, storage: storage)
            ids.withUnsafeBufferPointer { b in
                guard let p = b.baseAddress else { return }
                for (start, count) in sentences {
                    for g in start..<(start + count) { counts.add(p, at: g) }
                }
            }
            return counts
        }
    }

    /// Counts of n-grams of token ids: unigrams in an array indexed by id, bigrams and
    /// trigrams of ids below 2^21 packed into one 64-bit key of an open-addressing table, longer
    /// ones (or larger ids) in an `NgramSet` over their positions.
    struct NgramCounts {
        let n: Int
        private(set) var distinct = 0
        private var storage: NgramCountsStorage
        private var shift: UInt64 = 0
        private var set: NgramSet?
        private var setCounts: [Int32] = []
        static let idBits = 21

        init(n: Int, tokens: Int, vocabulary: Int, storage: NgramCountsStorage) {
            self.n = n
            self.storage = storage
            if n == 1 {
                self.storage.unigrams.removeAll(keepingCapacity: true)
                self.storage.unigrams.append(contentsOf: repeatElement(0, count: vocabulary))
            } else if n <= 3 && vocabulary < 1 << NgramCounts.idBits {
                var c = 64
                while c < tokens * 2 { c <<= 1 }
                self.storage.keys.removeAll(keepingCapacity: true)
                self.storage.keys.append(contentsOf: repeatElement(0, count: c))
                self.storage.values.removeAll(keepingCapacity: true)
                self.storage.values.append(contentsOf: repeatElement(0, count: c))
                shift = UInt64(64 - c.trailingZeroBitCount)
            } else {
                set = NgramSet(n: n, capacity: Swift.max(64, tokens))
            }
        }

        /// Gives the memory back to `cache` for its next call.
        func release(to cache: SpacyTokenCache) { cache.counts = storage }

        /// The key of the n ids at `p[at...]` (n = 2 or 3), or nil if an id does not fit.
        @inline(__always)
        private func key(_ p: UnsafePointer<Int32>, _ at: Int) -> UInt64? {
            var key: UInt64 = 0
            for j in 0..<n {
                let v = UInt64(UInt32(bitPattern: p[at + j])) &+ 1
                if v >= 1 << UInt64(NgramCounts.idBits) { return nil }
                key = key << UInt64(NgramCounts.idBits) | v
            }
            return key
        }

        @inline(__always)
        private func slot(_ key: UInt64) -> Int { Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift) }

        mutating func add(_ p: UnsafePointer<Int32>, at: Int) {
            if n == 1 {
                let id = Int(p[at])
                if storage.unigrams[id] == 0 { distinct += 1 }
                storage.unigrams[id] += 1
            } else if set == nil, let key = key(p, at) {
                let mask = storage.keys.count - 1
                var s = slot(key)
                while storage.keys[s] != 0 && storage.keys[s] != key { s = (s + 1) & mask }
                if storage.keys[s] == 0 {
                    storage.keys[s] = key
                    distinct += 1
                }
                storage.values[s] += 1
            } else {
                let d = Int(set!.denseID(p, at: at))
                if d == setCounts.count { setCounts.append(0); distinct += 1 }
                setCounts[d] += 1
            }
        }

        /// The count of the unigram `id`.
        func unigram(_ id: Int32) -> Int { Int(id) < storage.unigrams.count ? Int(storage.unigrams[Int(id)]) : 0 }

        /// The count of the n-gram at `ids[at...]` (0 when never counted).
        func count(_ p: UnsafePointer<Int32>, at: Int) -> Int {
            if n == 1 { return unigram(p[at]) }
            if let set {
                guard let d = set.find(p, at: at) else { return 0 }
                return Int(setCounts[Int(d)])
            }
            guard let key = key(p, at) else { return 0 }  // an id no counted n-gram has
            let mask = storage.keys.count - 1
            var s = slot(key)
            while storage.keys[s] != 0 {
                if storage.keys[s] == key { return Int(storage.values[s]) }
                s = (s + 1) & mask
            }
            return 0
        }
    }

    static func mean(_ x: [Double]) -> Double { x.isEmpty ? .nan : x.reduce(0, +) / Double(x.count) }
}

/// The memory of `SelfCheckNgram.NgramCounts`, kept in a `SpacyTokenCache` between calls.
struct NgramCountsStorage {
    var unigrams: [Int32] = []
    var keys: [UInt64] = []     // 0 = empty
    var values: [Int32] = []
    var footprint: Int { unigrams.capacity * 4 + keys.capacity * 8 + values.capacity * 4 }
}
