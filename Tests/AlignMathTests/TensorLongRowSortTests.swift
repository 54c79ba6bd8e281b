import XCTest
import AlignMathC
@testable import AlignMath

/// The radix sorts of alignmath_sort.h (a long row on all the cores: `sortLongRow`; shorter
/// rows as one bucket each: `am_sort_row`) give torch's stable order (the same values and
/// positions for ties, -0.0 beside 0.0, NaN last ascending and first descending), in every
/// dtype and both directions, on rows that take each of their ways: buckets that pack key
/// and position into one word, a bucket of one repeated key, a bucket too big to pack, and
/// short rows with and without ties.
final class TensorLongRowSortTests: XCTestCase {
    private var state: UInt64 = 12345
    private func next() -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return state >> 11
    }

    func testSplitRowSortsAsTheRowPath() throws {
        let n = RadixSort.splitAbove * 3 + 5
        var v = [Double](repeating: 0, count: n)
        for i in 0..<n { v[i] = Double(Int64(bitPattern: next()) % 20000) / 100 - 100 }  // many ties
        for i in stride(from: 3, to: n, by: 101) { v[i] = -0.0 }
        for i in stride(from: 5, to: n, by: 997) { v[i] = .nan }
        v[11] = .infinity; v[13] = -.infinity
        try checkAgainstReference(v)
    }

    /// Full 52-bit mantissas of both signs (the benchmark's N(0, 1) row): every bucket packs.
    func testContinuousValues() throws {
        let n = 140_001
        var v = [Double](repeating: 0, count: n)
        for i in 0..<n {
            let u = (Double(next()) + 0.5) / 9007199254740992.0, w = Double(next()) / 9007199254740992.0
            v[i] = (-2 * Foundation.log(u)).squareRoot() * Foundation.cos(2 * Double.pi * w)
        }
        v[17] = -0.0; v[19] = 0.0; v[23] = .nan
        try checkAgainstReference(v)
    }

    /// 100,000 copies of one value (a bucket of equal keys too big to pack) and 150,000
    /// values within 2^-20 of 1 beside two huge outliers (one digit of the plan holds them
    /// all, their keys differ: the (key, position) MSD way).
    func testBucketsThatDoNotPack() throws {
        var v = [Double](repeating: 0.25, count: 100_000)
        for _ in 0..<150_000 { v.append(1 + Double(next() % (1 << 30)) * 0x1p-50) }
        v.append(-1e300); v.append(1e300)
        for i in stride(from: 0, to: v.count, by: 7) { v.swapAt(i, Int(next() % UInt64(v.count))) }
        try checkAgainstReference(v)
    }

    /// Rows of 49 to 5,000 (one bucket each, `am_sort_row`): many rows of each length, of
    /// continuous values, of ties, and with NaN, ±0 and ±inf.
    func testShorterRows() throws {
        for n in [49, 50, 100, 1000, 5000] {
            var v = [Double](repeating: 0, count: 8 * n)
            for i in v.indices {
                switch i % 3 {
                case 0: v[i] = Double(Int64(bitPattern: next()) % 7)
                default: v[i] = (Double(next()) / 9007199254740992.0 - 0.5) * 1e3
                }
            }
            for i in stride(from: 5, to: v.count, by: 37) { v[i] = [.nan, -0.0, 0.0, .infinity, -.infinity][i % 5] }
            try checkAgainstReference(v, rows: 8)
        }
    }

    /// Rows of 1 to 128 (`am_sort_rows` by rank: 8 or 16 elements a vector step, so every
    /// remainder) and of 129 to 2,000 (by value buckets), in f64, f32 and i64, both
    /// directions, against a reference that compares values, not keys.
    func testRowsByRankAndByBuckets() throws {
        for n in [1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 48, 49, 50, 63, 64, 65, 100, 127, 128,
                  129, 130, 200, 257, 500, 1001, 2000] {
            let rows = n < 50 ? 23 : 5
            var v = [Double](repeating: 0, count: rows * n)
            for i in v.indices {
                switch next() % 4 {
                case 0: v[i] = Double(Int64(bitPattern: next()) % 5)  // ties
                case 1: v[i] = [.nan, -0.0, 0.0, .infinity, -.infinity][Int(next() % 5)]
                default: v[i] = (Double(next()) / 9007199254740992.0 - 0.5) * 10
                }
            }
            try checkByValue(v, rows: rows, n: n)
        }
    }

    /// The by-bucket rows' other ways: every value in one bucket but an outlier (the bucket
    /// sorted by sortlong.c), a range that overflows (-1e308 and 1e308: the bucket-per-row
    /// sort), no finite value, all equal, i64 over its whole range, N(0, 1)-like values.
    func testBucketRowsEdgeCases() throws {
        let n = 700
        var rows: [[Double]] = []
        rows.append((0..<n).map { $0 == 3 ? 1e30 : 1 + Double(next() % 1000) * 1e-12 })
        rows.append((0..<n).map { $0 == 5 ? -1e308 : ($0 == 9 ? 1e308 : Double(next() % 50)) })
        rows.append((0..<n).map { [.nan, .infinity, -.infinity, .nan][$0 % 4] })
        rows.append([Double](repeating: 2.5, count: n))
        rows.append((0..<n).map { _ in
            let u = (Double(next()) + 0.5) / 9007199254740992.0, w = Double(next()) / 9007199254740992.0
            return (-2 * Foundation.log(u)).squareRoot() * Foundation.cos(2 * Double.pi * w)
        })
        try checkByValue(rows.flatMap { $0 }, rows: rows.count, n: n)
        // i64: the extremes of the range, and a narrow range with ties
        var ints: [Int64] = (0..<n).map { _ in Int64(bitPattern: next() << 11 | next()) }
        ints[0] = .min; ints[1] = .max; ints[2] = .min; ints[7] = .max
        ints += (0..<n).map { _ in Int64(next() % 300) - 150 }
        let t = try Tensor(elements: ints, shape: [2, n])
        for descending in [false, true] {
            let (sv, sp) = try t.sort(axis: -1, descending: descending)
            let p = sp.toInt64s(), values = sv.toInt64s()
            XCTAssertEqual(try t.argsort(axis: -1, descending: descending).toInt64s(), p)
            for r in 0..<2 {
                let row = Array(ints[r * n..<(r + 1) * n])
                let expected = row.indices.sorted { a, b in
                    row[a] != row[b] ? (descending ? row[a] > row[b] : row[a] < row[b]) : a < b
                }
                XCTAssertEqual(p[r * n..<(r + 1) * n].map { Int($0) }, expected, "i64 row \(r) descending \(descending)")
                XCTAssertEqual(Array(values[r * n..<(r + 1) * n]), expected.map { row[$0] })
            }
        }
    }

    /// sortsimd.c's AVX-512 way (`am_sort_rows` and the f32 rows of 768 and more where the
    /// CPU has it; skipped where not): every size of the register network (1-64 words, the
    /// columns-then-transpose start from 33), quicksorts of 65 words up to 65,535, rows whose
    /// keys lose low bits in the word (±1e300 beside values 2^-52 apart: the insertion pass),
    /// ties, NaN, ±inf, ±0, i64 over its whole range, a repeated value.
    func testAVX512Way() throws {
        try XCTSkipUnless(am_sort_simd_active() != 0, "this CPU has no AVX-512: am_sort_rows takes the rank and bucket ways")
        for n in [1, 2, 3, 7, 8, 9, 16, 17, 31, 32, 33, 50, 63, 64, 65, 100, 128, 129, 200, 500, 777, 1000, 4099] {
            let rows = n < 100 ? 9 : 3
            var v = [Double](repeating: 0, count: rows * n)
            for i in v.indices {
                switch next() % 5 {
                case 0: v[i] = Double(Int64(bitPattern: next()) % 5)
                case 1: v[i] = [.nan, -0.0, 0.0, .infinity, -.infinity][Int(next() % 5)]
                case 2: v[i] = 1 + Double(next() % 64) * 0x1p-52  // equal above the bits a word drops
                default: v[i] = (Double(next()) / 9007199254740992.0 - 0.5) * 10
                }
            }
            v[0] = 1e300
            if n > 1 { v[1] = -1e300 }
            try checkByValue(v, rows: rows, n: n)
        }
        for n in [9, 50, 300, 5000] {
            // only the dropped bits differ (every adjacent pair suspect), and a repeated value
            var close = (0..<(2 * n)).map { _ in 1 + Double(next() % 200) * 0x1p-52 }
            close[0] = 1e300; close[1] = -1e300
            for j in n..<(2 * n) { close[j] = 3.5 }
            try checkByValue(close, rows: 2, n: n)
        }
        try checkByValue((0..<65_535).map { _ in (Double(next()) / 9007199254740992.0 - 0.5) * 1e6 }, rows: 1, n: 65_535)
        // f32 rows by 32-bit words: every size of the 16-lane network (up to 256 words, the
        // columns-then-transpose start from 129; 449 to 512 two of 256 merged, whole rows and
        // the quicksort's segments), the top bits of the keys up to 1,024, slots
        // linear in the value from 1,025 to 16,384, 64-bit words from 16,385; runs of equal
        // slots (values 2^-23 apart, and everything but an outlier in a few slots: runs longer
        // than 16 and than 128 sorted as 64-bit words)
        for n in [129, 130, 160, 192, 200, 240, 255, 256, 257, 448, 449, 500, 511, 512, 513, 900, 1024, 1025, 2000,
                  3333, 8192, 16384, 16385] {
            var v = [Double](repeating: 0, count: 2 * n)
            for i in v.indices {
                switch next() % 5 {
                case 0: v[i] = Double(Int64(bitPattern: next()) % 5)
                case 1: v[i] = [.nan, -0.0, 0.0, .infinity, -.infinity][Int(next() % 5)]
                case 2: v[i] = 1 + Double(next() % 64) * 0x1p-23
                default: v[i] = (Double(next()) / 9007199254740992.0 - 0.5) * 10
                }
            }
            try checkByValue(v, rows: 2, n: n)
            var outlier = (0..<(2 * n)).map { _ in Double(next() % 100_000) / 100_000 }
            outlier[3] = 1e30
            outlier[n + 1] = -1e30
            for j in stride(from: n + 5, to: 2 * n, by: 7) { outlier[j] = 0.5 + Double(next() % 9) * 0x1p-24 }
            try checkByValue(outlier, rows: 2, n: n)
        }
        // i64: both ends of the range (a word shift of 8 bits) and a narrow range (no shift)
        let n = 300
        var ints: [Int64] = (0..<n).map { _ in Int64(bitPattern: next() << 11 | next()) }
        ints[0] = .min; ints[1] = .max; ints[2] = .min; ints[3] = .max; ints[4] = .min + 1
        for j in stride(from: 5, to: n, by: 3) { ints[j] = ints[j - 1] ^ 1 }  // differ in the lowest bit
        ints += (0..<n).map { _ in Int64(next() % 30) - 15 }
        let t = try Tensor(elements: ints, shape: [2, n])
        for descending in [false, true] {
            let (sv, sp) = try t.sort(axis: -1, descending: descending, positionBase: 1)
            let p = sp.toInt64s(), values = sv.toInt64s()
            for r in 0..<2 {
                let row = Array(ints[r * n..<(r + 1) * n])
                let expected = row.indices.sorted { a, b in
                    row[a] != row[b] ? (descending ? row[a] > row[b] : row[a] < row[b]) : a < b
                }
                XCTAssertEqual(p[r * n..<(r + 1) * n].map { Int($0) - 1 }, expected, "i64 row \(r) descending \(descending)")
                XCTAssertEqual(Array(values[r * n..<(r + 1) * n]), expected.map { row[$0] })
            }
        }
    }

    /// Outputs of 256k elements and more a call go out by streaming stores where they fill
    /// whole 64-byte lines (sortsimd.c); `Tensor.sort` splits a tensor into 8 calls, so a
    /// tensor this size takes the ordinary stores there. One `am_sort_rows` call over all the
    /// rows (streamed) against `Tensor.sort` (not streamed; held to a reference by value by
    /// the tests above, here on a few rows too): rows of odd length, so rows start anywhere
    /// in a line; f32 by 32-bit words (top key bits, and slots from 1,025), f64 and i64 by
    /// 64-bit words; positions from 1.
    func testStreamedOutputs() throws {
        try XCTSkipUnless(am_sort_simd_active() != 0, "this CPU has no AVX-512")
        for (rows, n) in [(900, 333), (140, 2_049)] {
            var v = [Double](repeating: 0, count: rows * n)
            for i in v.indices {
                switch next() % 6 {
                case 0: v[i] = Double(Int64(bitPattern: next()) % 5)
                case 1: v[i] = [.nan, -0.0, 0.0, .infinity, -.infinity][Int(next() % 5)]
                default: v[i] = (Double(next()) / 9007199254740992.0 - 0.5) * 10
                }
            }
            XCTAssertGreaterThanOrEqual(rows * n, 1 << 18)
            try checkByValue(Array(v[0..<(3 * n)]), rows: 3, n: n)
            for (dt, kind) in [(DType.f32, AM_SORT_F32), (.f64, AM_SORT_F64), (.i64, AM_SORT_I64)] {
                let t = try Tensor(v.map { dt == .i64 ? ($0.isFinite ? $0.rounded(.down) : 7) : $0 }, shape: [rows, n], dtype: dt)
                for descending in [false, true] {
                    let (sv, sp) = try t.sort(axis: -1, descending: descending, positionBase: 1)
                    let width = dt == .f32 ? 4 : 8
                    var positions = [Int64](repeating: -1, count: rows * n)
                    var values = [UInt8](repeating: 0, count: rows * n * width)
                    var scratch = [UInt8](repeating: 0, count: am_sort_rows_scratch(n))
                    let src: UnsafeRawPointer = dt == .f32 ? UnsafeRawPointer(t.pointer(Float.self))
                        : dt == .f64 ? UnsafeRawPointer(t.pointer(Double.self)) : UnsafeRawPointer(t.pointer(Int64.self))
                    positions.withUnsafeMutableBufferPointer { p in
                        values.withUnsafeMutableBytes { vb in
                            scratch.withUnsafeMutableBytes { sb in
                                am_sort_rows(src, Int32(kind), descending ? 1 : 0, n, 0, rows, sb.baseAddress, p.baseAddress, vb.baseAddress, 1)
                            }
                        }
                    }
                    XCTAssert(positions == sp.toInt64s(), "\(dt) [\(rows), \(n)] descending \(descending): positions")
                    let expected: [UInt8]
                    switch dt {
                    case .f32: expected = Array(UnsafeRawBufferPointer(start: sv.pointer(Float.self), count: rows * n * 4))
                    case .f64: expected = Array(UnsafeRawBufferPointer(start: sv.pointer(Double.self), count: rows * n * 8))
                    default: expected = Array(UnsafeRawBufferPointer(start: sv.pointer(Int64.self), count: rows * n * 8))
                    }
                    XCTAssert(values == expected, "\(dt) [\(rows), \(n)] descending \(descending): values")
                }
            }
        }
    }

    /// Rows that make the quicksorts of sortsimd.c pick a bad pivot every time (each
    /// partition sets apart only the samples below the median sample), so that they run out
    /// of levels and sort the rest by heapsort: 32-bit words (f32, 16 samples, segments of
    /// 256 to the network, of 449 to 512 too: reached only after the levels run out here) and
    /// 64-bit words (f64 and i64, 8 samples, segments of 128).
    func testQuicksortHeapsortFallback() throws {
        try XCTSkipUnless(am_sort_simd_active() != 0, "this CPU has no AVX-512")
        for n in [1000, 3000] {
            for (lanes, base) in [(16, 256), (8, 128)] {
                let killer = badPivotRow(n: n, lanes: lanes, base: base)
                try checkByValue(killer, rows: 1, n: n)
                try checkByValue(killer.map { -$0 }, rows: 1, n: n)
            }
        }
    }

    /// The row (values: distinct ranks) for which sortsimd.c's quicksort of `lanes` words a
    /// register, sampling `lanes` words at lo + m (2i + 1) / (2 lanes) and partitioning by the
    /// sample of rank lanes / 2 (chunks of `lanes`: those below to the left in order, the rest
    /// from the right end), sets apart only the samples below the pivot at every level: the
    /// ranks are handed out as the simulated partitions need them (McIlroy's adversary).
    private func badPivotRow(n: Int, lanes: Int, base: Int) -> [Double] {
        var rank = [Int](repeating: -1, count: n), given = 0
        var cur = Array(0..<n), other = Array(0..<n)
        var lo = 0, hi = n
        while hi - lo > base {
            let m = hi - lo
            let samples = (0..<lanes).map { cur[lo + m * (2 * $0 + 1) / (2 * lanes)] }
            // ranked samples are the smallest; rank unranked ones up to lanes / 2 below the
            // pivot, then the pivot itself (the smallest of the unranked that stay)
            var below = samples.filter { rank[$0] >= 0 }.count
            for e in samples where rank[e] < 0 && below < lanes / 2 {
                rank[e] = given; given += 1; below += 1
            }
            if let e = samples.first(where: { rank[$0] < 0 }) { rank[e] = given; given += 1 }
            let ranked = samples.map { rank[$0] < 0 ? Int.max : rank[$0] }.sorted()  // unranked: above all
            let pivot = ranked[lanes / 2]
            var L = lo, R = hi
            for i in stride(from: lo, to: hi, by: lanes) {
                let chunk = cur[i..<min(i + lanes, hi)]
                let left = chunk.filter { rank[$0] >= 0 && rank[$0] < pivot }
                let right = chunk.filter { !(rank[$0] >= 0 && rank[$0] < pivot) }
                for (k, e) in left.enumerated() { other[L + k] = e }
                L += left.count
                R -= right.count
                for (k, e) in right.enumerated() { other[R + k] = e }
            }
            swap(&cur, &other)
            if L - lo < hi - L { lo = L } else { hi = L }
        }
        for e in 0..<n where rank[e] < 0 { rank[e] = given; given += 1 }
        return rank.map { Double($0) }
    }

    /// The ways of CPUs without AVX-512 (sortsimd.c switched off: rank up to 128, value
    /// buckets above, the f32 LSD from 768) on the rows of `testRowsByRankAndByBuckets`.
    func testWithoutAVX512() throws {
        am_sort_simd_enable(0)
        defer { am_sort_simd_enable(1) }
        XCTAssertEqual(am_sort_simd_active(), 0)
        for n in [1, 5, 8, 17, 50, 64, 128, 129, 500, 1000] {
            let rows = n < 50 ? 11 : 3
            var v = [Double](repeating: 0, count: rows * n)
            for i in v.indices {
                switch next() % 4 {
                case 0: v[i] = Double(Int64(bitPattern: next()) % 5)
                case 1: v[i] = [.nan, -0.0, 0.0, .infinity, -.infinity][Int(next() % 5)]
                default: v[i] = (Double(next()) / 9007199254740992.0 - 0.5) * 10
                }
            }
            try checkByValue(v, rows: rows, n: n)
        }
    }

    /// Long rows (`sortLongRow`) by both ways of sorting a bucket: sortsimd.c's AVX-512
    /// quicksort of the packed words (where the CPU has it) and the LSD radix (switched off),
    /// against the by-value reference: ties, NaNs of several payloads and both signs, ±0,
    /// ±inf, subnormals, keys that differ only in their lowest bit (a bucket must keep every
    /// varying bit), continuous values; rows of odd length after the first, so the scatter's
    /// keys (in the output positions) start off the 16-byte boundary its streaming stores need.
    func testLongRowsBothWays() throws {
        let n = RadixSort.splitAbove + 4_321, rows = 3
        var v = [Double](repeating: 0, count: rows * n)
        let nans = [Double.nan, -Double.nan, Double(nan: 5, signaling: false), -Double(nan: 77, signaling: false)]
        for i in v.indices {
            switch next() % 8 {
            case 0: v[i] = Double(Int64(bitPattern: next()) % 9) - 4  // ties
            case 1: v[i] = [nans[Int(next() % 4)], -0.0, 0.0, .infinity, -.infinity][Int(next() % 5)]
            case 2: v[i] = 1 + Double(next() % 64) * 0x1p-52  // differ in the lowest bits only
            case 3: v[i] = Double(bitPattern: next() % 1000) * (next() % 2 == 0 ? 1 : -1)  // subnormals
            default:
                let u = (Double(next()) + 0.5) / 9007199254740992.0, w = Double(next()) / 9007199254740992.0
                v[i] = (-2 * Foundation.log(u)).squareRoot() * Foundation.cos(2 * Double.pi * w)
            }
        }
        // a continuous row of N(0, 1) values only (the benchmark's: every bucket packs)
        for i in 0..<n {
            let u = (Double(next()) + 0.5) / 9007199254740992.0, w = Double(next()) / 9007199254740992.0
            v[n + i] = (-2 * Foundation.log(u)).squareRoot() * Foundation.cos(2 * Double.pi * w)
        }
        v[n + 5] = -0.0; v[n + 6] = 0.0; v[n + 7] = -Double.nan; v[n + 8] = Double(nan: 9, signaling: false)
        for simd: Int32 in [1, 0] {
            am_sort_simd_enable(simd)
            defer { am_sort_simd_enable(1) }
            try checkByValue(v, rows: rows, n: n)
            // Lua's positions from 1 (written by the buckets, the values' zeros and NaNs
            // read back from the row by them)
            for dt in [DType.f64, .f32] {
                let t = try Tensor(v, shape: [rows, n], dtype: dt)
                let (v0, p0) = try t.sort(axis: -1)
                let (v1, p1) = try t.sort(axis: -1, positionBase: 1)
                // (no whole rows in the messages: they would bury the failure)
                XCTAssert(p1.toInt64s() == p0.toInt64s().map { $0 + 1 }, "\(dt) simd \(simd): positions from 1")
                XCTAssert(v1.toDoubles().map(\.bitPattern) == v0.toDoubles().map(\.bitPattern), "\(dt) simd \(simd): values")
            }
        }
    }

    /// Long rows whose keys straddle 2^63 closely (small integers of both signs; subnormals
    /// of both signs in f64): sorted less their smallest key, so the window spreads them over
    /// many buckets instead of two that do not pack. Both ways, by value.
    func testLongRowsStraddlingZero() throws {
        let n = RadixSort.splitAbove + 999
        var v = (0..<n).map { _ in Double(Int64(next() % 10_001) - 5_000) }
        v += (0..<n).map { _ in Double(bitPattern: next() % 4096) * (next() % 2 == 0 ? 1 : -1) }
        v[n + 3] = -0.0; v[n + 4] = 0.0
        for simd: Int32 in [1, 0] {
            am_sort_simd_enable(simd)
            defer { am_sort_simd_enable(1) }
            try checkByValue(v, rows: 2, n: n)
        }
    }

    /// Rows of one sign (`tensor.rand`'s [0, 1)): the window guessed from a sample with 4 bits
    /// to spare holds, and the extremes and histogram come from one pass; with one value far
    /// below the sample's it does not, and the histogram is counted again (2^-768: its
    /// exponent's low 8 bits are all ones, so the guessed window would put it last; and its key
    /// and the largest differ in as many top bits as they are apart, so no offset hides it).
    func testLongRowsOfOneSign() throws {
        let n = RadixSort.splitAbove + 1_234
        var v = (0..<(2 * n)).map { _ in Double(next() >> 1) / 4503599627370496.0 }
        v[n + n / 3] = 0x1p-768
        for simd: Int32 in [1, 0] {
            am_sort_simd_enable(simd)
            defer { am_sort_simd_enable(1) }
            try checkByValue(v, rows: 2, n: n)
        }
    }

    /// `positionBase` (Lua's 1) shifts the positions of every way, values unchanged: rank,
    /// value buckets, a bucket sorted by sortlong.c, the f32 LSD, bool, a long row.
    func testPositionBase() throws {
        for (n, rows) in [(50, 3), (700, 2), (2000, 2), (RadixSort.splitAbove + 3, 1)] {
            var v = (0..<(n * rows)).map { _ in Double(Int64(bitPattern: next()) % 1000) / 7 }
            v[1] = 1e30
            for dt in [DType.f64, .f32, .i64, .bool] {
                let t = try Tensor(v, shape: [rows, n], dtype: dt)
                for descending in [false, true] {
                    let (v0, p0) = try t.sort(axis: -1, descending: descending)
                    let (v1, p1) = try t.sort(axis: -1, descending: descending, positionBase: 1)
                    XCTAssertEqual(p1.toInt64s(), p0.toInt64s().map { $0 + 1 }, "\(dt) n \(n)")
                    XCTAssertEqual(v1.toDoubles().map(\.bitPattern), v0.toDoubles().map(\.bitPattern))
                    XCTAssertEqual(try t.argsort(axis: -1, descending: descending, positionBase: 1).toInt64s(), p1.toInt64s())
                }
            }
        }
    }

    /// torch's stable order by comparing values (NaN above everything, -0.0 equal to 0.0,
    /// ties by position), not by the keys the sorts use.
    private func orderByValue(_ row: [Double], descending: Bool) -> [Int] {
        row.indices.sorted { a, b in
            let x = row[a], y = row[b]
            if x.isNaN || y.isNaN {
                if x.isNaN && y.isNaN { return a < b }
                return descending ? x.isNaN : y.isNaN
            }
            if x != y { return descending ? x > y : x < y }
            return a < b
        }
    }

    private func checkByValue(_ v: [Double], rows: Int, n: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        for dt in [DType.f64, .f32, .i64] {
            let data = v.map { dt == .i64 ? ($0.isFinite ? $0.rounded(.down) : 7) : $0 }
            let t = try Tensor(data, shape: [rows, n], dtype: dt)
            let input = t.toDoubles()  // f32 rounded: the reference orders what the tensor holds
            for descending in [false, true] {
                let (sv, sp) = try t.sort(axis: -1, descending: descending)
                let p = sp.toInt64s(), values = sv.toDoubles()
                XCTAssert(try t.argsort(axis: -1, descending: descending).toInt64s() == p, "\(dt) n \(n) descending \(descending): argsort", file: file, line: line)
                for r in 0..<rows {
                    let row = Array(input[r * n..<(r + 1) * n])
                    let expected = orderByValue(row, descending: descending)
                    if let i = (0..<n).first(where: { Int(p[r * n + $0]) != expected[$0] }) {
                        XCTFail("\(dt) [\(rows), \(n)] descending \(descending): row \(r) position \(i) is \(p[r * n + i]), expected \(expected[i])", file: file, line: line)
                        return
                    }
                    if let i = (0..<n).first(where: { values[r * n + $0].bitPattern != row[expected[$0]].bitPattern }) {
                        XCTFail("\(dt) [\(rows), \(n)] descending \(descending): row \(r) value \(i) is \(values[r * n + i]), expected \(row[expected[i]])", file: file, line: line)
                        return
                    }
                }
            }
        }
    }

    /// The order torch's stable sort gives, worked out independently: Swift's sort of the
    /// positions by (key, position), the keys being `SortKeyed.sortKey` (torch's order, held
    /// to torch by tensor_diff.py).
    private func referenceOrder<T: SortKeyed>(_ row: [T], descending: Bool) -> [Int] {
        let keys = row.map { $0.sortKey(descending: descending) }
        return row.indices.sorted { keys[$0] != keys[$1] ? keys[$0] < keys[$1] : $0 < $1 }
    }

    private func checkAgainstReference(_ v: [Double], rows: Int = 1, file: StaticString = #filePath, line: UInt = #line) throws {
        let n = v.count / rows
        for dt in [DType.f64, .f32, .i64, .bool] {
            let data = v.map { dt == .bool ? ($0 > 0 ? 1 : 0) : ($0.isNaN && dt == .i64 ? 7 : $0) }
            let t = try Tensor(data, shape: [rows, n], dtype: dt)
            for descending in [false, true] {
                let (sv, sp) = try t.sort(axis: -1, descending: descending)
                let p = sp.toDoubles(), values = sv.toDoubles(), input = t.toDoubles()
                XCTAssert(try t.argsort(axis: -1, descending: descending).toDoubles() == p, "\(dt) descending \(descending): argsort", file: file, line: line)
                for r in 0..<rows {
                    let row = Array(input[r * n..<(r + 1) * n])
                    let expected: [Int]
                    switch dt {
                    case .f64: expected = referenceOrder(row, descending: descending)
                    case .f32: expected = referenceOrder(row.map { Float($0) }, descending: descending)
                    case .i64: expected = referenceOrder(row.map { Int64($0) }, descending: descending)
                    case .bool: expected = referenceOrder(row.map { $0 != 0 }, descending: descending)
                    }
                    // the first difference only: a whole row in the message would bury it
                    if let i = (0..<n).first(where: { Int(p[r * n + $0]) != expected[$0] }) {
                        XCTFail("\(dt) [\(rows), \(n)] descending \(descending): row \(r) position \(i) is \(p[r * n + i]), expected \(expected[i])", file: file, line: line)
                        return
                    }
                    if let i = (0..<n).first(where: { values[r * n + $0].bitPattern != row[expected[$0]].bitPattern }) {
                        XCTFail("\(dt) [\(rows), \(n)] descending \(descending): row \(r) value \(i) is \(values[r * n + i]), expected \(row[expected[i]])", file: file, line: line)
                        return
                    }
                }
            }
        }
    }
}
