import Foundation
import XCTest
import LuaKit
import TestSupport

/// Issue 10 §5: Ctrl-C stops worker pools and loops over rows with an "interrupted" error;
/// it is never recorded as the rows' failures with the call returning as if it had finished.
final class InterruptPoolTests: XCTestCase {
    override func tearDown() { LuaInterrupt.clear() }

    /// Raises the interrupt flag after `seconds`, as Ctrl-C would while the call runs.
    private func interrupt(after seconds: Double) {
        Thread.detachNewThread {
            Thread.sleep(forTimeInterval: seconds)
            LuaInterrupt.raise()
        }
    }

    func testRewardScoreWithWorkersStopsAndRaises() throws {
        let h = try LuaHarness()
        try h.run("rows = {} for i = 1, 64 do rows[i] = {completion = 'x' .. i} end")
        try h.run("function slow(s) while true do end end")
        interrupt(after: 0.3)
        let t0 = Date()
        let e = h.error("scores, errors = reward.score(slow, rows, {workers = 2, progress = false})")
        XCTAssertTrue(e?.hasSuffix("interrupted") ?? false, "expected an interruption, got \(e ?? "a result")")
        XCTAssertLessThan(Date().timeIntervalSince(t0), 20)
        LuaInterrupt.clear()  // as the prompt does before the next entry (while pending, any code raises)
        XCTAssertEqual(try h.value("scores"), "nil", "no partial result is handed back as if complete")
        XCTAssertEqual(try h.value("1 + 1"), "2")
    }

    func testSerialScoringAndDetectionStop() throws {
        let h = try LuaHarness()
        try h.run("rows = {} for i = 1, 1000 do rows[i] = {completion = 'x' .. i} end")
        try h.run("detect.define('spin', function(s) while true do end end)")
        for call in ["reward.score(function(s) while true do end end, rows, {progress = false})",
                     "detect.run({'spin'}, rows)"] {
            interrupt(after: 0.2)
            XCTAssertTrue(h.error(call)?.hasSuffix("interrupted") ?? false, call)
            LuaInterrupt.clear()
        }
    }

    /// A loop of a few instructions around heavy native calls: the count hook (every 1000
    /// instructions) came due only after minutes; a host call that returns with Ctrl-C
    /// pending now makes the next instruction raise. And one large matmul stops between
    /// its blocks of rows.
    func testLoopsOfHeavyNativeCallsAndOneLargeMatmulStop() throws {
        let h = try LuaHarness()
        try h.run("x = tensor.zeros{1200, 1200}")
        for call in ["for i = 1, 1000 do x:matmul(x) end", "tensor.zeros{4000, 4000}:matmul(tensor.zeros{4000, 4000})"] {
            interrupt(after: 0.3)
            let t0 = Date()
            let e = h.error(call)
            XCTAssertTrue(e?.hasSuffix("interrupted") ?? false, "\(call): expected an interruption, got \(e ?? "a result")")
            XCTAssertLessThan(Date().timeIntervalSince(t0), 8, call)
            LuaInterrupt.clear()
        }
        XCTAssertEqual(try h.value("tensor{{1, 2}, {3, 4}}:matmul(tensor{{5}, {6}}):sum()"), "56.0")
    }
}
