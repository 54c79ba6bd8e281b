import XCTest
@testable import AlignMath

/// Shared by the RL, Preference and Metrics tests: fixture access and a relative-error check.
/// Reference values come from Fixtures/generate_rl_pref_metrics.py (numpy/scipy/sklearn/nltk,
/// TRL's trl/experimental/ppo/ppo_trainer.py, trl/trainer/grpo_trainer.py, rloo_trainer.py).
enum RPM {
    static let rtol = 1e-10

    static func load(_ name: String) throws -> [String: Any] {
        guard let d = try Fixture.load(name) as? [String: Any] else { throw AlignMathError.invalidArgument("bad fixture \(name)") }
        return d
    }

    static func doubles(_ x: Any?) -> [Double] {
        guard let a = x as? [Any] else { return [] }
        return a.map { v in
            if let s = v as? String { return Double(s) ?? .nan }
            return (v as? NSNumber)?.doubleValue ?? .nan
        }
    }

    static func close(_ a: Double, _ b: Double, rtol: Double = rtol) -> Bool {
        a == b || abs(a - b) <= rtol * max(abs(a), abs(b))
    }

    static func assertClose(_ a: Double, _ b: Double, _ what: String, rtol: Double = rtol,
                            file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertTrue(close(a, b, rtol: rtol), "\(what): got \(a), expected \(b)", file: file, line: line)
    }

    static func assertClose(_ a: [Double], _ b: [Double], _ what: String, rtol: Double = rtol,
                            file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, "\(what): length", file: file, line: line)
        for i in 0..<min(a.count, b.count) where !close(a[i], b[i], rtol: rtol) {
            XCTFail("\(what)[\(i)]: got \(a[i]), expected \(b[i])", file: file, line: line)
            return
        }
    }

    static func assertMessage(_ body: () throws -> Any, contains text: String,
                              file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try body()
            XCTFail("expected an error containing '\(text)'", file: file, line: line)
        } catch {
            XCTAssertTrue("\(error)".contains(text), "error '\(error)' lacks '\(text)'", file: file, line: line)
        }
    }
}

final class RLTests: XCTestCase {
    func testReturnsMatchReference() throws {
        let f = try RPM.load("rl_fixtures.json")
        for (i, c) in (f["returns"] as? [[String: Any]] ?? []).enumerated() {
            let dones = c["dones"] as? [Bool]
            let got = try RL.returns(RPM.doubles(c["rewards"]), gamma: c["gamma"] as? Double ?? .nan, dones: dones,
                                     lastValue: c["last"] as? Double ?? .nan)
            RPM.assertClose(got, RPM.doubles(c["expected"]), "returns case \(i)")
        }
    }

    func testGAEMatchesReferenceWithAndWithoutDones() throws {
        let f = try RPM.load("rl_fixtures.json")
        let cases = f["gae"] as? [[String: Any]] ?? []
        XCTAssertEqual(cases.count, 6)
        for (i, c) in cases.enumerated() {
            let g = try RL.gae(rewards: RPM.doubles(c["rewards"]), values: RPM.doubles(c["values"]),
                               gamma: c["gamma"] as? Double ?? .nan, lambda: c["lam"] as? Double ?? .nan,
                               dones: c["dones"] as? [Bool], lastValue: c["last"] as? Double ?? .nan)
            RPM.assertClose(g.advantages, RPM.doubles(c["adv"]), "gae adv case \(i)")
            RPM.assertClose(g.returns, RPM.doubles(c["ret"]), "gae ret case \(i)")
        }
    }

    func testGAEDoneCutsBootstrapByHand() throws {
        // Step 0 ends an episode: its advantage is r0 - v0, whatever follows.
        let g = try RL.gae(rewards: [1, 2], values: [0.5, 10], gamma: 0.9, lambda: 0.8, dones: [true, false], lastValue: 100)
        XCTAssertEqual(g.advantages[0], 0.5)
        XCTAssertEqual(g.advantages[1], 2 + 0.9 * 100 - 10)
    }

    func testGAEErrors() {
        RPM.assertMessage({ try RL.gae(rewards: Array(repeating: 0, count: 512), values: Array(repeating: 0, count: 511)) },
                          contains: "rewards and values differ in length (512 vs 511)")
        RPM.assertMessage({ try RL.gae(rewards: [1], values: [1], dones: [true, false]) }, contains: "rewards and dones")
        RPM.assertMessage({ try RL.gae(rewards: [1], values: [1], lambda: 1.5) }, contains: "lambda must be in [0, 1]")
    }

    func testWhiten() throws {
        let f = try RPM.load("rl_fixtures.json")
        for (i, c) in (f["whiten"] as? [[String: Any]] ?? []).enumerated() {
            let got = try RL.whiten(RPM.doubles(c["x"]), shiftMean: c["shift_mean"] as? Bool ?? true)
            RPM.assertClose(got, RPM.doubles(c["expected"]), "whiten case \(i)")
        }
        RPM.assertMessage({ try RL.whiten([1]) }, contains: "at least 2 values")
        RPM.assertMessage({ try RL.whiten([]) }, contains: "got 0")
    }

