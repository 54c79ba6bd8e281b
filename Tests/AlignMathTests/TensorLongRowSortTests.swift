import XCTest
@testable import AlignMath

/// A row long enough for the long-row sort (`RadixSort.splitAbove`, fewer rows than cores:
/// `sortLongRow`, the C kernels of alignmath_sort.h) sorts as the one-row-per-task LSD path
/// does, which tensor_diff.py holds to torch's stable sort (the same values and positions
/// for ties, -0.0 beside 0.0, NaN last ascending and first descending), in every dtype and
/// both directions, on rows that take each of its ways: buckets that pack key and position
/// into one word, a bucket of one repeated key, and a bucket too big to pack.
final class TensorLongRowSortTests: XCTestCase {
    private var state: UInt64 = 12345
    private func next() -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return state >> 11
    }

    func testSplitRowSortsAsTheRowPath() throws {
        let n = RadixSort.splitAbove * 3 + 5
        var v = [Double](repeating: 0, count: n)
        for i in 0..<n { v[i] = Double(Int64(bitPattern: next()) % 20000) / 100 - 100 }  // many ties
        for i in stride(from: 3, to: n, by: 101) { v[i] = -0.0 }
        for i in stride(from: 5, to: n, by: 997) { v[i] = .nan }
        v[11] = .infinity; v[13] = -.infinity
        try checkAgainstRowPath(v)
    }

    /// Full 52-bit mantissas of both signs (the benchmark's N(0, 1) row): every bucket packs.
    func testContinuousValues() throws {
        let n = 140_001
        var v = [Double](repeating: 0, count: n)
        for i in 0..<n {
            let u = (Double(next()) + 0.5) / 9007199254740992.0, w = Double(next()) / 9007199254740992.0
            v[i] = (-2 * Foundation.log(u)).squareRoot() * Foundation.cos(2 * Double.pi * w)
        }
        v[17] = -0.0; v[19] = 0.0; v[23] = .nan
        try checkAgainstRowPath(v)
    }

    /// 100,000 copies of one value (a bucket of equal keys too big to pack) and 150,000
    /// values within 2^-20 of 1 beside two huge outliers (one digit of the plan holds them
    /// all, their keys differ: the (key, position) MSD way).
    func testBucketsThatDoNotPack() throws {
        var v = [Double](repeating: 0.25, count: 100_000)
        for _ in 0..<150_000 { v.append(1 + Double(next() % (1 << 30)) * 0x1p-50) }
        v.append(-1e300); v.append(1e300)
        for i in stride(from: 0, to: v.count, by: 7) { v.swapAt(i, Int(next() % UInt64(v.count))) }
        try checkAgainstRowPath(v)
    }

    private func checkAgainstRowPath(_ v: [Double], file: StaticString = #filePath, line: UInt = #line) throws {
        guard ParallelFor.workers > 1 else { throw XCTSkip("one core: every row takes the long-row sort") }
        let n = v.count
        for dt in [DType.f64, .f32, .i64, .bool] {
            let row = try Tensor(v.map { dt == .bool ? ($0 > 0 ? 1 : 0) : ($0.isNaN && dt == .i64 ? 7 : $0) }, shape: [n], dtype: dt)
            // two copies of the row: as many rows as cores, the per-row path
            let twice = try Tensor.cat([row.reshape([1, n]), row.reshape([1, n])], axis: 0)
            for descending in [false, true] {
                let (sv, sp) = try row.sort(axis: -1, descending: descending)
                let (tv, tp) = try twice.sort(axis: -1, descending: descending)
                let p = sp.toDoubles(), q = Array(tp.toDoubles()[0..<n])
                let a = sv.toDoubles(), b = Array(tv.toDoubles()[0..<n])
                // the first difference only: a whole row in the message would bury it
                if let i = p.indices.first(where: { p[$0] != q[$0] }) {
                    XCTFail("\(dt) descending \(descending): position \(i) is \(p[i]), the row path gives \(q[i])", file: file, line: line)
                }
                if let i = a.indices.first(where: { a[$0].bitPattern != b[$0].bitPattern }) {
                    XCTFail("\(dt) descending \(descending): value \(i) is \(a[i]), the row path gives \(b[i])", file: file, line: line)
                }
                XCTAssert(try row.argsort(axis: -1, descending: descending).toDoubles() == p, "\(dt) descending \(descending): argsort", file: file, line: line)
            }
        }
    }
}
