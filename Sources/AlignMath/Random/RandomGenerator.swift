import Foundation

/// moonlab's random generator (`random.new(seed)` in Lua): xoshiro256** seeded through
/// SplitMix64 (see `Xoshiro256StarStar` for the measurement behind the choice), or, for
/// the `llamaCpp` engine, llama.cpp's generators (`LlamaCppStreams`).
///
/// A class, so that a generator handed to several sampler stages and to Lua is one
/// stream. Not thread-safe: give each thread its own generator via `split()`.
///
/// Determinism: `nextUInt64`, `uniform`, `uniformOpen`, `categorical` and `AliasTable`
/// use integer and IEEE-exact operations only and give bit-identical streams on every
/// machine. `normal` (Marsaglia's polar method: `sqrt` and one `log`) and `gumbel`
/// (`log`) also depend on the platform's `log`, which glibc and Apple's libm both round
/// correctly in practice; the uniform draws they consume are identical everywhere.
public final class RandomGenerator {
    /// Which stream of numbers a generator produces.
    public enum Engine: String, Sendable {
        /// xoshiro256** (the default).
        case moonlab
        /// llama.cpp's: `std::mt19937` seeded with a 32-bit seed, reals by libstdc++.
        case llamaCpp = "llama.cpp"
    }

    /// The xoshiro256** core (unused by the llama.cpp engine).
    public private(set) var core: Xoshiro256StarStar
    /// The llama.cpp engine's streams; nil for the moonlab engine.
    public private(set) var llama: LlamaCppStreams?
    /// The second normal of the last polar pair, returned by the next `normal()`.
    private var spareNormal: Double? = nil

    /// A generator seeded from a 64-bit seed.
    public init(seed: UInt64) { core = Xoshiro256StarStar(seed: seed) }

    /// Restarts this generator as `RandomGenerator(seed:)` would start (the moonlab engine),
    /// in place and without allocating: `moonlab score` reseeds `random.default` every row.
    public func reseed(_ seed: UInt64) {
        core = Xoshiro256StarStar(seed: seed)
        llama = nil
        spareNormal = nil
    }

    /// A generator seeded from a signed seed (its two's-complement bits), so Lua's
    /// integers map one to one.
    public convenience init(seed: Int) { self.init(seed: UInt64(bitPattern: Int64(seed))) }

    /// A generator of `engine`. llama.cpp seeds are 32-bit: `0 ..< 0xFFFFFFFF`
    /// (`LLAMA_DEFAULT_SEED`, 0xFFFFFFFF, makes llama.cpp pick a random seed, which no
    /// replay can follow).
    /// - Throws: `invalidArgument` for a llama.cpp seed outside that range.
    public convenience init(seed: Int, engine: Engine) throws {
        switch engine {
        case .moonlab:
            self.init(seed: seed)
        case .llamaCpp:
            guard seed >= 0 && seed < 0xFFFF_FFFF else {
                throw AlignMathError.invalidArgument(seed == 0xFFFF_FFFF
                    ? "seed 0xFFFFFFFF is LLAMA_DEFAULT_SEED, for which llama.cpp draws a random seed; give the seed the run used (0 to 4294967294)"
                    : "a llama.cpp seed is a 32-bit unsigned integer (0 to 4294967294), got \(seed)")
            }
            self.init(core: Xoshiro256StarStar(seed: 0))
            llama = LlamaCppStreams(seed: UInt32(seed))
        }
    }

    private init(core: Xoshiro256StarStar) { self.core = core }

    /// The engine this generator runs.
    public var engine: Engine { llama == nil ? .moonlab : .llamaCpp }

    /// The next raw 64-bit output (llama.cpp engine: two 32-bit outputs, first one low).
    @inline(__always)
    public func nextUInt64() -> UInt64 {
        if _slowPath(llama != nil) { return llamaNext64() }
        return core.next()
    }

