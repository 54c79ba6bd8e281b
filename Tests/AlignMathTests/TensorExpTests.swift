import XCTest
@testable import AlignMath

/// `t:exp()` on f64 against libm's `exp` (what numpy's `np.exp` gives on a machine without
/// its AVX-512 kernels, and within 1 ulp of it with them): at most 1 ulp apart on every
/// input, libm's exact bits at the edges (subnormal results, 0, overflow, ±inf, NaN).
final class TensorExpTests: XCTestCase {
    /// Distance in units in the last place between two doubles of one sign (or both NaN: 0).
    static func ulps(_ a: Double, _ b: Double) -> UInt64 {
        if a.isNaN && b.isNaN { return 0 }
        if a.isNaN || b.isNaN || (a.sign != b.sign && a != b) { return .max }
        let x = a.bitPattern & ~(1 << 63), y = b.bitPattern & ~(1 << 63)
        return x > y ? x - y : y - x
    }

    static let edges: [Double] = [
        -.infinity, .infinity, .nan, 0, -0.0, 1, -1, 1e-300, -1e-300, Double.leastNonzeroMagnitude,
        -745.2, -745.1332191019412, -745, -744.5, -740, -720, -709.1, -708.5,
        -708.3964185322641, -708.39641853226, -708.396418532264, -708, -700,
        709, 709.78, 709.782712893384, 709.7827128933841, 709.79, 710, 1e300, -1e300,
    ]

    func testMatchesLibmWithinOneUlp() throws {
        // a spread over the whole range, and dense around 0 where most data lies
        var xs = Self.edges
        for i in 0..<200_000 { xs.append(-746 + 1456 * Double(i) / 200_000) }
        var z: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<200_000 {
            z = z &* 6364136223846793005 &+ 1442695040888963407
            xs.append(20 * (Double(z >> 11) * 0x1p-53 - 0.5))
        }
        let t = try Tensor(xs)
        let e = try t.exp()
        XCTAssertEqual(e.dtype, .f64)
        var worst: UInt64 = 0
        for (i, x) in xs.enumerated() {
            let want = Foundation.exp(x), got = e[flat: i]
            let d = Self.ulps(got, want)
            worst = max(worst, d)
            XCTAssertLessThanOrEqual(d, 1, "exp(\(x)): \(got), libm \(want)")
            // below the normal range, at overflow and for non-finite inputs: libm's bits
            if !(x >= FastExp.minNormalInputD && x <= FastExp.expTableMaxInputD) {
                XCTAssertTrue(got.bitPattern == want.bitPattern || (got.isNaN && want.isNaN), "exp(\(x)): \(got), libm \(want)")
            }
        }
        XCTAssertLessThanOrEqual(worst, 1)
        // values a test would get wrong if the edges were mishandled
        XCTAssertEqual(try Tensor([-745.0, -746, 709.782712893384, 710, -.infinity, .infinity]).exp().toDoubles(),
                       [Double.leastNonzeroMagnitude, 0, 1.7976931348622732e308, .infinity, 0, .infinity])
        XCTAssertTrue(try Tensor([Double.nan]).exp()[flat: 0].isNaN)
        let sub = try Tensor([-740.0]).exp()[flat: 0]
        XCTAssertTrue(sub.isSubnormal, "exp(-740) is subnormal: \(sub)")
        XCTAssertEqual(sub, Foundation.exp(-740.0))
    }

    /// Every position of a vector (the lane fix-up of an out-of-range lane leaves the other
    /// lanes' values), lengths that end inside a vector, and a strided view.
    func testLanesTailsAndViews() throws {
        for n in [1, 3, 7, 8, 9, 15, 17] {
            for at in 0..<n {
                var xs = (0..<n).map { Double($0) * 0.37 - 1 }
                xs[at] = -745
                let got = try Tensor(xs).exp().toDoubles()
                for i in 0..<n {
                    XCTAssertLessThanOrEqual(Self.ulps(got[i], Foundation.exp(xs[i])), 1, "n \(n) at \(at) i \(i)")
                }
                XCTAssertEqual(got[at], Double.leastNonzeroMagnitude)
            }
        }
        let m = try Tensor((0..<600).map { Double($0) * 0.01 - 3 }, shape: [20, 30], dtype: .f64)
        let tt = try m.transpose(0, 1).exp()
        for r in 0..<30 {
            for c in 0..<20 {
                let x = Double(c * 30 + r) * 0.01 - 3
                XCTAssertLessThanOrEqual(Self.ulps(tt[flat: r * 20 + c], Foundation.exp(x)), 1)
            }
        }
    }
}
