import AlignMath

/// The figures of `plot.hist`, `plot.line`, `plot.scatter` and `plot.calibration`, built
/// from plain Swift arrays. Non-finite values are skipped and counted in a note.
enum PlotFigures {
    static func histogram(_ x: [Double], bins: Int, range: (Double, Double)?) throws -> (Figure, Histogram) {
        guard !x.isEmpty else { throw PlotError("x is empty") }
        let finite = x.filter { $0.isFinite }
        guard !finite.isEmpty else { throw PlotError("x has no finite values (\(x.count) NaN/inf)") }
        let h = try Histogram(finite, bins: bins, range: range)
        return (h.figure(skipped: x.count - finite.count), h)
    }

    /// A line through (x[i], y[i]) in order (x = 1, 2, ... when nil); a skipped pair breaks it.
    static func line(x: [Double]?, y: [Double]) throws -> Figure {
        let (runs, skipped) = try pairs(x: x, y: y, names: ("x", "y"))
        var f = frame(runs, integerX: x == nil)
        // A million points draw the same picture as their first, last, lowest and highest
        // point per column of a grid finer than any rendering (2048 columns; the SVG plot
        // area is ~630 px wide, a terminal's braille canvas ~300 dots): the picture is kept
        // and the SVG stays small.
        f.marks = [.lines(runs.map { thinned($0, f.xMin, f.xMax, columns: thinColumns) }, .data)]
        f.notes = [note(runs.reduce(0) { $0 + $1.count }, skipped)]
        return f
    }

    /// Columns of the grid `thinned` keeps four points per.
    static let thinColumns = 2048

    /// The points of a polyline that a drawing `columns` wide can show: consecutive points in
    /// the same column are replaced by the first, the lowest, the highest and the last of
    /// them, in their order; a run short enough is kept whole.
    static func thinned(_ run: [PlotPoint], _ xMin: Double, _ xMax: Double, columns: Int) -> [PlotPoint] {
        guard run.count > 4 * columns, xMax > xMin else { return run }
        let scale = Double(columns) / (xMax - xMin)
        func column(_ x: Double) -> Int { Swift.min(columns - 1, Int((x - xMin) * scale)) }
        var out: [PlotPoint] = []
        out.reserveCapacity(4 * columns + 4)
        run.withUnsafeBufferPointer { r in
            var i = 0
            while i < r.count {
                let c = column(r[i].x)
                var j = i + 1, lo = i, hi = i
                while j < r.count && column(r[j].x) == c {
                    if r[j].y < r[lo].y { lo = j }
                    if r[j].y > r[hi].y { hi = j }
                    j += 1
                }
                var last = -1
                for k in [i, Swift.min(lo, hi), Swift.max(lo, hi), j - 1] where k > last {
                    out.append(r[k])
                    last = k
                }
                i = j
            }
        }
        return out
    }

    static func scatter(x: [Double], y: [Double]) throws -> Figure {
        let (runs, skipped) = try pairs(x: x, y: y, names: ("x", "y"))
        let points = runs.flatMap { $0 }
        var f = frame([points], integerX: false)
        f.marks = [.points(points, .data)]
        f.notes = [note(points.count, skipped)]
        return f
    }

