import XCTest
@testable import AlignMath

/// The f32 KL sums over whole vectors run in C on x86-64 (`am_kl_sums_f32`, two vectors a
/// step); the Swift loop they replace (`RowF32.klSums(..., vectorsInC: false)`) is the
/// reference, and the two must agree bit for bit: Σe_p, Σe_q, Σe_p·(y_p − y_q), the next
/// pair's maxima and its masked-q flag, for temperature 1 (the C kernel's subtraction path)
/// and others, rows with tails, -inf and NaN entries, values below exp's normal range.
final class DistKLF32KernelTests: XCTestCase {
    static func row(_ n: Int, seed: UInt64) -> [Float] {
        (0..<n).map { i in
            var z = (UInt64(i) &+ (seed << 40)) &* 0x9E37_79B9_7F4A_7C15
            z = (z ^ (z >> 29)) &* 0xBF58_476D_1CE4_E5B9
            z ^= z >> 32
            let u = Float(z >> 40) * 0x1p-24
            return 40 * (u - 0.5) + 30 * Float(i % 97) / 97
        }
    }

    func testCKernelMatchesTheSwiftLoop() {
        for n in [8, 15, 16, 129, 1001, 2048, 32000] {
            for (k, s) in [Float(1), 0.7, 2.5, 0.05].enumerated() {
                var p = Self.row(n, seed: UInt64(n) + 1), q = Self.row(n, seed: UInt64(n) + 2)
                var np = Self.row(n, seed: UInt64(n) + 3), nq = Self.row(n, seed: UInt64(n) + 4)
                if n > 100 {
                    p[3] = -.infinity; q[5] = -.infinity; nq[7] = -.infinity; p[n - 1] = -200
                    if k == 3 { q[11] = .nan; np[13] = .nan }
                }
                let mp = p.max()!, mq = q.filter { !$0.isNaN }.max()!
                p.withUnsafeBufferPointer { a in q.withUnsafeBufferPointer { b in
                    np.withUnsafeBufferPointer { c in nq.withUnsafeBufferPointer { d in
                        for next in [true, false] {
                            let inC = RowF32.klSums(a.baseAddress!, b.baseAddress!, n, s, mp * s, mq * s,
                                                    nextP: next ? c.baseAddress! : nil, nextQ: next ? d.baseAddress! : nil)
                            let swift = RowF32.klSums(a.baseAddress!, b.baseAddress!, n, s, mp * s, mq * s,
                                                      nextP: next ? c.baseAddress! : nil, nextQ: next ? d.baseAddress! : nil,
                                                      vectorsInC: false)
                            let what = "n \(n) s \(s) next \(next)"
                            XCTAssertEqual(inC.0.bitPattern, swift.0.bitPattern, what)
                            XCTAssertEqual(inC.1.bitPattern, swift.1.bitPattern, what)
                            XCTAssertEqual(inC.2.bitPattern, swift.2.bitPattern, what)
                            XCTAssertEqual(inC.3.bitPattern, swift.3.bitPattern, what)
                            XCTAssertEqual(inC.4.bitPattern, swift.4.bitPattern, what)
                            XCTAssertEqual(inC.5, swift.5, what)
                        }
                    } }
                } }
            }
        }
    }
}
