/// Equal-width histogram binning exactly as `numpy.histogram(a, bins=n, range=r)`: edges
/// `linspace(lo, hi, n + 1)` over [min, max] (widened by 0.5 on each side when all values
/// are equal), bins `[lo, hi)` with the last one closed, values outside the range dropped.
struct Histogram {
    var counts: [Int]
    var edges: [Double]
    /// Values outside an explicit range (not counted).
    var outside = 0

    init(_ values: [Double], bins: Int, range: (Double, Double)? = nil) throws {
        guard bins >= 1 else { throw PlotError("bins must be at least 1, got \(bins)") }
        var first: Double, last: Double
        if let (lo, hi) = range {
            guard lo.isFinite, hi.isFinite else { throw PlotError("range must be finite, got [\(lo), \(hi)]") }
            guard lo <= hi else { throw PlotError("range must have lo <= hi, got [\(lo), \(hi)]") }
            (first, last) = (lo, hi)
        } else if let lo = values.min(), let hi = values.max() {
            (first, last) = (lo, hi)
        } else {
            (first, last) = (0, 1)
        }
        (first, last) = Figure.widened(first, last)
        // numpy.linspace: i * step + start, the last edge set to stop. When last - first
        // overflows (data spanning ±1e308) the step is taken in halves.
        let lo = first, hi = last
        if (last - first).isFinite {
            let step = (last - first) / Double(bins)
            edges = (0...bins).map { Double($0) * step + lo }
        } else {
            let half = (last / 2 - first / 2) / Double(bins)
            edges = (0...bins).map { lo + half * Double($0) + half * Double($0) }
        }
        edges[bins] = last
        counts = Array(repeating: 0, count: bins)
        let numer = Double(bins)
        for v in values {
            guard v >= first && v <= last else { outside += 1; continue }
            var i = Int(plotCell: (Figure.unit(v, lo, hi) * numer).rounded(.down), limit: bins)
            i = Swift.min(Swift.max(i, 0), bins - 1)
            if i > 0 && v < edges[i] { i -= 1 }
            if v >= edges[i + 1] && i != bins - 1 { i += 1 }
            counts[i] += 1
        }
    }

    /// The figure: bars over the bins, the edges as x ticks, counts on the y axis.
    func figure(skipped: Int) -> Figure {
        var f = Figure()
        f.xMin = edges[0]
        f.xMax = edges[edges.count - 1]
        let top = counts.max() ?? 0
        f.yMin = 0
        f.yMax = Double(max(top, 1))
        f.marks = [.bars(counts.indices.map { PlotBar(x0: edges[$0], x1: edges[$0 + 1], height: Double(counts[$0])) }, .data)]
        let width = edges[1] - edges[0]
        f.xTicks = edges.map { PlotTick(value: $0, label: PlotNumber.edge($0, width: width, span: f.xMax - f.xMin)) }
        f.yTicks = [PlotTick(value: 0, label: "0"), PlotTick(value: f.yMax, label: String(Swift.max(top, 1)))]
        if top >= 4 { f.yTicks.insert(PlotTick(value: Double(top / 2), label: String(top / 2)), at: 1) }
        f.yName = "count"
        var note = "n = \(counts.reduce(0, +)) in \(counts.count) bin\(counts.count == 1 ? "" : "s") of width \(PlotNumber.edge(width, width: width, span: width))"
        if outside > 0 { note += ", \(outside) outside the range" }
        if skipped > 0 { note += ", \(skipped) NaN/inf skipped" }
        f.notes = [note]
        return f
    }
}
