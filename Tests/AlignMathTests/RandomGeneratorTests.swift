import XCTest
@testable import AlignMath

/// The generator against `Fixtures/random_xoshiro.json` (a Python transcription of
/// Vigna's xoshiro256** and splitmix64, by `Fixtures/generate_sampling.py`), plus
/// state, split, distribution and argument checks.
final class RandomGeneratorTests: XCTestCase {
    func fixture() throws -> [String: Any] {
        try XCTUnwrap(try Fixture.load("random_xoshiro.json") as? [String: Any])
    }

    func words(_ any: Any?) -> [UInt64] { (any as? [String] ?? []).compactMap { UInt64($0) } }

    func testPinnedStreams() throws {
        let f = try fixture()
        for seed: UInt64 in [0, 1, 42, UInt64.max] {
            let entry = try XCTUnwrap(f[String(seed)] as? [String: Any])
            let g = RandomGenerator(seed: seed)
            XCTAssertEqual(Array(g.state.prefix(4)), words(entry["state"]), "seed \(seed) state")
            let outs = (0..<16).map { _ in g.nextUInt64() }
            XCTAssertEqual(outs, words(entry["u64"]), "seed \(seed) stream")
            let u = RandomGenerator(seed: seed)
            // Exact: top 53 bits times 2^-53. (JSON doubles are only read to ~1e-16 by
            // Foundation, so the stored decimal uniforms are compared with a tolerance.)
            let got = (0..<16).map { _ in u.uniform() }
            XCTAssertEqual(got, outs.map { Double($0 >> 11) * 0x1.0p-53 }, "seed \(seed) uniforms")
            let stored = (entry["uniform"] as? [NSNumber] ?? []).map(\.doubleValue)
            XCTAssertEqual(stored.count, 16)
            for (a, b) in zip(got, stored) { XCTAssertEqual(a, b, accuracy: 1e-15) }
        }
        // Lua integers map through their bit pattern.
        XCTAssertEqual(RandomGenerator(seed: -1).state, RandomGenerator(seed: UInt64.max).state)
    }

    func testSplitIsJump() throws {
        let f = try fixture()
        let jumped = words((f["jump0"] as? [String: Any])?["state"])
        let parent = RandomGenerator(seed: 0)
        let child = parent.split()
        XCTAssertEqual(Array(child.state.prefix(4)), jumped)
        // The parent moved a second jump ahead: not equal to the child, deterministic.
        XCTAssertNotEqual(parent.state, child.state)
        let p2 = RandomGenerator(seed: 0)
        let c2 = p2.split()
        XCTAssertEqual(p2.state, parent.state)
        XCTAssertEqual(c2.nextUInt64(), child.nextUInt64())
        // Successive children differ.
        let c3 = p2.split()
        XCTAssertNotEqual(c3.state, c2.state)
    }

    func testStateRoundTrip() throws {
        let g = RandomGenerator(seed: 9)
        _ = g.normal()  // leaves a cached normal
        let s = g.state
        XCTAssertEqual(s.count, 6)
        XCTAssertEqual(s[4], 1)
        let a = (0..<5).map { _ in g.normal() }
        let h = RandomGenerator(seed: 0)
        try h.setState(s)
        XCTAssertEqual((0..<5).map { _ in h.normal() }, a)
        let bytes = g.stateBytes
        XCTAssertEqual(bytes.count, 48)
        let k = RandomGenerator(seed: 1)
        try k.setState(bytes: bytes)
        XCTAssertEqual(k.state, g.state)
        XCTAssertEqual(k.uniform(), g.uniform())
    }

    func testBadState() {
        let g = RandomGenerator(seed: 0)
        XCTAssertThrowsError(try g.setState([1, 2, 3])) { e in
            XCTAssertEqual(e as? AlignMathError, .invalidArgument("state must have 6 words (or 4 xoshiro words), got 3"))
        }
        XCTAssertThrowsError(try g.setState([0, 0, 0, 0]))
        XCTAssertThrowsError(try g.setState(bytes: [1, 2]))
    }

