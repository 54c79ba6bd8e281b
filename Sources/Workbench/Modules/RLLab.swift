import LuaKit
import AlignMath

/// `rl.dry_run` and `rl.kl_lab` (AlignMath's `RL.dryRun`, `RL.klLab`).
extension Workbench {
    static func installRLLab(_ m: ModuleBuilder) {
        installDryRun(m)
        installKLLab(m)
    }

    private static func installDryRun(_ m: ModuleBuilder) {
        m.function("dry_run", doc: """
            rl.dry_run(rewards, group_size, {lengths = nil, max_completion_length = nil}) -> report
            What a group-based trainer would make of a batch of rewards (consecutive groups of
            group_size completions of one prompt), before training: for each method (grpo,
            dr_grpo, rloo, reinforce_baseline) and scale (group, batch, none) the advantages and
            the fraction of completions whose advantage is 0 (no gradient: within 1e-8, as
            torch.isclose); the groups whose rewards have zero spread (std within 1e-8 of 0:
            a GRPO step on them does nothing, trl#3857; with group_size 1 every group, as TRL
            takes std 0 for num_generations = 1); and TRL's frac_reward_zero_std (the share
            of completions in such groups, as GRPOTrainer logs it under scale "group" or
            "none"). grpo and rloo are TRL 1.16's (rl.group_advantages: r - mean over std + 1e-4,
            leave-one-out baselines, NaN rewards as TRL); dr_grpo never divides (its three
            scales are equal); reinforce_baseline is OpenRLHF's REINFORCE++-baseline: r - group
            mean, and under "batch" whitened over the batch's tokens (each completion counted
            lengths[i] times, once without lengths; population variance, rsqrt(max(var, 1e-8))).
            Not in the peers: rloo and reinforce_baseline under "group" divide by the group's
            std + 1e-4 as grpo does (OpenRLHF's group_norm adds 1e-9), and reinforce_baseline
            leaves NaN rewards out of the group mean as TRL does (OpenRLHF has no NaN rule).
            With lengths (token counts) also the weight each TOKEN of each completion gets in the
            loss: "token-mean" 1 / sum(lengths) (TRL's bnpo/dapo, verl's token-mean),
            "seq-mean-token-sum" 1 / N (verl; TRL's luspo), "seq-mean-token-mean" 1 / (N * L_i)
            (TRL's grpo loss: long completions' tokens count less), "dr_grpo" 1 / (N * L_max)
            (TRL's dr_grpo with max_completion_length L_max: default the longest completion).
            N counts every completion, empty ones too, as TRL does; verl's agg_loss leaves
            completions of 0 tokens out of N (seq-mean-*), so its weights are larger then.
            report = {grpo = {group = {advantages =, zero_fraction =}, batch =, none =}, dr_grpo =,
            rloo =, reinforce_baseline =, zero_spread_groups = {1-based group numbers},
            frac_reward_zero_std =, group_std = tensor, weights = {["token-mean"] =,
            ["seq-mean-token-sum"] =, ["seq-mean-token-mean"] =, dr_grpo =} (one weight per
            completion, with lengths), max_completion_length =}; printed as a table.
            Options: lengths (nil); max_completion_length (nil: the longest of lengths).
            Example: r = rl.dry_run({1, 1, 1, 1, 0, 1, 0, 0}, 4, {lengths = {120, 80, 95, 300, 40, 60, 75, 90}}); r.zero_spread_groups
            """) { args in
            let rewards = try args.doubles(1)
            let size = try args.count(2, "group_size", in: 1...LuaLimits.maxCount)
            let o = try args.options(3, allowed: ["lengths", "max_completion_length"])
            let lengths = try o.vector("lengths")
            let maxLen = try o.number("max_completion_length", in: LuaRanges.positive)
            let r = try RL.dryRun(rewards: rewards, groupSize: size, lengths: lengths, maxCompletionLength: maxLen)
            try pushDryRun(args.state, r, groupSize: size, lengths: lengths)
            return 1
        }
    }

