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

    /// Unbiased std (as `torch.std`); NaN for fewer than two values, as torch gives.
    static func unbiasedStd(_ x: ArraySlice<Double>) -> Double {
        let n = x.count
        if n < 2 { return .nan }
        var s = 0.0
        for v in x { s += v }
        let m = s / Double(n)
        var ss = 0.0
        for v in x { let d = v - m; ss += d * d }
        return (ss / Double(n - 1)).squareRoot()
    }

    static func mean(_ x: ArraySlice<Double>) -> Double {
        var s = 0.0
        for v in x { s += v }
        return s / Double(x.count)
    }

    /// Advantages of `rewards.count / groupSize` groups of consecutive completions.
    /// `scale` defaults to `group` for GRPO and `none` for RLOO and Dr. GRPO; Dr. GRPO accepts
    /// only `none`. The eps is 1e-4 as in TRL. Where a std is undefined (a group of one) or the
    /// result is NaN, the advantage is 0, as TRL's `nan_to_num` makes it. RLOO needs groups of 2+.
    public static func groupAdvantages(_ rewards: [Double], groupSize: Int, method: GroupMethod = .grpo,
                                       scale: GroupScale? = nil) throws -> [Double] {
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
        if method == .rloo && groupSize < 2 {
            throw AlignMathError.invalidArgument("rloo needs group_size >= 2 (a leave-one-out baseline), got \(groupSize)")
        }
        let n = rewards.count
        var adv = [Double](repeating: 0, count: n)
        var start = 0
        while start < n {
            let g = rewards[start..<(start + groupSize)]
            if method == .rloo {
                var s = 0.0
                for v in g { s += v }
                for i in start..<(start + groupSize) {
                    adv[i] = rewards[i] - (s - rewards[i]) / Double(groupSize - 1)
                }
            } else {
                let m = mean(g)
                for i in start..<(start + groupSize) { adv[i] = rewards[i] - m }
            }
            if sc == .group {
                let std = unbiasedStd(g)
                for i in start..<(start + groupSize) { adv[i] /= std + 1e-4 }
            }
            start += groupSize
        }
        if sc == .batch {
            if method == .rloo {
                let m = mean(adv[...])
                let std = unbiasedStd(adv[...])
                for i in 0..<n { adv[i] = (adv[i] - m) / (std + 1e-4) }
            } else {
                let std = unbiasedStd(rewards[...])
                for i in 0..<n { adv[i] /= std + 1e-4 }
            }
        }
        for i in 0..<n where adv[i].isNaN { adv[i] = 0 }
        return adv
    }
}
