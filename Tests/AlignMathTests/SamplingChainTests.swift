import XCTest
@testable import AlignMath

/// The chain runner: sampling statistics, determinism, the fast path against the dense
/// path, custom stages, explain, replay, mirostat state and argument checks.
final class SamplingChainTests: XCTestCase {
    let ties: [Float] = [2.0, 1.0, 1.0, 0.5, 3.0, 1.0, -1.0, 0.0, 2.0, -2.0, 0.5, 1.0]

    /// Logits from a seeded generator; `levels > 0` quantises them to create many ties.
    func row(_ v: Int, seed: UInt64, levels: Double = 0) -> [Float] {
        let g = RandomGenerator(seed: seed)
        return (0..<v).map { _ in
            let z = 2.5 * g.normal()
            return Float(levels > 0 ? (z * levels).rounded() / levels : z)
        }
    }

    func testChainSamplingChiSquare() throws {
        let logits = row(50, seed: 1).map { $0 * 0.3 }
        let chain = try SamplerChain([.topK(12), .topP(0.9), .temperature(0.8)])
        let p = try chain.probs(logits)
        let g = RandomGenerator(seed: 77)
        let draws = 100_000
        var counts = [Int](repeating: 0, count: logits.count)
        for _ in 0..<draws { counts[try chain.sample(logits, rng: g)] += 1 }
        for i in counts.indices where p[i] == 0 { XCTAssertEqual(counts[i], 0, "removed token \(i) drawn") }
        let (chi, df) = RandomGeneratorTests.chiSquare(counts, p.map(Double.init), draws: draws)
        XCTAssertGreaterThan(df, 2)
        XCTAssertLessThan(chi, RandomGeneratorTests.critical(df), "chain chi-square \(chi) with \(df) df")
    }

    /// A chain that truncates nothing draws straight from the row (no candidate list):
    /// the same distribution, lazily (temperature pending), on a dense row (after a custom
    /// stage) and on f64; -inf is never drawn and a NaN row is refused (never drawn from).
    func testWholeRowDrawChiSquare() throws {
        var logits = row(53, seed: 4).map { $0 * 0.3 }
        logits[7] = -.infinity
        let p = try SamplerChain([.temperature(0.8)]).probs(logits).map(Double.init)
        let wide = logits.map(Double.init)
        let lazy = try SamplerChain([.temperature(0.8)])
        let dense = try SamplerChain([.custom("noop") { _, _ in }, .temperature(0.8)])
        for (chain, rowF64) in [(lazy, false), (dense, true)] {
            var withNaN = logits
            withNaN[50] = .nan
            XCTAssertThrowsError(rowF64 ? try chain.sample(withNaN.map(Double.init), rng: RandomGenerator(seed: 1))
                                        : try chain.sample(withNaN, rng: RandomGenerator(seed: 1))) {
                XCTAssertEqual("\($0)", "logits contain NaN at id 50")
            }
            do {
                let g = RandomGenerator(seed: 78)
                let draws = 20_000
                var counts = [Int](repeating: 0, count: logits.count)
                for _ in 0..<draws {
                    let id = rowF64 ? try chain.sample(wide, rng: g) : try chain.sample(logits, rng: g)
                    counts[id] += 1
                }
                XCTAssertEqual(counts[7], 0)
                let (chi, df) = RandomGeneratorTests.chiSquare(counts, p, draws: draws)
                XCTAssertLessThan(chi, RandomGeneratorTests.critical(df), "whole-row chi-square \(chi) with \(df) df")
            }
        }
    }

    func testSameSeedSameTokens() throws {
        let logits = row(1000, seed: 3)
        let chain = try SamplerChain([.penalties(repetition: 1.2, frequency: 0.1, presence: 0.1, lastN: 64),
                                      .topK(40), .topP(0.95), .minP(0.05), .temperature(0.8)])
        func run(_ seed: UInt64) throws -> [Int] {
            let g = RandomGenerator(seed: seed)
            var hist: [Int] = []
            for _ in 0..<200 { hist.append(try chain.sample(logits, rng: g, context: SamplingContext(history: hist))) }
            return hist
        }
        XCTAssertEqual(try run(5), try run(5))
        XCTAssertNotEqual(try run(5), try run(6))
    }

    /// The lazy top-k scan (penalties and bias patched, temperature pending) must equal
    /// the same chain run on the dense row (forced by a no-op custom stage first).
    func testFastPathMatchesDensePath() throws {
        for (seed, levels) in [(UInt64(1), 0.0), (2, 2.0), (3, 0.5), (4, 8.0)] {
            let logits = row(5003, seed: seed, levels: levels)
            let hist = (0..<80).map { ($0 * 7919) % 5003 }
            for sem in [SamplingSemantics.transformers, .llamaCpp] {
                let tail: [SamplerStage] = [
                    try .penalties(repetition: 1.3, frequency: 0.2, presence: 0.1, lastN: 64, semantics: sem),
                    try .logitBias([17: 4.0, 4000: -.infinity]),
                    try .temperature(0.9),
                    try .topK(37, semantics: sem), try .topP(0.8, semantics: sem),
                ]
                let fast = try SamplerChain(tail)
                let dense = try SamplerChain([.custom("noop") { _, _ in }] + tail)
                let ctx = SamplingContext(history: hist)
                let a = try fast.apply(logits, context: ctx), b = try dense.apply(logits, context: ctx)
                XCTAssertEqual(a, b, "seed \(seed) levels \(levels) \(sem)")
                if sem == .transformers && levels == 0.5 {
                    // Quantised logits: HF keeps every tie with the 37th value.
                    XCTAssertGreaterThan(try SamplerChain([.topK(37)]).apply(logits).filter { $0 > -.infinity }.count, 37)
                }
                XCTAssertEqual(try SamplerChain([.topK(37, semantics: .llamaCpp)]).apply(logits).filter { $0 > -.infinity }.count, 37)
            }
        }
    }

