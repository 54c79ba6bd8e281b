/// Draws a `Figure` as lines of text exactly `height` lines tall and at most `width`
/// columns wide (the x axis spans the whole width): an optional header (y name and title),
/// the plot area with y ticks on the left, the x axis and its tick labels, label rows and
/// notes. Colours are ANSI escapes around the data and the reference marks.
struct TextRenderer {
    var width: Int
    var height: Int
    var color: Bool

    static let minWidth = 20

    func render(_ f: Figure) throws -> String {
        let hasHeader = f.title != nil || f.yName != nil
        let notes = f.notes.flatMap(wrap)
        let fixed = (hasHeader ? 1 : 0) + 2 + f.labelRows.count + notes.count
        let plotRows = height - fixed
        guard plotRows >= 3 else {
            throw PlotError("height \(height) is too small for this plot (needs at least \(fixed + 3) lines)")
        }
        let gutter = (f.yTicks.map { $0.label.count } + f.labelRows.map { $0.name.count }).max().map { $0 + 1 } ?? 1
        let plotCols = width - gutter - 1
        guard plotCols >= 10 else {
            throw PlotError("width \(width) is too small for this plot (needs at least \(gutter + 11) columns)")
        }
        var canvas = BrailleCanvas(columns: plotCols, rows: plotRows)
        for mark in f.marks { draw(mark, f, &canvas) }

        var out: [String] = []
        if hasHeader { out.append(header(f)) }
        var tickRows: [Int: String] = [:]
        for t in f.yTicks {
            let r = Int(plotCell: (1 - f.fy(t.value)) * Double(plotRows - 1), limit: plotRows)
            if (0..<plotRows).contains(r) { tickRows[r] = t.label }
        }
        for r in 0..<plotRows {
            let label = tickRows[r] ?? ""
            var line = String(repeating: " ", count: gutter - 1 - label.count) + label + " "
            line += tickRows[r] == nil ? "│" : "┤"
            line += paintRow(canvas, r)
            out.append(trimmed(line))
        }
        let xCols = f.xTicks.map { column(f.fx($0.value), plotCols) }
        var placed: [Int] = []
        var labels = placeLabels(zip(xCols, f.xTicks.map { $0.label }).map { ($0 + gutter + 1, $1) }, keepEnds: true, placed: &placed)
        if let name = f.xName { labels = placeName(name, in: labels, from: gutter + 1) }
        var axis = Array(String(repeating: " ", count: gutter) + "└" + String(repeating: "─", count: plotCols))
        for c in placed where c > gutter && c < width { axis[c] = "┬" }
        out.append(String(axis))
        out.append(trimmed(String(labels)))
        for row in f.labelRows { out.append(labelRow(row, f, gutter: gutter, plotCols: plotCols)) }
        for note in notes { out.append(note) }
        return out.joined(separator: "\n") + "\n"
    }

    /// The header line: the y name on the left, the title centred.
    private func header(_ f: Figure) -> String {
        var line = Array(repeating: Character(" "), count: width)
        let y = Array(clip(f.yName ?? ""))
        for (i, ch) in y.enumerated() { line[i] = ch }
        if let title = f.title {
            let t = Array(clip(title, to: max(0, width - (y.isEmpty ? 0 : y.count + 2))))
            let start = max(y.isEmpty ? 0 : y.count + 2, (width - t.count) / 2)
            for (i, ch) in t.enumerated() where start + i < width { line[start + i] = ch }
        }
        return trimmed(String(line))
    }

    private func column(_ u: Double, _ cols: Int) -> Int { Int(plotCell: u * Double(cols - 1), limit: cols) }

    private func draw(_ mark: PlotMark, _ f: Figure, _ canvas: inout BrailleCanvas) {
        let w = canvas.dotWidth, h = canvas.dotHeight
        func dot(_ p: PlotPoint) -> (Int, Int) {
            (Int(plotCell: f.fx(p.x) * Double(w - 1), limit: w), Int(plotCell: (1 - f.fy(p.y)) * Double(h - 1), limit: h))
        }
        switch mark {
        case .points(let ps, let role):
            for p in ps { let (x, y) = dot(p); canvas.set(x, y, role) }
        case .lines(let runs, let role):
            for run in runs {
                guard let first = run.first else { continue }
                var (px, py) = dot(first)
                canvas.set(px, py, role)
                for p in run.dropFirst() {
                    let (x, y) = dot(p)
                    canvas.line(px, py, x, y, role)
                    (px, py) = (x, y)
                }
            }
        case .bars(let bars, let role):
            // in units of the x range (0 to 1), so a range that overflows (±1e308) works too
            let cols = canvas.columns
            let colWidth = 1 / Double(cols)
            let spans = bars.map { (f.fx($0.x0), f.fx($0.x1), $0.height) }
            for c in 0..<cols {
                let lo = Double(c) * colWidth, hi = lo + colWidth
                var best: Double?
                for (x0, x1, height) in spans {
                    let overlap = min(hi, x1) - max(lo, x0)
                    if overlap > 0, overlap >= 0.5 * min(colWidth, x1 - x0) - 1e-12 * colWidth {
                        best = max(best ?? height, height)
                    }
                }
                guard let height = best, height > f.yMin else { continue }
                let eighths = Int(plotCell: f.fy(height) * Double(canvas.rows * 8), limit: canvas.rows * 8)
                canvas.bar(column: c, eighths: max(1, eighths), role)
            }
        }
    }

