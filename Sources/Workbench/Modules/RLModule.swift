import LuaKit
import AlignMath

extension Workbench {
    /// The `rl` module: returns, GAE, whitening, PPO and value losses, KL estimators and
    /// penalties, group advantages and the adaptive KL controller (AlignMath's `RL`).
    static func installRL(_ wb: Workbench) throws {
        let m = ModuleBuilder(wb.lua, name: "rl", doc: """
            rl: policy-gradient arithmetic (TRL's formulas, in float64)
            returns, gae, whiten, ppo_loss, value_loss, kl, kl_penalty, group_advantages,
            adaptive_kl; the lab: dry_run (advantages and loss weights of a batch before
            training), kl_lab (the KL estimators against the exact KL). Vectors in are Lua arrays or tensors; vectors out are tensors.
            Example: local adv, ret = rl.gae(rewards, values, {gamma = 0.99, lambda = 0.95})
            """)
        installReturns(m)
        installLosses(m)
        installKL(m)
        installAdaptiveKL(m)
        installRLLab(m)
    }

    /// `rl.returns`, `rl.gae`, `rl.whiten`, `rl.group_advantages`.
    private static func installReturns(_ m: ModuleBuilder) {
        m.function("returns", doc: """
            rl.returns(rewards, {gamma = 1, dones = nil, last_value = 0}) -> returns
            Discounted returns G[t] = r[t] + gamma * G[t+1], with G[T+1] = last_value.
            dones[t] true (or 1) ends the episode after step t: nothing is carried back across it.
            rewards may be a batch (2-d: rows x steps); each row is its own trajectory, dones has
            the same shape and last_value is a number or one value per row.
            Options: gamma (1, in [0, 1]), dones (nil), last_value (0).
            Example: rl.returns({0, 0, 1}, {gamma = 0.9})  --> tensor [0.81, 0.9, 1]
            """) { args in
            let r = try args.tensor(1)
            let o = try args.options(2, allowed: ["gamma", "dones", "last_value"])
            let (rows, _) = try batchLayout(r, args, "rewards")
            let gamma = try o.number("gamma", default: 1)
            let dones = try o.flags("dones")
            if let d = dones, d.count != r.count {
                throw args.failure("rewards and dones differ in length (\(r.count) vs \(d.count))")
            }
            let last = try lastValues(o, rows: rows)
            let out = try flagged(args, option: 2) { try RL.returns(r, gamma: gamma, dones: dones, lastValues: last) }
            args.state.push(tensor: out)
            return 1
        }

        m.function("gae", doc: """
            rl.gae(rewards, values, {gamma = 1, lambda = 0.95, dones = nil, last_value = 0})
              -> advantages, returns
            Generalised advantage estimation as TRL's PPO trainer: delta[t] = r[t] + gamma*V[t+1] -
            V[t], A[t] = delta[t] + gamma*lambda*A[t+1], V[T+1] = last_value; returns = A + V.
            dones[t] true (or 1) cuts bootstrapping after step t. A batch (2-d: rows x steps) is
            computed row by row; last_value is then a number or one value per row.
            Options: gamma (1), lambda (0.95), both in [0, 1]; dones (nil); last_value (0).
            Example: local adv, ret = rl.gae({1, 0, 1}, {0.5, 0.4, 0.3}, {gamma = 0.99})
            """) { args in
            let r = try args.tensor(1), v = try args.tensor(2)
            let o = try args.options(3, allowed: ["gamma", "lambda", "dones", "last_value"])
            let (rows, _) = try batchLayout(r, args, "rewards")
            if r.shape != v.shape {
                if r.ndim == 1 && v.ndim == 1 {
                    throw args.failure("rewards and values differ in length (\(r.count) vs \(v.count))")
                }
                throw args.failure("rewards and values differ in shape (\(formatShape(r.shape)) vs \(formatShape(v.shape)))")
            }
            let gamma = try o.number("gamma", default: 1), lambda = try o.number("lambda", default: 0.95)
            let dones = try o.flags("dones")
            if let d = dones, d.count != r.count {
                throw args.failure("rewards and dones differ in length (\(r.count) vs \(d.count))")
            }
            let last = try lastValues(o, rows: rows)
            // tensors read in place (a Lua array was read once, into a tensor; an array of
            // booleans straight into the bool tensor the kernel reads), both outputs written by
            // the kernel into one block
            let g = try flagged(args, option: 3) {
                try RL.gae(rewards: r, values: v, gamma: gamma, lambda: lambda, dones: dones, lastValues: last)
            }
            args.state.push(tensor: g.advantages)
            args.state.push(tensor: g.returns)
            return 2
        }

        m.function("whiten", doc: """
            rl.whiten(x, {shift_mean = true}) -> tensor
            (x - mean) / sqrt(var + 1e-8) over all elements, with the unbiased variance, as TRL's
            masked_whiten; shift_mean = false adds the mean back. Needs at least 2 values.
            The result keeps the shape of x.
            Options: shift_mean (true).
            Example: rl.whiten(advantages)
            """) { args in
            let x = try args.tensor(1)
            let o = try args.options(2, allowed: ["shift_mean"])
            args.state.push(tensor: try RL.whiten(x, shiftMean: try o.boolean("shift_mean", default: true)))
            return 1
        }

        m.function("group_advantages", doc: """
            rl.group_advantages(rewards, group_size, {method = "grpo", scale = nil}) -> tensor
            Advantages of consecutive groups of group_size completions of the same prompt:
            grpo: r - mean(group), divided by std + 1e-4 (TRL grpo_trainer); rloo: r - mean of
            the other members (TRL rloo_trainer; all 0 for group_size 1, as TRL 1.16 gives with
            num_generations = 1); dr_grpo: r - mean(group), never scaled. scale: "group"
            (unbiased std of each group), "batch" (of all rewards; for rloo TRL's
            normalize_advantages) or "none"; default "group" for grpo, "none" otherwise.
            NaN rewards (a reward that does not apply) are handled as TRL 1.16 does (GRPOTrainer,
            RLOOTrainer): group means and stds are nanmean and TRL's nanstd over the rest of the
            group (the RLOO baseline over its scorable members), and a NaN advantage becomes 0
            (nan_to_num): only that row, never its whole group. Keeps the shape of rewards.
            scale = true / false are "group" / "none", as TRL's GRPOConfig maps scale_rewards.
            Options: method ("grpo"), scale (by method).
            Example: rl.group_advantages({1, 0, 0, 1, 1, 1}, 3, {method = "rloo"})
            """) { args in
            let r = try args.tensor(1)
            let size = try args.count(2, "group_size", in: 1...LuaLimits.maxCount)
            let o = try args.options(3, allowed: ["method", "scale"])
            let method = try RL.GroupMethod.named(
                try o.choice("method", RL.GroupMethod.allCases.map(\.rawValue), default: "grpo"))
            var scale: RL.GroupScale? = nil
            if o.has("scale") {
                let t = o.push("scale")
                let flag = t == .boolean ? o.state.boolean(at: -1) : nil
                o.state.pop()
                if let flag {  // TRL's GRPOConfig: scale_rewards = True is "group", False "none"
                    scale = flag ? .group : RL.GroupScale.none
                } else {
                    scale = try RL.GroupScale.named(
                        try o.choice("scale", RL.GroupScale.allCases.map(\.rawValue), default: "group"))
                }
            }
            args.state.push(tensor: try RL.groupAdvantages(r, groupSize: size, method: method, scale: scale))
            return 1
        }
    }

