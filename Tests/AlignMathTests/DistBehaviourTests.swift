import XCTest
@testable import AlignMath

/// Dist's edge behaviour: masked rows, empty rows, options, errors, interrupts, and the
/// agreement of the Float and Double paths on a large batch (several parallel chunks).
final class DistBehaviourTests: XCTestCase {
    let ninf = -Double.infinity

    // All -inf rows (torch's values, never an error): DistMaskedRowTests.

    func testEmptyRows() throws {
        let x = try Tensor.zeros([2, 0])
        XCTAssertEqual(try Dist.logSoftmax(x).shape, [2, 0])
        XCTAssertEqual(try Dist.softmax(x).count, 0)
        XCTAssertEqual(try Dist.logsumexp(x).toDoubles(), [ninf, ninf])  // as scipy/torch
        XCTAssertThrowsError(try Dist.entropy(x))
        XCTAssertThrowsError(try Dist.kl(x, x))
        XCTAssertThrowsError(try Dist.crossEntropy(x, targets: [0, 0]))
        XCTAssertEqual(try Dist.entropy(Tensor.zeros([0, 5])).shape, [0])
    }

    func testScalarResultFor1D() throws {
        let x = try Tensor([2, 1])
        let e = try Dist.entropy(x)
        XCTAssertEqual(e.shape, [])
        let p1 = 1 / (1 + Foundation.exp(-1.0))
        XCTAssertEqual(try XCTUnwrap(e.scalar), -(p1 * Foundation.log(p1) + (1 - p1) * Foundation.log(1 - p1)), accuracy: 1e-15)
        XCTAssertEqual(try Dist.softmax(x).toDoubles()[0], p1, accuracy: 1e-15)
    }

    func testOptionAndShapeErrors() throws {
        let x = try Tensor([1, 2, 3])
        XCTAssertThrowsError(try Dist.softmax(x, DistOptions(temperature: 0)))
        XCTAssertThrowsError(try Dist.softmax(x, DistOptions(temperature: .nan)))
        XCTAssertThrowsError(try Dist.entropy(try Tensor([0.5, -0.1, 0.6]), DistOptions(probs: true))) { e in
            XCTAssertTrue("\(e)".contains("probabilities must be >= 0"), "\(e)")
        }
        XCTAssertThrowsError(try Dist.kl(x, try Tensor([1, 2]))) { e in
            guard case AlignMathError.shapeMismatch(let m)? = e as? AlignMathError else { return XCTFail("\(e)") }
            XCTAssertTrue(m.contains("[3] vs [2]"), m)
        }
        XCTAssertThrowsError(try Dist.crossEntropy(x, targets: [3])) { e in XCTAssertTrue("\(e)".contains("target id 3"), "\(e)") }
        XCTAssertThrowsError(try Dist.crossEntropy(x, targets: [0, 1]))
        XCTAssertThrowsError(try Dist.softmax(try Tensor([1], shape: [])))
    }

    func testKLInfinityAndMaskedAgreement() throws {
        // Q masks a token P has: +inf. Both mask the same token: finite, as if it were absent.
        let p = try Tensor([0, 1, 2]), q = try Tensor([0, 1, ninf])
        XCTAssertEqual(try Dist.kl(p, q).scalar, .infinity)
        XCTAssertEqual(try Dist.kl(q, p).scalar.map { $0.isFinite }, true)
        let a = try Dist.kl(try Tensor([0.3, ninf, 1]), try Tensor([1.2, ninf, 0]))
        let b = try Dist.kl(try Tensor([0.3, 1]), try Tensor([1.2, 0]))
        XCTAssertEqual(try XCTUnwrap(a.scalar), try XCTUnwrap(b.scalar), accuracy: 1e-15)
        XCTAssertEqual(try Dist.kl(p, p).scalar, 0)
    }

    func testKLInfinityInLargeFloatBatchMatchesRowByRow() throws {
        // The Float kernel finds a row's +inf while summing the previous row (rows split
        // over chunks): every row must agree with the same row computed alone.
        let rows = 300, n = 1003
        var a = [Float](repeating: 0, count: rows * n), b = a
        for i in 0..<(rows * n) { a[i] = Float((i * 7919) % 1000) / 250 - 2; b[i] = Float((i * 104729) % 997) / 240 - 2 }
        for r in 0..<rows where r % 7 == 3 { b[r * n + 5] = -.infinity; if r % 14 == 3 { a[r * n + 5] = -.infinity } }
        let kl = try Dist.kl(try Tensor(floats: a, shape: [rows, n]), try Tensor(floats: b, shape: [rows, n]))
        for r in 0..<rows {
            let one = try Dist.kl(try Tensor(floats: Array(a[(r * n)..<((r + 1) * n)])),
                                  try Tensor(floats: Array(b[(r * n)..<((r + 1) * n)])))
            let expectInf = r % 7 == 3 && r % 14 != 3
            XCTAssertEqual(kl[flat: r] == .infinity, expectInf, "row \(r)")
            if !expectInf { XCTAssertEqual(kl[flat: r], try XCTUnwrap(one.scalar), accuracy: 1e-12, "row \(r)") }
        }
    }

