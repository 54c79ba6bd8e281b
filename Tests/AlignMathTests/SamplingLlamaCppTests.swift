import XCTest
@testable import AlignMath

/// The `llama.cpp` semantics and generator against llama.cpp itself:
/// `Fixtures/llamacpp_reference.json`, written by `Fixtures/generate_llamacpp.py` through
/// llama-cpp-python 0.3.36's low-level API (llama.cpp 0c1e570). Per case: the entries
/// llama.cpp kept, in its array order (count, hash, first 32), their probabilities and the
/// token its dist sampler drew with the same seed; per sequence, the tokens drawn over
/// hundreds of steps.
final class SamplingLlamaCppTests: XCTestCase {
    /// The generator's rows (SplitMix64, every value exact in float32).
    static func makeRow(_ spec: [String: Any]) -> [Float] {
        func int(_ k: String, _ d: Int) -> Int { (spec[k] as? Int) ?? d }
        let n = int("n", 0), bits = int("bits", 10), terms = int("terms", 4), scale = int("scale", 1)
        let ninf = UInt64(int("ninf", 0)), spikes = int("spikes", 0), offset = int("offset", 0)
        var sm = SplitMix64(seed: UInt64(int("seed", 0)))
        let unit = Foundation.pow(2.0, Double(scale - bits))
        var out: [Float] = []
        out.reserveCapacity(n)
        for _ in 0..<n {
            var acc = 0
            for _ in 0..<terms { acc += Int(sm.next() >> UInt64(64 - bits)) }
            let k = acc - terms * (1 << (bits - 1)) + offset
            out.append(sm.next() >> 54 < ninf ? -.infinity : Float(Double(k) * unit))
        }
        for j in 0..<spikes {
            let i = Int(sm.next() % UInt64(n))
            if out[i] != -.infinity { out[i] = Float(8.0 - 0.5 * Double(j)) }
        }
        return out
    }

    static func stage(_ d: [String: Any]) throws -> SamplerStage {
        func num(_ k: String) -> Double { (d[k] as? NSNumber)?.doubleValue ?? .nan }
        let mk = max(1, d["min_keep"] as? Int ?? 1)
        let ll = SamplingSemantics.llamaCpp
        switch d["kind"] as? String ?? "" {
        case "top_k": return try .topK(d["k"] as? Int ?? 0, semantics: ll)
        case "top_p": return try .topP(num("p"), minKeep: mk, semantics: ll)
        case "min_p": return try .minP(num("p"), minKeep: mk, semantics: ll)
        case "typical": return try .typical(num("p"), minKeep: mk, semantics: ll)
        case "temperature":
            if d["delta"] != nil { return try .dynamicTemperature(num("t"), delta: num("delta"), exponent: num("exponent"), semantics: ll) }
            return try .temperature(num("t"), semantics: ll)
        case "greedy": return .greedy(semantics: ll)
        case "top_n_sigma": return try .topNSigma(num("n"), semantics: ll)
        case "xtc": return try .xtc(probability: num("probability"), threshold: num("threshold"), minKeep: mk, semantics: ll)
        case "penalties":
            return try .penalties(repetition: num("repetition"), frequency: num("frequency"), presence: num("presence"),
                                  lastN: d["last_n"] as? Int, semantics: ll)
        case "logit_bias":
            var bias: [Int: Double] = [:]
            for (k, v) in d["bias"] as? [String: Any] ?? [:] {
                bias[Int(k) ?? -1] = (v as? NSNumber)?.doubleValue ?? ((v as? String) == "-inf" ? -.infinity : .nan)
            }
            return try .logitBias(bias, semantics: ll)
        case "mirostat":
            if d["version"] as? Int == 1 {
                return try .mirostatV1(tau: num("tau"), eta: num("eta"), m: d["m"] as? Int ?? 100, semantics: ll)
            }
            return try .mirostatV2(tau: num("tau"), eta: num("eta"), semantics: ll)
        case let k: throw AlignMathError.invalidArgument("unknown fixture stage \(k)")
        }
    }

