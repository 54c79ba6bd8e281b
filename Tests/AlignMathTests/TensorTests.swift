import XCTest
@testable import AlignMath

/// Tensor construction, views and ownership, arithmetic, reductions and printing.
final class TensorTests: XCTestCase {
    func testConstructors() throws {
        let t = try Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
        XCTAssertEqual(t.shape, [2, 3]); XCTAssertEqual(t.count, 6); XCTAssertEqual(t.dtype, .f64)
        XCTAssertEqual(try Tensor.zeros([2, 2], dtype: .f32).toDoubles(), [0, 0, 0, 0])
        XCTAssertEqual(try Tensor.ones([3]).toDoubles(), [1, 1, 1])
        XCTAssertEqual(try Tensor.full([2], 2.5, dtype: .f32).toDoubles(), [2.5, 2.5])
        XCTAssertEqual(try Tensor.arange(0, 1, step: 0.25).toDoubles(), [0, 0.25, 0.5, 0.75])
        XCTAssertEqual(try Tensor.arange(5, 0, step: -2).toDoubles(), [5, 3, 1])
        XCTAssertThrowsError(try Tensor([1, 2, 3], shape: [2, 2]))
        XCTAssertThrowsError(try Tensor.zeros([-1]))
        // a zero-size axis does not let the others overflow the strides: numpy 2.4.6 refuses
        // np.zeros((0, 2**40, 2**40)) ("array is too big"); it crashed in rowMajorStrides
        XCTAssertThrowsError(try Tensor.zeros([0, 1 << 40, 1 << 40]))
        XCTAssertThrowsError(try Tensor.zeros([0]).reshape([0, 1 << 62, 4]))
        XCTAssertEqual(try Tensor.zeros([0, 1 << 40]).shape, [0, 1 << 40])
        XCTAssertThrowsError(try Tensor.arange(0, 1, step: 0))
        XCTAssertEqual(try Tensor(floats: [1.5, 2]).dtype, .f32)
        XCTAssertEqual(try Tensor([0.1], dtype: .f32)[flat: 0], Double(Float(0.1)))
    }

    /// numpy 2.4.6 (Python): np.arange(1, 2, 0.1) in hex, np.arange(1, 2, 0.1, dtype=np.float32),
    /// np.arange(0.7, 5, 1.6, dtype=np.int64), np.arange(-2.5, 3.7, 0.3, dtype=np.int64),
    /// np.linspace(-3.3, 8.1, 13, dtype=np.int64), np.linspace(-1e10, 1, 9, dtype=np.int64)[:3].
    /// numpy's arange fills first + i * (second - first) in the dtype; start + i * step was an
    /// ulp off for f64 (and up to 1e-6 for f32), and i64 with fractional bounds was floored.
    func testArangeAndLinspaceAsNumpy() throws {
        let f64 = ["0x1.0000000000000p+0", "0x1.199999999999ap+0", "0x1.3333333333334p+0", "0x1.4cccccccccccep+0",
                   "0x1.6666666666668p+0", "0x1.8000000000002p+0", "0x1.999999999999cp+0", "0x1.b333333333336p+0",
                   "0x1.cccccccccccd0p+0", "0x1.e66666666666ap+0"].map { Double($0)! }
        XCTAssertEqual(try Tensor.arange(1, 2, step: 0.1).toDoubles(), f64)
        let f32: [Float] = [1.0, 1.100000023841858, 1.2000000476837158, 1.3000000715255737, 1.4000000953674316,
                            1.5000001192092896, 1.6000001430511475, 1.7000001668930054, 1.8000001907348633, 1.9000002145767212]
        XCTAssertEqual(try Tensor.arange(1, 2, step: 0.1, dtype: .f32).toDoubles(), f32.map(Double.init))
        XCTAssertEqual(try Tensor.arange(0.7, 5, step: 1.6, dtype: .i64).toInt64s(), [0, 2, 4])
        XCTAssertEqual(try Tensor.arange(-2.5, 3.7, step: 0.3, dtype: .i64).toInt64s(), Array(repeating: -2, count: 21))
        XCTAssertEqual(try Tensor.arange(0, 5, step: 1.5, dtype: .i64).toInt64s(), [0, 1, 2, 3])
        XCTAssertEqual(try Tensor.linspace(-3.3, 8.1, count: 13, dtype: .i64).toInt64s(), Array(-4...8))
        XCTAssertEqual(Array(try Tensor.linspace(-1e10, 1, count: 9, dtype: .i64).toInt64s().prefix(3)),
                       [-10_000_000_000, -8_750_000_000, -7_500_000_000])
        XCTAssertEqual(try Tensor.linspace(0, 1, count: 5).toDoubles(), [0, 0.25, 0.5, 0.75, 1])
        XCTAssertEqual(try Tensor.linspace(2, 3, count: 1).toDoubles(), [2])
        XCTAssertEqual(try Tensor.linspace(2, 3, count: 0).count, 0)
    }

