import XCTest
@testable import AlignMath

/// Freed blocks of 1 MiB and more go back to `BlockCache` and serve the next tensors of about
/// their size: a reused block is handed out with its old bytes, so everything that promises
/// zeros must still write them.
final class TensorBlockReuseTests: XCTestCase {
    /// Sizes on each side of the cache's thresholds: malloc below 1 MiB, 64 KiB-rounded
    /// cached blocks below 8 MiB (8,000,000 bytes: rl.kl's output over 1e6 tokens), 2 MiB
    /// huge-page blocks above.
    let counts = [100_000, 131_072, 140_000, 1_000_000, 1_048_576, 1_100_000, 2_000_000]

    func testAReusedBlockNeverLeaksOldDataIntoZeros() throws {
        let zeros = calloc(2 * counts.max()! * 8, 1)!
        defer { free(zeros) }
        for n in counts {
            BlockCache.shared.drain()  // blocks other tests left would be taken first
            var pointers = Set<UnsafeMutableRawPointer>()
            for round in 0..<3 {
                do {
                    let dirty = try Tensor.full([n], -7.5)
                    pointers.insert(dirty.storage.base)
                    XCTAssertEqual(try dirty.sum(), -7.5 * Double(n))
                }
                // the same size, a size just smaller (a block serves 4/5 to all of its size), f32
                for (count, dtype) in [(n, DType.f64), (n - n / 8, .f64), (2 * n, .f32)] {
                    let z = try Tensor.zeros([count], dtype: dtype)
                    XCTAssertEqual(try z.min(), 0, "zeros(\(count), \(dtype)) round \(round)")
                    XCTAssertEqual(try z.max(), 0, "zeros(\(count), \(dtype)) round \(round)")
                    let s = TensorStorage(zeroedBytes: count * dtype.size)
                    XCTAssertEqual(memcmp(s.base, zeros, s.byteCount), 0, "TensorStorage(zeroedBytes:) \(count * dtype.size)")
                }
            }
            if n * 8 >= TensorStorage.cachedBlock {
                // twelve blocks asked for, at most two live at once (`z` and `s`): freed blocks
                // came back, and the dirty tensor of each round took one of them
                XCTAssertLessThanOrEqual(pointers.count, 2, "\(n * 8) bytes: freed blocks are reused")
            }
        }
    }

    func testCachedBlocksAreRoundedAndCharged() throws {
        let t = try Tensor.empty([1_000_000], dtype: .f64)  // 8,000,000 bytes: under 8 MiB
        XCTAssertEqual(t.storage.byteCount, 8_000_000)
        XCTAssertEqual(t.storage.heapBytes, 8_060_928, "rounded up to 64 KiB, and charged as such")
        XCTAssertEqual(Int(bitPattern: t.storage.base) % 4096, 0)
        let h = try Tensor.empty([1_048_577], dtype: .f64)  // just over 8 MiB: 2 MiB blocks
        XCTAssertEqual(h.storage.heapBytes, 10 << 20)
        XCTAssertEqual(Int(bitPattern: h.storage.base) % (2 << 20), 0)
        let small = try Tensor.empty([100_000], dtype: .f64)
        XCTAssertEqual(small.storage.heapBytes, 800_000)
    }
}
