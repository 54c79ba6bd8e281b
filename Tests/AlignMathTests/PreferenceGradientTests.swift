import XCTest
@testable import AlignMath

/// Analytic gradients of every preference loss: against torch autograd on TRL 1.16's
/// formulas (pref_grads.json, generate_pref_grads.py) and against central finite
/// differences of the losses moonlab itself computes.
final class PreferenceGradientTests: XCTestCase {
    func doubles(_ x: Any?) -> [Double] { (x as? [Any] ?? []).map { ($0 as? NSNumber)?.doubleValue ?? .nan } }

    func assertClose(_ a: [Double], _ b: [Double], rtol: Double, atol: Double, _ what: String,
                     file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, what, file: file, line: line)
        for i in 0..<min(a.count, b.count) where !(abs(a[i] - b[i]) <= atol + rtol * abs(b[i])) {
            XCTFail("\(what)[\(i)]: \(a[i]) vs \(b[i])", file: file, line: line)
        }
    }

    func testAgainstTorchAutograd() throws {
        let root = try XCTUnwrap(try Fixture.load("pref_grads.json") as? [String: Any])
        let cases = try XCTUnwrap(root["cases"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 36)
        var families: Set<String> = []
        for c in cases {
            let family = c["family"] as? String ?? ""
            families.insert(family)
            let beta = (c["beta"] as? NSNumber)?.doubleValue ?? 0
            let wantC = doubles(c["grad_chosen"]), wantR = doubles(c["grad_rejected"])
            let mean = (c["mean_loss"] as? NSNumber)?.doubleValue ?? .nan
            let g: Preference.Gradients
            let loss: Double
            switch family {
            case "dpo":
                var o = Preference.DPOOptions()
                o.beta = beta
                o.loss = try Preference.DPOLoss.named(c["loss"] as? String ?? "")
                o.labelSmoothing = (c["label_smoothing"] as? NSNumber)?.doubleValue ?? 0
                o.discopopTau = (c["discopop_tau"] as? NSNumber)?.doubleValue ?? 0.05
                let delta = (c["bco_delta"] as? NSNumber)?.doubleValue ?? 0
                o.bcoDelta = delta == 0 ? .zero : .fixed(delta)
                o.chosenLengths = doubles(c["chosen_len"])
                o.rejectedLengths = doubles(c["rejected_len"])
                let pc = doubles(c["policy_chosen"]), pr = doubles(c["policy_rejected"])
                let rc = doubles(c["ref_chosen"]), rr = doubles(c["ref_rejected"])
                g = try Preference.dpoGradients(policyChosen: pc, policyRejected: pr, refChosen: rc, refRejected: rr, options: o)
                loss = try Preference.dpoLoss(policyChosen: pc, policyRejected: pr, refChosen: rc, refRejected: rr, options: o).loss
            case "simpo":
                let args = (doubles(c["chosen"]), doubles(c["rejected"]), (c["gamma"] as? NSNumber)?.doubleValue ?? 0.5,
                            (c["label_smoothing"] as? NSNumber)?.doubleValue ?? 0, doubles(c["chosen_len"]), doubles(c["rejected_len"]))
                g = try Preference.simpoGradients(chosen: args.0, rejected: args.1, beta: beta, gamma: args.2, labelSmoothing: args.3,
                                                  chosenLengths: args.4, rejectedLengths: args.5)
                loss = try Preference.simpoLoss(chosen: args.0, rejected: args.1, beta: beta, gamma: args.2, labelSmoothing: args.3,
                                                chosenLengths: args.4, rejectedLengths: args.5).loss
            case "orpo":
                let lc = c["chosen_len"] == nil ? nil : doubles(c["chosen_len"])
                let lr = c["rejected_len"] == nil ? nil : doubles(c["rejected_len"])
                g = try Preference.orpoGradients(chosen: doubles(c["chosen"]), rejected: doubles(c["rejected"]), beta: beta,
                                                 chosenLengths: lc, rejectedLengths: lr)
                loss = try Preference.orpoLoss(chosen: doubles(c["chosen"]), rejected: doubles(c["rejected"]), beta: beta,
                                               chosenLengths: lc, rejectedLengths: lr).loss
            default:
                let kl = (c["kl"] as? NSNumber)?.doubleValue
                let klp = c["kl_policy"] == nil ? nil : doubles(c["kl_policy"])
                let klr = c["kl_ref"] == nil ? nil : doubles(c["kl_ref"])
                let wd = (c["desirable_weight"] as? NSNumber)?.doubleValue ?? 1
                let wu = (c["undesirable_weight"] as? NSNumber)?.doubleValue ?? 1
                let pc = doubles(c["policy_chosen"]), rc = doubles(c["ref_chosen"])
                let pr = doubles(c["policy_rejected"]), rr = doubles(c["ref_rejected"])
                g = try Preference.ktoGradients(policyChosen: pc, refChosen: rc, policyRejected: pr, refRejected: rr,
                                                klPolicy: klp, klRef: klr, kl: kl, beta: beta, desirableWeight: wd, undesirableWeight: wu)
                loss = try Preference.ktoLoss(policyChosen: pc, refChosen: rc, policyRejected: pr, refRejected: rr,
                                              klPolicy: klp, klRef: klr, kl: kl, beta: beta, desirableWeight: wd,
                                              undesirableWeight: wu).loss
            }
            let name = "\(family) \(c["loss"] as? String ?? "") beta \(beta)"
            XCTAssertEqual(loss, mean, accuracy: 1e-12 * max(1, abs(mean)), name)
            assertClose(g.policyChosen, wantC, rtol: 1e-9, atol: 1e-15, "\(name) d/d chosen")
            assertClose(g.policyRejected, wantR, rtol: 1e-9, atol: 1e-15, "\(name) d/d rejected")
        }
        XCTAssertEqual(families, ["dpo", "simpo", "orpo", "kto"])
    }

    /// Central differences of the mean loss, input by input, for every DPO loss type on
    /// inputs where each loss is smooth (no hinge kink, no ties in aot's sorts).
    func testEveryDPOLossAgainstFiniteDifferences() throws {
        let pc = [-12.0, -30.5, -7.0, -18.75], pr = [-14.5, -22.0, -9.75, -25.5]
        let rc = [-13.0, -29.0, -8.5, -20.0], rr = [-13.5, -24.0, -9.0, -23.0]
        for loss in Preference.DPOLoss.allCases {
            for beta in [0.1, 0.7] {
                var o = Preference.DPOOptions()
                o.beta = beta
                o.loss = loss
                o.labelSmoothing = [.robust, .exoPair, .aot, .aotUnpaired, .cdpo].contains(loss) ? 0.1 : 0
                o.chosenLengths = [3, 17, 1, 9]
                o.rejectedLengths = [5, 2, 11, 0]
                o.bcoDelta = .fixed(0.2)
                let g = try Preference.dpoGradients(policyChosen: pc, policyRejected: pr, refChosen: rc, refRejected: rr, options: o)
                func f(_ a: [Double], _ b: [Double]) throws -> Double {
                    try Preference.dpoLoss(policyChosen: a, policyRejected: b, refChosen: rc, refRejected: rr, options: o).loss
                }
                let h = 1e-5
                for i in 0..<pc.count {
                    var up = pc, down = pc
                    up[i] += h; down[i] -= h
                    let fdC = (try f(up, pr) - f(down, pr)) / (2 * h)
                    var upR = pr, downR = pr
                    upR[i] += h; downR[i] -= h
                    let fdR = (try f(pc, upR) - f(pc, downR)) / (2 * h)
                    XCTAssertEqual(g.policyChosen[i], fdC, accuracy: 1e-7 + 1e-5 * abs(fdC), "\(loss) beta \(beta) chosen[\(i)]")
                    XCTAssertEqual(g.policyRejected[i], fdR, accuracy: 1e-7 + 1e-5 * abs(fdR), "\(loss) beta \(beta) rejected[\(i)]")
                }
            }
        }
    }

    func testReferenceFreeLossesAgainstFiniteDifferences() throws {
        let c = [-40.0, -22.5, -63.0], r = [-44.0, -21.0, -80.0], lc = [20.0, 9, 31], lr = [25.0, 7, 30]
        let h = 1e-5
        func check(_ g: Preference.Gradients, _ f: ([Double], [Double]) throws -> Double, _ what: String) throws {
            for i in 0..<c.count {
                var a = c, b = c
                a[i] += h; b[i] -= h
                XCTAssertEqual(g.policyChosen[i], (try f(a, r) - f(b, r)) / (2 * h), accuracy: 1e-8, "\(what) chosen[\(i)]")
                var x = r, y = r
                x[i] += h; y[i] -= h
                XCTAssertEqual(g.policyRejected[i], (try f(c, x) - f(c, y)) / (2 * h), accuracy: 1e-8, "\(what) rejected[\(i)]")
            }
        }
        try check(try Preference.simpoGradients(chosen: c, rejected: r, beta: 2, gamma: 0.7, labelSmoothing: 0.05,
                                                chosenLengths: lc, rejectedLengths: lr), { a, b in
            try Preference.simpoLoss(chosen: a, rejected: b, beta: 2, gamma: 0.7, labelSmoothing: 0.05,
                                     chosenLengths: lc, rejectedLengths: lr, nll: 3.0).loss
        }, "simpo")
        try check(try Preference.orpoGradients(chosen: c, rejected: r, beta: 0.3, chosenLengths: lc, rejectedLengths: lr), { a, b in
            try Preference.orpoLoss(chosen: a, rejected: b, beta: 0.3, chosenLengths: lc, rejectedLengths: lr).loss
        }, "orpo")
        let rc = [-41.0, -20.0, -60.0], rr = [-42.0, -25.0, -79.0]
        try check(try Preference.ktoGradients(policyChosen: c, refChosen: rc, policyRejected: r, refRejected: rr,
                                              klPolicy: [-3, -4], klRef: [-3.5, -3.9], beta: 0.2,
                                              desirableWeight: 1.5, undesirableWeight: 0.5), { a, b in
            try Preference.ktoLoss(policyChosen: a, refChosen: rc, policyRejected: b, refRejected: rr,
                                   klPolicy: [-3, -4], klRef: [-3.5, -3.9], beta: 0.2,
                                   desirableWeight: 1.5, undesirableWeight: 0.5).loss
        }, "kto")
        let m = [0.5, -1.0, 2.0]
        try check(try Preference.btGradients(chosen: c, rejected: r, margin: m), { a, b in
            try Preference.btLoss(chosen: a, rejected: b, margin: m).loss
        }, "bt")
    }

    /// Sigmoid DPO's gradient is equal and opposite on the two log-probabilities: nothing in
    /// it holds the chosen log-probability up (why both can fall while accuracy rises).
    func testSigmoidGradientIsEqualAndOpposite() throws {
        let g = try Preference.dpoGradients(policyChosen: [-10, -50], policyRejected: [-11, -20], refChosen: [-10, -49],
                                            refRejected: [-10, -21])
        for i in 0..<2 { XCTAssertEqual(g.policyChosen[i], -g.policyRejected[i], accuracy: 1e-18) }
        XCTAssertLessThan(g.policyChosen[0], 0)
    }

    func testExploreAgainstFiniteDifferencesAlongTheMargin() throws {
        let margins = stride(from: -4.0, through: 4.0, by: 0.5).map { $0 + 0.013 }
        let names = Preference.DPOLoss.allCases.map(\.rawValue) + ["simpo", "kto"]
        for name in names {
            let loss = try Preference.ExploreLoss.named(name)
            var o = Preference.ExploreOptions()
            o.beta = 0.5
            o.labelSmoothing = ["robust", "exo_pair", "aot", "aot_unpaired", "cdpo"].contains(name) ? 0.1 : 0
            let r = try Preference.explore(loss, margins: margins, options: o)
            let h = 1e-6
            let up = try Preference.explore(loss, margins: margins.map { $0 + h }, options: o)
            let down = try Preference.explore(loss, margins: margins.map { $0 - h }, options: o)
            for i in margins.indices {
                let fd = (up.losses[i] - down.losses[i]) / (2 * h)
                XCTAssertEqual(r.grads[i], fd, accuracy: 1e-6 + 1e-5 * abs(fd), "\(name) at margin \(margins[i])")
                XCTAssertEqual(r.chosenRewards[i] - r.rejectedRewards[i], margins[i], accuracy: 1e-12)
            }
        }
        // With the chosen reward held, the derivative runs through the rejected reward.
        var o = Preference.ExploreOptions()
        o.chosen = [-0.2]
        let fixed = try Preference.explore(.dpo(.apoZero), margins: [1, 2], options: o)
        XCTAssertEqual(fixed.chosenRewards, [-0.2, -0.2])
        XCTAssertEqual(fixed.grads[0], -fixed.gradRejected[0])
        XCTAssertThrowsError(try Preference.explore(.orpo, margins: [1]))
        let sig = try Preference.explore(.dpo(.sigmoid), margins: [0])
        XCTAssertEqual(sig.losses[0], log(2), accuracy: 1e-15)
        XCTAssertEqual(sig.grads[0], -0.5, accuracy: 1e-15)
    }
}
