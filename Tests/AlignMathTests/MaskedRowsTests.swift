import XCTest
@testable import AlignMath

/// Rows of only -inf outside `dist` (after DistMaskedRowTests), against torch 2.15.0 (CPU):
/// Fixtures/generate_masked_rows.py wrote masked_rows.json. listwise_loss gives
/// F.cross_entropy(reduction="none")'s NaN for such a row and keeps the others; klLab gives
/// NaN for a ref row of only -inf (F.kl_div of its NaN log_softmax) and keeps its draws, and
/// still refuses a policy row of only -inf (nothing to draw from: torch.multinomial refuses it);
/// entropy of a one-hot row is exactly 0 (torch.special.entr), with probs and with -inf logits,
/// f64 and f32, and a nearly one-hot row keeps torch's tiny value (no residue of the clamp).
final class MaskedRowsTests: XCTestCase {
    func fixture() throws -> [String: Any] {
        let d = try RPM.load("masked_rows.json")
        XCTAssertEqual(d["generator"] as? String, "generate_masked_rows.py")
        return d
    }

    func same(_ got: Double, _ want: Double, rtol: Double, atol: Double = 0) -> Bool {
        want.isNaN ? got.isNaN : (want.isInfinite ? got == want : abs(got - want) <= atol + rtol * abs(want))
    }

    func testListwiseLossAsTorchCrossEntropy() throws {
        let cases = try XCTUnwrap(try fixture()["listwise"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 3)
        for c in cases {
            let name = c["name"] as? String ?? "?", width = c["width"] as? Int ?? 0
            let want = RPM.doubles(c["expected"])
            let got = try Preference.listwiseLoss(scores: RPM.doubles(c["scores"]), width: width, best: c["best"] as? [Int] ?? [])
            XCTAssertEqual(got.count, want.count, name)
            for (i, (g, w)) in zip(got, want).enumerated() {
                XCTAssertTrue(same(g, w, rtol: 1e-14), "\(name) row \(i + 1): \(g), torch \(w)")
            }
            // No mean is returned; torch's mean over such a batch is NaN.
            XCTAssertTrue(RPM.doubles(c["mean"]).first?.isNaN ?? false, name)
        }
    }

    func testKLLabRefRowOfOnlyMinusInf() throws {
        let cases = try XCTUnwrap(try fixture()["kl_lab"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 2)
        for c in cases {
            let name = c["name"] as? String ?? "?", width = c["width"] as? Int ?? 0
            let lp = RPM.doubles(c["logp"]), lq = RPM.doubles(c["ref"]), want = RPM.doubles(c["exact"])
            let rows = lp.count / width
            let got = try RL.klLab(logp: lp, refLogp: lq, rows: rows, width: width, samples: 50, rng: RandomGenerator(seed: 5))
            XCTAssertEqual(got.count, rows, name)
            for r in 0..<rows {
                XCTAssertTrue(same(got[r].exact, want[r], rtol: 1e-12), "\(name) row \(r + 1): \(got[r].exact), torch \(want[r])")
                // The same draws as the row alone with a finite ref (drawn from the policy only).
                let alone = try RL.klLab(logp: Array(lp[(r * width)..<((r + 1) * width)]),
                                         refLogp: [Double](repeating: 0, count: width), rows: 1, width: width,
                                         samples: 50, rng: RandomGenerator(seed: 5))[0]
                if r == 0 { XCTAssertEqual(got[r].draws, alone.draws, name) }
                let refMasked = lq[(r * width)..<((r + 1) * width)].allSatisfy { $0 == -.infinity }
                guard refMasked else { continue }
                XCTAssertEqual(got[r].draws.count, 50)
                for est in got[r].estimates.joined() {
                    for v in [est.mean, est.bias, est.variance, est.stderr, est.expected, est.expectedBias, est.expectedVariance] {
                        XCTAssertTrue(v.isNaN, "\(name) row \(r + 1): every estimate NaN, got \(est)")
                    }
                }
                XCTAssertTrue(got[r].values.joined().joined().allSatisfy(\.isNaN), name)
            }
        }
        // A policy row of only -inf: nothing to draw from (torch.multinomial refuses it too).
        XCTAssertNotNil(try fixture()["multinomial_error"] as? String)
        XCTAssertThrowsError(try RL.klLab(logp: [0, 1, -.infinity, -.infinity], refLogp: [0, 0, 0, 0], rows: 2, width: 2,
                                          samples: 5, rng: RandomGenerator(seed: 1))) {
            XCTAssertEqual($0 as? AlignMathError, .allMasked(row: 2))
        }
    }

    func testEntropyOfOneHotRowsIsExactlyZero() throws {
        let cases = try XCTUnwrap(try fixture()["entropy"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 24)
        var zeros = 0
        for c in cases {
            let name = c["name"] as? String ?? "?"
            let dt: DType = c["dtype"] as? String == "f32" ? .f32 : .f64
            let o = DistOptions(temperature: c["temperature"] as? Double ?? .nan, probs: c["probs"] as? Bool ?? false)
            let x = try Tensor(RPM.doubles(c["x"]), shape: c["shape"] as? [Int] ?? [], dtype: dt)
            let got = try Dist.entropy(x, o).toDoubles(), want = RPM.doubles(c["expected"])
            XCTAssertEqual(got.count, want.count, name)
            for (i, (g, w)) in zip(got, want).enumerated() {
                if w == 0 {
                    XCTAssertEqual(g, 0, "\(name) \(dt) row \(i + 1): torch gives exactly 0")
                    zeros += 1
                } else {
                    // Tiny values: within a few ulp (subnormals: of their spacing); 0.693: f32's.
                    let ok = same(g, w, rtol: dt == .f32 ? 1e-6 : 1e-12, atol: w < 1e-300 ? 0x1p-1069 : 1e-15)
                    XCTAssertTrue(ok, "\(name) \(dt) row \(i + 1): \(g), torch \(w)")
                }
            }
        }
        XCTAssertEqual(zeros, 24)
        // One-hot rows of every width 1...20 (where the padding lanes change), f64 and f32, with
        // probs (the hot value varies) and as logits of one finite entry among -inf, at
        // temperatures where x·s is inexact: exactly 0, as torch.special.entr.
        for dt in [DType.f64, .f32] {
            for t in [1, 0.7, 0.3, 1.3] {
                for n in 1...20 {
                    var p = [Double](repeating: 0, count: n * n), l = [Double](repeating: -.infinity, count: n * n)
                    for r in 0..<n { p[r * n + (r * 7) % n] = 0.37 * Double(r + 1); l[r * n + (r * 5) % n] = 1.234 * Double(r) - 3 }
                    let hp = try Dist.entropy(try Tensor(p, shape: [n, n], dtype: dt), DistOptions(temperature: t, probs: true))
                    let hl = try Dist.entropy(try Tensor(l, shape: [n, n], dtype: dt), DistOptions(temperature: t))
                    XCTAssertEqual(hp.toDoubles(), [Double](repeating: 0, count: n), "probs \(dt) T \(t) width \(n)")
                    XCTAssertEqual(hl.toDoubles(), [Double](repeating: 0, count: n), "logits \(dt) T \(t) width \(n)")
                }
            }
        }
    }
}
