/// Whose semantics a sampling stage follows where the references differ. Each stage
/// kind dispatches on it in `SamplerChain.apply(_:_:_:rng:)`; a new engine (vLLM) is one
/// more case and one more branch per stage that differs.
///
/// - `transformers`: HF transformers' `generation/logits_process.py` warpers, line by
///   line (the default), in the dtype of the row: top-k keeps every token tied with the
///   k-th logit, top-p removes tokens whose ascending cumulative probability is
///   `<= 1 - p`, `min_keep` is `min_tokens_to_keep`, penalties see the whole context.
///   Stages HF lacks (top-n-sigma, XTC, mirostat) follow llama.cpp's rule in the row's
///   dtype, over the finite candidates in canonical order.
/// - `llamaCpp`: llama.cpp's `src/llama-sampler.cpp` samplers exactly (`LlamaCppFilters`):
///   float32 arithmetic, its array order and sorting, its -inf entries.
public enum SamplingSemantics: String, Sendable {
    /// HF transformers' warpers (default).
    case transformers
    /// llama.cpp's samplers.
    case llamaCpp = "llama.cpp"
}

/// What a stage sees besides the logits: the token ids generated so far (0-based, for
/// penalties) and the generator that random stages (XTC) draw from in `apply`/`probs`.
public struct SamplingContext {
    /// Token ids generated so far, oldest first (vocabulary ids, 0-based).
    public var history: [Int]
    /// The generator for random stages when not sampling (`sample` passes its own).
    public var rng: RandomGenerator?

    /// A context with a history and an optional generator.
    public init(history: [Int] = [], rng: RandomGenerator? = nil) {
        self.history = history
        self.rng = rng
    }
}

/// The dense row a custom stage edits in place: the whole vocabulary in the chain's
/// dtype (removed tokens -inf), in memory the stage itself handed out (`rowBuffer`).
public struct DenseRow {
    /// Number of logits (the vocabulary size).
    public let count: Int
    /// The first element: Floats if `isF64` is false, else Doubles.
    public let base: UnsafeMutableRawPointer
    /// True for an f64 row.
    public let isF64: Bool

    /// The row of `count` logits at `base` (Doubles when `isF64`, else Floats).
    public init(count: Int, base: UnsafeMutableRawPointer, isF64: Bool) {
        self.count = count
        self.base = base
        self.isF64 = isF64
    }

    /// Logit `i` (0-based id), read and written as a Double.
    public subscript(i: Int) -> Double {
        get { isF64 ? base.assumingMemoryBound(to: Double.self)[i] : Double(base.assumingMemoryBound(to: Float.self)[i]) }
        nonmutating set {
            if isF64 { base.assumingMemoryBound(to: Double.self)[i] = newValue } else { base.assumingMemoryBound(to: Float.self)[i] = Float(newValue) }
        }
    }
}

/// A stage written by the caller (a Lua function; a Swift closure in tests). While the
/// row is still the caller's logits, the chain first offers them to the stage in place
/// (`lend`; a Lua stage accepts, copy-on-write) and calls `runLent`. Otherwise it asks the
/// stage for memory for the row (`rowBuffer`: the stage owns it and may keep it across
/// calls, e.g. a tensor handed to Lua every token), writes the current row into it, and
/// calls `run`, which edits it in place; later stages read it there. A whole row is copied
/// in once per call; after a truncating stage, when the memory is known to hold -inf
/// everywhere (`rowIsBlank`), only the candidates are written, the survivors are read
/// back by one vectorised pass and the memory is blanked again.
public protocol CustomStageBody: AnyObject {
    /// Memory for `count` Floats (`f64` false) or Doubles, valid until the next call.
    func rowBuffer(count: Int, f64: Bool) throws -> UnsafeMutableRawPointer
    /// Edits the row (in the memory `rowBuffer` gave) in place.
    func run(_ row: DenseRow, _ context: SamplingContext) throws
    /// True when the memory holds -inf in every entry: set by the chain after it blanked
    /// it; the stage must clear it whenever `rowBuffer` hands out new memory.
    var rowIsBlank: Bool { get set }
    /// Asked before a whole row is copied in, when the row is exactly the caller's logits
    /// (`count` elements of the chain's dtype at `logits`, no stage has changed them): true
    /// when the stage will run on them in place without changing them (copy-on-write), and
    /// the chain then calls `runLent` instead of `rowBuffer` and `run`. Default: false.
    func lend(_ logits: UnsafeRawPointer, count: Int, f64: Bool) throws -> Bool
    /// Runs the stage on the row `lend` accepted. Returns nil when the row is unchanged
    /// (the chain goes on reading the caller's logits), else the memory, of the stage's
    /// own, holding the whole row as the stage left it (valid until the next call).
    func runLent(_ context: SamplingContext) throws -> UnsafeMutableRawPointer?
}

