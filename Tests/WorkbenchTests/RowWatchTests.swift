import Foundation
import XCTest
import Workbench
import LuaKit
import LuaShim

/// A served or scored row's budget is armed lazily (LuaShim, mlshim_watch_begin): the row runs
/// without the count hook, and the row watchdog hooks it only when it is still running after
/// the grace period. Rewards here see `hookmask()`, the hook mask of the thread they run on.
/// The looping rewards are bounded by `os.clock()` (30 s) rather than `while true do end`, so
/// that a watchdog that never arms fails these tests instead of hanging them.
final class RowWatchTests: XCTestCase {
    static let source = """
        reward.define("mask", function(s) return hookmask() end)
        -- Runs until its own thread is hooked (or 20 s of CPU): the hook mask it then saw.
        reward.define("until_armed", function(s)
          local t = os.clock()
          while hookmask() == 0 and os.clock() - t < 20 do end
          return hookmask()
        end)
        local function spin() local t = os.clock() while os.clock() - t < 30 do end end
        reward.define("runaway", function(s)
          local c = s.completion
          if c == "loop" then spin() end
          if c == "coroutine" then coroutine.wrap(spin)() end
          if c == "pcall" then pcall(spin) end
          if c == "gsub" then string.gsub("ab", "%w", spin) end
          if c == "pattern" then return string.find(("a"):rep(1e5), ".-b") and 5 or 6 end
          return 1
        end)
        detect.define("slow", function(s)
          if s.completion == "loop" then spin() end
          return false
        end)
        """

    func makePool(rewards: [String], detectors: [String] = [], budget: Int) throws -> ScoringPool {
        var task = ScoringTask(rewards: rewards, detectors: detectors, setup: { wb in
            mlshim_pushcfunction(wb.lua.L, mlshim_test_hookmask)
            lua_setglobal(wb.lua.L, "hookmask")
            try wb.lua.run(RowWatchTests.source, name: "=w.lua")
        })
        task.instructionsPerRow = budget
        return try ScoringPool(workers: 1, task: task)
    }

    func score(_ pool: ScoringPool, _ completions: [String]) throws -> ScoredRequest {
        let query = completions.map { "\"\($0)\"" }.joined(separator: ", ")
        let bytes = Array(#"{"query": [\#(query)]}"#.utf8)
        let limits = RequestLimits(deadline: .now() + .seconds(600))
        var result: Result<ScoredRequest, RequestProblem> = .failure(RequestProblem("not scored"))
        pool.run(count: 1, block: 1) { worker, _ in
            result = bytes.withUnsafeBytes { worker.scoreGetReward(body: $0, limits: limits) }
        }
        return try result.get()
    }

    /// A quick row runs with no hook at all, though it has a budget (before the watchdog, every
    /// budgeted row ran with the count hook: mask 8). The grace is made long here (1 s), so
    /// that a row descheduled on a busy machine is not armed for having taken long in wall time.
    func testQuickBudgetedRowsRunWithoutTheHook() throws {
        let pool = try makePool(rewards: ["mask"], budget: 1_000_000)
        defer { pool.shutdown() }
        let saved = mlshim_watch_set_grace_us(1_000_000)
        defer { mlshim_watch_set_grace_us(saved) }
        let arms = mlshim_watch_arms()
        let out = try score(pool, Array(repeating: "x", count: 64))
        XCTAssertEqual(out.values, Array(repeating: 0, count: 64))
        XCTAssertEqual(mlshim_watch_arms(), arms, "no quick row was armed")
    }

    /// A row still running after the grace gets the count hook (from the watchdog's signal) and
    /// the budget counts from then: a watchdog that never arms leaves this reward spinning with
    /// mask 0 until its 20 s bound, and the test fails.
    func testARowRunningPastTheGraceIsArmed() throws {
        let pool = try makePool(rewards: ["until_armed"], budget: 1_000_000_000)
        defer { pool.shutdown() }
        let saved = mlshim_watch_set_grace_us(1000)
        defer { mlshim_watch_set_grace_us(saved) }
        let arms = mlshim_watch_arms()
        let out = try score(pool, ["a", "b", "c"])
        XCTAssertEqual(out.values, Array(repeating: Double(LUA_MASKCOUNT), count: 3))
        XCTAssertGreaterThanOrEqual(mlshim_watch_arms(), arms + 3)
    }

    /// Runaway rows (a loop in the reward, in a coroutine, inside pcall, in a string.gsub
    /// callback, a long C-level pattern match, a detector's loop) each fail on the instruction
    /// budget once armed; every other row is scored; later rows start unhooked again.
    func testRunawayRowsFailOnTheBudgetAndTheOthersAreScored() throws {
        let pool = try makePool(rewards: ["runaway", "mask"], detectors: ["slow"], budget: 1_000_000)
        defer { pool.shutdown() }
        let saved = mlshim_watch_set_grace_us(1000)
        defer { mlshim_watch_set_grace_us(saved) }
        let rows = ["loop", "ok", "coroutine", "ok", "pcall", "ok", "gsub", "ok", "pattern", "ok"]
        let out = try score(pool, rows)
        XCTAssertEqual(out.count, rows.count)
        for (i, c) in rows.enumerated() {
            let row = out.row(i)
            if c == "ok" {
                XCTAssertEqual(out.values[2 * i], 1, "row \(i)")
                XCTAssertNil(row.error, "row \(i)")
            } else {
                XCTAssertTrue(out.failed(i), "row \(i) (\(c)) failed")
                XCTAssertTrue(row.error?.contains("instruction budget exceeded") ?? false, "row \(i) (\(c)): \(row.error ?? "no error")")
            }
        }
        // The detector's loop (row 0) failed on the budget too.
        XCTAssertTrue(out.row(0).error?.contains("slow:") ?? false, out.row(0).error ?? "no error")
        // Then quick rows on the same state run unhooked again (a long grace, as above).
        mlshim_watch_set_grace_us(1_000_000)
        let after = try score(pool, ["ok", "ok"])
        XCTAssertEqual(after.values, [1, 0, 1, 0])
    }
}
