import LuaKit
import AlignMath

/// A sampler stage as Lua holds it (userdata `sample.stage`): the AlignMath stage, how it
/// prints, and for a stage written in Lua the function behind it.
final class StageBox {
    let stage: SamplerStage
    let label: String
    let luaFunction: LuaStageFunction?
    /// For a built-in stage made without a `semantics` option: the same stage (and label) in
    /// another semantics, so `sample.chain(stages, {semantics = ...})` can set it.
    let remake: ((SamplingSemantics) throws -> (SamplerStage, String))?
    /// Set for a stage made without a `semantics` option whose values only llama.cpp takes
    /// (`sample.top_n_sigma(-1)`, `{min_keep = 0}`, ...): why transformers semantics refuses
    /// them. A chain with `{semantics = "llama.cpp"}` remakes the stage; anywhere else this is
    /// the error (`stage` then holds the llama.cpp stage, never run as it is).
    let refusal: String?

    init(_ stage: SamplerStage, label: String, luaFunction: LuaStageFunction? = nil,
         remake: ((SamplingSemantics) throws -> (SamplerStage, String))? = nil, refusal: String? = nil) {
        self.stage = stage
        self.label = label
        self.luaFunction = luaFunction
        self.remake = remake
        self.refusal = refusal
    }

    /// The error for a stage whose values need llama.cpp semantics, used without them.
    func refusalMessage(_ refusal: String) -> String {
        "\(refusal) (under transformers semantics; llama.cpp takes it: give the stage or the chain {semantics = \"llama.cpp\"})"
    }
}

/// The stage constructors of the `sample` module (`sample.top_p(0.9)`, ...).
enum SampleStages {
    static let semanticsDoc = """
        semantics ("transformers"): "transformers" follows HF transformers' warpers line by line,
        in the dtype of the logits; "llama.cpp" reproduces llama.cpp's samplers exactly
        (src/llama-sampler.cpp, llama-cpp-python 0.3.36): float32 arithmetic, its candidate
        order and tie-breaking (libstdc++'s sorts), the -inf entries its array keeps.
        """

