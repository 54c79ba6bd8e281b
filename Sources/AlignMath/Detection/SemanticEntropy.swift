import Foundation

/// Semantic entropy (Kuhn et al. 2023; Farquhar et al., Nature 2024): sample answers are
/// clustered by meaning, and the entropy is taken over clusters instead of strings.
public enum SemanticEntropy {
    /// Clusters answers by bidirectional equivalence, as the reference implementation's
    /// `get_semantic_ids`: each answer joins the first cluster whose first member is
    /// equivalent to it in both directions (`equivalent(i, j) && equivalent(j, i)`), else
    /// starts a new one. Returns each answer's cluster index (0-based, in order of appearance).
    public static func clusters(count: Int, equivalent: (Int, Int) throws -> Bool) rethrows -> [Int] {
        var ids = [Int](repeating: -1, count: count)
        var representatives: [Int] = []
        for i in 0..<count {
            for (c, r) in representatives.enumerated() where try equivalent(i, r) && equivalent(r, i) {
                ids[i] = c
                break
            }
            if ids[i] < 0 {
                ids[i] = representatives.count
                representatives.append(i)
            }
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