    func testGreedyAndTemperatureZero() throws {
        let g = RandomGenerator(seed: 0)
        XCTAssertEqual(try SamplerChain([.greedy()]).sample(ties, rng: g), 4)
        XCTAssertEqual(try SamplerChain([.temperature(0)]).sample(ties, rng: g), 4)
        // Tied maxima: the first id.
        XCTAssertEqual(try SamplerChain([.greedy()]).sample([1, 3, 3, 0], rng: g), 1)
    }

    func testCustomStage() throws {
        var sawCount = 0
        let ban = SamplerStage.custom("ban4") { logits, ctx in
            sawCount = logits.count
            XCTAssertEqual(ctx.history, [9])
            logits[4] = -.infinity
        }
        let chain = try SamplerChain([.topK(3), ban])
        let out = try chain.apply(ties, context: SamplingContext(history: [9]))
        XCTAssertEqual(sawCount, ties.count)
        XCTAssertEqual(out.indices.filter { out[$0] > -.infinity }, [0, 8])
        let thrower = SamplerStage.custom("fails") { _, _ in throw AlignMathError.invalidArgument("boom") }
        XCTAssertThrowsError(try SamplerChain([thrower]).apply(ties))
        // An f64 row reaches the stage as Doubles, unrounded.
        var seen = 0.0
        let peek = SamplerStage.custom("peek") { row, _ in
            XCTAssertTrue(row.isF64)
            seen = row[1]
        }
        _ = try SamplerChain([peek]).apply([0.5, 0.1, 0.2] as [Double])
        XCTAssertEqual(seen, 0.1)
    }

    func testExplain() throws {
        let chain = try SamplerChain([.topK(3), .temperature(0.5)])
        let r = try chain.explain(ties, top: 2)
        XCTAssertEqual(r.map(\.name), ["input", "top_k", "temperature"])
        XCTAssertEqual(r.map(\.count), [12, 3, 3])
        XCTAssertEqual(r[0].mass, 1, accuracy: 1e-12)
        let z = ties.reduce(0.0) { $0 + exp(Double($1)) }
        let kept = (exp(3.0) + 2 * exp(2.0)) / z
        XCTAssertEqual(r[1].mass, kept, accuracy: 1e-9)
        XCTAssertEqual(r[2].mass, kept, accuracy: 1e-9)
        // After temperature 0.5 the survivors are e^6 : e^4 : e^4.
        let q = [exp(6.0), exp(4.0), exp(4.0)].map { $0 / (exp(6.0) + 2 * exp(4.0)) }
        XCTAssertEqual(r[2].entropy, -q.reduce(0) { $0 + $1 * log($1) }, accuracy: 1e-9)
        XCTAssertEqual(r[2].top.map(\.id), [4, 0])
        XCTAssertEqual(r[2].top[0].prob, q[0], accuracy: 1e-9)
    }

    func testReplayLogits() throws {
        let t = 6, v = ties.count
        var m: [Float] = []
        for _ in 0..<t { m += ties }
        let chain = try SamplerChain([.penalties(repetition: 1, frequency: 0, presence: 100, lastN: -1), .greedy()])
        let steps = try m.withUnsafeBufferPointer {
            try chain.replayLogits($0, steps: t, vocab: v, rng: RandomGenerator(seed: 0))
        }
        // Greedy with a huge presence penalty walks down the ranking, never repeating.
        XCTAssertEqual(steps.map(\.token), [4, 0, 8, 1, 2, 5])
        XCTAssertEqual(steps.map(\.surviving), [Int](repeating: 1, count: t))
        XCTAssertEqual(steps.map(\.prob), [Double](repeating: 1, count: t))
        let sampled = try SamplerChain([.topK(3)])
        let s = try m.withUnsafeBufferPointer { try sampled.replayLogits($0, steps: t, vocab: v, rng: RandomGenerator(seed: 1)) }
        for st in s {
            XCTAssert([0, 4, 8].contains(st.token))
            XCTAssertEqual(st.surviving, 3)
            XCTAssertGreaterThan(st.entropy, 0)
        }
        XCTAssertThrowsError(try m.withUnsafeBufferPointer { try chain.replayLogits($0, steps: 5, vocab: v, rng: RandomGenerator(seed: 0)) })
    }

