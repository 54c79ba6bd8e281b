import XCTest
@testable import AlignMath

/// The tensor GAE (what rl.gae uses) against the array GAE, itself checked against TRL's
/// loop in RLTests: identical bits, with and without dones, f32 inputs widened.
final class RLTensorGAETests: XCTestCase {
    func testTensorGAEMatchesArrayGAE() throws {
        let n = 1000
        let r = (0..<n).map { Double(($0 * 37) % 11) / 7 - 0.5 }
        let v = (0..<n).map { Double(($0 * 13) % 17) / 9 }
        let d = (0..<n).map { $0 % 97 == 96 }
        for dones in [nil, d] {
            let want = try RL.gae(rewards: r, values: v, gamma: 0.99, lambda: 0.95, dones: dones, lastValue: 0.3)
            let got = try RL.gae(rewards: Tensor(r, shape: [n]), values: Tensor(v, shape: [n]), gamma: 0.99,
                                 lambda: 0.95, dones: dones, lastValue: 0.3)
            XCTAssertEqual(got.advantages.toDoubles(), want.advantages)
            XCTAssertEqual(got.returns.toDoubles(), want.returns)
        }
        let r32 = try Tensor(r, shape: [n], dtype: .f32)
        let got32 = try RL.gae(rewards: r32, values: Tensor(v, shape: [n]))
        let want32 = try RL.gae(rewards: r.map { Double(Float($0)) }, values: v)
        XCTAssertEqual(got32.advantages.toDoubles(), want32.advantages)
        XCTAssertThrowsError(try RL.gae(rewards: Tensor(r, shape: [n]), values: Tensor([1, 2], shape: [2]))) { e in
            XCTAssertEqual("\(e)", "rewards and values differ in length (1000 vs 2)")
        }
    }
}
