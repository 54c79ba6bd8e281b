import XCTest
@testable import AlignMath

/// The storage + offset + strides representation: views that share storage, the dense
/// accessors kernels use, and the i64/bool dtypes.
final class TensorLayoutTests: XCTestCase {
    func testStridedViewsReadAndWriteTheirBase() throws {
        let t = try Tensor((0..<12).map(Double.init), shape: [3, 4])
        let tt = try t.transpose(0, 1)
        XCTAssertEqual(tt.shape, [4, 3]); XCTAssertEqual(tt.strides, [1, 4]); XCTAssertFalse(tt.isContiguous)
        XCTAssertEqual(tt.toDoubles(), [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11])
        let col = try t.select(axis: 1, 2)  // t[{{}, 3}]
        XCTAssertEqual(col.toDoubles(), [2, 6, 10])
        col[flat: 1] = -6
        XCTAssertEqual(t[flat: 6], -6)
        let stepped = try t.narrow(axis: 1, start: 3, count: 2, step: -2)  // columns 4, 2
        XCTAssertEqual(stepped.toDoubles(), [3, 1, 7, 5, 11, 9])
        try stepped.assign(try Tensor([100, 200]))
        XCTAssertEqual(t.toDoubles(), [0, 200, 2, 100, 4, 200, -6, 100, 8, 200, 10, 100])
        // Expanded: stride 0, no copy; reshape of a transposed view copies, of a row slice does not.
        let e = try Tensor([1, 2, 3]).expand([2, 3])
        XCTAssertEqual(e.strides, [0, 1]); XCTAssertEqual(e.toDoubles(), [1, 2, 3, 1, 2, 3])
        XCTAssertFalse(try tt.reshape([12]).storage === t.storage)
        XCTAssertTrue(try t.narrow(axis: 0, start: 1, count: 2).reshape([8]).storage === t.storage)
        XCTAssertTrue(try t.unsqueeze(1).squeeze().storage === t.storage)
        XCTAssertThrowsError(try t.select(axis: 0, 3)) { e in XCTAssertTrue("\(e)".contains("shape [3, 4]"), "\(e)") }
    }

    func testDenseAccessorsCopyOnlyViews() throws {
        let t = try Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3], dtype: .f32)
        XCTAssertTrue(t.contiguous() === t)
        XCTAssertTrue(t.contiguousFloating() === t)
        let tt = try t.transpose(0, 1)
        XCTAssertFalse(tt.contiguous() === tt)
        XCTAssertEqual(try tt.withFloats { Array($0) }, [1, 4, 2, 5, 3, 6])
        try tt.withMutableFloats { $0[1] = 40 }  // written back through the view
        XCTAssertEqual(t[flat: 3], 40)
        let ids = try Tensor(elements: [Int64(3), 1, 9_007_199_254_740_993])
        XCTAssertEqual(ids.dtype, .i64)
        XCTAssertEqual(ids.int64(flat: 2), 9_007_199_254_740_993)
        let f = ids.contiguousFloating()
        XCTAssertEqual(f.dtype, .f64); XCTAssertEqual(f.toDoubles()[0], 3)
        XCTAssertEqual(try Tensor([0.5, -2.7, .nan, 1e30], dtype: .i64).toInt64s(), [0, -2, Int64.min, Int64.min])
        XCTAssertEqual(try Tensor([0, 2, -0.0, .nan], dtype: .bool).toDoubles(), [0, 1, 0, 1])
        XCTAssertEqual(try Tensor.arange(0, 4, dtype: .i64).toInt64s(), [0, 1, 2, 3])
    }

    func testOddLayoutsWalkInRowMajorOrder() throws {
        // A 4-d permuted, stepped view of a 120-element tensor against a plain index walk.
        let t = try Tensor((0..<120).map(Double.init), shape: [2, 3, 4, 5])
        let v = try t.permute([2, 0, 3, 1]).narrow(axis: 2, start: 4, count: 3, step: -2)
        var want: [Double] = []
        for a in 0..<4 { for b in 0..<2 { for c in [4, 2, 0] { for d in 0..<3 { want.append(Double(b * 60 + d * 20 + a * 5 + c)) } } } }
        XCTAssertEqual(v.shape, [4, 2, 3, 3])
        XCTAssertEqual(v.toDoubles(), want)
        XCTAssertEqual(v.clone().toDoubles(), want)
        XCTAssertEqual(v.converted(to: .i64).toInt64s(), want.map { Int64($0) })
    }
}
