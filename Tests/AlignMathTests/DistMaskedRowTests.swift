import XCTest
@testable import AlignMath

/// Rows whose logits are all -inf (no token left; issues 11 and 13) give torch's values, one row
/// at a time, so such a row does not lose its batch: torch 2.15.0 (CPU), written by
/// Fixtures/generate_dist_masked.py to dist_masked.json (logsumexp -inf; softmax, log_softmax,
/// entropy, kl/js/tv with either side masked, cross_entropy NaN; argmax 0; topk -inf values,
/// the lower ids first). Every case runs in f64 and f32, with temperature 1 and 0.7, and with
/// probs = true where a row of zeros is the masked row.
final class DistMaskedRowTests: XCTestCase {
    struct Case {
        let name: String, shape: [Int], temperature: Double, probs: Bool, k: Int
        let targets: [Int], x: [Double], y: [Double]
        let expected: [String: [Double]]
    }

    func cases() throws -> [Case] {
        let d = try RPM.load("dist_masked.json")
        XCTAssertEqual(d["generator"] as? String, "generate_dist_masked.py")
        let list = d["cases"] as? [[String: Any]] ?? []
        return list.map { c in
            let e = c["expected"] as? [String: Any] ?? [:]
            return Case(name: c["name"] as? String ?? "", shape: c["shape"] as? [Int] ?? [],
                        temperature: c["temperature"] as? Double ?? .nan, probs: c["probs"] as? Bool ?? false,
                        k: c["k"] as? Int ?? 0, targets: c["targets"] as? [Int] ?? [],
                        x: RPM.doubles(c["x"]), y: RPM.doubles(c["y"]),
                        expected: e.mapValues { RPM.doubles($0) })
        }
    }

    /// NaN where torch has NaN, the same infinity, finite values within rtol (atol for values near 0).
    func assertTorch(_ got: [Double], _ want: [Double], _ what: String, rtol: Double, atol: Double,
                     file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.count, want.count, "\(what): count", file: file, line: line)
        for (i, (g, w)) in zip(got, want).enumerated() {
            let ok = w.isNaN ? g.isNaN : (w.isInfinite ? g == w : abs(g - w) <= atol + rtol * abs(w))
            if !ok { XCTFail("\(what)[\(i)]: got \(g), torch \(w)", file: file, line: line); return }
        }
    }

    func testEveryFunctionAsTorch() throws {
        let all = try cases()
        XCTAssertEqual(all.count, 10)
        for c in all {
            for dt in [DType.f64, .f32] {
                let x = try Tensor(c.x, shape: c.shape, dtype: dt), y = try Tensor(c.y, shape: c.shape, dtype: dt)
                let o = DistOptions(temperature: c.temperature, probs: c.probs)
                let (rtol, atol) = dt == .f64 ? (1e-12, 1e-15) : (1e-5, 1e-6)
                let tag = "\(c.name) T=\(c.temperature) \(dt)"
                func check(_ name: String, _ t: Tensor) {
                    assertTorch(t.toDoubles(), c.expected[name] ?? [], "\(tag) \(name)", rtol: rtol, atol: atol)
                }
                let sm = try Dist.softmax(x, o), lsm = try Dist.logSoftmax(x, o)
                XCTAssertEqual(sm.dtype, dt)
                XCTAssertEqual(lsm.shape, c.shape)
                check("softmax", sm)
                check("log_softmax", lsm)
                check("logsumexp", try Dist.logsumexp(x, o))
                check("entropy", try Dist.entropy(x, o))
                check("kl", try Dist.kl(x, y, o))
                check("js", try Dist.js(x, y, o))
                check("tv", try Dist.tv(x, y, o))
                check("cross_entropy", try Dist.crossEntropy(x, targets: c.targets, o))
                XCTAssertEqual(try x.reduce(.argmax, axis: -1).toDoubles(), c.expected["argmax"], "\(tag) argmax")
                let top = try x.topk(c.k, axis: -1, largest: true)
                XCTAssertEqual(top.positions.toDoubles(), c.expected["topk_ids"], "\(tag) topk ids")
                check("topk_values", top.values)
            }
        }
    }

    /// A masked row in a batch of many parallel chunks (Float and Double kernels, the next row's
    /// maximum read ahead inside each row's pass) leaves every other row's value as it was.
    func testMaskedRowsInALargeBatchKeepTheOthers() throws {
        let n = 1000, rows = 300, masked: Set<Int> = [0, 77, 78, 250, 299]
        var v = (0..<(n * rows)).map { Double(($0 * 7) % 17) * 0.1 }
        for r in masked { for i in 0..<n { v[r * n + i] = -.infinity } }
        var clean = v
        for r in masked { for i in 0..<n { clean[r * n + i] = Double(i % 5) } }
        for dt in [DType.f64, .f32] {
            let x = try Tensor(v, shape: [rows, n], dtype: dt), ok = try Tensor(clean, shape: [rows, n], dtype: dt)
            let pairs: [(String, (Tensor) throws -> Tensor)] = [
                ("logsumexp", { try Dist.logsumexp($0) }), ("entropy", { try Dist.entropy($0) }),
                ("softmax", { try Dist.softmax($0) }), ("log_softmax", { try Dist.logSoftmax($0) }),
                ("kl", { try Dist.kl($0, ok) }), ("kl q", { try Dist.kl(ok, $0) }),
                ("js", { try Dist.js($0, ok) }), ("tv", { try Dist.tv(ok, $0) }),
                ("cross_entropy", { try Dist.crossEntropy($0, targets: Array(repeating: 3, count: rows)) }),
            ]
            for (name, f) in pairs {
                let got = try f(x).toDoubles(), want = try f(ok).toDoubles()
                let per = got.count / rows
                for r in 0..<rows {
                    for i in r * per..<(r + 1) * per {
                        if masked.contains(r) {
                            let torch = name == "logsumexp" ? -Double.infinity : Double.nan
                            XCTAssert(torch.isNaN ? got[i].isNaN : got[i] == torch, "\(dt) \(name) row \(r): \(got[i])")
                        } else {
                            XCTAssertEqual(got[i], want[i], "\(dt) \(name) row \(r)")
                        }
                    }
                }
            }
        }
    }

    /// The id -100 (torch's ignore_index) gives 0 on a masked row too, as F.cross_entropy.
    func testIgnoredTargetOfAMaskedRow() throws {
        let x = try Tensor([-.infinity, -.infinity, 1, 2], shape: [2, 2])
        let ce = try Dist.crossEntropy(x, targets: [-100, 0]).toDoubles()
        XCTAssertEqual(ce[0], 0)
        XCTAssertEqual(ce[1], 1.3132616875182228, accuracy: 1e-15)
        // an all -inf row's NaN is a plain NaN (x86's inf - inf has the sign bit set: Lua prints -nan)
        let nan = try Dist.crossEntropy(x, targets: [1, 0]).toDoubles()[0]
        XCTAssertTrue(nan.isNaN)
        XCTAssertEqual(nan.sign, .plus)
    }
}
