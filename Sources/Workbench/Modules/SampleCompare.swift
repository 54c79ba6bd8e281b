import LuaKit
import AlignMath

/// `sample.compare`: one nominal configuration as transformers, llama.cpp and vLLM each
/// implement it, on the same row (AlignMath's `EngineComparison`).
extension SampleStages {
    static let compareDoc = """
        sample.compare(logits, stages, {engines = {"transformers", "llama.cpp", "vllm"},
          order = "engine", history = nil, prompt = nil, top = 8}) -> report
        One nominal sampling configuration (the stages: temperature, top_k, top_p, min_p, typical,
        epsilon, eta, top_n_sigma, penalties, logit_bias, greedy; a list of stages or a chain) as
        each engine implements it, on the same row of logits. Each engine runs the settings in
        ITS order with ITS rule for each stage (order = "given": the order given, only the rules
        differ):
          transformers (5.25, GenerationMixin._get_logits_processor + generation/logits_process.py):
            logit_bias, repetition penalty, temperature, top_k, top_p, min_p, typical, epsilon,
            eta; top-p removes the tokens whose ascending cumulative probability is <= 1 - p; no
            frequency/presence penalty, no top_n_sigma; greedy (do_sample = False) is the argmax
            after the penalty, no warper run. Computed in the dtype of the logits (a float32
            row's probabilities are float32: a token whose float32 probability is 0 is not kept).
          llama.cpp (llama-cpp-python 0.3.36, common sampler order): logit_bias, penalties
            (last 64 ids), top_n_sigma, top_k, typical, top_p, min_p, then temperature LAST;
            top-p keeps up to the token where the running sum reaches p; float32 as llama.cpp.
          vllm (v1 sampler at commit 3babc05a: vllm/v1/sample/sampler.py,
            vllm/v1/sample/ops/topk_topp_sampler.py apply_top_k_top_p, logits_processor/builtin.py
            MinPLogitsProcessor, ops/penalties.py): logits made float32; logit_bias, penalties
            (repetition over prompt and output ids, frequency/presence over output ids only),
            greedy when temperature is 0 (SamplingParams raises a temperature in (0, 0.01) to
            0.01 before its < 1e-5 greedy test), temperature, min_p, then top_k and top_p together
            (top-k keeps ties, top-p as transformers' rule, at least one kept); no typical,
            epsilon, eta, top_n_sigma or min_keep. Kept: the tokens whose float32 probability
            is not 0 (what vLLM can draw; their probabilities are given in double). Logit
            biases as SamplingParams takes them (the OpenAI server's from_optional clamps each
            to [-100, 100]: a -math.huge bias there is -100). The
            PyTorch-native path (CPU, seeded requests); its GPU kernels are meant to sample
            the same distribution. Later vLLM
            (commit 01fa3fe7) names it apply_top_k_top_p_pytorch, with the same rule.
        A setting an engine lacks is left out for it and listed in its `ignored`.
        report[engine] = {ids = kept token ids (0-based, i64 tensor, most probable first),
        probs = their probabilities, distribution = probabilities over the vocabulary, order =
        stage names as run, ignored = {...}}; report.pairs["a|b"] = {only_a = ids, only_b = ids,
        tv = total variation between the two distributions} for each pair in the order of
        engines (report.pairs["b|a"] finds the same entry); report.engines lists the engines.
        Printed at the prompt as a table (token texts when sample.vocab is loaded).
        Options: engines (all three); order ("engine" | "given"); history (generated ids, for
        penalties); prompt (prompt ids: vLLM's frequency/presence skip them, the others count
        them); top (8): tokens shown per engine when printed.
        Example: r = sample.compare(logits, {sample.top_p(0.9), sample.temperature(0.7)}); r.pairs["transformers|llama.cpp"].tv
        """

    static func installCompare(_ m: ModuleBuilder) {
        m.function("compare", doc: compareDoc) { a in
            let boxes = try stageBoxes(a, 2)
            let o = try a.options(3, allowed: ["engines", "order", "history", "prompt", "top"])
            var engines = SamplingEngine.allCases
            if o.push("engines") != .nil {
                let s = a.state
                guard s.type(at: -1) == .table else { s.pop(); throw o.optionError("engines", "a list of engine names") }
                engines = []
                for i in 0..<s.rawLength(at: -1) {
                    s.rawGet(i + 1, of: -1)
                    let name = s.type(at: -1) == .string ? s.string(at: -1) : nil
                    s.pop()
                    guard let n = name, let e = SamplingEngine(rawValue: n) else {
                        s.pop()
                        throw o.optionError("engines", "names among \"transformers\", \"llama.cpp\", \"vllm\"")
                    }
                    if !engines.contains(e) { engines.append(e) }
                }
                if engines.isEmpty { s.pop(); throw o.optionError("engines", "at least one engine name") }
            }
            a.state.pop()
            let order = EngineComparison.Order(rawValue: try o.choice("order", ["engine", "given"], default: "engine")) ?? .engine
            let history = try idList(o, "history"), prompt = try idList(o, "prompt")
            let top = try o.count("top", in: 0...LuaLimits.maxCount, default: 8)
            let stages = boxes.map(\.stage)
            let outcomes: [EngineComparison.Outcome]
            do {
                outcomes = try SampleChainSupport.withLogits(a, 1) { row in
                    switch row {
                    case .f32(let r): return try EngineComparison.run(r, stages: stages, engines: engines, history: history, prompt: prompt, order: order)
                    case .f64(let r): return try EngineComparison.run(r, stages: stages, engines: engines, history: history, prompt: prompt, order: order)
                    }
                }
            } catch let e as AlignMathError {
                throw a.failure(e.description)
            }
            try pushComparison(a.state, outcomes, top: top)
            return 1
        }
    }

