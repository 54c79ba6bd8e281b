import Foundation
import XCTest
import Workbench
import LuaKit

/// What `moonlab serve` runs inside a worker: an OpenRLHF body parsed onto the worker's
/// stack, each row's record (query, prompt, label, completion), the flat results.
final class RequestScoringTests: XCTestCase {
    static let source = """
        -- Each row's record shape as a number: label (or 0) * 1000 + #completion * 10
        -- + 1 when it has a prompt + 2 when it has a query.
        reward.define("shape", function(s)
          return (s.label or 0) * 1000 + #s.completion * 10 + (s.prompt and 1 or 0) + (s.query and 2 or 0)
        end)
        reward.define("picky", function(s) if s.completion == "bad" then error("refused") end return 1 end)
        """

    func makePool(workers: Int) throws -> ScoringPool {
        try ScoringPool(workers: workers, task: ScoringTask(rewards: ["shape", "picky"],
                                                            setup: { wb in try wb.lua.run(RequestScoringTests.source, name: "=r.lua") }))
    }

    func score(_ pool: ScoringPool, _ body: String) -> Result<ScoredRequest, RequestProblem> {
        let limits = RequestLimits(deadline: .now() + .seconds(60))
        let bytes = Array(body.utf8)
        var result: Result<ScoredRequest, RequestProblem> = .failure(RequestProblem("not scored"))
        pool.run(count: 1, block: 1) { worker, _ in
            result = bytes.withUnsafeBytes { worker.scoreGetReward(body: $0, limits: limits) }
        }
        return result
    }

    /// `moonlab serve`'s detectors: a table {flag =, score =, reason =} is the three values
    /// (it was a flag with no score); a number where the flag belongs fails that row only,
    /// naming the detector.
    func testDetectorReturningATableOrANumber() throws {
        let source = """
            detect.define("tab", function(s) return {flag = #s.completion > 2, score = #s.completion, reason = "len"} end)
            detect.define("num", function(s) if s.completion == "bad" then return 1 end return false end)
            """
        let pool = try ScoringPool(workers: 1, task: ScoringTask(rewards: ["shape"], detectors: ["tab", "num"], setup: { wb in
            try wb.lua.run(RequestScoringTests.source + "\n" + source, name: "=r.lua")
        }))
        defer { pool.shutdown() }
        guard case .success(let out) = score(pool, #"{"query": ["P:abc", "P:x", "P:bad"], "prompts": ["P:", "P:", "P:"]}"#) else {
            return XCTFail("refused")
        }
        XCTAssertEqual(out.row(0).flags["tab"], DetectorFlag(flag: true, score: 3, reason: "len"))
        XCTAssertEqual(out.row(1).flags["tab"], DetectorFlag(flag: false, score: 1, reason: "len"))
        XCTAssertEqual(out.row(0).flags["num"], DetectorFlag(flag: false, score: nil, reason: nil))
        XCTAssertNil(out.row(0).error)
        XCTAssertNil(out.row(2).flags["num"])
        XCTAssertEqual(out.row(2).flags["tab"], DetectorFlag(flag: true, score: 3, reason: "len"))
        XCTAssertEqual(out.row(2).error, "num: detector 'num' returned number 1 as its flag; expected a boolean (return flag, score, reason) or a table {flag = boolean, score =, reason =}")
        XCTAssertEqual(out.values[2], 33)  // the row's reward still scored
    }

    func testRecordsOfOpenRLHFRows() throws {
        let pool = try makePool(workers: 1)
        defer { pool.shutdown() }
        // A prompt that prefixes the query is cut from the completion; one that does not
        // leaves the whole query; a null or absent label is no label.
        let body = #"{"query": ["P:abc", "Q:abcd", "P:bad", "P:"], "prompts": ["P:", "P:", "P:", "P:"], "labels": [3, null, 1.5, "x"]}"#
        guard case .success(let out) = score(pool, body) else { return XCTFail("refused") }
        XCTAssertEqual(out.count, 4)
        XCTAssertEqual(out.values[0], 3000 + 30 + 3)
        XCTAssertEqual(out.values[2], 0 + 60 + 3)
        XCTAssertEqual(out.values[4], 1500 + 30 + 3)
        XCTAssertEqual(out.outcomes[5], .failed)  // picky raised on "bad"
        XCTAssertTrue(out.failed(2))
        XCTAssertFalse(out.failed(0))
        XCTAssertEqual(out.row(2).error, "picky: r.lua:6: refused")
        XCTAssertEqual(out.outcomes[6], .failed)  // "x" * 1000 raised
        XCTAssertEqual(out.rows.count, 4)
        // No prompts and no labels.
        guard case .success(let bare) = score(pool, #"{"query": ["abc"]}"#) else { return XCTFail("refused") }
        XCTAssertEqual(bare.values, [32, 1])
        // A list item of the wrong type is refused with its position.
        guard case .failure(let problem) = score(pool, #"{"query": ["a", "b"], "prompts": ["a", null]}"#) else {
            return XCTFail("accepted")
        }
        XCTAssertEqual(problem.description, #""prompts"[1] must be a string, got null"#)
    }

    /// A JSON object where a list of rows belongs is refused (its length is 0 to Lua, so it
    /// was answered as an empty batch: every row dropped with a 200); a wrong-typed step
    /// says what it got.
    func testObjectsForListsAndWrongTypesAreRefusedWithWhatWasSent() throws {
        let pool = try makePool(workers: 1)
        defer { pool.shutdown() }
        let cases = [
            (#"{"query": {"0": "P:abc"}}"#, #""query" must be a list, got an object"#),
            (#"{"query": ["P:abc"], "prompts": {"0": "P:"}}"#, #""prompts" must be a list, got an object"#),
            (#"{"query": ["P:abc"], "labels": {"a": 1}}"#, #""labels" must be a list, got an object"#),
            (#"{"query": "P:abc"}"#, #""query" must be a list, got a string"#),
            (#"{"query": [["P:abc"]]}"#, #""query"[0] must be a string, got a list"#),
            (#"{"query": ["P:abc"], "step": "7"}"#, #""step" must be an integer, got a string"#),
            (#"{"query": ["P:abc"], "step": [7]}"#, #""step" must be an integer, got a list"#),
        ]
        for (body, message) in cases {
            guard case .failure(let problem) = score(pool, body) else { XCTFail("accepted: \(body)"); continue }
            XCTAssertEqual(problem.description, message, body)
        }
        // An empty list (and an empty object, which JSON writers emit for an empty dict) is
        // an empty batch.
        for body in [#"{"query": [], "prompts": [], "labels": []}"#, #"{"query": {}}"#] {
            guard case .success(let out) = score(pool, body) else { XCTFail("refused: \(body)"); continue }
            XCTAssertEqual(out.count, 0)
        }
    }
}
