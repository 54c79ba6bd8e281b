import XCTest
@testable import AlignMath

/// Preference losses against Fixtures/pref_fixtures.json, whose DPO family is TRL 1.x's
/// trl/trainer/dpo_trainer.py (`_compute_loss`) re-implemented in numpy, SimPO from
/// trl/experimental/cpo/cpo_trainer.py, ORPO from trl/experimental/orpo/orpo_trainer.py and
/// KTO from trl/trainer/kto_trainer.py (see generate_rl_pref_metrics.py).
final class PreferenceTests: XCTestCase {
    func testLogSigmoidKeepsTinyValues() {
        XCTAssertGreaterThan(-Preference.logSigmoid(500), 0)
        RPM.assertClose(-Preference.logSigmoid(500), 7.124576406741286e-218, "logsigmoid(500)")
        XCTAssertEqual(Preference.logSigmoid(-1000), -1000)
        XCTAssertEqual(Preference.sigmoid(-1000), 0)
        XCTAssertEqual(Preference.sigmoid(1000), 1)
    }

    func testBradleyTerryAndListwise() throws {
        let f = try RPM.load("pref_fixtures.json")
        for c in f["bt"] as? [[String: Any]] ?? [] {
            let m: [Double]? = c["margin"] is NSNull ? nil : RPM.doubles(c["margin"])
            let r = try Preference.btLoss(chosen: RPM.doubles(c["chosen"]), rejected: RPM.doubles(c["rejected"]), margin: m)
            let want = RPM.doubles(c["losses"])
            RPM.assertClose(r.losses, want, "bt losses")
            RPM.assertClose(r.loss, want.reduce(0, +) / Double(want.count), "bt loss", rtol: 1e-12)
            RPM.assertClose(r.accuracy, c["accuracy"] as? Double ?? .nan, "bt accuracy")
            XCTAssertGreaterThan(r.losses[3], 0, "-logsigmoid(500) must stay positive")
        }
        let l = f["listwise"] as? [String: Any] ?? [:]
        let got = try Preference.listwiseLoss(scores: RPM.doubles(l["scores"]), width: 4, best: l["best"] as? [Int] ?? [])
        RPM.assertClose(got, RPM.doubles(l["expected"]), "listwise")
        RPM.assertMessage({ try Preference.btLoss(chosen: [1], rejected: []) }, contains: "(1 vs 0)")
        RPM.assertMessage({ try Preference.listwiseLoss(scores: [1, 2], width: 2, best: [2]) }, contains: "got 3")
        let empty = try Preference.btLoss(chosen: [], rejected: [])
        XCTAssertEqual(empty.losses, [])
        XCTAssertTrue(empty.loss.isNaN)
    }

    func testDPOFamilyMatchesTRLReference() throws {
        let f = try RPM.load("pref_fixtures.json")
        let inp = f["dpo_inputs"] as? [String: Any] ?? [:]
        let pc = RPM.doubles(inp["pc"]), pr = RPM.doubles(inp["pr"]), rc = RPM.doubles(inp["rc"]), rr = RPM.doubles(inp["rr"])
        let cases = f["dpo"] as? [[String: Any]] ?? []
        XCTAssertEqual(cases.count, 32)
        var seen = Set<String>()
        for c in cases {
            let name = c["loss_type"] as? String ?? ""
            seen.insert(name)
            var o = Preference.DPOOptions()
            o.loss = try Preference.DPOLoss.named(name)
            o.beta = c["beta"] as? Double ?? .nan
            o.labelSmoothing = c["label_smoothing"] as? Double ?? .nan
            o.chosenLengths = RPM.doubles(inp["lc"])
            o.rejectedLengths = RPM.doubles(inp["lr"])
            if let tau = c["discopop_tau"] as? Double { o.discopopTau = tau }
            if c["bco_delta"] as? String == "batch" { o.bcoDelta = .batchMean }
            let r = try Preference.dpoLoss(policyChosen: pc, policyRejected: pr, refChosen: rc, refRejected: rr, options: o)
            let what = "\(name) beta \(o.beta)"
            RPM.assertClose(r.losses, RPM.doubles(c["losses"]), "\(what) losses")
            RPM.assertClose(r.chosenRewards, RPM.doubles(c["chosen_rewards"]), "\(what) chosen rewards")
            RPM.assertClose(r.rejectedRewards, RPM.doubles(c["rejected_rewards"]), "\(what) rejected rewards")
            RPM.assertClose(r.loss, c["loss"] as? Double ?? .nan, "\(what) loss", rtol: 1e-10)
            RPM.assertClose(r.accuracy, c["accuracy"] as? Double ?? .nan, "\(what) accuracy")
            RPM.assertClose(r.margin, c["margin"] as? Double ?? .nan, "\(what) margin", rtol: 1e-10)
            for l in r.losses { XCTAssertFalse(l.isNaN, "\(what): NaN loss") }
        }
        XCTAssertEqual(seen.count, Preference.DPOLoss.allCases.count)
    }

