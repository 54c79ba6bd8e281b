import Foundation

/// One token with its probability, for `explain` and reports.
public struct TokenProb: Equatable {
    /// Vocabulary id (0-based).
    public var id: Int
    /// Probability in the distribution it was taken from.
    public var prob: Double
}

/// What one stage of a chain left: see `SamplerChain.explain`.
public struct StageReport {
    /// The stage's name (`input` for the row before any stage).
    public var name: String
    /// Number of surviving tokens (finite logits).
    public var count: Int
    /// Their total probability under the ORIGINAL row's softmax.
    public var mass: Double
    /// Entropy (nats) of the renormalised distribution over the survivors.
    public var entropy: Double
    /// The most probable survivors, renormalised, most probable first.
    public var top: [TokenProb]
}

/// A token drawn by `SamplerChain.sampleDetailed`, with the final distribution's stats.
public struct SampledToken {
    /// The chosen vocabulary id.
    public var id: Int
    /// Its probability in the final (renormalised) distribution.
    public var prob: Double
    /// Entropy (nats) of the final distribution.
    public var entropy: Double
    /// Number of tokens the final distribution gives positive probability.
    public var count: Int
}

/// A chain of sampling stages over one row of logits (`sample.chain{...}` in Lua).
///
/// The public entry points are generic over the row's dtype and `@_specialize`d for
/// Float and Double: a caller in another module (the Lua glue) runs the specialised code,
/// not the generic one (which is ~100x slower: every SIMD operation through witnesses).
///
/// The chain computes in the dtype of the row it is given (`Float` or `Double`, one
/// workspace for each, made on first use). The stages run in order on the workspace:
/// until the first truncating stage the row is the caller's buffer seen lazily
/// (penalties and logit_bias patch single ids, temperature is a pending divisor: no copy
/// of the vocabulary); top-k scans it once and leaves a small candidate list (ids +
/// logits) on which every later stage works. A dense copy is made only by `apply` and
/// custom stages. A chain is not thread-safe (one workspace per dtype); give each
/// thread its own chain.
public final class SamplerChain {
    /// The stages, in order.
    public let stages: [SamplerStage]
    private var f32Workspace: SamplerWorkspace<Float>?
    private var f64Workspace: SamplerWorkspace<Double>?

    /// A chain of `stages`.
    /// - Throws: `invalidArgument` if a mirostat stage is not the last.
    public init(_ stages: [SamplerStage]) throws {
        for (i, s) in stages.enumerated() {
            if s.mirostatTau != nil, i != stages.count - 1 {
                throw AlignMathError.invalidArgument("mirostat samples the token itself and must be the last stage (it is stage \(i + 1) of \(stages.count))")
            }
        }
        self.stages = stages
        seesFloatLogits = stages.contains { $0.semantics == .llamaCpp }
    }

    /// True when a stage follows llama.cpp: the final distribution is then the softmax of
    /// the logits as llama.cpp's `dist` holds them, float32 (a kept f64 logit is rounded).
    let seesFloatLogits: Bool

    /// Resets stateful stages (mirostat's `mu`).
    public func reset() { stages.forEach { $0.reset() } }

    /// The workspace for rows of `T`.
    func workspace<T: SamplingScalar>(_: T.Type) -> SamplerWorkspace<T> {
        if let w = f64Workspace as? SamplerWorkspace<T> { return w }
        if let w = f32Workspace as? SamplerWorkspace<T> { return w }
        let w = SamplerWorkspace<T>()
        if let d = w as? SamplerWorkspace<Double> { f64Workspace = d } else if let f = w as? SamplerWorkspace<Float> { f32Workspace = f }
        return w
    }

    /// Runs every stage on `logits` in `ws`; `each(i)` is called after stage `i`.
    func run<T>(_ logits: UnsafeBufferPointer<T>, _ ctx: SamplingContext, rng: RandomGenerator?, in ws: SamplerWorkspace<T>,
                each: ((Int) throws -> Void)? = nil) throws {
        guard logits.count > 0 else {
            throw AlignMathError.invalidArgument("logits must not be empty")
        }
        ws.begin(logits)
        var xtcStage = 0
        for (i, stage) in stages.enumerated() {
            try apply(stage, ws, ctx, rng: rng, xtcStage: &xtcStage, isLast: i == stages.count - 1)
            try refuseIfNaN(ws)
            try each?(i)
        }
    }

