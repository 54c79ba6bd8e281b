import XCTest
import TestSupport

/// The `pref` module from Lua. Expected values were computed independently with numpy
/// (python3, numpy 2.4), re-implementing TRL's formulas: the reward trainer's Bradley–Terry
/// loss, `DPOTrainer._compute_loss` of TRL 1.x (`trl/trainer/dpo_trainer.py`, every
/// `loss_type` branch) and TRL 0.x's label-smoothed sigmoid (cdpo), the CPO trainer's simpo
/// branch, the ORPO trainer's `odds_ratio_loss` and the KTO trainer's kto loss; log-sigmoid as
/// torch's `min(x, 0) - log1p(exp(-|x|))`.
final class PrefModuleTests: XCTestCase {
    private func harness() throws -> LuaHarness {
        let h = try LuaHarness()
        try h.installNumberHelpers()
        return h
    }

    func testBradleyTerry() throws {
        let h = try harness()
        try h.run("c, r = {1.2, 0.3, -0.5, 2.0}, {0.4, 0.9, -0.5, -1.0}")
        // numpy: l = -logsigmoid(c - r); l.mean(), (c > r).mean() (the tie in pair 3 is not correct)
        assertNumbersClose(try h.luaNumbers("pref.bt_loss(c, r)"),
                           [0.5375807871418377, 0.5, 0.37110066594777774, 1.0374879504858856, 0.6931471805599453,
                            0.04858735157374206])
        assertNumbersClose(try h.luaNumbers("(pref.bt_loss(T(c), r, {margin = 0.5}))"), [0.7486643220141536])
        assertNumbersClose(try h.luaNumbers("(pref.bt_loss(c, r, {margin = {0.1, 0.2, 0.3, 0.4}}))"), [0.6250716628173583])
        XCTAssertEqual(h.bareError("pref.bt_loss({1, 2}, {1})"), "pref.bt_loss: r_chosen and r_rejected differ in length (2 vs 1)")
        XCTAssertEqual(h.bareError("pref.bt_loss({1}, {1}, {margins = 1})"),
                       "bad argument #3 to 'pref.bt_loss' (unknown option 'margins'; valid options: grad, margin)")
        XCTAssertEqual(h.bareError("pref.bt_loss({1}, {1}, {margin = 'big'})"),
                       "bad argument #3 to 'pref.bt_loss' (option 'margin' must be a tensor or an array of numbers, got string)")
    }

    func testListwiseTakesOneBasedPositions() throws {
        let h = try harness()
        // numpy: -(row[b] - log(sum(exp(row)))) with b 0-based = Lua's best - 1
        assertNumbersClose(try h.luaNumbers("pref.listwise_loss({{2, 1, 0}, {0, 3, 1}}, {1, 2})"),
                           [0.40760596444438013, 0.16984601955628564])
        assertNumbersClose(try h.luaNumbers("pref.listwise_loss(T{{2, 1, 0}, {0, 3, 1}}, T{1, 2})"),
                           [0.40760596444438013, 0.16984601955628564])
        assertNumbersClose(try h.luaNumbers("pref.listwise_loss({{1, -math.huge, 0}}, {3})"), [1.3132616875182228])
        XCTAssertEqual(try h.value("math.type(pref.listwise_loss({2, 1, 0}, 1))"), "float", "one row, a number best: a number")
        assertNumbersClose(try h.luaNumbers("pref.listwise_loss({2, 1, 0}, 1)"), [0.40760596444438013])
        XCTAssertEqual(h.bareError("pref.listwise_loss({{1, 2}}, {3})"), "pref.listwise_loss: best of row 1 must be in 1...2, got 3")
        XCTAssertEqual(h.bareError("pref.listwise_loss({{1, 2}}, {0})"), "pref.listwise_loss: best of row 1 must be in 1...2, got 0")
        XCTAssertEqual(h.bareError("pref.listwise_loss({{1, 2}, {3, 4}}, {1})"),
                       "pref.listwise_loss: scores and best differ in rows (2 vs 1)")
        XCTAssertEqual(h.bareError("pref.listwise_loss({{1, 2}}, {1.5})"),
                       "bad argument #2 to 'pref.listwise_loss' (positions must be integers, entry 1 is 1.5)")
        XCTAssertEqual(h.bareError("pref.listwise_loss('x', {1})"),
                       "bad argument #1 to 'pref.listwise_loss' (2-d tensor or array of arrays expected, got string)")
    }

