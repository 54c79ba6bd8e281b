/// Small helpers over candidate scores and answers (`sample.best_of_n`,
/// `sample.self_consistency`).
public enum Selection {
    /// The best of `scores`: index (0-based) and score of the first maximum, ignoring NaN
    /// (a NaN score never wins). `nil` when there is no non-NaN score.
    public static func bestOfN(_ scores: [Double]) -> (index: Int, score: Double)? {
        var best: (Int, Double)? = nil
        for (i, s) in scores.enumerated() where !s.isNaN {
            if let b = best { if s > b.1 { best = (i, s) } } else { best = (i, s) }
        }
        return best.map { (index: $0.0, score: $0.1) }
    }

    /// The indices of `scores` from best to worst (stable: ties keep their order; NaN
    /// last).
    public static func ranking(_ scores: [Double]) -> [Int] {
        scores.indices.sorted { a, b in
            let x = scores[a], y = scores[b]
            if x.isNaN != y.isNaN { return y.isNaN }
            if x != y && !x.isNaN { return x > y }
            return a < b
        }
    }

    /// Majority vote (self-consistency, Wang et al. 2022) over `answers` (already
    /// normalised by the caller): the most frequent answer, its share of the votes
    /// (`agreement` in [0, 1]) and every distinct answer with its count, in order of
    /// first occurrence. Ties are broken by first occurrence. `nil` for no answers.
    public static func selfConsistency(_ answers: [String]) -> (answer: String, agreement: Double, counts: [(answer: String, count: Int)])? {
        guard !answers.isEmpty else { return nil }
        var index: [String: Int] = [:]
        var counts: [(answer: String, count: Int)] = []
        for a in answers {
            if let i = index[a] { counts[i].count += 1 } else { index[a] = counts.count; counts.append((a, 1)) }
        }
        var best = 0
        for i in 1..<counts.count where counts[i].count > counts[best].count { best = i }
        return (counts[best].answer, Double(counts[best].count) / Double(answers.count), counts)
    }
}
