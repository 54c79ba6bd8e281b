import XCTest
@testable import AlignMath

/// The f32 KL sums over whole vectors run in C on x86-64 (`am_kl_sums_f32`, two vectors a
/// step); the Swift loop they replace (`RowF32.klSums(..., vectorsInC: false)`) is the
/// reference, and the two must agree bit for bit: Σe_p, Σe_q, Σe_p·(y_p − y_q), the next
/// pair's extremes and its masked-q flag, for temperature 1 (the C kernel's subtraction path)
/// and others, rows with tails, -inf and NaN entries, values below exp's normal range.
/// The fast kernel (`am_kl_sums_f32_fast`, rows whose exponents stay above -86) has other
/// last bits: its KL is held to one computed in Double from the same Float inputs.
final class DistKLF32KernelTests: XCTestCase {
    static func row(_ n: Int, seed: UInt64, spread: Float = 40) -> [Float] {
        (0..<n).map { i in
            var z = (UInt64(i) &+ (seed << 40)) &* 0x9E37_79B9_7F4A_7C15
            z = (z ^ (z >> 29)) &* 0xBF58_476D_1CE4_E5B9
            z ^= z >> 32
            let u = Float(z >> 40) * 0x1p-24
            return spread * (u - 0.5) + 30 * Float(i % 97) / 97
        }
    }

