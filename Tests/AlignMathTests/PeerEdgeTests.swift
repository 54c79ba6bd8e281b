import XCTest
@testable import AlignMath

/// The peers' edge cases of issue 11 against the peers' own code (Fixtures/generate_peer_edges.py,
/// peer_edges.json): TRL 1.16's group advantages with NaN rewards, OpenRLHF 0.11's and verl's
/// KL clamps, k3 to mpmath's 50 digits, jlko/semantic_uncertainty's get_semantic_ids on
/// judgments that are not transitive, Python's str.split() and SQuAD's normalize_answer.
final class PeerEdgeTests: XCTestCase {
    func fixture() throws -> [String: Any] { try RPM.load("peer_edges.json") }

    func testGroupAdvantagesWithNaNRewardsAsTRL116() throws {
        let cases = try fixture()["group_advantages"] as? [[String: Any]] ?? []
        XCTAssertEqual(cases.count, 36)
        for (i, c) in cases.enumerated() {
            let method = try RL.GroupMethod.named(c["method"] as? String ?? "")
            let scale = try RL.GroupScale.named(c["scale"] as? String ?? "")
            let got = try RL.groupAdvantages(RPM.doubles(c["rewards"]), groupSize: c["group_size"] as? Int ?? 0,
                                             method: method, scale: scale)
            RPM.assertClose(got, RPM.doubles(c["expected"]), "case \(i) \(method) \(scale)", rtol: 1e-12)
        }
    }

    func testK3IsExactToMpmath() throws {
        let kl = try fixture()["kl"] as? [String: Any] ?? [:]
        let got = try RL.kl(logp: RPM.doubles(kl["logp"]), refLogp: RPM.doubles(kl["ref"]), estimator: .k3)
        RPM.assertClose(got, RPM.doubles(kl["k3_exact"]), "k3", rtol: 4e-16 * 8)
    }

    func testClampsAsOpenRLHFAndVerl() throws {
        let kl = try fixture()["kl"] as? [String: Any] ?? [:]
        let lp = RPM.doubles(kl["logp"]), ref = RPM.doubles(kl["ref"])
        // the peers compute k3 as exp(x) - 1 - x, which cancels near 0: absolute tolerance there
        func close(_ a: [Double], _ b: [Double], _ what: String) {
            XCTAssertEqual(a.count, b.count)
            for i in 0..<min(a.count, b.count) where !(abs(a[i] - b[i]) <= 1e-12 + 1e-12 * abs(b[i])) {
                XCTFail("\(what)[\(i)]: got \(a[i]), expected \(b[i])")
            }
        }
        for e in RL.KLEstimator.allCases {
            close(try RL.kl(logp: lp, refLogp: ref, estimator: e, clamp: .symmetric(10)),
                  RPM.doubles(kl["openrlhf_\(e.rawValue)"]), "openrlhf \(e)")
            close(try RL.kl(logp: lp, refLogp: ref, estimator: e, clamp: .verl),
                  RPM.doubles(kl["verl_\(e.rawValue)"]), "verl \(e)")
        }
        // NaN stays NaN under a clamp, as torch.clamp keeps it
        XCTAssertTrue(try RL.kl(logp: [.nan], refLogp: [0], estimator: .k3, clamp: .symmetric(10))[0].isNaN)
    }

    func testSemanticIdsAsJlkoGetSemanticIds() throws {
        let cases = try fixture()["semantic_ids"] as? [[String: Any]] ?? []
        XCTAssertEqual(cases.count, 28)
        var differsFromFirstMatch = 0
        for (k, c) in cases.enumerated() {
            let implies = c["implies"] as? [[Bool]] ?? []
            let want = c["ids"] as? [Int] ?? []
            var asked: [(Int, Int)] = []
            let got = SemanticEntropy.clusters(count: implies.count) { i, j in asked.append((i, j)); return implies[i][j] }
            XCTAssertEqual(got, want, "case \(k)")
            // both directions are asked for every pair the reference asks about, i->j first
            XCTAssertEqual(asked.first.map { [$0.0, $0.1] }, [0, 1])
            XCTAssertEqual(asked.count % 2, 0)
            // the old rule (join the first cluster whose first member agrees) gives other ids here
            var reps: [Int] = [], old: [Int] = []
            for i in 0..<implies.count {
                if let c = reps.firstIndex(where: { implies[i][$0] && implies[$0][i] }) { old.append(c) } else { old.append(reps.count); reps.append(i) }
            }
            if old != want { differsFromFirstMatch += 1 }
        }
        XCTAssertGreaterThan(differsFromFirstMatch, 0, "the fixture should hold non-transitive cases")
    }

    func testWhitespaceIsPythonsStrSplit() throws {
        let text = try fixture()["text"] as? [String: Any] ?? [:]
        let splits = text["splits"] as? [[String: Any]] ?? []
        var texts: [String] = []
        for c in splits {
            let t = c["text"] as? String ?? ""
            texts.append(t)
            XCTAssertEqual(PythonWhitespace.split(t), c["tokens"] as? [String], "split of \(t.debugDescription)")
            var copy = t
            var viaBytes: [String] = []
            copy.withUTF8 { b in
                guard let p = b.baseAddress else { return }
                PythonWhitespace.forEachToken(p, b.count) { viaBytes.append(String(decoding: UnsafeBufferPointer(start: p + $0, count: $1 - $0), as: UTF8.self)) }
            }
            XCTAssertEqual(viaBytes, c["tokens"] as? [String], "bytes split of \(t.debugDescription)")
        }
        for c in text["distinct"] as? [[String: Any]] ?? [] {
            RPM.assertClose(try Metrics.distinctN(texts, n: c["n"] as? Int ?? 0), c["expected"] as? Double ?? .nan, "distinct")
        }
        for c in text["repetition"] as? [[String: Any]] ?? [] {
            RPM.assertClose(try Repetition.score(c["text"] as? String ?? "", n: c["n"] as? Int ?? 0),
                            c["expected"] as? Double ?? .nan, "rep of \((c["text"] as? String ?? "").debugDescription)")
        }
        for c in text["squad"] as? [[String: Any]] ?? [] {
            let p = c["prediction"] as? String ?? "", g = c["truth"] as? String ?? ""
            XCTAssertEqual(Metrics.squadNormalizedTokens(p), c["tokens"] as? [String], p.debugDescription)
            XCTAssertEqual(Metrics.exactMatch(p, g), c["exact"] as? Double, p.debugDescription)
            RPM.assertClose(Metrics.tokenF1(p, g), c["f1"] as? Double ?? .nan, "f1 of \(p.debugDescription)")
        }
    }
}
