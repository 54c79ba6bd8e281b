import Synchronization
import XCTest
@testable import AlignMath

/// How often the probe below was asked whether Ctrl-C is pending.
private let probeQueries = Atomic<Int>(0)

/// Issue 10: one BLAS call cannot be stopped, so a large matmul polls Ctrl-C between
/// blocks of rows. Blocks were 2^31 multiply-adds (about a second on the loaded dev box); now
/// 2^29 (40-80 ms), and products up to 2^30 run as one call.
final class MatmulInterruptTests: XCTestCase {
    override func tearDown() { Interruption.install(probe: nil) }

    /// A [2048, 1024]·[1024, 1024] product (2^31 multiply-adds) asks the probe between
    /// blocks of 2^29: at least 4 times (it asked once, at the end, before).
    func testLargeProductPollsCtrlCEveryFewTensOfMilliseconds() throws {
        for dtype in [DType.f64, .f32] {
            probeQueries.store(0, ordering: .relaxed)
            Interruption.install(probe: { probeQueries.add(1, ordering: .relaxed); return 0 })
            let a = try Tensor.full([2048, 1024], 0.5, dtype: dtype), b = try Tensor.full([1024, 1024], 2, dtype: dtype)
            let c = try Tensor.matmul(a, b)
            Interruption.install(probe: nil)
            XCTAssertGreaterThanOrEqual(probeQueries.load(ordering: .relaxed), 4, "\(dtype)")
            XCTAssertEqual(c.shape, [2048, 1024])
            XCTAssertEqual(try c.value(at: 2048 * 1024 - 1), 1024, "\(dtype)")
        }
        XCTAssertEqual(Tensor.rowsPerBlock(m: 2048, n: 1024, k: 1024), 512)
        XCTAssertEqual(Tensor.rowsPerBlock(m: 1024, n: 1024, k: 1024), 1024, "up to 2^30 in one call")
        XCTAssertEqual(Tensor.rowsPerBlock(m: 8, n: 1 << 20, k: 1 << 20), 1, "a row too large for a block runs whole")
        XCTAssertEqual(Tensor.rowsPerBlock(m: 8, n: Int.max, k: 3), 1)
    }

    /// A pending interrupt stops the product between blocks with `interrupted`.
    func testPendingInterruptStopsTheProduct() throws {
        Interruption.install(probe: { 1 })
        let a = try Tensor.full([2048, 1024], 1), b = try Tensor.full([1024, 1024], 1)
        XCTAssertThrowsError(try Tensor.matmul(a, b)) { e in
            guard case AlignMathError.interrupted = e else { return XCTFail("\(e)") }
        }
    }
}
