/// The generators of a llama.cpp sampler chain built with one seed (as llama.cpp's
/// `common_sampler` builds it): every sampler that draws owns a `std::mt19937` seeded
/// with that seed. `draw` is the one of the sampler that picks the token (`dist`, or
/// `mirostat`/`mirostat_v2`, which replace it); `xtc` is XTC's.
public struct LlamaCppStreams: Sendable {
    /// The 32-bit seed both streams started from.
    public let seed: UInt32
    /// The token-picking sampler's stream.
    public var draw: MersenneTwister19937
    /// XTC's stream.
    public var xtc: MersenneTwister19937

    /// Both streams at the start of `seed`.
    public init(seed: UInt32) {
        self.seed = seed
        draw = MersenneTwister19937(seed: seed)
        xtc = draw
    }

    /// The state as text: `mt19937:` then hex of the seed, each stream's index and its
    /// 624 words (8 digits per 32-bit number), restored by `init(text:)`.
    public var text: String {
        var out = "mt19937:"
        out.reserveCapacity(8 + 8 * (3 + 2 * MersenneTwister19937.n))
        func put(_ w: UInt32) {
            let h = String(w, radix: 16)
            out += String(repeating: "0", count: 8 - h.count) + h
        }
        put(seed)
        for s in [draw, xtc] {
            put(UInt32(s.index))
            for w in s.words { put(w) }
        }
        return out
    }

    /// Streams from `text`; nil if it is not what `text` gives.
    public init?(text: String) {
        guard text.hasPrefix("mt19937:") else { return nil }
        let digits = Array(text.utf8.dropFirst(8))
        let n = MersenneTwister19937.n
        guard digits.count == 8 * (3 + 2 * n) else { return nil }
        var values: [UInt32] = []
        values.reserveCapacity(3 + 2 * n)
        var i = 0
        while i < digits.count {
            guard let w = UInt32(String(decoding: digits[i..<(i + 8)], as: UTF8.self), radix: 16) else { return nil }
            values.append(w)
            i += 8
        }
        guard let d = MersenneTwister19937(words: Array(values[2..<(2 + n)]), index: Int(values[1])),
              let x = MersenneTwister19937(words: Array(values[(3 + n)...]), index: Int(values[2 + n])) else { return nil }
        seed = values[0]
        draw = d
        xtc = x
    }
}
