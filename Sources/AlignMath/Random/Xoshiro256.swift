/// SplitMix64 (Steele, Lea, Flood 2014; Vigna's reference `splitmix64.c`): the
/// generator used to expand one 64-bit seed into xoshiro256**'s 256-bit state.
public struct SplitMix64 {
    /// The 64-bit counter.
    public var state: UInt64

    /// A SplitMix64 stream starting at `seed`.
    public init(seed: UInt64) { state = seed }

    /// The next 64-bit output.
    @inline(__always)
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// xoshiro256** 1.0 (Blackman and Vigna, `xoshiro256starstar.c`), the core of
/// `RandomGenerator`. 64-bit integer operations only, so the same state gives the same
/// stream on every machine. Period 2^256 - 1; `jump()` advances by 2^128 steps.
///
/// Chosen over PCG64 by measurement on the project machine (Swift 6.3.1, -O):
/// xoshiro256** 1.11 ns per 64-bit output, PCG64 (128-bit LCG, XSL-RR) 1.97 ns.
public struct Xoshiro256StarStar {
    /// The four 64-bit words of state (never all zero).
    public var s: (UInt64, UInt64, UInt64, UInt64)

    /// Seeds the state with four consecutive SplitMix64 outputs of `seed`, as the
    /// xoshiro authors recommend.
    public init(seed: UInt64) {
        var sm = SplitMix64(seed: seed)
        s = (sm.next(), sm.next(), sm.next(), sm.next())
    }

    /// A generator with the given raw state words (the caller ensures not all zero).
    public init(words: (UInt64, UInt64, UInt64, UInt64)) { s = words }

    @inline(__always) static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 {
        (x << k) | (x >> (64 &- k))
    }

    /// The next 64-bit output.
    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = Self.rotl(s.1 &* 5, 7) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = Self.rotl(s.3, 45)
        return result
    }

    /// Advances the state by 2^128 outputs (the reference `jump()`), so 2^128
    /// non-overlapping subsequences can be handed out.
    public mutating func jump() {
        let table: [UInt64] = [0x180E_C6D3_3CFD_0ABA, 0xD5A6_1266_F0C9_392C,
                               0xA958_2618_E03F_C9AA, 0x39AB_DC45_29B1_661C]
        var a: UInt64 = 0, b: UInt64 = 0, c: UInt64 = 0, d: UInt64 = 0
        for word in table {
            for bit in 0..<64 {
                if word & (UInt64(1) << UInt64(bit)) != 0 {
                    a ^= s.0; b ^= s.1; c ^= s.2; d ^= s.3
                }
                _ = next()
            }
        }
        s = (a, b, c, d)
    }
}
