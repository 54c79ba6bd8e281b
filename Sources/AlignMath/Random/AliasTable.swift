/// Walker's alias method in Vose's stable form: after an O(n) build, each draw costs one
/// 64-bit output for the column and one uniform for the coin, whatever `n`. Build once
/// and reuse for repeated draws from the same weights; for a single draw,
/// `RandomGenerator.categorical` is cheaper and exact for tiny probabilities.
public struct AliasTable {
    /// Probability of keeping column `i` (else `alias[i]`).
    public let keep: [Double]
    /// The alias of each column.
    public let alias: [Int]

    /// Builds the table from non-negative weights (normalised internally).
    /// - Throws: `invalidArgument` as `RandomGenerator.categorical` does.
    public init(_ probs: [Double]) throws {
        let n = probs.count
        let total = try probs.withUnsafeBufferPointer { try RandomGenerator.validatedTotal($0) }
        var scaled = probs.map { $0 * Double(n) / total }
        var keep = [Double](repeating: 1, count: n)
        var alias = Array(0..<n)
        var small: [Int] = [], large: [Int] = []
        for i in 0..<n { if scaled[i] < 1 { small.append(i) } else { large.append(i) } }
        while let s = small.popLast() {
            guard let l = large.popLast() else { small.append(s); break }
            keep[s] = scaled[s]
            alias[s] = l
            scaled[l] = (scaled[l] + scaled[s]) - 1
            if scaled[l] < 1 { small.append(l) } else { large.append(l) }
        }
        // Leftovers (rounding) keep their own column with certainty.
        // A zero-weight leftover points at the heaviest column instead.
        var heaviest = 0
        for i in 0..<n where probs[i] > probs[heaviest] { heaviest = i }
        for i in small + large {
            if probs[i] > 0 { keep[i] = 1; alias[i] = i } else { keep[i] = 0; alias[i] = heaviest }
        }
        self.keep = keep
        self.alias = alias
    }

    /// The number of outcomes.
    public var count: Int { keep.count }

    /// One draw.
    @inline(__always)
    public func sample(_ rng: RandomGenerator) -> Int {
        let i = rng.below(keep.count)
        return rng.uniform() < keep[i] ? i : alias[i]
    }
}