extension CustomStageBody {
    public func lend(_ logits: UnsafeRawPointer, count: Int, f64: Bool) throws -> Bool { false }
    public func runLent(_ context: SamplingContext) throws -> UnsafeMutableRawPointer? {
        throw AlignMathError.invalidArgument("this stage does not run on a lent row")
    }
}

/// A custom stage from a Swift closure, with memory of its own.
public final class ClosureStageBody: CustomStageBody {
    private let body: (DenseRow, SamplingContext) throws -> Void
    private var memory = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    public var rowIsBlank = false

    /// A stage that runs `body` on the row.
    public init(_ body: @escaping (DenseRow, SamplingContext) throws -> Void) { self.body = body }

    deinit { memory.deallocate() }

    public func rowBuffer(count: Int, f64: Bool) throws -> UnsafeMutableRawPointer {
        let bytes = max(1, count * (f64 ? 8 : 4))
        if memory.count < bytes {
            memory.deallocate()
            memory = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes, alignment: 16)
            rowIsBlank = false
        }
        guard let b = memory.baseAddress else { throw AlignMathError.invalidArgument("no memory for the row") }
        return b
    }

    public func run(_ row: DenseRow, _ context: SamplingContext) throws { try body(row, context) }
}

/// One stage of a `SamplerChain`. Build with the static factories, which validate their
/// arguments and throw `AlignMathError.invalidArgument` with a message naming the
/// argument. A class because mirostat keeps state (`mu`) between tokens.
public final class SamplerStage {
    /// What the stage does, with its parameters (validated by the factories).
    public enum Kind {
        /// Divide logits by `t`; `t == 0` keeps only the first maximal token (greedy).
        case temperature(Double)
        /// Keep the `k` highest logits (`k == 0` disables the stage).
        case topK(Int)
        /// Nucleus filtering at mass `p` in (0, 1].
        case topP(Double)
        /// Keep tokens with probability `>= p * max probability`, p in [0, 1].
        case minP(Double)
        /// Locally typical sampling at mass `p` in (0, 1].
        case typical(Double)
        /// Keep tokens with probability `>= e`, e in (0, 1).
        case epsilon(Double)
        /// Keep tokens with probability `>= min(e, sqrt(e) * exp(-entropy))`, e in (0, 1).
        case eta(Double)
        /// Keep tokens with logit `>= max - n * std` of the finite logits, n >= 0.
        case topNSigma(Double)
        /// Exclude Top Choices: with chance `probability`, drop every token at or above
        /// `threshold` probability except the least probable of them.
        case xtc(probability: Double, threshold: Double)
        /// Repetition (divide positive / multiply negative logits), frequency and presence
        /// penalties over the last `lastN` history tokens (-1: all, 0: disabled).
        case penalties(repetition: Double, frequency: Double, presence: Double, lastN: Int)
        /// Add a bias to given token ids.
        case logitBias([Int: Double])
        /// Keep only the first maximal token.
        case greedy
        /// Mirostat 2.0 (target surprise `tau`, learning rate `eta`); must be last.
        case mirostatV2(tau: Double, eta: Double)
        /// Mirostat 1.0 (Zipf exponent estimated from the `m` most probable); must be last.
        case mirostatV1(tau: Double, eta: Double, m: Int)
        /// Dynamic temperature (llama.cpp `temp_ext`): between `temp - delta` and
        /// `temp + delta` by the normalised entropy to the power `exponent`.
        case dynamicTemperature(temp: Double, delta: Double, exponent: Double)
        /// A stage written by the caller (e.g. a Lua function).
        case custom(CustomStageBody)
    }