    /// One row of the canvas, with colour escapes around runs of one role.
    private func paintRow(_ canvas: BrailleCanvas, _ r: Int) -> String {
        var s = ""
        var current: PlotRole?
        for c in 0..<canvas.columns {
            let cell = canvas.cell(r, c)
            let role = BrailleCanvas.role(cell)
            if color, role != current, role != nil || current != nil {
                if current != nil { s += "\u{1b}[0m" }
                if let role { s += role == .data ? "\u{1b}[36m" : "\u{1b}[33m" }
                current = role
            }
            s.append(BrailleCanvas.character(cell))
        }
        if color, current != nil { s += "\u{1b}[0m" }
        return s
    }

    /// Labels centred on their columns, left to right, skipping any that would touch one
    /// already placed; with `keepEnds` the first and last are placed first.
    private func placeLabels(_ items: [(Int, String)], keepEnds: Bool) -> [Character] {
        var placed: [Int] = []
        return placeLabels(items, keepEnds: keepEnds, placed: &placed)
    }

    /// As above, also giving the columns of the labels that were placed.
    private func placeLabels(_ items: [(Int, String)], keepEnds: Bool, placed: inout [Int]) -> [Character] {
        var line = Array(repeating: Character(" "), count: width)
        var taken = Array(repeating: false, count: width)
        func place(_ col: Int, _ text: String) {
            let t = Array(text)
            let start = min(max(0, col - t.count / 2), max(0, width - t.count))
            let end = min(width, start + t.count)
            let lo = max(0, start - 1), hi = min(width, end + 1)
            guard end > start, !taken[lo..<hi].contains(true) else { return }
            for i in start..<end { line[i] = t[i - start]; taken[i] = true }
            placed.append(col)
        }
        var order = Array(items.indices)
        if keepEnds, items.count >= 2 { order = [0, items.count - 1] + Array(1..<(items.count - 1)) }
        for i in order { place(items[i].0, items[i].1) }
        return line
    }

    /// The x name centred in the widest gap of the label line, when it fits with room to spare.
    private func placeName(_ name: String, in line: [Character], from start: Int) -> [Character] {
        var line = line
        let n = Array(name)
        var best = (start: 0, length: 0), run = 0
        for i in start...width {
            if i < width && line[i] == " " { run += 1; continue }
            if run > best.length { best = (i - run, run) }
            run = 0
        }
        guard best.length >= n.count + 4 else { return line }
        let begin = best.start + (best.length - n.count) / 2
        for (i, ch) in n.enumerated() { line[begin + i] = ch }
        return line
    }

    /// A label row (bin counts) aligned under the data, or a plain list when they collide.
    private func labelRow(_ row: PlotLabelRow, _ f: Figure, gutter: Int, plotCols: Int) -> String {
        let items = row.items.map { (column(f.fx($0.value), plotCols) + gutter + 1, $0.label) }
        var line = placeLabels(items, keepEnds: false)
        let placed = String(line).split(separator: " ").count
        guard placed == items.count else {
            return clip(row.name + ": " + row.items.map { $0.label }.joined(separator: " "))
        }
        let name = Array(row.name)
        for (i, ch) in name.enumerated() where gutter - 1 - name.count + i >= 0 {
            line[gutter - 1 - name.count + i] = ch
        }
        return trimmed(String(line))
    }

    /// A note broken at spaces into lines of at most `width` (a longer word is clipped).
    private func wrap(_ note: String) -> [String] {
        var lines: [String] = [], line = ""
        for word in note.split(separator: " ", omittingEmptySubsequences: false) {
            if !line.isEmpty && line.count + 1 + word.count > width { lines.append(line); line = "" }
            line += (line.isEmpty ? "" : " ") + word
        }
        return (lines + [line]).map { clip($0) }
    }

    private func clip(_ s: String, to n: Int? = nil) -> String {
        let n = n ?? width
        return s.count <= n ? s : String(s.prefix(max(0, n - 1))) + "…"
    }

    private func trimmed(_ s: String) -> String {
        var s = Substring(s)
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
