/// MinHash signatures of texts over word shingles (Broder 1997), the near-duplicate test of
/// LAB-style synthetic data pipelines and of datasketch's `MinHash`.
///
/// A text is lower-cased (ASCII letters), split on whitespace as Python's `str.split()`
/// splits, and cut into shingles of `shingle` consecutive words (a text with fewer words is
/// one shingle; an empty text has none). Each shingle is hashed to 64 bits; permutation i
/// maps a hash h to the high 32 bits of `a_i * h + b_i` (multiply-shift, a_i odd), the a_i
/// and b_i drawn from `seed` with ShingleMix, so the same seed gives the same signatures on
/// every machine. The share of equal entries of two signatures estimates the Jaccard
/// similarity of their shingle sets, with standard error sqrt(J (1 - J) / numPerm).
public struct MinHasher: Sendable {
    public let numPerm: Int
    public let shingle: Int
    public let seed: UInt64
    private let a: [UInt64]
    private let b: [UInt64]

    public init(numPerm: Int = 128, shingle: Int = 5, seed: UInt64 = 1) throws {
        guard numPerm >= 1, numPerm <= 4096 else { throw AlignMathError.invalidArgument("num_perm must be in [1, 4096], got \(numPerm)") }
        guard shingle >= 1, shingle <= 64 else { throw AlignMathError.invalidArgument("shingle must be in [1, 64] words, got \(shingle)") }
        self.numPerm = numPerm
        self.shingle = shingle
        self.seed = seed
        var state = seed
        var a: [UInt64] = [], b: [UInt64] = []
        for _ in 0..<numPerm {
            a.append(ShingleMix.next(&state) | 1)
            b.append(ShingleMix.next(&state))
        }
        self.a = a
        self.b = b
    }

    /// The 64-bit hashes of a text's shingles (duplicates kept: they do not change a minimum).
    public func shingleHashes(_ text: String) -> [UInt64] {
        var text = text
        return text.withUTF8 { shingleHashes(bytes: $0) }
    }

    public func shingleHashes(bytes: UnsafeBufferPointer<UInt8>) -> [UInt64] {
        var words: [UInt64] = []
        guard let p = bytes.baseAddress else { return [] }
        let n = bytes.count
        var i = 0
        while i < n {
            let w = PythonWhitespace.length(p, i, n)
            if w > 0 { i += w; continue }
            var h: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a over the lower-cased word
            while i < n, PythonWhitespace.length(p, i, n) == 0 {
                var c = p[i]
                if c >= 65 && c <= 90 { c += 32 }
                h = (h ^ UInt64(c)) &* 0x100_0000_01b3
                i += 1
            }
            words.append(ShingleMix.mix(h))
        }
        if words.isEmpty { return [] }
        let k = min(shingle, words.count)
        var out: [UInt64] = []
        out.reserveCapacity(words.count - k + 1)
        for s in 0...(words.count - k) {
            var h: UInt64 = 0x9e37_79b9_7f4a_7c15 &* UInt64(k)
            for j in s..<(s + k) { h = ShingleMix.mix(h ^ words[j]) }
            out.append(h)
        }
        return out
    }

    /// The signature of a set of shingle hashes into `out` (numPerm entries; all 0xFFFFFFFF
    /// for an empty set, as datasketch leaves an empty MinHash at its maximum).
    public func signature(of hashes: [UInt64], into out: UnsafeMutableBufferPointer<UInt32>) {
        for i in 0..<numPerm { out[i] = .max }
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                for h in hashes {
                    for i in 0..<numPerm {
                        let v = UInt32(truncatingIfNeeded: (pa[i] &* h &+ pb[i]) >> 32)
                        if v < out[i] { out[i] = v }
                    }
                }
            }
        }
    }

    public func signature(_ text: String) -> [UInt32] {
        var sig = [UInt32](repeating: 0, count: numPerm)
        let hashes = shingleHashes(text)
        sig.withUnsafeMutableBufferPointer { signature(of: hashes, into: $0) }
        return sig
    }

    /// The exact Jaccard similarity of two texts' shingle sets (1 when both are empty).
    public func exactJaccard(_ x: String, _ y: String) -> Double {
        let a = Set(shingleHashes(x)), b = Set(shingleHashes(y))
        if a.isEmpty && b.isEmpty { return 1 }
        return Double(a.intersection(b).count) / Double(a.union(b).count)
    }

    /// The estimated Jaccard similarity of two signatures: the share of equal entries.
    public static func estimate(_ x: UnsafeBufferPointer<UInt32>, _ y: UnsafeBufferPointer<UInt32>) -> Double {
        var same = 0
        for i in 0..<x.count where x[i] == y[i] { same += 1 }
        return Double(same) / Double(x.count)
    }
}

/// SplitMix64 (Steele, Lea and Flood 2014) as free functions: the seed expander and the
/// 64-bit mixer of shingle and band hashes.
enum ShingleMix {
    @inline(__always) static func next(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        return mix(state)
    }

    @inline(__always) static func mix(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
