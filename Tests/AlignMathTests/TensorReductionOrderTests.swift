import XCTest
import AlignMath

/// Reductions added in numpy's order, bit for bit against numpy 2.4.6 (each test says how):
/// f64 rows by pairwise summation at every length (rows past 2,048 elements were summed in 16
/// SIMD lanes per block: the same error, other bits; 4,099 elements gave
/// 0x1.4f5924924924bp+12 where numpy gives ...248p+12), permuted views in memory order,
/// integers cast in numpy's buffers, f32 products in f32. Found by
/// Tests/Differential/acceptance_tensor.py. For the first test, numpy by hand:
///
///     i = np.arange(n); x = ((i * 7919) % 1000) / 7 - 70; y = x.copy(); y[::97] = np.nan
///     x.sum().hex(), x.mean().hex(), np.var(x, ddof=1).hex(), np.std(x, ddof=1).hex(),
///     np.nansum(y).hex(), np.nanmean(y).hex()
final class TensorReductionOrderTests: XCTestCase {
    private func input(_ n: Int, nanEvery: Int? = nil) throws -> Tensor {
        try Tensor((0..<n).map { i in
            if let k = nanEvery, i % k == 0 { return .nan }
            return Double((i * 7919) % 1000) / 7 - 70
        })
    }

    private func assertHex(_ got: Double, _ want: String, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(String(format: "%a", got), want, what, file: file, line: line)
    }

    func testLongF64RowsSumAsNumpy() throws {
        // 4,099: one thread; 300,001: the pairwise tree's subtrees on all cores (2^18 and up)
        let want: [(n: Int, sum: String, mean: String, variance: String, std: String, nansum: String, nanmean: String)] = [
            (4099, "0x1.4f59249249248p+12", "0x1.4f1a4fa35a838p+0", "0x1.a952757583b52p+10", "0x1.49f93224eee58p+5",
             "0x1.699b6db6db6dbp+12", "0x1.6d2c5c9e67705p+0"),
            (300_001, "0x1.8d8836db6db6ep+18", "0x1.5b5e204a2f256p+0", "0x1.a92c83cbba7c3p+10", "0x1.49ea79c9dd929p+5",
             "0x1.8a5e124924924p+18", "0x1.5c31376c8aaaap+0"),
        ]
        for w in want {
            let x = try input(w.n), y = try input(w.n, nanEvery: 97)
            assertHex(try x.reduce(.sum), w.sum, "sum of \(w.n)")
            assertHex(try x.reduce(.mean), w.mean, "mean of \(w.n)")
            assertHex(try x.reduce(.var), w.variance, "var of \(w.n)")
            assertHex(try x.reduce(.std), w.std, "std of \(w.n)")
            assertHex(try y.reduce(.nansum), w.nansum, "nansum of \(w.n)")
            assertHex(try y.reduce(.nanmean), w.nanmean, "nanmean of \(w.n)")
            // the same row as the last axis of a [2, n] tensor
            let two = try Tensor.cat([try x.unsqueeze(0), try x.unsqueeze(0)], axis: 0)
            assertHex(try two.reduce(.sum, axis: 1)[flat: 1], w.sum, "sum over the last axis of [2, \(w.n)]")
        }
        // an all -0.0 row sums to numpy's 0.0 (its identity first)
        assertHex(try Tensor(Array(repeating: -0.0, count: 3000)).reduce(.sum), "0x0p+0", "sum of -0.0s")
    }

