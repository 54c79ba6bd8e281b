import LuaKit
import AlignMath

extension Workbench {
    /// The `pref` module: Bradley–Terry, listwise, the DPO family, SimPO, ORPO and KTO
    /// (AlignMath's `Preference`).
    static func installPref(_ wb: Workbench) throws {
        let m = ModuleBuilder(wb.lua, name: "pref", doc: """
            pref: preference losses (TRL 1.x's formulas, in float64)
            bt_loss, listwise_loss, dpo_loss, simpo_loss, orpo_loss, kto_loss (grad = true adds
            their gradients), explore (a loss and its gradient along the margin). Log-probabilities
            are summed over each completion; vectors in are Lua arrays or tensors, out tensors.
            Example: local losses, cr, rr, s = pref.dpo_loss{policy_chosen = pc, policy_rejected = pr, ref_chosen = rc, ref_rejected = rr}
            """)
        installRewardModelLosses(m)
        installDPO(m)
        installReferenceFree(m)
        installExplore(m)
    }

    /// Pushes `grads = {policy_chosen =, policy_rejected =}` and stores it in the stats table
    /// just below it too (`stats.grads`). Stack: [stats] -> [stats, grads].
    static func pushGradients(_ s: LuaState, _ g: Preference.Gradients) throws {
        s.newTable(recordCount: 2)
        try s.push(tensorOf: g.policyChosen); s.setField("policy_chosen", of: -2)
        try s.push(tensorOf: g.policyRejected); s.setField("policy_rejected", of: -2)
        s.pushValue(at: -1)
        s.setField("grads", of: -3)
    }

    /// `pref.bt_loss`, `pref.listwise_loss`.
    private static func installRewardModelLosses(_ m: ModuleBuilder) {
        m.function("bt_loss", doc: """
            pref.bt_loss(r_chosen, r_rejected, {margin = nil, grad = false}) -> loss, accuracy, losses
            Bradley-Terry reward-model loss as TRL's reward trainer: mean of
            -logsigmoid(r_chosen - r_rejected - margin); accuracy is the fraction of pairs with
            r_chosen > r_rejected (a tie is not correct; the margin is not used). losses is the
            per-pair tensor.
            grad = true also returns grads = {chosen =, rejected =} (a 4th value): d(mean loss) /
            d(each reward), analytic (the margin carries none).
            Options: margin (nil: 0; a number for every pair or one per pair); grad (false).
            Example: local loss, acc = pref.bt_loss({1.2, 0.3}, {0.4, 0.9})
            """) { args in
            let c = try args.doubles(1), r = try args.doubles(2)
            let o = try args.options(3, allowed: ["margin", "grad"])
            var margin: [Double]? = nil
            if o.push("margin") == .number {
                margin = [Double](repeating: o.state.number(at: -1) ?? 0, count: c.count)
            }
            o.state.pop()
            if margin == nil { margin = try o.vector("margin") }
            let res = try Preference.btLoss(chosen: c, rejected: r, margin: margin)
            args.state.push(res.loss)
            args.state.push(res.accuracy)
            try args.state.push(tensorOf: res.losses)
            guard try o.boolean("grad", default: false) else { return 3 }
            let g = try Preference.btGradients(chosen: c, rejected: r, margin: margin)
            args.state.newTable(recordCount: 2)
            try args.state.push(tensorOf: g.policyChosen); args.state.setField("chosen", of: -2)
            try args.state.push(tensorOf: g.policyRejected); args.state.setField("rejected", of: -2)
            return 4
        }

        m.function("listwise_loss", doc: """
            pref.listwise_loss(scores, best) -> losses
            Plackett-Luce top-1 (listwise softmax) loss: -log softmax(scores[i])[best[i]] per row.
            scores is a 2-d tensor or an array of arrays (one row of candidate scores per prompt),
            best the 1-based position of the preferred candidate in each row; -inf excludes a
            candidate (+inf where the best is excluded). One row given as a vector with a number best
            returns a number. A row of only -inf gives NaN, not an error, so a batch keeps its other
            rows: the peer is torch 2.15's F.cross_entropy(scores, best - 1, reduction = "none").
            Example: pref.listwise_loss({{2, 1, 0}, {0, 3, 1}}, {1, 2})
            """) { args in
            let s = try args.tensor(1, what: "2-d tensor or array of arrays")
            try args.noOptions(3)
            if s.ndim == 1 {
                guard args.type(2) == .number else {
                    throw args.typeError(2, expected: "number (the 1-based position of the best of one row)")
                }
                let best = try args.positions([try args.number(2)], index: 2)
                let l = try Preference.listwiseLoss(scores: s.toDoubles(), width: s.count, best: best)
                args.state.push(l[0])
                return 1
            }
            guard s.ndim == 2 else { throw args.failure("scores must be 2-d (rows x candidates), got \(s.ndim)-d") }
            let best = try args.positions(try args.doubles(2, what: "array of 1-based positions"), index: 2)
            if best.count != s.shape[0] {
                throw args.failure("scores and best differ in rows (\(s.shape[0]) vs \(best.count))")
            }
            let l = try Preference.listwiseLoss(scores: s.toDoubles(), width: s.shape[1], best: best)
            try args.state.push(tensorOf: l)
            return 1
        }
    }

