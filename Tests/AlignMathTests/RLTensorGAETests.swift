import XCTest
@testable import AlignMath

/// The tensor GAE (what rl.gae uses) against the array GAE, itself checked against TRL's
/// loop in RLTests: identical bits, with and without dones (0/1 doubles), f32 inputs widened,
/// batches row by row; a done that is not 0/1 is reported with its position.
final class RLTensorGAETests: XCTestCase {
    func testTensorGAEMatchesArrayGAE() throws {
        let n = 1000
        let r = (0..<n).map { Double(($0 * 37) % 11) / 7 - 0.5 }
        let v = (0..<n).map { Double(($0 * 13) % 17) / 9 }
        let d = (0..<n).map { $0 % 97 == 96 }
        for dones in [nil, d] {
            let want = try RL.gae(rewards: r, values: v, gamma: 0.99, lambda: 0.95, dones: dones, lastValue: 0.3)
            let dt = try dones.map { try Tensor($0.map { $0 ? 1 : 0 }) }
            let got = try RL.gae(rewards: Tensor(r, shape: [n]), values: Tensor(v, shape: [n]), gamma: 0.99,
                                 lambda: 0.95, dones: dt, lastValues: [0.3])
            XCTAssertEqual(got.advantages.toDoubles(), want.advantages)
            XCTAssertEqual(got.returns.toDoubles(), want.returns)
            let ret = try RL.returns(Tensor(r, shape: [n]), gamma: 0.9, dones: dt, lastValues: [0.3])
            XCTAssertEqual(ret.toDoubles(), try RL.returns(r, gamma: 0.9, dones: dones, lastValue: 0.3))
        }
        let r32 = try Tensor(r, shape: [n], dtype: .f32)
        let got32 = try RL.gae(rewards: r32, values: Tensor(v, shape: [n]), lastValues: [0])
        let want32 = try RL.gae(rewards: r.map { Double(Float($0)) }, values: v)
        XCTAssertEqual(got32.advantages.toDoubles(), want32.advantages)
        // two rows of 500: each its own trajectory with its own last value
        let batch = try RL.gae(rewards: Tensor(r, shape: [2, 500]), values: Tensor(v, shape: [2, 500]), gamma: 0.99,
                               lambda: 0.95, lastValues: [0.3, -0.2])
        let row2 = try RL.gae(rewards: Array(r[500...]), values: Array(v[500...]), gamma: 0.99, lambda: 0.95, lastValue: -0.2)
        XCTAssertEqual(Array(batch.advantages.toDoubles()[500...]), row2.advantages)
        XCTAssertEqual(batch.advantages.shape, [2, 500])
        XCTAssertThrowsError(try RL.gae(rewards: Tensor(r, shape: [n]), values: Tensor([1, 2], shape: [2]), lastValues: [0])) { e in
            XCTAssertEqual("\(e)", "rewards and values differ in length (1000 vs 2)")
        }
        var bad = d.map { $0 ? 1.0 : 0.0 }
        bad[700] = 0.5
        XCTAssertThrowsError(try RL.gae(rewards: Tensor(r), values: Tensor(v), dones: Tensor(bad), lastValues: [0])) { e in
            XCTAssertEqual((e as? RL.InvalidFlag)?.position, 700)
        }
    }
}
