import XCTest
@testable import AlignMath

/// `EngineComparison` against the engines: transformers 5.25's own warper classes and vLLM's
/// torch lines (engine_compare_hf_vllm.json), llama.cpp's samplers through llama-cpp-python
/// 0.3.36 (engine_compare_llamacpp.json); generate_engine_compare.py writes both.
final class EngineComparisonTests: XCTestCase {
    /// The stages of a fixture configuration, in the order a user might list them.
    func stages(_ cfg: [String: Any]) throws -> [SamplerStage] {
        var s: [SamplerStage] = []
        func num(_ k: String) -> Double? { (cfg[k] as? NSNumber)?.doubleValue }
        if let b = cfg["logit_bias"] as? [String: NSNumber] {
            var bias: [Int: Double] = [:]
            for (k, v) in b { bias[Int(k) ?? 0] = v.doubleValue }
            s.append(try .logitBias(bias))
        }
        if num("repetition") != nil || num("frequency") != nil || num("presence") != nil {
            s.append(try .penalties(repetition: num("repetition") ?? 1, frequency: num("frequency") ?? 0, presence: num("presence") ?? 0))
        }
        if let t = num("temperature") { s.append(try .temperature(t)) }
        if let k = num("top_k") { s.append(try .topK(Int(k))) }
        if let p = num("top_p") { s.append(try .topP(p)) }
        if let p = num("min_p") { s.append(try .minP(p)) }
        if let p = num("typical") { s.append(try .typical(p)) }
        return s
    }

    func testAgainstTheEngines() throws {
        let hf = try XCTUnwrap(try Fixture.load("engine_compare_hf_vllm.json") as? [String: Any])
        let ll = try XCTUnwrap(try Fixture.load("engine_compare_llamacpp.json") as? [String: Any])
        let rows = try XCTUnwrap(hf["rows"] as? [String: [NSNumber]])
        let meta = try XCTUnwrap(hf["meta"] as? [String: Any])
        let prompt = (meta["prompt"] as? [NSNumber] ?? []).map(\.intValue)
        let history = (meta["history"] as? [NSNumber] ?? []).map(\.intValue)
        let hfCases = try XCTUnwrap(hf["cases"] as? [[String: Any]]), llCases = try XCTUnwrap(ll["cases"] as? [[String: Any]])
        XCTAssertEqual(hfCases.count, 11)
        for (a, b) in zip(hfCases, llCases) {
            let name = a["name"] as? String ?? "?"
            let row = (rows[a["row"] as? String ?? ""] ?? []).map(\.doubleValue)
            let cfg = try XCTUnwrap(a["config"] as? [String: Any])
            let out = try row.withUnsafeBufferPointer {
                try EngineComparison.run($0, stages: try stages(cfg), engines: SamplingEngine.allCases, history: history, prompt: prompt)
            }
            let wants: [(SamplingEngine, [Double], Double)] = [
                (.transformers, (a["transformers"] as? [NSNumber] ?? []).map(\.doubleValue), 1e-12),
                (.llamaCpp, (b["llama.cpp"] as? [NSNumber] ?? []).map(\.doubleValue), 2e-6),
                (.vllm, (a["vllm"] as? [NSNumber] ?? []).map(\.doubleValue), 2e-6),
            ]
            for (engine, want, tol) in wants {
                let got = try XCTUnwrap(out.first { $0.engine == engine }).probs
                XCTAssertEqual(got.count, want.count, "\(name) \(engine)")
                let keptGot = got.indices.filter { got[$0] > 0 }, keptWant = want.indices.filter { want[$0] > 0 }
                XCTAssertEqual(keptGot, keptWant, "\(name) \(engine): kept tokens")
                for i in want.indices { XCTAssertEqual(got[i], want[i], accuracy: tol * max(want[i], 1e-3), "\(name) \(engine) p[\(i)]") }
            }
        }
    }

