import XCTest
import Foundation
@testable import AlignMath

/// `RowF64.maxSumExp`'s fast path (`am_sumexp_f64_fast`: the KL kernel's 2^(y'/256) table
/// exponential over a whole row) against a Float80 reference: Σ e^((x − max)·s) and the
/// logsumexp built from it, over lengths 256 to 128,256 (and lengths not a multiple of 4),
/// temperatures 1, 0.7, 2.5 and 0.05, logits near 0, -30 and 1e4, spreads up to the 690/s
/// the path takes. The reference is the sum of `expl` of the exact Float80 shifts.
final class DistSumExpF64KernelTests: XCTestCase {
    #if arch(x86_64)
    func testFastSumExpAgainstFloat80() {
        var g = SplitMix(state: 20261205)  // seeded: the same rows on every run
        var worstSum = 0.0, worstLSE = 0.0, taken = 0, worstOldSum = 0.0, worstOldLSE = 0.0
        for n in [256, 257, 1000, 4099, 32000, 128_256] {
            for s in [1.0, 1 / 0.7, 1 / 2.5, 1 / 0.05] {
                for (center, spread) in [(0.0, 5.0), (-30.0, 20.0), (1e4, 3.0), (0.0, 600.0)] {
                    let x = (0..<n).map { _ in center + Double.random(in: -spread...spread, using: &g) }
                    let (mx, mn) = RowF64.maxMin(x, n)
                    guard (mn - mx) * s >= RowF64.fastKLFloor else { continue }
                    taken += 1
                    let got = x.withUnsafeBufferPointer { RowF64.maxSumExp($0.baseAddress!, n, s) }
                    RowF64.fastSumExpEnabled = false
                    let old = x.withUnsafeBufferPointer { RowF64.maxSumExp($0.baseAddress!, n, s) }
                    RowF64.fastSumExpEnabled = true
                    var ref: Float80 = 0
                    for v in x { ref += expl((Float80(v) - Float80(mx)) * Float80(s)) }
                    let lseRef = Float80(mx) * Float80(s) + logl(ref)
                    let eSum = abs(Double((Float80(got.1) - ref) / ref))
                    let lse = got.0 + Foundation.log(got.1)
                    // on the scale of max(1, |lse|): log Σ's error is absolute, and an lse near 0
                    // (-0.012 at T = 2.5) would turn 4e-16 of it into a relative 3e-14
                    let eLSE = abs(Double((Float80(lse) - lseRef) / max(1, abs(lseRef))))
                    // the clamped kernel on the same row: exp as Cephes', a shift of x·s − m
                    let oSum = abs(Double((Float80(old.1) * expl(Float80(old.0) - Float80(mx) * Float80(s)) - ref) / ref))
                    let oLSE = abs(Double((Float80(old.0 + Foundation.log(old.1)) - lseRef) / max(1, abs(lseRef))))
                    worstSum = max(worstSum, eSum); worstLSE = max(worstLSE, eLSE)
                    worstOldSum = max(worstOldSum, oSum); worstOldLSE = max(worstOldLSE, oLSE)
                    // the clamped kernel's worst here: 1.1e-15 (sum), 1.4e-15 (logsumexp)
                    XCTAssertLessThan(eSum, 2e-15, "n \(n) s \(s) center \(center) spread \(spread): sum")
                    XCTAssertLessThan(eLSE, max(4e-15, 2 * oLSE), "n \(n) s \(s) center \(center) spread \(spread): logsumexp \(lse) vs \(lseRef)")
                }
            }
        }
        XCTAssertGreaterThan(taken, 60, "the fast path was exercised")
        print("worst relative error: sum \(worstSum), logsumexp \(worstLSE); clamped kernel: sum \(worstOldSum), logsumexp \(worstOldLSE)")
    }

    /// The fast path and the clamped kernel agree, and rows it does not fit (-inf, a spread
    /// past 690/s, NaN) keep the clamped kernel's answers.
    func testFastPathMatchesTheKernelAndLeavesOtherRows() {
        var x = (0..<5000).map { Double(($0 * 7919) % 1000) * 0.01 - 3 }
        func both(_ s: Double) -> ((Double, Double), (Double, Double)) {
            let fast = x.withUnsafeBufferPointer { RowF64.maxSumExp($0.baseAddress!, x.count, s) }
            RowF64.fastSumExpEnabled = false
            defer { RowF64.fastSumExpEnabled = true }
            return (fast, x.withUnsafeBufferPointer { RowF64.maxSumExp($0.baseAddress!, x.count, s) })
        }
        for s in [1.0, 3.0, 0.1] {
            let (f, k) = both(s)
            XCTAssertEqual(f.0, k.0)
            XCTAssertEqual(f.1, k.1, accuracy: 1e-14 * k.1)
        }
        x[17] = -.infinity
        XCTAssertEqual(both(1).0.1, both(1).1.1)
        x[17] = .nan
        XCTAssertTrue(both(1).0.1.isNaN)
        x[17] = -1e6
        let (f, k) = both(1)
        XCTAssertEqual(f.1, k.1)
    }
    #endif
}

/// SplitMix64: a seeded generator, so the test draws the same rows on every run.
private struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
}
