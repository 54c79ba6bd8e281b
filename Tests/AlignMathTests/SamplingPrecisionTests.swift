import XCTest
@testable import AlignMath

/// f64 is f64: chains on Double rows against HF transformers 5.25's own warpers run on
/// torch.float64 (`Fixtures/sampling_f64.json`, from `generate_sampling_f64.py`), kept ids
/// exactly and probabilities to the 12th digit; and the paths around the chain (explain,
/// replay, sampled probabilities, custom stages) carry Doubles through.
final class SamplingPrecisionTests: XCTestCase {
    static func stage(_ d: [String: Any]) throws -> SamplerStage {
        func num(_ k: String) -> Double { (d[k] as? NSNumber)?.doubleValue ?? .nan }
        let mk = d["min_keep"] as? Int ?? 1
        switch d["kind"] as? String ?? "" {
        case "temperature": return try .temperature(num("t"))
        case "penalties": return try .penalties(repetition: num("repetition"))
        case "top_k": return try .topK(d["k"] as? Int ?? 0, minKeep: mk)
        case "top_p": return try .topP(num("p"), minKeep: mk)
        case "min_p": return try .minP(num("p"), minKeep: mk)
        case "typical": return try .typical(num("p"), minKeep: mk)
        case "epsilon": return try .epsilon(num("e"), minKeep: mk)
        case "eta": return try .eta(num("e"), minKeep: mk)
        case let k: throw AlignMathError.invalidArgument("unknown fixture stage \(k)")
        }
    }

    func testChainsOnF64RowsAgainstTransformers() throws {
        let root = try XCTUnwrap(try Fixture.load("sampling_f64.json") as? [String: Any])
        let cases = try XCTUnwrap(root["cases"] as? [[String: Any]])
        XCTAssertGreaterThan(cases.count, 50)
        for c in cases {
            let name = c["name"] as? String ?? "?"
            let row = (c["logits"] as? [NSNumber] ?? []).map(\.doubleValue)
            let chain = try SamplerChain(try (c["stages"] as? [[String: Any]] ?? []).map(Self.stage))
            let ctx = SamplingContext(history: c["history"] as? [Int] ?? [])
            let out = try chain.apply(row, context: ctx)
            let kept = out.indices.filter { out[$0] > -.infinity }
            XCTAssertEqual(kept, c["ids"] as? [Int] ?? [], "\(name): kept ids")
            guard kept == c["ids"] as? [Int] ?? [] else { continue }
            let p = try chain.probs(row, context: ctx)
            for (id, q) in zip(kept, (c["probs"] as? [NSNumber] ?? []).map(\.doubleValue)) {
                XCTAssertEqual(p[id], q, accuracy: 1e-12 * max(q, 1e-3), "\(name): p[\(id)]")
            }
        }
    }

    /// The two examples, and values an f32 round trip would change.
    func testNoRoundingThroughTheChain() throws {
        let p = try SamplerChain([.topK(3)]).probs([2, 1, 0.1, -1] as [Double])
        XCTAssertEqual(p[0], 0.65900113888596791, accuracy: 1e-15)  // numpy: 1 / (1 + e^-1 + e^-1.9)
        XCTAssertEqual(try SamplerChain([.temperature(1)]).apply([0.1] as [Double]), [0.1])
        XCTAssertEqual(try SamplerChain([.temperature(0.7)]).apply([0.3] as [Double]), [0.3 / 0.7])
        // Logits 1e-9 apart are distinct in f64 (tied in f32): top_k(1) keeps one.
        let near = [1.0, 1.0 + 1e-9, 0.5]
        XCTAssertEqual(try SamplerChain([.topK(1)]).apply(near).filter { $0 > -.infinity }, [1.0 + 1e-9])
        let pen = try SamplerChain([.penalties(repetition: 1.3, frequency: 0.1, presence: 0.05), .logitBias([2: 1e-10])])
        XCTAssertEqual(try pen.apply([0.1, -0.2, 0.3] as [Double], context: SamplingContext(history: [0, 1, 1])),
                       [0.1 / 1.3 - (1 * 0.1 + 0.05), -0.2 * 1.3 - (2 * 0.1 + 0.05), 0.3 + 1e-10])
    }