    func testUniformRanges() {
        let g = RandomGenerator(seed: 3)
        for _ in 0..<10_000 {
            let u = g.uniform(); XCTAssert(u >= 0 && u < 1)
            let o = g.uniformOpen(); XCTAssert(o > 0 && o < 1)
            let b = g.below(7); XCTAssert(b >= 0 && b < 7)
        }
    }

    func testNormalAndGumbelMoments() {
        let g = RandomGenerator(seed: 11)
        let n = 100_000
        var s = 0.0, s2 = 0.0, gs = 0.0
        for _ in 0..<n { let z = g.normal(); s += z; s2 += z * z; gs += g.gumbel() }
        let mean = s / Double(n), variance = s2 / Double(n) - mean * mean
        XCTAssertEqual(mean, 0, accuracy: 0.015)
        XCTAssertEqual(variance, 1, accuracy: 0.02)
        XCTAssertEqual(gs / Double(n), 0.5772156649, accuracy: 0.02)  // Euler-Mascheroni
        // Same seed, same normals.
        let a = RandomGenerator(seed: 5), b = RandomGenerator(seed: 5)
        XCTAssertEqual((0..<7).map { _ in a.normal() }, (0..<7).map { _ in b.normal() })
    }

    /// Chi-square critical value at p = 0.001 (Wilson-Hilferty).
    static func critical(_ df: Int) -> Double {
        let d = Double(df), z = 3.0902
        let t = 1 - 2 / (9 * d) + z * (2 / (9 * d)).squareRoot()
        return d * t * t * t
    }

    static func chiSquare(_ counts: [Int], _ probs: [Double], draws: Int) -> (Double, Int) {
        var chi = 0.0, df = -1
        for (c, p) in zip(counts, probs) where p > 0 {
            let e = p * Double(draws)
            chi += (Double(c) - e) * (Double(c) - e) / e
            df += 1
        }
        return (chi, df)
    }

    func testCategoricalChiSquare() throws {
        let w = [0.5, 0.2, 0.15, 0.1, 0.045, 0.004, 0.001, 0]
        let total = w.reduce(0, +)
        let probs = w.map { $0 / total }
        let g = RandomGenerator(seed: 2024)
        let draws = 100_000
        var counts = [Int](repeating: 0, count: w.count)
        for _ in 0..<draws { counts[try g.categorical(w)] += 1 }
        XCTAssertEqual(counts[7], 0, "zero weight never drawn")
        let (chi, df) = Self.chiSquare(counts, probs, draws: draws)
        XCTAssertLessThan(chi, Self.critical(df), "categorical chi-square \(chi) with \(df) df")

        let table = try AliasTable(w)
        var ac = [Int](repeating: 0, count: w.count)
        for _ in 0..<draws { ac[table.sample(g)] += 1 }
        XCTAssertEqual(ac[7], 0)
        let (chiA, dfA) = Self.chiSquare(ac, probs, draws: draws)
        XCTAssertLessThan(chiA, Self.critical(dfA), "alias chi-square \(chiA) with \(dfA) df")
    }

    func testCategoricalTinyProbabilities() throws {
        // A Double running sum keeps 1e-12 next to 1: drawn only when u lands there.
        let g = RandomGenerator(seed: 1)
        for _ in 0..<1000 { XCTAssertEqual(try g.categorical([1e-300, 1]), 1) }
        XCTAssertEqual(try g.categorical([0, 0, Double.leastNonzeroMagnitude * 6072]), 2)  // 3.0e-320, subnormal
    }

    func testCategoricalBadArguments() {
        let g = RandomGenerator(seed: 0)
        XCTAssertThrowsError(try g.categorical([])) { e in
            XCTAssertEqual(e as? AlignMathError, .invalidArgument("probs must not be empty"))
        }
        XCTAssertThrowsError(try g.categorical([0.5, -0.1])) { e in
            XCTAssertEqual(e as? AlignMathError, .invalidArgument("probs must be finite and >= 0, got -0.1 at position 2"))
        }
        XCTAssertThrowsError(try g.categorical([0, 0]))
        XCTAssertThrowsError(try g.categorical([.nan]))
        XCTAssertThrowsError(try AliasTable([]))
    }
}