    /// Throws "logits contain NaN at id N" when a pass over the caller's row met a NaN
    /// (`SamplerWorkspace.sawNaN`); only then is the row scanned for the id. Throws
    /// "stage N (name) wrote NaN at id K" when a pass met a NaN a custom stage wrote
    /// (`stageNaN`): a NaN must give an error, never be dropped and turn into numbers.
    @inline(__always) func refuseIfNaN<T>(_ ws: SamplerWorkspace<T>) throws {
        if ws.sawNaN { try Self.refuseNaN(ws.base) }
        if ws.stageNaN { throw stageWroteNaN(ws) }
    }

    /// The error for a NaN written by `ws.writer`: its place in the chain (1-based), its
    /// name and the first NaN's id (from the read-back of a stage run on the candidates,
    /// else from the dense row, which the stage wrote and nothing has moved since).
    func stageWroteNaN<T>(_ ws: SamplerWorkspace<T>) -> AlignMathError {
        var id = ws.stageNaNId
        if id < 0, let d = ws.dense.baseAddress { id = (0..<ws.dense.count).first { d[$0] != d[$0] } ?? -1 }
        let at = id < 0 ? "" : " at id \(id)"
        guard let w = ws.writer else { return .invalidArgument("a stage wrote NaN\(at)") }
        let n = stages.firstIndex { $0 === w }.map { " \($0 + 1)" } ?? ""
        return .invalidArgument("stage\(n) (\(w.name)) wrote NaN\(at); a stage must leave numbers or -inf (removed)")
    }

    /// One stage on the workspace, in the stage's semantics.
    func apply<T>(_ stage: SamplerStage, _ ws: SamplerWorkspace<T>, _ ctx: SamplingContext, rng: RandomGenerator?,
                  xtcStage: inout Int, isLast: Bool) throws {
        let llama = stage.semantics == .llamaCpp
        let mk = stage.minKeep
        switch stage.kind {
        case .temperature(let t):
            if llama { ws.llamaTemperature(Float(t)); return }
            if t == 0 { ws.topK(1, exact: true); return }
            ws.divide(by: T(t))
        case .dynamicTemperature(let t, let delta, let exponent):
            if llama {
                ws.llamaDynamicTemperature(Float(t), delta: Float(delta), exponent: Float(exponent))
            } else {
                ws.makeSparse(); ws.dynamicTemperature(t, delta: delta, exponent: exponent)
            }
        case .topK(let k):
            if llama { ws.llamaTopK(k) } else { ws.topK(k == 0 ? 0 : max(k, mk), exact: false) }
        case .greedy:
            // llama.cpp's greedy sampler only marks its choice (cur_p->selected) and removes
            // nothing: before another stage it changes nothing, the chain's dist (or
            // mirostat) chooses again over every entry.
            if llama { if isLast { ws.llamaGreedy() } } else { ws.topK(1, exact: true) }
        case .topP(let p):
            if llama { ws.llamaTopP(Float(p), minKeep: mk) } else { ws.makeSparse(); ws.topP(p, minKeep: mk) }
        case .minP(let p):
            if llama { ws.llamaMinP(Float(p), minKeep: mk) } else { ws.makeSparse(); ws.minP(p, minKeep: mk) }
        case .typical(let p):
            if llama { ws.llamaTypical(Float(p), minKeep: mk) } else { ws.makeSparse(); ws.typical(p, minKeep: mk) }
        case .epsilon(let e):
            ws.makeSparse(); ws.epsilonEta(e, minKeep: mk, eta: false)
        case .eta(let e):
            ws.makeSparse(); ws.epsilonEta(e, minKeep: mk, eta: true)
        case .topNSigma(let n):
            if llama { ws.llamaTopNSigma(Float(n)) } else { ws.makeSparse(); ws.topNSigma(n, minKeep: mk) }
        case .xtc(let probability, let threshold):
            guard let g = rng ?? ctx.rng else {
                throw AlignMathError.invalidArgument("xtc draws from a generator: pass one (ctx.rng) to apply/probs/explain")
            }
            if llama {
                let k = xtcStage
                ws.llamaXTC(probability: Float(probability), threshold: Float(threshold), minKeep: mk) { Float(Self.xtcChance(g, stage: k)) }
            } else {
                let k = xtcStage
                ws.makeSparse(); ws.xtc(probability: probability, threshold: threshold, minKeep: mk) { Self.xtcChance(g, stage: k) }
            }
            xtcStage += 1
        case .mirostatV2:
            if llama { ws.llamaMirostatTruncate(mu: Float(stage.mu)) } else { ws.makeSparse(); ws.mirostatTruncate(mu: stage.mu) }
        case .mirostatV1(_, _, let m):
            let v = ws.vocab
            if llama {
                ws.llamaMirostatV1Truncate(mu: Float(stage.mu), m: m, vocab: v)
            } else {
                ws.makeSparse(); ws.mirostatV1Truncate(mu: stage.mu, m: m, vocab: v)
            }
        case .penalties(let rep, let freq, let pres, let lastN):
            applyPenalties(rep, freq, pres, lastN, ctx.history, ws, llama: llama)
        case .logitBias(let bias):
            let v = ws.vocab
            var targets: [Int] = []
            for id in bias.keys.sorted() {
                guard id >= 0, id < v else {
                    // llama.cpp's logit_bias sampler looks each id up among the entries and
                    // skips one it does not find (llama_sampler_logit_bias_apply's search).
                    if llama { continue }
                    throw AlignMathError.invalidArgument("logit_bias id \(id) is outside the vocabulary (0..<\(v))")
                }
                targets.append(id)
            }
            if llama {
                ws.modify(targets, keepNegInf: true) { j, x in T(Float(x) + Float(bias[targets[j]] ?? 0)) }
            } else {
                ws.modify(targets) { j, x in x + T(bias[targets[j]] ?? 0) }
            }
        case .custom(let body):
            let n = ws.vocab
            let f64 = T.self == Double.self
            if ws.mode == .lazy, ws.divisor == 1, ws.patchIds.isEmpty, let src = ws.base.baseAddress,
               try body.lend(UnsafeRawPointer(src), count: n, f64: f64) {
                // The caller's row, untouched so far: the stage sees it in place (copied
                // on its first write). One read for the NaN test instead of a copy.
                body.rowIsBlank = false
                ws.noteNaN(src, count: n)
                try refuseIfNaN(ws)  // the stage never sees a NaN
                if let left = try body.runLent(ctx) {
                    ws.dense = UnsafeMutableBufferPointer(start: left.assumingMemoryBound(to: T.self), count: n)
                    ws.mode = .dense
                    ws.writer = stage
                }
                return
            }
            let raw = try body.rowBuffer(count: n, f64: f64)
            let row = UnsafeMutableBufferPointer(start: raw.assumingMemoryBound(to: T.self), count: n)
            if ws.mode == .sparse {
                // Candidates only: written into the blank row (blanked once, the first
                // time), read back with whatever the stage made finite, blanked again.
                if !body.rowIsBlank { row.update(repeating: -.infinity) }
                body.rowIsBlank = false
                ws.scatter(into: row)
                try body.run(DenseRow(count: n, base: raw, isF64: f64), ctx)
                ws.writer = stage
                ws.gatherAndBlank(row)
                body.rowIsBlank = true
            } else {
                body.rowIsBlank = false
                ws.makeDense(into: row)
                try refuseIfNaN(ws)  // the stage never sees a NaN; one it writes is its own
                try body.run(DenseRow(count: n, base: raw, isF64: f64), ctx)
                ws.writer = stage
            }
        }
    }

