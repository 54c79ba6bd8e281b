import XCTest
import Foundation
import AlignMath
import LuaKit
import Workbench
import TestSupport

/// Disagreements with numpy found by the randomized differential harness
/// (Tests/Differential/tensor_diff.py, run by hand), each checked against numpy's answer
/// (numpy 2.4.6; the numpy expression is next to each case).
final class TensorDifferentialTests: XCTestCase {
    /// The elements of a tensor expression as "%.17g" strings (keeps -0.0 and NaN visible).
    private func bits(_ h: LuaHarness, _ expr: String) throws -> String {
        try h.value("(function() local t = (\(expr)):to('f64'):flatten(); local s = {} for i = 1, t:numel() do s[i] = string.format('%.17g', t[i]) end return table.concat(s, ' ') end)()")
    }

    /// np.sign(np.array([-0.0, 0.0, -2.0, np.nan])) -> [0., 0., -1., nan]: both zeros give +0.0.
    func testSignOfNegativeZeroIsPositiveZero() throws {
        let h = try LuaHarness()
        try h.run("x = tensor{-0.0, 0.0, -2.0, 0/0}")
        XCTAssertEqual(try bits(h, "x:sign()"), "0 0 -1 " + (try h.value("string.format('%.17g', 0/0)")))
        XCTAssertEqual(try bits(h, "x:to('f32'):sign()"), "0 0 -1 " + (try h.value("string.format('%.17g', 0/0)")))
    }

    /// np.power(np.array([-0.0, -np.inf, 4.0, np.inf]), 0.5) -> [-0., nan, 2., inf]: numpy's
    /// power takes the square root for an exponent of 0.5 (C's pow gives +0.0 and +inf).
    func testPowerOfOneHalfIsTheSquareRoot() throws {
        let h = try LuaHarness()
        let nan = try h.value("string.format('%.17g', 0/0)")
        try h.run("x = tensor{-0.0, -math.huge, 4.0, math.huge}")
        XCTAssertEqual(try bits(h, "x ^ 0.5"), "-0 \(nan) 2 inf")
        XCTAssertEqual(try bits(h, "x:to('f32') ^ 0.5"), "-0 \(nan) 2 inf")
        XCTAssertEqual(try bits(h, "x ^ tensor{0.5}"), "-0 \(nan) 2 inf")
        XCTAssertEqual(try h.value("(x ^ 0.5):dtype()"), "f64")
        // other exponents keep pow's answers (np.power(-0.0, 3.0) is -0.0, np.power(-inf, 1.5) inf)
        XCTAssertEqual(try bits(h, "x ^ 3"), "-0 -inf 64 inf")
    }

    /// Out-of-range positions given to t:index and t[i64 tensor] are errors that name the
    /// tensor's shape (numpy: np.take(np.zeros((2, 3)), [3], axis=1) raises IndexError).
    func testIndexErrorsNameTheShape() throws {
        let h = try LuaHarness()
        try h.run("a = tensor.zeros{2, 3}")
        let e1 = try XCTUnwrap(h.error("return a:index(2, {4})"))
        XCTAssertTrue(e1.contains("shape [2, 3]"), e1)
        XCTAssertTrue(e1.contains("axis 2"), e1)
        let e2 = try XCTUnwrap(h.error("return a:index(-2, {1, -3})"))
        XCTAssertTrue(e2.contains("position -3") && e2.contains("shape [2, 3]"), e2)
        let e3 = try XCTUnwrap(h.error("return a[tensor.from({3}, {dtype = 'i64'})]"))
        XCTAssertTrue(e3.contains("shape [2, 3]"), e3)
    }
}
