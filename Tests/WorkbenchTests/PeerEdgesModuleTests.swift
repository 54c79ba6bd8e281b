import XCTest
import TestSupport

/// The peers' edge cases of issue 11 as a Lua user meets them. The numbers are the peers'
/// (Tests/AlignMathTests/Fixtures/generate_peer_edges.py and peer_edges.json, where the
/// AlignMath tests check many more cases); here: that the Lua calls reach them.
final class PeerEdgesModuleTests: XCTestCase {
    private func harness() throws -> LuaHarness {
        let h = try LuaHarness()
        try h.installNumberHelpers()
        return h
    }

    func testGroupAdvantagesNaNRewardZeroesOnlyItsRow() throws {
        let h = try harness()
        // TRL 1.16 GRPOTrainer, peer_edges.json group_advantages[0] (nanmean/nanstd of the rest of the group)
        assertNumbersClose(try h.luaNumbers("rl.group_advantages({1, 0/0, 0, 1, 0.5, 0.5, 0.25, 1}, 4)"),
                           [0.5772502865071344, 0, -1.1545005730142686, 0.5772502865071344,
                            -0.19861671573576153, -0.19861671573576153, -0.9930835786788077, 1.3903170101503308],
                           accuracy: 1e-12)
        // RLOO: the baseline averages over the scorable siblings only
        assertNumbersClose(try h.luaNumbers("rl.group_advantages({0/0, 2, 0, 1, 0/0, 3}, 3, {method = 'rloo'})"),
                           [0, 2, -2, -2, 0, 2], accuracy: 1e-12)
    }

    func testKLClampOptions() throws {
        let h = try harness()
        try h.run("lp = {-1, -80, -2, -1}; rf = {-70, -1, -2, -1 + 1e-9}")
        assertNumbersClose(try h.luaNumbers("rl.kl(lp, rf, {estimator = 'k1', clamp = 10})"), [10, -10, 0, -1e-9], accuracy: 1e-15)
        assertNumbersClose(try h.luaNumbers("rl.kl(lp, rf, {estimator = 'k1', clamp = 'openrlhf'})"), [10, -10, 0, -1e-9], accuracy: 1e-15)
        assertNumbersClose(try h.luaNumbers("rl.kl(lp, rf, {estimator = 'k1', clamp = 'verl'})"), [69, -79, 0, -1e-9], accuracy: 1e-12)
        assertNumbersClose(try h.luaNumbers("rl.kl(lp, rf, {estimator = 'k3', clamp = 'verl'})"), [10, 10, 0, 4.999999718847355e-19], accuracy: 1e-30)
        XCTAssertEqual(h.bareError("rl.kl({1}, {1}, {clamp = -1})"),
                       "bad argument #3 to 'rl.kl' (option 'clamp' must be a number > 0, \"openrlhf\", \"verl\" or false, got number)")
        XCTAssertEqual(h.bareError("rl.kl({1}, {1}, {clamp = 'trl'})"),
                       "bad argument #3 to 'rl.kl' (option 'clamp' must be a number > 0, \"openrlhf\", \"verl\" or false, got string)")
        assertNumbersClose(try h.luaNumbers("rl.kl_penalty(1, {-1, -80}, {-70, -1}, {clamp = 10, beta = 0.5})"), [-5, 6], accuracy: 1e-12)
        // verl's name low_var_kl is its clamped k3 (kl_penalty_forward always clamps it):
        // torch 2.15 on verl's lines, float64: clamp(ref - logp, -20, 20), exp(kl) - kl - 1,
        // clamp(-10, 10) gives 10, 10, 0.10653065971263342, 10 for these four tokens.
        try h.run("lp2 = {0, 0, -1, -2}; rf2 = {30, -30, -1.5, 1}")
        assertNumbersClose(try h.luaNumbers("rl.kl(lp2, rf2, {estimator = 'low_var_kl'})"), [10, 10, 0.10653065971263342, 10], accuracy: 1e-15)
        assertNumbersClose(try h.luaNumbers("rl.kl_penalty(0, lp2, rf2, {estimator = 'low_var_kl', beta = 1})"),
                           [-10, -10, -0.10653065971263342, -10], accuracy: 1e-15)
        // k3 (TRL's name) is not clamped, nor low_var_kl with clamp = false
        XCTAssertEqual(try h.luaNumbers("rl.kl(lp2, rf2, {estimator = 'low_var_kl', clamp = false})"),
                       try h.luaNumbers("rl.kl(lp2, rf2, {estimator = 'k3'})"))
        XCTAssertGreaterThan(try h.luaNumbers("rl.kl(lp2, rf2, {estimator = 'k3'})")[0], 1e12)
    }

