import XCTest
import TestSupport

/// The lab at the Lua level: result fields as lua-api.md names them, closed-form values
/// (numpy, in the comments), and errors. The numerics are checked against the engines'
/// and TRL's formulas in AlignMathTests (EngineComparisonTests, ChainDistributionTests,
/// KLLabTests, DryRunTests, PreferenceGradientTests); here the glue.
final class LabModuleTests: XCTestCase {
    func near(_ h: LuaHarness, _ code: String, _ expected: Double, tol: Double = 1e-12,
              file: StaticString = #filePath, line: UInt = #line) throws {
        let v = try h.value(code)
        guard let x = Double(v) else { return XCTFail("\(code) gave \(v)", file: file, line: line) }
        XCTAssertEqual(x, expected, accuracy: tol, code, file: file, line: line)
    }

    /// llama.cpp runs temperature last: on this row its top-p (0.9, on the untempered top-4)
    /// keeps a 4th token that transformers' (on the tempered row) drops.
    func testCompareFieldsAndTheOrderDifference() throws {
        let h = try LuaHarness()
        try h.run("r = sample.compare({2.0, 1.5, 1.0, 0.5, 0.0, -1.0}, {sample.top_p(0.9), sample.temperature(0.7), sample.top_k(4)})")
        XCTAssertEqual(try h.value("r.transformers.ids"), "tensor([0, 1, 2], dtype=i64)")
        XCTAssertEqual(try h.value(#"r["llama.cpp"].ids"#), "tensor([0, 1, 2, 3], dtype=i64)")
        XCTAssertEqual(try h.value("r.vllm.ids"), "tensor([0, 1, 2], dtype=i64)")
        // numpy: softmax(x[:4] / 0.7) and softmax(x[:3] / 0.7)
        try near(h, #"r["llama.cpp"].probs[4]"#, 0.06353556048173564, tol: 1e-6)  // float32 in llama.cpp
        try near(h, "r.transformers.probs[1]", 0.57830455, tol: 1e-8)
        try near(h, #"r.pairs["transformers|llama.cpp"].tv"#, 0.06353556048173564, tol: 1e-6)
        XCTAssertEqual(try h.value(#"r.pairs["transformers|llama.cpp"]["only_llama.cpp"]"#), "tensor([3], dtype=i64)")
        XCTAssertEqual(try h.value(#"#r.pairs["transformers|llama.cpp"].only_transformers"#), "0")
        XCTAssertEqual(try h.value(#"r.pairs["llama.cpp|transformers"] == r.pairs["transformers|llama.cpp"]"#), "true")
        try near(h, #"r.pairs["transformers|vllm"].tv"#, 0, tol: 1e-6)
        XCTAssertTrue(try h.value("tostring(r)").contains("temperature > top_k > top_p"))
        XCTAssertTrue(h.error("sample.compare({1, 2}, {sample.xtc{probability = 0.5, threshold = 0.1}})")?
            .contains("not a setting the engines share") ?? false)
        XCTAssertTrue(h.error(#"sample.compare({1, 2}, {sample.top_k(1)}, {engines = {"sglang"}})"#)?
            .contains("option 'engines'") ?? false)
    }

    func testDistributionAndLogprob() throws {
        let h = try LuaHarness()
        // logits log(1..4): probabilities 0.1..0.4; top_k(2) keeps 3/7 and 4/7.
        try h.run("x = {math.log(1), math.log(2), math.log(3), math.log(4)}; c = sample.chain{sample.top_k(2)}")
        try h.run("p, se = c:distribution(x)")
        try near(h, "p[3]", 3.0 / 7)
        try near(h, "p[4]", 4.0 / 7)
        try near(h, "p[1] + p[2] + se:sum()", 0)
        try h.run("pr, raw = c:logprob(x, 2)")
        try near(h, "pr", log(3.0 / 7))
        try near(h, "raw", log(0.3))
        XCTAssertEqual(try h.value("c:logprob(x, 0) == -math.huge"), "true")
        XCTAssertTrue(h.error("c:logprob(x, 4)")?.contains("outside the vocabulary") ?? false)
        // XTC with probability 1 on this row always removes every token above the threshold but
        // the least likely of them: the exact mixture is reached by any number of runs.
        try h.run("xc = sample.chain{sample.xtc{probability = 1, threshold = 0.25}}")
        try h.run("q, qse = xc:distribution(x, nil, {samples = 50, rng = random.new(3)})")
        try near(h, "q[3]", 3.0 / 6)  // ids 2 and 3 are above 0.25: 3 (most likely) removed
        try near(h, "q[4]", 0)
        try near(h, "qse:sum()", 0)
        XCTAssertTrue(h.error("xc:distribution(x, nil, {samples = 1})")?.contains("option 'samples'") ?? false)
        // A NaN logit is an error naming its id, not a token silently dropped.
        XCTAssertTrue(h.error("c:distribution({1, 0/0})")?.hasSuffix("sample.chain:distribution: logits contain NaN at id 1") ?? false)
        XCTAssertTrue(h.error("c:logprob({1, 0/0}, 0)")?.hasSuffix("sample.chain:logprob: logits contain NaN at id 1") ?? false)
        XCTAssertTrue(h.error("sample.compare({0/0, 1}, {sample.top_k(1)})")?.hasSuffix("sample.compare: logits contain NaN at id 0") ?? false)
    }

    func testKLLabExactAndExpectations() throws {
        let h = try LuaHarness()
        try h.run("k = rl.kl_lab(dist.log_softmax(tensor{1, 2, 3, 0}), dist.log_softmax(tensor{0, 0, 3, 1}), {samples = 2000, rng = random.new(1)})")
        // numpy: sum p (log p - log q); k2's expectation sum p (log r)^2 / 2
        try near(h, "k.exact", 0.2996592763187482)
        try near(h, "k.k1.expected", 0.2996592763187482)
        try near(h, "k.k3.expected", 0.2996592763187482)
        try near(h, "k.k2.expected", 0.43842306206615456)
        try near(h, "k.k2.expected_bias", 0.43842306206615456 - 0.2996592763187482)
        try near(h, "k.k3.bias - (k.k3.mean - k.exact)", 0)
        try near(h, "math.abs(k.k3.mean - k.exact) / k.k3.stderr < 4 and 1 or 0", 1, tol: 0)
        XCTAssertEqual(try h.value("k.samples"), "2000")
        XCTAssertEqual(try h.value("#k.draws"), "2000")
        try near(h, "k.k3.clamped.verl.expected", 0.2996592763187482)  // nothing reaches the clamp here
        XCTAssertTrue(try h.value("tostring(k)").contains("exact KL 0.299659"))
        XCTAssertTrue(h.error("rl.kl_lab({0, 0}, {0, 0, 0})")?.contains("rl.kl_lab") ?? false)
        XCTAssertTrue(h.error("rl.kl_lab({}, {})")?.hasSuffix("rl.kl_lab: logp is empty (one row of log-probabilities over the vocabulary expected)") ?? false)
        XCTAssertTrue(h.error("rl.kl_lab({0, 0}, {0, 0}, {samples = 2e6})")?.contains("option 'samples' must be an integer in [2, 1000000]") ?? false)
    }

    /// A ref_logp row of only -inf: NaN for that row (torch 2.15.0: log_softmax NaN, F.kl_div
    /// NaN; Fixtures/generate_masked_rows.py), the other rows kept; a logp row of only -inf
    /// stays an error naming the row (nothing to draw from, as torch.multinomial refuses it).
    func testKLLabRowsOfOnlyMinusInf() throws {
        let h = try LuaHarness()
        try h.run("m = -math.huge; k = rl.kl_lab({{0, 1, -1}, {1, 2, 0.5}}, {{0.5, 0, 0}, {m, m, m}}, {samples = 20, rng = random.new(2)})")
        try near(h, "k.exact[1]", 0.33961695205030534)
        XCTAssertEqual(try h.value("k.exact[2], k.k1.mean[2], k.k3.clamped.verl.expected[2], k.k2.variance[2]"), "nan\tnan\tnan\tnan")
        XCTAssertEqual(try h.value("k.draws:shape()[1], k.draws:shape()[2]"), "2\t20")
        XCTAssertEqual(try h.value("rl.kl_lab({1, 2}, {m, m}, {samples = 5}).exact"), "nan")
        XCTAssertTrue(h.error("rl.kl_lab({{0, 1}, {m, m}}, {{0, 0}, {0, 0}})")?
            .hasSuffix("rl.kl_lab: row 2 of logp has every entry -inf (no distribution to draw from)") ?? false)
        // A NaN in a ref_logp row: the same NaN row (torch 2.15.0: log_softmax of the row is
        // NaN, F.kl_div(..., reduction = "sum") nan), the other rows kept; in a logp row, an
        // error naming it (torch.multinomial: "probability tensor contains either inf, nan or
        // element < 0").
        try h.run("k = rl.kl_lab({{0, 1, -1}, {1, 2, 0.5}}, {{0.5, 0, 0}, {0.5, 0/0, 0}}, {samples = 20, rng = random.new(2)})")
        try near(h, "k.exact[1]", 0.33961695205030534)
        XCTAssertEqual(try h.value("k.exact[2], k.k1.mean[2], k.k3.clamped.verl.expected[2]"), "nan\tnan\tnan")
        XCTAssertTrue(h.error("rl.kl_lab({{0, 1}, {0/0, 0}}, {{0, 0}, {0, 0}})")?
            .hasSuffix("rl.kl_lab: logp row 2 holds NaN: no tokens can be drawn from it (torch.multinomial refuses such a row too)") ?? false)
    }

    func testDryRunFields() throws {
        let h = try LuaHarness()
        try h.run("d = rl.dry_run({1, 1, 1, 1, 0, 1, 0, 0}, 4, {lengths = {120, 80, 95, 300, 40, 60, 75, 90}})")
        XCTAssertEqual(try h.value("table.concat(d.zero_spread_groups, ',')"), "1")
        try near(h, "d.frac_reward_zero_std", 0.5)
        try near(h, "d.grpo.group.zero_fraction", 0.5)
        // group 2: rewards 0 1 0 0, mean 0.25, std (ddof 1) 0.5: (1 - 0.25) / (0.5 + 1e-4)
        try near(h, "d.grpo.group.advantages[6]", 0.75 / 0.5001)
        try near(h, "d.dr_grpo.none.advantages[6]", 0.75)
        try near(h, "d.rloo.none.advantages[6]", 1)
        try near(h, #"d.weights["token-mean"][1]"#, 1.0 / 860)
        try near(h, #"d.weights["seq-mean-token-mean"][4]"#, 1.0 / (8 * 300))
        try near(h, "d.weights.dr_grpo[5]", 1.0 / (8 * 300))
        try near(h, #"d.weights["seq-mean-token-sum"][2]"#, 1.0 / 8)
        XCTAssertTrue(h.error("rl.dry_run({1, 2, 3}, 2)")?.contains("do not split into groups of 2") ?? false)
        XCTAssertTrue(h.error("rl.dry_run({1, 2}, 0)")?.contains("group_size") ?? false)
    }

    func testPreferenceGradientsAndExplore() throws {
        let h = try LuaHarness()
        try h.run("""
            l, cr, rr, s, g = pref.dpo_loss{policy_chosen = {-1, -2}, policy_rejected = {-2, -1},
              ref_chosen = {-1.5, -1.5}, ref_rejected = {-1.5, -1.5}, grad = true}
            """)
        // sigmoid: d mean / d policy_chosen = -beta * sigmoid(-beta * z) / N, z = 1 and -1
        let sig = { (x: Double) in 1 / (1 + exp(-x)) }
        try near(h, "g.policy_chosen[1]", -0.1 * sig(-0.1) / 2)
        try near(h, "g.policy_chosen[2]", -0.1 * sig(0.1) / 2)
        try near(h, "g.policy_rejected[1]", 0.1 * sig(-0.1) / 2)
        XCTAssertEqual(try h.value("s.grads == g"), "true")
        XCTAssertEqual(try h.value("select('#', pref.dpo_loss{policy_chosen = {-1}, policy_rejected = {-2}, ref_chosen = {-1}, ref_rejected = {-1}})"), "4")
        for loss in ["simpo_loss", "orpo_loss"] {
            XCTAssertEqual(try h.value("select('#', pref.\(loss){policy_chosen = {-1}, policy_rejected = {-2}, grad = true})"), "5")
        }
        XCTAssertEqual(try h.value("select('#', pref.kto_loss{policy_chosen = {-1}, ref_chosen = {-1.2}, kl = 0, grad = true})"), "5")
        // Bradley-Terry: d mean / d r_chosen = -sigmoid(-(c - r - m)) / N
        try h.run("_, _, _, bg = pref.bt_loss({1.2, 0.3}, {0.4, 0.9}, {margin = 0.5, grad = true})")
        try near(h, "bg.chosen[1]", -sig(-(1.2 - 0.4 - 0.5)) / 2)
        try near(h, "bg.rejected[2]", sig(-(0.3 - 0.9 - 0.5)) / 2)
        XCTAssertEqual(try h.value("select('#', pref.bt_loss({1.2}, {0.4}))"), "3")
        try h.run("el, eg, parts = pref.explore{loss = 'sigmoid', beta = 0.1, margins = tensor{-1, 0, 1}}")
        try near(h, "el[2]", log(2))
        try near(h, "eg[3]", -sig(-1))
        try near(h, "parts.chosen[3] - parts.rejected[3]", 1)
        XCTAssertTrue(h.error("pref.explore{loss = 'nope', margins = {0}}")?.contains("loss") ?? false)
    }

    func testRewardCheck() throws {
        let h = try LuaHarness()
        try h.run("""
            rows = {}
            for i = 1, 20 do rows[i] = {i = i} end
            calls = 0
            flaky = function(s) calls = calls + 1; if s.i == 3 then return calls end; if s.i == 5 then return 0/0 end
              if s.i == 7 then error("boom") end; if s.i == 9 then return nil end; return s.i / 10 end
            c = reward.check(flaky, rows, {runs = 3, range = {0, 1}})
            """)
        XCTAssertEqual(try h.value("c.deterministic"), "false")
        XCTAssertEqual(try h.value("table.concat(c.nondeterministic, ',')"), "3")
        XCTAssertEqual(try h.value("table.concat(c.nan_rows, ',')"), "5")
        XCTAssertEqual(try h.value("#c.errors .. ' ' .. c.errors[1].row"), "1 7")
        XCTAssertTrue(try h.value("c.errors[1].message").hasSuffix("boom"))
        XCTAssertEqual(try h.value("table.concat(c.not_applicable, ',')"), "9")
        XCTAssertEqual(try h.value("table.concat(c.out_of_range, ',')"), "3,11,12,13,14,15,16,17,18,19,20")
        XCTAssertEqual(try h.value("c.max"), "43.0")  // row 3 on the third run: 2 * 20 + 3 calls
        XCTAssertEqual(try h.value("c.min"), "0.1")
        XCTAssertEqual(try h.value("c.p50_ms >= 0 and c.p99_ms >= c.p50_ms"), "true")
        XCTAssertEqual(try h.value("calls"), "60")
        XCTAssertTrue(try h.value("tostring(c)").contains("deterministic   NO, 1: rows 3"))
        // state reaches the reward
        XCTAssertEqual(try h.value("reward.check(function(s, st) return st.step end, {{}}, {state = {step = 7}}).max"), "7.0")
        XCTAssertTrue(h.error("reward.check('nope', rows)")?.contains("unknown reward 'nope'") ?? false)
        XCTAssertTrue(h.error("reward.check(flaky, rows, {runs = 0})")?.contains("option 'runs'") ?? false)
    }
}
