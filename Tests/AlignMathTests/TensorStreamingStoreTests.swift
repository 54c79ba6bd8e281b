import XCTest
import Foundation
@testable import AlignMath

/// Elementwise outputs of 4 MiB and more are written with streaming stores (`Tensor.streamed`:
/// `am_stream_u64x4` / `am_stream_u32x8` from registers; copies through `am_stream_copy`):
/// every element, every dense case (both operands dense, a scalar on either side), runs that
/// start at any 4- or 8-byte offset, f64, f32 and i64 results, a view as an input, the
/// ordinary path when the output is an input's storage, and `rl.kl`'s streamed output.
final class TensorStreamingStoreTests: XCTestCase {
    func testLargeOutputsAreWrittenInFull() throws {
        let n = 2_100_003  // 16.8 MB of f64, a tail shorter than a chunk and a vector
        XCTAssertGreaterThanOrEqual(n * 8, Tensor.streamingBytes)
        let xs = (0..<n).map { Double($0 % 1000) * 0.25 - 7 }
        let ys = (0..<n).map { Double(($0 * 7) % 997) + 1 }
        let x = try Tensor(xs), y = try Tensor(ys)
        XCTAssertTrue(Tensor.streams(try Tensor.empty([n], dtype: .f64), x, y))
        let sum = try x.add(y).toDoubles(), quo = try x.div(y).toDoubles()
        let twice = try x.binary(.mul, scalar: 2).toDoubles()
        let left = try x.binary(.sub, scalar: 1, scalarOnLeft: true).toDoubles()
        var bad = 0
        for i in 0..<n where sum[i] != xs[i] + ys[i] || quo[i] != xs[i] / ys[i]
            || twice[i] != xs[i] * 2 || left[i] != 1 - xs[i] { bad += 1 }
        XCTAssertEqual(bad, 0, "elements that differ from the scalar loop")
        // an input that is a view at an odd offset
        let v = try x.narrow(axis: 0, start: 1, count: n - 1)
        let shifted = try v.add(v).toDoubles()
        XCTAssertEqual(shifted.count, n - 1)
        XCTAssertTrue(zip(shifted, xs.dropFirst()).allSatisfy { $0 == $1 + $1 })
    }

    func testRowsStartingAtAnyOffsetAndBroadcasts() throws {
        // f32 rows of an odd length: runs start at 4-byte multiples, so the aligned part of
        // each streamed chunk starts after a head of 0-12 bytes
        let rows = 2101, cols = 1999
        XCTAssertGreaterThanOrEqual(rows * cols * 4, Tensor.streamingBytes)
        let m = try Tensor(floats: (0..<(rows * cols)).map { Float($0 % 4093) * 0.5 }, shape: [rows, cols])
        let r = try Tensor(floats: (0..<cols).map { Float($0) - 1000 })
        let out = try m.add(r).toFloats()
        var bad = 0
        for i in 0..<rows { for j in 0..<cols where out[i * cols + j] != Float((i * cols + j) % 4093) * 0.5 + (Float(j) - 1000) { bad += 1 } }
        XCTAssertEqual(bad, 0)
        // a column against a row: [rows, 1] + [cols]
        let c = try Tensor(floats: (0..<rows).map { Float($0) }, shape: [rows, 1])
        let grid = try c.add(r).toFloats()
        XCTAssertEqual(grid[0], -1000); XCTAssertEqual(grid[cols - 1], 998)
        XCTAssertEqual(grid[(rows - 1) * cols], Float(rows - 1) - 1000)
        XCTAssertEqual(grid[rows * cols - 1], Float(rows - 1) + 998)
    }