    /// A short name (`top_k`, `top_p`, ..., or the custom stage's name) for `explain`.
    public let name: String
    /// The stage's operation.
    public let kind: Kind
    /// The minimum number of tokens a filtering stage keeps (`min_tokens_to_keep`).
    public let minKeep: Int
    /// Whose semantics the stage follows.
    public let semantics: SamplingSemantics
    /// Mirostat's running maximum surprise (starts at `2 * tau`; updated by `sample`).
    public var mu: Double

    init(_ name: String, _ kind: Kind, minKeep: Int = 1, semantics: SamplingSemantics = .transformers) {
        self.name = name
        self.kind = kind
        self.minKeep = minKeep
        self.semantics = semantics
        mu = 0
        reset()
    }

    /// Mirostat's target surprise, for the stages that draw the token themselves.
    var mirostatTau: Double? {
        switch kind {
        case .mirostatV2(let tau, _), .mirostatV1(let tau, _, _): return tau
        default: return nil
        }
    }

    /// Restores mirostat's `mu` to `2 * tau` (no effect on other stages); llama.cpp's
    /// `2.0f * tau` in float for its semantics.
    public func reset() {
        if let tau = mirostatTau {
            mu = semantics == .llamaCpp ? Double(2 * Float(tau)) : 2 * tau
        }
    }

    static func check(_ ok: Bool, _ message: @autoclosure () -> String) throws {
        if !ok { throw AlignMathError.invalidArgument(message()) }
    }

    /// min_keep >= 1; llama.cpp semantics also takes 0, as llama.cpp's samplers do (the
    /// same as 1 for top_p, min_p and xtc; typical with 0 stops at the mass alone).
    static func checkMinKeep(_ m: Int, _ semantics: SamplingSemantics = .transformers) throws {
        if semantics == .llamaCpp {
            try check(m >= 0, "min_keep must be an integer >= 0, got \(m)")
        } else {
            try check(m >= 1, "min_keep must be an integer >= 1, got \(m)")
        }
    }

    /// llama.cpp semantics takes every value llama.cpp's samplers take (`llamaRange`: any
    /// number but NaN, as llama.cpp's float parameters): its out-of-range values disable
    /// the stage or keep the fewest tokens there, as `LlamaCppFilters` runs them.
    static func inRange(_ ok: Bool, _ x: Double, _ semantics: SamplingSemantics) -> Bool {
        ok || (semantics == .llamaCpp && !x.isNaN)
    }

    /// Temperature `t >= 0` (HF `TemperatureLogitsWarper`: `scores / t`); `t == 0` is
    /// greedy (llama.cpp `llama_sampler_temp_impl` with `temp <= 0`: only the first
    /// maximal token survives).
    /// llama.cpp semantics (`llama_sampler_temp_impl`): float division by `Float(t)`;
    /// `t == 0` keeps the first maximal entry and sets the others to -inf.
    public static func temperature(_ t: Double, semantics: SamplingSemantics = .transformers) throws -> SamplerStage {
        try check(t.isFinite && (t >= 0 || semantics == .llamaCpp), "temperature must be a finite number >= 0, got \(t)")
        return SamplerStage("temperature", .temperature(t), semantics: semantics)
    }

    /// Top-k, `k >= 0` (0 disables). HF `TopKLogitsWarper`: `k = max(k, min_keep)`, keeps
    /// every token whose logit is `>=` the k-th largest (ties kept). llama.cpp
    /// `llama_sampler_top_k_impl`: exactly `k` tokens, ties broken by lower id first.
    public static func topK(_ k: Int, minKeep: Int = 1, semantics: SamplingSemantics = .transformers) throws -> SamplerStage {
        try check(k >= 0 || semantics == .llamaCpp, "k must be an integer >= 0 (0 disables top_k), got \(k)")
        try checkMinKeep(minKeep, semantics)
        return SamplerStage("top_k", .topK(k), minKeep: minKeep, semantics: semantics)
    }