    func testDPOTieIsNotCorrectAndTinyLossIsPositive() throws {
        var o = Preference.DPOOptions()
        o.beta = 0.5
        let r = try Preference.dpoLoss(policyChosen: [-10, 0], policyRejected: [-12, -500],
                                       refChosen: [-11, -500], refRejected: [-13, 0], options: o)
        XCTAssertEqual(r.accuracy, 0.5)  // the first pair is an exact tie
        XCTAssertEqual(r.losses[0], log(2.0), accuracy: 1e-15)
        XCTAssertGreaterThan(r.losses[1], 0)
        XCTAssertLessThan(r.losses[1], 1e-200)
    }

    /// NaN log-probabilities as torch gives them (TRL 1.16 DPOTrainer._compute_loss; found by
    /// Tests/Differential/peer_diff.py): hinge's torch.relu keeps NaN (Swift.max(0, .nan) is 0), and
    /// aot's torch.sort puts NaN last, so only the last rank is NaN (Swift's sorted() has no order
    /// for NaN and misplaced the finite ranks too).
    func testNaNAsTorch() throws {
        var o = Preference.DPOOptions()
        o.loss = .hinge
        let h = try Preference.dpoLoss(policyChosen: [-1, -2], policyRejected: [-2, -1], refChosen: [-1.5, -2],
                                       refRejected: [.nan, -1], options: o)
        XCTAssertTrue(h.losses[0].isNaN)
        XCTAssertEqual(h.losses[1], 1, accuracy: 1e-15)
        for kind in [Preference.DPOLoss.aot, .aotUnpaired] {
            o.loss = kind
            let r = try Preference.dpoLoss(policyChosen: [-1, -2, -3], policyRejected: [-2, -1, -1.5],
                                           refChosen: [-1.5, -2, -2.5], refRejected: [.nan, -1, -2], options: o)
            XCTAssertEqual(r.losses[0], 0.7184596480132863, accuracy: 1e-15, "\(kind)")  // numpy/torch
            XCTAssertEqual(r.losses[1], 0.7184596480132863, accuracy: 1e-15, "\(kind)")
            XCTAssertTrue(r.losses[2].isNaN, "\(kind)")
        }
    }

    func testDPOErrorsAndEmpty() throws {
        RPM.assertMessage({ try Preference.DPOLoss.named("dpo") }, contains: "valid: sigmoid, hinge")
        var o = Preference.DPOOptions()
        o.loss = .ipo
        RPM.assertMessage({ try Preference.dpoLoss(policyChosen: [1], policyRejected: [1], refChosen: [1], refRejected: [1], options: o) },
                          contains: "ipo needs chosen_len")
        o.loss = .exoPair
        RPM.assertMessage({ try Preference.dpoLoss(policyChosen: [1], policyRejected: [1], refChosen: [1], refRejected: [1], options: o) },
                          contains: "for exo_pair")
        o.loss = .robust
        o.labelSmoothing = 0.5
        RPM.assertMessage({ try Preference.dpoLoss(policyChosen: [1], policyRejected: [1], refChosen: [1], refRejected: [1], options: o) },
                          contains: "[0, 0.5) for robust")
        RPM.assertMessage({ try Preference.dpoLoss(policyChosen: [1, 2], policyRejected: [1], refChosen: [1], refRejected: [1]) },
                          contains: "(2 vs 1)")
        let e = try Preference.dpoLoss(policyChosen: [], policyRejected: [], refChosen: [], refRejected: [])
        XCTAssertEqual(e.losses, [])
        XCTAssertTrue(e.loss.isNaN)
    }

