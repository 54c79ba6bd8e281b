import Foundation

/// A dry run of group-based policy-gradient bookkeeping on a batch of rewards, before any
/// training: what each advantage method and scale would make of them, which groups carry
/// no signal at all (every completion scored alike: a GRPO step on them is a no-op, the
/// "loss stuck at 0" of trl#3857), and, given completion lengths, how much each token of
/// each completion weighs in the loss under each aggregation.
extension RL {
    /// The advantage methods `dryRun` compares, in its order.
    public static let dryRunMethods = ["grpo", "dr_grpo", "rloo", "reinforce_baseline"]
    /// The scales, in order.
    public static let dryRunScales = ["group", "batch", "none"]
    /// The loss aggregations, in order.
    public static let dryRunAggregations = ["token-mean", "seq-mean-token-sum", "seq-mean-token-mean", "dr_grpo"]

    /// One method under one scale.
    public struct DryRunEntry: Equatable {
        /// Method and scale names.
        public var method: String, scale: String
        /// One advantage per completion.
        public var advantages: [Double]
        /// Fraction of completions whose advantage is 0 (within torch.isclose's 1e-8).
        public var zeroFraction: Double
    }

    /// What `dryRun` found.
    public struct DryRunReport: Equatable {
        /// Every method under every scale (`dryRunMethods` x `dryRunScales`, in order).
        public var entries: [DryRunEntry]
        /// Groups (0-based) whose rewards have zero spread (std within 1e-8 of 0).
        public var zeroSpreadGroups: [Int]
        /// The unbiased std of each group's rewards (TRL's nanstd; NaN under 2 scorable; 0 for
        /// a group size of 1, as TRL's `std_rewards` when `num_generations == 1`).
        public var groupStds: [Double]
        /// TRL's `frac_reward_zero_std`: the fraction of completions in zero-spread groups
        /// (what GRPOTrainer logs under `scale_rewards` "group" or "none", and RLOOTrainer).
        public var fracRewardZeroStd: Double
        /// Per aggregation (`dryRunAggregations`), the weight each token of each completion
        /// gets in the loss; nil without lengths.
        public var weights: [[Double]]?
        /// Dr. GRPO's constant (TRL's `max_completion_length`) when lengths were given.
        public var maxCompletionLength: Double?

        /// The entry of `method` under `scale`.
        public func entry(_ method: String, _ scale: String) -> DryRunEntry? {
            entries.first { $0.method == method && $0.scale == scale }
        }
    }