    /// transformers' top-p on float32 scores computes as torch does in float32: float
    /// probabilities, the cumulative sum accumulated in double and stored as float, compared
    /// with `Float(1 - p)`. On n equal logits the float partial sum lands exactly on 1 - p
    /// where the double one lands an ulp above it, so the dtypes keep different counts.
    /// Counts from transformers 5.25.0 `TopPLogitsWarper` on torch 2.15 (CPU), zeros of
    /// each dtype; before, float32 rows kept the float64 counts.
    func testTopPOnTiedRowsKeepsWhatTransformersKeepsInEachDtype() throws {
        for (n, p, f32, f64) in [(100, 0.5, 50, 51), (1000, 0.9, 900, 901), (3000, 0.9, 2700, 2701), (40, 0.25, 10, 11)] {
            let chain = try SamplerChain([.topP(p)])
            let kept32 = try chain.apply([Float](repeating: 0, count: n)).filter { $0 > -.infinity }.count
            let kept64 = try chain.apply([Double](repeating: 0, count: n)).filter { $0 > -.infinity }.count
            XCTAssertEqual(kept32, f32, "\(n) float32 zeros, top-p \(p)")
            XCTAssertEqual(kept64, f64, "\(n) float64 zeros, top-p \(p)")
        }
    }

    /// top-p 1 on a float32 row removes exactly the tokens whose float32 probability is 0, and
    /// which those are is decided in the subnormal range by torch's float arithmetic. A row of
    /// 10 logits near 0 and 3,000 spread over [-105, -80]: transformers 5.25.0
    /// `TopPLogitsWarper(1.0)` on torch 2.15 (CPU) keeps 2,622 (torch.softmax has 2,622
    /// non-zero probabilities; the double ones rounded to float, 2,636). Found by
    /// sampling_diff.py (seed 303).
    func testTopPOneOnAFloat32RowKeepsTorchsNonZeroProbabilities() throws {
        var row = [Float]()
        for i in 0..<3010 {
            let spread: Double = -105 + 25 * Double((i * 7919) % 3000) / 3000
            let near: Double = -Double(i % 10) * 0.05
            row.append(Float(i < 10 ? near : spread))
        }
        let kept = try SamplerChain([.topP(1.0)]).apply(row).filter { $0 > -.infinity }.count
        XCTAssertEqual(kept, 2622)
    }

    /// Probabilities of a long f64 row to the last digit or so: the softmax's sum is
    /// compensated. A plain 4-lane sum of these 50,000 terms made every probability ~200 ulps
    /// off (torch.softmax is ~15 off). Reference: Python's math.fsum of math.exp(x - max).
    func testProbabilitiesOfALongRowAreWithinAnUlpOrTwo() throws {
        let row = (0..<50_000).map { Double(($0 * 7919) % 1000) / 128 }
        let p = try SamplerChain([.topP(1.0)]).probs(row)
        for (i, want) in [(0, 6.349912255610867e-08), (1, 8.334247380232454e-05), (12345, 9.758400412146414e-08),
                          (49999, 1.1956242115915862e-07)] {
            XCTAssertEqual(p[i], want, accuracy: 4 * want.ulp, "p[\(i)]")
        }
    }

    func testExplainReplayAndDrawsCarryDoubles() throws {
        let row = [2, 1, 0.1, -1] as [Double]
        let expected = 0.65900113888596791
        let chain = try SamplerChain([.topK(3)])
        let r = try chain.explain(row, top: 1)
        XCTAssertEqual(r[1].top[0].prob, expected, accuracy: 1e-15)
        let steps = try (row + row).withUnsafeBufferPointer {
            try SamplerChain([.topK(1)]).replayLogits($0, steps: 2, vocab: 4, rng: RandomGenerator(seed: 0))
        }
        XCTAssertEqual(steps.map(\.token), [0, 0])
        let g = RandomGenerator(seed: 3)
        for _ in 0..<20 {
            let s = try chain.sampleDetailed(row, rng: g)
            let want = [expected, expected * exp(-1.0), expected * exp(-1.9)][s.id]
            XCTAssertEqual(s.prob, want, accuracy: 1e-14)
        }
        // A custom stage sees and writes Doubles.
        let stage = SamplerStage.custom("add") { dense, _ in dense[2] += 1e-12 }
        XCTAssertEqual(try SamplerChain([stage]).apply(row)[2], 0.1 + 1e-12)
    }

    /// Penalties in transformers semantics see the whole context, as HF's processor does;
    /// llama.cpp's keep their 64-token window; an explicit last_n is honoured by both.
    func testPenaltiesWindowBySemantics() throws {
        let row = [Double](repeating: 1, count: 8)
        let history = [3] + [Int](repeating: 5, count: 100)
        let ctx = SamplingContext(history: history)
        let hf = try SamplerChain([.penalties(repetition: 2)]).apply(row, context: ctx)
        XCTAssertEqual(hf[3], 0.5)
        XCTAssertEqual(hf[5], 0.5)
        let ll = try SamplerChain([.penalties(repetition: 2, semantics: .llamaCpp)]).apply(row, context: ctx)
        XCTAssertEqual(ll[3], 1)
        XCTAssertEqual(ll[5], 0.5)
        let windowed = try SamplerChain([.penalties(repetition: 2, lastN: 64)]).apply(row, context: ctx)
        XCTAssertEqual(windowed[3], 1)
    }
}
