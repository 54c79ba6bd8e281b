import XCTest
import Workbench
import LuaKit

/// The Swift API of the scoring engine that `moonlab score` uses: JSON Lines in, rows out
/// in input order, per-row failures, worker setup that re-runs a rewards chunk.
final class RewardEngineTests: XCTestCase {
    func testJSONLinesAcrossWorkers() throws {
        let source = """
            reward.define("len", function(s) return #s.completion end)
            reward.define("picky", function(s) if s.id % 4 == 0 then error("id " .. s.id .. " refused") end return s.id end)
            detect.define("has_answer", function(s) return s.completion:find("<answer>") ~= nil, #s.completion, "tag" end)
            """
        var lines: [[UInt8]] = []
        for i in 1...200 {
            let c = i % 2 == 0 ? "<answer>\(i)</answer>" : "plain \(i)"
            lines.append(Array(#"{"id": \#(i), "completion": "\#(c)", "ok": true, "gold": null}"#.utf8))
        }
        lines[9] = Array(#"{"id": 10, "completion": "#.utf8)  // truncated line
        let task = ScoringTask(rewards: ["len", "picky", "format"], detectors: ["has_answer"],
                               setup: { wb in try wb.lua.run(source, name: "=rewards.lua") })
        let one = try ScoringEngine(workers: 1).score(jsonLines: lines, task: task)
        let two = try ScoringEngine(workers: 2).score(jsonLines: lines, task: task)
        XCTAssertEqual(one.count, 200)
        for (a, b) in zip(one, two) {
            XCTAssertEqual(a.error, b.error)
            for (k, v) in a.rewards { XCTAssertTrue(v == b.rewards[k] || (v.isNaN && (b.rewards[k]?.isNaN ?? false)), k) }
            XCTAssertEqual(a.flags, b.flags)
        }
        XCTAssertEqual(one[0].rewards["len"], 7)
        XCTAssertEqual(one[0].rewards["format"], 0)
        XCTAssertEqual(one[1].flags["has_answer"], DetectorFlag(flag: true, score: 18, reason: "tag"))
        XCTAssertEqual(one[3].error, "picky: rewards.lua:2: id 4 refused")
        XCTAssertEqual(one[3].rewards["len"], 18)
        XCTAssertEqual(one[9].error, "input: line 10: not valid JSON")
        XCTAssertNil(one[10].error)
    }

    func testUnknownRewardInTaskIsASetupError() {
        XCTAssertThrowsError(try ScoringEngine(workers: 2).score(records: [.table([:])], task: ScoringTask(rewards: ["nope"]))) {
            XCTAssertEqual("\($0)", "unknown reward 'nope'")
        }
    }
}