    /// Top-p, `p` in (0, 1]. HF `TopPLogitsWarper`: sort ascending, remove tokens
    /// whose cumulative probability is `<= 1 - p`, never the last `min_keep` (on Float rows
    /// the cumulative sum is torch's float32 one, see `SamplerWorkspace.topP`); tied tokens
    /// at the cut in torch 2.15's CPU order (`TorchTieOrder.swift`). llama.cpp
    /// `llama_sampler_top_p_apply`: descending, keep up to and including the first token
    /// where the running sum is `>= p` and at least `min_keep` are kept; `p == 1` no-op.
    public static func topP(_ p: Double, minKeep: Int = 1, semantics: SamplingSemantics = .transformers) throws -> SamplerStage {
        try check(inRange(p > 0 && p <= 1, p, semantics), "p must be in (0, 1], got \(p)")
        try checkMinKeep(minKeep, semantics)
        return SamplerStage("top_p", .topP(p), minKeep: minKeep, semantics: semantics)
    }

    /// Min-p, `p` in [0, 1]. HF `MinPLogitsWarper`: remove `prob < p * max prob`, then
    /// restore the `min_keep` most probable. llama.cpp `llama_sampler_min_p_apply`: keep
    /// `logit >= max + log(p)`, else (fewer than min_keep) the min_keep best.
    public static func minP(_ p: Double, minKeep: Int = 1, semantics: SamplingSemantics = .transformers) throws -> SamplerStage {
        try check(inRange(p >= 0 && p <= 1, p, semantics), "p must be in [0, 1], got \(p)")
        try checkMinKeep(minKeep, semantics)
        return SamplerStage("min_p", .minP(p), minKeep: minKeep, semantics: semantics)
    }

    /// Typical sampling, `p` in (0, 1]. HF `TypicalLogitsWarper`: order by
    /// `|-log p - H|` ascending, `last = #(cumsum < p)`, remove scores above the
    /// `last`-th, keep the first `min_keep`. llama.cpp `llama_sampler_typical_apply`:
    /// keep until the running sum is `> p` (and min_keep kept); `p == 1` is a no-op.
    public static func typical(_ p: Double, minKeep: Int = 1, semantics: SamplingSemantics = .transformers) throws -> SamplerStage {
        try check(inRange(p > 0 && p <= 1, p, semantics), "p must be in (0, 1], got \(p)")
        try checkMinKeep(minKeep, semantics)
        return SamplerStage("typical", .typical(p), minKeep: minKeep, semantics: semantics)
    }

    /// Epsilon sampling, `e` in (0, 1) (HF `EpsilonLogitsWarper`: remove `prob < e`
    /// unless the logit is `>=` the min_keep-th largest). llama.cpp has no epsilon
    /// sampler; both semantics are HF's.
    public static func epsilon(_ e: Double, minKeep: Int = 1, semantics: SamplingSemantics = .transformers) throws -> SamplerStage {
        try check(e > 0 && e < 1, "epsilon must be in (0, 1), got \(e)")
        try checkMinKeep(minKeep)
        return SamplerStage("epsilon", .epsilon(e), minKeep: minKeep, semantics: semantics)
    }

    /// Eta sampling, `e` in (0, 1) (HF `EtaLogitsWarper`: cutoff
    /// `min(e, sqrt(e) * exp(-entropy))`, as the code computes it; min_keep as epsilon).
    /// llama.cpp has no eta sampler; both semantics are HF's.
    public static func eta(_ e: Double, minKeep: Int = 1, semantics: SamplingSemantics = .transformers) throws -> SamplerStage {
        try check(e > 0 && e < 1, "epsilon must be in (0, 1), got \(e)")
        try checkMinKeep(minKeep)
        return SamplerStage("eta", .eta(e), minKeep: minKeep, semantics: semantics)
    }