    /// The row on which transformers' and llama.cpp's top-p part: the same p = 0.9, one token
    /// apart, by where each rounds the cumulative sum.
    func testTopPBoundaryRow() throws {
        let row = [-0.6931471824645996, -0.9163002967834473, -2.302589178085327]
        let out = try row.withUnsafeBufferPointer { try EngineComparison.run($0, stages: [try .topP(0.9)], engines: SamplingEngine.allCases) }
        XCTAssertEqual(out.map { $0.probs.filter { $0 > 0 }.count }, [3, 2, 2])
        XCTAssertGreaterThan(EngineComparison.totalVariation(out[0].probs, out[1].probs), 0.09)
    }

    func testOrdersAndWhatEachEngineLacks() throws {
        let row: [Double] = (0..<40).map { sin(Double($0) * 1.7) * 3 }
        let st = [try SamplerStage.temperature(0.7), try .topP(0.8), try .typical(0.9), try .topNSigma(2), try .epsilon(0.01),
                  try .penalties(repetition: 1.1, frequency: 0.2)]
        let out = try row.withUnsafeBufferPointer {
            try EngineComparison.run($0, stages: st, engines: SamplingEngine.allCases, history: [1, 2])
        }
        XCTAssertEqual(out[0].order, ["penalties", "temperature", "top_p", "typical", "epsilon"])
        XCTAssertEqual(out[0].ignored, ["penalties.frequency/presence", "top_n_sigma"])
        XCTAssertEqual(out[1].order, ["penalties", "top_n_sigma", "typical", "top_p", "temperature"])
        XCTAssertEqual(out[1].ignored, ["epsilon"])
        XCTAssertEqual(out[2].order, ["penalties", "temperature", "top_p"])
        XCTAssertEqual(out[2].ignored, ["typical", "top_n_sigma", "epsilon"])
        let given = try row.withUnsafeBufferPointer {
            try EngineComparison.run($0, stages: [try .topP(0.8), try .temperature(0.7)], engines: [.llamaCpp, .transformers], order: .given)
        }
        XCTAssertEqual(given[0].order, ["top_p", "temperature"])
        XCTAssertEqual(given[1].order, ["top_p", "temperature"])
        // Given in llama.cpp's order, transformers keeps what llama.cpp keeps up to rounding.
        XCTAssertEqual(given[0].probs.filter { $0 > 0 }.count, given[1].probs.filter { $0 > 0 }.count)
        for d in out { XCTAssertEqual(d.probs.reduce(0, +), 1, accuracy: 1e-9) }
    }

    /// transformers 5.25's greedy (generate with do_sample = False) is the argmax of the
    /// processed scores and runs no warper: on three tied logits it picks id 0. Found by
    /// lab_diff.py: greedy ran last, after a top-p that keeps the LAST of tied maxima (id 2).
    func testTransformersGreedyRunsNoWarper() throws {
        let row = [-0.0828543, -0.0828543, -0.0828543]
        let out = try row.withUnsafeBufferPointer {
            try EngineComparison.run($0, stages: [.greedy(), try .temperature(0.3), try .topP(0.1)], engines: [.transformers, .vllm])
        }
        XCTAssertEqual(out[0].probs, [1, 0, 0])
        XCTAssertEqual(out[1].probs, [1, 0, 0])  // vLLM's greedy_sample: torch.argmax, the first maximum
        XCTAssertEqual(out[0].order.first, "greedy")
    }

    /// vLLM draws from float32 probabilities (Sampler.get_probs / random_sample at vLLM
    /// 3babc05a): a token 114 nats below the top underflows to 0 there and is never drawn, so
    /// it is not kept, where transformers on a float64 row keeps it. Found by lab_diff.py
    /// (torch float32 softmax of the processed row): moonlab's double softmax kept it.
    func testVLLMKeepsOnlyWhatFloat32CanDraw() throws {
        let row = [0.0, -0.5, -80]
        let out = try row.withUnsafeBufferPointer {
            try EngineComparison.run($0, stages: [try .temperature(0.7)], engines: [.transformers, .vllm])
        }
        XCTAssertGreaterThan(out[0].probs[2], 0)
        XCTAssertEqual(out[1].probs[2], 0)
        XCTAssertEqual(out[1].probs[0] + out[1].probs[1], 1, accuracy: 1e-15)
    }

