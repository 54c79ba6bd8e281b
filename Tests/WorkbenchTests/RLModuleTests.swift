import XCTest
import TestSupport

/// The `rl` module from Lua. Expected values were computed independently with numpy
/// (python3, numpy 2.4), re-implementing the formulas of TRL's PPO trainer
/// (`trl/experimental/ppo/ppo_trainer.py`: the GAE loop, `masked_whiten`, pg/vf losses,
/// `approxkl`), `trl/trainer/grpo_trainer.py` / `rloo_trainer.py` (group advantages, eps 1e-4,
/// unbiased std) and TRL's `AdaptiveKLController`; the script is quoted beside each number.
final class RLModuleTests: XCTestCase {
    private func harness() throws -> LuaHarness {
        let h = try LuaHarness()
        try h.installNumberHelpers()
        return h
    }

    func testReturnsWithGammaDonesAndLastValue() throws {
        let h = try harness()
        // G[t] = r[t] + gamma * G[t+1] * (1 - done[t]), G[T] = last: a plain reversed loop.
        assertNumbersClose(try h.luaNumbers("rl.returns({1, 0, 2, -1}, {gamma = 0.9})"), [1.891, 0.99, 1.1, -1.0])
        assertNumbersClose(try h.luaNumbers("rl.returns({1, 0, 2, -1}, {gamma = 0.9, dones = {false, true, 0, 0}, last_value = 0.5})"),
                    [1.0, 0.0, 1.505, -0.55])
        assertNumbersClose(try h.luaNumbers("rl.returns({1, 2, 3})"), [6, 5, 3], accuracy: 0)  // gamma defaults to 1
        // A batch: each row is its own trajectory, one last_value per row.
        assertNumbersClose(try h.luaNumbers("rl.returns({{1, 1}, {2, 0}}, {gamma = 0.5, last_value = {2, 4}})"),
                    [2, 2, 3, 2], accuracy: 0)
        XCTAssertEqual(try h.value("table.concat(rl.returns({{1, 1}, {2, 0}}):shape(), 'x')").replacingOccurrences(of: ".0", with: ""), "2x2")
    }

    func testGAEMatchesTRLLoop() throws {
        let h = try harness()
        // numpy, TRL's loop: delta = r + gamma*V[t+1]*nonterm - V[t]; A = delta + gamma*lam*nonterm*A[t+1]
        try h.run("a, r = rl.gae({1, 0, 2, -1, 0.5}, T{0.3, 0.1, -0.2, 0.4, 0.0}, {gamma = 0.99, lambda = 0.95, dones = {0, 0, 1, 0, 0}, last_value = 0.7})")
        assertNumbersClose(try h.luaNumbers("a"), [2.46471955, 1.7711000000000001, 2.2, -0.27798349999999994, 1.193])
        assertNumbersClose(try h.luaNumbers("r"), [2.7647195499999997, 1.8711000000000002, 2.0, 0.12201650000000008, 1.193])
        XCTAssertTrue(try h.value("a").hasPrefix("tensor"), "advantages come back as a tensor")
        // Defaults gamma = 1, lambda = 0.95, last_value = 0.
        assertNumbersClose(try h.luaNumbers("rl.gae({1, 0, 2}, {0.5, 0.2, 0.1})"),
                    [2.31975, 1.705, 1.9, 2.81975, 1.905, 2.0])
        // A batch of two rows, last_value per row: same as two separate calls.
        try h.run("a, r = rl.gae({{1, 0, 2}, {0, 1, 1}}, {{0.5, 0.2, 0.1}, {0.0, 0.3, -0.1}}, {gamma = 0.9, lambda = 0.8, last_value = {0.5, -0.5}})")
        assertNumbersClose(try h.luaNumbers("a"), [1.81904, 1.582, 2.35, 1.04616, 1.078, 0.65])
        assertNumbersClose(try h.luaNumbers("r"), [2.31904, 1.782, 2.45, 1.04616, 1.378, 0.55])
        XCTAssertEqual(try h.value("#a"), "2")
    }

