import XCTest
import AlignMathC
@testable import AlignMath

/// The f32 KL sums over whole vectors run in C on x86-64 (`am_kl_sums_f32`, two vectors a
/// step); the Swift loop they replace (`RowF32.klSums(..., vectorsInC: false)`) is the
/// reference, and the two must agree bit for bit: Σe_p, Σe_q, Σe_p·(y_p − y_q), the next
/// pair's extremes and its masked-q flag, for temperature 1 (the C kernel's subtraction path)
/// and others, rows with tails, -inf and NaN entries, values below exp's normal range.
/// The fast kernel (`am_kl_sums_f32_fast`, rows whose exponents stay above -86) has other
/// last bits: its KL is held to one computed in Double from the same Float inputs, and so is
/// its AVX-512 twin (`am_kl_sums_f32_fast_avx512`), which `Dist.kl` takes on CPUs with
/// AVX-512 (F and DQ): both kernels run here whenever the CPU has it (the AVX2 one always).
final class DistKLF32KernelTests: XCTestCase {
    /// The fast kernels this CPU runs: AVX2 (`avx512: false`) and, with AVX-512 F and DQ, its twin.
    static var fastKernels: [Bool] { am_cpu_has_avx512() != 0 ? [false, true] : [false] }

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

    /// The fast kernels (AVX2 and, on CPUs with it, AVX-512) against Double: rows of every
    /// length mod 8 and mod 16 (their tails are their own), blocks of 256 and their edges,
    /// temperatures 1, 0.7, 2.5, 0.05, logits near 0 and near 1e4, pairs far apart and close
    /// (KL from ~4 down to ~1e-6, where Float's own rounding shows): within the error the
    /// Cephes kernel has on the same rows.
    /// The extremes of the next pair they return are the Swift loop's, bit for bit.
    func testFastKernelAgainstDouble() throws {
        #if arch(x86_64)
        for avx512 in Self.fastKernels {
            for n in [1, 7, 8, 9, 15, 16, 17, 31, 129, 255, 256, 257, 1001, 4099, 32000] {
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
                        let what = "avx512 \(avx512) n \(n) s \(s) offset \(offset) closeness \(closeness)"
                        p.withUnsafeBufferPointer { a in q.withUnsafeBufferPointer { b in
                            np.withUnsafeBufferPointer { c in nq.withUnsafeBufferPointer { d in
                                let fast = RowF32.klSums(a.baseAddress!, b.baseAddress!, n, Float(s), Float(smp), Float(smq),
                                                         nextP: c.baseAddress!, nextQ: d.baseAddress!, fast: true, maxP: mp, maxQ: mq,
                                                         avx512: avx512)
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
        }
        #endif
    }

    /// The AVX-512 kernel computes each pair's terms as the AVX2 one does and adds them in
    /// another order: its sums agree with the AVX2 kernel's to a few Float roundings of a
    /// 16-term partial sum, its extremes of the next pair bit for bit (rows of every length
    /// mod 16, blocks of 256 and their edges, logits near 1e4, a NaN row).
    func testAVX512KernelAgainstAVX2() throws {
        #if arch(x86_64)
        guard am_cpu_has_avx512() != 0 else { throw XCTSkip("no AVX-512 F and DQ on this CPU") }
        for n in [1, 2, 15, 16, 17, 240, 255, 256, 257, 271, 4096, 31999, 32000] {
            for (s, offset) in [(1.0, Float(0)), (0.7, 1e4), (2.5, -30)] {
                let p = Self.row(n, seed: UInt64(n) + 21, spread: 8).map { $0 * 0.3 + offset }
                let q = Self.row(n, seed: UInt64(n) + 22, spread: 8).map { $0 * 0.3 + offset }
                let np = Self.row(n, seed: UInt64(n) + 23), nq = Self.row(n, seed: UInt64(n) + 24)
                let mp = p.max()!, mq = q.max()!
                let what = "n \(n) s \(s) offset \(offset)"
                p.withUnsafeBufferPointer { a in q.withUnsafeBufferPointer { b in
                    np.withUnsafeBufferPointer { c in nq.withUnsafeBufferPointer { d in
                        let r = [false, true].map { avx512 in
                            RowF32.klSums(a.baseAddress!, b.baseAddress!, n, Float(s), Float(Double(mp) * s),
                                          Float(Double(mq) * s), nextP: c.baseAddress!, nextQ: d.baseAddress!,
                                          fast: true, maxP: mp, maxQ: mq, avx512: avx512)
                        }
                        XCTAssertLessThan(Swift.abs(r[1].0 / r[0].0 - 1), 1e-6, what)
                        XCTAssertLessThan(Swift.abs(r[1].1 / r[0].1 - 1), 1e-6, what)
                        XCTAssertLessThan(Swift.abs(r[1].2 - r[0].2), 1e-6 * r[0].0, what)
                        let kl = r.map { Dist.klValue($0.0, $0.1, $0.2, false) }
                        XCTAssertLessThan(Swift.abs(kl[1] - kl[0]), 1e-7 + 1e-5 * kl[0], what)
                        Self.assertSame(r[1].3, r[0].3, what)
                        // without a next pair (the last row of a chunk)
                        let last = [false, true].map { avx512 in
                            RowF32.klSums(a.baseAddress!, b.baseAddress!, n, Float(s), Float(Double(mp) * s),
                                          Float(Double(mq) * s), nextP: nil, nextQ: nil,
                                          fast: true, maxP: mp, maxQ: mq, avx512: avx512)
                        }
                        XCTAssertLessThan(Swift.abs(last[1].0 / last[0].0 - 1), 1e-6, what)
                        XCTAssertNil(last[1].3)
                    } }
                } }
            }
        }
        // a NaN in p makes both kernels' sums NaN; a NaN in the next row is not an extreme
        var p = Self.row(300, seed: 31, spread: 8), q = Self.row(300, seed: 32, spread: 8)
        var np = Self.row(300, seed: 33, spread: 8)
        p[270] = .nan; q[3] = 2; np[5] = .nan
        let mp = p.filter { !$0.isNaN }.max()!, mq = q.max()!
        p.withUnsafeBufferPointer { a in q.withUnsafeBufferPointer { b in np.withUnsafeBufferPointer { c in
            let r = [false, true].map { avx512 in
                RowF32.klSums(a.baseAddress!, b.baseAddress!, 300, 1, mp, mq, nextP: c.baseAddress!, nextQ: b.baseAddress!,
                              fast: true, maxP: mp, maxQ: mq, avx512: avx512)
            }
            XCTAssertTrue(r[0].0.isNaN && r[1].0.isNaN && r[1].2.isNaN)
            XCTAssertLessThan(Swift.abs(r[1].1 / r[0].1 - 1), 1e-6)
            Self.assertSame(r[1].3, r[0].3, "NaN rows")
        } } }
        #else
        throw XCTSkip("x86-64 only")
        #endif
    }

    /// The run-time choice: AVX-512 F and DQ as Linux reports them in /proc/cpuinfo, and `Dist.kl` takes
    /// the AVX-512 kernel only when the CPU has them (and it is switched on: by default or
    /// MOONLAB_KL_AVX512=1).
    func testAVX512Detection() throws {
        #if arch(x86_64) && os(Linux)
        let info = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let flags = info.split(separator: "\n").first { $0.hasPrefix("flags") } ?? ""
        let words = flags.split(separator: " ")
        let listed = words.contains("avx512f") && words.contains("avx512dq")
        XCTAssertEqual(am_cpu_has_avx512() != 0, listed)
        let wanted = ProcessInfo.processInfo.environment["MOONLAB_KL_AVX512"].map { $0 == "1" } ?? RowF32.avx512KLByDefault
        XCTAssertEqual(RowF32.avx512KL, listed && wanted)
        #else
        XCTAssertFalse(RowF32.avx512KL && am_cpu_has_avx512() == 0)
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