    /// The dry run of `rewards` in consecutive groups of `groupSize`:
    /// - grpo, rloo: `groupAdvantages` (TRL 1.16's GRPOTrainer / RLOOTrainer, NaN rewards
    ///   included) under each scale;
    /// - dr_grpo: `r - mean(group)` whatever the scale (Dr. GRPO never divides by a std: its
    ///   three entries are equal);
    /// - reinforce_baseline (OpenRLHF's REINFORCE++-baseline): `r - mean(group)`; "batch"
    ///   (its own normalisation) whitens that over the batch's tokens, each completion
    ///   counted `lengths[i]` times (once each without lengths), with the population
    ///   variance and `rsqrt(max(var, 1e-8))`; "group" divides by the group's std + 1e-4.
    /// With `lengths` (token counts), the per-token weight of each completion under
    /// token-mean (`1 / sum(L)`, TRL's bnpo/dapo), seq-mean-token-sum (`1 / N`),
    /// seq-mean-token-mean (`1 / (N max(L_i, 1))`, TRL's grpo) and Dr. GRPO's constant
    /// (`1 / (N * maxCompletionLength)`, default the longest completion).
    public static func dryRun(rewards: [Double], groupSize: Int, lengths: [Double]? = nil,
                              maxCompletionLength: Double? = nil) throws -> DryRunReport {
        if groupSize < 1 { throw AlignMathError.invalidArgument("group_size must be >= 1, got \(groupSize)") }
        let n = rewards.count
        if n == 0 || n % groupSize != 0 {
            throw AlignMathError.shapeMismatch("\(n) rewards do not split into groups of \(groupSize)")
        }
        if let l = lengths {
            if l.count != n { throw AlignMathError.shapeMismatch("rewards and lengths differ in length (\(n) vs \(l.count))") }
            for (i, v) in l.enumerated() where !(v >= 0 && v.isFinite) {
                throw AlignMathError.invalidArgument("lengths must be token counts >= 0, entry \(i + 1) is \(v)")
            }
        }
        let groups = n / groupSize
        var stds: [Double] = [], centered = [Double](repeating: 0, count: n)
        rewards.withUnsafeBufferPointer { rb in
            guard let r = rb.baseAddress else { return }
            for g in 0..<groups {
                let start = g * groupSize
                let s = NanStats(r + start, groupSize)
                // TRL 1.16 (GRPOTrainer, RLOOTrainer): std_rewards = zeros when num_generations
                // is 1, so a group of one is a zero-spread group (is_std_zero) and counts in
                // frac_reward_zero_std; its advantages are 0 under every method.
                stds.append(groupSize > 1 ? s.std(r + start, groupSize) : 0)
                for i in start..<(start + groupSize) { centered[i] = r[i] - s.mean }
            }
        }
        let zeroGroups = (0..<groups).filter { Swift.abs(stds[$0]) <= 1e-8 }
        var entries: [DryRunEntry] = []
        for method in dryRunMethods {
            for scale in dryRunScales {
                let adv = try advantages(method, scale, rewards, centered, stds, groupSize, lengths)
                let zeros = adv.filter { Swift.abs($0) <= 1e-8 }.count
                entries.append(DryRunEntry(method: method, scale: scale, advantages: adv,
                                           zeroFraction: Double(zeros) / Double(n)))
            }
        }
        var report = DryRunReport(entries: entries, zeroSpreadGroups: zeroGroups, groupStds: stds,
                                  fracRewardZeroStd: Double(zeroGroups.count * groupSize) / Double(n))
        if let l = lengths {
            let maxLen = maxCompletionLength ?? l.max() ?? 0
            if !(maxLen > 0) {
                throw AlignMathError.invalidArgument("max_completion_length must be > 0, got \(maxLen)")
            }
            let total: Double = Swift.max(l.reduce(0, +), 1), count = Double(n)
            let tokenMean = [Double](repeating: 1 / total, count: n)
            let seqMeanTokenSum = [Double](repeating: 1 / count, count: n)
            let seqMeanTokenMean: [Double] = l.map { (len: Double) -> Double in 1 / (count * Swift.max(len, 1)) }
            let drGRPO = [Double](repeating: 1 / (count * maxLen), count: n)
            report.weights = [tokenMean, seqMeanTokenSum, seqMeanTokenMean, drGRPO]
            report.maxCompletionLength = maxLen
        }
        return report
    }

    /// One method under one scale (see `dryRun`).
    static func advantages(_ method: String, _ scale: String, _ rewards: [Double], _ centered: [Double],
                           _ stds: [Double], _ groupSize: Int, _ lengths: [Double]?) throws -> [Double] {
        switch method {
        case "grpo", "rloo":
            if method == "rloo" && groupSize < 2 { return [Double](repeating: 0, count: rewards.count) }
            return try groupAdvantages(rewards, groupSize: groupSize, method: method == "grpo" ? .grpo : .rloo,
                                       scale: GroupScale(rawValue: scale) ?? GroupScale.none)
        case "dr_grpo":
            // TRL's GRPOTrainer with scale_rewards "none", nan_to_num included (+-inf become
            // the largest finite Double, as torch.nan_to_num; they were left infinite)
            return try groupAdvantages(rewards, groupSize: groupSize, method: .drGRPO, scale: GroupScale.none)
        default:  // reinforce_baseline
            var a = centered
            switch scale {
            case "group":
                for i in a.indices { a[i] /= stds[i / groupSize] + 1e-4 }
            case "batch":
                var wsum = 0.0, mean = 0.0
                for i in a.indices where !a[i].isNaN { let w = lengths?[i] ?? 1; wsum += w; mean += w * a[i] }
                mean /= wsum
                var v = 0.0
                for i in a.indices where !a[i].isNaN { let w = lengths?[i] ?? 1; v += w * (a[i] - mean) * (a[i] - mean) }
                v /= wsum
                let rstd = 1 / Swift.max(v, 1e-8).squareRoot()
                for i in a.indices { a[i] = (a[i] - mean) * rstd }
            default: break
            }
            // nan_to_num as for the other methods: NaN 0, +-inf the largest finite Double
            return a.map { $0.isNaN ? 0 : $0.isInfinite ? ($0 > 0 ? .greatestFiniteMagnitude : -.greatestFiniteMagnitude) : $0 }
        }
    }
}
