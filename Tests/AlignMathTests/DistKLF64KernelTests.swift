import XCTest
@testable import AlignMath
#if arch(x86_64)
import AlignMathC
#endif

/// The f64 KL kernel with the 256-entry table (`am_kl_block_f64_fast`, taken by
/// `RowF64.klRow` for every block whose exponents stay above -690) against Float80:
/// its exponential element by element (to about an ulp), and KL(P‖Q) over lengths 1 to
/// 128,256, temperatures 1, 0.7, 2.5 and 0.05, logits near 0, -30 and 1e4, pairs far apart
/// and close, against `DistKLLongRowTests.reference` (64-bit significand, `expl`/`logl`).
final class DistKLF64KernelTests: XCTestCase {
    #if arch(x86_64)
    /// 2^((x − m)·c / 256) of the kernel (four equal lanes through the vector path: Σ e_p / 4)
    /// against `exp2l` of the same y' = (x − m)·c, for y' over the kernel's whole range
    /// (every table entry, exponents down to 2^-996): within 1.2 ulp.
    func testExponentAgainstFloat80() {
        let c = 256 / 0.693147180559945309417
        var worst = 0.0
        var out = [Double](repeating: 0, count: 7)
        var z: UInt64 = 0x1234_5678_9ABC_DEF1
        for i in 0..<60_000 {
            z = z &* 6364136223846793005 &+ 1442695040888963407
            let u = Double(z >> 11) * 0x1p-53
            // half the draws near the maximum (the terms that matter), half over [-690, 0]
            let y = i % 2 == 0 ? -690 * u : -4 * u
            let m = 3.25, x = m + y
            let p = [Double](repeating: x, count: 4), q = [Double](repeating: m, count: 4)
            am_kl_block_f64_fast(p, q, 4, c, m, m, nil, nil, &out)
            let yp = (x - m) * c
            let want = exp2l(Float80(yp) / 256)
            let got = Float80(out[0] / 4)
            let err = Double(abs(got - want) / want)
            worst = Swift.max(worst, err)
            XCTAssertEqual(out[1], 4, "the maximum gives e = 1 exactly")
            if err > 1.2 * 0x1p-53 * 2 { XCTFail("y' \(yp): \(got) against \(want), \(err)"); return }
        }
        XCTAssertGreaterThan(worst, 0)  // the comparison ran
    }

    /// A row pair whose logits are `base·0.3 + offset` and `(base + noise·closeness)·0.3 + offset`.
    static func pair(_ n: Int, offset: Double, closeness: Double) -> ([Double], [Double]) {
        let base = DistKLLongRowTests.row(n, seed: UInt64(n) + 21, maskEvery: 0)
        let noise = DistKLLongRowTests.row(n, seed: UInt64(n) + 22, maskEvery: 0)
        let p = base.map { $0 * 0.3 * 4 + offset }
        let q = zip(base, noise).map { ($0 * 0.3 + $1 * 0.3 * closeness) * 4 + offset }
        return (p, q)
    }

    /// KL through `Dist.kl` (f64: the fast kernel for these rows) against Float80: within
    /// 1e-13 relative plus 4e-15 absolute. KL = Σe_p·(y_p − y_q)/Σe_p − log Σe_p + log Σe_q
    /// cancels for close pairs, so below KL ~ 1e-2 the error is the absolute ~1e-16 of those
    /// terms for either kernel (`klBlock` is measured beside it and held to the same bound).
    func testKLAgainstFloat80() throws {
        var worstRel = 0.0, worstAbs = 0.0, worstRelSlow = 0.0, worstAbsSlow = 0.0
        for n in [1, 2, 3, 4, 5, 7, 9, 31, 129, 511, 512, 513, 1001, 4099, 32000, 128_256] {
            for t in [1.0, 0.7, 2.5, 0.05] {
                let s = 1 / t
                for (offset, closeness) in [(0.0, 1.0), (0.0, 0.02), (0.0, 1e-4), (1e4, 1.0), (1e4, 0.02), (-30, 0.1), (-30, 1e-3)] {
                    if n == 128_256 && t != 1 && t != 0.05 { continue }  // time
                    let (p, q) = Self.pair(n, offset: offset, closeness: closeness)
                    let want = DistKLLongRowTests.reference(p, q, s: s)
                    let got = try Dist.kl(try Tensor(p), try Tensor(q), DistOptions(temperature: t))[flat: 0]
                    let slow = p.withUnsafeBufferPointer { a in q.withUnsafeBufferPointer { b in
                        RowF64.klRow(a.baseAddress!, b.baseAddress!, n, s, fastKernel: false) } }
                    let what = "n \(n) T \(t) offset \(offset) closeness \(closeness): \(got) against \(want)"
                    let err = Swift.abs(got - want), errSlow = Swift.abs(slow - want)
                    XCTAssertLessThan(err, 1e-13 * want + 4e-15, what)
                    XCTAssertLessThan(errSlow, 1e-13 * want + 4e-15, what + " (klBlock)")
                    if want > 1e-2 {
                        worstRel = Swift.max(worstRel, err / want); worstRelSlow = Swift.max(worstRelSlow, errSlow / want)
                    } else {
                        worstAbs = Swift.max(worstAbs, err); worstAbsSlow = Swift.max(worstAbsSlow, errSlow)
                    }
                }
            }
        }
        print("f64 KL against Float80: worst relative (KL > 1e-2) \(worstRel) (klBlock: \(worstRelSlow)), worst absolute below \(worstAbs) (klBlock: \(worstAbsSlow))")
    }

    /// The fast path and `klBlock` on the same rows, where blocks change path mid-row: a -inf
    /// in block 3 (and the tail) sends the rest of the row to `klBlock`; a spread past 690/s
    /// likewise; one-token rows and a row with itself are exactly 0.
    func testMixedRowsAndExactZeros() throws {
        let n = 4099
        var (p, q) = Self.pair(n, offset: 0, closeness: 1)
        p[1700] = -.infinity; q[1900] = -.infinity; q[1700] = -.infinity
        for t in [1.0, 0.05] {
            let want = DistKLLongRowTests.reference(p, q, s: 1 / t)
            let got = try Dist.kl(try Tensor(p), try Tensor(q), DistOptions(temperature: t))[flat: 0]
            XCTAssertEqual(got, want, accuracy: 1e-13 * want, "T \(t)")
        }
        var (a, b) = Self.pair(n, offset: 0, closeness: 1)
        a[3000] = -800; b[2000] = -800   // past -690 at T = 1: blocks 3 on in klBlock
        let want = DistKLLongRowTests.reference(a, b, s: 1)
        XCTAssertEqual(try Dist.kl(try Tensor(a), try Tensor(b))[flat: 0], want, accuracy: 1e-13 * want)
        for m in [1, 5, 512, 4099] {
            let (x, y) = Self.pair(m, offset: 1e4, closeness: 1)
            for t in [1.0, 0.7, 0.05] {
                XCTAssertEqual(try Dist.kl(try Tensor(x), try Tensor(x), DistOptions(temperature: t))[flat: 0], 0, "n \(m)")
                XCTAssertEqual(try Dist.kl(try Tensor(y), try Tensor(y), DistOptions(temperature: t))[flat: 0], 0, "n \(m)")
            }
        }
        let one = try Dist.kl(try Tensor([0.5, -3, 1e4], shape: [3, 1]), try Tensor([7, 2, -1e4], shape: [3, 1]))
        XCTAssertEqual(one.toDoubles(), [0, 0, 0])
    }
    #endif
}
