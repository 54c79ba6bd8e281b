import XCTest
@testable import AlignMath

/// A row long enough to be split over the cores (`RadixSort.splitAbove`, fewer rows than
/// cores: `sortLongRow`) sorts as the one-row-per-task LSD path does, which tensor_diff.py
/// holds to torch's stable sort (the same values and positions for ties, -0.0 beside 0.0,
/// NaN last ascending and first descending), in every dtype and both directions.
final class TensorLongRowSortTests: XCTestCase {
    func testSplitRowSortsAsTheRowPath() throws {
        guard ParallelFor.workers > 1 else { throw XCTSkip("one core: no split") }
        let n = RadixSort.splitAbove * 3 + 5
        var v = [Double](repeating: 0, count: n)
        var state: UInt64 = 12345
        for i in 0..<n {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            v[i] = Double(Int64(bitPattern: state >> 11) % 20000) / 100 - 100  // many ties
        }
        for i in stride(from: 3, to: n, by: 101) { v[i] = -0.0 }
        for i in stride(from: 5, to: n, by: 997) { v[i] = .nan }
        v[11] = .infinity; v[13] = -.infinity
        for dt in [DType.f64, .f32, .i64, .bool] {
            let row = try Tensor(v.map { dt == .bool ? ($0 > 0 ? 1 : 0) : ($0.isNaN && dt == .i64 ? 7 : $0) }, shape: [n], dtype: dt)
            // two copies of the row: as many rows as cores, the per-row path
            let twice = try Tensor.cat([row.reshape([1, n]), row.reshape([1, n])], axis: 0)
            for descending in [false, true] {
                let (sv, sp) = try row.sort(axis: -1, descending: descending)
                let (tv, tp) = try twice.sort(axis: -1, descending: descending)
                XCTAssertEqual(sp.toDoubles(), Array(tp.toDoubles()[0..<n]), "\(dt) descending \(descending): positions")
                let a = sv.toDoubles(), b = Array(tv.toDoubles()[0..<n])
                XCTAssert(zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern }, "\(dt) descending \(descending): values")
                XCTAssertEqual(try row.argsort(axis: -1, descending: descending).toDoubles(), sp.toDoubles())
            }
        }
    }
}