    func testWhitenIsTRLMaskedWhiten() throws {
        let h = try harness()
        // numpy: (x - x.mean()) / np.sqrt(x.var(ddof=1) + 1e-8), x = [1, 2, 4, 7]
        assertNumbersClose(try h.luaNumbers("rl.whiten({1, 2, 4, 7})"),
                    [-0.9449111818481316, -0.5669467091088789, 0.1889822363696263, 1.322875654587384])
        assertNumbersClose(try h.luaNumbers("rl.whiten(T{1, 2, 4, 7}, {shift_mean = false})"),
                    [2.5550888181518685, 2.933053290891121, 3.6889822363696263, 4.822875654587384])
    }

    func testPPOAndValueLosses() throws {
        let h = try harness()
        try h.run("lp, old, adv = {-1.0, -0.5, -2.0, -0.1}, {-1.2, -0.3, -1.5, -0.9}, {1.0, -0.5, 2.0, -1.0}")
        // numpy: ratio = exp(lp - old); max(-A*ratio, -A*clip(ratio, 1-c, 1+ch)).mean(); (l2 > l1).mean();
        // 0.5*((lp - old)**2).mean(); ratio.mean()
        try h.run("loss, s = rl.ppo_loss{logp = lp, old_logp = old, advantages = adv}")
        assertNumbersClose(try h.luaNumbers("loss, s.clipfrac, s.approx_kl, s.ratio_mean"),
                    [0.055461246401547926, 0.25, 0.12125, 1.2180512748608132])
        try h.run("loss, s = rl.ppo_loss{logp = lp, old_logp = old, advantages = adv, clip_high = 0.28}")
        assertNumbersClose(try h.luaNumbers("loss, s.clipfrac"), [0.05011055686150556, 0.0])
        try h.run("loss, s = rl.ppo_loss{logp = T(lp), old_logp = old, advantages = adv, clip = 0.1}")
        assertNumbersClose(try h.luaNumbers("loss, s.clipfrac"), [0.09061990226680022, 0.5])
        // numpy: vc = clip(v, o - c, o + c); 0.5*max((v-R)^2, (vc-R)^2).mean(); ((vc-R)^2 > (v-R)^2).mean()
        try h.run("vl, vs = rl.value_loss{values = {0.5, 1.2, -0.3}, old_values = {0.4, 0.8, 0.0}, returns = {1.0, 1.0, -1.0}}")
        assertNumbersClose(try h.luaNumbers("vl, vs.clipfrac"), [0.155, 1.0 / 3])
        try h.run("vl, vs = rl.value_loss{values = {0.5, 1.2, -0.3}, old_values = {0.4, 0.8, 0.0}, returns = {1.0, 1.0, -1.0}, clip = 0.5}")
        assertNumbersClose(try h.luaNumbers("vl, vs.clipfrac"), [0.13, 0.0])
    }

    func testKLEstimatorsAndPenalty() throws {
        let h = try harness()
        try h.run("lp, ref = {-1, -0.5, -2}, {-1.2, -0.4, -1.0}")
        // numpy: logr = ref - lp; k1 = -logr; k2 = logr**2/2; k3 = exp(logr) - 1 - logr
        assertNumbersClose(try h.luaNumbers("rl.kl(lp, ref)"), [0.2, -0.1, -1.0])
        assertNumbersClose(try h.luaNumbers("rl.kl(lp, ref, {estimator = 'k2'})"), [0.02, 0.005, 0.5])
        assertNumbersClose(try h.luaNumbers("rl.kl(lp, T(ref), {estimator = 'k3'})"),
                    [0.018730753077981888, 0.005170918075647513, 0.7182818284590451])
        // One sequence: -0.1 * k1 on every token, the score 2.0 added to the last.
        assertNumbersClose(try h.luaNumbers("rl.kl_penalty(2.0, lp, ref)"), [-0.02, 0.01, 2.1])
        // A batch (2 x 3), k3, beta 0.05, row 2 has 2 real tokens: its score on token 2, padding 0.
        try h.run("LP, RF = {{-1, -0.5, -2}, {-0.3, -0.7, -5.0}}, {{-1.2, -0.4, -1.0}, {-0.2, -0.9, -0.1}}")
        assertNumbersClose(try h.luaNumbers("rl.kl_penalty({1, -1}, LP, RF, {beta = 0.05, estimator = 'k3', lengths = {3, 2}})"),
                    [-0.0009365376538990945, -0.00025854590378237565, 0.9640859085770478,
                     -0.00025854590378237565, -1.000936537653899, 0.0])
        assertNumbersClose(try h.luaNumbers("rl.kl_penalty(T{1, -1}, LP, RF)"),
                    [-0.02, 0.01, 1.1, 0.01, -0.02, -0.51])
        XCTAssertEqual(try h.value("#rl.kl_penalty({1, -1}, LP, RF)"), "2")
    }