    static func install(_ m: ModuleBuilder) {
        m.state.register(type: StageBox.self, name: "sample.stage") { b in
            b.meta("__tostring") { a in
                a.state.push(try a.object(1, StageBox.self).label)
                return 1
            }
        }
        m.function("temperature", doc: """
            sample.temperature(t, {delta = 0, exponent = 1, semantics = "transformers"}) -> stage
            Divides the logits by t >= 0 (HF TemperatureLogitsWarper; llama.cpp temp), in the dtype
            of the logits. t = 0 is greedy: only the first maximal token survives (llama.cpp's
            temp <= 0; HF refuses 0). llama.cpp semantics: a float32 division by t as a float, and
            t <= 0 (negative too, as llama.cpp takes it) sets every other logit to -inf (the
            entries stay in llama.cpp's array).
            Options: delta (0): when positive, dynamic temperature (llama.cpp temp_ext, Zhu et al.
            2023): the temperature is lo + (t + delta - lo) * h^exponent with lo = max(0, t - delta),
            h the entropy of the current candidates over its maximum (log of their number); HF has
            no such warper, so transformers semantics is llama.cpp's rule in double precision.
            exponent (1): the power of h. \(semanticsDoc)
            Example: sample.chain{sample.top_k(40), sample.temperature(0.8)}
            """) { a in
            let t = try a.number(1)
            let o = try a.options(2, allowed: ["semantics", "delta", "exponent"])
            let delta = try o.number("delta", default: 0), exponent = try o.number("exponent", default: 1)
            let (sem, _) = try semantics(o)
            let dyn = delta > 0 ? ", delta = \(formatNumber(delta)), exponent = \(formatNumber(exponent))" : ""
            return try push(a, sem, given: o.has("semantics")) { sem in
                (try .dynamicTemperature(t, delta: delta, exponent: exponent, semantics: sem),
                 "sample.temperature(\(formatNumber(t))\(dyn)\(semanticsText(sem)))")
            }
        }
        filtering(m, "top_k", integer: true, doc: """
            sample.top_k(k, {min_keep = 1, semantics = "transformers"}) -> stage
            Keeps the k highest logits; k >= 0, 0 disables the stage.
            transformers (TopKLogitsWarper): k = max(k, min_keep) and every token tied with the
            k-th logit is kept, so more than k may survive. llama.cpp (top_k): exactly k tokens,
            ties broken as std::partial_sort leaves them (not by id); min_keep is ignored; any
            k, <= 0 disables it.
            """, example: "sample.top_k(40)") { x, mk, sem in try .topK(Int(exactly: x) ?? 0, minKeep: mk, semantics: sem) }
        filtering(m, "top_p", doc: """
            sample.top_p(p, {min_keep = 1, semantics = "transformers"}) -> stage
            Nucleus sampling: keeps the most probable tokens holding mass p, p in (0, 1].
            transformers (TopPLogitsWarper): sorts ascending and removes the tokens whose
            cumulative probability is <= 1 - p, never the last min_keep; on f32 logits the sum is
            torch's float32 one (100 equal f32 logits keep 50 at p = 0.5, f64 ones 51, as in
            transformers). Tied tokens at the cut: as transformers 5.25 / torch 2.15 on CPU keeps
            them (its torch.sort is not stable: libstdc++'s std::sort over the whole row, so which
            ids of a tie group straddling the cut stay is that order's, not the lowest or highest
            ids; count and mass do not depend on it; torch on GPU may keep others). llama.cpp (top_p): sorts descending and keeps up to and including
            the first token where the running sum reaches p (the boundary token is kept), and
            at least min_keep; p >= 1 keeps all, p <= 0 the first max(min_keep, 1).
            """, example: "sample.top_p(0.95)") { x, mk, sem in try .topP(x, minKeep: mk, semantics: sem) }
        filtering(m, "min_p", doc: """
            sample.min_p(p, {min_keep = 1, semantics = "transformers"}) -> stage
            Keeps tokens with probability >= p * (the top probability), p in [0, 1].
            transformers (MinPLogitsWarper): then restores the min_keep most probable; of tokens
            tied at that boundary, the ones torch.topk picks in transformers 5.25 / torch 2.15 on
            CPU (std::partial_sort, or std::nth_element when min_keep * 64 > the vocabulary).
            llama.cpp (min_p): compares logits, logit >= max + log p, then the min_keep best;
            any p (p <= 0 keeps all, p > 1 the first max(min_keep, 1)).
            """, example: "sample.min_p(0.05)") { x, mk, sem in try .minP(x, minKeep: mk, semantics: sem) }
        filtering(m, "typical", doc: """
            sample.typical(p, {min_keep = 1, semantics = "transformers"}) -> stage
            Locally typical sampling, p in (0, 1]: tokens ordered by |-log p(x) - H| ascending are
            kept while their running mass is below p. transformers (TypicalLogitsWarper): keeps
            #(cumsum < p) + 1 of them, at least min_keep (the first min_keep of its torch.sort:
            of tied tokens at that boundary, those transformers 5.25 / torch 2.15 on CPU keeps,
            std::sort's order over the whole row, not by id). llama.cpp (typical): keeps until the
            running sum is > p (and min_keep kept); p >= 1 keeps all, p <= 0 the first.
            """, example: "sample.typical(0.9)") { x, mk, sem in try .typical(x, minKeep: mk, semantics: sem) }
        filtering(m, "epsilon", doc: """
            sample.epsilon(e, {min_keep = 1, semantics = "transformers"}) -> stage
            Epsilon sampling (Hewitt et al. 2022), e in (0, 1): removes tokens with probability < e,
            keeping the min_keep most probable (HF EpsilonLogitsWarper). llama.cpp has no such
            sampler: both semantics are HF's.
            """, example: "sample.epsilon(3e-4)", llamaRange: false) { x, mk, sem in try .epsilon(x, minKeep: mk, semantics: sem) }
        filtering(m, "eta", doc: """
            sample.eta(e, {min_keep = 1, semantics = "transformers"}) -> stage
            Eta sampling (Hewitt et al. 2022), e in (0, 1): removes tokens with probability below
            min(e, sqrt(e) * exp(-entropy)), keeping the min_keep most probable (HF
            EtaLogitsWarper). llama.cpp has no such sampler: both semantics are HF's.
            """, example: "sample.eta(3e-4)", llamaRange: false) { x, mk, sem in try .eta(x, minKeep: mk, semantics: sem) }
        filtering(m, "top_n_sigma", doc: """
            sample.top_n_sigma(n, {min_keep = 1, semantics = "transformers"}) -> stage
            Top-n-sigma (Tang et al. 2024), n >= 0: keeps logits >= max - n * std, the population
            std of the finite logits (llama.cpp top_n_sigma; n = 0 keeps all there). HF has no
            such warper: transformers semantics is llama.cpp's rule in the logits' dtype plus
            min_keep; llama.cpp semantics is llama.cpp's float32 code (min_keep ignored; n <= 0,
            llama.cpp's default -1 included, keeps all).
            """, example: "sample.top_n_sigma(1.0)") { x, mk, sem in try .topNSigma(x, minKeep: mk, semantics: sem) }
        installTableStages(m)
    }