    /// numpy 2.4.6: np.round([2.675, 1.234, -5.678, 1234.5], 2) is [2.68, 1.23, -5.68, 1234.5],
    /// np.round([1.234, -5.678, 1234.5], -1) is [0., -10., 1230.], np.round(np.int64([15, 25,
    /// -15]), -1) is [20, 20, -20], np.round(np.float32(-5.678), 2) is -5.679999828338623.
    /// torch.flatten(torch.zeros(2, 3, 4, 5), 1, 2).shape is (2, 12, 5). t:round(2) ignored
    /// its argument and t:flatten(2) flattened everything before.
    func testRoundDecimalsAndFlattenRangeAsNumpyAndTorch() throws {
        XCTAssertEqual(try Tensor([2.675, 1.234, -5.678, 1234.5]).round(decimals: 2).toDoubles(), [2.68, 1.23, -5.68, 1234.5])
        XCTAssertEqual(try Tensor([1.234, -5.678, 1234.5]).round(decimals: -1).toDoubles(), [0, -10, 1230])
        XCTAssertEqual(try Tensor(elements: [Int64(15), 25, -15]).round(decimals: -1).toInt64s(), [20, 20, -20])
        XCTAssertEqual(try Tensor(elements: [Int64(15)]).round(decimals: 3).toInt64s(), [15])
        XCTAssertEqual(try Tensor(floats: [-5.678]).round(decimals: 2)[flat: 0], -5.679999828338623)
        XCTAssertThrowsError(try Tensor(elements: [true]).round(decimals: 1))
        XCTAssertEqual(try Tensor.zeros([2, 3, 4, 5]).flatten(from: 1, through: 2).shape, [2, 12, 5])
        XCTAssertEqual(try Tensor.zeros([2, 3]).flatten(from: 0, through: 1).shape, [6])
        XCTAssertThrowsError(try Tensor.zeros([2, 3]).flatten(from: 1, through: 0))
    }

    func testViewsShareStorageAndCloneCopies() throws {
        let t = try Tensor((0..<12).map(Double.init), shape: [3, 4])
        let r = try t.row(1)
        XCTAssertEqual(r.shape, [4]); XCTAssertEqual(r.toDoubles(), [4, 5, 6, 7])
        r[flat: 0] = 100
        XCTAssertEqual(t[flat: 4], 100)
        let s = try t.slice(1, 3)
        XCTAssertEqual(s.shape, [2, 4]); XCTAssertEqual(s[flat: 0], 100)
        let flat = try t.reshape([-1])
        XCTAssertEqual(flat.shape, [12]); flat[flat: 11] = -1
        XCTAssertEqual(t[flat: 11], -1)
        let c = t.clone(); c[flat: 0] = 42
        XCTAssertEqual(t[flat: 0], 0)
        XCTAssertEqual(try t.row(2).row(3).shape, [])
        XCTAssertThrowsError(try t.row(3)); XCTAssertThrowsError(try t.slice(2, 4)); XCTAssertThrowsError(try t.reshape([5, -1]))
        XCTAssertThrowsError(try t.value(at: 12)); XCTAssertThrowsError(try t.setValue(1, at: -1))
        // A view keeps the storage alive after its base is gone.
        var base: Tensor? = try Tensor([7, 8, 9])
        let v = try XCTUnwrap(base).slice(1, 3)
        base = nil
        XCTAssertEqual(v.toDoubles(), [8, 9])
    }