    private func llamaNext64() -> UInt64 {
        let lo = UInt64(llama?.draw.next() ?? 0)
        let hi = UInt64(llama?.draw.next() ?? 0)
        return hi << 32 | lo
    }

    /// A uniform double in [0, 1): the top 53 bits of one output; for the llama.cpp
    /// engine `std::uniform_real_distribution<double>(0, 1)` of the draw stream, the
    /// number llama.cpp's `dist` sampler draws per token.
    @inline(__always)
    public func uniform() -> Double {
        if _slowPath(llama != nil) { return llama?.draw.canonicalDouble() ?? 0 }
        return Double(core.next() >> 11) * 0x1.0p-53
    }

    /// The llama.cpp engine's streams, for the chain's draws (nil for moonlab's).
    func withLlamaStreams<R>(_ body: (inout LlamaCppStreams) -> R) -> R? {
        guard var streams = llama else { return nil }
        llama = nil  // the arrays stay uniquely referenced: no copy on write
        let r = body(&streams)
        llama = streams
        return r
    }

    /// A uniform double in the open interval (0, 1): `(k + 0.5) / 2^52` for the top 52
    /// bits `k` of one output, so neither 0 nor 1 can occur.
    @inline(__always)
    public func uniformOpen() -> Double { (Double(nextUInt64() >> 12) + 0.5) * 0x1.0p-52 }

    /// A uniform integer in `0..<n` (Lemire's multiply-high, bias below n / 2^64).
    @inline(__always)
    public func below(_ n: Int) -> Int {
        Int(truncatingIfNeeded: nextUInt64().multipliedFullWidth(by: UInt64(n)).high)
    }

    /// A standard normal by Marsaglia's polar method: pairs of uniforms in the unit
    /// disc, the second value of each pair cached and returned by the next call (the
    /// cache is part of `state`).
    public func normal() -> Double {
        if let z = spareNormal { spareNormal = nil; return z }
        while true {
            let u = 2 * uniform() - 1
            let v = 2 * uniform() - 1
            let s = u * u + v * v
            if s > 0 && s < 1 {
                let f = (-2 * Foundation.log(s) / s).squareRoot()
                spareNormal = v * f
                return u * f
            }
        }
    }

    /// A standard Gumbel variate, `-log(-log(u))` with `u` uniform in (0, 1).
    public func gumbel() -> Double { -Foundation.log(-Foundation.log(uniformOpen())) }

    /// One index drawn with probability proportional to `probs[i]` (unnormalised weights
    /// are fine), by inverse CDF over a Double running sum, so tiny probabilities are
    /// drawn at their true rate. One uniform per draw. For many draws from the same
    /// weights, build an `AliasTable`.
    /// - Throws: `invalidArgument` if `probs` is empty, has a negative or non-finite
    ///   entry, or sums to zero.
    public func categorical(_ probs: [Double]) throws -> Int {
        try probs.withUnsafeBufferPointer { try categorical(weights: $0) }
    }

    /// `categorical` over a buffer of weights (see `categorical(_:)`).
    public func categorical(weights: UnsafeBufferPointer<Double>) throws -> Int {
        let total = try Self.validatedTotal(weights)
        let target = uniform() * total
        var cum = 0.0
        var lastPositive = 0
        for i in 0..<weights.count where weights[i] > 0 {
            cum += weights[i]
            lastPositive = i
            if cum > target { return i }
        }
        return lastPositive
    }

    /// Sums weights, checking each is finite and non-negative and the sum positive.
    static func validatedTotal(_ w: UnsafeBufferPointer<Double>) throws -> Double {
        guard !w.isEmpty else {
            throw AlignMathError.invalidArgument("probs must not be empty")
        }
        var total = 0.0
        for (i, p) in w.enumerated() {
            guard p.isFinite && p >= 0 else {
                throw AlignMathError.invalidArgument(
                    "probs must be finite and >= 0, got \(p) at position \(i + 1)")
            }
            total += p
        }
        guard total > 0 else {
            throw AlignMathError.invalidArgument("probs must have a positive sum, got 0")
        }
        return total
    }

