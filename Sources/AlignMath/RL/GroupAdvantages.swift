extension RL {
    /// How group advantages are computed from the rewards of `groupSize` completions per prompt.
    public enum GroupMethod: String, CaseIterable {
        /// GRPO: `r - mean(group)`, divided by a std + 1e-4 (TRL `grpo_trainer.py`).
        case grpo
        /// RLOO: `r - mean(other members of the group)` (TRL `rloo_trainer.py`).
        case rloo
        /// Dr. GRPO: `r - mean(group)`, never divided by a std.
        case drGRPO = "dr_grpo"

        /// The method named `name` (`grpo`, `rloo`, `dr_grpo`).
        public static func named(_ name: String) throws -> GroupMethod {
            guard let m = GroupMethod(rawValue: name) else {
                throw AlignMathError.invalidArgument("unknown method '\(name)' (valid: grpo, rloo, dr_grpo)")
            }
            return m
        }
    }

    /// Which standard deviation divides the advantages.
    public enum GroupScale: String, CaseIterable {
        /// The unbiased std of each group's rewards (TRL GRPO `scale_rewards="group"`).
        case group
        /// The unbiased std of all rewards of the batch (TRL GRPO `scale_rewards="batch"`); for
        /// RLOO, TRL's `normalize_advantages`: `(A - mean(A)) / (std(A) + 1e-4)` over the batch.
        case batch
        /// No division.
        case none

        /// The scale named `name` (`group`, `batch`, `none`).
        public static func named(_ name: String) throws -> GroupScale {
            guard let s = GroupScale(rawValue: name) else {
                throw AlignMathError.invalidArgument("unknown scale '\(name)' (valid: group, batch, none)")
            }
            return s
        }
    }

    /// Advantages of `rewards.count / groupSize` groups of consecutive completions, as TRL 1.16's
    /// `GRPOTrainer` / `RLOOTrainer._generate_and_score_completions` compute them (see the
    /// tensor overload).
    public static func groupAdvantages(_ rewards: [Double], groupSize: Int, method: GroupMethod = .grpo,
                                       scale: GroupScale? = nil) throws -> [Double] {
        let t = try groupAdvantages(Tensor(rewards), groupSize: groupSize, method: method, scale: scale)
        return t.toDoubles()
    }

    /// Advantages of `rewards.count / groupSize` groups of consecutive completions, read in
    /// place; the result keeps the shape. As TRL 1.16 computes them, NaN rewards included (a
    /// reward function returning `None` for "does not apply"):
    /// - GRPO (`grpo_trainer.py`): `r − nanmean(group)`, divided by `nanstd + 1e-4` of the group
    ///   (`scale = group`, the default) or of all rewards (`batch`), or not at all (`none`;
    ///   Dr. GRPO always). `nanstd` is TRL's `trainer/utils.nanstd`: Bessel-corrected over the
    ///   non-NaN values, NaN when fewer than two; a group size of 1 divides by 1e-4 only.
    /// - RLOO (`rloo_trainer.py`): `r − (nansum(group) − r) / (scorable − 1)`, all zeros for a group
    ///   size of 1 (TRL's `num_generations == 1` branch); `batch` is
    ///   `normalize_advantages`: `(A − nanmean(A)) / (nanstd(A) + 1e-4)` over the batch;
    ///   `group` divides by the group's `nanstd + 1e-4` (not in TRL).
    /// Then `nan_to_num`: a NaN advantage (its own reward NaN, a group with one scorable
    /// completion under `group` scaling) is 0, ±inf the largest finite Double; only those rows,
    /// never their whole group.
    public static func groupAdvantages(_ rewards: Tensor, groupSize: Int, method: GroupMethod = .grpo,
                                       scale: GroupScale? = nil) throws -> Tensor {
        if groupSize < 1 { throw AlignMathError.invalidArgument("group_size must be >= 1, got \(groupSize)") }
        if rewards.count % groupSize != 0 {
            throw AlignMathError.shapeMismatch(
                "\(rewards.count) rewards do not split into groups of \(groupSize)")
        }
        let sc: GroupScale
        switch method {
        case .grpo: sc = scale ?? .group
        case .rloo: sc = scale ?? .none
        case .drGRPO:
            sc = scale ?? .none
            if sc != .none {
                throw AlignMathError.invalidArgument("dr_grpo never divides by a std: scale must be 'none', got '\(sc.rawValue)'")
            }
        }
        let n = rewards.count
        let out = try Tensor.uninitialized(rewards.shape, dtype: .f64), adv = out.doublePointer
        if method == .rloo && groupSize == 1 {
            // TRL 1.16 RLOOTrainer: with num_generations == 1 there is no leave-one-out baseline and the
            // advantages are torch.zeros_like(rewards) (NaN rewards included; normalize_advantages then
            // gives 0 / (nanstd + 1e-4), NaN or 0, and nan_to_num 0).
            for i in 0..<n { adv[i] = 0 }
            return out
        }
        try rewards.readingDoubles { rb in
            guard let r = rb.baseAddress else { return }
            var start = 0
            while start < n {
                let g = NanStats(r + start, groupSize)
                if method == .rloo {
                    let denominator = Double(g.count - 1)
                    for i in start..<(start + groupSize) { adv[i] = r[i] - (g.sum - r[i]) / denominator }
                } else {
                    for i in start..<(start + groupSize) { adv[i] = r[i] - g.mean }
                }
                if sc == .group {
                    // TRL's GRPO divides by zeros (not a NaN std) for a group size of 1.
                    let std = groupSize > 1 ? g.std(r + start, groupSize) : 0
                    for i in start..<(start + groupSize) { adv[i] /= std + 1e-4 }
                }
                start += groupSize
            }
            if sc == .batch {
                if method == .rloo {
                    let a = NanStats(UnsafePointer(adv), n)
                    let std = a.std(UnsafePointer(adv), n)
                    for i in 0..<n { adv[i] = (adv[i] - a.mean) / (std + 1e-4) }
                } else {
                    let std = n > 1 ? NanStats(r, n).std(r, n) : 0
                    for i in 0..<n { adv[i] /= std + 1e-4 }
                }
            }
        }
        for i in 0..<n {  // torch.nan_to_num(advantages, nan=0.0)
            let v = adv[i]
            if v.isNaN { adv[i] = 0 } else if v.isInfinite { adv[i] = v > 0 ? .greatestFiniteMagnitude : -.greatestFiniteMagnitude }
        }
        return out
    }

    /// `torch.nanmean`/`nansum` and TRL's `nanstd` over a run of values.
    struct NanStats {
        /// Sum and count of the non-NaN values; their mean (NaN when there are none).
        var sum = 0.0, count = 0
        var mean: Double { sum / Double(count) }

        init(_ p: UnsafePointer<Double>, _ n: Int) {
            for i in 0..<n where !p[i].isNaN { sum += p[i]; count += 1 }
        }

        /// TRL's `nanstd`: sqrt(nanmean((x − nanmean)²) · count/(count − 1)), NaN for count < 2.
        /// The outer nanmean skips NaN deviations too (an infinite reward minus an infinite
        /// mean): a group holding +inf and finite rewards has std +inf, as in TRL, not NaN.
        func std(_ p: UnsafePointer<Double>, _ n: Int) -> Double {
            guard count > 1 else { return .nan }
            let m = mean
            var ss = 0.0, terms = 0
            for i in 0..<n where !p[i].isNaN {
                let d = p[i] - m
                if d.isNaN { continue }
                ss += d * d; terms += 1
            }
            return ((ss / Double(terms)) * (Double(count) / Double(count - 1))).squareRoot()
        }
    }
}
