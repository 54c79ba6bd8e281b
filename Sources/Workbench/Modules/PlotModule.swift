import Foundation
import LuaKit

extension Workbench {
    /// The `plot` module: histograms, line and scatter plots and reliability diagrams drawn
    /// in the terminal (Plot/), optionally also written as SVG.
    static func installPlot(_ wb: Workbench) throws {
        let m = ModuleBuilder(wb.lua, name: "plot", doc: """
            plot: pictures at the prompt, drawn with Unicode (braille dots, block bars)
            hist, line, scatter, calibration print a picture sized to the terminal and return
            nothing; with {print = false} they return the picture as a string instead.
            histogram returns numpy.histogram's counts and edges without drawing.
            Options of every picture: width, height (the terminal's; 80x24 off a terminal),
            title, xlabel, ylabel, svg (a path: also write the picture as SVG), print (true),
            color (true on a terminal unless NO_COLOR is set or moonlab.color = false).
            NaN and inf values are skipped and counted in the note under the picture.
            Example: plot.hist(rewards, {bins = 20, title = "rewards", svg = "rewards.svg"})
            """)
        m.function("hist", doc: """
            plot.hist(x, {bins = 10, range = nil}) -> nil | string
            Histogram of x (array or tensor) as numpy.histogram bins it: bins equal-width bins
            over [min(x), max(x)] (or range = {lo, hi}), each [lo, hi) but the last [lo, hi].
            Bars rise from the x axis, whose ticks are bin edges; the y axis counts; the note
            gives n and the bin width. Plus the picture options of `help(plot)`.
            Example: plot.hist(lengths, {bins = 30, title = "response length"})
            """) { args in
            let x = try args.doubles(1)
            let o = try args.options(2, allowed: pictureOptions + ["bins", "range"])
            let bins = try binsOption(o, args)
            var range: (Double, Double)?
            if let r = try o.doubles("range") {
                guard r.count == 2 else { throw args.error(2, "option 'range' must be {lo, hi}, got \(r.count) numbers") }
                range = (r[0], r[1])
            }
            let (figure, _) = try PlotFigures.histogram(x, bins: bins, range: range)
            return try show(figure, o, args)
        }
        m.function("histogram", doc: """
            plot.histogram(x, {bins = 10, range = nil}) -> counts, edges
            numpy.histogram(x, bins, range) without a picture: counts (bins numbers) and edges
            (bins + 1 numbers) as tensors. NaN/inf values are skipped.
            Example: counts, edges = plot.histogram(scores, {bins = 5})
            """) { args in
            let x = try args.doubles(1)
            let o = try args.options(2, allowed: ["bins", "range"])
            let bins = try binsOption(o, args)
            var range: (Double, Double)?
            if let r = try o.doubles("range") {
                guard r.count == 2 else { throw args.error(2, "option 'range' must be {lo, hi}, got \(r.count) numbers") }
                range = (r[0], r[1])
            }
            let (_, h) = try PlotFigures.histogram(x, bins: bins, range: range)
            try args.state.push(tensorOf: h.counts.map(Double.init))
            try args.state.push(tensorOf: h.edges)
            return 2
        }
        m.function("line", doc: """
            plot.line(y) | plot.line(x, y) -> nil | string
            A line through the points (i, y[i]), or (x[i], y[i]) in the given order, drawn with
            braille dots; a NaN/inf breaks the line. Axis ticks at the minimum, middle and
            maximum. Plus the picture options of `help(plot)`.
            Example: plot.line(losses, {title = "loss", xlabel = "step"})
            """) { args in
            let twoSeries = args.tensorIfAny(2) != nil || (args.type(2) == .table && args.state.rawLength(at: 2) > 0)
            let y = try args.doubles(twoSeries ? 2 : 1)
            let x = twoSeries ? try args.doubles(1) : nil
            let o = try args.options(twoSeries ? 3 : 2, allowed: pictureOptions)
            return try show(try PlotFigures.line(x: x, y: y), o, args)
        }
        m.function("scatter", doc: """
            plot.scatter(x, y) -> nil | string
            The points (x[i], y[i]) as braille dots (2x4 dots per character cell); ticks at the
            minimum, middle and maximum of each axis. Plus the picture options of `help(plot)`.
            Example: plot.scatter(lengths, rewards, {xlabel = "length", ylabel = "reward"})
            """) { args in
            let x = try args.doubles(1), y = try args.doubles(2)
            let o = try args.options(3, allowed: pictureOptions)
            return try show(try PlotFigures.scatter(x: x, y: y), o, args)
        }
        m.function("calibration", doc: """
            plot.calibration(conf, correct, {bins = 10}) -> nil | string
            Reliability diagram: confidences in [0, 1] binned as metrics.ece bins them (equal
            width, (lo, hi]); per bin a bar at its accuracy, the diagonal of perfect
            calibration, the bin counts under the axis and the ECE (= metrics.ece) under it.
            correct are booleans or 0/1. Plus the picture options of `help(plot)`.
            Example: plot.calibration(conf, correct, {bins = 15, svg = "reliability.svg"})
            """) { args in
            let conf = try args.doubles(1)
            let correct = try args.doubles(2, what: "array of booleans or 0/1 numbers")
            let o = try args.options(3, allowed: pictureOptions + ["bins"])
            let bins = try binsOption(o, args)
            return try show(try PlotFigures.calibration(conf: conf, correct: correct, bins: bins), o, args)
        }
    }

    static let pictureOptions = ["width", "height", "title", "xlabel", "ylabel", "svg", "print", "color"]

    private static func binsOption(_ o: LuaOptions, _ args: LuaArguments) throws -> Int {
        try o.count("bins", in: 1...maxBins, default: 10)
    }

    /// The largest picture, in character cells each way.
    static let maxPictureCells = 10_000

    /// Renders a figure with the picture options: prints it (returns nothing) or, with
    /// print = false, returns the text; writes the SVG when asked. Stack: [] -> [text]?.
    static func show(_ figure: Figure, _ o: LuaOptions, _ args: LuaArguments) throws -> Int32 {
        var f = figure
        if let t = try o.string("title") { f.title = t }
        if let t = try o.string("xlabel") { f.xName = t }
        if let t = try o.string("ylabel") { f.yName = t }
        let size = Workbench.of(args.state)?.pictureSize ?? Platform.terminalSize()
        let width = try o.count("width", in: TextRenderer.minWidth...maxPictureCells) ?? max(TextRenderer.minWidth, min(size.columns, maxPictureCells))
        let height = try o.count("height", in: 5...maxPictureCells) ?? max(5, min(size.rows, maxPictureCells))
        let printing = try o.boolean("print", default: true)
        let wb = Workbench.of(args.state)
        let wantsColor = printing && Platform.wantsColor(1) && wb?.setting("color") != "false"
        let color = try o.boolean("color", default: wantsColor)
        let text = try TextRenderer(width: width, height: height, color: color).render(f)
        if let path = try o.string("svg") {
            try args.checkFileAccess()
            do {
                try SVGWriter().render(f).write(toFile: path, atomically: true, encoding: .utf8)
            } catch {
                throw args.failure("cannot write the SVG to '\(path)': \(error.localizedDescription)")
            }
        }
        if printing {
            wb?.emit(text)
            return 0
        }
        args.state.push(text)
        return 1
    }
}