    /// `rl.ppo_loss`, `rl.value_loss`.
    private static func installLosses(_ m: ModuleBuilder) {
        m.function("ppo_loss", doc: """
            rl.ppo_loss{logp =, old_logp =, advantages =, clip = 0.2, clip_high = nil}
              -> loss, stats
            PPO's clipped surrogate as TRL's PPO trainer: mean(max(-A*ratio, -A*clip(ratio,
            1 - clip, 1 + clip_high))), ratio = exp(logp - old_logp), over all tokens (any shape).
            clip_high (default: clip) gives DAPO's asymmetric upper bound.
            stats: clipfrac (fraction of tokens where the clipped term won), approx_kl
            (0.5 * mean((logp - old_logp)^2), TRL's approxkl), ratio_mean.
            Fields: logp, old_logp, advantages (required); clip (0.2); clip_high (nil).
            Example: local loss, s = rl.ppo_loss{logp = lp, old_logp = old, advantages = adv}
            """) { args in
            try args.table(1)
            let o = try args.options(1, allowed: ["logp", "old_logp", "advantages", "clip", "clip_high"])
            let r = try RL.ppoLoss(logp: try o.requiredVector("logp"), oldLogp: try o.requiredVector("old_logp"),
                                   advantages: try o.requiredVector("advantages"),
                                   clip: try o.number("clip", default: 0.2), clipHigh: try o.number("clip_high"))
            args.state.push(r.loss)
            args.state.push(stats: ["clipfrac": r.clipfrac, "approx_kl": r.approxKL, "ratio_mean": r.ratioMean])
            return 2
        }

        m.function("value_loss", doc: """
            rl.value_loss{values =, old_values =, returns =, clip = 0.2} -> loss, stats
            Clipped value loss as TRL's PPO trainer: 0.5 * mean(max((v - R)^2, (clip(v, old - clip,
            old + clip) - R)^2)). stats.clipfrac: fraction where the clipped error was larger.
            Fields: values, old_values, returns (required); clip (0.2).
            Example: local vloss, s = rl.value_loss{values = v, old_values = v0, returns = ret}
            """) { args in
            try args.table(1)
            let o = try args.options(1, allowed: ["values", "old_values", "returns", "clip"])
            let r = try RL.valueLoss(values: try o.requiredVector("values"), oldValues: try o.requiredVector("old_values"),
                                     returns: try o.requiredVector("returns"), clip: try o.number("clip", default: 0.2))
            args.state.push(r.loss)
            args.state.push(stats: ["clipfrac": r.clipfrac])
            return 2
        }
    }

