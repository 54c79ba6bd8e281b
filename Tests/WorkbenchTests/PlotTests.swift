import XCTest
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import TestSupport
import Workbench

/// The `plot` module from Lua. Reference numbers computed with python3 and numpy 2.4.6:
/// `numpy.histogram(x, bins=n[, range=r])` for the histograms; for calibration the bins and
/// ECE of Guo et al.'s `_ECELoss` (`conf > lo & conf <= hi` over `linspace(0, 1, bins + 1)`,
/// `sum |mean conf - accuracy| * share`).
final class PlotTests: XCTestCase {
    private func harness() throws -> LuaHarness {
        let h = try LuaHarness()
        try h.installNumberHelpers()
        try h.run("""
            A = {0.3, 1.7, -2.25, 4.1, 0.0, 3.3, 2.2, -1.1, 0.7, 5.5, 1.1, 2.9, -0.4, 3.75, 0.05,
                 1.45, 2.6, 4.95, -2.0, 0.9, 1.3, 3.1, -1.7, 2.15, 0.6}
            CONF = {0.95, 0.9, 0.85, 0.8, 0.75, 0.7, 0.65, 0.6, 0.55, 0.5, 0.45, 0.4, 0.35, 0.3,
                    0.99, 0.91, 0.62, 0.5, 0.1, 0.0}
            OK = {1, 1, 0, 1, 0, 1, 1, 0, 0, 1, 0, 0, 1, 0, 1, 0, 1, 0, 0, 0}
            """)
        return h
    }

