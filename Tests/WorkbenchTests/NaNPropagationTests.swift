import XCTest
import TestSupport

/// Issue 10 §6: a NaN in a row gives NaN for that row (or an error), never a number.
/// Before the fix `dist.entropy({0/0, 1, 2})`, `dist.kl` and `dist.js` with a NaN gave 0
/// (`max(0, NaN)` is 0), f64 and f32 alike.
final class NaNPropagationTests: XCTestCase {
    private func isNaN(_ h: LuaHarness, _ code: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(try h.value("(function(x) return x ~= x end)(\(code))"), "true", code, file: file, line: line)
    }

    func testDistributionsOfARowWithNaNAreNaN() throws {
        let h = try LuaHarness()
        for dtype in ["f64", "f32"] {
            try h.run("T = function(x) return tensor.from(x, {dtype = '\(dtype)'}) end")
            isNaN(h, "dist.entropy(T{0/0, 1, 2})")
            isNaN(h, "dist.entropy(T{1, 2, 0/0})")
            isNaN(h, "dist.kl(T{0/0, 1}, T{1, 2})")
            isNaN(h, "dist.kl(T{1, 2}, T{0/0, 1})")
            isNaN(h, "dist.js(T{0/0, 1}, T{1, 2})")
            isNaN(h, "dist.js(T{1, 2}, T{1, 0/0})")
            isNaN(h, "dist.tv(T{1, 2}, T{1, 0/0})")
            isNaN(h, "dist.cross_entropy(T{0/0, 1}, 1)")
            isNaN(h, "dist.logsumexp(T{0/0, 1})")
            // a batch: only the row with the NaN
            isNaN(h, "dist.entropy(T{{0/0, 1}, {1, 2}})[1]")
            XCTAssertEqual(try h.value("dist.entropy(T{{0/0, 1}, {1, 2}})[2] == dist.entropy(T{1, 2})"), "true")
            isNaN(h, "dist.js(T{{1, 2}, {1, 2}}, T{{1, 0/0}, {1, 2}})[1]")
            XCTAssertEqual(try h.value("dist.js(T{{1, 2}, {1, 2}}, T{{1, 0/0}, {1, 2}})[2]"), "0.0")
        }
        // two +inf logits: softmax is undefined (inf - inf), as torch gives nan
        isNaN(h, "dist.entropy({1/0, 1/0})")
    }

    /// Near the float limits the row max is subtracted first: two equal huge logits are a
    /// fair coin (ln 2), not 0.
    func testEntropyNearTheFloatLimitsIsLn2() throws {
        let h = try LuaHarness()
        for row in ["{1e308, 1e308}", "{-1e308, -1e308}", "{1.7976931348623157e308, 1.7976931348623157e308}",
                    "{-1.7976931348623157e308, -1.7976931348623157e308}"] {
            XCTAssertEqual(try h.value("math.abs(dist.entropy(\(row)) - math.log(2)) < 1e-15"), "true", row)
        }
        XCTAssertEqual(try h.value("math.abs(dist.entropy(tensor.from({3.4e38, 3.4e38}, {dtype = 'f32'})) - math.log(2)) < 1e-6"), "true")
    }

    func testOtherModulesKeepNaN() throws {
        let h = try LuaHarness()
        isNaN(h, "rl.returns({0/0, 1, 2})[1]")
        isNaN(h, "rl.whiten({0/0, 1, 2})[2]")
        isNaN(h, "rl.kl({0/0, 1}, {1, 2})[1]")
        isNaN(h, "(pref.bt_loss({0/0}, {1}))")
        isNaN(h, "pref.dpo_loss{policy_chosen = {0/0}, policy_rejected = {1}, ref_chosen = {1}, ref_rejected = {1}}[1]")
        isNaN(h, "pref.listwise_loss({{0/0, 1}}, {1})[1]")
        isNaN(h, "(rl.ppo_loss{logp = {0/0}, old_logp = {0}, advantages = {1}})")
        isNaN(h, "reward.normalize({0/0, 1, 2}, 'zscore')[1]")
        XCTAssertNotNil(h.error("metrics.auroc({0/0, 1, 2}, {0, 1, 1})"))
        XCTAssertNotNil(h.error("metrics.brier({0/0}, {1})"))
        XCTAssertNotNil(h.error("sample.best_of_n({'a', 'b'}, function(s) return 0/0 end)"))
    }
}