    /// A row of only -inf gives NaN and keeps the other rows, as torch 2.15.0's
    /// F.cross_entropy(scores, best - 1, reduction="none") (Fixtures/generate_masked_rows.py).
    func testListwiseRowOfOnlyMinusInfIsNaN() throws {
        let h = try harness()
        try h.run("m = -math.huge")
        XCTAssertEqual(try h.value("pref.listwise_loss({{2, 1, 0}, {m, m, m}, {0, 3, 1}}, {1, 2, 2})"),
                       "tensor([0.4076,    nan, 0.1698], dtype=f64)")
        assertNumbersClose(try h.luaNumbers("(function(l) return l[1], l[3] end)(pref.listwise_loss(T{{2, 1, 0}, {m, m, m}, {0, 3, 1}}, {1, 2, 2}))"),
                           [0.4076059644443804, 0.16984601955628548])
        XCTAssertEqual(try h.value("pref.listwise_loss({m, m}, 2)"), "nan")
        XCTAssertEqual(try h.value("pref.listwise_loss({{1, m}, {m, m}}, {2, 1})"), "tensor([inf, nan], dtype=f64)")
    }

    private let pairs = """
        P = {policy_chosen = {-10.0, -12.5, -8.0, -20.0}, policy_rejected = {-11.0, -12.0, -9.5, -19.0},
             ref_chosen = {-10.5, -12.0, -8.5, -19.5}, ref_rejected = {-10.8, -12.2, -9.0, -18.0}}
        function with(extra) local t = {} for k, v in pairs(P) do t[k] = v end for k, v in pairs(extra) do t[k] = v end return t end
        """

    func testDPOSigmoidOutputsAndStats() throws {
        let h = try harness()
        try h.run(pairs)
        try h.run("l, cr, rr, s = pref.dpo_loss(P)")
        // numpy: x = beta*((pc - rc) - (pr - rr)); -logsigmoid(x); beta*(pc - rc); beta*(pr - rr)
        assertNumbersClose(try h.luaNumbers("l"), [0.6587595555486971, 0.7287595555486971, 0.6443966600735709, 0.6684596480132863])
        assertNumbersClose(try h.luaNumbers("cr, rr"), [0.05, -0.05, 0.05, -0.05, -0.02, 0.02, -0.05, -0.1])
        assertNumbersClose(try h.luaNumbers("s.loss, s.accuracy, s.margin"), [0.6750938547960628, 0.75, 0.0375])
    }

    /// TRL 0.x DPOConfig.reference_free: a reference giving every response the same probability,
    /// ref log-probabilities 0 (numpy: -logsigmoid(0.1 * (pc - pr)), rewards 0.1 * pc and 0.1 * pr).
    func testDPOReferenceFree() throws {
        let h = try harness()
        try h.run("l, cr, rr = pref.dpo_loss{policy_chosen = {-1, -3}, policy_rejected = {-2, -2.5}, reference_free = true}")
        assertNumbersClose(try h.luaNumbers("l"), [0.6443966600735709, 0.7184596480132863])
        assertNumbersClose(try h.luaNumbers("cr, rr"), [-0.1, -0.30000000000000004, -0.2, -0.25])
    }

