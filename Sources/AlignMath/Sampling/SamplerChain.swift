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
/// The stages run in order on a reusable workspace: until the first truncating stage the
/// row is the caller's buffer seen lazily (penalties and logit_bias patch single ids,
/// temperature is a pending divisor: no copy of the vocabulary); top-k scans it once and
/// leaves a small candidate list (ids + logits) on which every later stage works. Dense
/// `-inf`-filled logits are built only by `apply`, `probs` and custom stages. A chain is
/// not thread-safe (one workspace); give each thread its own chain.
public final class SamplerChain {
    /// The stages, in order.
    public let stages: [SamplerStage]
    let ws = SamplerWorkspace()

    /// A chain of `stages`.
    /// - Throws: `invalidArgument` if a mirostat stage is not the last.
    public init(_ stages: [SamplerStage]) throws {
        for (i, s) in stages.enumerated() {
            if case .mirostatV2 = s.kind, i != stages.count - 1 {
                throw AlignMathError.invalidArgument("mirostat samples the token itself and must be the last stage (it is stage \(i + 1) of \(stages.count))")
            }
        }
        self.stages = stages
    }

    /// Resets stateful stages (mirostat's `mu`).
    public func reset() { stages.forEach { $0.reset() } }

    /// Runs every stage; `each(i)` is called after stage `i`.
    func run(_ logits: UnsafeBufferPointer<Float>, _ ctx: SamplingContext, rng: RandomGenerator?,
             each: ((Int) throws -> Void)? = nil) throws {
        guard logits.count > 0 else {
            throw AlignMathError.invalidArgument("logits must not be empty")
        }
        ws.begin(logits)
        for (i, stage) in stages.enumerated() {
            try apply(stage, ctx, rng: rng)
            try each?(i)
        }
    }

    func apply(_ stage: SamplerStage, _ ctx: SamplingContext, rng: RandomGenerator?) throws {
        let llama = stage.semantics == .llamaCpp
        let mk = stage.minKeep
        switch stage.kind {
        case .temperature(let t):
            if t == 0 { ws.topK(1, exact: true); return }
            let tf = Float(t)
            switch ws.mode {
            case .lazy:
                ws.divisor *= tf
                for j in 0..<ws.patchVals.count { ws.patchVals[j] /= tf }
            case .dense:
                for i in 0..<ws.dense.count { ws.dense[i] /= tf }
            case .sparse:
                for i in 0..<ws.vals.count { ws.vals[i] /= tf }
                ws.probs.removeAll(keepingCapacity: true)
            }
        case .topK(let k):
            ws.topK(k == 0 ? 0 : (llama ? k : max(k, mk)), exact: llama)
        case .greedy:
            ws.topK(1, exact: true)
        case .topP(let p):
            ws.makeSparse()
            if llama { ws.topPLlama(p, minKeep: mk) } else { ws.topPTransformers(p, minKeep: mk) }
        case .minP(let p):
            ws.makeSparse(); ws.minP(p, minKeep: mk, llama: llama)
        case .typical(let p):
            ws.makeSparse(); ws.typical(p, minKeep: mk, llama: llama)
        case .epsilon(let e):
            ws.makeSparse(); ws.epsilonEta(e, minKeep: mk, eta: false)
        case .eta(let e):
            ws.makeSparse(); ws.epsilonEta(e, minKeep: mk, eta: true)
        case .topNSigma(let n):
            ws.makeSparse(); ws.topNSigma(n, minKeep: mk)
        case .xtc(let probability, let threshold):
            guard let g = rng ?? ctx.rng else {
                throw AlignMathError.invalidArgument("xtc draws from a generator: pass one (ctx.rng) to apply/probs/explain")
            }
            ws.makeSparse(); ws.xtc(probability: probability, threshold: threshold, minKeep: mk, rng: g)
        case .mirostatV2:
            ws.makeSparse(); ws.mirostatTruncate(mu: stage.mu)
        case .penalties(let rep, let freq, let pres, let lastN):
            try applyPenalties(rep, freq, pres, lastN, ctx.history)
        case .logitBias(let bias):
            let v = ws.vocab
            var targets: [Int] = []
            for id in bias.keys.sorted() {
                guard id < v else {
                    throw AlignMathError.invalidArgument("logit_bias id \(id) is outside the vocabulary (0..<\(v))")
                }
                targets.append(id)
            }
            ws.modify(targets) { j, x in x + Float(bias[targets[j]] ?? 0) }
        case .custom(let body):
            ws.makeDense()
            let n = ws.vocab
            try body(&ws.dense, ctx)
            guard ws.dense.count == n else {
                throw AlignMathError.shapeMismatch("stage \(stage.name) changed the number of logits (\(n) to \(ws.dense.count))")
            }
        }
    }

    /// Counts each id in the last `lastN` history tokens, then penalises them.
    func applyPenalties(_ rep: Double, _ freq: Double, _ pres: Double, _ lastN: Int, _ history: [Int]) throws {
        guard lastN != 0, rep != 1 || freq != 0 || pres != 0, !history.isEmpty else { return }
        let start = lastN < 0 ? 0 : max(0, history.count - lastN)
        let v = ws.vocab
        ws.history.removeAll(keepingCapacity: true)
        for id in history[start...] where id >= 0 && id < v { ws.history.append(id) }
        ws.history.sort()
        var targets = ws.targets, counts = ws.counts
        ws.targets = []; ws.counts = []
        targets.removeAll(keepingCapacity: true); counts.removeAll(keepingCapacity: true)
        defer { ws.targets = targets; ws.counts = counts }
        for id in ws.history {
            if targets.last == id { counts[counts.count - 1] += 1 } else { targets.append(id); counts.append(1) }
        }
        let r = Float(rep), f = Float(freq), p = Float(pres)
        ws.modify(targets) { j, x in
            var y = x < 0 ? x * r : x / r
            if f != 0 || p != 0 { y -= Float(counts[j]) * f + p }
            return y
        }
    }