    /// The reliability diagram: per bin of confidence `(lo, hi]` (as `metrics.ece` bins),
    /// accuracy as a bar, the diagonal of perfect calibration, bin counts under the axis
    /// and the ECE. Pairs with a NaN/inf confidence or correctness are skipped.
    static func calibration(conf: [Double], correct: [Double], bins: Int) throws -> Figure {
        guard conf.count == correct.count else {
            throw PlotError("conf and correct differ in length (\(conf.count) vs \(correct.count))")
        }
        guard !conf.isEmpty else { throw PlotError("conf is empty") }
        guard bins >= 1 else { throw PlotError("bins must be at least 1, got \(bins)") }
        var c: [Double] = [], k: [Double] = []
        for i in conf.indices where conf[i].isFinite && correct[i].isFinite {
            guard conf[i] >= 0 && conf[i] <= 1 else { throw PlotError("conf[\(i + 1)] must be in [0, 1], got \(PlotNumber.plain(conf[i]))") }
            guard correct[i] == 0 || correct[i] == 1 else {
                throw PlotError("correct[\(i + 1)] must be 0 or 1 (or a boolean), got \(PlotNumber.plain(correct[i]))")
            }
            c.append(conf[i]); k.append(correct[i])
        }
        guard !c.isEmpty else { throw PlotError("conf has no finite values (\(conf.count) NaN/inf)") }
        let ece = try Metrics.ece(confidence: c, correct: k, bins: bins)
        let step = 1 / Double(bins)
        var edges = (0...bins).map { Double($0) * step }
        edges[bins] = 1
        var count = [Int](repeating: 0, count: bins), hits = [Double](repeating: 0, count: bins)
        for (p, y) in zip(c, k) where p > 0 {
            var b = min(bins - 1, max(0, Int((p * Double(bins)).rounded(.up)) - 1))
            while b > 0 && !(p > edges[b]) { b -= 1 }
            while b < bins - 1 && p > edges[b + 1] { b += 1 }
            count[b] += 1
            hits[b] += y
        }
        var f = Figure()
        f.xName = "confidence"
        f.yName = "accuracy"
        f.marks = [
            .bars((0..<bins).filter { count[$0] > 0 }.map {
                PlotBar(x0: edges[$0], x1: edges[$0 + 1], height: hits[$0] / Double(count[$0]))
            }, .data),
            .lines([[PlotPoint(x: 0, y: 0), PlotPoint(x: 1, y: 1)]], .reference),
        ]
        f.xTicks = edges.map { PlotTick(value: $0, label: PlotNumber.edge($0, width: step, span: 1)) }
        f.yTicks = PlotNumber.ticks(0, 1)
        f.labelRows = [PlotLabelRow(name: "n", items: (0..<bins).map {
            PlotTick(value: (edges[$0] + edges[$0 + 1]) / 2, label: String(count[$0]))
        })]
        let acc = k.reduce(0, +) / Double(k.count), mean = c.reduce(0, +) / Double(c.count)
        var first = "ECE = \(PlotNumber.fixed4(ece)) (\(bins) bin\(bins == 1 ? "" : "s"), n = \(c.count)"
        first += conf.count > c.count ? ", \(conf.count - c.count) NaN/inf skipped)" : ")"
        f.notes = [first, "accuracy \(PlotNumber.fixed4(acc)), mean confidence \(PlotNumber.fixed4(mean))"]
        return f
    }

    /// Finite (x, y) pairs, split into runs where a pair was skipped.
    private static func pairs(x: [Double]?, y: [Double], names: (String, String)) throws -> ([[PlotPoint]], Int) {
        if let x, x.count != y.count {
            throw PlotError("\(names.0) and \(names.1) differ in length (\(x.count) vs \(y.count))")
        }
        guard !y.isEmpty else { throw PlotError("\(x == nil ? names.1 : names.0) is empty") }
        var runs: [[PlotPoint]] = [[]], skipped = 0
        for i in y.indices {
            let xi = x?[i] ?? Double(i + 1)
            if xi.isFinite && y[i].isFinite {
                runs[runs.count - 1].append(PlotPoint(x: xi, y: y[i]))
            } else {
                skipped += 1
                if !(runs[runs.count - 1].isEmpty) { runs.append([]) }
            }
        }
        runs.removeAll { $0.isEmpty }
        guard !runs.isEmpty else { throw PlotError("no finite values (\(skipped) NaN/inf)") }
        return (runs, skipped)
    }

    /// Ranges and min/mid/max ticks around the points; equal ends are widened by 0.5.
    private static func frame(_ runs: [[PlotPoint]], integerX: Bool) -> Figure {
        var f = Figure()
        var x0 = Double.infinity, x1 = -Double.infinity, y0 = Double.infinity, y1 = -Double.infinity
        for run in runs {
            for p in run {
                x0 = Swift.min(x0, p.x); x1 = Swift.max(x1, p.x)
                y0 = Swift.min(y0, p.y); y1 = Swift.max(y1, p.y)
            }
        }
        func range(_ lo: Double, _ hi: Double) -> (Double, Double) {
            lo <= hi ? Figure.widened(lo, hi) : Figure.widened(0, 1)
        }
        (f.xMin, f.xMax) = range(x0, x1)
        (f.yMin, f.yMax) = range(y0, y1)
        f.yTicks = PlotNumber.ticks(f.yMin, f.yMax)
        if integerX {
            let lo = f.xMin.rounded(.up), hi = f.xMax.rounded(.down), mid = (lo / 2 + hi / 2).rounded(.down)
            f.xTicks = (hi - lo >= 4 ? [lo, mid, hi] : hi > lo ? [lo, hi] : [lo]).map { PlotTick(value: $0, label: PlotNumber.plain($0)) }
        } else {
            f.xTicks = PlotNumber.ticks(f.xMin, f.xMax)
        }
        return f
    }

    private static func note(_ n: Int, _ skipped: Int) -> String {
        "n = \(n)" + (skipped > 0 ? ", \(skipped) NaN/inf skipped" : "")
    }
}