    /// `pref.dpo_loss`.
    private static func installDPO(_ m: ModuleBuilder) {
        let lossNames = Preference.DPOLoss.allCases.map(\.rawValue)
        m.function("dpo_loss", doc: """
            pref.dpo_loss{policy_chosen =, policy_rejected =, ref_chosen =, ref_rejected =, beta = 0.1,
              loss = "sigmoid", label_smoothing = 0, chosen_len = nil, rejected_len = nil,
              discopop_tau = 0.05, bco_delta = 0, grad = false} -> losses, chosen_rewards, rejected_rewards, stats
            DPO-family losses with TRL 1.x's formulas in float64, from log-probabilities summed over
            each completion. chosen_rewards = beta * (policy_chosen - ref_chosen), likewise rejected.
            stats: loss (mean), accuracy (chosen_reward > rejected_reward; a tie is not correct),
            margin (mean chosen_reward - rejected_reward).
            loss: sigmoid, hinge, ipo, robust, exo_pair, nca_pair, bco_pair, sppo_hard, apo_zero,
            apo_down, discopop, sigmoid_norm, aot, aot_unpaired, or cdpo (TRL 0.x's sigmoid with
            label smoothing). ipo and sigmoid_norm need chosen_len and rejected_len (token counts).
            label_smoothing is read by robust (< 0.5), exo_pair (in (0, 1)), aot, aot_unpaired and
            cdpo, and ignored by the others. bco_delta: bco_pair's reference point, 0 (TRL 1.x), a
            number, or "batch_mean" (TRL 0.x's running mean after one batch).
            reference_free = true is TRL 0.x's option: a reference that gives every response the
            same probability, ref_chosen = ref_rejected = 0 (they need not be given).
            Fields: the four log-probabilities (required); beta (0.1); loss ("sigmoid");
            label_smoothing (0); chosen_len, rejected_len (nil); discopop_tau (0.05); bco_delta (0);
            reference_free (false).
            grad (false): true also returns grads = {policy_chosen =, policy_rejected =} (a 5th value,
            also stats.grads): d(mean loss) / d(each policy log-probability), analytic (the
            references and any KL point carry no gradient, as in TRL); pref.explore draws them.
            Example: local l, cr, rr, s = pref.dpo_loss{policy_chosen = pc, policy_rejected = pr, ref_chosen = rc, ref_rejected = rr, loss = "ipo", chosen_len = lc, rejected_len = lr}
            """) { args in
            try args.table(1)
            let o = try args.options(1, allowed: ["policy_chosen", "policy_rejected", "ref_chosen", "ref_rejected", "beta",
                                                  "loss", "label_smoothing", "chosen_len", "rejected_len",
                                                  "discopop_tau", "bco_delta", "grad", "reference_free"])
            var opts = Preference.DPOOptions()
            opts.beta = try o.number("beta", default: 0.1)
            opts.loss = try Preference.DPOLoss.named(try o.choice("loss", lossNames, default: "sigmoid"))
            opts.labelSmoothing = try o.number("label_smoothing", default: 0)
            opts.chosenLengths = try o.vector("chosen_len")
            opts.rejectedLengths = try o.vector("rejected_len")
            opts.discopopTau = try o.number("discopop_tau", default: 0.05)
            opts.bcoDelta = try bcoDelta(o)
            let pc = try o.requiredVector("policy_chosen"), pr = try o.requiredVector("policy_rejected")
            // TRL 0.x's reference_free: a reference that gives every response the same probability,
            // its log-probabilities 0 (ref_chosen/ref_rejected are then ignored)
            let free = try o.boolean("reference_free", default: false)
            let rc = free ? [Double](repeating: 0, count: pc.count) : try o.requiredVector("ref_chosen")
            let rr = free ? [Double](repeating: 0, count: pr.count) : try o.requiredVector("ref_rejected")
            let r = try Preference.dpoLoss(policyChosen: pc, policyRejected: pr, refChosen: rc, refRejected: rr, options: opts)
            try args.state.push(tensorOf: r.losses)
            try args.state.push(tensorOf: r.chosenRewards)
            try args.state.push(tensorOf: r.rejectedRewards)
            args.state.push(stats: ["loss": r.loss, "accuracy": r.accuracy, "margin": r.margin])
            guard try o.boolean("grad", default: false) else { return 4 }
            try pushGradients(args.state, try Preference.dpoGradients(policyChosen: pc, policyRejected: pr, refChosen: rc,
                                                                     refRejected: rr, options: opts))
            return 5
        }
    }