    func testGroupAdvantages() throws {
        let h = try harness()
        try h.run("r = {1, 0, 0, 1, 1, 1}")
        // numpy: g = r.reshape(-1, 3); (g - g.mean(1)) / (g.std(1, ddof=1) + 1e-4)
        assertNumbersClose(try h.luaNumbers("rl.group_advantages(r, 3)"),
                    [1.1545005730142688, -0.5772502865071343, -0.5772502865071343, 0, 0, 0])
        assertNumbersClose(try h.luaNumbers("rl.group_advantages(r, 3, {scale = 'batch'})"),
                    [1.2907444971387243, -0.645372248569362, -0.645372248569362, 0, 0, 0])
        assertNumbersClose(try h.luaNumbers("rl.group_advantages(r, 3, {method = 'dr_grpo'})"),
                    [2.0 / 3, -1.0 / 3, -1.0 / 3, 0, 0, 0])
        // RLOO: r - mean of the other members; batch scale = (A - mean A) / (std A + 1e-4)
        assertNumbersClose(try h.luaNumbers("rl.group_advantages(r, 3, {method = 'rloo'})"), [1, -0.5, -0.5, 0, 0, 0])
        // TRL 1.16 GRPOConfig.__post_init__: scale_rewards True -> "group", False -> "none"
        XCTAssertEqual(try h.luaNumbers("rl.group_advantages(r, 3, {scale = true})"),
                       try h.luaNumbers("rl.group_advantages(r, 3, {scale = 'group'})"))
        XCTAssertEqual(try h.luaNumbers("rl.group_advantages(r, 3, {scale = false})"),
                       try h.luaNumbers("rl.group_advantages(r, 3, {scale = 'none'})"))
        // TRL 1.16 rloo_trainer.py: num_generations == 1 has no baseline, advantages zeros_like(rewards)
        assertNumbersClose(try h.luaNumbers("rl.group_advantages({3, 1}, 1, {method = 'rloo'})"), [0, 0])
        assertNumbersClose(try h.luaNumbers("rl.group_advantages(T(r), 3, {method = 'rloo', scale = 'batch'})"),
                    [1.8254085858641733, -0.9127042929320867, -0.9127042929320867, 0, 0, 0])
        assertNumbersClose(try h.luaNumbers("rl.group_advantages(r, 3, {scale = 'none'})"),
                    [2.0 / 3, -1.0 / 3, -1.0 / 3, 0, 0, 0])
    }