    /// The lines of a picture returned with {print = false} (printed: results at the prompt
    /// are cut at the print width).
    private func lines(_ h: LuaHarness, _ code: String) throws -> [String] {
        _ = h.takeOutput()
        try h.run("PIC = \(code)")
        try h.run("print(PIC)")
        let text = String(h.takeOutput().dropLast())
        return text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    func testHistogramCountsEqualNumpy() throws {
        let h = try harness()
        // np.histogram(A, bins=7)
        assertNumbersClose(try h.luaNumbers("(plot.histogram(A, {bins = 7}))"), [3, 2, 6, 5, 4, 3, 2])
        assertNumbersClose(try h.luaNumbers("select(2, plot.histogram(A, {bins = 7}))"),
                           [-2.25, -1.1428571428571428, -0.03571428571428559, 1.0714285714285716,
                            2.178571428571429, 3.2857142857142865, 4.392857142857143, 5.5], accuracy: 0)
        // Values on inner edges go right; the maximum falls in the closed last bin.
        assertNumbersClose(try h.luaNumbers("(plot.histogram({0, 2, 4, 6, 8, 10, 1.999999, 2.000001, 9.9999, 5}, {bins = 5}))"),
                           [2, 2, 2, 1, 3])
        // All equal: range widened to [x - 0.5, x + 0.5].
        assertNumbersClose(try h.luaNumbers("plot.histogram({3, 3, 3}, {bins = 4})"), [0, 0, 3, 0, 2.5, 2.75, 3, 3.25, 3.5])
        // An explicit range drops what lies outside.
        assertNumbersClose(try h.luaNumbers("(plot.histogram({-0.5, 0, 0.1, 0.25, 0.5, 0.75, 1, 1.5}, {bins = 4, range = {0, 1}}))"),
                           [2, 1, 1, 2])
        // 0.1 * k: floating-point values right at the edges 1 and 2.
        try h.run("E = {} for k = 0, 30 do E[#E + 1] = 0.1 * k end")
        assertNumbersClose(try h.luaNumbers("(plot.histogram(E, {bins = 3}))"), [10, 10, 11])
        // 1000 values ((i * 7919) % 1000) / 37 - (i * 31) % 17, 13 bins.
        try h.run("F = {} for i = 1, 1000 do F[i] = (i * 7919) % 1000 / 37 - (i * 31) % 17 end")
        assertNumbersClose(try h.luaNumbers("(plot.histogram(F, {bins = 13}))"),
                           [17, 41, 63, 82, 108, 127, 120, 116, 112, 91, 64, 41, 18])
        assertNumbersClose(try h.luaNumbers("(plot.histogram(tensor(A), {bins = 7}))"), [3, 2, 6, 5, 4, 3, 2])
    }

    func testHistPictureHasAxesAndPrintsThroughTheWorkbench() throws {
        let h = try harness()
        let pic = try lines(h, "plot.hist(A, {bins = 7, width = 60, height = 15, title = 'sample', print = false})")
        XCTAssertEqual(pic.last, "", "ends in a newline")
        let body = Array(pic.dropLast())
        XCTAssertEqual(body.count, 15)
        XCTAssertEqual(body.map { $0.count }.max(), 60)
        XCTAssertTrue(body[0].hasPrefix("count") && body[0].contains("sample"), body[0])
        XCTAssertTrue(body[1].hasPrefix("6 ┤"), "max count at the top: \(body[1])")
        XCTAssertTrue(body.contains { $0.hasPrefix("0 ┤") }, "0 at the bottom")
        let labels = body[body.count - 2]
        for edge in ["-2.25", "5.5"] { XCTAssertTrue(labels.contains(edge), "edge \(edge) in \(labels)") }
        XCTAssertEqual(body[body.count - 1], "n = 25 in 7 bins of width 1.11")
        XCTAssertTrue(body[body.count - 3].hasPrefix("  └┬"), body[body.count - 3])
        XCTAssertTrue(body.joined().contains("█"))
        XCTAssertFalse(body.joined().contains("\u{1b}["), "no colour off a terminal")

        // Printed by default (through the workbench, so sessions record it), returning nothing.
        let e = h.eval("plot.hist(A, {bins = 7, width = 60, height = 15, title = 'sample'})")
        XCTAssertEqual(e.status, .ok)
        XCTAssertEqual(e.result, "")
        XCTAssertEqual(e.printed, pic.joined(separator: "\n"))
        XCTAssertEqual(e.output, e.printed)
        XCTAssertEqual(h.takeOutput(), e.printed)
        XCTAssertEqual(try h.value("select('#', plot.hist(A, {width = 40, height = 10}))"), "0")
        _ = h.takeOutput()
        let colored = try h.value("plot.hist(A, {width = 40, height = 10, print = false, color = true})")
        XCTAssertTrue(colored.contains("\u{1b}[36m") && colored.contains("\u{1b}[0m"))
    }

    func testDimensionsFollowWidthAndHeight() throws {
        let h = try harness()
        try h.run("XS = {} YS = {} for i = 1, 200 do XS[i] = i / 10 YS[i] = math.sin(i / 10) end")
        let calls = ["plot.hist(A, {bins = 7, %@})", "plot.line(YS, {%@})", "plot.line(XS, YS, {%@})",
                     "plot.scatter(XS, YS, {%@, title = 'a scatter'})", "plot.calibration(CONF, OK, {%@})"]
        for (w, ht) in [(40, 12), (80, 24), (131, 40)] {
            for c in calls {
                let code = c.replacingOccurrences(of: "%@", with: "width = \(w), height = \(ht), print = false")
                let body = try lines(h, code).dropLast()
                XCTAssertEqual(body.count, ht, code)
                XCTAssertEqual(body.map { $0.count }.max(), w, code)
            }
        }
        // Off a terminal the default is 80x24 (COLUMNS aside).
        if !Platform.isTerminal(1) && Platform.environment("COLUMNS") == nil {
            let body = try lines(h, "plot.scatter(XS, YS, {print = false})").dropLast()
            XCTAssertEqual(body.count, 24)
            XCTAssertEqual(body.map { $0.count }.max(), 80)
        }
    }

    func testLineAndScatterTicks() throws {
        let h = try harness()
        let line = try lines(h, "plot.line({3, 1, 4, 1, 5, 9, 2, 6}, {width = 50, height = 10, print = false, xlabel = 'step'})")
        XCTAssertTrue(line[0].hasPrefix("9 ┤"), line[0])
        XCTAssertTrue(line[6].hasPrefix("1 ┤"), line[6])
        XCTAssertTrue(line[7].hasPrefix("  └┬"), line[7])
        XCTAssertEqual(line[8].split(separator: " "), ["1", "4", "step", "8"], "index ticks (ends, middle) and the x name")
        XCTAssertEqual(line[9], "n = 8")
        XCTAssertTrue(line.joined().unicodeScalars.contains { (0x2801...0x28FF).contains($0.value) }, "braille dots")
        let sc = try lines(h, "plot.scatter({0, 0.5, 1}, {-2, 0, 2}, {width = 40, height = 8, print = false})")
        XCTAssertTrue(sc[0].hasPrefix(" 2 ┤") && sc[4].hasPrefix("-2 ┤"), sc.joined(separator: "\n"))
        XCTAssertEqual(sc[6].split(separator: " "), ["0", "0.5", "1"])
    }

    func testCalibrationBinsAndECE() throws {
        let h = try harness()
        let ece = try h.value("string.format('%.4f', metrics.ece(CONF, OK))")
        XCTAssertEqual(ece, "0.2715")
        let pic = try lines(h, "plot.calibration(CONF, OK, {width = 80, height = 20, print = false})")
        XCTAssertTrue(pic[0].hasPrefix("accuracy"))
        let counts = try XCTUnwrap(pic.first { $0.hasPrefix("  n ") })
        XCTAssertEqual(counts.split(separator: " ").dropFirst().compactMap { Int($0) }, [1, 0, 1, 2, 3, 2, 3, 2, 2, 3])
        XCTAssertEqual(pic[pic.count - 3], "ECE = 0.2715 (10 bins, n = 20)")
        XCTAssertEqual(pic[pic.count - 2], "accuracy 0.4500, mean confidence 0.5935")
        XCTAssertTrue(pic.contains { $0.contains("0.5") && $0.contains("0.1") && !$0.contains("┤") }, "bin edges as x ticks")
        // bins = 4, booleans for correct, the same as 0/1.
        try h.run("B = {} for i, v in ipairs(OK) do B[i] = v == 1 end")
        XCTAssertEqual(try h.value("string.format('%.4f', metrics.ece(CONF, B, {bins = 4}))"), "0.1435")
        let four = try lines(h, "plot.calibration(CONF, B, {bins = 4, width = 60, height = 16, print = false})")
        XCTAssertEqual(try XCTUnwrap(four.first { $0.hasPrefix("  n ") }).split(separator: " ").dropFirst().compactMap { Int($0) }, [1, 6, 6, 6])
        XCTAssertEqual(four[four.count - 3], "ECE = 0.1435 (4 bins, n = 20)")
        XCTAssertEqual(try h.value("plot.calibration(CONF, B, {bins = 4, width = 60, height = 16, print = false})"),
                       try h.value("plot.calibration(CONF, OK, {bins = 4, width = 60, height = 16, print = false})"))
    }

    func testSVGIsWellFormedWithTheMarks() throws {
        let h = try harness()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("plot-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let p = dir.path
        try h.run("""
            plot.hist(A, {bins = 7, width = 50, height = 12, title = 'A & <b>', svg = '\(p)/h.svg'})
            plot.scatter({1, 2, 0/0, 4}, {1, 4, 9, 16}, {width = 50, height = 12, svg = '\(p)/s.svg'})
            plot.line({1, 2, 0/0, 4, 5}, {width = 50, height = 12, svg = '\(p)/l.svg'})
            plot.calibration(CONF, OK, {width = 80, height = 20, svg = '\(p)/c.svg'})
            """)
        let hist = try SVGShape(path: "\(p)/h.svg")
        XCTAssertEqual(hist.root, "svg")
        XCTAssertEqual(hist.count("rect", class: "bar"), 7)
        XCTAssertTrue(hist.texts.contains("A & <b>"), "title escaped and read back")
        for label in ["-2.25", "5.5", "6", "0", "count"] { XCTAssertTrue(hist.texts.contains(label), label) }
        XCTAssertTrue(hist.texts.contains("n = 25 in 7 bins of width 1.11"))
        XCTAssertEqual(try SVGShape(path: "\(p)/s.svg").count("circle", class: "point"), 3)
        XCTAssertEqual(try SVGShape(path: "\(p)/l.svg").count("polyline", class: "line"), 2, "the NaN breaks the line")
        let cal = try SVGShape(path: "\(p)/c.svg")
        XCTAssertEqual(cal.count("rect", class: "bar"), 6, "a bar per bin with accuracy > 0 (9 non-empty, 3 at 0)")
        XCTAssertEqual(cal.count("polyline", class: "line reference"), 1, "the diagonal")
        XCTAssertTrue(cal.texts.contains { $0.hasPrefix("ECE = 0.2715") })
        XCTAssertTrue(cal.texts.contains("confidence") && cal.texts.contains("accuracy"))
    }

    func testNaNAndInfAreSkippedAndCounted() throws {
        let h = try harness()
        assertNumbersClose(try h.luaNumbers("(plot.histogram({1, 2, 0/0, 1/0, -1/0, 3}, {bins = 2}))"), [1, 2])
        let hist = try lines(h, "plot.hist({1, 2, 0/0, 1/0, 3}, {bins = 2, width = 60, height = 10, print = false})")
        XCTAssertEqual(hist[hist.count - 2], "n = 3 in 2 bins of width 1, 2 NaN/inf skipped")
        // A note longer than the width wraps at a space.
        let narrow = try lines(h, "plot.hist({1, 2, 0/0, 1/0, 3}, {bins = 2, width = 30, height = 10, print = false})")
        XCTAssertEqual(Array(narrow.suffix(3)), ["n = 3 in 2 bins of width 1, 2", "NaN/inf skipped", ""])
        XCTAssertEqual(narrow.count, 11)
        let sc = try lines(h, "plot.scatter({1, 2, 0/0, 4}, {1, 1/0, 3, 4}, {width = 40, height = 10, print = false})")
        XCTAssertEqual(sc[sc.count - 2], "n = 2, 2 NaN/inf skipped")
        try h.run("C = {table.unpack(CONF)} K = {table.unpack(OK)} C[21] = 0/0 K[21] = 1")
        let cal = try lines(h, "plot.calibration(C, K, {width = 80, height = 20, print = false})")
        XCTAssertEqual(cal[cal.count - 3], "ECE = 0.2715 (10 bins, n = 20, 1 NaN/inf skipped)")
    }

    func testBadArguments() throws {
        let h = try harness()
        let cases: [(String, String)] = [
            ("plot.hist({})", "plot.hist: x is empty"),
            ("plot.hist({0/0, 1/0})", "plot.hist: x has no finite values (2 NaN/inf)"),
            ("plot.hist('x')", "bad argument #1 to 'plot.hist' (tensor or array of numbers expected, got string)"),
            ("plot.hist({1, 2}, {bins = 0})", "bad argument #2 to 'plot.hist' (option 'bins' must be an integer in [1, 1000000], got 0)"),
            ("plot.hist({1, 2}, {bin = 3})",
             "bad argument #2 to 'plot.hist' (unknown option 'bin'; valid options: bins, color, height, print, range, svg, title, width, xlabel, ylabel)"),
            ("plot.hist({1, 2}, {range = {1}})", "bad argument #2 to 'plot.hist' (option 'range' must be {lo, hi}, got 1 numbers)"),
            ("plot.hist({1, 2}, {range = {2, 1}})", "plot.hist: range must have lo <= hi, got [2.0, 1.0]"),
            ("plot.hist({1, 2}, {width = 10})", "bad argument #2 to 'plot.hist' (option 'width' must be an integer in [20, 10000], got 10)"),
            ("plot.hist({1, 2}, {height = 5})", "plot.hist: height 5 is too small for this plot (needs at least 7 lines)"),
            ("plot.histogram({1, 2}, {bins = -1})", "bad argument #2 to 'plot.histogram' (option 'bins' must be an integer in [1, 1000000], got -1)"),
            ("plot.line({})", "plot.line: y is empty"),
            ("plot.line({1, 2}, {1, 2, 3})", "plot.line: x and y differ in length (2 vs 3)"),
            ("plot.line({0/0})", "plot.line: no finite values (1 NaN/inf)"),
            ("plot.scatter({1, 2}, {1})", "plot.scatter: x and y differ in length (2 vs 1)"),
            ("plot.scatter({}, {})", "plot.scatter: x is empty"),
            ("plot.scatter({1})", "bad argument #2 to 'plot.scatter' (tensor or array of numbers expected, got no value)"),
            ("plot.calibration({0.5}, {1, 0})", "plot.calibration: conf and correct differ in length (1 vs 2)"),
            ("plot.calibration({}, {})", "plot.calibration: conf is empty"),
            ("plot.calibration({1.5}, {1})", "plot.calibration: conf[1] must be in [0, 1], got 1.5"),
            ("plot.calibration({0.5, 0.2}, {1, 2})", "plot.calibration: correct[2] must be 0 or 1 (or a boolean), got 2"),
            ("plot.calibration({0.5}, {true}, {bins = 0})",
             "bad argument #3 to 'plot.calibration' (option 'bins' must be an integer in [1, 1000000], got 0)"),
            ("plot.calibration({0.5}, {'yes'})",
             "bad argument #2 to 'plot.calibration' (array of booleans or 0/1 numbers expected, got a table with a non-number entry)"),
        ]
        for (code, message) in cases { XCTAssertEqual(h.bareError(code), message, code) }
        let svg = h.bareError("plot.hist({1, 2}, {width = 40, height = 10, svg = '/nonexistent-dir/x.svg'})") ?? ""
        XCTAssertTrue(svg.hasPrefix("plot.hist: cannot write the SVG to '/nonexistent-dir/x.svg': "), svg)
    }

    func testHelp() throws {
        let h = try harness()
        for fn in ["hist", "histogram", "line", "scatter", "calibration"] {
            try h.run("help(plot.\(fn))")
            let text = h.takeOutput()
            XCTAssertTrue(text.hasPrefix("plot.\(fn)("), text)
            XCTAssertTrue(text.contains("Example: "), text)
        }
    }
}

/// The structure of an SVG file read with XMLParser (which fails on malformed XML).
private final class SVGShape: NSObject, XMLParserDelegate {
    var root: String?
    var elements: [(name: String, cls: String?)] = []
    var texts: [String] = []
    private var text: String?

    init(path: String) throws {
        super.init()
        let parser = try XCTUnwrap(XMLParser(contentsOf: URL(fileURLWithPath: path)))
        parser.delegate = self
        guard parser.parse() else {
            throw SVGError(description: "\(path) is not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "?")")
        }
    }

    func count(_ name: String, class cls: String) -> Int { elements.filter { $0.name == name && $0.cls == cls }.count }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        if root == nil { root = name }
        elements.append((name, attributes["class"]))
        if name == "text" { text = "" }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { text? += string }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "text", let t = text { texts.append(t); text = nil }
    }
}

private struct SVGError: Error, CustomStringConvertible { var description: String }
