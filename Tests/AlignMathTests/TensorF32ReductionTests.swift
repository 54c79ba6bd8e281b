import XCTest
import AlignMath

/// f32 sums and means over a leading or middle axis, bit for bit against numpy's (which adds
/// the rows in order in f32). Values from Fixtures/generate_f32_reductions.py (numpy 2.4.6,
/// run by hand); every listed reduction has elements where an f64 accumulator differs.
final class TensorF32ReductionTests: XCTestCase {
    /// The generator's input: ((k * 7919) % 1009) / 97 - 5 in f32, k the flat index.
    private func input(_ shape: [Int]) throws -> Tensor {
        let count = shape.reduce(1, *)
        return try Tensor(floats: (0..<count).map { k in Float((k * 7919) % 1009) / 97 - 5 }, shape: shape)
    }

    private func assertBits(_ t: Tensor, _ want: [UInt32], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(t.dtype, .f32, what, file: file, line: line)
        XCTAssertEqual(t.count, want.count, what, file: file, line: line)
        for k in 0..<Swift.min(t.count, want.count) {
            let got = Float(t[flat: k]), w = Float(bitPattern: want[k])
            if w.isNaN { XCTAssertTrue(got.isNaN, "\(what)[\(k)]: \(got) vs numpy's NaN", file: file, line: line); continue }
            XCTAssertEqual(got.bitPattern, want[k], "\(what)[\(k)]: \(got) vs numpy's \(w)", file: file, line: line)
        }
    }

    func testSumsOverLeadingAndMiddleAxesAreNumpys() throws {
        // sum0: 7 element(s) differ from f64 accumulation
        let sum0: [UInt32] = [0x4355e051, 0x434f44a2, 0x4348a8e7, 0x4337a63e, 0x43310a8d, 0x433f3cba, 0x434d6ed6]
        // mean0: 7 element(s) differ from f64 accumulation
        let mean0: [UInt32] = [0x3e5b025f, 0x3e543e17, 0x3e4d79c2, 0x3e3c0e96, 0x3e354a4b, 0x3e43d3b0, 0x3e525d04]
        // nansum0: 6 element(s) differ from f64 accumulation
        let nansum0: [UInt32] = [0x4355e051, 0x434f44a2, 0x4337ed82, 0x4337a63e, 0x43310a8d, 0x00000000, 0x434d6ed6]
        // nanmean0: 7 element(s) differ from f64 accumulation
        let nanmean0: [UInt32] = [0x3e5b025f, 0x3e543e17, 0x3e5418cd, 0x3e3c0e96, 0x3e354a4b, 0xffc00000, 0x3e525d04]
        // sum1: 12 element(s) differ from f64 accumulation
        let sum1: [UInt32] = [0x42a47964, 0x42b9ead9, 0x42e42a37, 0x42cffffd, 0x42eebe04, 0x42da93c7, 0x429ccdd6, 0x42b23f4e, 0x429293c7, 0x42bcd319, 0x42fbe051, 0x42d2e83e]
        // mean1: 12 element(s) differ from f64 accumulation
        let mean1: [UInt32] = [0x3e2815dc, 0x3e3dffd8, 0x3e692cad, 0x3e54911b, 0x3e73fbee, 0x3e5f6059, 0x3e203f32, 0x3e362931, 0x3e15cba7, 0x3e40f86f, 0x3e80b407, 0x3e5789b3]

        let x = try input([1000, 7])
        assertBits(try x.reduce(.sum, axis: 0), sum0, "sum over axis 1 of [1000, 7]")
        assertBits(try x.reduce(.mean, axis: 0), mean0, "mean over axis 1 of [1000, 7]")
        var values = (0..<7000).map { k in Float((k * 7919) % 1009) / 97 - 5 }
        for i in 0..<1000 {
            if i % 9 == 0 { values[i * 7 + 2] = .nan }
            values[i * 7 + 5] = .nan
        }
        let xn = try Tensor(floats: values, shape: [1000, 7])
        assertBits(try xn.reduce(.nansum, axis: 0), nansum0, "nansum over axis 1 of [1000, 7]")
        assertBits(try xn.reduce(.nanmean, axis: 0), nanmean0, "nanmean over axis 1 of [1000, 7]")
        let y = try input([3, 501, 4])
        assertBits(try y.reduce(.sum, axis: 1), sum1, "sum over axis 2 of [3, 501, 4]")
        assertBits(try y.reduce(.mean, axis: 1), mean1, "mean over axis 2 of [3, 501, 4]")
    }

