import XCTest
@testable import AlignMath

/// Rows at the edges of the float range give torch's values, the other rows of their batch
/// kept: rows holding +inf (logsumexp +inf, NaN through the softmax), and tiny or huge
/// temperatures, where the logits are divided first as torch's `x / T` in their own dtype
/// (T = 1e-30 gave a NaN softmax and an entropy of 1.39 where torch gives one-hot and 0; see
/// `Dist.prescaleAbove`). torch 2.15.0 (CPU), written by Fixtures/generate_dist_extreme.py to
/// dist_extreme.json, float64 and float32 each with its own values.
final class DistExtremeRowTests: XCTestCase {
    func testEveryFunctionAsTorch() throws {
        let d = try RPM.load("dist_extreme.json")
        XCTAssertEqual(d["generator"] as? String, "generate_dist_extreme.py")
        let cases = d["cases"] as? [[String: Any]] ?? []
        XCTAssertEqual(cases.count, 16)
        for c in cases {
            let dt: DType = c["dtype"] as? String == "f32" ? .f32 : .f64
            let shape = c["shape"] as? [Int] ?? [], T = c["temperature"] as? Double ?? .nan
            let x = try Tensor(RPM.doubles(c["x"]), shape: shape, dtype: dt)
            let y = try Tensor(RPM.doubles(c["y"]), shape: shape, dtype: dt)
            let targets = c["targets"] as? [Int] ?? []
            let expected = (c["expected"] as? [String: Any] ?? [:]).mapValues { RPM.doubles($0) }
            let o = DistOptions(temperature: T)
            let (rtol, atol) = dt == .f64 ? (1e-12, 1e-15) : (1e-5, 1e-6)
            let tag = "\(c["name"] ?? "") T=\(T) \(dt)"
            let got: [(String, Tensor)] = [
                ("softmax", try Dist.softmax(x, o)), ("log_softmax", try Dist.logSoftmax(x, o)),
                ("logsumexp", try Dist.logsumexp(x, o)), ("entropy", try Dist.entropy(x, o)),
                ("kl", try Dist.kl(x, y, o)), ("js", try Dist.js(x, y, o)), ("tv", try Dist.tv(x, y, o)),
                ("cross_entropy", try Dist.crossEntropy(x, targets: targets, o)),
            ]
            for (name, t) in got {
                let want = expected[name] ?? []
                let g = t.toDoubles()
                XCTAssertEqual(g.count, want.count, "\(tag) \(name): count")
                for (i, (a, b)) in zip(g, want).enumerated() {
                    let ok = b.isNaN ? a.isNaN : (b.isInfinite ? a == b : abs(a - b) <= atol + rtol * abs(b))
                    if !ok { XCTFail("\(tag) \(name)[\(i)]: got \(a), torch \(b)"); break }
                    // a NaN is a plain NaN (x86's inf - inf sets the sign bit: Lua prints -nan)
                    if a.isNaN && t.ndim < x.ndim { XCTAssertEqual(a.sign, .plus, "\(tag) \(name)[\(i)]") }
                }
            }
        }
    }
}