    /// `sample.NAME(x, {min_keep =, semantics =})` for a filtering stage.
    private static func filtering(_ m: ModuleBuilder, _ name: String, integer: Bool = false, doc: String, example: String, llamaRange: Bool = true,
                                  _ make: @escaping (Double, Int, SamplingSemantics) throws -> SamplerStage) {
        let zero = llamaRange ? "; llama.cpp semantics also takes 0, as llama.cpp" : ""
        m.function(name, doc: "\(doc)\nOptions: min_keep (1): the fewest tokens the stage leaves (HF min_tokens_to_keep\(zero));\n\(semanticsDoc)\nExample: \(example)") { a in
            let (mk, sem, _) = try filterOptions(a, 2)
            // llama.cpp's top_k takes any int32 (<= 0 disables it); without a semantics
            // option a negative k is left to the stage's constructor, which refuses it for
            // transformers when the stage is used (`push`)
            let low = sem == .llamaCpp ? Int(Int32.min) : 0
            var k = 0
            if integer {
                do { k = try a.count(1, "k", in: low...LuaLimits.maxCount) } catch {
                    guard !semanticsGiven(a, 2), let any = try? a.count(1, "k", in: Int(Int32.min)...LuaLimits.maxCount) else { throw error }
                    k = any
                }
            }
            let x = integer ? Double(k) : try a.number(1)
            let arg = integer ? String(k) : formatNumber(x)
            let mkText = mk == 1 ? "" : ", min_keep = \(mk)"
            return try push(a, sem, given: semanticsGiven(a, 2)) { sem in
                (try make(x, mk, sem), "sample.\(name)(\(arg)\(mkText)\(semanticsText(sem)))")
            }
        }
    }

    /// Reads `{min_keep =, semantics =}` (plus `extra` keys the caller reads itself) at `i`.
    static func filterOptions(_ a: LuaArguments, _ i: Int32, extra: [String] = []) throws -> (Int, SamplingSemantics, String) {
        let o = try a.options(i, allowed: ["min_keep", "semantics"] + extra)
        let (sem, text) = try semantics(o)
        // llama.cpp's samplers take min_keep = 0 (size_t); without a semantics option the
        // stage's constructor refuses it for transformers, and a chain's option can still
        // make it llama.cpp's (`push`)
        let mk = try o.count("min_keep", in: (sem == .llamaCpp || !o.has("semantics") ? 0 : 1)...LuaLimits.maxCount, default: 1)
        return (mk, sem, (mk == 1 ? "" : ", min_keep = \(mk)") + text)
    }

    static func semantics(_ o: LuaOptions) throws -> (SamplingSemantics, String) {
        let s = try o.choice("semantics", ["transformers", "llama.cpp"], default: "transformers")
        let sem = SamplingSemantics(rawValue: s) ?? .transformers
        return (sem, semanticsText(sem))
    }

    /// How a stage's label names its semantics: nothing for transformers.
    static func semanticsText(_ sem: SamplingSemantics) -> String { sem == .llamaCpp ? ", llama.cpp" : "" }

    /// Whether the options table at `i` (if any) names a semantics.
    static func semanticsGiven(_ a: LuaArguments, _ i: Int32) -> Bool {
        guard a.type(i) == .table else { return false }
        let s = a.state
        s.push("semantics")
        defer { s.pop() }
        return s.rawGet(of: a.state.absolute(i)) != .nil
    }

    /// Builds the stage (AlignMath errors become argument errors on #1) and pushes it.
    static func push(_ a: LuaArguments, _ label: String, _ make: () throws -> SamplerStage) throws -> Int32 {
        do {
            a.state.push(object: StageBox(try make(), label: label))
        } catch let e as AlignMathError {
            throw a.error(1, e.description)
        }
        return 1
    }

    /// Builds the stage in `sem` and pushes it; a stage whose semantics was not `given`
    /// keeps `build` so that a chain's `semantics` option can remake it. Such a stage whose
    /// values only llama.cpp takes is made with its refusal kept: the error comes when it is
    /// used without llama.cpp semantics, so `sample.chain({sample.top_n_sigma(-1)},
    /// {semantics = "llama.cpp"})` works as llama.cpp's own defaults do.
    static func push(_ a: LuaArguments, _ sem: SamplingSemantics, given: Bool,
                     _ build: @escaping (SamplingSemantics) throws -> (SamplerStage, String)) throws -> Int32 {
        do {
            let (stage, label) = try build(sem)
            a.state.push(object: StageBox(stage, label: label, remake: given ? nil : build))
        } catch let e as AlignMathError {
            if !given, sem != .llamaCpp, let (stage, label) = try? build(.llamaCpp) {
                // printed as it was written: the semantics is the chain's to give
                let written = label.replacingOccurrences(of: semanticsText(.llamaCpp), with: "")
                a.state.push(object: StageBox(stage, label: written, remake: build, refusal: e.description))
                return 1
            }
            throw a.error(1, e.description)
        }
        return 1
    }