    func testTypedAccessAndConversion() throws {
        let t = try Tensor([1, 2, 3], dtype: .f32)
        XCTAssertEqual(try t.withFloats { Array($0) }, [1, 2, 3])
        XCTAssertThrowsError(try t.withDoubles { _ in })
        try t.withMutableFloats { $0[1] = 20 }
        XCTAssertEqual(t.toDoubles(), [1, 20, 3])
        let d = t.converted(to: .f64)
        XCTAssertEqual(d.dtype, .f64); XCTAssertEqual(d.toDoubles(), [1, 20, 3])
        XCTAssertTrue(t.converted(to: .f32) === t)
        XCTAssertEqual(try d.withMutableDoubles { $0.count }, 3)
    }

    func testElementwiseAndBroadcast() throws {
        let a = try Tensor([1, 2, 3, 4], shape: [2, 2])
        XCTAssertEqual(try a.add(a).toDoubles(), [2, 4, 6, 8])
        XCTAssertEqual(try a.sub(try Tensor([1, 2])).toDoubles(), [0, 0, 2, 2])  // last-axis broadcast
        XCTAssertEqual(try Tensor([10, 20]).div(a).toDoubles(), [10, 10, 10.0 / 3, 5])
        XCTAssertEqual(try a.mul(try Tensor([2], shape: [])).toDoubles(), [2, 4, 6, 8])
        XCTAssertEqual(try a.pow(try Tensor([2, 0.5])).toDoubles(), [1, 2.0.squareRoot(), 9, 2])
        XCTAssertEqual(try a.binary(.sub, scalar: 1, scalarOnLeft: true).toDoubles(), [0, -1, -2, -3])
        XCTAssertEqual(try a.binary(.pow, scalar: 2).toDoubles(), [1, 4, 9, 16])
        XCTAssertThrowsError(try a.add(try Tensor([1, 2, 3]))) { e in XCTAssertTrue("\(e)".contains("[2, 2] and [3]"), "\(e)") }
        let f = try Tensor([1, 2], dtype: .f32)
        XCTAssertEqual(try f.add(try Tensor([0.5, 0.5])).dtype, .f64)
        XCTAssertEqual(try f.add(f).dtype, .f32)
        let u = try Tensor([-1, 0, 4])
        XCTAssertEqual(try u.abs().toDoubles(), [1, 0, 4]); XCTAssertEqual(try u.neg().toDoubles(), [1, 0, -4])
        XCTAssertEqual(try Tensor([4, 9]).sqrt().toDoubles(), [2, 3])
        XCTAssertEqual(try Tensor([0]).exp().toDoubles(), [1]); XCTAssertEqual(try Tensor([0]).log().toDoubles(), [-.infinity])
        XCTAssertEqual(try u.clamp(0, 2).toDoubles(), [0, 0, 2]); XCTAssertEqual(try u.clamp(nil, 0).toDoubles(), [-1, 0, 0])
        XCTAssertEqual(try u.clamp(2, 1).toDoubles(), [1, 1, 1])  // np.clip([-1, 0, 4], 2, 1) (numpy 2.4.6)
        XCTAssertEqual(u.map { $0 * 10 }.toDoubles(), [-10, 0, 40])
    }