    func testEveryDPOLossTypeWithItsOptions() throws {
        let h = try harness()
        try h.run(pairs)
        try h.run("lc, lr = {10, 20, 8, 30}, {12, 18, 9, 25}")
        // (loss option table, numpy mean loss of the matching TRL branch)
        let cases: [(String, Double)] = [
            ("loss = 'hinge', beta = 0.5", 0.8125),
            ("loss = 'ipo', chosen_len = lc, rejected_len = lr", 24.575196392746914),
            ("loss = 'robust', label_smoothing = 0.1", 0.6704063547960628),
            ("loss = 'exo_pair', label_smoothing = 1e-3", 2.6972165881794194),
            ("loss = 'nca_pair'", 1.3775958054624449),
            ("loss = 'bco_pair'", 1.3682723148983176),
            ("loss = 'bco_pair', bco_delta = 'batch_mean'", 1.3681844739539106),
            ("loss = 'bco_pair', bco_delta = 0.05", 1.3693651552550703),
            ("loss = 'sppo_hard'", 46.8325),
            // apo_zero and apo_down agree on the pairs above; a different ref_chosen tells them apart.
            ("loss = 'apo_zero', ref_chosen = {-10.2, -12.0, -8.5, -19.5}", 0.9925052447952649),
            ("loss = 'apo_down', beta = 0.5, ref_chosen = {-10.2, -12.0, -8.5, -19.5}", 0.9537376090275853),
            ("loss = 'discopop', beta = 0.3, discopop_tau = 0.1", 0.7966070059048835),
            ("loss = 'sigmoid_norm', chosen_len = T(lc), rejected_len = lr", 0.6910041968560885),
            ("loss = 'aot', label_smoothing = 0.2", 0.6825938547960628),
            ("loss = 'aot_unpaired', label_smoothing = 0.1", 0.6784065151158443),
            ("loss = 'cdpo', label_smoothing = 0.1", 0.6788438547960628),
            ("loss = 'sigmoid', label_smoothing = 0.3", 0.6750938547960628),  // sigmoid ignores it, as TRL
        ]
        for (opts, expected) in cases {
            let got = try h.luaNumbers("select(4, pref.dpo_loss(with{\(opts)})).loss")
            XCTAssertEqual(got.first ?? .nan, expected, accuracy: 1e-12 * (1 + abs(expected)), "dpo_loss{\(opts)}")
        }
    }

    func testDPOBadArguments() throws {
        let h = try harness()
        try h.run(pairs)
        XCTAssertEqual(h.bareError("pref.dpo_loss(with{loss = 'ipo'})"),
                       "pref.dpo_loss: ipo needs chosen_len and rejected_len (token counts)")
        XCTAssertEqual(h.bareError("pref.dpo_loss(with{loss = 'dpo'})"),
                       "bad argument #1 to 'pref.dpo_loss' (option 'loss' must be one of \"sigmoid\", \"hinge\", \"ipo\", \"robust\", \"exo_pair\", \"nca_pair\", \"bco_pair\", \"sppo_hard\", \"apo_zero\", \"apo_down\", \"discopop\", \"sigmoid_norm\", \"aot\", \"aot_unpaired\", \"cdpo\", got \"dpo\")")
        XCTAssertEqual(h.bareError("pref.dpo_loss(with{betta = 0.1})"),
                       "bad argument #1 to 'pref.dpo_loss' (unknown option 'betta'; valid options: bco_delta, beta, chosen_len, discopop_tau, grad, label_smoothing, loss, policy_chosen, policy_rejected, ref_chosen, ref_rejected, reference_free, rejected_len)")
        XCTAssertEqual(h.bareError("pref.dpo_loss(with{ref_rejected = {1, 2}})"),
                       "pref.dpo_loss: policy_chosen and ref_rejected differ in length (4 vs 2)")
        XCTAssertEqual(h.bareError("pref.dpo_loss{policy_chosen = {1}, policy_rejected = {1}, ref_chosen = {1}}"),
                       "bad argument #1 to 'pref.dpo_loss' (field 'ref_rejected' is required (a tensor or an array of numbers))")
        XCTAssertEqual(h.bareError("pref.dpo_loss(with{loss = 'robust', label_smoothing = 0.5})"),
                       "pref.dpo_loss: label_smoothing must be in [0, 0.5) for robust, got 0.5")
        XCTAssertEqual(h.bareError("pref.dpo_loss(with{beta = 0})"), "pref.dpo_loss: beta must be > 0, got 0.0")
        XCTAssertEqual(h.bareError("pref.dpo_loss(with{bco_delta = 'running'})"),
                       "bad argument #1 to 'pref.dpo_loss' (option 'bco_delta' must be a number or \"batch_mean\", got string)")
        XCTAssertEqual(h.bareError("pref.dpo_loss(with{policy_chosen = 'x'})"),
                       "bad argument #1 to 'pref.dpo_loss' (option 'policy_chosen' must be a tensor or an array of numbers, got string)")
        XCTAssertEqual(h.bareError("pref.dpo_loss()"), "bad argument #1 to 'pref.dpo_loss' (table expected, got no value)")
    }