    /// The full state as six 64-bit words: the four xoshiro words, then 1 or 0 for a
    /// cached normal, then that normal's bit pattern (0 if none).
    public var state: [UInt64] {
        [core.s.0, core.s.1, core.s.2, core.s.3,
         spareNormal == nil ? 0 : 1, spareNormal?.bitPattern ?? 0]
    }

    /// The state as 48 little-endian bytes (the six words of `state`).
    public var stateBytes: [UInt8] {
        state.flatMap { w in (0..<8).map { UInt8(truncatingIfNeeded: w >> (8 * UInt64($0))) } }
    }

    /// Restores a state from `state` (6 words) or from just the four xoshiro words.
    /// - Throws: `invalidArgument` on a wrong length or an all-zero xoshiro state.
    public func setState(_ words: [UInt64]) throws {
        guard llama == nil else {
            throw AlignMathError.invalidArgument("this generator runs llama.cpp's mt19937; restore it from the \"mt19937:...\" text its state gives")
        }
        guard words.count == 6 || words.count == 4 else {
            throw AlignMathError.invalidArgument(
                "state must have 6 words (or 4 xoshiro words), got \(words.count)")
        }
        guard words[0] | words[1] | words[2] | words[3] != 0 else {
            throw AlignMathError.invalidArgument("state must not be all zero (xoshiro would emit only zeros)")
        }
        core = Xoshiro256StarStar(words: (words[0], words[1], words[2], words[3]))
        spareNormal = (words.count == 6 && words[4] != 0) ? Double(bitPattern: words[5]) : nil
    }

    /// Restores a state from the 48 bytes of `stateBytes`.
    public func setState(bytes: [UInt8]) throws {
        guard bytes.count == 48 else {
            throw AlignMathError.invalidArgument("state must be 48 bytes, got \(bytes.count)")
        }
        let words = (0..<6).map { w in
            (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[w * 8 + $1]) << UInt64(8 * $1) }
        }
        try setState(words)
    }

    /// An independent child generator, by xoshiro's jump function: the child starts
    /// 2^128 outputs ahead of this generator's current position, and this generator then
    /// moves 2^129 ahead. Children of successive splits therefore sit at offsets 1, 3,
    /// 5, ... x 2^128 and the parent's own segments at 0, 2, 4, ... x 2^128: no two
    /// streams overlap unless one draws 2^128 values. Deterministic: the same parent
    /// state gives the same child. The cached normal stays with the parent. A llama.cpp
    /// generator (mt19937 has no jump) gives a llama.cpp generator seeded with its next
    /// 32-bit output below 0xFFFFFFFF.
    public func split() -> RandomGenerator {
        if llama != nil {
            let child = RandomGenerator(core: core)
            let seed = withLlamaStreams { $0.draw.next() } ?? 0
            child.llama = LlamaCppStreams(seed: seed == 0xFFFF_FFFF ? 0 : seed)
            return child
        }
        var c = core
        c.jump()
        core = c
        core.jump()
        return RandomGenerator(core: c)
    }

    /// A copy with the same state (same future stream).
    public func copy() -> RandomGenerator {
        let g = RandomGenerator(core: core)
        g.spareNormal = spareNormal
        g.llama = llama
        return g
    }

    /// Restores a llama.cpp generator's streams (from `llama` of another generator).
    /// - Throws: `invalidArgument` on a moonlab generator.
    public func setLlamaStreams(_ streams: LlamaCppStreams) throws {
        guard llama != nil else {
            throw AlignMathError.invalidArgument("this generator runs xoshiro256** (engine \"moonlab\"); a llama.cpp state restores only a generator made with {engine = \"llama.cpp\"}")
        }
        llama = streams
        spareNormal = nil
    }
}