    func testDonesAsTensorsAndBooleansReadOnce() throws {
        let h = try harness()
        // the same dones as a Lua array of booleans, of 0/1 numbers, and as a tensor give the same advantages
        try h.run("r = {1, 0, 2, -1, 0.5}; v = {0.3, 0.1, -0.2, 0.4, 0.0}")
        let want = try h.luaNumbers("rl.gae(r, v, {gamma = 0.99, dones = {false, false, true, false, false}})")
        XCTAssertEqual(try h.luaNumbers("rl.gae(r, v, {gamma = 0.99, dones = tensor{0, 0, 1, 0, 0}})"), want)
        XCTAssertEqual(try h.luaNumbers("rl.gae(tensor(r), tensor(v), {gamma = 0.99, dones = {0, 0, 1, 0, 0}})"), want)
        XCTAssertEqual(h.bareError("rl.gae({1, 2}, {1, 2}, {dones = tensor{0, 2}})"),
                       "bad argument #3 to 'rl.gae' (option 'dones' must hold booleans or 0/1, entry 2 is 2)")
        XCTAssertEqual(h.bareError("rl.returns({1, 2}, {dones = {true, 'x'}})"),
                       "bad argument #2 to 'rl.returns' (option 'dones' must hold booleans or 0/1, entry 2 is a string)")
    }

    func testSemanticEntropyFollowsGetSemanticIds() throws {
        let h = try harness()
        // a and b equivalent, b and c equivalent, a and c not: get_semantic_ids gives [0, 0, 1]
        // (b joins a's cluster; c is not equivalent to a, the first member, and opens its own)
        try h.run("""
            E = {a = {a = true, b = true}, b = {a = true, b = true, c = true}, c = {b = true, c = true}}
            calls = {}
            h, cl = detect.semantic_entropy({"a", "b", "c"}, {equivalent = function(x, y) calls[#calls + 1] = x .. y; return E[x][y] == true end})
            """)
        XCTAssertEqual(try h.value("#cl, #cl[1], #cl[2], cl[2][1]"), "2\t2\t1\t3")
        XCTAssertEqual(try h.value("table.concat(calls, ' ')"), "ab ba ac ca")
        // a later cluster takes a sample from an earlier one when the judgments allow it
        try h.run("""
            E = {a = {a = true, c = true}, b = {b = true, c = true}, c = {a = true, b = true, c = true}}
            h, cl = detect.semantic_entropy({"a", "b", "c"}, {equivalent = function(x, y) return E[x][y] == true end})
            """)
        XCTAssertEqual(try h.value("#cl, #cl[1], cl[1][1], #cl[2], cl[2][2]"), "2\t1\t1\t2\t3")
    }

    func testTextMetricsSplitAsPython() throws {
        let h = try harness()
        // Python: "a\x1cb\x1dc".split() == ['a', 'b', 'c']
        XCTAssertEqual(try h.value(#"metrics.distinct_n({"a\x1cb\x1dc a"}, 1)"#), "0.75")
        XCTAssertEqual(try h.value(#"detect.repetition("go\x1fgo\xe2\x80\xa8go", {n = 1})"#), "0.66666666666667")
        XCTAssertEqual(try h.value(#"metrics.exact_match("Eiffel\x1fTower!", "eiffel tower")"#), "1.0")
        XCTAssertEqual(try h.value(#"metrics.token_f1("the\xe3\x80\x80big cat", "a big black cat")"#), "0.8")
    }
}