    func testMixedDtypesPromote() throws {
        let p = try Tensor([0.1, 0.7, -0.2], dtype: .f32), q = try Tensor([0.3, 0.1, 0.2])
        let k = try Dist.kl(p, q)
        XCTAssertEqual(k.dtype, .f64)
        XCTAssertEqual(try XCTUnwrap(k.scalar), try XCTUnwrap(Dist.kl(p.converted(to: .f64), q).scalar), accuracy: 0)
    }

    func testFloatMatchesDoubleOnLargeBatch() throws {
        // 64 rows of 4099 logits (not a multiple of the vector width), parallel path.
        let rows = 64, n = 4099
        let v = (0..<(rows * n)).map { i in Foundation.sin(Double(i) * 0.37) * 6 + Double(i % 7) }
        let w = (0..<(rows * n)).map { i in Foundation.cos(Double(i) * 0.11) * 4 }
        let x64 = try Tensor(v, shape: [rows, n]), q64 = try Tensor(w, shape: [rows, n])
        let x32 = x64.converted(to: .f32), q32 = q64.converted(to: .f32)
        // Reference: the Double path on the Float-rounded values.
        let xr = x32.converted(to: .f64), qr = q32.converted(to: .f64)
        func close(_ a: Tensor, _ b: Tensor, _ tol: Double) {
            XCTAssertEqual(a.shape, b.shape)
            for i in 0..<a.count {
                let (g, r) = (a[flat: i], b[flat: i])
                XCTAssertLessThan(Swift.abs(g - r) / Swift.max(Swift.abs(r), 1e-30), tol, "index \(i): \(g) vs \(r)")
            }
        }
        close(try Dist.entropy(x32), try Dist.entropy(xr), 1e-5)
        close(try Dist.kl(x32, q32), try Dist.kl(xr, qr), 1e-5)
        close(try Dist.logsumexp(x32), try Dist.logsumexp(xr), 1e-6)
        close(try Dist.logSoftmax(x32).reshape([-1]).slice(0, 5000), try Dist.logSoftmax(xr).reshape([-1]).slice(0, 5000), 1e-5)
        close(try Dist.softmax(x32, DistOptions(temperature: 0.5)), try Dist.softmax(xr, DistOptions(temperature: 0.5)), 1e-4)
        // Softmax rows sum to 1.
        let s = try Dist.softmax(x64).reduce(.sum, axis: -1)
        for r in 0..<rows { XCTAssertEqual(s[flat: r], 1, accuracy: 1e-13) }
    }

    func testInterruptStopsLongCall() throws {
        defer { Interruption.install(probe: nil) }
        Interruption.install(probe: { 1 })
        let x = try Tensor.zeros([512, 4096], dtype: .f32)
        XCTAssertThrowsError(try Dist.logSoftmax(x)) { XCTAssertEqual($0 as? AlignMathError, .interrupted) }
        Interruption.install(probe: { 0 })
        XCTAssertNoThrow(try Dist.logSoftmax(x))
    }

    func testFastExpSumAccuracy() {
        // expSum (the sums' exp): within 2 ulp of libm for y > -20, within 8 ulp down to
        // the normal limit, exactly 0 below it and for -inf; NaN stays NaN.
        var worstNear: Float = 0, worstFar: Float = 0
        var y: Float = 0
        while y > FastExp.minNormalInputF {
            let (e, _) = FastExp.expSum(SIMD8<Float>(repeating: y))
            let ref = Foundation.exp(y)
            let err = Swift.abs(e[0] - ref) / ref.ulp
            if y > -20 { worstNear = Swift.max(worstNear, err) } else { worstFar = Swift.max(worstFar, err) }
            y -= 0.00731
        }
        XCTAssertLessThanOrEqual(worstNear, 2, "expSum worst error in ulp, y > -20")
        XCTAssertLessThanOrEqual(worstFar, 8, "expSum worst error in ulp, y <= -20")
        let (e, keep) = FastExp.expSum(SIMD8<Float>(-.infinity, -87.34, -100, -1e30, .nan, 0, -1, -.greatestFiniteMagnitude))
        XCTAssertEqual(e[0], 0); XCTAssertEqual(e[1], 0); XCTAssertEqual(e[2], 0); XCTAssertEqual(e[3], 0)
        XCTAssertTrue(e[4].isNaN); XCTAssertEqual(e[5], 1); XCTAssertEqual(e[6], Foundation.exp(Float(-1)), accuracy: 2 * Foundation.exp(Float(-1)).ulp)
        XCTAssertEqual(e[7], 0)
        XCTAssertEqual(keep[0], 0); XCTAssertEqual(keep[4], .max); XCTAssertEqual(keep[5], .max)
    }

