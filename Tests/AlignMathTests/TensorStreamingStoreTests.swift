import XCTest
import Foundation
@testable import AlignMath

/// Elementwise outputs of 16 MiB and more are written through a stack buffer with streaming
/// stores (`Tensor.streamed`, `am_stream_copy`): every element, every dense case (both
/// operands dense, a scalar on either side), runs that start at any 4-byte offset, a view
/// as an input, and the ordinary path when the output is an input's storage.
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

    func testAnOutputThatIsAnInputKeepsTheOrdinaryPath() throws {
        let x = try Tensor.full([2_100_000], 3)
        XCTAssertFalse(Tensor.streams(x, x))
        XCTAssertFalse(Tensor.streams(try Tensor.empty([1000], dtype: .f64), x), "small outputs are not streamed")
    }
}