    /// The logits after every stage, dense over the vocabulary, removed tokens `-inf`.
    public func apply(_ logits: UnsafeBufferPointer<Float>, context: SamplingContext = SamplingContext()) throws -> [Float] {
        try run(logits, context, rng: nil)
        ws.makeDense()
        return ws.dense
    }

    /// `apply` on an array.
    public func apply(_ logits: [Float], context: SamplingContext = SamplingContext()) throws -> [Float] {
        try logits.withUnsafeBufferPointer { try apply($0, context: context) }
    }

    /// The final distribution, dense over the vocabulary (0 for removed tokens).
    /// - Throws: `allMasked` if no token survives.
    public func probs(_ logits: UnsafeBufferPointer<Float>, context: SamplingContext = SamplingContext()) throws -> [Float] {
        try run(logits, context, rng: nil)
        ws.makeSparse()
        guard ws.count > 0 else { throw AlignMathError.allMasked(row: 0) }
        ws.softmax()
        var out = [Float](repeating: 0, count: ws.vocab)
        for i in 0..<ws.count { out[Int(ws.ids[i])] = Float(ws.probs[i]) }
        return out
    }

    /// `probs` on an array.
    public func probs(_ logits: [Float], context: SamplingContext = SamplingContext()) throws -> [Float] {
        try logits.withUnsafeBufferPointer { try probs($0, context: context) }
    }

    /// Draws one token id (0-based) from the final distribution with `rng` (one
    /// `uniform()` by inverse CDF over the candidates, plus one for each XTC stage that
    /// is not skipped). Updates mirostat's `mu` when the chain ends in mirostat.
    public func sample(_ logits: UnsafeBufferPointer<Float>, rng: RandomGenerator, context: SamplingContext = SamplingContext()) throws -> Int {
        try sampleDetailed(logits, rng: rng, context: context).id
    }

    /// `sample` on an array.
    public func sample(_ logits: [Float], rng: RandomGenerator, context: SamplingContext = SamplingContext()) throws -> Int {
        try logits.withUnsafeBufferPointer { try sample($0, rng: rng, context: context) }
    }

    /// `sample`, also returning the chosen token's probability, the final entropy and
    /// the number of candidates.
    public func sampleDetailed(_ logits: UnsafeBufferPointer<Float>, rng: RandomGenerator, context: SamplingContext = SamplingContext(), withEntropy: Bool = true) throws -> SampledToken {
        try run(logits, context, rng: rng)
        ws.makeSparse()
        let n = ws.count
        guard n > 0 else { throw AlignMathError.allMasked(row: 0) }
        ws.softmax()
        let target = rng.uniform()
        var cum = 0.0
        var pick = -1
        for i in 0..<n where ws.probs[i] > 0 {
            cum += ws.probs[i]
            pick = i
            if cum > target { break }
        }
        if pick < 0 { pick = 0 }
        let prob = ws.probs[pick]
        if let last = stages.last, case .mirostatV2(let tau, let eta) = last.kind {
            last.mu -= eta * (-Foundation.log2(prob) - tau)
        }
        return SampledToken(id: Int(ws.ids[pick]), prob: prob, entropy: withEntropy ? ws.entropy() : .nan, count: n)
    }

    /// Per stage (after an `input` entry for the raw row): surviving count, their mass
    /// under the original softmax, the entropy of the renormalised survivors and the
    /// `top` most probable survivors. Reads the whole row per stage (a diagnostic).
    public func explain(_ logits: UnsafeBufferPointer<Float>, context: SamplingContext = SamplingContext(), top: Int = 5) throws -> [StageReport] {
        guard logits.count > 0 else { throw AlignMathError.invalidArgument("logits must not be empty") }
        var mx = -Float.infinity
        for v in logits where v > mx { mx = v }
        var z = 0.0
        for v in logits where v > -.infinity { z += Foundation.exp(Double(v) - Double(mx)) }
        func report(_ name: String) -> StageReport {
            ws.makeSparse()
            ws.softmax()
            var mass = 0.0
            for id in ws.ids { mass += Foundation.exp(Double(logits[Int(id)]) - Double(mx)) / z }
            if mx == -.infinity { mass = 0 }
            let order = (0..<ws.count).sorted { ws.probs[$0] > ws.probs[$1] || (ws.probs[$0] == ws.probs[$1] && ws.ids[$0] < ws.ids[$1]) }
            let tops = order.prefix(max(0, top)).map { TokenProb(id: Int(ws.ids[$0]), prob: ws.probs[$0]) }
            return StageReport(name: name, count: ws.count, mass: mass, entropy: ws.entropy(), top: tops)
        }
        var reports: [StageReport] = []
        ws.begin(logits)
        reports.append(report("input"))
        ws.begin(logits)
        for stage in stages {
            try apply(stage, context, rng: nil)
            reports.append(report(stage.name))
        }
        return reports
    }

    /// `explain` on an array.
    public func explain(_ logits: [Float], context: SamplingContext = SamplingContext(), top: Int = 5) throws -> [StageReport] {
        try logits.withUnsafeBufferPointer { try explain($0, context: context, top: top) }
    }
}