    /// numpy 2.4.6 reduces a transposed or permuted view in memory order: with
    /// i = np.arange(3000); m = (((i * 7919) % 1009) / 7 - 70).reshape(3, 1000),
    /// np.sum(m.T, axis=0) is the pairwise sum of each row of m ([0x1.061b6db6db6dap+11,
    /// 0x1.de00000000000p+10, 0x1.f7db6db6db6dbp+10]; a C-order copy added down its columns gave
    /// ...dffffffffffdp+10 and ...6d3p+10), np.sum(m.T) 0x1.7884924924924p+12 (the copy:
    /// ...926p+12), np.var(m.T, axis=0, ddof=1, keepdims=True) [0x1.b18bdd31314a5p+10,
    /// 0x1.b203812efe642p+10, 0x1.b039dc0455e77p+10]; in f32, c = the same formula over
    /// 2 * 3 * 400 in f64, then .astype(np.float32).reshape(2, 3, 400):
    /// np.sum(c.transpose(2, 0, 1), axis=0) has the bits 44615248 444a1248 4432d248 4463a492
    /// 44285b6e 44592db7 (the copy: 4461524b 444a124a 4432d244 ...).
    func testPermutedViewsReduceInMemoryOrderAsNumpy() throws {
        let m = try Tensor((0..<3000).map { i in Double((i * 7919) % 1009) / 7 - 70 }, shape: [3, 1000])
        let mt = try m.transpose(0, 1)
        let sums = try mt.reduce(.sum, axis: 0)
        XCTAssertEqual(sums.shape, [3])
        for (k, w) in ["0x1.061b6db6db6dap+11", "0x1.dep+10", "0x1.f7db6db6db6dbp+10"].enumerated() {
            assertHex(sums[flat: k], w, "sum over axis 1 of m:T() [\(k)]")
        }
        assertHex(try mt.reduce(.sum), "0x1.7884924924924p+12", "sum of m:T()")
        let v = try mt.reduce(.var, axis: 0, keepdim: true)
        XCTAssertEqual(v.shape, [1, 3])
        for (k, w) in ["0x1.b18bdd31314a5p+10", "0x1.b203812efe642p+10", "0x1.b039dc0455e77p+10"].enumerated() {
            assertHex(v[flat: k], w, "var over axis 1 of m:T() [\(k)]")
        }
        let c = try Tensor(floats: (0..<2400).map { i in Float(Double((i * 7919) % 1009) / 7 - 70) }, shape: [2, 3, 400])
        let f = try c.permute([2, 0, 1]).reduce(.sum, axis: 0)
        XCTAssertEqual(f.shape, [2, 3])
        XCTAssertEqual((0..<6).map { Float(f[flat: $0]).bitPattern },
                       [0x4461_5248, 0x444a_1248, 0x4432_d248, 0x4463_a492, 0x4428_5b6e, 0x4459_2db7])
    }

    /// numpy casts an int64 (or bool) row to float64 through its 8,192-element buffer for
    /// mean/var/std, so the row's sum is the pairwise sums of its 8,192-element pieces added
    /// in order. numpy 2.4.6: i = np.arange(20000); x = ((i * 7919) % 1009 - 504) * 2**50 +
    /// i * 12345; np.mean(x) is 0x1.3f144ce28f9dep+45 (a pairwise sum of the whole row gives
    /// ...9d8p+45), np.var(x, ddof=1) 0x1.4b6cc20a5fca6p+116, np.std(x, ddof=1)
    /// 0x1.2347ff07714f1p+58, and np.mean(np.stack([x, x]), axis=1) the mean for each row.
    func testIntegerRowsAreCastInNumpysBuffers() throws {
        let x: [Int64] = (0..<20_000).map { (i: Int) -> Int64 in
            let k = Int64((i * 7919) % 1009 - 504)
            return k * (1 << 50) + Int64(i) * 12345
        }
        let t = try Tensor(elements: x)
        assertHex(try t.reduce(.mean), "0x1.3f144ce28f9dep+45", "mean of i64")
        assertHex(try t.reduce(.nanmean), "0x1.3f144ce28f9dep+45", "nanmean of i64")
        assertHex(try t.reduce(.var), "0x1.4b6cc20a5fca6p+116", "var of i64")
        assertHex(try t.reduce(.std), "0x1.2347ff07714f1p+58", "std of i64")
        let rows = try Tensor(elements: x + x, shape: [2, 20_000])
        assertHex(try rows.reduce(.mean, axis: 1)[flat: 1], "0x1.3f144ce28f9dep+45", "mean of row 2 of [2, 20000] i64")
    }

    /// numpy's prod multiplies in the dtype, one element after another: f32 in f32. numpy
    /// 2.4.6: x = (1 + np.arange(40) % 7 * 0.01).astype(np.float32); np.prod(x) has the bits
    /// 40456d7a (in f64, then rounded: 40456d7b, what moonlab gave), and so has each column of
    /// np.prod(np.stack([x, x]).T, axis=0).
    func testF32ProductsMultiplyInF32AsNumpy() throws {
        let x = (0..<40).map { i in Float(1 + Double(i % 7) * 0.01) }
        XCTAssertEqual(Float(try Tensor(floats: x).reduce(.prod)).bitPattern, 0x4045_6d7a)
        let columns = try Tensor(floats: x.flatMap { [$0, $0] }, shape: [40, 2])
        let p = try columns.reduce(.prod, axis: 0)
        XCTAssertEqual((0..<2).map { Float(p[flat: $0]).bitPattern }, [0x4045_6d7a, 0x4045_6d7a])
    }
}