    func testSimPO() throws {
        let h = try harness()
        // numpy: logits = (c - r) - gamma/beta; -logsigmoid(beta*logits)*(1-ls) - logsigmoid(-beta*logits)*ls
        try h.run("l, cr, rr, s = pref.simpo_loss{policy_chosen = {-0.9, -1.2, -0.5}, policy_rejected = {-1.4, -1.1, -2.0}, beta = 2}")
        assertNumbersClose(try h.luaNumbers("l, cr, rr"),
                           [0.47407698418010674, 1.1031860488854577, 0.07888973429254963, -1.8, -2.4, -1.0, -2.8, -2.2, -4.0])
        assertNumbersClose(try h.luaNumbers("s.loss, s.accuracy, s.margin"), [0.5520509224527047, 2.0 / 3, 1.2666666666666666])
        // TRL's defaults beta = 0.1, gamma = 0.5; the alias spelling chosen/rejected.
        assertNumbersClose(try h.luaNumbers("select(4, pref.simpo_loss{chosen = {-0.9, -1.2, -0.5}, rejected = {-1.4, -1.1, -2.0}}).loss"),
                           [0.935648139820369])
        // Summed log-probabilities averaged by the lengths; nll added with nll_weight.
        assertNumbersClose(try h.luaNumbers("select(4, pref.simpo_loss{policy_chosen = {-8.1, -12, -2}, policy_rejected = {-9.8, -12.1, -10}, chosen_len = {9, 10, 4}, rejected_len = {7, 11, 5}, beta = 2, gamma = 1, label_smoothing = 0.1, nll = 1.5, nll_weight = 0.5}).loss"),
                           [1.5377858863136495])
        XCTAssertEqual(h.bareError("pref.simpo_loss{chosen = {1}, policy_chosen = {1}, rejected = {1}}"),
                       "bad argument #1 to 'pref.simpo_loss' (give 'policy_chosen' or its alias 'chosen', not both)")
        XCTAssertEqual(h.bareError("pref.simpo_loss{policy_chosen = {1}}"),
                       "bad argument #1 to 'pref.simpo_loss' (field 'policy_rejected' is required (a tensor or an array of numbers))")
        XCTAssertEqual(h.bareError("pref.simpo_loss{policy_chosen = {-1}, policy_rejected = {-1}, chosen_len = {1, 2}}"),
                       "pref.simpo_loss: chosen and its lengths differ in length (1 vs 2)")
    }

