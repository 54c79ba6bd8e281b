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
}
