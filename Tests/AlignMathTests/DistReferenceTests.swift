import XCTest
@testable import AlignMath

/// Dist against the scipy/mpmath reference values of Fixtures/dist_cases.json
/// (written once by Fixtures/generate_dist.py, which cites the scipy functions).
final class DistReferenceTests: XCTestCase {
    /// A fixture number: JSON number, or "inf"/"-inf"/"nan".
    static func num(_ v: Any) -> Double {
        if let s = v as? String {
            switch s { case "inf": return .infinity; case "-inf": return -.infinity; default: return .nan }
        }
        return (v as? NSNumber)?.doubleValue ?? .nan
    }
    static func nums(_ v: Any?) -> [Double] { (v as? [Any] ?? []).map(num) }

    /// Logit `i` of stream `seed`, as generate_dist.py's gen_logits.
    static func genLogit(_ i: UInt64, seed: UInt64) -> Double {
        var z = (i &+ (seed << 40)) &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z = z ^ (z >> 31)
        let v = (z & 0xffff) + ((z >> 16) & 0xffff) + ((z >> 32) & 0xffff) + (z >> 48)
        return Double(Float((Double(v) / 65536.0 - 2.0) * 3.0))
    }

    /// Relative error check with the dtype's tolerance; infinities must match exactly.
    /// `absFloor`: absolute differences below it pass (log-domain values that are 0 up to
    /// rounding, such as logsumexp of probabilities summing to 1).
    func assertClose(_ got: [Double], _ want: [Double], _ tol: Double, _ what: String, absFloor: Double? = nil,
                     file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.count, want.count, "\(what): count", file: file, line: line)
        for (i, (g, w)) in zip(got, want).enumerated() {
            if w.isInfinite || w.isNaN || g.isInfinite || g.isNaN {
                XCTAssertTrue(g == w || (g.isNaN && w.isNaN), "\(what)[\(i)]: got \(g), want \(w)", file: file, line: line)
                continue
            }
            // Relative error, with an absolute floor far below anything a test cares about
            // (probabilities that underflow: Float can't hold 1e-50).
            let floor = absFloor ?? (tol == 1e-10 ? 1e-300 : 1e-30)
            let err = Swift.abs(g - w) / Swift.max(Swift.abs(w), floor)
            XCTAssertTrue(err < tol || Swift.abs(g - w) < floor, "\(what)[\(i)]: got \(g), want \(w) (rel err \(err))", file: file, line: line)
        }
    }

    func testAllCases() throws {
        let root = try XCTUnwrap(Fixture.load("dist_cases.json") as? [String: Any])
        let cases = try XCTUnwrap(root["cases"] as? [[String: Any]])
        XCTAssertGreaterThanOrEqual(cases.count, 20)
        for c in cases { try check(c) }
    }

    func check(_ c: [String: Any]) throws {
        let name = c["name"] as? String ?? "?"
        let dtype: DType = (c["dtype"] as? String) == "f32" ? .f32 : .f64
        let shape = (c["shape"] as? [Int]) ?? []
        let T = Self.num(c["temperature"] ?? 1)
        let opts = DistOptions(temperature: T, probs: c["probs"] as? Bool ?? false)
        var xs = Self.nums(c["x"]), qs = Self.nums(c["q"])
        if let g = c["gen"] as? [String: Int], let seed = g["seed"], let qseed = g["qseed"], let n = g["n"], let rows = g["rows"] {
            xs = (0..<(n * rows)).map { Self.genLogit(UInt64($0), seed: UInt64(seed)) }
            qs = (0..<(n * rows)).map { Self.genLogit(UInt64($0), seed: UInt64(qseed)) }
        }
        let x = try Tensor(xs, shape: shape, dtype: dtype)
        let q = qs.isEmpty ? nil : try Tensor(qs, shape: shape, dtype: dtype)
        let exp = try XCTUnwrap(c["expected"] as? [String: Any])
        let tol = dtype == .f64 ? 1e-10 : 1e-4
        let logFloor = dtype == .f64 ? 1e-14 : 1e-6
        let rowShape = Array(shape.dropLast())

        let lse = try Dist.logsumexp(x, opts)
        XCTAssertEqual(lse.shape, rowShape, name)
        assertClose(lse.toDoubles(), Self.nums(exp["logsumexp"]), tol, "\(name) logsumexp", absFloor: logFloor)
        assertClose(try Dist.entropy(x, opts).toDoubles(), Self.nums(exp["entropy"]), tol, "\(name) entropy")

        let sm = try Dist.softmax(x, opts), lsm = try Dist.logSoftmax(x, opts)
        XCTAssertEqual(sm.shape, shape, name)
        XCTAssertEqual(lsm.dtype, dtype, name)
        if let full = exp["softmax"] {
            assertClose(sm.toDoubles(), Self.nums(full), tol, "\(name) softmax")
            assertClose(lsm.toDoubles(), Self.nums(exp["log_softmax"]), tol, "\(name) log_softmax")
        }
        for key in ["softmax_at", "log_softmax_at"] {
            guard let at = exp[key] as? [String: Any], let idx = at["index"] as? [Int] else { continue }
            let t = key == "softmax_at" ? sm : lsm
            assertClose(idx.map { t[flat: $0] }, Self.nums(at["value"]), tol, "\(name) \(key)")
        }
        if let targets = c["targets"] as? [Int] {
            assertClose(try Dist.crossEntropy(x, targets: targets, opts).toDoubles(),
                        Self.nums(exp["cross_entropy"]), tol, "\(name) cross_entropy")
        }
        if let q = q {
            assertClose(try Dist.kl(x, q, opts).toDoubles(), Self.nums(exp["kl"]), tol, "\(name) kl")
            assertClose(try Dist.js(x, q, opts).toDoubles(), Self.nums(exp["js"]), tol, "\(name) js")
            assertClose(try Dist.tv(x, q, opts).toDoubles(), Self.nums(exp["tv"]), tol, "\(name) tv")
        }
    }
}
