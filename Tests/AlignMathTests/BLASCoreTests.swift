import XCTest
import AlignMath
import AlignMathC
import COpenBLAS

/// OpenBLAS's kernels for this CPU. Debian 12's OpenBLAS 0.3.21 does not know an Emerald
/// Rapids Xeon (family 6, model 207) and ran Prescott's SSE3 kernels there: a [1024, 1024]
/// matmul took 66 ms in f64 where numpy (OpenBLAS 0.3.31, which knows it) takes 16.
final class BLASCoreTests: XCTestCase {
    func testOnlyAFallbackCoreIsReplaced() {
        XCTAssertEqual(am_blas_better_core("Prescott", 1, 1).map { String(cString: $0) }, "SkylakeX")
        XCTAssertEqual(am_blas_better_core("PRESCOTT", 0, 1).map { String(cString: $0) }, "Haswell")
        XCTAssertEqual(am_blas_better_core("SandyBridge", 0, 1).map { String(cString: $0) }, "Haswell")
        XCTAssertEqual(am_blas_better_core("Nehalem", 1, 1).map { String(cString: $0) }, "SkylakeX")
        XCTAssertNil(am_blas_better_core("Prescott", 0, 0), "an SSE3 CPU keeps the SSE3 kernels")
        XCTAssertNil(am_blas_better_core("Haswell", 1, 1), "a core OpenBLAS chose knowingly stays")
        XCTAssertNil(am_blas_better_core("Zen", 1, 1))
        XCTAssertNil(am_blas_better_core("SkylakeX", 1, 1))
        XCTAssertNil(am_blas_better_core("Cooperlake", 1, 1))
    }

    /// The CPU's flags as the kernel reports them (the way a user would check).
    private func cpuFlags() -> Set<Substring> {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return [] }
        return Set(line.split(separator: " "))
    }

    func testOpenBLASRunsKernelsAsWideAsTheCPU() throws {
        #if arch(x86_64)
        try XCTSkipIf(ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] != nil, "the user chose the core")
        AlignMath.prepareBLAS()
        let core = String(cString: openblas_get_corename()).lowercased()
        let flags = cpuFlags()
        let generic: Set<String> = ["katmai", "coppermine", "northwood", "prescott", "banias", "atom", "core2",
                                    "penryn", "dunnington", "nehalem", "nano", "sandybridge"]
        if flags.contains("avx2") && flags.contains("fma") {
            XCTAssertFalse(generic.contains(core), "an AVX2 CPU on OpenBLAS's \(core) kernels")
        }
        // and the products still agree with a plain sum (the switch kept a working library)
        let a = try Tensor((0..<64 * 48).map { Double($0 % 17) - 8 }, shape: [64, 48])
        let b = try Tensor((0..<48 * 40).map { Double($0 % 13) - 6 }, shape: [48, 40])
        let c = try Tensor.matmul(a, b)
        for (i, j) in [(0, 0), (17, 23), (63, 39)] {
            let want = (0..<48).reduce(0.0) { $0 + a[flat: i * 48 + $1] * b[flat: $1 * 40 + j] }
            XCTAssertEqual(c[flat: i * 40 + j], want)
        }
        #endif
    }
}