    func testPPOAndValueLoss() throws {
        let f = try RPM.load("rl_fixtures.json")
        for (i, c) in (f["ppo"] as? [[String: Any]] ?? []).enumerated() {
            let r = try RL.ppoLoss(logp: RPM.doubles(c["logp"]), oldLogp: RPM.doubles(c["old"]),
                                   advantages: RPM.doubles(c["adv"]), clip: c["clip"] as? Double ?? .nan,
                                   clipHigh: c["clip_high"] as? Double)
            let e = c["expected"] as? [String: Double] ?? [:]
            RPM.assertClose(r.loss, e["loss"] ?? .nan, "ppo loss \(i)")
            RPM.assertClose(r.clipfrac, e["clipfrac"] ?? .nan, "ppo clipfrac \(i)")
            RPM.assertClose(r.approxKL, e["approx_kl"] ?? .nan, "ppo approx_kl \(i)")
            RPM.assertClose(r.ratioMean, e["ratio_mean"] ?? .nan, "ppo ratio_mean \(i)")
        }
        for (i, c) in (f["value_loss"] as? [[String: Any]] ?? []).enumerated() {
            let r = try RL.valueLoss(values: RPM.doubles(c["values"]), oldValues: RPM.doubles(c["old"]),
                                     returns: RPM.doubles(c["returns"]), clip: c["clip"] as? Double ?? .nan)
            let e = c["expected"] as? [String: Double] ?? [:]
            RPM.assertClose(r.loss, e["loss"] ?? .nan, "vf loss \(i)")
            RPM.assertClose(r.clipfrac, e["clipfrac"] ?? .nan, "vf clipfrac \(i)")
        }
        RPM.assertMessage({ try RL.ppoLoss(logp: [0], oldLogp: [0, 1], advantages: [0]) }, contains: "(1 vs 2)")
    }

    /// A NaN old value gives a NaN loss, as TRL's torch.clamp(vpred, old - c, old + c) and
    /// torch.max keep it (Swift.max/min dropped it: 0.5 * (0.5 - 1)^2 / 1 came out). peer_diff.py.
    func testValueLossKeepsNaN() throws {
        XCTAssertTrue(try RL.valueLoss(values: [0.5, 0.2], oldValues: [.nan, 0.2], returns: [1, 0]).loss.isNaN)
        XCTAssertTrue(try RL.ppoLoss(logp: [-1, -2], oldLogp: [-1, .nan], advantages: [1, 1]).loss.isNaN)
        XCTAssertEqual(try RL.valueLoss(values: [0.5], oldValues: [0.4], returns: [1]).loss, 0.125, accuracy: 1e-15)
    }

    func testKLEstimatorsAndPenalty() throws {
        let f = try RPM.load("rl_fixtures.json")
        for c in f["kl"] as? [[String: Any]] ?? [] {
            let e = try RL.KLEstimator.named(c["estimator"] as? String ?? "")
            let got = try RL.kl(logp: RPM.doubles(c["logp"]), refLogp: RPM.doubles(c["ref"]), estimator: e)
            RPM.assertClose(got, RPM.doubles(c["expected"]), "kl \(e)")
        }
        for c in f["kl_penalty"] as? [[String: Any]] ?? [] {
            let got = try RL.klPenalty(score: c["score"] as? Double ?? .nan, logp: RPM.doubles(c["logp"]),
                                       refLogp: RPM.doubles(c["ref"]), beta: c["beta"] as? Double ?? .nan,
                                       estimator: RL.KLEstimator.named(c["estimator"] as? String ?? ""))
            RPM.assertClose(got, RPM.doubles(c["expected"]), "kl_penalty")
        }
        let b = f["kl_penalty_batch"] as? [String: Any] ?? [:]
        let got = try RL.klPenalty(scores: RPM.doubles(b["scores"]), logp: RPM.doubles(b["logp"]),
                                   refLogp: RPM.doubles(b["ref"]), lengths: b["lengths"] as? [Int], beta: 0.1)
        RPM.assertClose(got, RPM.doubles(b["expected"]), "kl_penalty batch")
        RPM.assertMessage({ try RL.KLEstimator.named("k4") }, contains: "valid: k1, k2, k3")
        RPM.assertMessage({ try RL.klPenalty(score: 1, logp: [], refLogp: []) }, contains: "at least one token")
    }

    func testGroupAdvantages() throws {
        let f = try RPM.load("rl_fixtures.json")
        for c in f["group_advantages"] as? [[String: Any]] ?? [] {
            let m = try RL.GroupMethod.named(c["method"] as? String ?? "")
            let s = try RL.GroupScale.named(c["scale"] as? String ?? "")
            let got = try RL.groupAdvantages(RPM.doubles(c["rewards"]), groupSize: c["group_size"] as? Int ?? 0,
                                             method: m, scale: s)
            RPM.assertClose(got, RPM.doubles(c["expected"]), "group \(m) \(s)")
        }
        RPM.assertMessage({ try RL.groupAdvantages([1, 2, 3], groupSize: 2) }, contains: "groups of 2")
        // TRL 1.16 rloo_trainer.py: num_generations == 1 gives torch.zeros_like(rewards) (it raised here before)
        XCTAssertEqual(try RL.groupAdvantages([1, 2, .nan], groupSize: 1, method: .rloo), [0, 0, 0])
        XCTAssertEqual(try RL.groupAdvantages([1, 2], groupSize: 1, method: .rloo, scale: .batch), [0, 0])
        RPM.assertMessage({ try RL.groupAdvantages([1, 2], groupSize: 2, method: .drGRPO, scale: .group) },
                          contains: "scale must be 'none'")
        XCTAssertEqual(try RL.groupAdvantages([], groupSize: 4), [])
    }

    func testAdaptiveKLController() throws {
        let f = try RPM.load("rl_fixtures.json")
        let a = f["adaptive_kl"] as? [String: Any] ?? [:]
        var ctl = try RL.AdaptiveKLController(initial: 0.2, target: 6, horizon: 10000)
        for s in a["steps"] as? [[String: Double]] ?? [] {
            ctl.update(currentKL: s["kl"] ?? .nan, nSteps: s["steps"] ?? .nan)
            RPM.assertClose(ctl.value, s["value"] ?? .nan, "adaptive kl")
        }
        XCTAssertThrowsError(try RL.AdaptiveKLController(target: 0))
    }
}
