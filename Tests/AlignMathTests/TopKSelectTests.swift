import XCTest
@testable import AlignMath

/// `TopKSelect.collect` (the top_k stage's scan) against a brute-force reference: every
/// finite, unskipped entry >= the k-th largest such entry, in id order, and that k-th value.
/// Rows long enough for the sampled first threshold, with ties, NaN, ±inf and skipped ids,
/// and rows built so the sampled threshold is too high (the scan must start over).
final class TopKSelectTests: XCTestCase {
    private func reference<T: SamplingScalar>(_ x: [T], k: Int, skip: [Int32]?) -> (ids: [Int32], tau: T) {
        let eligible = x.indices.filter { x[$0] >= -T.greatestFiniteMagnitude && (skip?[$0] ?? 0) == 0 }
        let sorted = eligible.map { x[$0] }.sorted(by: >)
        let tau = sorted.count >= k ? sorted[k - 1] : -T.greatestFiniteMagnitude
        return (eligible.filter { x[$0] >= tau }.map { Int32($0) }, tau)
    }

    private func check<T: SamplingScalar>(_ x: [T], k: Int, skip: [Int32]? = nil, _ what: String,
                                          file: StaticString = #filePath, line: UInt = #line) {
        var ids: [Int32] = [], vals: [T] = [], scratch: [T] = []
        var sawNaN = false
        let tau = x.withUnsafeBufferPointer { xb in
            skip.map { s in s.withUnsafeBufferPointer { sb in
                TopKSelect.collect(xb.baseAddress!, count: x.count, k: k, skip: sb.baseAddress, ids: &ids, vals: &vals,
                                   scratch: &scratch, sawNaN: &sawNaN)
            } } ?? TopKSelect.collect(xb.baseAddress!, count: x.count, k: k, skip: nil, ids: &ids, vals: &vals,
                                      scratch: &scratch, sawNaN: &sawNaN)
        }
        let want = reference(x, k: k, skip: skip)
        XCTAssertEqual(ids, want.ids, "\(what): ids", file: file, line: line)
        XCTAssertEqual(vals, want.ids.map { x[Int($0)] }, "\(what): values", file: file, line: line)
        XCTAssertEqual(tau, want.tau, "\(what): threshold", file: file, line: line)
        XCTAssertEqual(sawNaN, x.contains { $0.isNaN }, "\(what): NaN seen", file: file, line: line)
    }

    func testSampledThresholdGivesTheSameSelection() {
        var s: UInt64 = 99
        func next() -> Double { s = s &* 6364136223846793005 &+ 1442695040888963407; return Double(s >> 11) / Double(1 << 53) }
        for n in [8192, 32000, 50_257, 128_256] {
            for k in [1, 5, 40, 50, n / 64] {
                let normal: [Double] = (0..<n).map { _ in (next() - 0.5) * 20 }
                check(normal, k: k, "normal n \(n) k \(k)")
                check(normal.map { Float($0) } as [Float], k: k, "f32 n \(n) k \(k)")
                // bf16-like: heavy ties
                let tied: [Double] = normal.map { ($0 * 4).rounded() / 4 }
                check(tied, k: k, "ties n \(n) k \(k)")
                var special = normal
                for j in stride(from: 3, to: n, by: 97) { special[j] = -.infinity }
                for j in stride(from: 64, to: n, by: 1001) { special[j] = .nan }
                special[n / 2] = .infinity
                let skip: [Int32] = (0..<n).map { $0 % 7 == 0 ? 1 : 0 }
                check(special, k: k, skip: skip, "special n \(n) k \(k)")
            }
        }
    }

    func testATooHighSampledThresholdStartsOver() {
        // Only the sampled positions (8 runs of 128, one at the start of each eighth of the
        // row) are large: the sample's threshold is met by a few entries, fewer than k.
        let n = 8192
        let x: [Double] = (0..<n).map { (i: Int) -> Double in i % (n / 8) < 128 ? 1000 + Double(i) : Double(i % 5) }
        check(x, k: 100, "sampled entries alone are large")
        check(x.map { Float($0) } as [Float], k: 120, "the same in f32")
        // the same with the large sampled entries skipped: the sample sees the small ones
        let skip: [Int32] = (0..<n).map { $0 % 2 == 0 ? 1 : 0 }
        check(x, k: 100, skip: skip, "half of them skipped")
        check(x, k: 30, "k just above the sample's share")
        // all entries -inf but a few
        var sparse = [Double](repeating: -.infinity, count: 40_000)
        for j in [5, 640, 641, 39_999] { sparse[j] = Double(j) }
        check(sparse, k: 50, "fewer finite entries than k")
    }
}
