import XCTest
@testable import AlignMath

/// `RL.dryRun` against TRL 1.16's advantages, frac_reward_zero_std and the per-token
/// weights of its loss aggregations (dry_run.json, generate_dry_run.py: TRL's own lines,
/// the weights as autograd's d loss / d per_token_loss).
final class DryRunTests: XCTestCase {
    func numbers(_ x: Any?) -> [Double?] { (x as? [Any] ?? []).map { ($0 as? NSNumber)?.doubleValue } }

    func testAgainstTRL() throws {
        let root = try XCTUnwrap(try Fixture.load("dry_run.json") as? [String: Any])
        let cases = try XCTUnwrap(root["cases"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 5)
        for c in cases {
            let name = c["name"] as? String ?? "?"
            let rewards = numbers(c["rewards"]).map { $0 ?? .nan }
            let size = (c["group_size"] as? NSNumber)?.intValue ?? 0
            let lengths = numbers(c["lengths"]).map { $0 ?? 0 }
            let r = try RL.dryRun(rewards: rewards, groupSize: size, lengths: lengths)
            let grpo = try XCTUnwrap(c["grpo"] as? [String: Any])
            for scale in ["group", "batch", "none"] {
                let want = numbers(grpo[scale]).map { $0 ?? .nan }
                let got = try XCTUnwrap(r.entry("grpo", scale)).advantages
                for i in want.indices { XCTAssertEqual(got[i], want[i], accuracy: 1e-12 * max(1, abs(want[i])), "\(name) grpo \(scale) [\(i)]") }
            }
            let rloo = try XCTUnwrap(c["rloo"] as? [String: Any])
            for scale in ["batch", "none"] {
                let want = numbers(rloo[scale]).map { $0 ?? .nan }
                let got = try XCTUnwrap(r.entry("rloo", scale)).advantages
                for i in want.indices { XCTAssertEqual(got[i], want[i], accuracy: 1e-12 * max(1, abs(want[i])), "\(name) rloo \(scale) [\(i)]") }
            }
            XCTAssertEqual(r.fracRewardZeroStd, (c["frac_reward_zero_std"] as? NSNumber)?.doubleValue ?? -1, accuracy: 1e-15, name)
            XCTAssertEqual(r.maxCompletionLength, (c["max_completion_length"] as? NSNumber)?.doubleValue)
            let weights = try XCTUnwrap(c["weights"] as? [String: Any])
            let got = try XCTUnwrap(r.weights)
            for (k, agg) in RL.dryRunAggregations.enumerated() {
                let want = numbers(weights[agg])
                for i in want.indices {
                    guard let w = want[i] else { continue }  // a 0-token completion has no token to weigh
                    XCTAssertEqual(got[k][i], w, accuracy: 1e-15, "\(name) \(agg) [\(i)]")
                }
            }
        }
    }

    func testZeroSpreadGroupsAndZeroAdvantages() throws {
        // Groups 1 and 3 are all alike (0.1 three times is not exactly 0.1 on average).
        let r = try RL.dryRun(rewards: [0.1, 0.1, 0.1, 1, 0, 1, 0, 0, 0], groupSize: 3)
        XCTAssertEqual(r.zeroSpreadGroups, [0, 2])
        XCTAssertEqual(r.fracRewardZeroStd, 6.0 / 9.0, accuracy: 1e-15)
        for method in RL.dryRunMethods {
            for scale in RL.dryRunScales {
                let e = try XCTUnwrap(r.entry(method, scale))
                XCTAssertEqual(e.zeroFraction, 6.0 / 9.0, accuracy: 1e-15, "\(method) \(scale)")
            }
        }
        XCTAssertNil(r.weights)
        // Dr. GRPO never divides; REINFORCE++-baseline's batch whitening has mean 0, variance 1.
        XCTAssertEqual(r.entry("dr_grpo", "group")?.advantages, r.entry("dr_grpo", "none")?.advantages)
        let rb = try XCTUnwrap(r.entry("reinforce_baseline", "batch")).advantages
        let mean = rb.reduce(0, +) / 9
        XCTAssertEqual(mean, 0, accuracy: 1e-12)
        XCTAssertEqual(rb.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 9, 1, accuracy: 1e-9)
    }

    /// TRL 1.16's GRPOTrainer with num_generations = 1 takes std_rewards = zeros, so
    /// torch.isclose(std, 0) marks every completion and frac_reward_zero_std is 1 (and
    /// RLOOTrainer's likewise); found by lab_diff.py, where moonlab had NaN stds and none.
    func testGroupSizeOneIsZeroSpreadAsTRL() throws {
        let r = try RL.dryRun(rewards: [5, 6, .nan], groupSize: 1)
        XCTAssertEqual(r.zeroSpreadGroups, [0, 1, 2])
        XCTAssertEqual(r.fracRewardZeroStd, 1)
        XCTAssertEqual(r.groupStds, [0, 0, 0])
        for method in RL.dryRunMethods {
            for scale in ["group", "none"] {
                XCTAssertEqual(try XCTUnwrap(r.entry(method, scale)).advantages, [0, 0, 0], "\(method) \(scale)")
            }
        }
    }

    /// An infinite reward, as TRL 1.16 (torch): dr_grpo's r - nanmean passes nan_to_num, so
    /// +-inf become +-Double.greatestFiniteMagnitude (they stayed infinite), and nanstd's
    /// outer nanmean skips the NaN of inf - inf, so the group's std is +inf (it was NaN).
    /// Found by lab_diff.py.
    func testInfiniteRewardsAsTRL() throws {
        let r = try RL.dryRun(rewards: [1, .infinity, 2, 3], groupSize: 2)
        XCTAssertEqual(r.groupStds[0], .infinity)
        XCTAssertEqual(r.groupStds[1], (0.5).squareRoot(), accuracy: 1e-15)
        let dr = try XCTUnwrap(r.entry("dr_grpo", "none")).advantages
        XCTAssertEqual(dr[0], -.greatestFiniteMagnitude)  // 1 - inf
        XCTAssertEqual(dr[1], 0)                          // inf - inf: NaN -> 0
        let rb = try XCTUnwrap(r.entry("reinforce_baseline", "none")).advantages
        XCTAssertEqual(rb[0], -.greatestFiniteMagnitude)
    }

    /// With lengths, OpenRLHF's whitening counts each completion once per token.
    func testReinforceBaselineWeightsTokens() throws {
        let r = try RL.dryRun(rewards: [1, 0, 0, 1], groupSize: 2, lengths: [10, 1, 1, 1])
        let a = try XCTUnwrap(r.entry("reinforce_baseline", "batch")).advantages
        let centered = [0.5, -0.5, -0.5, 0.5], w = [10.0, 1, 1, 1]
        let m = zip(centered, w).map(*).reduce(0, +) / 13
        let v = zip(centered, w).map { ($0 - m) * ($0 - m) * $1 }.reduce(0, +) / 13
        for i in 0..<4 { XCTAssertEqual(a[i], (centered[i] - m) / v.squareRoot(), accuracy: 1e-12) }
    }

    func testErrors() {
        XCTAssertThrowsError(try RL.dryRun(rewards: [1, 2, 3], groupSize: 2))
        XCTAssertThrowsError(try RL.dryRun(rewards: [], groupSize: 2))
        XCTAssertThrowsError(try RL.dryRun(rewards: [1, 2], groupSize: 2, lengths: [1]))
        XCTAssertThrowsError(try RL.dryRun(rewards: [1, 2], groupSize: 2, lengths: [1, -1]))
    }
}