    /// Over the last axis and of whole tensors numpy adds by pairwise summation in f32
    /// (F32Pairwise): rows shorter than 8, of 8..128, just over 128, long and odd; NaN
    /// rows for nansum/nanmean; an all -0.0 row; a whole tensor long enough to be split over
    /// the cores (its halves must still be combined in numpy's order).
    func testSumsOverTheLastAxisAndWholeTensorsAreNumpys() throws {
        let sum_last_3x5: [UInt32] = [0x3f55c5f0, 0x4040a8e8, 0xc0a6ed86]
        let mean_last_3x5: [UInt32] = [0x3e2b04c0, 0x3f1a20ba, 0xbf858ad2]
        let sum_last_2x129: [UInt32] = [0x4200a8e8, 0x40f2cdd6]
        let mean_last_2x129: [UInt32] = [0x3e7f532a, 0x3d70ebfe]
        let sum_last_7x1000: [UInt32] = [0x434addb1, 0x433d869a, 0x4344fd5d, 0x434c7420, 0x433f1d08, 0x434693cc, 0x4343a3a1]
        let mean_last_7x1000: [UInt32] = [0x3e4fbc1a, 0x3e42130c, 0x3e49b7ab, 0x3e515c4a, 0x3e43b33b, 0x3e4b57db, 0x3e4855a3]
        let sum_last_4x32003: [UInt32] = [0x45c40b8c, 0x45c3dba2, 0x45c3feee, 0x45c3cf03]
        let mean_last_4x32003: [UInt32] = [0x3e48bb3b, 0x3e488a2c, 0x3e48ae50, 0x3e487d40]
        let nansum_last_nan: [UInt32] = [0x43265f02, 0x00000000, 0x00000000, 0x433e127a]
        let nansum_whole_nan: [UInt32] = [0x43b238be]
        let nanmean_last_nan: [UInt32] = [0x3e468f3a, 0xffc00000, 0x00000000, 0x3e427081]
        let nanmean_whole_nan: [UInt32] = [0x3dff3e4a]
        let whole_big: [UInt32] = [0x4a8dce91, 0x417793f4]

        for (shape, sums, means) in [([3, 5], sum_last_3x5, mean_last_3x5), ([2, 129], sum_last_2x129, mean_last_2x129),
                                     ([7, 1000], sum_last_7x1000, mean_last_7x1000), ([4, 32003], sum_last_4x32003, mean_last_4x32003)] {
            let x = try input(shape)
            assertBits(try x.reduce(.sum, axis: -1), sums, "sum over the last axis of \(shape)")
            assertBits(try x.reduce(.mean, axis: -1), means, "mean over the last axis of \(shape)")
        }
        var values = (0..<4004).map { k in Float((k * 7919) % 1009) / 97 - 5 }
        for j in stride(from: 0, to: 1001, by: 7) { values[j] = .nan }
        for j in 0..<1001 { values[1001 + j] = .nan; values[2002 + j] = -0.0 }
        let xn = try Tensor(floats: values, shape: [4, 1001])
        assertBits(try xn.reduce(.nansum, axis: -1), nansum_last_nan, "nansum over the last axis")
        assertBits(try xn.reduce(.nanmean, axis: -1), nanmean_last_nan, "nanmean over the last axis")
        assertBits(try Tensor(floats: [Float(try xn.reduce(.nansum))]), nansum_whole_nan, "nansum of the whole tensor")
        assertBits(try Tensor(floats: [Float(try xn.reduce(.nanmean))]), nanmean_whole_nan, "nanmean of the whole tensor")
        let big = try Tensor(floats: (0..<300 * 1001).map { k in Float((k * 7919) % 100003) / 97 - 500 }, shape: [300, 1001])
        assertBits(try Tensor(floats: [Float(try big.reduce(.sum)), Float(try big.reduce(.mean))]), whole_big, "sum and mean of [300, 1001]")
    }
}