    func testMirostatUpdatesMu() throws {
        let stage = try SamplerStage.mirostatV2(tau: 3, eta: 0.1)
        XCTAssertEqual(stage.mu, 6)
        let chain = try SamplerChain([stage])
        let g = RandomGenerator(seed: 0)
        let id = try chain.sample(ties, rng: g)
        let p = try SamplerChain([try .topK(12)]).probs(ties)
        XCTAssert(p[id] > 0)
        XCTAssertNotEqual(stage.mu, 6)
        chain.reset()
        XCTAssertEqual(stage.mu, 6)
        XCTAssertThrowsError(try SamplerChain([stage, .greedy()])) { e in
            XCTAssertEqual(e as? AlignMathError, .invalidArgument("mirostat samples the token itself and must be the last stage (it is stage 1 of 2)"))
        }
    }

    func testXtcNeedsGeneratorOutsideSample() throws {
        let chain = try SamplerChain([.xtc(probability: 1, threshold: 0.1)])
        XCTAssertThrowsError(try chain.apply(ties))
        XCTAssertNoThrow(try chain.sample(ties, rng: RandomGenerator(seed: 0)))
        // probability 0 never fires.
        let off = try SamplerChain([.xtc(probability: 0, threshold: 0.1)])
        XCTAssertEqual(try off.apply(ties, context: SamplingContext(rng: RandomGenerator(seed: 0))), ties)
    }

    func testAllMasked() throws {
        let chain = try SamplerChain([.topK(2)])
        let row: [Float] = [-.infinity, -.infinity]
        XCTAssertEqual(try chain.apply(row), row)
        XCTAssertThrowsError(try chain.sample(row, rng: RandomGenerator(seed: 0))) { e in
            XCTAssertEqual(e as? AlignMathError, .allMasked(row: 0))
        }
        XCTAssertThrowsError(try chain.probs([Float]()))
    }

    func testBadArguments() {
        func message(_ f: () throws -> SamplerStage) -> String? {
            do { _ = try f(); return nil } catch let AlignMathError.invalidArgument(m) { return m } catch { return "\(error)" }
        }
        XCTAssertEqual(message { try .topP(1.5) }, "p must be in (0, 1], got 1.5")
        XCTAssertEqual(message { try .topP(0) }, "p must be in (0, 1], got 0.0")
        XCTAssertEqual(message { try .topK(-1) }, "k must be an integer >= 0 (0 disables top_k), got -1")
        XCTAssertEqual(message { try .topK(5, minKeep: 0) }, "min_keep must be an integer >= 1, got 0")
        XCTAssertEqual(message { try .minP(-0.1) }, "p must be in [0, 1], got -0.1")
        XCTAssertEqual(message { try .typical(0) }, "p must be in (0, 1], got 0.0")
        XCTAssertEqual(message { try .epsilon(1) }, "epsilon must be in (0, 1), got 1.0")
        XCTAssertEqual(message { try .eta(0) }, "epsilon must be in (0, 1), got 0.0")
        XCTAssertEqual(message { try .temperature(-1) }, "temperature must be a finite number >= 0, got -1.0")
        XCTAssertEqual(message { try .topNSigma(-2) }, "n must be a finite number >= 0, got -2.0")
        XCTAssertEqual(message { try .penalties(repetition: 0) }, "repetition must be a finite number > 0, got 0.0")
        XCTAssertEqual(message { try .penalties(lastN: -2) }, "last_n must be -1 (whole history), 0 (off) or a positive count, got -2")
        XCTAssertEqual(message { try .xtc(probability: 2, threshold: 0.1) }, "probability must be in [0, 1], got 2.0")
        XCTAssertEqual(message { try .logitBias([-1: 1]) }, "logit_bias ids must be token ids >= 0, got -1")
        XCTAssertNotNil(message { try .mirostatV2(tau: -1, eta: 0.1) })
        XCTAssertThrowsError(try SamplerChain([.logitBias([12: 1])]).apply(ties)) { e in
            XCTAssertEqual(e as? AlignMathError, .invalidArgument("logit_bias id 12 is outside the vocabulary (0..<12)"))
        }
    }

    func testTopKZeroDisables() throws {
        XCTAssertEqual(try SamplerChain([.topK(0)]).apply(ties), ties)
    }

    func testBestOfNAndSelfConsistency() {
        XCTAssertEqual(Selection.bestOfN([0.1, .nan, 0.7, 0.7])?.index, 2)
        XCTAssertNil(Selection.bestOfN([]))
        XCTAssertNil(Selection.bestOfN([.nan]))
        XCTAssertEqual(Selection.ranking([0.1, .nan, 0.7, 0.7]), [2, 3, 0, 1])
        let r = Selection.selfConsistency(["b", "a", "a", "b", "c"])
        XCTAssertEqual(r?.answer, "b")  // tie 2-2: first occurrence wins
        XCTAssertEqual(r?.agreement ?? 0, 0.4, accuracy: 1e-12)
        XCTAssertEqual(r?.counts.map(\.answer), ["b", "a", "c"])
        XCTAssertEqual(r?.counts.map(\.count), [2, 2, 1])
        XCTAssertNil(Selection.selfConsistency([]))
    }
}
