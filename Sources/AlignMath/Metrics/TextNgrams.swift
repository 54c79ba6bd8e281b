import Foundation

/// Counting over whitespace tokens as integer ids (see `WordTokens.swift`): distinct-n,
/// rep-n and self-BLEU. Texts come as UTF-8 bytes (a Lua string read in place) or as
/// Swift strings.
extension Metrics {
    /// Runs `body` over the UTF-8 bytes of each string (copied once into one buffer).
    static func withUTF8Buffers<R>(_ texts: [String], _ body: ([UnsafeRawBufferPointer]) throws -> R) rethrows -> R {
        var bytes: [UInt8] = []
        var bounds: [Int] = [0]
        for s in texts { bytes.append(contentsOf: s.utf8); bounds.append(bytes.count) }
        return try bytes.withUnsafeBytes { all in
            try body((0..<texts.count).map { UnsafeRawBufferPointer(rebasing: all[bounds[$0]..<bounds[$0 + 1]]) })
        }
    }

    /// Distinct-n: unique n-grams over total n-grams, counted over all `texts` together
    /// (whitespace tokens as Python's `str.split()`, case kept). 0 when there are no n-grams.
    public static func distinctN(_ texts: [String], n: Int) throws -> Double {
        try withUTF8Buffers(texts) { try distinctN(utf8: $0, n: n) }
    }

    /// `distinctN` over UTF-8 byte buffers.
    public static func distinctN(utf8 texts: [UnsafeRawBufferPointer], n: Int, counter: WordCounter = WordCounter()) throws -> Double {
        if n < 1 { throw AlignMathError.invalidArgument("n must be >= 1, got \(n)") }
        counter.ids.removeAll(keepingCapacity: true)
        var bounds: [Int] = [0]
        bounds.reserveCapacity(texts.count + 1)
        for t in texts {
            counter.appendTokens(t)
            bounds.append(counter.ids.count)
        }
        counter.resetGrams(n)
        var total = 0
        counter.ids.withUnsafeBufferPointer { b in
            guard let ids = b.baseAddress else { return }
            for k in 0..<texts.count where bounds[k + 1] - bounds[k] >= n {
                for i in bounds[k]...(bounds[k + 1] - n) { counter.grams.insert(ids, at: i) }
                total += bounds[k + 1] - bounds[k] - n + 1
            }
        }
        return total == 0 ? 0 : Double(counter.grams.count) / Double(total)
    }

    /// Self-BLEU (Zhu et al. 2018, Texygen): each text in turn is the hypothesis and all the
    /// others are its references, scored as NLTK's `sentence_bleu` with uniform weights up to
    /// `n` and `SmoothingFunction().method1` (epsilon 0.1 on the numerator of a zero
    /// precision): clipped n-gram counts against the maximum over the references, the closest
    /// reference length (ties to the shorter) for the brevity penalty, 0 when no unigram
    /// matches. The mean over texts. Whitespace tokens as `str.split()`. Needs two texts.
    public static func selfBLEU(_ texts: [String], n: Int = 4) throws -> Double {
        try withUTF8Buffers(texts) { try selfBLEU(utf8: $0, n: n) }
    }

