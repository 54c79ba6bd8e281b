import XCTest
import AlignMath

/// Matrix-vector, vector-matrix and vector-vector products with numpy's bits: numpy's matmul
/// calls BLAS's dot and gemv for them (numpy/_core/src/umath/matmul.c.src), and a gemm with a
/// size-1 side adds in another order (old: A·x gave -0x1.c470d956b9fddp+2 where numpy gives
/// ...9ff0p+2). Values from numpy 2.4.6, by hand, with
///
///     def f(n, mod, off): i = np.arange(n); return ((i * 7919 + off) % mod) / 7 - 70
///     A = f(150, 1009, 0).reshape(3, 50) / 10; x = f(50, 997, 5) / 10; y = f(3, 991, 11) / 10
///     A @ x, np.ascontiguousarray(A.T).T @ x, (y @ A)[:4], x @ x, and in float32
///     A.astype(np.float32) @ x.astype(np.float32), x32 @ x32
/// Found by Tests/Differential/acceptance_tensor.py.
final class TensorMatmulVectorTests: XCTestCase {
    private func f(_ n: Int, _ mod: Int, _ off: Int) -> [Double] {
        (0..<n).map { i in (Double((i * 7919 + off) % mod) / 7 - 70) / 10 }
    }

    private func hex(_ t: Tensor) -> [String] { (0..<t.count).map { String(format: "%a", t[flat: $0]) } }

    func testVectorProductsAreNumpys() throws {
        let a = try Tensor(f(150, 1009, 0), shape: [3, 50])
        let x = try Tensor(f(50, 997, 5)), y = try Tensor(f(3, 991, 11))
        XCTAssertEqual(hex(try Tensor.matmul(a, x)), ["-0x1.c470d956b9ffp+2", "0x1.1fbdf6630e6b6p+6", "-0x1.3756ef7d98c3ap+6"])
        // the same matrix stored column by column (a transposed view): numpy's row-major gemv
        let columns = try a.transpose(0, 1).contiguous().transpose(0, 1)
        XCTAssertEqual(hex(try Tensor.matmul(columns, x)), ["-0x1.c470d956ba00bp+2", "0x1.1fbdf6630e6b8p+6", "-0x1.3756ef7d98c39p+6"])
        XCTAssertEqual(Array(hex(try Tensor.matmul(y, a)).prefix(4)),
                       ["0x1.6971e4d528c05p+6", "0x1.9fb6706e5759cp+2", "0x1.543c2fa5b8876p+4", "-0x1.01d130463796ap+6"])
        // [1, 3] · [3, 50]: the same row, a 2-d result
        XCTAssertEqual(Array(hex(try Tensor.matmul(try y.unsqueeze(0), a)).prefix(2)), ["0x1.6971e4d528c05p+6", "0x1.9fb6706e5759cp+2"])
        XCTAssertEqual(hex(try Tensor.matmul(x, x)), ["0x1.954876b34df3p+9"])
        let a32 = a.converted(to: .f32), x32 = x.converted(to: .f32)
        let ax32 = try Tensor.matmul(a32, x32)
        XCTAssertEqual((0..<3).map { Float(ax32[flat: $0]).bitPattern }, [0xc0e2_3890, 0x428f_def9, 0xc29b_ab77])
        XCTAssertEqual(Float(try Tensor.matmul(x32, x32)[flat: 0]).bitPattern, 0x444a_a43b)
    }

    /// numpy calls syrk for a matrix times its own transpose and copies the upper triangle
    /// down (matmul.c.src), so its product is exactly symmetric and not gemm's: with
    /// A = f(200, 1009, 3).reshape(5, 40) / 10, A @ A.T (numpy 2.4.6) is the 25 values below;
    /// gemm (the old path) differed in 2 of them. (Past small sizes numpy's bundled OpenBLAS
    /// 0.3.31 and Debian's 0.3.21 pick other syrk kernels for f32: not the same bits.)
    func testMatrixTimesItsTransposeIsNumpysSyrk() throws {
        let a = try Tensor(f(200, 1009, 3), shape: [5, 40])
        let want = ["0x1.62db1d7753cd1p+9", "0x1.a5188e1b2ad73p+8", "0x1.5fdb8876b34ep+7", "0x1.2eb6a5ee071b1p+5",
                    "-0x1.f6503f87a0b48p+6", "0x1.a5188e1b2ad73p+8", "0x1.62e7bb7466d16p+9", "0x1.a2a8a58307bb6p+8",
                    "0x1.f059c1b95d6ap+7", "0x1.362fa5b8876b1p+5", "0x1.5fdb8876b34ep+7", "0x1.a2a8a58307bb6p+8",
                    "0x1.606b34df30b13p+9", "0x1.f5f5cfef4819p+8", "0x1.ed25b8876b35p+7", "0x1.2eb6a5ee071b1p+5",
                    "0x1.f059c1b95d6ap+7", "0x1.f5f5cfef4819p+8", "0x1.5be9536202ecfp+9", "0x1.980addefb3188p+8",
                    "-0x1.f6503f87a0b48p+6", "0x1.362fa5b8876b1p+5", "0x1.ed25b8876b35p+7", "0x1.980addefb3188p+8",
                    "0x1.5ccbd55e3ff2ap+9"]
        XCTAssertEqual(hex(try Tensor.matmul(a, try a.transpose(0, 1))), want)
        // Aᵀ·A of the transposed view: the same product, syrk reading it transposed
        let at = try a.transpose(0, 1).contiguous()
        XCTAssertEqual(hex(try Tensor.matmul(try at.transpose(0, 1), at)), want)
        // a copy of A on one side is two matrices: gemm, still the right values
        let g = try Tensor.matmul(a, try a.transpose(0, 1).contiguous())
        for i in 0..<25 { XCTAssertEqual(g[flat: i], Double(want[i])!, accuracy: 1e-9) }
    }
}
