import XCTest
@testable import AlignMath

/// `SamplerChain.distribution` and `logprob` against closed forms: deterministic chains
/// exactly, XTC as the mixture of its two outcomes, mirostat with eta = 0 (mu fixed) as its
/// truncation, and mirostat moving mu as the average of its truncations along the run.
final class ChainDistributionTests: XCTestCase {
    let logits: [Double] = [2.0, 1.5, 1.0, 0.0, -1.0, -3.0]

    func softmax(_ x: [Double]) -> [Double] {
        let m = x.max() ?? 0
        let e = x.map { $0 == -.infinity ? 0 : exp($0 - m) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }

    func testDeterministicChainIsExact() throws {
        let chain = try SamplerChain([try .temperature(0.5), try .topK(3)])
        let d = try chain.distribution(logits, rng: RandomGenerator(seed: 1))
        XCTAssertTrue(d.exact)
        let want = softmax([4, 3, 2, -.infinity, -.infinity, -.infinity])
        for i in 0..<6 { XCTAssertEqual(d.probs[i], want[i], accuracy: 1e-15) }
        XCTAssertEqual(d.standardErrors, [Double](repeating: 0, count: 6))
    }

    func testXTCIsTheMixtureOfItsTwoOutcomes() throws {
        // threshold 0.15: the tokens at or above it are 0, 1, 2 (p = .39, .24, .14?) -> compute.
        let p = softmax(logits)
        let threshold = 0.1
        let above = p.indices.filter { p[$0] >= threshold }
        XCTAssertGreaterThan(above.count, 1)
        // XTC removes all of them but the least probable.
        var cut = logits
        for i in above.dropLast() { cut[i] = -.infinity }
        let removed = softmax(cut)
        let prob = 0.3
        let want = p.indices.map { (1 - prob) * p[$0] + prob * removed[$0] }
        let chain = try SamplerChain([try .xtc(probability: prob, threshold: threshold)])
        let d = try chain.distribution(logits, samples: 4000, rng: RandomGenerator(seed: 5))
        XCTAssertFalse(d.exact)
        XCTAssertEqual(d.samples, 4000)
        for i in 0..<6 {
            XCTAssertLessThanOrEqual(abs(d.probs[i] - want[i]), 5 * d.standardErrors[i] + 1e-12, "p[\(i)]")
            if want[i] > 0 && want[i] != p[i] { XCTAssertGreaterThan(d.standardErrors[i], 0) }
        }
        XCTAssertEqual(d.probs.reduce(0, +), 1, accuracy: 1e-12)
        // The same generator seed gives the same estimate.
        let again = try chain.distribution(logits, samples: 4000, rng: RandomGenerator(seed: 5))
        XCTAssertEqual(again.probs, d.probs)
    }

    func testMirostatWithFixedMuIsItsTruncation() throws {
        // eta = 0: mu stays 2 tau; tau = 1 keeps tokens with -log2 p <= 2, i.e. p >= 0.25.
        let chain = try SamplerChain([try .mirostatV2(tau: 1, eta: 0)])
        let d = try chain.distribution(logits, samples: 200, rng: RandomGenerator(seed: 2))
        let p = softmax(logits)
        var cut = logits
        for i in p.indices where -log2(p[i]) > 2 { cut[i] = -.infinity }
        let want = softmax(cut)
        for i in 0..<6 {
            XCTAssertEqual(d.probs[i], want[i], accuracy: 1e-12)
            XCTAssertEqual(d.standardErrors[i], 0, accuracy: 1e-12)
        }
    }

    func testMirostatMovingMuAveragesTruncationsAndRestoresMu() throws {
        let stage = try SamplerStage.mirostatV2(tau: 1.5, eta: 0.5)
        let chain = try SamplerChain([stage])
        let mu0 = stage.mu
        let d = try chain.distribution(logits, samples: 2000, rng: RandomGenerator(seed: 9))
        XCTAssertEqual(stage.mu, mu0)
        // Replay the same run by hand: same generator, the truncation at each mu averaged.
        let rng = RandomGenerator(seed: 9)
        var sum = [Double](repeating: 0, count: 6)
        for _ in 0..<2000 {
            let p = try chain.probs(logits)
            for i in 0..<6 { sum[i] += p[i] }
            _ = try chain.sample(logits, rng: rng)
        }
        stage.reset()
        for i in 0..<6 { XCTAssertEqual(d.probs[i], sum[i] / 2000, accuracy: 1e-12) }
        XCTAssertGreaterThan(d.standardErrors.max() ?? 0, 0)
    }

    func testLogprobProcessedAndRaw() throws {
        let chain = try SamplerChain([try .temperature(0.5), try .topK(2)])
        let raw = softmax(logits).map { log($0) }
        let processed = softmax([4, 3, -.infinity, -.infinity, -.infinity, -.infinity]).map { log($0) }
        for id in 0..<6 {
            let lp = try chain.logprob(logits, id: id, rng: RandomGenerator(seed: 0))
            XCTAssertEqual(lp.raw, raw[id], accuracy: 1e-14)
            if id < 2 { XCTAssertEqual(lp.processed, processed[id], accuracy: 1e-14) } else { XCTAssertEqual(lp.processed, -.infinity) }
        }
        XCTAssertThrowsError(try chain.logprob(logits, id: 6, rng: RandomGenerator(seed: 0)))
        // f32 rows: raw in double from the floats.
        let f: [Float] = logits.map(Float.init)
        let lp = try f.withUnsafeBufferPointer { try chain.logprob($0, id: 0, rng: RandomGenerator(seed: 0)) }
        XCTAssertEqual(lp.raw, raw[0], accuracy: 1e-7)
    }

    /// A float32 row: the distribution in double precision, as documented (found by
    /// lab_diff.py against transformers 5.25's warpers + torch.log_softmax in float64; the
    /// float32 probabilities had underflowed: exp(-120) = 7.7e-53 was 0 and its logprob -inf,
    /// and the kept ones carried float32 rounding).
    func testFloat32RowInDoublePrecision() throws {
        let chain = try SamplerChain([try .temperature(0.5), try .topK(3)])
        let f: [Float] = [0, -60, 0.1, -.infinity]
        let d = try f.withUnsafeBufferPointer { try chain.distribution($0, rng: RandomGenerator(seed: 0)) }
        // torch.log_softmax(torch.tensor([0, -60, 0.1], dtype=torch.float64) / 0.5): token 1 at -120.
        let z = [0.0, -120.0, Double(Float(0.1)) * 2]
        let m = z.max()!, lse = m + log(z.map { exp($0 - m) }.reduce(0, +))
        XCTAssertEqual(d.probs[1], exp(z[1] - lse), accuracy: 1e-66)
        XCTAssertGreaterThan(d.probs[1], 0)
        XCTAssertEqual(d.probs[0], exp(z[0] - lse), accuracy: 1e-16)
        XCTAssertEqual(d.probs[3], 0)
        let lp = try f.withUnsafeBufferPointer { try chain.logprob($0, id: 1, rng: RandomGenerator(seed: 0)) }
        XCTAssertEqual(lp.processed, z[1] - lse, accuracy: 1e-12)
    }
}