    static func fnv1a(_ ids: [Int32]) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for id in ids {
            for b in 0..<4 { h = (h ^ UInt64((UInt32(bitPattern: id) >> (8 * UInt32(b))) & 0xFF)) &* 0x100_0000_01B3 }
        }
        return h
    }

    func fixture() throws -> [String: Any] {
        try XCTUnwrap(try Fixture.load("llamacpp_reference.json") as? [String: Any])
    }

    /// Every stage alone and in chains: kept entries (order included), probabilities to
    /// float32 precision, and dist's draw.
    func testStagesAgainstLlamaCpp() throws {
        let cases = try XCTUnwrap(try fixture()["cases"] as? [[String: Any]])
        XCTAssertGreaterThan(cases.count, 300)
        var failures = 0
        for c in cases {
            let name = c["name"] as? String ?? "?"
            let row = Self.makeRow(c["row"] as? [String: Any] ?? [:])
            let stages = try (c["stages"] as? [[String: Any]] ?? []).map(Self.stage)
            let chain = try SamplerChain(stages)
            let g = try RandomGenerator(seed: c["seed"] as? Int ?? 0, engine: .llamaCpp)
            let ctx = SamplingContext(history: c["history"] as? [Int] ?? [])
            let token = try chain.sampleDetailed(row, rng: g, context: ctx)
            // llama.cpp's greedy selects without shrinking the array (moonlab's keeps the one
            // token): only the choice is compared.
            if (c["stages"] as? [[String: Any]])?.last?["kind"] as? String == "greedy" {
                XCTAssertEqual(token.id, c["selected"] as? Int, "\(name): greedy's choice")
                continue
            }
            let ws = chain.workspace(Float.self)
            let ids = ws.ids
            ws.softmax()
            let head = (c["head"] as? [Int] ?? []).map(Int32.init)
            let ok = ids.count == c["count"] as? Int
                && String(Self.fnv1a(ids)) == c["hash"] as? String
                && Array(ids.prefix(head.count)) == head
                && token.id == c["selected"] as? Int
            XCTAssert(ok, "\(name): kept \(ids.count) vs \(c["count"] ?? "?"), head \(Array(ids.prefix(8))) vs \(Array(head.prefix(8))), drew \(token.id) vs \(c["selected"] ?? "?")")
            if !ok { failures += 1; continue }
            // llama.cpp's own probabilities are not finite on rows whose logits its bucket
            // sort misorders (beyond +-3.4e8); the kept set and the draw still agree.
            guard let expectedCheck = (c["p_check"] as? NSNumber)?.doubleValue else { continue }
            let headP = (c["head_p"] as? [NSNumber] ?? []).map(\.doubleValue)
            for (j, p) in headP.enumerated() {
                XCTAssertEqual(ws.probs[j], p, accuracy: 4e-7 * max(p, 1e-3), "\(name): p of entry \(j)")
            }
            var check = 0.0
            for (i, id) in ids.enumerated() { check += ws.probs[i] * Double((Int(id) * 2_654_435_761) % 1000) / 1000 }
            XCTAssertEqual(check, expectedCheck, accuracy: 2e-6, "\(name): probabilities")
        }
        XCTAssertEqual(failures, 0)
    }

    /// Many steps of llama.cpp's draws from one seed: the same tokens, in order.
    func testSequencesTokenForToken() throws {
        let seqs = try XCTUnwrap(try fixture()["sequences"] as? [[String: Any]])
        XCTAssertGreaterThanOrEqual(seqs.count, 12)
        for s in seqs {
            let name = s["name"] as? String ?? "?"
            let spec = s["row"] as? [String: Any] ?? [:]
            let expected = s["tokens"] as? [Int] ?? []
            let chain = try SamplerChain(try (s["stages"] as? [[String: Any]] ?? []).map(Self.stage))
            let g = try RandomGenerator(seed: s["seed"] as? Int ?? 0, engine: .llamaCpp)
            var tokens: [Int] = []
            for t in 0..<expected.count {
                var rowSpec = spec
                rowSpec["seed"] = (spec["seed"] as? Int ?? 0) + t
                tokens.append(try chain.sample(Self.makeRow(rowSpec), rng: g, context: SamplingContext(history: tokens)))
            }
            let first = zip(tokens, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset
            XCTAssertEqual(tokens, expected, "\(name): first difference at step \(first ?? -1)")
        }
    }

    /// logit_bias after top_k: llama.cpp (0c1e570, llama-cpp-python 0.3.36) leaves the
    /// array flagged sorted, so `dist` takes the first entry's logit (3.7) as the maximum
    /// although the biased entry is 47 above it, and every `expf(logit - max)` rounds
    /// otherwise than with the true maximum: the probabilities llama.cpp stored, to float
    /// precision (found by Tests/Differential/llamacpp_diff.py; `probs` took the true
    /// maximum and was 2.4e-6 off on id 6).
    func testDistProbabilitiesTakeTheSortedArraysFirstLogit() throws {
        let ll = SamplingSemantics.llamaCpp
        let chain = try SamplerChain([.topK(6, semantics: ll), .logitBias([4: 50], semantics: ll)])
        let row: [Double] = [0.1, 2.5, -1.3, 3.7, 0.9, -4.2, 1.6, 2.2, -0.7, 3.1, 0.35, -2.9]
        let llama: [Int: Double] = [3: 3.1717584256072702e-21, 9: 1.740697797644494e-21, 1: 9.553152515227532e-22,
                                    7: 7.077150121953783e-22, 6: 3.884022426300711e-22, 4: 1.0]
        for p in [try chain.probs(row), try chain.probs(row.map(Float.init)).map(Double.init)] {
            for (i, x) in p.enumerated() {
                XCTAssertEqual(x, llama[i] ?? 0, accuracy: (llama[i] ?? 0) * 0x1p-21, "id \(i)")
            }
        }
        let g = try RandomGenerator(seed: 7, engine: .llamaCpp)
        XCTAssertEqual(try chain.sample(row, rng: g), 4)
    }

    /// llama.cpp's penalties (0c1e570) flag the array unsorted whenever they run with
    /// non-neutral parameters, even with no token to penalise: dist then takes the true
    /// maximum, and a later sorting stage sorts again (tied entries move). moonlab skipped
    /// the stage on an empty history and kept the array flagged sorted (found by
    /// llamacpp_diff.py: other probabilities after logit_bias, other mirostat draws).
    func testPenaltiesWithoutHistoryUnsortTheArray() throws {
        let ll = SamplingSemantics.llamaCpp
        let pen = try SamplerStage.penalties(repetition: 1.3, lastN: 64, semantics: ll)
        let chain = try SamplerChain([.topK(6, semantics: ll), .logitBias([4: 50], semantics: ll), pen])
        let row: [Double] = [0.1, 2.5, -1.3, 3.7, 0.9, -4.2, 1.6, 2.2, -0.7, 3.1, 0.35, -2.9]
        let llama: [Int: Double] = [3: 3.171758627555662e-21, 9: 1.740693960625051e-21, 1: 9.55314645677578e-22,
                                    7: 7.077150121953783e-22, 6: 3.8840133386230827e-22, 4: 1.0]
        for (i, x) in try chain.probs(row).enumerated() {
            XCTAssertEqual(x, llama[i] ?? 0, accuracy: (llama[i] ?? 0) * 0x1p-21, "id \(i)")
        }
        // 35 tied logits: temp_ext sorts them, the penalties unsort, mirostat sorts again
        // (libstdc++'s partial_sort moves ties) and draws llama.cpp's token 25 (16 unsorted).
        let mask = Array("xx-x-x-x--x-x-x-xxx--xx--xxx-xxx-xxx-xxx-x-xx----x-xx--x-x-x-x--")
        let tied = mask.map { $0 == "x" ? 2.419 : -Double.infinity }
        let miro = try SamplerChain([
            .dynamicTemperature(1.368, delta: 0.852, exponent: 0.5, semantics: ll),
            .penalties(repetition: 0.8, frequency: 0.5, lastN: 16, semantics: ll),
            .mirostatV2(tau: 3, eta: 0.3, semantics: ll),
        ])
        XCTAssertEqual(try miro.sample(tied, rng: try RandomGenerator(seed: 920_332_855, engine: .llamaCpp)), 25)
    }

    /// llama.cpp semantics takes the parameters llama.cpp's samplers take (llama.cpp
    /// 0c1e570: negative temperature and top_k, top_p / typical / min_p outside [0, 1],
    /// top_n_sigma -1 (common_params' default), xtc beyond [0, 1], min_keep 0); they were
    /// refused. Kept ids and the draw (seed 3) as llama.cpp gives them on a row with a
    /// three-way tie at the top (ids 2, 3, 7), from llamacpp_diff.py's `domain` category.
    func testLlamaCppParameterRange() throws {
        let ll = SamplingSemantics.llamaCpp
        let row: [Double] = [1.5, -0.25, 3.0, 3.0, 0.75, -2.0, 2.25, 3.0, -0.5, 1.0, 0.5, -1.25]
        let all = Array(0..<12)
        let cases: [(String, SamplerStage, [Int], Int)] = [
            ("top_k -1", try .topK(-1, semantics: ll), all, 2),
            ("top_p 0, min_keep 0", try .topP(0, minKeep: 0, semantics: ll), [3], 3),
            ("top_p 1.5", try .topP(1.5, semantics: ll), all, 2),
            ("top_p -2, min_keep 3", try .topP(-2, minKeep: 3, semantics: ll), [2, 3, 7], 3),
            ("min_p -0.5", try .minP(-0.5, semantics: ll), all, 2),
            ("min_p 1.5, min_keep 2", try .minP(1.5, minKeep: 2, semantics: ll), [3, 7], 3),
            ("typical 0, min_keep 0", try .typical(0, minKeep: 0, semantics: ll), [6], 6),
            ("typical 1.5", try .typical(1.5, semantics: ll), all, 2),
            ("typical 0.5, min_keep 0", try .typical(0.5, minKeep: 0, semantics: ll), [3, 6, 7], 6),
            ("temperature -1", try .temperature(-1, semantics: ll), [2], 2),
            ("temp_ext -0.5 delta 0.3", try .dynamicTemperature(-0.5, delta: 0.3, semantics: ll), [3], 3),
            ("top_n_sigma -1", try .topNSigma(-1, semantics: ll), all, 2),
            ("xtc 1.5 / -0.1, min_keep 0", try .xtc(probability: 1.5, threshold: -0.1, minKeep: 0, semantics: ll), [5], 5),
        ]
        for (name, stage, kept, drawn) in cases {
            let chain = try SamplerChain([stage])
            let ctx = SamplingContext(rng: try RandomGenerator(seed: 3, engine: .llamaCpp))
            let out = try chain.apply(row, context: ctx)
            XCTAssertEqual(out.indices.filter { out[$0].isFinite }, kept, name)
            XCTAssertEqual(try chain.sample(row, rng: try RandomGenerator(seed: 3, engine: .llamaCpp)), drawn, name)
        }
        // transformers semantics keeps HF's ranges
        XCTAssertThrowsError(try SamplerStage.temperature(-1))
        XCTAssertThrowsError(try SamplerStage.topP(0))
        XCTAssertThrowsError(try SamplerStage.topP(0.5, minKeep: 0))
        XCTAssertThrowsError(try SamplerStage.topP(.nan, semantics: ll))
    }

    /// llama.cpp's logit_bias sampler (0c1e570, llama-cpp-python 0.3.36) looks each id up
    /// among the entries and skips an id it does not find: ids past the vocabulary and
    /// negative ones are ignored, where moonlab raised "outside the vocabulary" (found by
    /// Tests/Differential/acceptance_llamacpp.py). Probabilities and draws as llama.cpp gave
    /// them for bias {[-1] = 50, [2] = 4, [12] = 30, [40] = -1e30} then top_k(4).
    func testLogitBiasSkipsIdsOutsideTheVocabulary() throws {
        let ll = SamplingSemantics.llamaCpp
        let chain = try SamplerChain([.logitBias([-1: 50, 2: 4, 12: 30, 40: -1e30], semantics: ll), .topK(4, semantics: ll)])
        let row: [Double] = [0.1, 2.5, -1.3, 3.7, 0.9, -4.2, 1.6, 2.2, -0.7, 3.1, 0.35, -2.9]
        let llama: [Int: Double] = [3: 0.4508799612522125, 9: 0.24744813144207, 2: 0.16586947441101074, 1: 0.13580243289470673]
        for p in [try chain.probs(row), try chain.probs(row.map(Float.init)).map(Double.init)] {
            for (i, x) in p.enumerated() {
                XCTAssertEqual(x, llama[i] ?? 0, accuracy: (llama[i] ?? 0) * 0x1p-21, "id \(i)")
            }
        }
        for (seed, drawn) in [(1, 1), (2, 3), (3, 3), (4, 1), (5, 3), (11, 3)] {
            XCTAssertEqual(try chain.sample(row, rng: try RandomGenerator(seed: seed, engine: .llamaCpp)), drawn, "seed \(seed)")
        }
        // transformers semantics still refuses them
        XCTAssertThrowsError(try SamplerStage.logitBias([-1: 1]))
        XCTAssertThrowsError(try SamplerChain([.logitBias([12: 1])]).apply(row))
    }

    /// llama.cpp's greedy sampler (0c1e570, llama-cpp-python 0.3.36) only sets
    /// `cur_p->selected`: before another stage it removes nothing, and the chain's dist
    /// draws over every entry left. moonlab's llama.cpp greedy kept the one token wherever
    /// it stood (found by Tests/Differential/acceptance_llamacpp.py). Probabilities and
    /// draws (seeds 1-8 and 11) as llama.cpp gave them for top_k(4), greedy, temp(0.7).
    func testGreedyBeforeAnotherStageChangesNothing() throws {
        let ll = SamplingSemantics.llamaCpp
        let chain = try SamplerChain([.topK(4, semantics: ll), .greedy(semantics: ll), .temperature(0.7, semantics: ll)])
        let row: [Double] = [0.1, 2.5, -1.3, 3.7, 0.9, -4.2, 1.6, 2.2, -0.7, 3.1, 0.35, -2.9]
        let llama: [Int: Double] = [3: 0.5807929635047913, 9: 0.24647262692451477, 1: 0.10459630191326141, 7: 0.06813813000917435]
        for p in [try chain.probs(row), try chain.probs(row.map(Float.init)).map(Double.init)] {
            for (i, x) in p.enumerated() {
                XCTAssertEqual(x, llama[i] ?? 0, accuracy: (llama[i] ?? 0) * 0x1p-21, "id \(i)")
            }
        }
        for (seed, drawn) in [(1, 7), (2, 3), (3, 3), (4, 1), (5, 3), (6, 7), (7, 3), (8, 3), (11, 3)] {
            XCTAssertEqual(try chain.sample(row, rng: try RandomGenerator(seed: seed, engine: .llamaCpp)), drawn, "seed \(seed)")
        }
        // as the last stage it still picks the first maximal entry, without a draw
        let last = try SamplerChain([.topK(4, semantics: ll), .greedy(semantics: ll)])
        XCTAssertEqual(try last.sample(row, rng: try RandomGenerator(seed: 1, engine: .llamaCpp)), 3)
        let out = try last.apply(row)
        XCTAssertEqual(out.indices.filter { out[$0].isFinite }, [3])
    }

    /// dist gives a lone entry p = 1 (llama.cpp 0c1e570), even when its logit overflowed to
    /// +inf (3e37 / 0.001 in float); `probs` computed expf(inf - inf) = NaN.
    func testLoneInfiniteEntryHasProbabilityOne() throws {
        let ll = SamplingSemantics.llamaCpp
        let chain = try SamplerChain([.topK(1, semantics: ll), .temperature(0.001, semantics: ll)])
        XCTAssertEqual(try chain.probs([1.0, 3e37, -2.0]), [0, 1, 0])
        XCTAssertEqual(try chain.apply([1.0, 3e37, -2.0]), [-.infinity, .infinity, -.infinity])
        XCTAssertEqual(try chain.sample([1.0, 3e37, -2.0], rng: try RandomGenerator(seed: 9, engine: .llamaCpp)), 1)
    }

    /// The same rows as f64: the llama.cpp stages read them as the floats llama.cpp held,
    /// so kept sets and draws do not change.
    func testF64RowsGiveLlamaCppResults() throws {
        let seqs = try XCTUnwrap(try fixture()["sequences"] as? [[String: Any]])
        for s in seqs where ["default_pen_5k", "ties_top_k", "mirostat2_seq"].contains(s["name"] as? String ?? "") {
            let spec = s["row"] as? [String: Any] ?? [:]
            let expected = s["tokens"] as? [Int] ?? []
            let chain = try SamplerChain(try (s["stages"] as? [[String: Any]] ?? []).map(Self.stage))
            let g = try RandomGenerator(seed: s["seed"] as? Int ?? 0, engine: .llamaCpp)
            var tokens: [Int] = []
            for t in 0..<expected.count {
                var rowSpec = spec
                rowSpec["seed"] = (spec["seed"] as? Int ?? 0) + t
                let row = Self.makeRow(rowSpec).map(Double.init)
                tokens.append(try chain.sample(row, rng: g, context: SamplingContext(history: tokens)))
            }
            XCTAssertEqual(tokens, expected, s["name"] as? String ?? "?")
        }
    }
}
