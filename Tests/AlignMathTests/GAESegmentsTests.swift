import XCTest
@testable import AlignMath

/// GAE on long rows is cut (at dones where there are some) into segments walked four at a
/// time on all cores (`GAESegments`). Its bits must be the serial walk's: the array GAE, itself checked
/// against TRL's loop in RLTests, is the reference, on rows long enough to be cut, with
/// every kind of start a cut can meet (an advantage after the done that is NaN, inf or a
/// negative number that turns `0 * x` into -0), dense and sparse dones, several rows.
final class GAESegmentsTests: XCTestCase {
    private func same(_ got: [Double], _ want: [Double], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.count, want.count, what, file: file, line: line)
        var firstDiff: Int?
        for i in 0..<min(got.count, want.count) {
            let g = got[i], w = want[i]
            if !(g.bitPattern == w.bitPattern || (g.isNaN && w.isNaN)) { firstDiff = i; break }
        }
        XCTAssertNil(firstDiff, "\(what): first difference at \(firstDiff ?? -1): \(firstDiff.map { "\(got[$0]) vs \(want[$0])" } ?? "")", file: file, line: line)
    }

    /// Runs the tensor GAE (0/1 doubles and booleans) against the array GAE row by row.
    private func check(_ r: [Double], _ v: [Double], _ d: [Bool], rows: Int, last: [Double],
                       gamma: Double = 0.99, lambda: Double = 0.95, _ what: String,
                       file: StaticString = #filePath, line: UInt = #line) throws {
        let n = r.count, w = n / rows
        var wantA: [Double] = [], wantR: [Double] = []
        for row in 0..<rows {
            let s = row * w..<(row + 1) * w
            let x = try RL.gae(rewards: Array(r[s]), values: Array(v[s]), gamma: gamma, lambda: lambda,
                               dones: Array(d[s]), lastValue: last[row])
            wantA += x.advantages
            wantR += x.returns
        }
        let shape = rows == 1 ? [n] : [rows, w]
        let asDoubles = try Tensor(d.map { $0 ? 1.0 : 0.0 }, shape: shape)
        let asBools = try Tensor(d.map { $0 ? 1.0 : 0.0 }, shape: shape).converted(to: .bool)
        for dones in [asDoubles, asBools] {
            let got = try RL.gae(rewards: Tensor(r, shape: shape), values: Tensor(v, shape: shape), gamma: gamma,
                                 lambda: lambda, dones: dones, lastValues: last)
            same(got.advantages.toDoubles(), wantA, "\(what), \(dones.dtype) advantages", file: file, line: line)
            same(got.returns.toDoubles(), wantR, "\(what), \(dones.dtype) returns", file: file, line: line)
        }
    }

    private func data(_ n: Int, seed: UInt64) -> ([Double], [Double]) {
        var s = seed
        func next() -> Double { s = s &* 6364136223846793005 &+ 1442695040888963407; return Double(s >> 11) / Double(1 << 53) }
        return ((0..<n).map { _ in next() * 2 - 1 }, (0..<n).map { _ in next() * 3 - 1 })
    }

    func testLongRowsCutAtDonesMatchTheSerialWalk() throws {
        for (n, every) in [(1_000_000, 128), (300_001, 7), (200_000, 50_000), (65_537, 1), (16_384 * 4 + 3, 999)] {
            let (r, v) = data(n, seed: UInt64(n))
            let d = (0..<n).map { $0 % every == every - 1 }
            try check(r, v, d, rows: 1, last: [0.25], "n \(n), a done every \(every)")
        }
        // random dones, and none at all (cut anywhere, each start rejoining the serial walk)
        let n = 500_000
        let (r, v) = data(n, seed: 7)
        var s: UInt64 = 3
        let d = (0..<n).map { _ -> Bool in s = s &* 6364136223846793005 &+ 1; return (s >> 33) % 300 == 0 }
        try check(r, v, d, rows: 1, last: [-1], "random dones")
        try check(r, v, Array(repeating: false, count: n), rows: 1, last: [2], "no dones")
        try check(r, v, Array(repeating: true, count: n), rows: 1, last: [2], "all dones")
    }

    func testCutsWhoseStartIsNotZeroTimesAFiniteNumber() throws {
        // A NaN or infinite reward just after a done makes the advantage there NaN: the serial
        // walk carries NaN over the done (0 * NaN), the stand-in 0 does not; and a reward of
        // -0.0 with a value of 0 makes delta -0.0, where the sign of 0 * x decides the bits.
        let n = 400_000
        var (r, v) = data(n, seed: 11)
        let d = (0..<n).map { $0 % 1000 == 999 }
        for k in stride(from: 1000, to: n, by: 1000) {
            switch (k / 1000) % 4 {
            case 0: r[k] = .nan
            case 1: r[k] = .infinity
            case 2: r[k] = -.infinity
            default: r[k - 1] = -0.0; v[k - 1] = 0; r[k] = -50   // advantage after the done negative
            }
        }
        try check(r, v, d, rows: 1, last: [0.5], "non-finite and signed-zero starts")
        try check(r, v, d, rows: 1, last: [0.5], gamma: 1, lambda: 1, "gamma = lambda = 1")
    }

    func testSeveralRowsInterleave() throws {
        for (rows, width) in [(8, 4096), (5, 70_000), (3, 16_384 * 2), (64, 100)] {
            let n = rows * width
            let (r, v) = data(n, seed: UInt64(rows * 31 + width))
            let d = (0..<n).map { ($0 * 7) % 333 == 0 }
            try check(r, v, d, rows: rows, last: (0..<rows).map { Double($0) / 3 - 1 }, "\(rows) rows of \(width)")
        }
    }

    func testAnInvalidDoneIsReportedWhereverTheCutsFall() throws {
        let n = 300_000
        let (r, v) = data(n, seed: 5)
        for bad in [0, 150_000, n - 1] {
            var d = (0..<n).map { $0 % 100 == 99 ? 1.0 : 0.0 }
            d[bad] = bad == 0 ? .nan : 2
            XCTAssertThrowsError(try RL.gae(rewards: Tensor(r), values: Tensor(v), dones: Tensor(d), lastValues: [0])) { e in
                XCTAssertEqual((e as? RL.InvalidFlag)?.position, bad)
            }
        }
    }

    /// Without dones (or with all-zero dones) a row is cut at evenly spaced points anyway; each
    /// start is walked again from the true advantage until it lands on the same bits. The
    /// reference is the array GAE without dones (its loop is TRL's, checked in RLTests).
    func testRowsWithoutDonesAreCutAndRejoinTheSerialWalk() throws {
        for (n, rows, gamma, lambda) in [(1_000_000, 1, 1.0, 0.95), (600_000, 2, 0.99, 0.95), (300_000, 1, 0.5, 0.5),
                                          (1_000_000, 1, 1.0, 1.0), (1_000_000, 1, 0.9999, 0.9999), (1_000_000, 1, 1.0, 0.0)] {
            var (r, v) = data(n, seed: UInt64(n + rows))
            if gamma == 0.5 {   // NaN, inf and a huge reward inside segments: the rejoin must walk on
                r[100_000] = .nan; r[200_000] = .infinity; r[250_000] = 1e300
            }
            let w = n / rows
            let last = (0..<rows).map { Double($0) - 0.5 }
            var wantA: [Double] = [], wantR: [Double] = []
            for row in 0..<rows {
                let s = row * w..<(row + 1) * w
                let x = try RL.gae(rewards: Array(r[s]), values: Array(v[s]), gamma: gamma, lambda: lambda,
                                   dones: nil, lastValue: last[row])
                wantA += x.advantages
                wantR += x.returns
            }
            let shape = rows == 1 ? [n] : [rows, w]
            let what = "n \(n), \(rows) rows, gamma \(gamma), lambda \(lambda)"
            let none = try RL.gae(rewards: Tensor(r, shape: shape), values: Tensor(v, shape: shape), gamma: gamma,
                                  lambda: lambda, dones: nil, lastValues: last)
            same(none.advantages.toDoubles(), wantA, "\(what), no dones, advantages")
            same(none.returns.toDoubles(), wantR, "\(what), no dones, returns")
            let zeros = try Tensor(Array(repeating: 0.0, count: n), shape: shape)
            for dones in [zeros, zeros.converted(to: .bool)] {
                let got = try RL.gae(rewards: Tensor(r, shape: shape), values: Tensor(v, shape: shape), gamma: gamma,
                                     lambda: lambda, dones: dones, lastValues: last)
                same(got.advantages.toDoubles(), wantA, "\(what), all-zero \(dones.dtype) dones, advantages")
                same(got.returns.toDoubles(), wantR, "\(what), all-zero \(dones.dtype) dones, returns")
            }
        }
    }

    func testStepsToRejoinDecidesWhereARowMayBeCutAnywhere() {
        XCTAssertEqual(GAESegments.stepsToRejoin(0.95), 780)
        XCTAssertLessThan(GAESegments.stepsToRejoin(0), 2)
        XCTAssertGreaterThan(GAESegments.stepsToRejoin(1) / 16, 1_000_000)
        XCTAssertGreaterThan(GAESegments.stepsToRejoin(0.9999 * 0.9999) * 16, 1_000_000 / 16)
    }
}
