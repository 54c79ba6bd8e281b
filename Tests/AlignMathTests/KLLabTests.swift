import XCTest
@testable import AlignMath

/// `RL.klLab` against mpmath at 50 digits (kl_lab.json, generate_kl_lab.py): the exact KL,
/// each estimator's exact expectation and variance under the policy with and without the
/// clamps, and the Monte-Carlo means within 5 standard errors of the expectations.
final class KLLabTests: XCTestCase {
    func testAgainstMpmath() throws {
        let root = try XCTUnwrap(try Fixture.load("kl_lab.json") as? [String: Any])
        let rows = try XCTUnwrap(root["rows"] as? [[String: Any]])
        XCTAssertEqual(rows.count, 4)
        var clampsBit = false
        for row in rows {
            let name = row["name"] as? String ?? "?"
            let lp = (row["logp"] as? [NSNumber] ?? []).map(\.doubleValue)
            let lq = (row["ref_logp"] as? [NSNumber] ?? []).map(\.doubleValue)
            let r = try RL.klLab(logp: lp, refLogp: lq, rows: 1, width: lp.count, samples: 4000, rng: RandomGenerator(seed: 7))[0]
            let exact = (row["exact"] as? NSNumber)?.doubleValue ?? .nan
            XCTAssertEqual(r.exact, exact, accuracy: 1e-12 * max(1, exact), name)
            let est = try XCTUnwrap(row["estimators"] as? [String: [String: [String: NSNumber]]])
            for (e, estimator) in RL.KLEstimator.allCases.enumerated() {
                for (c, (clamp, _)) in RL.klLabClamps.enumerated() {
                    let want = try XCTUnwrap(est[estimator.rawValue]?[clamp])
                    let x = r.estimates[e][c]
                    let expected = want["expected"]?.doubleValue ?? .nan, variance = want["variance"]?.doubleValue ?? .nan
                    let what = "\(name) \(estimator) \(clamp)"
                    XCTAssertEqual(x.expected, expected, accuracy: 1e-11 * max(1, abs(expected)), what)
                    XCTAssertEqual(x.expectedVariance, variance, accuracy: 1e-9 * max(1, variance), what)
                    XCTAssertEqual(x.expectedBias, expected - exact, accuracy: 1e-11 * max(1, abs(exact)), what)
                    // Monte-Carlo: within 5 standard errors (plus rounding) of the expectation.
                    XCTAssertLessThanOrEqual(abs(x.mean - expected), 5 * x.stderr + 1e-12, what)
                    XCTAssertEqual(x.bias, x.mean - r.exact, accuracy: 1e-15 * max(1, abs(exact)), what)
                    // The sample variance, except for the heavy tail clamps exist for (k3 of
                    // the 'clamped' row reaches e^10 on tokens drawn a few times in 4000).
                    if !(name == "clamped" && clamp == "none") {
                        XCTAssertEqual(x.variance, variance, accuracy: max(0.25 * variance, 1e-12), what)
                    }
                    if clamp != "none", abs(expected - (est[estimator.rawValue]?["none"]?["expected"]?.doubleValue ?? 0)) > 1 { clampsBit = true }
                }
            }
            // k1 and k3 are unbiased unclamped; k2 is not.
            XCTAssertEqual(r.estimates[0][0].expectedBias, 0, accuracy: 1e-12 * max(1, exact))
            XCTAssertEqual(r.estimates[2][0].expectedBias, 0, accuracy: 1e-11 * max(1, exact))
        }
        XCTAssertTrue(clampsBit, "the 'clamped' row should move k3's expectation")
    }

    func testDrawsAreThePolicysAndReproducible() throws {
        let lp = [log(0.7), log(0.2), log(0.1)], lq = [log(0.2), log(0.3), log(0.5)]
        let a = try RL.klLab(logp: lp, refLogp: lq, rows: 1, width: 3, samples: 20000, rng: RandomGenerator(seed: 3))[0]
        let b = try RL.klLab(logp: lp, refLogp: lq, rows: 1, width: 3, samples: 20000, rng: RandomGenerator(seed: 3))[0]
        XCTAssertEqual(a.draws, b.draws)
        let share = Double(a.draws.filter { $0 == 0 }.count) / 20000
        XCTAssertEqual(share, 0.7, accuracy: 0.02)
        // Unnormalised rows (logits) are renormalised first.
        let c = try RL.klLab(logp: lp.map { $0 + 3 }, refLogp: lq.map { $0 - 1 }, rows: 1, width: 3, samples: 10,
                             rng: RandomGenerator(seed: 3))[0]
        XCTAssertEqual(c.exact, a.exact, accuracy: 1e-15)
    }

    func testBatchAndErrors() throws {
        let r = try RL.klLab(logp: [0, 0, 1, 2], refLogp: [0, 0, 2, 1], rows: 2, width: 2, samples: 10, rng: RandomGenerator(seed: 1))
        XCTAssertEqual(r.count, 2)
        XCTAssertEqual(r[0].exact, 0, accuracy: 1e-15)
        XCTAssertThrowsError(try RL.klLab(logp: [0, 0], refLogp: [0], rows: 1, width: 2, samples: 10, rng: RandomGenerator(seed: 1)))
        XCTAssertThrowsError(try RL.klLab(logp: [0, 0], refLogp: [0, 0], rows: 1, width: 2, samples: 1, rng: RandomGenerator(seed: 1)))
        XCTAssertThrowsError(try RL.klLab(logp: [-.infinity, -.infinity], refLogp: [0, 0], rows: 1, width: 2, samples: 5,
                                          rng: RandomGenerator(seed: 1)))
        // A reference without mass where the policy has some: the KL is infinite, not an error.
        let inf = try RL.klLab(logp: [0, 0], refLogp: [0, -.infinity], rows: 1, width: 2, samples: 5, rng: RandomGenerator(seed: 1))
        XCTAssertEqual(inf[0].exact, .infinity)
    }
}
