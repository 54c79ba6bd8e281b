import LuaKit
import AlignMath

/// `chain:distribution` and `chain:logprob` (AlignMath's `ChainDistribution`).
extension SampleStages {
    static let importanceRatioDoc = """
        Which log-probability an importance ratio needs: the ratio corrects for sampling from
        one distribution (the behaviour policy: what the sampler actually drew from) while
        estimating under another (the policy being trained). Its denominator must be the
        probability of the token under the distribution it was DRAWN from: the processed one,
        after temperature, top-k/top-p/min-p and penalties (chain:logprob's first value). A
        trainer's own log-probabilities are usually taken from the model's softmax (at most
        divided by the temperature, as TRL's GRPOTrainer does): comparing those with a sampler's
        processed log-probability mixes two distributions, and for every kept token the ratio is
        off by the kept mass (processed = raw - log(kept mass) when only truncation differs).
        Comparing raw with raw, or processed with processed, is consistent; mixing them is the
        bug. Servers say which one they return: vLLM's v1 engine returns RAW log-probabilities
        by default (logprobs_mode = "raw_logprobs": before penalties, temperature and
        truncation), "processed_logprobs" after them (vllm#9453 asked for it; trl#4159 found
        vLLM's raw logprobs used as if they were the sampling distribution's). llama.cpp's
        server reports probabilities after its samplers (n_probs, post_sampling_probs).
        """

    static func addDistributionMethods(_ b: ChainBuilder, _ docs: inout [(String, String)]) {
        typealias C = SampleChainSupport
        let distributionDoc = """
            chain:distribution(logits, ctx, {samples = nil, rng = nil}) -> probs, stderr
            The distribution the chain actually samples from, over the whole vocabulary (f64
            tensor, summing to 1), and the standard error of each probability (zeros when exact).
            Exact for deterministic stages (= chain:probs in double precision, on a float32 row
            too: the probabilities chain:sample draws from, none rounded to float32 or
            underflowed to 0 by it). Two stages are random and are estimated by Monte-Carlo over `samples` runs (default 1000), averaging
            each run's whole distribution (far less noise than counting drawn tokens):
            xtc: independent runs, each with its own coin (standard error from their spread);
            mirostat: `samples` consecutive draws on this row, mu moving as chain:sample moves it
            from its current value (the chain's mu is restored afterwards), standard error from
            20 batch means. samples given for a deterministic chain forces the Monte-Carlo path
            (for a Lua stage that draws from ctx.rng itself).
            rng: the generator for the runs (default ctx.rng, then random.default). ctx as in
            chain:apply.
            Options: samples (nil: exact when deterministic, else 1000; an integer >= 2); rng (nil).
            Example: p, se = sample.chain{sample.xtc{probability = 0.5, threshold = 0.1}}:distribution(logits, nil, {samples = 2000, rng = random.new(1)})
            """
        b.method("distribution") { box, a in
            let (ctx, samples, rng) = try distributionArguments(a, ctxIndex: 3, optionsIndex: 4)
            let d = try C.running(box, a, ctxIndex: 3) {
                try C.withLogits(a, 2) { row -> ChainDistribution in
                    switch row {
                    case .f32(let r): return try box.chain.distribution(r, context: ctx, samples: samples, rng: rng)
                    case .f64(let r): return try box.chain.distribution(r, context: ctx, samples: samples, rng: rng)
                    }
                }
            }
            try a.state.push(tensorOf: d.probs)
            try a.state.push(tensorOf: d.standardErrors)
            return 2
        }
        docs.append(("distribution", distributionDoc))
        let logprobDoc = """
            chain:logprob(logits, id, ctx, {samples = nil, rng = nil}) -> processed, raw
            The log-probability of token id (0-based) under the chain's distribution (processed:
            -inf when a stage removed it; chain:distribution's, so Monte-Carlo for xtc and
            mirostat) and under the softmax of the untouched logits (raw), in double precision;
            a kept token whose probability underflows double (a logit ~745 below the top) keeps
            its finite value, log softmax of the processed logits as torch's log_softmax gives it.
            \(importanceRatioDoc)
            Options: samples, rng (as chain:distribution).
            Example: local processed, raw = chain:logprob(logits, 17, {history = {}})
            """
        b.method("logprob") { box, a in
            let id = try a.count(3, "id", in: 0...LuaLimits.maxCount)
            let (ctx, samples, rng) = try distributionArguments(a, ctxIndex: 4, optionsIndex: 5)
            let lp = try C.running(box, a, ctxIndex: 4) {
                try C.withLogits(a, 2) { row -> (processed: Double, raw: Double) in
                    switch row {
                    case .f32(let r): return try box.chain.logprob(r, id: id, context: ctx, samples: samples, rng: rng)
                    case .f64(let r): return try box.chain.logprob(r, id: id, context: ctx, samples: samples, rng: rng)
                    }
                }
            }
            a.state.push(lp.processed)
            a.state.push(lp.raw)
            return 2
        }
        docs.append(("logprob", logprobDoc))
    }

    /// ctx at `ctxIndex`, then `{samples =, rng =}` at `optionsIndex`.
    static func distributionArguments(_ a: LuaArguments, ctxIndex: Int32, optionsIndex: Int32) throws
        -> (SamplingContext, Int?, RandomGenerator) {
        let ctx = try SampleChainSupport.context(a, ctxIndex, defaultRNG: false)
        let o = try a.options(optionsIndex, allowed: ["samples", "rng"])
        let samples = try o.count("samples", in: 2...100_000_000)
        var rng = ctx.rng ?? RandomModule.defaultGenerator(a.state)
        if o.push("rng") != .nil {
            guard let g = a.state.object(at: -1, RandomGenerator.self) else {
                a.state.pop()
                throw o.optionError("rng", "a generator (random.new(seed))")
            }
            rng = g
        }
        a.state.pop()
        return (ctx, samples, rng)
    }
}
