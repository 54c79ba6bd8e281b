import Foundation

/// An inference engine whose sampling `EngineComparison` reproduces.
public enum SamplingEngine: String, CaseIterable, Sendable {
    /// HF transformers' `generate` (its warpers: `SamplingSemantics.transformers`).
    case transformers
    /// llama.cpp's common sampler chain (`SamplingSemantics.llamaCpp`).
    case llamaCpp = "llama.cpp"
    /// vLLM's v1 sampler (`VLLMSampler`).
    case vllm
}

/// One nominal sampling configuration (what a user sets: temperature 0.8, top-p 0.95, ...)
/// as each engine implements it. The engines differ in three ways, all reproduced:
/// - **order**: transformers runs logit bias, repetition penalty, temperature, top-k, top-p,
///   min-p, typical, epsilon, eta (`GenerationMixin._get_logits_processor`, transformers
///   5.25; greedy, `do_sample = False`, is the argmax after the processors, no warper run); llama.cpp runs logit bias, penalties, top-n-sigma, top-k, typical, top-p, min-p
///   and temperature LAST (`common_params_sampling.samplers`' default order); vLLM runs
///   logit bias, penalties, then temperature, min-p, top-k, top-p (`Sampler.forward`);
/// - **each stage's rule**: see `SamplerStage` (transformers, llama.cpp) and `VLLMSampler`;
/// - **what exists**: transformers has no frequency/presence penalty and no top-n-sigma;
///   llama.cpp no epsilon/eta; vLLM no typical, epsilon, eta or top-n-sigma, no min_keep,
///   and frequency/presence count only the output (repetition: prompt and output).
///   A setting an engine lacks is left out for that engine and listed in its `ignored`.
public enum EngineComparison {
    /// Stage order: each engine's own (what the engine does with the configuration), or the
    /// order the stages were given in (only each stage's rule differs).
    public enum Order: String, Sendable { case engine, given }

    /// What one engine made of the configuration.
    public struct Outcome {
        /// The engine.
        public var engine: SamplingEngine
        /// The final distribution over the vocabulary (0 for removed tokens).
        public var probs: [Double]
        /// The stages as the engine ran them, by name.
        public var order: [String]
        /// Settings this engine does not have (left out), e.g. `typical`.
        public var ignored: [String]
    }

    /// The stage kinds a configuration may hold, by name, and their rank in each engine's order.
    /// transformers' greedy (`do_sample = False`) takes the argmax of the processed scores and
    /// runs no warper, so it goes right after the processors: a warper before it could drop
    /// the first maximal token (top-p keeps the LAST of tied maxima, typical may drop the top).
    static let transformersOrder = ["logit_bias", "penalties", "greedy", "temperature", "top_k", "top_p", "min_p",
                                    "typical", "epsilon", "eta"]
    static let llamaOrder = ["logit_bias", "penalties", "top_n_sigma", "top_k", "typical", "top_p", "min_p",
                             "temperature", "greedy"]
    static let vllmOrder = ["logit_bias", "penalties", "greedy", "temperature", "min_p", "top_k", "top_p"]

    /// The name a stage goes by in the orders above; nil for a stage no comparison takes.
    static func kindName(_ s: SamplerStage) -> String? {
        switch s.kind {
        case .temperature: return "temperature"
        case .topK: return "top_k"
        case .topP: return "top_p"
        case .minP: return "min_p"
        case .typical: return "typical"
        case .epsilon: return "epsilon"
        case .eta: return "eta"
        case .topNSigma: return "top_n_sigma"
        case .penalties: return "penalties"
        case .logitBias: return "logit_bias"
        case .greedy: return "greedy"
        case .xtc, .mirostatV1, .mirostatV2, .dynamicTemperature, .custom: return nil
        }
    }