    /// Top-n-sigma, `n >= 0` (llama.cpp `llama_sampler_top_n_sigma_apply`: mean and
    /// population std of the finite logits, remove `logit < max - n * std`; `n == 0` is a
    /// no-op there). HF has no such warper; both semantics follow llama.cpp, plus min_keep.
    public static func topNSigma(_ n: Double, minKeep: Int = 1, semantics: SamplingSemantics = .transformers) throws -> SamplerStage {
        try check(inRange(n.isFinite && n >= 0, n, semantics), "n must be a finite number >= 0, got \(n)")
        try checkMinKeep(minKeep, semantics)
        return SamplerStage("top_n_sigma", .topNSigma(n), minKeep: minKeep, semantics: semantics)
    }

    /// XTC (llama.cpp `llama_sample_xtc_apply`): with chance `probability` (one uniform
    /// from the generator; skipped when `probability <= 0`, `threshold > 0.5` or fewer
    /// than 2 tokens), remove all tokens with probability `>= threshold` except the
    /// least probable of them, if at least `min_keep` remain. Same in both semantics.
    public static func xtc(probability: Double, threshold: Double, minKeep: Int = 1, semantics: SamplingSemantics = .transformers) throws -> SamplerStage {
        try check(inRange(probability >= 0 && probability <= 1, probability, semantics), "probability must be in [0, 1], got \(probability)")
        try check(inRange(threshold >= 0 && threshold <= 1, threshold, semantics), "threshold must be in [0, 1], got \(threshold)")
        try checkMinKeep(minKeep, semantics)
        return SamplerStage("xtc", .xtc(probability: probability, threshold: threshold), minKeep: minKeep, semantics: semantics)
    }

    /// Penalties over the history: the whole of it by default in transformers semantics
    /// (HF's `RepetitionPenaltyLogitsProcessor` penalises every id of the context), the
    /// last 64 in llama.cpp's (`penalty_last_n`); `lastN` sets the window (`-1` the whole
    /// history, `0` off). For each distinct id seen `c` times in the window: repetition
    /// (HF `_apply_penalty`: `logit < 0` multiplied, else divided, once per token;
    /// llama.cpp `<= 0` multiplied, the same value), then `logit -= c * frequency +
    /// presence` (OpenAI / llama.cpp `llama_sampler_penalties_apply`). Ids outside the
    /// vocabulary are ignored.
    public static func penalties(repetition: Double = 1, frequency: Double = 0, presence: Double = 0, lastN: Int? = nil, semantics: SamplingSemantics = .transformers) throws -> SamplerStage {
        try check(repetition.isFinite && repetition > 0, "repetition must be a finite number > 0, got \(repetition)")
        try check(frequency.isFinite, "frequency must be finite, got \(frequency)")
        try check(presence.isFinite, "presence must be finite, got \(presence)")
        let window = lastN ?? (semantics == .llamaCpp ? 64 : -1)
        try check(window >= -1, "last_n must be -1 (whole history), 0 (off) or a positive count, got \(window)")
        return SamplerStage("penalties", .penalties(repetition: repetition, frequency: frequency, presence: presence, lastN: window), semantics: semantics)
    }

    /// Adds `bias[id]` to the logit of each token id (0-based; ids must be >= 0 and are
    /// checked against the vocabulary when applied). `-inf` bans a token. llama.cpp
    /// semantics: a float add, the entry kept in the array even at -inf, and an id outside
    /// the vocabulary (negative too) is skipped, as llama.cpp's logit_bias sampler skips it.
    public static func logitBias(_ bias: [Int: Double], semantics: SamplingSemantics = .transformers) throws -> SamplerStage {
        for (id, b) in bias {
            try check(id >= 0 || semantics == .llamaCpp, "logit_bias ids must be token ids >= 0, got \(id)")
            try check(!b.isNaN && b != .infinity, "logit_bias for id \(id) must be a number or -inf, got \(b)")
        }
        return SamplerStage("logit_bias", .logitBias(bias), semantics: semantics)
    }