    func testFastExpAccuracy() {
        var worstF: Float = 0, worstD = 0.0
        var x = -110.0
        while x < 89 {
            let f = Float(x)
            let gotF = FastExp.exp(f), refF = Foundation.exp(f)
            if refF >= Float.leastNormalMagnitude { worstF = Swift.max(worstF, Swift.abs(gotF - refF) / refF.ulp) }
            else { XCTAssertLessThanOrEqual(Swift.abs(gotF - refF), 2 * Float.leastNonzeroMagnitude, "\(f)") }
            x += 0.0137
        }
        x = -750
        while x < 709.7 {
            let got = FastExp.exp(x), ref = Foundation.exp(x)
            if ref >= Double.leastNormalMagnitude { worstD = Swift.max(worstD, Swift.abs(got - ref) / ref.ulp) }
            else { XCTAssertLessThanOrEqual(Swift.abs(got - ref), 2 * Double.leastNonzeroMagnitude, "\(x)") }
            x += 0.0913
        }
        XCTAssertLessThanOrEqual(worstF, 2, "Float exp worst error in ulp")
        XCTAssertLessThanOrEqual(worstD, 2, "Double exp worst error in ulp")
        XCTAssertEqual(FastExp.exp(-Float.infinity), 0)
        XCTAssertEqual(FastExp.exp(-Double.infinity), 0)
        XCTAssertEqual(FastExp.exp(Float.infinity), .infinity)
        XCTAssertEqual(FastExp.exp(1000.0), .infinity)
        XCTAssertTrue(FastExp.exp(Double.nan).isNaN)
    }

    func testFastExpSumDoubleAccuracy() {
        // the Double expSum (Estrin polynomial): within 2 ulp of libm over the normal range
        var worst = 0.0
        var y = 0.0
        while y > FastExp.minNormalInputD {
            let ref = Foundation.exp(y)
            worst = Swift.max(worst, Swift.abs(FastExp.expSum(SIMD4<Double>(repeating: y)).0[0] - ref) / ref.ulp)
            y -= 0.0371
        }
        XCTAssertLessThanOrEqual(worst, 2, "Double expSum worst error in ulp")
    }

    func testFastExpNormalDoubleAccuracy() {
        // expNormal (the f64 Dist kernels' exp on exponents raised to minNormalInputD): within
        // 2 ulp of libm over [minNormalInputD, 0], an irregular step so every reduction
        // interval and both ends are hit; NaN stays NaN
        var worst = 0.0
        var y = 0.0
        while y > FastExp.minNormalInputD {
            let ref = Foundation.exp(y)
            worst = Swift.max(worst, Swift.abs(FastExp.expNormal(SIMD4<Double>(repeating: y))[0] - ref) / ref.ulp)
            y -= 0.00417
        }
        for y in [0, -1e-300, -1e-12, -0.5 * Foundation.log(2.0), -Foundation.log(2.0), -3.7, FastExp.minNormalInputD] {
            let ref = Foundation.exp(y)
            XCTAssertLessThanOrEqual(Swift.abs(FastExp.expNormal(SIMD4<Double>(repeating: y))[0] - ref), 2 * ref.ulp, "\(y)")
        }
        XCTAssertLessThanOrEqual(worst, 1, "Double expNormal worst error in ulp")
        XCTAssertTrue(FastExp.expNormal(SIMD4<Double>(repeating: .nan))[0].isNaN)
        // the table exp: four lanes reading four different entries (and a NaN lane) give
        // each lane's own value
        let g = RandomGenerator(seed: 11)
        for _ in 0..<20_000 {
            let y = SIMD4<Double>(-g.uniform() * 3, -g.uniform() * 700, -g.uniform() * 0.01, -g.uniform() * 40)
            let e = FastExp.expNormal(y)
            for l in 0..<4 {
                let ref = Foundation.exp(y[l])
                XCTAssertLessThanOrEqual(Swift.abs(e[l] - ref), ref.ulp, "\(y[l])")
            }
        }
        let mixed = FastExp.expNormal(SIMD4<Double>(-1, .nan, -2, 0))
        XCTAssertEqual(mixed[0], Foundation.exp(-1.0), accuracy: Foundation.exp(-1.0).ulp)
        XCTAssertTrue(mixed[1].isNaN)
        XCTAssertEqual(mixed[3], 1)
    }

