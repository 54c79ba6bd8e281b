/// `std::mt19937` (Matsumoto and Nishimura 1998, the parameters C++11 fixes), and the
/// two ways libstdc++ (GCC 12, `bits/random.tcc`) turns its 32-bit outputs into reals:
/// what llama.cpp's samplers draw from (`llama_sampler_dist`, `xtc`, `mirostat`), so a
/// llama.cpp run can be replayed token for token. The first output for the default seed
/// 5489 is 3499211612 and the 10000th 4123659995, as the C++ standard requires.
public struct MersenneTwister19937: Sendable {
    static let n = 624, m = 397
    static let matrixA: UInt32 = 0x9908_B0DF
    private(set) var words: [UInt32]
    private(set) var index: Int

    /// `std::mt19937(seed)`.
    public init(seed: UInt32) {
        var x = [UInt32](repeating: 0, count: Self.n)
        x[0] = seed
        for i in 1..<Self.n {
            x[i] = 1_812_433_253 &* (x[i - 1] ^ (x[i - 1] >> 30)) &+ UInt32(i)
        }
        words = x
        index = Self.n
    }

    /// A generator at a saved position (`words`, 624 of them, and the index of the next).
    init?(words: [UInt32], index: Int) {
        guard words.count == Self.n, index >= 0, index <= Self.n else { return nil }
        self.words = words
        self.index = index
    }

    /// The next 32-bit output.
    public mutating func next() -> UInt32 {
        if index >= Self.n { twist() }
        var z = words[index]
        index += 1
        z ^= z >> 11
        z ^= (z << 7) & 0x9D2C_5680
        z ^= (z << 15) & 0xEFC6_0000
        z ^= z >> 18
        return z
    }

    private mutating func twist() {
        let n = Self.n, m = Self.m, a = Self.matrixA
        words.withUnsafeMutableBufferPointer { x in
            @inline(__always) func mix(_ k: Int, _ next: Int, _ far: Int) {
                let y = (x[k] & 0x8000_0000) | (x[next] & 0x7FFF_FFFF)
                x[k] = x[far] ^ (y >> 1) ^ (y & 1 != 0 ? a : 0)
            }
            for k in 0..<(n - m) { mix(k, k + 1, k + m) }
            for k in (n - m)..<(n - 1) { mix(k, k + 1, k + m - n) }
            mix(n - 1, 0, m - 1)
        }
        index = 0
    }

    /// `std::generate_canonical<double, 53>(g)`, hence `std::uniform_real_distribution
    /// <double>(0, 1)(g)`: two outputs, `(r1 + r2 * 2^32) / 2^64` in double (the sum
    /// rounded to 53 bits), and `nextafter(1, 0)` if that rounds to 1.
    public mutating func canonicalDouble() -> Double {
        let r1 = Double(next())
        let r2 = Double(next())
        let x = (r1 + r2 * 4_294_967_296.0) / 18_446_744_073_709_551_616.0
        return x >= 1 ? Double(1).nextDown : x
    }

    /// `std::generate_canonical<float, 24>(g)`, hence `std::uniform_real_distribution
    /// <float>(0, 1)(g)`: one output rounded to float, divided by 2^32, and
    /// `nextafter(1.0f, 0.0f)` if that gives 1.
    public mutating func canonicalFloat() -> Float {
        let x = Float(next()) / 4_294_967_296.0
        return x >= 1 ? Float(1).nextDown : x
    }
}