    /// `rl.kl`, `rl.kl_penalty`.
    private static func installKL(_ m: ModuleBuilder) {
        let estimators = RL.KLEstimator.allCases.map(\.rawValue) + ["kl", "mse", "low_var_kl"]
        m.function("kl", doc: """
            rl.kl(logp, ref_logp, {estimator = "k1", clamp = nil}) -> tensor
            Per-token estimates of KL(policy || ref) from the log-probabilities of the sampled
            tokens (Schulman's estimators, r = ref/policy): k1 = -log r = logp - ref_logp,
            k2 = (log r)^2 / 2, k3 = (r - 1) - log r. The result has the shape of logp. k3 is
            computed to a few ulp everywhere, near r = 1 too (a series there, where TRL's
            expm1(log r) - log r has a relative error of about 2.2e-16 / |log r|: 1e-7 at
            log r = 1e-9).
            clamp: a number c clamps every estimate to [-c, c], as OpenRLHF 0.11's
            compute_approx_kl does with c = 10 (also clamp = "openrlhf"); clamp = "verl" is verl
            0.7's kl_penalty_forward: for k3 (low_var_kl) log r is clamped to [-20, 20] before the
            exponential and the estimate to [-10, 10] after it, k1 and k2 are left alone. NaN
            stays NaN, as torch.clamp keeps it. verl's names are accepted too: "kl" (k1), "mse"
            (k2), "low_var_kl" (k3 with verl's clamp unless clamp is given: verl clamps it
            always; clamp = false for none).
            Options: estimator ("k1" | "k2" | "k3"), clamp (nil | number > 0 | "openrlhf" | "verl" | false).
            Example: rl.kl(logp, ref_logp, {estimator = "k3", clamp = "verl"}):mean()
            """) { args in
            let lp = try args.tensor(1), ref = try args.tensor(2)
            let o = try args.options(3, allowed: ["estimator", "clamp"])
            let name = try o.choice("estimator", estimators, default: "k1")
            let est = try RL.KLEstimator.named(name)
            let clamp = try klClamp(o, estimator: name)
            try checkSameShape(lp, ref, args, "logp and ref_logp")
            args.state.push(tensor: try RL.kl(logp: lp, refLogp: ref, estimator: est, clamp: clamp))
            return 1
        }

        m.function("kl_penalty", doc: """
            rl.kl_penalty(scores, logp, ref_logp, {beta = 0.1, estimator = "k1", lengths = nil,
              clamp = nil}) -> per-token rewards
            KL-shaped rewards: -beta * KL[t] on every token, plus the sequence score on the last
            real token, as TRL 0.11's PPOTrainer.compute_rewards places it (mask.nonzero()[-1])
            and OpenRLHF 0.11's compute_reward. (TRL 0.12 to 0.29's PPOTrainer, the former
            PPOv2Trainer, adds it one slot later, at sequence_length + 1 when that fits in the
            row; TRL 1.x has no PPO trainer.) clamp as in rl.kl, applied before beta.
            One sequence: scores is a number, logp and ref_logp are vectors of its tokens; the
            result is a vector. A batch: scores holds B numbers and logp, ref_logp are B x T
            (2-d tensors or arrays of arrays, one row per sequence); the result is B x T.
            lengths (batch only, B integers in 1..T) marks how many tokens of each row are real:
            the score goes on token lengths[i] and padding gets 0.
            Options: beta (0.1), estimator ("k1" | "k2" | "k3", or verl's "kl" | "mse" |
            "low_var_kl"), lengths (nil: full rows), clamp (nil).
            Example: rl.kl_penalty({1.5, -0.2}, logp, ref_logp, {beta = 0.05})
            """) { args in
            let o = try args.options(4, allowed: ["beta", "estimator", "lengths", "clamp"])
            let beta = try o.number("beta", default: 0.1)
            let name = try o.choice("estimator", estimators, default: "k1")
            let est = try RL.KLEstimator.named(name)
            let clamp = try klClamp(o, estimator: name)
            let lp = try args.tensor(2), ref = try args.tensor(3)
            try checkSameShape(lp, ref, args, "logp and ref_logp")
            if args.type(1) == .number {
                guard lp.ndim == 1 else {
                    throw args.failure("one score needs logp as a vector of its tokens, got \(lp.ndim)-d; give one score per row for a batch")
                }
                if o.has("lengths") { throw args.error(4, "option 'lengths' applies to a batch (one score per row)") }
                let out = try RL.klPenalty(score: try args.number(1), logp: lp.toDoubles(), refLogp: ref.toDoubles(),
                                           beta: beta, estimator: est, clamp: clamp)
                try args.state.push(tensorOf: out)
                return 1
            }
            let scores = try args.doubles(1, what: "number or array of numbers")
            guard lp.ndim == 2 else {
                throw args.failure("\(scores.count) scores need logp as a \(scores.count) x T batch (2-d tensor or array of arrays), got \(lp.ndim)-d")
            }
            if lp.shape[0] != scores.count {
                throw args.failure("\(scores.count) scores for \(lp.shape[0]) rows of logp")
            }
            let lengths = try o.vector("lengths").map { try args.integers($0, index: 4, what: "option 'lengths'") }
            let out = try RL.klPenalty(scores: scores, logp: lp.toDoubles(), refLogp: ref.toDoubles(), lengths: lengths,
                                       beta: beta, estimator: est, clamp: clamp)
            try args.state.push(vector: out, shape: lp.shape)
            return 1
        }
    }