    /// The chance of the chain's `stage`-th XTC stage: one draw of that stage's own stream
    /// for a llama.cpp generator (a float, as `std::uniform_real_distribution<float>` gives
    /// it), else one `uniform()` of the generator.
    static func xtcChance(_ g: RandomGenerator, stage: Int) -> Double {
        if let c = g.withLlamaStreams({ $0.xtcChance(stage: stage) }) { return Double(c) }
        return g.uniform()
    }

    /// Counts each id in the window of the history, then penalises them (in the row's
    /// dtype; in float as llama.cpp for its semantics, which also disables the stage when
    /// its float parameters are neutral).
    func applyPenalties<T>(_ rep: Double, _ freq: Double, _ pres: Double, _ lastN: Int, _ history: [Int],
                           _ ws: SamplerWorkspace<T>, llama: Bool) {
        guard lastN != 0 else { return }
        if llama {
            guard Float(rep) != 1 || Float(freq) != 0 || Float(pres) != 0 else { return }
            // llama.cpp's penalties flag the array unsorted whenever they run, tokens seen
            // or not: later stages sort again (ties may move) and dist takes the true maximum.
            if history.isEmpty { ws.llamaSorted = false; return }
        } else {
            guard !history.isEmpty else { return }
            guard rep != 1 || freq != 0 || pres != 0 else { return }
        }
        let start = lastN < 0 ? 0 : max(0, history.count - lastN)
        ws.countHistory(history[start...])
        let counts = ws.counts
        if llama {
            let r = Float(rep), f = Float(freq), p = Float(pres)
            ws.modify(ws.targets, keepNegInf: true) { j, x in
                var y = Float(x)
                y = y <= 0 ? y * r : y / r
                y -= Float(counts[j]) * f + Float(counts[j] > 0 ? 1 : 0) * p
                return T(y)
            }
            ws.llamaSorted = false
        } else {
            let r = T(rep), f = T(freq), p = T(pres)
            ws.modify(ws.targets) { j, x in
                var y = x < 0 ? x * r : x / r
                if f != 0 || p != 0 { y -= T(counts[j]) * f + p }
                return y
            }
        }
    }