    /// vLLM's float32 softmax is torch's, whose vectorised float sum is within an ulp of the
    /// exact one at 32,000 tokens (torch 2.15: 7776.0547 for this row, exact 7776.0542); a
    /// plain float loop gave 7775.976 (1e-5 off), which moved vLLM top-p cuts by a token
    /// (lab_diff.py, seed 7). The probabilities must sum to 1 within float32 rounding.
    func testVLLMFloat32SoftmaxSumsAsTorch() {
        let x: [Float] = (0..<32000).map { Float(sin(Double($0) * 1.7) * 3) }
        let p = VLLMSampler.softmax32(x)
        XCTAssertEqual(p.reduce(0.0) { $0 + Double($1) }, 1, accuracy: 1e-6)
    }

    /// vLLM's SamplingParams raises a temperature in (0, 0.01) to 0.01 before its greedy test
    /// (`_MAX_TEMP`, vllm/sampling_params.py __post_init__), so 5e-6 samples at 0.01 and only 0
    /// is greedy. moonlab took 5e-6 as greedy and 0.005 as itself (found reading vLLM's source
    /// for lab_diff.py).
    func testVLLMTemperatureFloor() throws {
        let row = [0.0, -0.02, -0.05]
        func vllm(_ t: Double) throws -> [Double] {
            try row.withUnsafeBufferPointer { try EngineComparison.run($0, stages: [try .temperature(t)], engines: [.vllm]) }[0].probs
        }
        let at001 = try vllm(0.01)
        XCTAssertEqual(try vllm(5e-6), at001)
        XCTAssertEqual(try vllm(0.005), at001)
        XCTAssertGreaterThan(at001[1], 0.1)
        XCTAssertEqual(try vllm(0), [1, 0, 0])
    }

    /// A penalty window (llama.cpp's penalty_last_n) is a setting transformers (the whole of
    /// input_ids) and vLLM (the whole prompt and output) lack: listed in their `ignored`,
    /// as the contract says of every such setting (lab_diff.py).
    func testPenaltyWindowIsIgnoredWhereItIsLacking() throws {
        let row: [Double] = [1, 2, 3, 4]
        let out = try row.withUnsafeBufferPointer {
            try EngineComparison.run($0, stages: [try .penalties(repetition: 1.3, lastN: 2)], engines: SamplingEngine.allCases, history: [0, 1, 2, 3])
        }
        XCTAssertEqual(out[0].ignored, ["penalties.last_n"])
        XCTAssertEqual(out[1].ignored, [])
        XCTAssertEqual(out[2].ignored, ["penalties.last_n"])
        let plain = try row.withUnsafeBufferPointer {
            try EngineComparison.run($0, stages: [try .penalties(repetition: 1.3)], engines: SamplingEngine.allCases, history: [0])
        }
        XCTAssertEqual(plain.map(\.ignored), [[], [], []])
    }

    func testRefusals() throws {
        let row = [1.0, 2.0, 3.0]
        XCTAssertThrowsError(try row.withUnsafeBufferPointer {
            try EngineComparison.run($0, stages: [try .xtc(probability: 0.5, threshold: 0.1)], engines: [.vllm])
        })
        XCTAssertThrowsError(try row.withUnsafeBufferPointer {
            try EngineComparison.run($0, stages: [try .topP(0.5), try .topP(0.9)], engines: [.vllm])
        })
        XCTAssertNoThrow(try row.withUnsafeBufferPointer {
            try EngineComparison.run($0, stages: [try .topP(0.5), try .topP(0.9)], engines: [.vllm], order: .given)
        })
    }
}
