import XCTest
import Workbench
import LuaKit
import TestSupport

/// Issue 10: a quadratic Lua pattern (`string.find(("a"):rep(1e5), ".-b")`) ran inside one
/// C call, past a sandboxed plugin's budget and a score/serve worker's row budget. The
/// stoppable matcher (LuaShim's luapattern.c) charges its steps to the same budget.
final class PatternBudgetTests: XCTestCase {
    func testSandboxedPluginRewardIsStoppedInsideAPattern() throws {
        let f = try PluginFolder()
        try f.plugin("matcher", rewards: ["slow_match"], extra: "sandbox = true,", code: """
            reward.define("slow_match", function(s) return string.find(s.completion, ".-b") and 1 or 0 end)
            """)
        let h = try f.harness(budget: 3_000_000)
        XCTAssertEqual(try h.pluginField("matcher", "status"), "loaded")
        let start = Date()
        let err = h.error("reward.get('slow_match')({completion = ('a'):rep(1e5)})") ?? ""
        XCTAssertTrue(err.contains("instruction budget exceeded (3000000 instructions)"), err)
        XCTAssertLessThan(Date().timeIntervalSince(start), 3)
        XCTAssertEqual(try h.value("reward.get('slow_match')({completion = 'aab'})"), "1")
    }

    func testScoreWorkerRowBudgetStopsAPattern() throws {
        let source = #"reward.define("slow_match", function(s) return s.completion:find(".-b") and 1 or 0 end)"#
        var task = ScoringTask(rewards: ["slow_match"], setup: { wb in try wb.lua.run(source, name: "=rewards.lua") })
        task.instructionsPerRow = 1_000_000
        let rows: [LuaValue] = [.table([.string(Array("completion".utf8)): .string(Array(repeating: UInt8(ascii: "a"), count: 100_000))]),
                                .table([.string(Array("completion".utf8)): .string(Array("aab".utf8))])]
        let start = Date()
        let scored = try ScoringEngine(workers: 1).score(records: rows, task: task)
        XCTAssertLessThan(Date().timeIntervalSince(start), 3)
        XCTAssertTrue(scored[0].error?.contains("instruction budget exceeded (1000000 instructions)") ?? false,
                      scored[0].error ?? "no error")
        XCTAssertNil(scored[1].error, "the budget is refilled for the next row")
        XCTAssertEqual(scored[1].rewards["slow_match"], 1)
    }

    /// The same for `re`: a compiled pattern's `match` runs in C from its second call
    /// (LuaShim's rematch.c) and charges its time to the row budget as the Swift path does.
    func testScoreWorkerRowBudgetStopsAnREMatch() throws {
        let source = #"""
            local P = re.compile("(a+)+$")
            reward.define("slow_re", function(s) return P:match(s.completion) and 1 or 0 end)
            """#
        var task = ScoringTask(rewards: ["slow_re"], setup: { wb in try wb.lua.run(source, name: "=rewards.lua") })
        task.instructionsPerRow = 1_000_000
        func row(_ s: String) -> LuaValue { .table([.string(Array("completion".utf8)): .string(Array(s.utf8))]) }
        let rows = [row("aa"), row(String(repeating: "a", count: 40) + "b"), row("a")]
        let start = Date()
        let scored = try ScoringEngine(workers: 1).score(records: rows, task: task)
        XCTAssertLessThan(Date().timeIntervalSince(start), 10)
        XCTAssertEqual(scored[0].rewards["slow_re"], 1)
        XCTAssertTrue(scored[1].error?.contains("instruction budget exceeded (1000000 instructions)") ?? false,
                      scored[1].error ?? "no error")
        XCTAssertNil(scored[2].error, "the budget is refilled for the next row")
        XCTAssertEqual(scored[2].rewards["slow_re"], 1)
    }
}