    func testDPOLargeBatchSplitsOverCoresDeterministically() throws {
        let n = 200_000
        let pc = (0..<n).map { -Double($0 % 97) - 1 }, pr = (0..<n).map { -Double($0 % 89) - 2 }
        let rc = (0..<n).map { -Double($0 % 83) - 1 }, rr = (0..<n).map { -Double($0 % 79) - 1 }
        let a = try Preference.dpoLoss(policyChosen: pc, policyRejected: pr, refChosen: rc, refRejected: rr)
        let b = try Preference.dpoLoss(policyChosen: pc, policyRejected: pr, refChosen: rc, refRejected: rr)
        XCTAssertEqual(a, b)
        var s = 0.0
        for i in 0..<n { s += -Preference.logSigmoid(0.1 * ((pc[i] - rc[i]) - (pr[i] - rr[i]))) }
        RPM.assertClose(a.loss, s / Double(n), "mean over blocks", rtol: 1e-12)
    }

    func testSimPOORPOKTO() throws {
        let f = try RPM.load("pref_fixtures.json")
        let s = f["simpo"] as? [String: Any] ?? [:]
        for c in s["cases"] as? [[String: Any]] ?? [] {
            let r = try Preference.simpoLoss(chosen: RPM.doubles(s["chosen"]), rejected: RPM.doubles(s["rejected"]),
                                             beta: c["beta"] as? Double ?? .nan, gamma: c["gamma"] as? Double ?? .nan,
                                             labelSmoothing: c["label_smoothing"] as? Double ?? .nan)
            RPM.assertClose(r.losses, RPM.doubles(c["losses"]), "simpo losses")
            RPM.assertClose(r.loss, c["loss"] as? Double ?? .nan, "simpo loss")
            RPM.assertClose(r.chosenRewards, RPM.doubles(c["chosen_rewards"]), "simpo chosen rewards")
        }
        let o = f["orpo"] as? [String: Any] ?? [:]
        let r = try Preference.orpoLoss(chosen: RPM.doubles(o["chosen"]), rejected: RPM.doubles(o["rejected"]),
                                        beta: 0.1, nll: o["nll"] as? Double)
        RPM.assertClose(r.losses, RPM.doubles(o["losses"]), "orpo losses")
        RPM.assertClose(r.loss, o["loss"] as? Double ?? .nan, "orpo loss")
        RPM.assertClose(r.logOdds, o["log_odds"] as? Double ?? .nan, "orpo log odds")
        RPM.assertClose(r.logOddsRatio, o["ratio"] as? Double ?? .nan, "orpo ratio")
        RPM.assertMessage({ try Preference.orpoLoss(chosen: [0], rejected: [-1]) }, contains: "must be < 0")
        let k = f["kto"] as? [String: Any] ?? [:]
        for c in k["cases"] as? [[String: Any]] ?? [] {
            let r = try Preference.ktoLoss(policyChosen: RPM.doubles(k["pc"]), refChosen: RPM.doubles(k["rc"]),
                                           policyRejected: RPM.doubles(k["pr"]), refRejected: RPM.doubles(k["rr"]),
                                           klPolicy: RPM.doubles(k["klp"]), klRef: RPM.doubles(k["klr"]),
                                           beta: c["beta"] as? Double ?? .nan, desirableWeight: c["dw"] as? Double ?? .nan,
                                           undesirableWeight: c["uw"] as? Double ?? .nan)
            RPM.assertClose(r.kl, c["kl"] as? Double ?? .nan, "kto kl")
            RPM.assertClose(r.losses, RPM.doubles(c["losses"]), "kto losses")
            RPM.assertClose(r.loss, c["loss"] as? Double ?? .nan, "kto loss")
        }
        let neg = try Preference.ktoLoss(policyChosen: [-1], refChosen: [-1], policyRejected: [], refRejected: [], kl: -3)
        XCTAssertEqual(neg.kl, 0)
        XCTAssertEqual(neg.losses, [0.5])
    }
}