    /// Stages configured by a table: xtc, penalties, logit_bias, mirostat; and greedy.
    private static func installTableStages(_ m: ModuleBuilder) {
        m.function("xtc", doc: """
            sample.xtc{probability =, threshold =, min_keep = 1, semantics = "transformers"} -> stage
            Exclude Top Choices (llama.cpp xtc): with chance probability in [0, 1] (one uniform
            from the generator), removes every token with probability >= threshold except the
            least probable of them, if at least min_keep remain; skipped when threshold > 0.5.
            Random: chain:sample uses its generator, apply/probs/explain use ctx.rng (or
            random.default). Both semantics are llama.cpp's (HF has no XTC); llama.cpp semantics
            takes any probability, threshold and min_keep >= 0, as llama.cpp does.
            Example: sample.xtc{probability = 0.5, threshold = 0.1}
            """) { a in
            try a.table(1)
            let (mk, sem, _) = try filterOptions(a, 1, extra: ["probability", "threshold"])
            let o = try a.options(1, allowed: ["min_keep", "semantics", "probability", "threshold"])
            guard let p = try o.number("probability") else { throw a.error(1, "option 'probability' is required") }
            guard let t = try o.number("threshold") else { throw a.error(1, "option 'threshold' is required") }
            let mkText = mk == 1 ? "" : ", min_keep = \(mk)"
            return try push(a, sem, given: o.has("semantics")) { sem in
                (try .xtc(probability: p, threshold: t, minKeep: mk, semantics: sem),
                 "sample.xtc{probability = \(formatNumber(p)), threshold = \(formatNumber(t))\(mkText)\(semanticsText(sem))}")
            }
        }
        m.function("penalties", doc: """
            sample.penalties{repetition = 1, frequency = 0, presence = 0, last_n = nil, semantics = "transformers"} -> stage
            Penalises tokens of ctx.history. For each distinct id seen c times: repetition > 0
            divides a positive logit and multiplies a negative one (once per id), then
            logit -= c * frequency + presence (OpenAI's penalties, llama.cpp penalties).
            transformers (RepetitionPenaltyLogitsProcessor, transformers 4.x): the whole history,
            as HF penalises every id of input_ids; multiplies logits < 0. llama.cpp (penalties):
            the last 64 ids (penalty_last_n), multiplies logits <= 0 (the same value, as
            0 * r = 0 / r), in float32; neutral float parameters disable it.
            Options: last_n (nil = the semantics' default: whole history for transformers, 64 for
            llama.cpp): how many of the last ids count, -1 the whole history, 0 off.
            Ids outside the vocabulary are ignored.
            Example: sample.penalties{repetition = 1.1, last_n = 64}
            """) { a in
            if !a.isNil(1) { try a.table(1) }
            let o = try a.options(1, allowed: ["repetition", "frequency", "presence", "last_n", "semantics"])
            let r = try o.number("repetition", default: 1), f = try o.number("frequency", default: 0)
            let p = try o.number("presence", default: 0), n = try o.count("last_n", in: -1...LuaLimits.maxCount)
            let (sem, _) = try semantics(o)
            let window = n.map { ", last_n = \($0)" } ?? ""
            return try push(a, sem, given: o.has("semantics")) { sem in
                (try .penalties(repetition: r, frequency: f, presence: p, lastN: n, semantics: sem),
                 "sample.penalties{repetition = \(formatNumber(r)), frequency = \(formatNumber(f)), presence = \(formatNumber(p))\(window)\(semanticsText(sem))}")
            }
        }
        m.function("logit_bias", doc: """
            sample.logit_bias({[id] = bias, ...}, {semantics = "transformers"}) -> stage
            Adds bias to the logit of each token id. Ids are 0-based vocabulary ids (as a tokenizer
            gives them, the logit of id is logits[id + 1]); -math.huge bans a token. An id outside
            the vocabulary is an error when the chain runs. llama.cpp semantics: a float32 add,
            (as llama.cpp) an array that earlier stages sorted stays flagged sorted, and an id
            outside the vocabulary (negative too) is skipped without a word, as llama.cpp's
            logit_bias sampler skips an id it does not find among the candidates.
            Options: \(semanticsDoc)
            Example: sample.logit_bias{[50256] = -math.huge, [13] = 2.0}
            """) { a in
            try a.table(1)
            let s = a.state
            var bias: [Int: Double] = [:]
            var problem: String?
            s.forEachPair(of: 1) {
                guard s.type(at: -2) == .number, let id = s.integer(at: -2) else {
                    problem = "keys must be integer token ids, got \(s.type(at: -2) == .string ? "'\(s.string(at: -2) ?? "")'" : s.typeName(at: -2))"
                    return false
                }
                guard s.type(at: -1) == .number, let b = s.number(at: -1) else {
                    problem = "the bias of id \(id) must be a number, got \(s.typeName(at: -1))"
                    return false
                }
                bias[id] = b
                return true
            }
            if let problem { throw a.error(1, problem) }
            let (sem, _) = try semantics(try a.options(2, allowed: ["semantics"]))
            let shown = bias.keys.sorted().prefix(4).map { "[\($0)] = \(formatNumber(bias[$0] ?? 0))" }
            let table = "{\(shown.joined(separator: ", "))\(bias.count > 4 ? ", ..." : "")}"
            return try push(a, sem, given: semanticsGiven(a, 2)) { sem in
                (try .logitBias(bias, semantics: sem),
                 sem == .transformers ? "sample.logit_bias\(table)" : "sample.logit_bias(\(table)\(semanticsText(sem)))")
            }
        }
        m.function("greedy", doc: """
            sample.greedy({semantics = "transformers"}) -> stage
            Keeps only the most probable token (the first maximal logit, as argmax: the lowest id
            among ties). llama.cpp semantics (greedy sampler): as the last stage, the first
            maximal entry in llama.cpp's array order, picked without a draw; before another
            stage it changes nothing, as llama.cpp's greedy sampler only marks its choice and
            the dist sampler at the chain's end draws over every entry.
            Options: \(semanticsDoc)
            Example: sample.chain{sample.greedy()}
            """) { a in
            let (sem, _) = try semantics(try a.options(1, allowed: ["semantics"]))
            return try push(a, sem, given: semanticsGiven(a, 1)) { sem in
                (.greedy(semantics: sem), sem == .transformers ? "sample.greedy()" : "sample.greedy(llama.cpp)")
            }
        }
        m.function("mirostat", doc: """
            sample.mirostat{tau = 5, eta = 0.1, version = 2, m = 100, semantics = "transformers"} -> stage
            Mirostat (Basu et al. 2021), as llama.cpp's mirostat_v2 / mirostat samplers. Version 2
            keeps the tokens whose surprise -log2 p is <= mu (at least one); version 1 estimates the
            Zipf exponent from the m most probable tokens and keeps the top k it implies for the
            vocabulary's size. Then it samples, and mu -= eta * (surprise - tau); mu starts at
            2 tau and lives in the stage (chain:reset() restores it). Must be the last stage.
            llama.cpp semantics: llama.cpp's float32 code, and with a llama.cpp generator the token
            is drawn by std::discrete_distribution, as llama.cpp's mirostat samplers draw it.
            Options: tau (5): target surprise in bits, >= 0; eta (0.1): learning rate, >= 0;
            version (2): 1 or 2; m (100): tokens for version 1's estimate, >= 1;
            \(semanticsDoc)
            Example: sample.chain{sample.temperature(0.8), sample.mirostat{tau = 5}}
            """) { a in
            if !a.isNil(1) { try a.table(1) }
            let o = try a.options(1, allowed: ["tau", "eta", "version", "m", "semantics"])
            let tau = try o.number("tau", default: 5), eta = try o.number("eta", default: 0.1)
            let version = try o.count("version", in: 1...2, default: 2)
            let m = try o.count("m", in: 1...LuaLimits.maxCount, default: 100)
            let (sem, _) = try semantics(o)
            return try push(a, sem, given: o.has("semantics")) { sem in
                if version == 1 {
                    return (try .mirostatV1(tau: tau, eta: eta, m: m, semantics: sem),
                            "sample.mirostat{tau = \(formatNumber(tau)), eta = \(formatNumber(eta)), version = 1, m = \(m)\(semanticsText(sem))}")
                }
                return (try .mirostatV2(tau: tau, eta: eta, semantics: sem),
                        "sample.mirostat{tau = \(formatNumber(tau)), eta = \(formatNumber(eta))\(semanticsText(sem))}")
            }
        }
    }
}
