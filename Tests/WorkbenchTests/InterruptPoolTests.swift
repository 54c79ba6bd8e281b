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
        XCTAssertEqual(try h.value("scores"), "nil", "no partial result is handed back as if complete")
        LuaInterrupt.clear()
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
}
