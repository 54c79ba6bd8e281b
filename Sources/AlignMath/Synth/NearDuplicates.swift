/// Near-duplicate removal by MinHash LSH (Indyk and Motwani 1998; datasketch's
/// `MinHashLSH`): signatures cut into `bands` bands of `rows` rows, two texts become
/// candidates when some band is equal, and a candidate is a duplicate when its estimated
/// Jaccard similarity is at least the threshold. Records are taken in order; the first of
/// each cluster is kept and every later near-duplicate names the kept record it matched
/// (the lowest-numbered one).
public struct NearDuplicates: Sendable {
    public let hasher: MinHasher
    public let threshold: Double
    public let bands: Int
    public let rows: Int

    /// `bands` and `rows` default to the choice datasketch makes for the threshold (the pair
    /// minimising the equally weighted false-positive and false-negative areas).
    public init(hasher: MinHasher, threshold: Double, bands: Int? = nil, rows: Int? = nil) throws {
        guard threshold > 0, threshold <= 1 else { throw AlignMathError.invalidArgument("threshold must be in (0, 1], got \(threshold)") }
        self.hasher = hasher
        self.threshold = threshold
        if let bands, let rows {
            guard bands >= 1, rows >= 1, bands * rows <= hasher.numPerm else {
                throw AlignMathError.invalidArgument("bands * rows must be at most num_perm (\(hasher.numPerm)), got \(bands) * \(rows)")
            }
            self.bands = bands
            self.rows = rows
        } else {
            (self.bands, self.rows) = NearDuplicates.optimalBands(threshold: threshold, numPerm: hasher.numPerm)
        }
    }

    /// For each text: nil when kept, or the index (0-based) of the kept text it duplicates,
    /// with the estimated similarity. `interrupted` is polled between texts.
    public func run(_ texts: [String], interrupted: () -> Bool = { false }) throws -> [(kept: Int, similarity: Double)?] {
        let m = hasher.numPerm
        let n = texts.count
        var signatures = [UInt32](repeating: 0, count: n * m)
        try signatures.withUnsafeMutableBufferPointer { all in
            guard let base = all.baseAddress else { return }
            for (i, t) in texts.enumerated() {
                if i & 1023 == 0, interrupted() { throw AlignMathError.interrupted }
                hasher.signature(of: hasher.shingleHashes(t), into: UnsafeMutableBufferPointer(start: base + i * m, count: m))
            }
        }
        var tables = [[UInt64: [Int32]]](repeating: [:], count: bands)
        for t in 0..<bands { tables[t].reserveCapacity(n) }
        var result = [(kept: Int, similarity: Double)?](repeating: nil, count: n)
        var keys = [UInt64](repeating: 0, count: bands)
        try signatures.withUnsafeBufferPointer { all in
            guard let base = all.baseAddress else { return }
            for i in 0..<n {
                if i & 4095 == 0, interrupted() { throw AlignMathError.interrupted }
                let sig = UnsafeBufferPointer(start: base + i * m, count: m)
                var best: (kept: Int, similarity: Double)?
                for band in 0..<bands {
                    var h: UInt64 = UInt64(band) &* 0x9e37_79b9_7f4a_7c15
                    for r in 0..<rows { h = ShingleMix.mix(h ^ UInt64(sig[band * rows + r])) }
                    keys[band] = h
                    guard let bucket = tables[band][h] else { continue }
                    for c in bucket {
                        let j = Int(c)
                        if let b = best, b.kept <= j { continue }
                        let s = MinHasher.estimate(sig, UnsafeBufferPointer(start: base + j * m, count: m))
                        if s >= threshold { best = (j, s) }
                    }
                }
                if let best {
                    result[i] = best
                } else {
                    for band in 0..<bands { tables[band][keys[band], default: []].append(Int32(i)) }
                }
            }
        }
        return result
    }

    /// datasketch's `_optimal_param`: the (bands, rows) with bands * rows <= numPerm that
    /// minimise 0.5 * P(false positive) + 0.5 * P(false negative), each the area under the
    /// S-curve 1 - (1 - s^r)^b below / above the threshold (Simpson's rule, 200 panels).
    public static func optimalBands(threshold: Double, numPerm: Int) -> (bands: Int, rows: Int) {
        func integral(_ f: (Double) -> Double, _ lo: Double, _ hi: Double) -> Double {
            let panels = 200
            let h = (hi - lo) / Double(panels)
            var s = f(lo) + f(hi)
            for k in 1..<panels { s += f(lo + Double(k) * h) * (k % 2 == 1 ? 4 : 2) }
            return s * h / 3
        }
        var best = (bands: 1, rows: numPerm)
        var minError = Double.infinity
        for b in 1...numPerm {
            for r in 1...(numPerm / b) {
                let bb = Double(b), rr = Double(r)
                let fp = integral({ 1 - pow(1 - pow($0, rr), bb) }, 0, threshold)
                let fn = integral({ 1 - (1 - pow(1 - pow($0, rr), bb)) }, threshold, 1)
                let error = 0.5 * fp + 0.5 * fn
                if error < minError { minError = error; best = (b, r) }
            }
        }
        return best
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