    /// `selfBLEU` over UTF-8 byte buffers. Every n-gram gets a dense id; per order, the largest
    /// and second-largest count of each n-gram over the texts (and which text holds the
    /// largest) give the maximum over "all texts but the hypothesis" in one lookup, so the
    /// whole metric is linear in the number of n-grams instead of quadratic in texts.
    public static func selfBLEU(utf8 texts: [UnsafeRawBufferPointer], n: Int = 4) throws -> Double {
        if n < 1 { throw AlignMathError.invalidArgument("n must be >= 1, got \(n)") }
        let t = texts.count
        if t < 2 {
            throw AlignMathError.invalidArgument("self_bleu needs at least 2 texts (each is scored against the others), got \(t)")
        }
        let counter = WordCounter()
        var bounds: [Int] = [0]
        for text in texts {
            counter.appendTokens(text)
            bounds.append(counter.ids.count)
        }
        let lengths = (0..<t).map { bounds[$0 + 1] - bounds[$0] }
        var numerators = [[Int]](repeating: [Int](repeating: 0, count: n), count: t)
        var denominators = [[Int]](repeating: [Int](repeating: 0, count: n), count: t)
        var interrupted = false
        counter.ids.withUnsafeBufferPointer { b in
            guard let ids = b.baseAddress else { return }
            for order in 1...n {
                if Interruption.isPending { interrupted = true; return }  // each order is a pass over every text
                var set = NgramSet(n: order, capacity: Swift.max(64, counter.ids.count))
                var grams: [[Int32]] = (0..<t).map { k in
                    lengths[k] < order ? [] : (bounds[k]...(bounds[k + 1] - order)).map { set.denseID(ids, at: $0) }
                }
                let g = set.count
                var top1 = [Int32](repeating: 0, count: g), owner = [Int32](repeating: -1, count: g)
                var top2 = [Int32](repeating: 0, count: g), scratch = [Int32](repeating: 0, count: g)
                for k in 0..<t {
                    for x in grams[k] { scratch[Int(x)] += 1 }
                    for x in grams[k] where scratch[Int(x)] > 0 {
                        let c = scratch[Int(x)], i = Int(x)
                        scratch[i] = 0
                        if c > top1[i] { top2[i] = top1[i]; top1[i] = c; owner[i] = Int32(k) } else if c > top2[i] { top2[i] = c }
                    }
                }
                for k in 0..<t {
                    var num = 0, total = 0
                    for x in grams[k] { scratch[Int(x)] += 1 }
                    for x in grams[k] where scratch[Int(x)] > 0 {
                        let i = Int(x), c = Int(scratch[i])
                        scratch[i] = 0
                        let maxRef = Int(owner[i] == Int32(k) ? top2[i] : top1[i])
                        num += Swift.min(c, maxRef)
                        total += c
                    }
                    numerators[k][order - 1] = num
                    denominators[k][order - 1] = Swift.max(1, total)
                    grams[k] = []
                }
            }
        }
        if interrupted { throw AlignMathError.interrupted }
        let sorted = lengths.sorted()
        var sum = 0.0
        for k in 0..<t {
            sum += bleuScore(numerators[k], denominators[k], hypLen: lengths[k],
                             closest: closestOtherLength(sorted, lengths[k]), n: n)
        }
        return sum / Double(t)
    }

    /// NLTK's `closest_ref_length` over the lengths of every text but one of length `len`:
    /// the nearest, ties to the shorter.
    static func closestOtherLength(_ sorted: [Int], _ len: Int) -> Int {
        var lo = 0, hi = sorted.count
        while lo < hi { let m = (lo + hi) / 2; if sorted[m] < len { lo = m + 1 } else { hi = m } }
        // sorted[lo] == len is the hypothesis itself; a second copy is an exact match.
        if lo + 1 < sorted.count, sorted[lo + 1] == len { return len }
        let below = lo > 0 ? sorted[lo - 1] : nil
        let above = lo + 1 < sorted.count ? sorted[lo + 1] : nil
        switch (below, above) {
        case let (b?, a?): return len - b <= a - len ? b : a
        case let (b?, nil): return b
        case let (nil, a?): return a
        default: return len
        }
    }

    /// `sentence_bleu` from the clipped counts of one hypothesis.
    static func bleuScore(_ numerators: [Int], _ denominators: [Int], hypLen: Int, closest: Int, n: Int) -> Double {
        if numerators[0] == 0 { return 0 }
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
}

/// n-gram repetition (rep-n of Welleck et al. 2019): the share of a text's n-grams that
/// repeat an earlier one, `1 - distinct / total`, over whitespace tokens as Python's
/// `str.split()` (case kept). 0 for a text with fewer than n tokens.
public enum Repetition {
    public static func score(_ text: String, n: Int = 3) throws -> Double {
        var s = text
        return try s.withUTF8 { try score(utf8: UnsafeRawBufferPointer($0), n: n, counter: WordCounter()) }
    }

    /// `score` over UTF-8 bytes, with reusable buffers (one `WordCounter` per Lua state), so a
    /// call per row allocates nothing once the buffers have grown.
    public static func score(utf8 text: UnsafeRawBufferPointer, n: Int, counter: WordCounter) throws -> Double {
        guard n >= 1 else { throw AlignMathError.invalidArgument("n must be >= 1, got \(n)") }
        // The vocabulary is kept across calls; forgotten once it is large (a long-lived state).
        if counter.interner.count > 1 << 16 { counter.interner = TokenInterner() }
        counter.ids.removeAll(keepingCapacity: true)
        let count = counter.appendTokens(text)
        guard count >= n else { return 0 }
        counter.resetGrams(n)
        let total = count - n + 1
        counter.ids.withUnsafeBufferPointer { b in
            guard let ids = b.baseAddress else { return }
            for i in 0..<total { counter.grams.insert(ids, at: i) }
        }
        return 1 - Double(counter.grams.count) / Double(total)
    }
}
