import XCTest
import AlignMath
import COpenBLAS

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
///
/// The bits are a BLAS kernel's, and OpenBLAS picks its kernels by CPU: the numpy values
/// were taken where it picks Haswell's (AVX2). On another core (SkylakeX on an AVX-512 CPU)
/// Debian's OpenBLAS 0.3.21 gives other last bits, and so does numpy's bundled 0.3.31, not
/// always the same ones. There each product must be the bits of the routine numpy calls,
/// called as numpy calls it (a gemm in its place still differs).
final class TensorMatmulVectorTests: XCTestCase {
    /// Whether OpenBLAS runs the kernels the numpy values came from.
    private var kernelsAreTheFixtures: Bool { String(cString: openblas_get_corename()).lowercased() == "haswell" }

    /// numpy's bits where the kernels are the fixtures', else those of `routine` (the BLAS
    /// call numpy makes, as matmul.c.src makes it).
    private func expect(_ got: [String], numpy: [String], routine: () -> [String],
                        file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got, kernelsAreTheFixtures ? numpy : routine(),
                       "OpenBLAS core \(String(cString: openblas_get_corename()))", file: file, line: line)
    }

    private func hexes(_ v: [Double]) -> [String] { v.map { String(format: "%a", $0) } }

    private func f(_ n: Int, _ mod: Int, _ off: Int) -> [Double] {
        (0..<n).map { i in (Double((i * 7919 + off) % mod) / 7 - 70) / 10 }
    }

    private func hex(_ t: Tensor) -> [String] { (0..<t.count).map { String(format: "%a", t[flat: $0]) } }

    func testVectorProductsAreNumpys() throws {
        let av = f(150, 1009, 0), xv = f(50, 997, 5), yv = f(3, 991, 11)
        let a = try Tensor(av, shape: [3, 50])
        let x = try Tensor(xv), y = try Tensor(yv)
        // A row-major [3, 50] is numpy's column-major gemv, transposed, of lda 50
        func gemv(_ order: CBLAS_ORDER, _ m: [Double], _ ld: Int32, _ k: Int32, _ rows: Int32, _ v: [Double]) -> [String] {
            var out = [Double](repeating: 0, count: Int(rows))
            cblas_dgemv(order, CblasTrans, k, rows, 1, m, ld, v, 1, 0, &out, 1)
            return hexes(out)
        }
        expect(hex(try Tensor.matmul(a, x)), numpy: ["-0x1.c470d956b9ffp+2", "0x1.1fbdf6630e6b6p+6", "-0x1.3756ef7d98c3ap+6"]) {
            gemv(CblasColMajor, av, 50, 50, 3, xv)
        }
        // the same matrix stored column by column (a transposed view): numpy's row-major gemv
        let columns = try a.transpose(0, 1).contiguous().transpose(0, 1)
        let columnMajor = (0..<150).map { i in av[(i % 3) * 50 + i / 3] }
        expect(hex(try Tensor.matmul(columns, x)), numpy: ["-0x1.c470d956ba00bp+2", "0x1.1fbdf6630e6b8p+6", "-0x1.3756ef7d98c39p+6"]) {
            gemv(CblasRowMajor, columnMajor, 3, 50, 3, xv)
        }
        // y · A: A's columns are strided by 50, read as a row-major transposed gemv
        let yA = { Array(gemv(CblasRowMajor, av, 50, 3, 50, yv).prefix(4)) }
        expect(Array(hex(try Tensor.matmul(y, a)).prefix(4)),
               numpy: ["0x1.6971e4d528c05p+6", "0x1.9fb6706e5759cp+2", "0x1.543c2fa5b8876p+4", "-0x1.01d130463796ap+6"], routine: yA)
        // [1, 3] · [3, 50]: the same row, a 2-d result
        expect(Array(hex(try Tensor.matmul(try y.unsqueeze(0), a)).prefix(2)), numpy: ["0x1.6971e4d528c05p+6", "0x1.9fb6706e5759cp+2"]) {
            Array(yA().prefix(2))
        }
        expect(hex(try Tensor.matmul(x, x)), numpy: ["0x1.954876b34df3p+9"]) { hexes([0 + cblas_ddot(50, xv, 1, xv, 1)]) }
        let a32 = a.converted(to: .f32), x32 = x.converted(to: .f32)
        let ax32 = try Tensor.matmul(a32, x32)
        let bits32 = (0..<3).map { String(Float(ax32[flat: $0]).bitPattern, radix: 16) }
        expect(bits32, numpy: ["c0e23890", "428fdef9", "c29bab77"]) {
            let m = av.map(Float.init), v = xv.map(Float.init)
            var out = [Float](repeating: 0, count: 3)
            cblas_sgemv(CblasColMajor, CblasTrans, 50, 3, 1, m, 50, v, 1, 0, &out, 1)
            return out.map { String($0.bitPattern, radix: 16) }
        }
        expect([String(Float(try Tensor.matmul(x32, x32)[flat: 0]).bitPattern, radix: 16)], numpy: ["444aa43b"]) {
            let v = xv.map(Float.init)
            return [String(Float(0 + Double(cblas_sdot(50, v, 1, v, 1))).bitPattern, radix: 16)]
        }
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
        let av = f(200, 1009, 3)
        let syrk = { () -> [String] in
            var c = [Double](repeating: 0, count: 25)
            cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, 5, 40, 1, av, 40, 0, &c, 5)
            for i in 0..<5 { for j in i..<5 { c[j * 5 + i] = c[i * 5 + j] } }
            return self.hexes(c)
        }
        expect(hex(try Tensor.matmul(a, try a.transpose(0, 1))), numpy: want, routine: syrk)
        // Aᵀ·A of the transposed view: the same product, syrk reading it transposed
        let at = try a.transpose(0, 1).contiguous()
        expect(hex(try Tensor.matmul(try at.transpose(0, 1), at)), numpy: want, routine: syrk)
        // a copy of A on one side is two matrices: gemm, still the right values
        let g = try Tensor.matmul(a, try a.transpose(0, 1).contiguous())
        for i in 0..<25 { XCTAssertEqual(g[flat: i], Double(want[i])!, accuracy: 1e-9) }
    }
}
