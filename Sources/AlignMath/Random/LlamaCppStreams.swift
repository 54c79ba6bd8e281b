/// The generators of a llama.cpp sampler chain built with one seed (as llama.cpp's
/// `common_sampler` builds it): every sampler that draws owns a `std::mt19937` seeded
/// with that seed. `draw` is the one of the sampler that picks the token (`dist`, or
/// `mirostat`/`mirostat_v2`, which replace it); `xtc[k]` is the k-th XTC sampler's of the
/// chain (llama.cpp gives each `llama_sampler_init_xtc(..., seed)` an mt19937 of its own,
/// so two XTC stages draw the same chances, not consecutive ones).
public struct LlamaCppStreams: Sendable {
    /// The 32-bit seed every stream started from.
    public let seed: UInt32
    /// The token-picking sampler's stream.
    public var draw: MersenneTwister19937
    /// The XTC stages' streams, in chain order; each is made at `seed` when its stage
    /// first draws.
    public var xtc: [MersenneTwister19937]

    /// The draw stream at the start of `seed` (XTC's are made as their stages draw).
    public init(seed: UInt32) {
        self.seed = seed
        draw = MersenneTwister19937(seed: seed)
        xtc = []
    }

    /// The chance the `stage`-th XTC stage of the chain (0-based, counting XTC stages
    /// only) draws: `std::uniform_real_distribution<float>(0, 1)` of its own stream.
    public mutating func xtcChance(stage: Int) -> Float {
        while xtc.count <= stage { xtc.append(MersenneTwister19937(seed: seed)) }
        return xtc[stage].canonicalFloat()
    }

    /// The state as text: `mt19937:` then hex of the seed, then each stream's index and its
    /// 624 words (8 digits per 32-bit number), the draw stream first, then the XTC
    /// stages' in order; restored by `init(text:)`.
    public var text: String {
        var out = "mt19937:"
        out.reserveCapacity(8 + 8 * (3 + 2 * MersenneTwister19937.n))
        func put(_ w: UInt32) {
            let h = String(w, radix: 16)
            out += String(repeating: "0", count: 8 - h.count) + h
        }
        put(seed)
        for s in [draw] + xtc {
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
        let words = digits.count / 8
        guard digits.count % 8 == 0, words > 1 + n, (words - 1) % (n + 1) == 0 else { return nil }
        var values: [UInt32] = []
        values.reserveCapacity(words)
        var i = 0
        while i < digits.count {
            guard let w = UInt32(String(decoding: digits[i..<(i + 8)], as: UTF8.self), radix: 16) else { return nil }
            values.append(w)
            i += 8
        }
        var streams: [MersenneTwister19937] = []
        var at = 1
        while at < values.count {
            guard let s = MersenneTwister19937(words: Array(values[(at + 1)..<(at + 1 + n)]), index: Int(values[at])) else { return nil }
            streams.append(s)
            at += n + 1
        }
        seed = values[0]
        draw = streams[0]
        xtc = Array(streams.dropFirst())
    }
}