    func testORPO() throws {
        let h = try harness()
        // numpy: log_odds = (c - r) - (log1p(-exp(c)) - log1p(-exp(r))); -beta*logsigmoid(log_odds)
        try h.run("l, cr, rr, s = pref.orpo_loss{policy_chosen = {-0.9, -1.2, -0.5}, policy_rejected = T{-1.4, -1.1, -2.0}}")
        assertNumbersClose(try h.luaNumbers("l"), [0.03905165247801633, 0.07690183078925526, 0.009670586364939959])
        assertNumbersClose(try h.luaNumbers("s.loss, s.accuracy, s.margin, s.log_odds, s.log_odds_ratio"),
                           [0.041874689877403844, 2.0 / 3, 0.06333333333333334, 0.9598765348720896, -0.4187468987740384])
        assertNumbersClose(try h.luaNumbers("select(4, pref.orpo_loss{chosen = {-0.9, -1.2, -0.5}, rejected = {-1.4, -1.1, -2.0}, beta = 0.25, nll = 2}).loss"),
                           [2.1046867246935097])
        XCTAssertEqual(h.bareError("pref.orpo_loss{policy_chosen = {0}, policy_rejected = {-1}}"),
                       "pref.orpo_loss: average log-probabilities must be < 0, got 0.0 and -1.0 in pair 1")
        XCTAssertEqual(h.bareError("pref.orpo_loss{policy_chosen = {-1}, policy_rejected = {-1}, gamma = 1}"),
                       "bad argument #1 to 'pref.orpo_loss' (unknown option 'gamma'; valid options: beta, chosen, chosen_len, grad, nll, policy_chosen, policy_rejected, rejected, rejected_len)")
    }

    func testKTO() throws {
        let h = try harness()
        // numpy: z = max(mean(kl_policy - kl_ref), 0); 1 - sigmoid(beta*((pc - rc) - z)) * w_d;
        // 1 - sigmoid(beta*(z - (pr - rr))) * w_u; concatenated, mean.
        try h.run("""
            l, cr, rr, s = pref.kto_loss{policy_chosen = {-5, -6}, ref_chosen = {-5.5, -5.8},
              policy_rejected = {-7, -4}, ref_rejected = {-6.5, -4.2}, kl_policy = {-3, -2.5}, kl_ref = {-3.4, -2.6},
              desirable_weight = 1.33}
            """)
        assertNumbersClose(try h.luaNumbers("l, cr, rr, s.loss, s.kl"),
                           [0.6566879329156512, 0.679959975589317, 0.48125878412146483, 0.49875000260416014,
                            0.05, -0.02, -0.05, 0.02, 0.5791641738076483, 0.25])
        // Only desirable examples, no reference point, beta 0.5.
        try h.run("l, cr, rr, s = pref.kto_loss{policy_chosen = {-5, -6}, ref_chosen = {-5.5, -5.8}, beta = 0.5}")
        assertNumbersClose(try h.luaNumbers("l, s.loss, s.kl"), [0.43782349911420193, 0.52497918747894, 0.48140134329657097, 0])
        XCTAssertEqual(try h.value("#rr"), "0")
        XCTAssertEqual(h.bareError("pref.kto_loss{policy_chosen = {-5}, ref_chosen = {-5}, kl = 0.1, kl_policy = {1}, kl_ref = {1}}"),
                       "pref.kto_loss: give either kl or kl_policy and kl_ref, not both")
        XCTAssertEqual(h.bareError("pref.kto_loss{policy_chosen = {-5, -6}, ref_chosen = {-5}}"),
                       "pref.kto_loss: policy_chosen and ref_chosen differ in length (2 vs 1)")
        XCTAssertEqual(h.bareError("pref.kto_loss{beta = 0.1}"),
                       "bad argument #1 to 'pref.kto_loss' (needs policy_chosen and ref_chosen, or policy_rejected and ref_rejected)")
    }

    func testEveryFunctionHasADocstringWithSignatureAndExample() throws {
        let h = try harness()
        for fn in ["bt_loss", "listwise_loss", "dpo_loss", "simpo_loss", "orpo_loss", "kto_loss"] {
            try h.run("help(pref.\(fn))")
            let doc = h.takeOutput()
            XCTAssertTrue(doc.hasPrefix("pref.\(fn)"), "help(pref.\(fn)) starts with its signature: \(doc)")
            XCTAssertTrue(doc.contains("Example:"), "help(pref.\(fn)) has an example")
        }
    }
}