    /// Runs a kernel that checks flags, turning a flag that is not 0/1 into an argument error
    /// naming the option (`bad argument #3 to 'rl.gae' (option 'dones' must hold ...)`).
    static func flagged<R>(_ args: LuaArguments, option: Int32, _ body: () throws -> R) throws -> R {
        do {
            return try body()
        } catch let e as RL.InvalidFlag {
            throw args.error(option, "option 'dones' must hold booleans or 0/1, entry \(e.position + 1) is \(formatNumber(e.value))")
        }
    }

    /// The `clamp` option of `rl.kl` and `rl.kl_penalty`.
    /// The `clamp` option: nil is no clamp, except for verl's name "low_var_kl", which
    /// verl's kl_penalty_forward always clamps (as clamp = "verl"); false is no clamp.
    static func klClamp(_ o: LuaOptions, estimator: String) throws -> RL.KLClamp {
        let t = o.push("clamp")
        defer { o.state.pop() }
        switch t {
        case .nil: return estimator == "low_var_kl" ? .verl : .none
        case .boolean where !o.state.boolean(at: -1): return .none
        case .number:
            guard let c = o.state.number(at: -1), c > 0 else {
                throw o.optionError("clamp", "a number > 0, \"openrlhf\", \"verl\" or false")
            }
            return .symmetric(c)
        case .string:
            switch o.state.string(at: -1) {
            case "openrlhf": return .symmetric(10)
            case "verl": return .verl
            default: throw o.optionError("clamp", "a number > 0, \"openrlhf\", \"verl\" or false")
            }
        default: throw o.optionError("clamp", "a number > 0, \"openrlhf\", \"verl\" or false")
        }
    }

    /// Rows and row length of a 1-d vector (one row) or a 2-d batch.
    static func batchLayout(_ t: Tensor, _ args: LuaArguments, _ what: String) throws -> (Int, Int) {
        switch t.ndim {
        case 1: return (1, t.count)
        case 2: return (t.shape[0], t.shape[1])
        default: throw args.failure("\(what) must be a vector or a batch (rows x steps), got \(t.ndim)-d")
        }
    }

    /// The `last_value` option: a number for every row, or one value per row.
    static func lastValues(_ o: LuaOptions, rows: Int) throws -> [Double] {
        let t = o.push("last_value")
        let scalar = t == .number ? o.state.number(at: -1) : nil
        o.state.pop()
        if t == .nil { return [Double](repeating: 0, count: rows) }
        if let s = scalar { return [Double](repeating: s, count: rows) }
        guard let v = try o.vector("last_value") else { return [Double](repeating: 0, count: rows) }
        if v.count != rows {
            throw o.arguments.failure("last_value needs one value per row (\(rows)), got \(v.count)")
        }
        return v
    }

    /// Two tensors of the same shape (1-d ones that differ are reported by length).
    static func checkSameShape(_ a: Tensor, _ b: Tensor, _ args: LuaArguments, _ what: String) throws {
        if a.shape == b.shape { return }
        if a.ndim == 1 && b.ndim == 1 { throw args.failure("\(what) differ in length (\(a.count) vs \(b.count))") }
        throw args.failure("\(what) differ in shape (\(formatShape(a.shape)) vs \(formatShape(b.shape)))")
    }
}
