import XCTest
@testable import AlignMath

/// KL(P‖Q) of long f64 rows against a Float80 reference computed here (64-bit significand,
/// libm's `expl`/`logl`): rows of many L1 blocks whose maximum rises from block to block
/// (the running-maximum rescales), with masked tokens, at temperature 1 (the kernel's
/// `s == 1` path) and 0.7 (the general one). The same formula as scipy's
/// `sum(rel_entr(softmax(p/T), softmax(q/T)))`, in more precision than scipy has.
final class DistKLLongRowTests: XCTestCase {
    /// Deterministic logits: a rising trend (so later blocks raise the maximum), noise,
    /// and -inf at every `maskEvery`-th id (0: none).
    static func row(_ n: Int, seed: UInt64, maskEvery: Int, offset: Int = 0) -> [Double] {
        (0..<n).map { i in
            if maskEvery > 0 && (i + offset) % maskEvery == 0 { return -.infinity }
            var z = (UInt64(i) &+ (seed << 40)) &* 0x9E37_79B9_7F4A_7C15
            z = (z ^ (z >> 29)) &* 0xBF58_476D_1CE4_E5B9
            z ^= z >> 32
            let u = Double(z >> 11) * 0x1p-53
            return 6 * (u - 0.5) + 4 * Double(i) / Double(n)
        }
    }

    #if arch(x86_64)
    /// Σ p (log p − log q) in Float80 with p = softmax(x·s), q = softmax(y·s).
    static func reference(_ x: [Double], _ y: [Double], s: Double) -> Double {
        func logSoftmax(_ v: [Double]) -> [Float80] {
            let a = v.map { Float80($0) * Float80(s) }
            let m = a.filter { $0 > -.infinity }.max()!
            var z: Float80 = 0
            for e in a where e > -.infinity { z += expl(e - m) }
            let l = logl(z)
            return a.map { $0 - m - l }
        }
        let lp = logSoftmax(x), lq = logSoftmax(y)
        var kl: Float80 = 0
        for i in 0..<x.count where lp[i] > -.infinity {
            if lq[i] == -.infinity { return .infinity }
            kl += expl(lp[i]) * (lp[i] - lq[i])
        }
        return Double(kl)
    }

    func testLongRowsAgainstFloat80() throws {
        // 128,256 (the Llama 3 vocabulary, 250 blocks and a short one) and a length that ends
        // inside a vector; masks in P only, in both, and none.
        for (n, mp, mq) in [(128_256, 0, 0), (50_257, 97, 0), (50_257, 89, 89), (4_099, 7, 0)] {
            let x = Self.row(n, seed: 1, maskEvery: mp), y = Self.row(n, seed: 2, maskEvery: mq)
            for t in [1.0, 0.7] {
                let got = try Dist.kl(try Tensor(x), try Tensor(y), DistOptions(temperature: t))[flat: 0]
                let want = Self.reference(x, y, s: 1 / t)
                XCTAssertGreaterThan(want, 0.01)
                XCTAssertEqual(got, want, accuracy: 1e-12 * want, "n \(n) masks \(mp)/\(mq) T \(t)")
            }
        }
    }
    #endif

    /// A token that P keeps and Q masks makes KL +inf, wherever it sits in the row (first
    /// block, middle block, the tail after the last full vector); one that both mask does not.
    func testMaskedInQOnlyIsInfinite() throws {
        let n = 10_003
        let x = Self.row(n, seed: 3, maskEvery: 0)
        for at in [0, 5_000, n - 1] {
            for t in [1.0, 0.7] {
                var y = Self.row(n, seed: 4, maskEvery: 0)
                y[at] = -.infinity
                XCTAssertEqual(try Dist.kl(try Tensor(x), try Tensor(y), DistOptions(temperature: t))[flat: 0], .infinity,
                               "q masked at \(at), T \(t)")
                var xm = x
                xm[at] = -.infinity
                let v = try Dist.kl(try Tensor(xm), try Tensor(y), DistOptions(temperature: t))[flat: 0]
                XCTAssertTrue(v.isFinite && v > 0, "both masked at \(at), T \(t): \(v)")
            }
        }
    }
}