    /// Unary outputs (`map1`: neg, abs, sqrt, f32 exp) and `clone` of 16 MiB and more are
    /// streamed too: every element as the scalar function gives it (f64 `exp` is not
    /// streamed, it measured slower so; it is checked here beside them).
    func testUnaryExpAndCloneOutputsAreWrittenInFull() throws {
        let n = 2_100_003
        let xs = (0..<n).map { Double($0 % 1000) * 0.01 - 3 }
        let x = try Tensor(xs)
        let neg = try x.unary(.neg).toDoubles(), sq = try x.unary(.abs).unary(.sqrt).toDoubles()
        let ex = try x.unary(.exp).toDoubles(), cl = x.clone().toDoubles()
        var bad = 0
        for i in 0..<n where neg[i] != -xs[i] || sq[i] != abs(xs[i]).squareRoot()
            || ex[i] != FastExp.expLibmClose(xs[i]) || cl[i] != xs[i] { bad += 1 }
        XCTAssertEqual(bad, 0, "elements that differ from the scalar function")
        let f = try Tensor(floats: (0..<(2 * n)).map { Float($0 % 977) * 0.125 - 60 })
        let fe = try f.unary(.exp).toFloats(), fc = f.clone().toFloats(), fs = f.toFloats()
        XCTAssertEqual(fc, fs)
        XCTAssertEqual(fe.count, 2 * n)
        XCTAssertTrue(zip(fe, fs).allSatisfy { $0 == Float(Foundation.exp(Double($1))) || abs($0 - Foundation.exp($1)) <= 2 * $0.ulp })
        // a view at an odd offset as the input
        let v = try x.narrow(axis: 0, start: 1, count: n - 1)
        XCTAssertEqual(v.clone().toDoubles(), Array(xs.dropFirst()))
        XCTAssertEqual(try v.unary(.neg).toDoubles(), xs.dropFirst().map { -$0 })
    }

    func testF64RowsAtOddOffsetsAndI64Outputs() throws {
        // f64 rows of an odd length: runs start at 8-byte multiples that are not 32-byte ones
        let rows = 701, cols = 997
        XCTAssertGreaterThanOrEqual(rows * cols * 8, Tensor.streamingBytes)
        let m = try Tensor((0..<(rows * cols)).map { Double($0 % 4093) * 0.5 }, shape: [rows, cols])
        let r = try Tensor((0..<cols).map { Double($0) - 1000 })
        let out = try m.sub(r).toDoubles()
        var bad = 0
        for i in 0..<rows {
            for j in 0..<cols {
                let want: Double = Double((i * cols + j) % 4093) * 0.5 - (Double(j) - 1000)
                if out[i * cols + j] != want { bad += 1 }
            }
        }
        XCTAssertEqual(bad, 0)
        let n = 600_003
        let ai: [Int64] = (0..<n).map { (k: Int) -> Int64 in Int64(k) * 3 - 7 }
        let bi: [Int64] = (0..<n).map { (k: Int) -> Int64 in Int64(k % 11) }
        let a = try Tensor(elements: ai), b = try Tensor(elements: bi)
        XCTAssertTrue(Tensor.streams(try Tensor.empty([n], dtype: .i64), a, b))
        let sum = try a.add(b).toInt64s()
        var wrong = 0
        for i in 0..<n {
            let want: Int64 = Int64(i) * 3 - 7 + Int64(i % 11)
            if sum[i] != want { wrong += 1 }
        }
        XCTAssertEqual(wrong, 0)
    }

    /// `rl.kl` streams an output of 4 MiB and more: the same bits as the ordinary stores for
    /// every estimator and clamp, NaN and equal inputs (k1 of equal values is +0.0) included.
    func testKLStreamedOutputIsTheOrdinaryOne() throws {
        let n = 600_003
        var lp = [Double](repeating: 0, count: n), rf = [Double](repeating: 0, count: n)
        for i in 0..<n {
            let a: Double = -Double((i * 7919) % 1000) / 250 - 0.01
            let d: Double = (Double((i * 104729) % 1000) / 1000 - 0.5) * 30
            lp[i] = a; rf[i] = a + d
        }
        lp[5] = .nan; rf[9] = .nan; rf[12] = lp[12]; rf[n - 1] = -.infinity
        let clamps: [RL.KLClamp] = [.none, .symmetric(10), .verl]
        for e in RL.KLEstimator.allCases {
            for c in clamps {
                let streamed = try RL.kl(logp: Tensor(lp), refLogp: Tensor(rf), estimator: e, clamp: c).toDoubles()
                var plain = [Double](repeating: 0, count: n)
                lp.withUnsafeBufferPointer { a in rf.withUnsafeBufferPointer { b in plain.withUnsafeMutableBufferPointer { o in
                    RL.klKernel(a.baseAddress!, b.baseAddress!, o.baseAddress!, n, e, c)
                } } }
                XCTAssertEqual(streamed.map { (x: Double) in x.bitPattern }, plain.map { (x: Double) in x.bitPattern }, "\(e) \(c)")
            }
        }
    }

    func testAnOutputThatIsAnInputKeepsTheOrdinaryPath() throws {
        let x = try Tensor.full([2_100_000], 3)
        XCTAssertFalse(Tensor.streams(x, x))
        XCTAssertFalse(Tensor.streams(try Tensor.empty([1000], dtype: .f64), x), "small outputs are not streamed")
    }
}