    /// The logits after every stage, dense over the vocabulary, removed tokens `-inf`,
    /// in the row's dtype.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func apply<T: SamplingScalar>(_ logits: UnsafeBufferPointer<T>, context: SamplingContext = SamplingContext()) throws -> [T] {
        let ws = workspace(T.self)
        try run(logits, context, rng: nil, in: ws)
        ws.noteDenseNaN()  // a row a custom stage left (nothing else reads it here)
        ws.makeDense()
        try refuseIfNaN(ws)
        return Array(ws.dense)
    }

    /// `apply` on an array.
    public func apply<T: SamplingScalar>(_ logits: [T], context: SamplingContext = SamplingContext()) throws -> [T] {
        try logits.withUnsafeBufferPointer { try apply($0, context: context) }
    }

    /// The final distribution, dense over the vocabulary (0 for removed tokens): computed
    /// in Double, returned in the row's dtype. With a llama.cpp-semantics stage, the
    /// probabilities llama.cpp's `dist` computes (float32, `llamaDistProbabilities`), so they
    /// agree with llama.cpp's own to float precision on f32 and f64 rows alike.
    /// - Throws: `allMasked` if no token survives.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func probs<T: SamplingScalar>(_ logits: UnsafeBufferPointer<T>, context: SamplingContext = SamplingContext()) throws -> [T] {
        try probabilities(logits, context: context, as: T.self)
    }

    /// `probs` before the rounding to the row's dtype: the Double probabilities the chain
    /// computes (and draws from), so a float32 row's tiny probabilities do not underflow to 0
    /// (chain:distribution, chain:logprob).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func probs64<T: SamplingScalar>(_ logits: UnsafeBufferPointer<T>, context: SamplingContext = SamplingContext()) throws -> [Double] {
        try probabilities(logits, context: context, as: Double.self)
    }

    @_specialize(where T == Float, U == Float)
    @_specialize(where T == Double, U == Double)
    @_specialize(where T == Float, U == Double)
    func probabilities<T: SamplingScalar, U: BinaryFloatingPoint>(_ logits: UnsafeBufferPointer<T>, context: SamplingContext,
                                                             as: U.Type) throws -> [U] {
        let ws = workspace(T.self)
        try run(logits, context, rng: nil, in: ws)
        ws.makeSparse()
        try refuseIfNaN(ws)
        guard ws.count > 0 else { throw AlignMathError.allMasked(row: 0) }
        if seesFloatLogits { ws.llamaDistProbabilities() } else { ws.softmax() }
        var out = [U](repeating: 0, count: ws.vocab)
        for i in 0..<ws.count { out[Int(ws.ids[i])] = U(ws.probs[i]) }
        return out
    }

    /// `probs` on an array.
    public func probs<T: SamplingScalar>(_ logits: [T], context: SamplingContext = SamplingContext()) throws -> [T] {
        try logits.withUnsafeBufferPointer { try probs($0, context: context) }
    }

    /// Draws one token id (0-based) from the final distribution with `rng` (see
    /// `sampleDetailed` for how each engine draws). Updates mirostat's `mu` when the
    /// chain ends in mirostat.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func sample<T: SamplingScalar>(_ logits: UnsafeBufferPointer<T>, rng: RandomGenerator, context: SamplingContext = SamplingContext()) throws -> Int {
        try sampleDetailed(logits, rng: rng, context: context, withEntropy: false).id
    }

    /// `sample` on an array.
    public func sample<T: SamplingScalar>(_ logits: [T], rng: RandomGenerator, context: SamplingContext = SamplingContext()) throws -> Int {
        try logits.withUnsafeBufferPointer { try sample($0, rng: rng, context: context) }
    }

    /// `sample`, also returning the chosen token's probability and, with `withEntropy`,
    /// the final entropy and the number of candidates (else NaN and 0). The moonlab engine draws one `uniform()` and walks the
    /// candidates' probabilities (Double) in the chain's order (plus one draw per XTC
    /// stage that is not skipped); the llama.cpp engine draws as llama.cpp's `dist`
    /// sampler does (or, after mirostat, `std::discrete_distribution`), from the same
    /// mt19937 stream, so the tokens are llama.cpp's (`ChainDraw`).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func sampleDetailed<T: SamplingScalar>(_ logits: UnsafeBufferPointer<T>, rng: RandomGenerator, context: SamplingContext = SamplingContext(),
                                                  withEntropy: Bool = true) throws -> SampledToken {
        let ws = workspace(T.self)
        try run(logits, context, rng: rng, in: ws)
        let last = stages.last
        let mirostat = last?.mirostatTau != nil ? last : nil
        var how = ChainDrawKind.dist
        if mirostat != nil { how = .discrete } else if let l = last, case .greedy = l.kind { how = .selected }
        let pick = ws.draw(rng, how)
        try refuseIfNaN(ws)
        guard let pick else { throw AlignMathError.allMasked(row: 0) }
        if let m = mirostat, let tau = m.mirostatTau {
            let eta: Double
            switch m.kind {
            case .mirostatV2(_, let e), .mirostatV1(_, let e, _): eta = e
            default: eta = 0
            }
            if m.semantics == .llamaCpp {
                let surprise = -log2f(Float(pick.prob))
                m.mu = Double(Float(m.mu) - Float(eta) * (surprise - Float(tau)))
            } else {
                m.mu -= eta * (-Foundation.log2(pick.prob) - tau)
            }
        }
        var token = SampledToken(id: pick.id, prob: pick.prob, entropy: .nan, count: 0)
        if withEntropy {
            ws.makeSparse()
            token.count = ws.count
            ws.softmax()
            token.entropy = ws.entropy()
        }
        return token
    }

    /// `sampleDetailed` on an array.
    public func sampleDetailed<T: SamplingScalar>(_ logits: [T], rng: RandomGenerator, context: SamplingContext = SamplingContext(),
                                                  withEntropy: Bool = true) throws -> SampledToken {
        try logits.withUnsafeBufferPointer { try sampleDetailed($0, rng: rng, context: context, withEntropy: withEntropy) }
    }

    /// Per stage (after an `input` entry for the raw row): surviving count, their mass
    /// under the original softmax, the entropy of the renormalised survivors and the
    /// `top` most probable survivors. Reads the whole row per stage (a diagnostic) and
    /// leaves the stages' work untouched (llama.cpp's -inf entries included).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func explain<T: SamplingScalar>(_ logits: UnsafeBufferPointer<T>, context: SamplingContext = SamplingContext(), top: Int = 5) throws -> [StageReport] {
        guard logits.count > 0 else { throw AlignMathError.invalidArgument("logits must not be empty") }
        try Self.refuseNaN(logits)  // a diagnostic that reads the row once per stage anyway
        var mx = -Double.infinity
        for v in logits where Double(v) > mx { mx = Double(v) }
        var z = 0.0
        for v in logits where v > -.infinity { z += Foundation.exp(Double(v) - mx) }
        let ws = workspace(T.self)
        func report(_ name: String) -> StageReport {
            let (ids, vals) = ws.finiteSnapshot()
            var m = -Double.infinity
            for v in vals where Double(v) > m { m = Double(v) }
            var probs = vals.map { Foundation.exp(Double($0) - m) }
            let sum = probs.reduce(0, +)
            for i in probs.indices { probs[i] /= sum }
            var mass = 0.0
            for id in ids { mass += Foundation.exp(Double(logits[Int(id)]) - mx) / z }
            if mx == -.infinity { mass = 0 }
            var entropy = 0.0
            for p in probs where p > 0 { entropy -= p * Foundation.log(p) }
            let order = (0..<ids.count).sorted { probs[$0] > probs[$1] || (probs[$0] == probs[$1] && ids[$0] < ids[$1]) }
            let tops = order.prefix(max(0, top)).map { TokenProb(id: Int(ids[$0]), prob: probs[$0]) }
            return StageReport(name: name, count: ids.count, mass: mass, entropy: entropy, top: tops)
        }
        var reports: [StageReport] = []
        ws.begin(logits)
        reports.append(report("input"))
        var xtcStage = 0
        for (i, stage) in stages.enumerated() {
            try apply(stage, ws, context, rng: nil, xtcStage: &xtcStage, isLast: i == stages.count - 1)
            if case .custom = stage.kind { ws.noteDenseNaN() }
            try refuseIfNaN(ws)
            reports.append(report(stage.name))
        }
        return reports
    }

    /// `explain` on an array.
    public func explain<T: SamplingScalar>(_ logits: [T], context: SamplingContext = SamplingContext(), top: Int = 5) throws -> [StageReport] {
        try logits.withUnsafeBufferPointer { try explain($0, context: context, top: top) }
    }
}
