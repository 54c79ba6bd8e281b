import XCTest
@testable import AlignMath

/// POPE, token uncertainty, perplexity, semantic entropy and rep-n against
/// Fixtures/detection_pope.json and detection_uncertainty.json (generate_detection.py).
final class DetectionScoresTests: XCTestCase {
    func testPOPEOnRealQuestionFile() throws {
        let f = try XCTUnwrap(try Fixture.load("detection_pope.json") as? [String: Any])
        let answers = try XCTUnwrap(f["answers"] as? [String]), labels = try XCTUnwrap(f["labels"] as? [String])
        XCTAssertEqual(answers.count, 3000)
        let parsed = try XCTUnwrap(f["parsed"] as? [String])
        for (a, p) in zip(answers, parsed) { XCTAssertEqual(POPE.isYes(a) ? "yes" : "no", p, a) }
        let m = try POPE.evaluate(answers: answers, labels: labels)
        let w = try XCTUnwrap(f["metrics"] as? [String: Any])
        XCTAssertEqual(m.tp, w["tp"] as? Int); XCTAssertEqual(m.fp, w["fp"] as? Int)
        XCTAssertEqual(m.tn, w["tn"] as? Int); XCTAssertEqual(m.fn, w["fn"] as? Int)
        for (k, v) in [("accuracy", m.accuracy), ("precision", m.precision), ("recall", m.recall),
                       ("f1", m.f1), ("yes_ratio", m.yesRatio)] {
            XCTAssertEqual(v, w[k] as? Double ?? .nan, accuracy: 1e-15, k)
        }
        XCTAssertFalse(POPE.isYes("There is not a dog. Yes"))
        XCTAssertTrue(POPE.isYes("Nope"))
        XCTAssertTrue(POPE.isYes("NO"))
        XCTAssertFalse(POPE.isYes("Yes, no"))
        XCTAssertThrowsError(try POPE.evaluate(answers: ["yes"], labels: []))
    }

    func testTokenUncertaintyOnRealLogprobs() throws {
        let f = try XCTUnwrap(try Fixture.load("detection_uncertainty.json") as? [String: Any])
        let real = try XCTUnwrap(f["real"] as? [String: Any])
        let lp = try XCTUnwrap(real["logprobs"] as? [Double])
        XCTAssertEqual(lp.count, 475)
        let s = try TokenUncertainty.scores(logprobs: lp, topLogprobs: Array(repeating: [], count: lp.count))
        XCTAssertEqual(s.avgNegLogprob, real["avg_neg_logprob"] as? Double ?? .nan, accuracy: 1e-12)
        XCTAssertEqual(s.maxNegLogprob, real["max_neg_logprob"] as? Double ?? .nan, accuracy: 1e-12)
        XCTAssertNil(s.avgEntropy); XCTAssertNil(s.maxEntropy)
        XCTAssertEqual(try TokenUncertainty.perplexity(logprobs: lp), real["perplexity"] as? Double ?? .nan, accuracy: 1e-12)
    }

    func testEntropyOverTopLogprobs() throws {
        let f = try XCTUnwrap(try Fixture.load("detection_uncertainty.json") as? [String: Any])
        let syn = try XCTUnwrap(f["synthetic"] as? [String: Any])
        let lp = try XCTUnwrap(syn["logprobs"] as? [Double]), top = try XCTUnwrap(syn["top_logprobs"] as? [[Double]])
        let s = try TokenUncertainty.scores(logprobs: lp, topLogprobs: top)
        XCTAssertEqual(s.avgEntropy ?? .nan, syn["avg_entropy"] as? Double ?? .nan, accuracy: 1e-12)
        XCTAssertEqual(s.maxEntropy ?? .nan, syn["max_entropy"] as? Double ?? .nan, accuracy: 1e-12)
        let raw = try TokenUncertainty.scores(logprobs: lp, topLogprobs: top, renormalize: false)
        XCTAssertEqual(raw.avgEntropy ?? .nan, syn["avg_entropy_raw"] as? Double ?? .nan, accuracy: 1e-12)
        XCTAssertEqual(raw.maxEntropy ?? .nan, syn["max_entropy_raw"] as? Double ?? .nan, accuracy: 1e-12)
        XCTAssertEqual(s.avgNegLogprob, syn["avg_neg_logprob"] as? Double ?? .nan, accuracy: 1e-12)
        XCTAssertThrowsError(try TokenUncertainty.scores(logprobs: [-1], topLogprobs: []))
        XCTAssertThrowsError(try TokenUncertainty.perplexity(logprobs: []))
    }

    func testSemanticEntropy() throws {
        let f = try XCTUnwrap(try Fixture.load("detection_uncertainty.json") as? [String: Any])
        let sem = try XCTUnwrap(f["semantic"] as? [String: Any])
        let samples = try XCTUnwrap(sem["samples"] as? [String])
        func key(_ s: String) -> String {
            String(s.split(separator: " ")[0]).trimmingCharacters(in: CharacterSet(charactersIn: ".,")).lowercased()
        }
        let ids = SemanticEntropy.clusters(count: samples.count) { key(samples[$0]) == key(samples[$1]) }
        XCTAssertEqual(ids, sem["cluster_ids"] as? [Int])
        XCTAssertEqual(try SemanticEntropy.discrete(clusterIDs: ids), sem["discrete"] as? Double ?? .nan, accuracy: 1e-12)
        XCTAssertEqual(try SemanticEntropy.weighted(clusterIDs: ids, logLikelihoods: sem["loglik"] as? [Double] ?? []),
                       sem["weighted"] as? Double ?? .nan, accuracy: 1e-12)
        // one-directional equivalence does not merge
        XCTAssertEqual(SemanticEntropy.clusters(count: 2) { $0 == 1 && $1 == 0 }, [0, 1])
        XCTAssertEqual(try SemanticEntropy.discrete(clusterIDs: [0, 0, 0]), 0)
    }

    func testRepetition() throws {
        let f = try XCTUnwrap(try Fixture.load("detection_uncertainty.json") as? [String: Any])
        for c in try XCTUnwrap(f["repetition"] as? [[String: Any]]) {
            let n = c["n"] as? Int ?? 0
            XCTAssertEqual(try Repetition.score(c["text"] as? String ?? "", n: n), c["score"] as? Double ?? .nan,
                           accuracy: 1e-12, "\(c["text"] ?? "") n=\(n)")
        }
        XCTAssertThrowsError(try Repetition.score("a", n: 0))
    }
}
