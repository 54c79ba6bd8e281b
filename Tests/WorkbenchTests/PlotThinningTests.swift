import XCTest
import TestSupport
@testable import Workbench

/// plot.line with a million points: thinned per column to what the picture can show (first,
/// last, lowest, highest), so a spike of one point still reaches the top and the SVG stays small.
final class PlotThinningTests: XCTestCase {
    func testThinningKeepsExtremesInOrder() {
        var run = (0..<100_000).map { PlotPoint(x: Double($0), y: sin(Double($0) / 300)) }
        run[54_321].y = 7
        run[70_000].y = -5
        let t = PlotFigures.thinned(run, 0, 99_999, columns: 1000)
        XCTAssertLessThanOrEqual(t.count, 4000)
        XCTAssertEqual(t.first, run.first)
        XCTAssertEqual(t.last, run.last)
        XCTAssertTrue(t.contains(run[54_321]))
        XCTAssertTrue(t.contains(run[70_000]))
        XCTAssertEqual(t.map(\.x), t.map(\.x).sorted(), "points stay in their order")
        XCTAssertEqual(PlotFigures.thinned(Array(run.prefix(3000)), 0, 2999, columns: 1000).count, 3000, "short runs are kept")
    }

    func testMillionPointLineSVGIsSmall() throws {
        let dir = NSTemporaryDirectory() + "moonlab-plot-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let h = try LuaHarness()
        try h.run("""
            local y = {}
            for i = 1, 1000000 do y[i] = math.sin(i / 5000) end
            y[777777] = 50
            plot.line(y, {svg = '\(dir)/big.svg', print = false})
            """)
        let svg = try String(contentsOfFile: "\(dir)/big.svg", encoding: .utf8)
        XCTAssertLessThan(svg.utf8.count, 1_000_000)
        XCTAssertTrue(svg.contains("n = 1000000"), "the note counts every point")
        // the spike is drawn: some polyline point sits at the top of the plot area (y = 24)
        XCTAssertTrue(svg.contains(",24 ") || svg.contains(",24\""), "the one-point spike reaches the top")
    }
}