    /// The stages at `i`: a list of stages or a chain.
    static func stageBoxes(_ a: LuaArguments, _ i: Int32) throws -> [StageBox] {
        let s = a.state
        if let chain = s.object(at: i, ChainBox.self) { return chain.boxes }
        guard a.type(i) == .table else { throw a.typeError(i, expected: "list of stages or a chain") }
        var boxes: [StageBox] = []
        for k in 0..<s.rawLength(at: i) {
            s.rawGet(k + 1, of: i)
            defer { s.pop() }
            guard let b = s.object(at: -1, StageBox.self) else {
                throw a.error(i, "entry \(k + 1) is not a stage (\(s.typeName(at: -1))); build stages with sample.top_p(0.9), sample.temperature(0.7), ...")
            }
            if let refusal = b.refusal { throw a.error(i, "entry \(k + 1): \(b.refusalMessage(refusal))") }
            boxes.append(b)
        }
        return boxes
    }

    /// A list of token ids in option `key` (nil: empty).
    static func idList(_ o: LuaOptions, _ key: String) throws -> [Int] {
        guard o.push(key) != .nil else { o.state.pop(); return [] }
        defer { o.state.pop() }
        return try SampleChainSupport.ids(o.arguments, at: o.state.absolute(-1), what: "option '\(key)'")
    }

    /// Kept ids of a distribution, most probable first (ties: lower id first).
    static func kept(_ p: [Double]) -> [Int] {
        p.indices.filter { p[$0] > 0 }.sorted { p[$0] > p[$1] || (p[$0] == p[$1] && $0 < $1) }
    }

    /// Pushes the report table. Stack: [] -> [report].
    static func pushComparison(_ s: LuaState, _ outcomes: [EngineComparison.Outcome], top: Int) throws {
        let vocab = SampleVocab.current(s)
        func label(_ id: Int) -> String { vocab?.text(id).map(SampleExplain.quoted) ?? "#\(id)" }
        s.newTable(recordCount: outcomes.count + 2)
        var rows: [[String]] = []
        var keptSets: [Set<Int>] = []
        for out in outcomes {
            let ids = kept(out.probs)
            keptSets.append(Set(ids))
            s.newTable(recordCount: 5)
            try s.push(ids: ids); s.setField("ids", of: -2)
            try s.push(tensorOf: ids.map { out.probs[$0] }); s.setField("probs", of: -2)
            try s.push(tensorOf: out.probs); s.setField("distribution", of: -2)
            LabReport.push(strings: out.order, s); s.setField("order", of: -2)
            LabReport.push(strings: out.ignored, s); s.setField("ignored", of: -2)
            s.setField(out.engine.rawValue, of: -2)
            let shown = ids.prefix(top).map { "\(label($0)) \(SampleExplain.fixed(out.probs[$0], 3))" }
            rows.append([out.engine.rawValue, String(ids.count), shown.joined(separator: "  ") + (ids.count > top ? "  ..." : ""),
                         out.order.joined(separator: " > ") + (out.ignored.isEmpty ? "" : " (ignored: \(out.ignored.joined(separator: ", ")))")])
        }
        LabReport.push(strings: outcomes.map(\.engine.rawValue), s)
        s.setField("engines", of: -2)
        // pairs, with an __index that finds "b|a" under "a|b"
        s.newTable()
        var pairRows: [[String]] = []
        for i in 0..<outcomes.count {
            for j in outcomes.indices where j > i {
                let a = outcomes[i], b = outcomes[j]
                let onlyA = kept(a.probs).filter { !keptSets[j].contains($0) }
                let onlyB = kept(b.probs).filter { !keptSets[i].contains($0) }
                let tv = EngineComparison.totalVariation(a.probs, b.probs)
                s.newTable(recordCount: 3)
                try s.push(ids: onlyA); s.setField("only_" + a.engine.rawValue, of: -2)
                try s.push(ids: onlyB); s.setField("only_" + b.engine.rawValue, of: -2)
                s.push(tv); s.setField("tv", of: -2)
                s.setField("\(a.engine.rawValue)|\(b.engine.rawValue)", of: -2)
                func list(_ ids: [Int]) -> String {
                    ids.isEmpty ? "-" : ids.prefix(top).map(label).joined(separator: " ") + (ids.count > top ? " ..." : "")
                }
                pairRows.append(["\(a.engine.rawValue)|\(b.engine.rawValue)", LabReport.number(tv), list(onlyA), list(onlyB)])
            }
        }
        s.newTable(recordCount: 1)
        s.push(function: "sample.compare.pairs.__index") { a in
            guard a.type(2) == .string, let key = a.state.string(at: 2) else { return 0 }
            let parts = key.split(separator: "|", omittingEmptySubsequences: false)
            guard parts.count == 2 else { return 0 }
            a.state.push("\(parts[1])|\(parts[0])")
            _ = a.state.rawGet(of: 1)
            return 1
        }
        s.setField("__index", of: -2)
        s.setMetatable(of: -2)
        s.setField("pairs", of: -2)
        var text = LabReport.table(["engine", "kept", "top tokens (prob)", "order"], rows, rightAligned: [1])
        if !pairRows.isEmpty {
            text += "\n\n" + LabReport.table(["pair", "tv", "kept by the first only", "kept by the second only"], pairRows, rightAligned: [1])
        }
        LabReport.attach(s, name: "sample.compare", text: text)
    }
}