    /// Checks the stages: only deterministic stages the engines share, each at most once
    /// when run in engine order.
    static func validate(_ stages: [SamplerStage], order: Order) throws {
        var seen: Set<String> = []
        for (i, s) in stages.enumerated() {
            guard let name = kindName(s) else {
                throw AlignMathError.invalidArgument("stage \(i + 1) (\(s.name)) is not a setting the engines share; compare takes temperature, top_k, top_p, min_p, typical, epsilon, eta, top_n_sigma, penalties, logit_bias and greedy (random and custom stages: chain:distribution)")
            }
            if order == .engine && !seen.insert(name).inserted {
                throw AlignMathError.invalidArgument("\(name) is given twice; a configuration sets each once (or pass order = \"given\")")
            }
        }
    }

    /// Runs the configuration `stages` on `logits` for each engine. `history` holds the
    /// generated ids and `prompt` the prompt's: transformers and llama.cpp penalise both (as
    /// `input_ids` and llama.cpp's penalty window hold both), vLLM's repetition penalty
    /// both and its frequency/presence penalties the generated ids only.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func run<T: SamplingScalar>(_ logits: UnsafeBufferPointer<T>, stages: [SamplerStage],
                                              engines: [SamplingEngine], history: [Int] = [], prompt: [Int] = [],
                                              order: Order = .engine) throws -> [Outcome] {
        guard logits.count > 0 else { throw AlignMathError.invalidArgument("logits must not be empty") }
        try SamplerChain.refuseNaN(logits)
        try validate(stages, order: order)
        return try engines.map { engine in
            switch engine {
            case .transformers, .llamaCpp:
                return try chainOutcome(engine, logits, stages, history: prompt + history, order: order)
            case .vllm:
                return try vllmOutcome(logits, stages, prompt: prompt, output: history, order: order)
            }
        }
    }

    /// The stages in the engine's order (stable for names it does not rank), or as given.
    static func arranged(_ stages: [SamplerStage], _ rank: [String], _ order: Order) -> [SamplerStage] {
        guard order == .engine else { return stages }
        return stages.enumerated().sorted { a, b in
            let ra = rank.firstIndex(of: kindName(a.element) ?? "") ?? rank.count
            let rb = rank.firstIndex(of: kindName(b.element) ?? "") ?? rank.count
            return ra < rb || (ra == rb && a.offset < b.offset)
        }.map(\.element)
    }

    /// transformers or llama.cpp: the stages rebuilt in that semantics, run as a chain.
    static func chainOutcome<T: SamplingScalar>(_ engine: SamplingEngine, _ logits: UnsafeBufferPointer<T>,
                                                _ stages: [SamplerStage], history: [Int], order: Order) throws -> Outcome {
        let llama = engine == .llamaCpp
        let sem: SamplingSemantics = llama ? .llamaCpp : .transformers
        var built: [SamplerStage] = [], names: [String] = [], ignored: [String] = []
        for s in arranged(stages, llama ? llamaOrder : transformersOrder, order) {
            let mk = s.minKeep
            let stage: SamplerStage?
            switch s.kind {
            case .temperature(let t): stage = try .temperature(t, semantics: sem)
            case .topK(let k): stage = try .topK(k, minKeep: mk, semantics: sem)
            case .topP(let p): stage = try .topP(p, minKeep: mk, semantics: sem)
            case .minP(let p): stage = try .minP(p, minKeep: mk, semantics: sem)
            case .typical(let p): stage = try .typical(p, minKeep: mk, semantics: sem)
            case .epsilon(let e): stage = llama ? nil : try .epsilon(e, minKeep: mk, semantics: sem)
            case .eta(let e): stage = llama ? nil : try .eta(e, minKeep: mk, semantics: sem)
            case .topNSigma(let n): stage = llama ? try .topNSigma(n, minKeep: mk, semantics: sem) : nil
            case .logitBias(let b): stage = try .logitBias(b, semantics: sem)
            case .greedy: stage = .greedy(semantics: sem)
            case .penalties(let rep, let freq, let pres, let lastN):
                // A window equal to the stage's own default is "not set": each engine's default.
                let defaultWindow = s.semantics == .llamaCpp ? 64 : -1
                if llama {
                    stage = try .penalties(repetition: rep, frequency: freq, presence: pres,
                                           lastN: lastN == defaultWindow ? 64 : lastN, semantics: sem)
                } else {
                    if freq != 0 || pres != 0 { ignored.append("penalties.frequency/presence") }
                    if lastN != defaultWindow { ignored.append("penalties.last_n") }  // the whole of input_ids
                    stage = try .penalties(repetition: rep, frequency: 0, presence: 0, lastN: -1, semantics: sem)
                }
            case .xtc, .mirostatV1, .mirostatV2, .dynamicTemperature, .custom: stage = nil
            }
            if let st = stage { built.append(st); names.append(st.name) } else { ignored.append(s.name) }
        }
        let probs = try SamplerChain(built).probs(logits, context: SamplingContext(history: history)).map { Double($0) }
        return Outcome(engine: engine, probs: probs, order: names, ignored: ignored)
    }

    /// vLLM: `VLLMSampler`'s ops on the float32 row.
    static func vllmOutcome<T: SamplingScalar>(_ logits: UnsafeBufferPointer<T>, _ stages: [SamplerStage],
                                               prompt: [Int], output: [Int], order: Order) throws -> Outcome {
        var x = logits.map { Float(Double($0)) }
        var names: [String] = [], ignored: [String] = []
        let arranged = arranged(stages, vllmOrder, order)
        // Temperature 0 (vLLM: < 1e-5 after SamplingParams' floor, so 0 only) or a greedy
        // stage: argmax after bias and penalties.
        let greedy = arranged.contains { s in
            if case .greedy = s.kind { return true }
            if case .temperature(let t) = s.kind { return VLLMSampler.effectiveTemperature(t) < 1e-5 }
            return false
        }
        var i = 0
        while i < arranged.count {
            let s = arranged[i]
            switch s.kind {
            case .logitBias(let b): try VLLMSampler.logitBias(&x, b); names.append("logit_bias")
            case .penalties(let rep, let freq, let pres, let lastN):
                VLLMSampler.penalties(&x, repetition: rep, frequency: freq, presence: pres, prompt: prompt, output: output)
                names.append("penalties")
                // vLLM penalises the whole prompt and output: a window is a setting it lacks
                if lastN != (s.semantics == .llamaCpp ? 64 : -1) { ignored.append("penalties.last_n") }
            case .greedy: VLLMSampler.greedy(&x); names.append("greedy")
            case .temperature(let t):
                let vt = VLLMSampler.effectiveTemperature(t)
                if vt < 1e-5 {
                    VLLMSampler.greedy(&x); names.append("greedy")
                } else if !greedy {
                    VLLMSampler.temperature(&x, vt); names.append("temperature")
                }
            case .minP(let p): if !greedy { VLLMSampler.minP(&x, p); names.append("min_p") }
            case .topK(let k):
                // In engine order top-k and a following top-p are one call, as in vLLM.
                var p: Double? = nil
                if order == .engine, i + 1 < arranged.count, case .topP(let pp) = arranged[i + 1].kind { p = pp; i += 1 }
                if !greedy { VLLMSampler.topKTopP(&x, k: k, p: p); names.append(p == nil ? "top_k" : "top_k+top_p") }
            case .topP(let p): if !greedy { VLLMSampler.topKTopP(&x, k: nil, p: p); names.append("top_p") }
            case .typical, .epsilon, .eta, .topNSigma: ignored.append(s.name)
            case .xtc, .mirostatV1, .mirostatV2, .dynamicTemperature, .custom: ignored.append(s.name)
            }
            i += 1
        }
        if stages.contains(where: { $0.minKeep > 1 }) { ignored.append("min_keep") }
        let probs = VLLMSampler.softmax(x)
        guard probs.contains(where: { $0 > 0 }) else { throw AlignMathError.allMasked(row: 0) }
        return Outcome(engine: .vllm, probs: probs, order: names, ignored: ignored)
    }

    /// Total variation distance `sum |p - q| / 2`.
    public static func totalVariation(_ p: [Double], _ q: [Double]) -> Double {
        var s = 0.0
        for i in 0..<Swift.min(p.count, q.count) { s += abs(p[i] - q[i]) }
        return s / 2
    }
}