    func testAdaptiveKLController() throws {
        let h = try harness()
        try h.run("ctl = rl.adaptive_kl{init = 0.2, target = 6, horizon = 10000}")
        // TRL: e = clip(cur/target - 1, -0.2, 0.2); value *= 1 + e * n_steps / horizon
        assertNumbersClose(try h.luaNumbers("ctl:update(8.1, 256)"), [0.201024])
        assertNumbersClose(try h.luaNumbers("ctl:update(3.0, 512)"), [0.19896551424])
        try h.run("ctl:update(6.6, 1000)")
        assertNumbersClose(try h.luaNumbers("ctl.value"), [0.20095516938240002])
        assertNumbersClose(try h.luaNumbers("ctl.target, ctl.horizon"), [6, 10000], accuracy: 0)
        XCTAssertEqual(try h.value("tostring(rl.adaptive_kl())"), "adaptive_kl(value = 0.2, target = 6, horizon = 10000)")
        try h.run("ctl.value = 0.05")
        assertNumbersClose(try h.luaNumbers("ctl:update(12, 10000)"), [0.06])
        XCTAssertEqual(h.bareError("ctl.target = 1"), "adaptive_kl.__newindex: only 'value' can be set (target and horizon are fixed), got 'target'")
        XCTAssertEqual(h.bareError("ctl:update('x', 1)"), "bad argument #2 to 'adaptive_kl:update' (number expected, got string)")
        XCTAssertEqual(h.bareError("ctl:update(1)"), "bad argument #3 to 'adaptive_kl:update' (number expected, got no value)")
        XCTAssertEqual(h.bareError("rl.adaptive_kl{target = 0}"), "bad argument #1 to 'rl.adaptive_kl' (option 'target' must be a number > 0, got 0)")
        XCTAssertEqual(h.bareError("rl.adaptive_kl{goal = 6}"),
                       "bad argument #1 to 'rl.adaptive_kl' (unknown option 'goal'; valid options: horizon, init, target)")
    }

    func testDonesAsArraysOfFlagsMatchTheTensor() throws {
        let h = try harness()
        // a batch of dones as Lua arrays of booleans (or 0/1) is read straight into a bool
        // tensor; it must give what the 0/1 f64 tensor gives, for gae and returns, row by row
        try h.run("r = {{1, 0, 2, -1}, {0.5, 1, -1, 2}}; v = {{0.3, 0.1, -0.2, 0.4}, {0, 0.2, 0.1, -0.3}}")
        try h.run("o = {gamma = 0.9, lambda = 0.8, last_value = {0.5, -0.5}}")
        let want = try h.luaNumbers("(function() o.dones = tensor{{0, 1, 0, 0}, {0, 0, 0, 1}}; return rl.gae(r, v, o) end)()")
        XCTAssertEqual(try h.luaNumbers("(function() o.dones = {{false, true, false, false}, {false, false, false, true}}; return rl.gae(r, v, o) end)()"), want)
        XCTAssertEqual(try h.luaNumbers("(function() o.dones = {{0, true, 0, false}, {0, 0, false, 1}}; return rl.gae(r, v, o) end)()"), want)
        XCTAssertNotEqual(try h.luaNumbers("(function() o.dones = nil; return rl.gae(r, v, o) end)()"), want)
        let ret = try h.luaNumbers("rl.returns(r, {gamma = 0.9, dones = tensor{{0, 1, 0, 0}, {0, 0, 0, 1}}})")
        XCTAssertEqual(try h.luaNumbers("rl.returns(r, {gamma = 0.9, dones = {{false, true, false, false}, {0, 0, 0, true}}})"), ret)
        XCTAssertEqual(try h.luaNumbers("rl.returns({1, 2}, {dones = {true, false}})"), [1, 2])
        XCTAssertEqual(h.bareError("rl.gae(r, v, {dones = {{true, false, false, false}, 3}})"),
                       "bad argument #3 to 'rl.gae' (option 'dones' rows must be arrays, row 2 is number)")
        XCTAssertEqual(h.bareError("rl.gae(r, v, {dones = {{true, false, false, false}, {true}}})"),
                       "bad argument #3 to 'rl.gae' (option 'dones' rows differ in length (row 2 has 1 entries, row 1 has 4))")
        XCTAssertEqual(h.bareError("rl.gae(r, v, {dones = {{true, false, false, false}, {true, false, 'x', false}}})"),
                       "bad argument #3 to 'rl.gae' (option 'dones' must hold booleans or 0/1, row 2, entry 3 is a string)")
        // more entries than one batch of the C reader (128): values and the bad entry's position
        try h.run("long, longd = {}, {}; for i = 1, 300 do long[i] = i % 5 - 2; longd[i] = i % 7 == 0 end")
        try h.run("""
            function differing(other)
              local a = rl.returns(long, {gamma = 0.9, dones = longd})
              local b = rl.returns(long, {gamma = 0.9, dones = other})
              local n = 0
              for i = 1, 300 do if a[i] ~= b[i] then n = n + 1 end end
              return n
            end
            """)
        XCTAssertEqual(try h.value("differing(tensor(longd):to('f64'))"), "0")
        XCTAssertNotEqual(try h.value("differing(nil)"), "0")
        XCTAssertEqual(h.bareError("(function() longd[200] = 2; return rl.returns(long, {dones = longd}) end)()"),
                       "bad argument #2 to 'rl.returns' (option 'dones' must hold booleans or 0/1, entry 200 is 2)")
        XCTAssertEqual(h.bareError("rl.gae(r, v, {dones = 'no'})"),
                       "bad argument #3 to 'rl.gae' (option 'dones' must be a tensor or an array of booleans or 0/1, got string)")
    }

