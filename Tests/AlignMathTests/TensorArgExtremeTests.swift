import XCTest
@testable import AlignMath

/// argmax/argmin over rows longer than the 16 KB blocks the kernel searches in: the answer
/// is numpy's (`np.argmax`: the first position of the largest value, -0.0 equal to 0.0, the
/// first NaN if there is one) wherever the extreme, its ties and the NaN fall relative to
/// block and piece boundaries, whole tensor and along an axis, f64 and f32.
final class TensorArgExtremeTests: XCTestCase {
    /// numpy's definition, one element at a time.
    private func reference(_ v: [Double], largest: Bool) -> Int {
        var at = 0
        for i in v.indices {
            if v[at].isNaN { break }
            if v[i].isNaN || (largest ? v[i] > v[at] : v[i] < v[at]) { at = i }
        }
        return at
    }

    /// Rows that put the extreme, a tie of it and a NaN on either side of block boundaries.
    private func rows(_ n: Int) -> [(String, [Double])] {
        var g = SystemRandomNumberGenerator()
        let base = (0..<n).map { _ in Double.random(in: -1...1, using: &g) }
        var out: [(String, [Double])] = [("random", base)]
        for at in [0, 1, 2047, 2048, 4095, 4096, n / 2, n - 1] where at < n {
            var r = base; r[at] = 5; r[n - 1 - (n - 1 - at) / 3] = 5  // a tie later (or the same place)
            out.append(("max 5 at \(at) and a tie after it", r))
            var m = base; m[at] = -5; m[Swift.min(n - 1, at + 4096)] = -5
            out.append(("min -5 at \(at) and a tie a block later", m))
            var z = base.map { _ in -1.0 }; z[at] = -0.0; z[Swift.min(n - 1, at + 3000)] = 0.0
            out.append(("-0.0 at \(at), then 0.0", z))
            var q = base; q[Swift.max(0, at - 1)] = 9; q[at] = .nan; q[n - 1] = .nan
            out.append(("a larger value, then NaN at \(at)", q))
        }
        out.append(("all equal", [Double](repeating: 0.25, count: n)))
        return out
    }

    func testWholeTensorMatchesNumpysDefinition() throws {
        for n in [1, 7, 2047, 4096, 4097, 3 * 4096 + 5, 300_001] {  // 300k: split over the cores in pieces
            for (what, v) in n > 100_000 ? Array(rows(n).prefix(5)) : rows(n) {
                for dtype in [DType.f64, .f32] {
                    let t = try Tensor(v, dtype: dtype)
                    let rounded = dtype == .f32 ? v.map { Double(Float($0)) } : v
                    XCTAssertEqual(try t.argmax(), reference(rounded, largest: true), "argmax \(dtype) n=\(n): \(what)")
                    XCTAssertEqual(Int(try t.reduce(.argmin)), reference(rounded, largest: false), "argmin \(dtype) n=\(n): \(what)")
                }
            }
        }
    }

    func testAlongAnAxisMatchesNumpysDefinition() throws {
        let n = 3 * 4096 + 5
        let rs = rows(n).map(\.1)
        for dtype in [DType.f64, .f32] {
            let t = try Tensor(rs.flatMap { $0 }, shape: [rs.count, n], dtype: dtype)
            let got = try t.reduce(.argmax, axis: 1).toDoubles().map { Int($0) }
            let want = rs.map { reference(dtype == .f32 ? $0.map { Double(Float($0)) } : $0, largest: true) }
            XCTAssertEqual(got, want, "argmax over the last axis, \(dtype)")
            let gotMin = try t.reduce(.argmin, axis: -1).toDoubles().map { Int($0) }
            let wantMin = rs.map { reference(dtype == .f32 ? $0.map { Double(Float($0)) } : $0, largest: false) }
            XCTAssertEqual(gotMin, wantMin, "argmin over the last axis, \(dtype)")
        }
    }
}