    private static func pushDryRun(_ s: LuaState, _ r: RL.DryRunReport, groupSize: Int, lengths: [Double]?) throws {
        s.newTable(recordCount: 10)
        var rows: [[String]] = []
        for method in RL.dryRunMethods {
            s.newTable(recordCount: 3)
            for scale in RL.dryRunScales {
                guard let e = r.entry(method, scale) else { continue }
                s.newTable(recordCount: 2)
                try s.push(tensorOf: e.advantages); s.setField("advantages", of: -2)
                s.push(e.zeroFraction); s.setField("zero_fraction", of: -2)
                s.setField(scale, of: -2)
                let shown = e.advantages.prefix(6).map { LabReport.number($0, 3) }.joined(separator: " ")
                rows.append([method, scale, LabReport.number(e.zeroFraction, 3), shown + (e.advantages.count > 6 ? " ..." : "")])
            }
            s.setField(method, of: -2)
        }
        LabReport.push(integers: r.zeroSpreadGroups.map { $0 + 1 }, s); s.setField("zero_spread_groups", of: -2)
        s.push(r.fracRewardZeroStd); s.setField("frac_reward_zero_std", of: -2)
        try s.push(tensorOf: r.groupStds); s.setField("group_std", of: -2)
        var text = "\(r.groupStds.count) groups of \(groupSize); zero-spread groups: "
        let zs = r.zeroSpreadGroups.map { String($0 + 1) }
        text += zs.isEmpty ? "none" : (zs.prefix(20).joined(separator: ", ") + (zs.count > 20 ? ", ..." : ""))
        text += "; frac_reward_zero_std = \(LabReport.number(r.fracRewardZeroStd, 4))\n"
        text += LabReport.table(["method", "scale", "zero adv", "advantages"], rows, rightAligned: [2])
        if let w = r.weights, let l = lengths {
            s.newTable(recordCount: 4)
            var wrows: [[String]] = []
            let shortest = l.indices.min { l[$0] < l[$1] } ?? 0, longest = l.indices.max { l[$0] < l[$1] } ?? 0
            for (k, name) in RL.dryRunAggregations.enumerated() {
                try s.push(tensorOf: w[k]); s.setField(name, of: -2)
                // What the shortest and the longest completion weigh per token and in all.
                let ws = w[k][shortest], wl = w[k][longest]
                wrows.append([name, LabReport.number(ws, 3), LabReport.number(wl, 3),
                              LabReport.number(ws * l[shortest], 3), LabReport.number(wl * l[longest], 3)])
            }
            s.setField("weights", of: -2)
            if let m = r.maxCompletionLength { s.push(m); s.setField("max_completion_length", of: -2) }
            text += "\n\nper-token weight of the shortest (\(formatNumber(l[shortest])) tokens) and longest (\(formatNumber(l[longest])) tokens) completion, and in all:\n"
            text += LabReport.table(["aggregation", "token (short)", "token (long)", "all (short)", "all (long)"], wrows,
                                    rightAligned: [1, 2, 3, 4])
        }
        LabReport.attach(s, name: "rl.dry_run", text: text)
    }