    /// Greedy: keeps only the first maximal token (as `argmax`: the lowest id among tied
    /// maxima). llama.cpp semantics (`llama_sampler_greedy_apply`): as the last stage, the
    /// first maximal entry in llama.cpp's array order, chosen without a draw; before another
    /// stage nothing (llama.cpp's greedy only marks its choice, which the chain's dist or
    /// mirostat replaces).
    public static func greedy(semantics: SamplingSemantics = .transformers) -> SamplerStage {
        SamplerStage("greedy", .greedy, semantics: semantics)
    }

    /// Mirostat 2.0 (llama.cpp `llama_sampler_mirostat_v2_apply`): keep tokens (sorted by
    /// probability) until the first with surprise `-log2 p > mu` (at least one),
    /// renormalise, sample, then `mu -= eta * (surprise - tau)`. `mu` starts at `2 tau`
    /// and changes only in `sample`. Must be the last stage of a chain. llama.cpp
    /// semantics: float arithmetic for `mu` and the surprise, and with the llama.cpp
    /// engine the token drawn by `std::discrete_distribution`, as llama.cpp does.
    public static func mirostatV2(tau: Double, eta: Double, semantics: SamplingSemantics = .transformers) throws -> SamplerStage {
        try check(tau.isFinite && tau >= 0, "tau must be a finite number >= 0, got \(tau)")
        try check(eta.isFinite && eta >= 0, "eta must be a finite number >= 0, got \(eta)")
        return SamplerStage("mirostat", .mirostatV2(tau: tau, eta: eta), semantics: semantics)
    }

    /// Mirostat 1.0 (llama.cpp `llama_sampler_mirostat_apply`): estimate the Zipf exponent
    /// `s` from the `m` most probable tokens, keep the top `k = (eps * 2^mu / (1 - V^-eps))^(1/s)`
    /// (`eps = s - 1`, V the vocabulary), sample, then `mu -= eta * (surprise - tau)`. Must
    /// be the last stage.
    public static func mirostatV1(tau: Double, eta: Double, m: Int = 100, semantics: SamplingSemantics = .transformers) throws -> SamplerStage {
        try check(tau.isFinite && tau >= 0, "tau must be a finite number >= 0, got \(tau)")
        try check(eta.isFinite && eta >= 0, "eta must be a finite number >= 0, got \(eta)")
        try check(m >= 1, "m must be an integer >= 1, got \(m)")
        return SamplerStage("mirostat", .mirostatV1(tau: tau, eta: eta, m: m), semantics: semantics)
    }

    /// Dynamic temperature (entropy-based, Zhu et al. 2023; llama.cpp `temp_ext`): with the
    /// normalised entropy `h` of the current distribution (over log of the number of
    /// candidates), divide by `max(0, t - delta) + 2 delta' h^exponent` (delta' the span
    /// actually between the two bounds); `delta <= 0` is plain temperature `t`.
    public static func dynamicTemperature(_ t: Double, delta: Double, exponent: Double = 1, semantics: SamplingSemantics = .transformers) throws -> SamplerStage {
        try check(t.isFinite && (t >= 0 || semantics == .llamaCpp), "temperature must be a finite number >= 0, got \(t)")
        try check(delta.isFinite, "delta must be finite, got \(delta)")
        try check(exponent.isFinite && exponent >= 0, "exponent must be a finite number >= 0, got \(exponent)")
        if delta <= 0 { return try temperature(t, semantics: semantics) }
        return SamplerStage("temperature", .dynamicTemperature(temp: t, delta: delta, exponent: exponent), semantics: semantics)
    }

    /// A custom stage: `body` provides the row's memory and edits it in place.
    public static func custom(_ name: String, _ body: CustomStageBody) -> SamplerStage {
        SamplerStage(name, .custom(body))
    }

    /// A custom stage from a closure (its own memory for the row).
    public static func custom(_ name: String, _ body: @escaping (DenseRow, SamplingContext) throws -> Void) -> SamplerStage {
        SamplerStage(name, .custom(ClosureStageBody(body)))
    }
}
