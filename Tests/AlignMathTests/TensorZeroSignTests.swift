import XCTest
import AlignMath

/// The sign of a zero where maximum, minimum and clamp meet a tie. numpy 2.4.6 on x86-64
/// (its Highway loops, maxpd/minpd; checked by hand on AVX2 and AVX-512 hosts):
///
///     np.maximum(-0.0, 0.0) -> 0.0    np.maximum(0.0, -0.0) -> -0.0   (the second operand)
///     np.minimum(0.0, -0.0) -> -0.0   np.minimum(-0.0, 0.0) -> 0.0
///     np.clip(-0.0, 0.0, 1.0) -> -0.0 np.clip(0.0, -1.0, -0.0) -> 0.0 (the value)
///     np.clip(-0.0, None, 0.0) -> 0.0  np.clip(0.0, -0.0, None) -> -0.0 (np.minimum / np.maximum)
///
/// and NaN from either side. Found by Tests/Differential/acceptance_tensor.py (zero-sign).
final class TensorZeroSignTests: XCTestCase {
    private func signs(_ t: Tensor) -> [String] {
        (0..<t.count).map { i in let v = t[flat: i]; return v.isNaN ? "nan" : (v.sign == .minus ? "-" : "+") + "\(abs(v))" }
    }

    func testTiesGiveTheSecondOperand() throws {
        for dtype in [DType.f64, .f32] {
            // 21 elements: whole vectors and a tail, contiguous and broadcast
            let neg = try Tensor([Double](repeating: -0.0, count: 21)).converted(to: dtype)
            let pos = try Tensor([Double](repeating: 0.0, count: 21)).converted(to: dtype)
            XCTAssertEqual(Set(signs(try neg.binary(.maximum, pos))), ["+0.0"], "\(dtype)")
            XCTAssertEqual(Set(signs(try pos.binary(.maximum, neg))), ["-0.0"], "\(dtype)")
            XCTAssertEqual(Set(signs(try pos.binary(.minimum, neg))), ["-0.0"], "\(dtype)")
            XCTAssertEqual(Set(signs(try neg.binary(.minimum, pos))), ["+0.0"], "\(dtype)")
            let grid = try neg.reshape([3, 7]), row = try Tensor([Double](repeating: 0.0, count: 7)).converted(to: dtype)
            XCTAssertEqual(Set(signs(try grid.binary(.maximum, row))), ["+0.0"])
            XCTAssertEqual(Set(signs(try row.binary(.maximum, grid))), ["-0.0"])
            XCTAssertEqual(Set(signs(try neg.binary(.maximum, .float(0.0)))), ["+0.0"])
            XCTAssertEqual(Set(signs(try pos.binary(.minimum, .float(-0.0)))), ["-0.0"])
        }
        let withNaN = try Tensor([.nan, 1, 0])
        XCTAssertEqual(signs(try withNaN.binary(.maximum, try Tensor([2, .nan, -0.0]))), ["nan", "nan", "-0.0"])
    }

    func testClampKeepsTheValueOnATie() throws {
        let x = try Tensor([-0.0, 0.0, -0.0, 0.0, .nan, 3, -3])
        XCTAssertEqual(signs(try x.clamp(0.0, 1.0)), ["-0.0", "+0.0", "-0.0", "+0.0", "nan", "+1.0", "+0.0"])
        XCTAssertEqual(signs(try x.clamp(-1.0, -0.0)), ["-0.0", "+0.0", "-0.0", "+0.0", "nan", "-0.0", "-1.0"])
        // one bound is np.minimum(x, hi) / np.maximum(x, lo): a tie gives the bound
        XCTAssertEqual(signs(try x.clamp(nil, 0.0)), ["+0.0", "+0.0", "+0.0", "+0.0", "nan", "+0.0", "-3.0"])
        XCTAssertEqual(signs(try x.clamp(-0.0, nil)), ["-0.0", "-0.0", "-0.0", "-0.0", "nan", "+3.0", "-0.0"])
    }
}