    private static func installKLLab(_ m: ModuleBuilder) {
        m.function("kl_lab", doc: """
            rl.kl_lab(logp, ref_logp, {samples = 1000, rng = nil}) -> report
            Schulman's KL estimators (rl.kl: k1 = logp - ref_logp, k2 = (log r)^2 / 2,
            k3 = (r - 1) - log r, r = ref/policy) on FULL-vocabulary rows of log-probabilities (a
            vector for one row, or rows x vocabulary; each row is renormalised by log-softmax, so
            logits work too): the exact KL(policy || ref) = sum p (log p - log ref), and for each
            estimator, over `samples` tokens drawn from the policy (the same draws for all):
            mean, bias (mean - exact KL), variance (of one token's estimate, ddof 1), stderr
            (of the mean), and exactly under the policy: expected (sum p k), expected_bias
            (0 for k1 and k3, not for k2), expected_variance. clamped = {openrlhf =, verl =}: the
            same with OpenRLHF's clamp (every estimate to [-10, 10]) and verl's (k3 only: log r to
            [-20, 20], the estimate to [-10, 10]); a clamp trades bias for variance where the
            policy puts mass on tokens the reference finds unlikely.
            report = {exact =, k1 = {mean =, bias =, variance =, stderr =, expected =,
            expected_bias =, expected_variance =, clamped = {openrlhf = {...}, verl = {...}}},
            k2 =, k3 =, samples =, draws = token ids drawn (i64, rows x samples), plot =
            function}: numbers for one row, tensors (one per row) for a batch. report.plot(opts)
            (or report:plot(opts)) draws the histogram of each estimator's per-token values on
            one row: opts.row (1), opts.clamp ("none" | "openrlhf" | "verl"), opts.estimator (nil:
            all three), bins and the picture options of plot.hist.
            Printed at the prompt as a table (first row).
            A ref_logp row of only -inf, or holding a NaN, gives NaN for its exact KL and every
            estimate, its draws as usual, so a batch keeps its other rows (torch 2.15: its
            log_softmax is NaN, and so is F.kl_div); a logp row of only -inf or holding a NaN is
            an error naming the row (no distribution to draw tokens from: torch.multinomial
            refuses it too).
            Options: samples (1000, 2 to 1000000); rng (random.default).
            Example: r = rl.kl_lab(dist.log_softmax(policy_logits), dist.log_softmax(ref_logits), {samples = 4000, rng = random.new(0)}); r.k3.clamped.verl.bias
            """) { args in
            let lp = try args.floatingTensor(1), ref = try args.floatingTensor(2)
            let o = try args.options(3, allowed: ["samples", "rng"])
            // Every draw's value is kept for each estimator and clamp (9 doubles a draw, for plot).
            let samples = try o.count("samples", in: 2...1_000_000, default: 1000)
            var rng = RandomModule.defaultGenerator(args.state)
            if o.push("rng") != .nil {
                guard let g = args.state.object(at: -1, RandomGenerator.self) else {
                    args.state.pop()
                    throw o.optionError("rng", "a generator (random.new(seed))")
                }
                rng = g
            }
            args.state.pop()
            try checkSameShape(lp, ref, args, "logp and ref_logp")
            guard lp.ndim == 1 || lp.ndim == 2 else {
                throw args.failure("logp must be one row (a vector over the vocabulary) or rows x vocabulary, got \(lp.ndim)-d")
            }
            let rows = lp.ndim == 1 ? 1 : lp.shape[0], width = lp.shape[lp.ndim - 1]
            try args.state.checkpoint(cost: rows * (width + samples) * 3)
            let report: [RL.KLLabRow]
            do {
                report = try RL.klLab(logp: lp.toDoubles(), refLogp: ref.toDoubles(), rows: rows, width: width,
                                      samples: samples, rng: rng)
            } catch AlignMathError.allMasked(let row) {
                throw args.failure("row \(row) of logp has every entry -inf (no distribution to draw from)")
            }
            try pushKLLab(args.state, report, batch: lp.ndim == 2, samples: samples)
            return 1
        }
    }