    func testReductions() throws {
        let t = try Tensor([1, 5, 3, 2, 2, 8], shape: [2, 3], dtype: .f32)
        XCTAssertEqual(try t.sum(), 21); XCTAssertEqual(try t.mean(), 3.5)
        XCTAssertEqual(try t.min(), 1); XCTAssertEqual(try t.max(), 8); XCTAssertEqual(try t.argmax(), 5)
        XCTAssertEqual(try t.std(), 2.588435821108957, accuracy: 1e-6)  // torch.std (unbiased), an f32 result as numpy's
        XCTAssertEqual(try t.reduce(.sum, axis: -1).toDoubles(), [9, 12])
        XCTAssertEqual(try t.reduce(.argmax, axis: 1).toDoubles(), [1, 2])
        XCTAssertEqual(try t.reduce(.std, axis: -1).toDoubles()[0], 2, accuracy: 1e-15)
        XCTAssertEqual(try t.reduce(.max, axis: -1).shape, [2])
        XCTAssertEqual(try t.reduce(.sum, axis: 0).toDoubles(), [3, 7, 11])
        XCTAssertThrowsError(try t.reduce(.sum, axis: 2))
        XCTAssertThrowsError(try Tensor.zeros([0]).max())
        XCTAssertTrue(try Tensor([1, .nan, 3]).max().isNaN)
        XCTAssertEqual(try Tensor([3, 1, .nan, 2]).sort().toDoubles().prefix(3), [1, 2, 3])
        XCTAssertEqual(try Tensor([3, 1, 2, 9, 7, 8], shape: [2, 3]).sort().toDoubles(), [1, 2, 3, 7, 8, 9])
    }

    func testEqual() throws {
        let a = try Tensor([1, 2]), b = try Tensor([1, 2], dtype: .f32)
        XCTAssertTrue(a.equal(b)); XCTAssertFalse(a === b)
        XCTAssertFalse(a.equal(try Tensor([1, 2], shape: [1, 2])))
        XCTAssertFalse(try Tensor([.nan]).equal(try Tensor([.nan])))
    }

    func testDescription() throws {
        XCTAssertEqual(try Tensor([0.7310585786300049, 0.2689414213699951]).description, "tensor([0.7311, 0.2689], dtype=f64)")
        XCTAssertEqual(try Tensor([1, 2, 3], dtype: .f32).description, "tensor([1., 2., 3.], dtype=f32)")
        XCTAssertEqual(try Tensor([1, -2.5, 3, 4], shape: [2, 2]).description,
                       "tensor([[ 1.0000, -2.5000],\n        [ 3.0000,  4.0000]], shape=[2, 2], dtype=f64)")
        XCTAssertEqual(try Tensor([1e-8, 1]).description, "tensor([1.0000e-08, 1.0000e+00], dtype=f64)")
        XCTAssertEqual(try Tensor([0.5, -.infinity]).description, "tensor([0.5000,   -inf], dtype=f64)")
        XCTAssertEqual(try Tensor([2], shape: []).description, "tensor(2., dtype=f64)")
        XCTAssertEqual(try Tensor.zeros([0]).description, "tensor([], dtype=f64)")
        // torch 2.15: repr(torch.zeros(1005, 0, dtype=torch.float64)) is "tensor([], size=(1005, 0), dtype=torch.float64)"
        XCTAssertEqual(try Tensor.zeros([1005, 0]).description, "tensor([], shape=[1005, 0], dtype=f64)")
        XCTAssertEqual(try Tensor.zeros([2, 0, 3], dtype: .bool).description, "tensor([], shape=[2, 0, 3], dtype=bool)")
        // torch's choices: 0..1999 in f64 prints in scientific notation (max/min > 1000),
        // three entries at each end around "  ...", rows wrapped at 80 columns.
        let big = try Tensor.arange(0, 2000)
        XCTAssertEqual(big.description, "tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,\n        1.9990e+03], dtype=f64)")
        let m = try Tensor.arange(1, 4001).reshape([40, 100]).description
        XCTAssertTrue(m.hasPrefix("tensor([[1.0000e+00, 2.0000e+00, 3.0000e+00,  ..., 9.8000e+01, 9.9000e+01,\n         1.0000e+02],"), m)
        XCTAssertTrue(m.contains("        ...,\n"), m)
        XCTAssertTrue(m.hasSuffix("4.0000e+03]], shape=[40, 100], dtype=f64)"), m)
        let ints = try Tensor.arange(0, 4000, dtype: .i64).reshape([40, 100]).description
        XCTAssertTrue(ints.hasPrefix("tensor([[   0,    1,    2,  ...,   97,   98,   99],\n        [ 100,"), ints)
        XCTAssertLessThan(m.count, 800)
    }
}