    static func assertSame(_ a: RowF32.PairExtremes?, _ b: RowF32.PairExtremes?, _ what: String,
                           file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a == nil, b == nil, what, file: file, line: line)
        guard let a, let b else { return }
        XCTAssertEqual(a.mp.bitPattern, b.mp.bitPattern, what, file: file, line: line)
        XCTAssertEqual(a.mq.bitPattern, b.mq.bitPattern, what, file: file, line: line)
        XCTAssertEqual(a.minp.bitPattern, b.minp.bitPattern, what, file: file, line: line)
        XCTAssertEqual(a.minq.bitPattern, b.minq.bitPattern, what, file: file, line: line)
        XCTAssertEqual(a.inf, b.inf, what, file: file, line: line)
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
                            Self.assertSame(inC.3, swift.3, what)
                        }
                    } }
                } }
            }
        }
    }

    /// KL(softmax(p·s) ‖ softmax(q·s)) in Double from the Float inputs.
    static func referenceKL(_ p: [Float], _ q: [Float], _ s: Double) -> Double {
        let a = p.map { Double($0) * s }, b = q.map { Double($0) * s }
        let ma = a.max()!, mb = b.max()!
        let la = ma + Foundation.log(a.reduce(0) { $0 + Foundation.exp($1 - ma) })
        let lb = mb + Foundation.log(b.reduce(0) { $0 + Foundation.exp($1 - mb) })
        return zip(a, b).reduce(0) { $0 + Foundation.exp($1.0 - la) * (($1.0 - la) - ($1.1 - lb)) }
    }

    static func sumExp(_ x: [Float], _ s: Double) -> Double {
        let m = Double(x.max()!)
        return x.reduce(0) { $0 + Foundation.exp((Double($1) - m) * s) }
    }

    /// The fast kernel against Double: rows of every length mod 8 (its tail is its own),
    /// temperatures 1, 0.7, 2.5, 0.05, logits near 0 and near 1e4, pairs far apart and close
    /// (KL from ~4 down to ~1e-6, where Float's own rounding shows): within the error the
    /// Cephes kernel has on the same rows.
    /// The extremes of the next pair it returns are the Swift loop's, bit for bit.
    func testFastKernelAgainstDouble() throws {
        #if arch(x86_64)
        for n in [1, 7, 8, 9, 31, 129, 1001, 4099, 32000] {
            for s in [1.0, 0.7, 2.5, 0.05] {
                for (offset, closeness) in [(Float(0), Float(1)), (0, 0.02), (1e4, 1), (-30, 0.1)] {
                    let base = Self.row(n, seed: UInt64(n) + 9, spread: 8)
                    let noise = Self.row(n, seed: UInt64(n) + 10, spread: 8)
                    let p = base.map { $0 * 0.3 + offset }
                    let q = zip(base, noise).map { ($0 * 0.3 + $1 * 0.3 * closeness) + offset }
                    let np = Self.row(n, seed: UInt64(n) + 11), nq = Self.row(n, seed: UInt64(n) + 12)
                    let mp = p.max()!, mq = q.max()!
                    let smp = Double(mp) * s, smq = Double(mq) * s
                    let e = RowF32.PairExtremes(mp: mp, mq: mq, inf: false, minp: p.min()!, minq: q.min()!)
                    XCTAssertTrue(e.fitsFastKernel(s))
                    let what = "n \(n) s \(s) offset \(offset) closeness \(closeness)"
                    p.withUnsafeBufferPointer { a in q.withUnsafeBufferPointer { b in
                        np.withUnsafeBufferPointer { c in nq.withUnsafeBufferPointer { d in
                            let fast = RowF32.klSums(a.baseAddress!, b.baseAddress!, n, Float(s), Float(smp), Float(smq),
                                                     nextP: c.baseAddress!, nextQ: d.baseAddress!, fast: true, maxP: mp, maxQ: mq)
                            let swift = RowF32.klSums(a.baseAddress!, b.baseAddress!, n, Float(s), Float(smp), Float(smq),
                                                      nextP: c.baseAddress!, nextQ: d.baseAddress!, vectorsInC: false)
                            let got = Dist.klValue(fast.0, fast.1, fast.2, false)
                            let want = Self.referenceKL(p, q, s)
                            // The Cephes kernel's worst over these cases: 3.05e-7 absolute,
                            // 1.0e-4 relative (the fast one's: 2.97e-7, 6.0e-5).
                            XCTAssertLessThan(Swift.abs(got - want), 4e-7 + 1e-4 * want, what)
                            // Σ e_p and Σ e_q against Double's Σ exp((x − max)·s): a wrong
                            // table entry or coefficient moves them by far more
                            XCTAssertLessThan(Swift.abs(fast.0 / Self.sumExp(p, s) - 1), 3e-7, what)
                            XCTAssertLessThan(Swift.abs(fast.1 / Self.sumExp(q, s) - 1), 3e-7, what)
                            Self.assertSame(fast.3, swift.3, what)
                        } }
                    } }
                }
            }
        }
        #endif
    }

    /// Rows outside the fast kernel's range go to the Cephes kernel: -inf entries, a spread
    /// past 86 nats, shifts of 1e6 and more.
    func testFastKernelRange() {
        let e = RowF32.PairExtremes(mp: 10, mq: 10, inf: false, minp: -70, minq: -70)
        XCTAssertTrue(e.fitsFastKernel(1))
        XCTAssertFalse(e.fitsFastKernel(1.1))                       // -80 · 1.1 < -86
        XCTAssertFalse(RowF32.PairExtremes(mp: 10, mq: 10, inf: false, minp: -.infinity, minq: 0).fitsFastKernel(1))
        XCTAssertFalse(RowF32.PairExtremes(mp: 10, mq: 10, inf: false, minp: 0, minq: -.infinity).fitsFastKernel(1))
        XCTAssertFalse(RowF32.PairExtremes(mp: .infinity, mq: 10, inf: false, minp: 0, minq: 0).fitsFastKernel(1))
        // the minima of a row whose length is not a multiple of 8 are its own (the tail's
        // padding is not one of them)
        let p: [Float] = (0..<13).map { Float($0) }, q = p.map { -$0 }
        let m = p.withUnsafeBufferPointer { a in q.withUnsafeBufferPointer { b in RowF32.maxPair(a.baseAddress!, b.baseAddress!, 13) } }
        XCTAssertEqual([m.mp, m.mq, m.minp, m.minq], [12, 0, 0, -12])
    }

    /// KL of a pair of one-token rows, and of a row with itself, is exactly 0 (the maximum's
    /// exponential is exactly 1 in the fast kernel as in the Cephes one).
    func testExactZeros() throws {
        for n in [1, 9, 32000] {
            let p = Self.row(n, seed: 5, spread: 8), q = Self.row(n, seed: 6, spread: 8)
            let same = try Dist.kl(Tensor(floats: p + q, shape: [2, n]), Tensor(floats: p + q, shape: [2, n]))
            XCTAssertEqual(same.toDoubles(), [0, 0], "n \(n)")
        }
        let one = try Dist.kl(Tensor(floats: [0.5, -3, 1e4], shape: [3, 1]), Tensor(floats: [7, 2, -1e4], shape: [3, 1]))
        XCTAssertEqual(one.toDoubles(), [0, 0, 0])
    }
}