    private static func pushKLLab(_ s: LuaState, _ rows: [RL.KLLabRow], batch: Bool, samples: Int) throws {
        func pushValue(_ values: [Double]) throws {
            if batch { try s.push(tensorOf: values) } else { s.push(values.first ?? .nan) }
        }
        func pushEstimate(_ e: Int, _ c: Int) throws {
            s.newTable(recordCount: 8)
            let fields: [(String, (RL.KLEstimate) -> Double)] = [
                ("mean", \.mean), ("bias", \.bias), ("variance", \.variance), ("stderr", \.stderr),
                ("expected", \.expected), ("expected_bias", \.expectedBias), ("expected_variance", \.expectedVariance),
            ]
            for (name, get) in fields {
                try pushValue(rows.map { get($0.estimates[e][c]) })
                s.setField(name, of: -2)
            }
        }
        s.newTable(recordCount: 7)
        try pushValue(rows.map(\.exact)); s.setField("exact", of: -2)
        var table: [[String]] = []
        let first = rows.first
        for (e, est) in RL.KLEstimator.allCases.enumerated() {
            try pushEstimate(e, 0)
            s.newTable(recordCount: 2)
            for (c, (name, _)) in RL.klLabClamps.enumerated() where c > 0 {
                try pushEstimate(e, c)
                s.setField(name, of: -2)
            }
            s.setField("clamped", of: -2)
            s.setField(est.rawValue, of: -2)
            if let f = first {
                for (c, (name, _)) in RL.klLabClamps.enumerated() {
                    let x = f.estimates[e][c]
                    // The true bias is a difference of two sums over the vocabulary, equal in
                    // exact arithmetic for k1 and k3 unclamped: rounding noise is shown as 0.
                    let noise = 1e-12 * Swift.max(1, Swift.abs(f.exact))
                    let trueBias = Swift.abs(x.expectedBias) <= noise ? 0 : x.expectedBias
                    table.append([est.rawValue, name, LabReport.number(x.mean), LabReport.number(x.stderr, 2),
                                  LabReport.number(x.bias, 3), LabReport.number(trueBias, 3),
                                  LabReport.number(x.variance, 3), LabReport.number(x.expectedVariance, 3)])
                }
            }
        }
        s.push(samples); s.setField("samples", of: -2)
        let drawn = rows.flatMap(\.draws)
        try s.push(ids: drawn)
        if batch, let t = s.object(at: -1, Tensor.self) {
            s.pop()
            s.push(tensor: try t.reshape([rows.count, samples]))
        }
        s.setField("draws", of: -2)
        let values = rows.map(\.values), exact = rows.map(\.exact)
        s.push(function: "rl.kl_lab.plot") { a in
            // report:plot(opts) passes the report first; report.plot(opts) does not.
            let optsIndex: Int32 = a.type(1) == .table && a.state.getMetatable(of: 1) ? 2 : 1
            if optsIndex == 2 { a.state.pop() }
            let o = try a.options(optsIndex, allowed: Workbench.pictureOptions + ["row", "clamp", "estimator", "bins"])
            let row = try o.count("row", in: 1...max(values.count, 1), default: 1) - 1
            let clampName = try o.choice("clamp", RL.klLabClamps.map(\.0), default: "none")
            let c = RL.klLabClamps.firstIndex { $0.0 == clampName } ?? 0
            let wanted = try o.string("estimator")
            if let w = wanted, RL.KLEstimator(rawValue: w) == nil { throw o.optionError("estimator", "\"k1\", \"k2\" or \"k3\"") }
            let bins = try o.count("bins", in: 1...10_000, default: 30)
            var pushed: Int32 = 0
            for (e, est) in RL.KLEstimator.allCases.enumerated() where wanted == nil || wanted == est.rawValue {
                var (figure, _) = try PlotFigures.histogram(values[row][e][c], bins: bins, range: nil)
                let v = values[row][e][c]
                let mean = v.reduce(0, +) / Double(v.count)
                figure.title = "\(est.rawValue)\(clampName == "none" ? "" : " (\(clampName) clamp)"): mean \(LabReport.number(mean)), exact KL \(LabReport.number(exact[row])), \(v.count) draws"
                pushed += try Workbench.show(figure, o, a)
            }
            return pushed
        }
        s.setField("plot", of: -2)
        let text = (first.map { "exact KL \(LabReport.number($0.exact, 6)) (row 1 of \(rows.count)), \(samples) tokens drawn from the policy\n" } ?? "")
            + LabReport.table(["est", "clamp", "mean", "stderr", "bias", "true bias", "variance", "true var"], table,
                              rightAligned: [2, 3, 4, 5, 6, 7])
        LabReport.attach(s, name: "rl.kl_lab", text: text)
    }
}
