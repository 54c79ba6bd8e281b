import XCTest
@testable import AlignMath

/// MinHash estimates against exact Jaccard similarity, LSH parameters against datasketch's
/// choice, and near-duplicate removal on planted duplicates.
final class NearDuplicatesTests: XCTestCase {
    /// Texts of 40 words from a vocabulary of 500, and variants sharing a chosen share of words.
    func words(_ n: Int, _ state: inout UInt64) -> [String] {
        (0..<n).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return "w\((state >> 33) % 500)"
        }
    }

    /// Over pairs spanning Jaccard 0..1, each estimate is within 4 standard errors
    /// (sqrt(J (1 - J) / num_perm)) of the exact value, and the mean error is near 0.
    func testEstimatesAgreeWithExactJaccard() throws {
        let h = try MinHasher(numPerm: 256, shingle: 2, seed: 7)
        var state: UInt64 = 42
        var errors: [Double] = []
        for k in 0..<200 {
            let a = words(40, &state)
            var b = a
            let changes = k % 41
            for i in 0..<changes { b[(i * 7) % 40] = "x\(k)_\(i)" }
            let x = a.joined(separator: " "), y = b.joined(separator: " ")
            let exact = h.exactJaccard(x, y)
            let sx = h.signature(x), sy = h.signature(y)
            let est = sx.withUnsafeBufferPointer { p in sy.withUnsafeBufferPointer { q in MinHasher.estimate(p, q) } }
            let se = max(sqrt(exact * (1 - exact) / 256), 1e-9)
            XCTAssertLessThanOrEqual(abs(est - exact), 4 * se + 1e-12, "pair \(k): estimate \(est), exact \(exact)")
            errors.append(est - exact)
        }
        XCTAssertLessThan(abs(errors.reduce(0, +) / Double(errors.count)), 0.01)
    }

    func testSignaturesAreDeterministicForASeedAndDifferAcrossSeeds() throws {
        let t = "the quick brown fox jumps over the lazy dog"
        XCTAssertEqual(try MinHasher(seed: 3).signature(t), try MinHasher(seed: 3).signature(t))
        XCTAssertNotEqual(try MinHasher(seed: 3).signature(t), try MinHasher(seed: 4).signature(t))
        XCTAssertEqual(try MinHasher(shingle: 2).exactJaccard("A b C", "a B c"), 1, "lower-cased")
        XCTAssertEqual(try MinHasher(shingle: 2).exactJaccard("a b  c\n", "a b c"), 1, "whitespace as str.split()")
        XCTAssertEqual(try MinHasher(shingle: 5).shingleHashes("two words").count, 1, "fewer words than a shingle: one shingle")
        XCTAssertThrowsError(try MinHasher(numPerm: 0))
    }

    /// datasketch 2.0.0's MinHashLSH(threshold, num_perm = 128).b/.r (scipy's quad
    /// integration): 0.85 -> 8 x 16, 0.5 -> 25 x 5, 0.9 -> 5 x 25, 0.8 -> 9 x 13, 0.7 -> 14 x 9
    /// (`python -c "from datasketch import MinHashLSH; l = MinHashLSH(threshold=t, num_perm=128); print(l.b, l.r)"`).
    func testBandsAndRowsAreDatasketchsChoice() {
        for (t, b, r) in [(0.85, 8, 16), (0.5, 25, 5), (0.9, 5, 25), (0.8, 9, 13), (0.7, 14, 9)] {
            let got = NearDuplicates.optimalBands(threshold: t, numPerm: 128)
            XCTAssertTrue(got == (b, r), "threshold \(t): \(got) vs datasketch's (\(b), \(r))")
        }
    }

    func testPlantedNearDuplicatesAreFoundAndTheFirstOfEachClusterIsKept() throws {
        var state: UInt64 = 9
        var texts: [String] = []
        var planted: [Int: Int] = [:]
        for i in 0..<400 {
            if i % 10 == 9 {
                var w = texts[i - 5].split(separator: " ").map(String.init)
                w[39] = "changed"  // one word of 40 changed: Jaccard of 5-word shingles ~ 0.9
                texts.append(w.joined(separator: " "))
                planted[i] = i - 5
            } else {
                texts.append(words(40, &state).joined(separator: " "))
            }
        }
        let d = try NearDuplicates(hasher: try MinHasher(numPerm: 128, shingle: 5, seed: 1), threshold: 0.8)
        let r = try d.run(texts)
        for (i, x) in r.enumerated() {
            if let p = planted[i] { XCTAssertEqual(x?.kept, p, "planted duplicate \(i)") } else { XCTAssertNil(x, "\(i)") }
        }
        XCTAssertThrowsError(try NearDuplicates(hasher: try MinHasher(), threshold: 1.5))
    }
}
