import Foundation

/// Semantic entropy (Kuhn et al. 2023; Farquhar et al., Nature 2024): sample answers are
/// clustered by meaning, and the entropy is taken over clusters instead of strings.
public enum SemanticEntropy {
    /// Clusters answers exactly as jlko/semantic_uncertainty's `get_semantic_ids`
    /// (`uncertainty/uncertainty_measures/semantic_entropy.py`): for each answer i not yet
    /// assigned, in order, i opens the next cluster and every later answer j (assigned or
    /// not) that is equivalent to i both ways joins it, `implies(i, j)` asked before
    /// `implies(j, i)`, both asked for every pair as its `are_equivalent` does. With an
    /// `implies` that is not transitive (NLI judgments are not) a later cluster can take an
    /// answer from an earlier one; a cluster's first member always stays. Returns each
    /// answer's cluster index (0-based, numbered in order of their first members).
    public static func clusters(count: Int, implies: (Int, Int) throws -> Bool) rethrows -> [Int] {
        try assign(count: count) { i, j in
            let forward = try implies(i, j)
            let backward = try implies(j, i)
            return forward && backward
        }
    }

    /// `get_semantic_ids` with an NLI model's labels (`check_implication`: 0 contradiction,
    /// 1 neutral, 2 entailment), both directions asked for every pair (a-b first): with
    /// `strict` (jlko's pipeline default, `--strict_entailment`) a pair is equivalent when both
    /// are 2; without, when neither is 0 and they are not both 1 (the function's own default).
    public static func clusters(count: Int, strict: Bool, label: (Int, Int) throws -> Int) rethrows -> [Int] {
        try assign(count: count) { i, j in
            let forward = try label(i, j)
            let backward = try label(j, i)
            return strict ? (forward == 2 && backward == 2)
                : (forward != 0 && backward != 0 && !(forward == 1 && backward == 1))
        }
    }

    /// `get_semantic_ids`' loop: each answer not yet assigned opens the next cluster, and every
    /// later answer `same` pairs with it joins it (`same` asks both directions, i-j first).
    private static func assign(count: Int, same: (Int, Int) throws -> Bool) rethrows -> [Int] {
        var ids = [Int](repeating: -1, count: count)
        var next = 0
        for i in 0..<count where ids[i] == -1 {
            ids[i] = next
            for j in (i + 1)..<Swift.max(i + 1, count) where try same(i, j) { ids[j] = next }
            next += 1
        }
        return ids
    }

    /// Discrete semantic entropy: the entropy (nats) of the cluster frequencies.
    public static func discrete(clusterIDs ids: [Int]) throws -> Double {
        guard !ids.isEmpty else { throw AlignMathError.invalidArgument("no samples") }
        var counts: [Int: Int] = [:]
        for c in ids { counts[c, default: 0] += 1 }
        let n = Double(ids.count)
        return counts.values.reduce(0) { acc, k in
            let p = Double(k) / n
            return acc - p * Foundation.log(p)
        }
    }

    /// Likelihood-weighted semantic entropy: sequence log-likelihoods are normalised over the
    /// samples, summed (in probability) per cluster, and the entropy `-sum p_c log p_c` is
    /// taken over the cluster masses (Farquhar et al.'s `logsumexp_by_id(...,
    /// 'sum_normalized')` then `predictive_entropy_rao`).
    public static func weighted(clusterIDs ids: [Int], logLikelihoods ll: [Double]) throws -> Double {
        guard !ids.isEmpty else { throw AlignMathError.invalidArgument("no samples") }
        guard ids.count == ll.count else {
            throw AlignMathError.shapeMismatch("samples and logprobs differ in length (\(ids.count) vs \(ll.count))")
        }
        let z = logSumExp(ll)
        var byCluster: [Int: [Double]] = [:]
        for (c, l) in zip(ids, ll) { byCluster[c, default: []].append(l - z) }
        return byCluster.values.reduce(0) { acc, lls in
            let lp = logSumExp(lls)
            return lp == -.infinity ? acc : acc - Foundation.exp(lp) * lp
        }
    }

    static func logSumExp(_ x: [Double]) -> Double {
        guard let m = x.max(), m > -.infinity else { return -.infinity }
        return m + Foundation.log(x.reduce(0) { $0 + Foundation.exp($1 - m) })
    }
}
