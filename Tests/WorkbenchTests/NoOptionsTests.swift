import XCTest
import TestSupport

/// lua-api.md's conventions: "An unknown option key is an error that names the key". The
/// functions without options ignored a trailing table, so metrics.rouge_l(a, b,
/// {use_stemmer = true}) (rouge_score's option, which moonlab does not offer) gave the
/// stemmer-less number silently; now each names the key.
final class NoOptionsTests: XCTestCase {
    func testFunctionsWithoutOptionsNameAnUnknownKey() throws {
        let h = try LuaHarness()
        let calls = [
            ("metrics.rouge_l('a b', 'a c', {use_stemmer = true})", "#3 to 'metrics.rouge_l' (unknown option 'use_stemmer': this function takes no options)"),
            ("metrics.exact_match('a', 'a', {x = 1})", "#3 to 'metrics.exact_match'"),
            ("metrics.token_f1('a', 'a', {x = 1})", "#3 to 'metrics.token_f1'"),
            ("metrics.distinct_n({'a b'}, 1, {x = 1})", "#3 to 'metrics.distinct_n'"),
            ("metrics.pass_at_k(5, 2, 1, {x = 1})", "#4 to 'metrics.pass_at_k'"),
            ("metrics.brier({0.5}, {1}, {x = 1})", "#3 to 'metrics.brier'"),
            ("metrics.auroc({0.5, 0.2}, {1, 0}, {x = 1})", "#3 to 'metrics.auroc'"),
            ("metrics.auprc({0.5, 0.2}, {1, 0}, {x = 1})", "#3 to 'metrics.auprc'"),
            ("pref.listwise_loss({{1, 2}}, {1}, {x = 1})", "#3 to 'pref.listwise_loss'"),
            ("reward.normalize({1, 2}, 'zscore', {x = 1})", "#3 to 'reward.normalize'"),
            ("sample.best_of_n({'a'}, function() return 1 end, {x = 1})", "#3 to 'sample.best_of_n'"),
            ("data.logprobs({{a = -1}}, {x = 1})", "#2 to 'data.logprobs' (unknown option 'x': this function takes no options)"),
        ]
        for (call, want) in calls {
            let e = try XCTUnwrap(h.error(call), call)
            XCTAssertTrue(e.contains("bad argument " + want), "\(call): \(e)")
        }
        // nil and an empty table still pass
        XCTAssertEqual(try h.value("(metrics.rouge_l('a b', 'a c', {}))"), "0.5")
        XCTAssertEqual(try h.value("metrics.distinct_n({'a b'}, 1, nil)"), "1.0")
    }
}