    /// The `bco_delta` option: 0, a number, or "batch_mean".
    private static func bcoDelta(_ o: LuaOptions) throws -> Preference.BCODelta {
        let t = o.push("bco_delta")
        defer { o.state.pop() }
        switch t {
        case .nil: return .zero
        case .number:
            let d = o.state.number(at: -1) ?? 0
            return d == 0 ? .zero : .fixed(d)
        case .string where o.state.string(at: -1) == "batch_mean": return .batchMean
        default: throw o.optionError("bco_delta", "a number or \"batch_mean\"")
        }
    }

    /// `pref.simpo_loss`, `pref.orpo_loss`, `pref.kto_loss`.
    private static func installReferenceFree(_ m: ModuleBuilder) {
        m.function("simpo_loss", doc: """
            pref.simpo_loss{policy_chosen =, policy_rejected =, beta = 0.1, gamma = 0.5,
              label_smoothing = 0, chosen_len = nil, rejected_len = nil, nll = nil, nll_weight = 1}
              -> losses, chosen_rewards, rejected_rewards, stats
            SimPO as TRL's CPO trainer (loss_type = "simpo"), reference-free, on average
            log-probabilities: logits = (chosen - rejected) - gamma / beta, loss =
            -logsigmoid(beta*logits)*(1 - ls) - logsigmoid(-beta*logits)*ls. Give average
            log-probabilities, or summed ones with chosen_len/rejected_len (token counts) to have
            them averaged here. chosen_rewards = beta * chosen. stats: loss (mean, plus
            nll_weight * nll when nll, the chosen cross-entropy, is given: TRL's cpo_alpha),
            accuracy, margin. policy_chosen/policy_rejected may also be spelled chosen/rejected.
            Fields: policy_chosen, policy_rejected (required); beta (0.1, TRL's default; the SimPO
            paper uses 2 to 2.5); gamma (0.5, TRL's simpo_gamma); label_smoothing (0);
            chosen_len, rejected_len (nil); nll (nil); nll_weight (1).
            grad (false): true also returns grads = {policy_chosen =, policy_rejected =} (a 5th value,
            also stats.grads): d(mean loss) / d(each policy log-probability), analytic (the
            references and any KL point carry no gradient, as in TRL); pref.explore draws them.
            Example: local l, cr, rr, s = pref.simpo_loss{policy_chosen = {-0.9}, policy_rejected = {-1.4}, beta = 2}
            """) { args in
            try args.table(1)
            let o = try args.options(1, allowed: ["policy_chosen", "policy_rejected", "chosen", "rejected", "beta", "gamma",
                                                  "label_smoothing", "chosen_len", "rejected_len", "nll", "nll_weight",
                                                  "grad"])
            let c = try o.requiredVector("policy_chosen", alias: "chosen")
            let rj = try o.requiredVector("policy_rejected", alias: "rejected")
            let beta = try o.number("beta", default: 0.1), gamma = try o.number("gamma", default: 0.5)
            let ls = try o.number("label_smoothing", default: 0)
            let lc = try o.vector("chosen_len"), lr = try o.vector("rejected_len")
            let r = try Preference.simpoLoss(
                chosen: c, rejected: rj, beta: beta, gamma: gamma, labelSmoothing: ls,
                chosenLengths: lc, rejectedLengths: lr,
                nll: try o.number("nll"), nllWeight: try o.number("nll_weight", default: 1))
            try args.state.push(tensorOf: r.losses)
            try args.state.push(tensorOf: r.chosenRewards)
            try args.state.push(tensorOf: r.rejectedRewards)
            args.state.push(stats: ["loss": r.loss, "accuracy": r.accuracy, "margin": r.margin])
            guard try o.boolean("grad", default: false) else { return 4 }
            try pushGradients(args.state, try Preference.simpoGradients(
                chosen: c, rejected: rj, beta: beta, gamma: gamma, labelSmoothing: ls, chosenLengths: lc, rejectedLengths: lr))
            return 5
        }

        m.function("orpo_loss", doc: """
            pref.orpo_loss{policy_chosen =, policy_rejected =, beta = 0.1, chosen_len = nil,
              rejected_len = nil, nll = nil} -> losses, chosen_rewards, rejected_rewards, stats
            ORPO's odds-ratio term as TRL's ORPO trainer, on average log-probabilities (< 0):
            log_odds = (c - r) - (log(1 - exp(c)) - log(1 - exp(r))), per-pair loss
            -beta * logsigmoid(log_odds). Summed log-probabilities with chosen_len/rejected_len are
            averaged here. chosen_rewards = beta * chosen. stats: loss (mean, plus nll when given:
            TRL's nll - mean(beta * ratio)), accuracy, margin, log_odds (mean, TRL's
            log_odds_chosen), log_odds_ratio (mean logsigmoid(log_odds)).
            policy_chosen/policy_rejected may also be spelled chosen/rejected.
            Fields: policy_chosen, policy_rejected (required); beta (0.1); chosen_len,
            rejected_len (nil); nll (nil).
            grad (false): true also returns grads = {policy_chosen =, policy_rejected =} (a 5th value,
            also stats.grads): d(mean loss) / d(each policy log-probability), analytic (the
            references and any KL point carry no gradient, as in TRL); pref.explore draws them.
            Example: local l, cr, rr, s = pref.orpo_loss{policy_chosen = {-0.5}, policy_rejected = {-1.5}}
            """) { args in
            try args.table(1)
            let o = try args.options(1, allowed: ["policy_chosen", "policy_rejected", "chosen", "rejected", "beta",
                                                  "chosen_len", "rejected_len", "nll", "grad"])
            let c = try o.requiredVector("policy_chosen", alias: "chosen")
            let rj = try o.requiredVector("policy_rejected", alias: "rejected")
            let beta = try o.number("beta", default: 0.1)
            let lc = try o.vector("chosen_len"), lr = try o.vector("rejected_len")
            let r = try Preference.orpoLoss(chosen: c, rejected: rj, beta: beta, chosenLengths: lc, rejectedLengths: lr,
                                            nll: try o.number("nll"))
            try args.state.push(tensorOf: r.losses)
            try args.state.push(tensorOf: r.chosenRewards)
            try args.state.push(tensorOf: r.rejectedRewards)
            args.state.push(stats: ["loss": r.loss, "accuracy": r.accuracy, "margin": r.margin,
                                    "log_odds": r.logOdds, "log_odds_ratio": r.logOddsRatio])
            guard try o.boolean("grad", default: false) else { return 4 }
            try pushGradients(args.state, try Preference.orpoGradients(chosen: c, rejected: rj, beta: beta,
                                                                      chosenLengths: lc, rejectedLengths: lr))
            return 5
        }

        m.function("kto_loss", doc: """
            pref.kto_loss{policy_chosen =, ref_chosen =, policy_rejected =, ref_rejected =,
              kl_policy = nil, kl_ref = nil, kl = nil, beta = 0.1, desirable_weight = 1,
              undesirable_weight = 1} -> losses, chosen_rewards, rejected_rewards, stats
            KTO as TRL's KTO trainer (loss_type = "kto"), on unpaired desirable (chosen) and
            undesirable (rejected) completions: reference point z = max(mean(kl_policy - kl_ref), 0)
            (the log-probabilities of mismatched completions), or kl given directly (clamped at 0),
            or 0 when neither is given. Desirable losses 1 - sigmoid(beta*((pc - rc) - z)),
            undesirable 1 - sigmoid(beta*(z - (pr - rr))), weighted; losses holds the desirable
            ones then the undesirable ones. Either side may be empty or left out.
            stats: loss (mean of losses), kl (the z used).
            Fields: policy_chosen/ref_chosen and policy_rejected/ref_rejected (at least one pair);
            kl_policy, kl_ref (nil); kl (nil); beta (0.1); desirable_weight (1);
            undesirable_weight (1).
            grad (false): true also returns grads = {policy_chosen =, policy_rejected =} (a 5th value,
            also stats.grads): d(mean loss) / d(each policy log-probability), analytic (the
            references and any KL point carry no gradient, as in TRL); pref.explore draws them.
            Example: local l, cr, rr, s = pref.kto_loss{policy_chosen = pc, ref_chosen = rc, policy_rejected = pr, ref_rejected = rr, kl = 0.3}
            """) { args in
            try args.table(1)
            let o = try args.options(1, allowed: ["policy_chosen", "ref_chosen", "policy_rejected", "ref_rejected",
                                                  "kl_policy", "kl_ref", "kl", "beta", "desirable_weight",
                                                  "undesirable_weight", "grad"])
            let pc = try o.vector("policy_chosen") ?? [], rc = try o.vector("ref_chosen") ?? []
            let pr = try o.vector("policy_rejected") ?? [], rr = try o.vector("ref_rejected") ?? []
            if pc.isEmpty && rc.isEmpty && pr.isEmpty && rr.isEmpty {
                throw args.error(1, "needs policy_chosen and ref_chosen, or policy_rejected and ref_rejected")
            }
            let klp = try o.vector("kl_policy"), klr = try o.vector("kl_ref"), kl = try o.number("kl")
            let beta = try o.number("beta", default: 0.1)
            let wd = try o.number("desirable_weight", default: 1), wu = try o.number("undesirable_weight", default: 1)
            let r = try Preference.ktoLoss(
                policyChosen: pc, refChosen: rc, policyRejected: pr, refRejected: rr,
                klPolicy: klp, klRef: klr, kl: kl, beta: beta, desirableWeight: wd, undesirableWeight: wu)
            try args.state.push(tensorOf: r.losses)
            try args.state.push(tensorOf: r.chosenRewards)
            try args.state.push(tensorOf: r.rejectedRewards)
            args.state.push(stats: ["loss": r.loss, "kl": r.kl])
            guard try o.boolean("grad", default: false) else { return 4 }
            try pushGradients(args.state, try Preference.ktoGradients(
                policyChosen: pc, refChosen: rc, policyRejected: pr, refRejected: rr, klPolicy: klp, klRef: klr, kl: kl,
                beta: beta, desirableWeight: wd, undesirableWeight: wu))
            return 5
        }
    }
}
