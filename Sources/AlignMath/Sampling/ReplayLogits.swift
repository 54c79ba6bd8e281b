/// One step of `SamplerChain.replayLogits`.
public struct ReplayStep {
    /// The chosen token id.
    public var token: Int
    /// Its probability in the final distribution of the step.
    public var prob: Double
    /// Entropy (nats) of the final distribution of the step.
    public var entropy: Double
    /// Number of tokens that survived every stage.
    public var surviving: Int
}

extension SamplerChain {
    /// Walks a row-major `[T, V]` matrix of logits (`steps` rows of `vocab` values, in
    /// their dtype),
    /// sampling one token per row with this chain and `rng`; the history that penalties
    /// see starts as `context.history` and grows by each chosen token. Returns the steps
    /// in order. Polls `Interruption` between rows.
    /// - Throws: `shapeMismatch` if the buffer is not `steps * vocab` long, `allMasked`
    ///   (with the 0-based row) if a row leaves no token, `interrupted` on Ctrl-C.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func replayLogits<T: SamplingScalar>(_ logits: UnsafeBufferPointer<T>, steps: Int, vocab: Int,
                             rng: RandomGenerator, context: SamplingContext = SamplingContext()) throws -> [ReplayStep] {
        guard steps >= 0, vocab > 0 else {
            throw AlignMathError.invalidArgument("replay_logits needs steps >= 0 and vocab > 0, got \(steps) and \(vocab)")
        }
        guard logits.count == steps * vocab else {
            throw AlignMathError.shapeMismatch("replay_logits: \(logits.count) logits is not steps x vocab (\(steps) x \(vocab))")
        }
        var ctx = context
        var out: [ReplayStep] = []
        out.reserveCapacity(steps)
        guard let start = logits.baseAddress else { return out }
        for t in 0..<steps {
            if Interruption.isPending { throw AlignMathError.interrupted }
            let row = UnsafeBufferPointer(start: start + t * vocab, count: vocab)
            let s: SampledToken
            do {
                s = try sampleDetailed(row, rng: rng, context: ctx)
            } catch AlignMathError.allMasked {
                throw AlignMathError.allMasked(row: t)
            } catch AlignMathError.invalidArgument(let m) where m.hasPrefix("logits contain NaN") {
                throw AlignMathError.invalidArgument("\(m) in row \(t) (0-based)")
            }
            ctx.history.append(s.id)
            out.append(ReplayStep(token: s.id, prob: s.prob, entropy: s.entropy, surviving: s.count))
        }
        return out
    }
}