    func testBadArgumentsGiveClearErrors() throws {
        let h = try harness()
        // The message carries the caller's position (entry 2, line 1).
        XCTAssertEqual(h.error("rl.gae({1, 2, 3}, {1, 2})"), "[2]:1: rl.gae: rewards and values differ in length (3 vs 2)")
        XCTAssertEqual(h.bareError("rl.gae({{1, 2}}, {{1}, {2}})"), "rl.gae: rewards and values differ in shape (1x2 vs 2x1)")
        XCTAssertEqual(h.bareError("rl.gae('x', {1})"), "bad argument #1 to 'rl.gae' (tensor or array of numbers expected, got string)")
        XCTAssertEqual(h.bareError("rl.gae({1, 'a'}, {1, 2})"),
                       "bad argument #1 to 'rl.gae' (tensor or array of numbers expected, entry 2 is string)")
        XCTAssertEqual(h.bareError("rl.gae({1}, {1}, {gama = 0.9})"),
                       "bad argument #3 to 'rl.gae' (unknown option 'gama'; valid options: dones, gamma, lambda, last_value)")
        XCTAssertEqual(h.bareError("rl.gae({1}, {1}, {gamma = 1.5})"), "rl.gae: gamma must be in [0, 1], got 1.5")
        XCTAssertEqual(h.bareError("rl.gae({1, 2}, {1, 2}, {dones = {true}})"), "rl.gae: rewards and dones differ in length (2 vs 1)")
        XCTAssertEqual(h.bareError("rl.gae({1, 2}, {1, 2}, {dones = {0, 0.5}})"),
                       "bad argument #3 to 'rl.gae' (option 'dones' must hold booleans or 0/1, entry 2 is 0.5)")
        XCTAssertEqual(h.bareError("rl.gae({{1, 2}}, {{1, 2}}, {last_value = {1, 2}})"),
                       "rl.gae: last_value needs one value per row (1), got 2")
        XCTAssertEqual(h.bareError("rl.returns({1}, {gamma = 'high'})"),
                       "bad argument #2 to 'rl.returns' (option 'gamma' must be a number, got string)")
        XCTAssertEqual(h.bareError("rl.whiten({1})"), "rl.whiten: whiten needs at least 2 values (unbiased variance), got 1")
        XCTAssertEqual(h.bareError("rl.whiten({1, 2}, {shift_mean = 1})"),
                       "bad argument #2 to 'rl.whiten' (option 'shift_mean' must be a boolean, got number)")
        XCTAssertEqual(h.bareError("rl.ppo_loss{logp = {1}, old_logp = {1}}"),
                       "bad argument #1 to 'rl.ppo_loss' (field 'advantages' is required (a tensor or an array of numbers))")
        XCTAssertEqual(h.bareError("rl.ppo_loss()"), "bad argument #1 to 'rl.ppo_loss' (table expected, got no value)")
        XCTAssertEqual(h.bareError("rl.ppo_loss{logp = {1, 2}, old_logp = {1}, advantages = {1}}"),
                       "rl.ppo_loss: logp and old_logp differ in length (2 vs 1)")
        XCTAssertEqual(h.bareError("rl.ppo_loss{logp = {1}, old_logp = {1}, advantages = {1}, clip = -1}"),
                       "rl.ppo_loss: clip must be >= 0, got -1.0")
        XCTAssertEqual(h.bareError("rl.value_loss{values = {1}, old_values = {1}, returns = {1}, clip_range = 1}"),
                       "bad argument #1 to 'rl.value_loss' (unknown option 'clip_range'; valid options: clip, old_values, returns, values)")
        XCTAssertEqual(h.bareError("rl.kl({1, 2}, {1})"), "rl.kl: logp and ref_logp differ in length (2 vs 1)")
        XCTAssertEqual(h.bareError("rl.kl({1}, {1}, {estimator = 'k4'})"),
                       "bad argument #3 to 'rl.kl' (option 'estimator' must be one of \"k1\", \"k2\", \"k3\", \"kl\", \"mse\", \"low_var_kl\", got \"k4\")")
        // verl's kl_penalty_forward names: "kl" is k1, "mse" k2, "low_var_kl" k3
        XCTAssertEqual(try h.luaNumbers("rl.kl({-1, -2}, {-1.5, -1}, {estimator = 'low_var_kl'})"),
                       try h.luaNumbers("rl.kl({-1, -2}, {-1.5, -1}, {estimator = 'k3'})"))
        XCTAssertEqual(try h.luaNumbers("rl.kl({-1, -2}, {-1.5, -1}, {estimator = 'mse'})"), [0.125, 0.5])
        XCTAssertEqual(try h.luaNumbers("rl.kl_penalty(1, {-1, -2}, {-1.5, -1}, {estimator = 'kl', beta = 1})"), [-0.5, 2])
        XCTAssertEqual(h.bareError("rl.kl_penalty({1, 2}, {1, 2}, {1, 2})"),
                       "rl.kl_penalty: 2 scores need logp as a 2 x T batch (2-d tensor or array of arrays), got 1-d")
        XCTAssertEqual(h.bareError("rl.kl_penalty({1, 2, 3}, {{1}, {2}}, {{1}, {2}})"), "rl.kl_penalty: 3 scores for 2 rows of logp")
        XCTAssertEqual(h.bareError("rl.kl_penalty({1}, {{1, 2}}, {{1, 2}}, {lengths = {3}})"),
                       "rl.kl_penalty: length of row 1 must be in [1, 2], got 3")
        XCTAssertEqual(h.bareError("rl.kl_penalty(1, {}, {})"), "rl.kl_penalty: kl_penalty needs at least one token, got 0")
        XCTAssertEqual(h.bareError("rl.group_advantages({1, 2, 3, 4, 5}, 2)"),
                       "rl.group_advantages: 5 rewards do not split into groups of 2")
        XCTAssertEqual(h.bareError("rl.group_advantages({1, 2}, 2, {method = 'dr_grpo', scale = 'group'})"),
                       "rl.group_advantages: dr_grpo never divides by a std: scale must be 'none', got 'group'")
        XCTAssertEqual(h.bareError("rl.group_advantages({1, 2}, 2, {method = 'ppo'})"),
                       "bad argument #3 to 'rl.group_advantages' (option 'method' must be one of \"grpo\", \"rloo\", \"dr_grpo\", got \"ppo\")")
        XCTAssertEqual(h.bareError("rl.group_advantages({1, 2}, 1.5)"),
                       "bad argument #2 to 'rl.group_advantages' (group_size must be an integer in [1, 2147483647], got 1.5)")
    }

    func testEveryFunctionHasADocstringWithSignatureAndExample() throws {
        let h = try harness()
        for fn in ["returns", "gae", "whiten", "ppo_loss", "value_loss", "kl", "kl_penalty", "group_advantages", "adaptive_kl"] {
            try h.run("help(rl.\(fn))")
            let doc = h.takeOutput()
            XCTAssertTrue(doc.hasPrefix("rl.\(fn)"), "help(rl.\(fn)) starts with its signature: \(doc)")
            XCTAssertTrue(doc.contains("Example:"), "help(rl.\(fn)) has an example")
        }
    }
}