    /// Plain libm reference for one Double row: (logsumexp, entropy, softmax).
    private func reference(_ x: [Double]) -> (Double, Double, [Double]) {
        let m = x.max() ?? 0
        let se = x.reduce(0) { $0 + Foundation.exp($1 - m) }
        let lse = m + Foundation.log(se)
        let p = x.map { Foundation.exp($0 - lse) }
        let h = zip(x, p).reduce(0) { $1.1 > 0 ? $0 - $1.1 * ($1.0 - lse) : $0 }
        return (lse, h, p)
    }

    func testLongDoubleRowsAreCombinedBlockByBlock() throws {
        // rows are reduced block by block (RowF64.block), the sums rescaled whenever a block
        // raises the running maximum: the maximum in the last block, in the first, blocks of -inf
        let n = 50_000
        let rising = (0..<n).map { Double($0) / 5000 + sin(Double($0)) }
        let falling = Array(rising.reversed())
        var holes = rising.map { $0 * 0.3 }
        for i in 16_384..<32_768 { holes[i] = -.infinity }
        for x in [rising, falling, holes] {
            let (lse, h, p) = reference(x)
            let t = try Tensor(x)
            XCTAssertEqual(try Dist.logsumexp(t).scalar ?? .nan, lse, accuracy: 1e-12 * Swift.abs(lse))
            XCTAssertEqual(try Dist.entropy(t).scalar ?? .nan, h, accuracy: 1e-11 * h)
            let sm = try Dist.softmax(t).toDoubles(), ls = try Dist.logSoftmax(t).toDoubles()
            for i in stride(from: 0, to: n, by: 997) {
                XCTAssertEqual(sm[i], p[i], accuracy: 1e-13 * Swift.max(p[i], 1e-300))
                if p[i] > 0 { XCTAssertEqual(ls[i], x[i] - lse, accuracy: 1e-12 * Swift.max(1, Swift.abs(ls[i]))) }
            }
        }
        // KL of two long rows against the sum of p (log p − log q)
        let q = falling.map { 0.5 * $0 }
        let (lp, _, pp) = reference(rising), (lq, _, _) = reference(q)
        var kl = 0.0
        for i in 0..<n { kl += pp[i] * ((rising[i] - lp) - (q[i] - lq)) }
        XCTAssertEqual(try Dist.kl(Tensor(rising), Tensor(q)).scalar ?? .nan, kl, accuracy: 1e-11 * kl)
        // P with mass where a chunk of q is -inf: +inf; q with mass where p has none: finite
        var qHoles = q
        for i in 20_000..<20_010 { qHoles[i] = -.infinity }
        XCTAssertEqual(try Dist.kl(Tensor(rising), Tensor(qHoles)).scalar, .infinity)
        XCTAssertTrue((try Dist.kl(Tensor(holes), Tensor(q)).scalar ?? .nan).isFinite)
    }

    func testNaNRowsGiveNaNNotNumbersOrErrors() throws {
        for dtype in [DType.f64, .f32] {
            for n in [5, 40_000] {
                var x = (0..<n).map { Double($0 % 7) }
                x[n / 2] = .nan
                var onlyNaN = [Double](repeating: -.infinity, count: n)
                onlyNaN[n - 1] = .nan
                let ok = (0..<n).map { Double($0 % 5) }
                for row in [x, onlyNaN] {
                    let t = try Tensor(row, dtype: dtype), good = try Tensor(ok, dtype: dtype)
                    XCTAssertTrue((try Dist.logsumexp(t).scalar ?? 0).isNaN, "logsumexp \(dtype) \(n)")
                    XCTAssertTrue((try Dist.entropy(t).scalar ?? 0).isNaN, "entropy \(dtype) \(n)")
                    XCTAssertTrue((try Dist.kl(t, good).scalar ?? 0).isNaN, "kl(p NaN) \(dtype) \(n)")
                    XCTAssertTrue((try Dist.kl(good, t).scalar ?? 0).isNaN, "kl(q NaN) \(dtype) \(n)")
                    XCTAssertTrue(try Dist.softmax(t).toDoubles().allSatisfy(\.isNaN), "softmax \(dtype) \(n)")
                    XCTAssertTrue(try Dist.logSoftmax(t).toDoubles().allSatisfy(\.isNaN), "log_softmax \(dtype) \(n)")
                }
            }
        }
        // a batch: only the NaN row is NaN
        let b = try Tensor([1, 2, 3, .nan, 0, 1], shape: [2, 3])
        let e = try Dist.entropy(b).toDoubles()
        XCTAssertFalse(e[0].isNaN)
        XCTAssertTrue(e[1].isNaN)
    }
}
