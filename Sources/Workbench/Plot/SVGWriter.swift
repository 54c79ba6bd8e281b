/// Writes a `Figure` as a standalone SVG document: white background, axes with ticks and
/// labels, bars (`<rect class="bar">`), points (`<circle class="point">`), lines
/// (`<polyline class="line">`), the reference marks dashed, label rows and notes.
struct SVGWriter {
    var width = 720.0
    var height = 450.0

    private let left = 70.0, right = 24.0, fontSize = 12.0

    func render(_ f: Figure) -> String {
        let top = f.title == nil ? 24.0 : 44.0
        let below = 44.0 + Double(f.labelRows.count) * 18 + Double(f.notes.count) * 18
        let pw = width - left - right, ph = height - top - below
        func sx(_ x: Double) -> Double { left + f.fx(x) * pw }
        func sy(_ y: Double) -> Double { top + (1 - f.fy(y)) * ph }

        var s = """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" width="\(n(width))" height="\(n(height))" \
            viewBox="0 0 \(n(width)) \(n(height))" font-family="sans-serif" font-size="\(n(fontSize))">
            <style>.bar{fill:#4c78a8;stroke:#ffffff;stroke-width:0.5}.bar.reference{fill:#f58518}\
            .point{fill:#4c78a8}.point.reference{fill:#f58518}\
            .line{fill:none;stroke:#4c78a8;stroke-width:1.5}\
            .line.reference{stroke:#888888;stroke-dasharray:6 4}\
            .axis{stroke:#333333;stroke-width:1}.grid{stroke:#e5e5e5;stroke-width:1}</style>
            <defs><clipPath id="plot-area"><rect x="\(n(left - 3))" y="\(n(top - 3))" width="\(n(pw + 6))" height="\(n(ph + 6))"/></clipPath></defs>
            <rect width="100%" height="100%" fill="#ffffff"/>

            """
        if let title = f.title {
            s += #"<text class="title" x="\#(n(width / 2))" y="26" text-anchor="middle" font-size="16">\#(escape(title))</text>"# + "\n"
        }
        for t in f.yTicks {
            let y = sy(t.value)
            s += #"<line class="grid" x1="\#(n(left))" y1="\#(n(y))" x2="\#(n(left + pw))" y2="\#(n(y))"/>"# + "\n"
            s += #"<line class="axis" x1="\#(n(left - 5))" y1="\#(n(y))" x2="\#(n(left))" y2="\#(n(y))"/>"# + "\n"
            s += #"<text class="tick" x="\#(n(left - 8))" y="\#(n(y + 4))" text-anchor="end">\#(escape(t.label))</text>"# + "\n"
        }
        s += "<g clip-path=\"url(#plot-area)\">\n"
        for mark in f.marks { s += draw(mark, sx, sy, f) }
        s += "</g>\n"
        s += #"<line class="axis" x1="\#(n(left))" y1="\#(n(top))" x2="\#(n(left))" y2="\#(n(top + ph))"/>"# + "\n"
        s += #"<line class="axis" x1="\#(n(left))" y1="\#(n(top + ph))" x2="\#(n(left + pw))" y2="\#(n(top + ph))"/>"# + "\n"
        for t in f.xTicks {
            let x = sx(t.value)
            s += #"<line class="axis" x1="\#(n(x))" y1="\#(n(top + ph))" x2="\#(n(x))" y2="\#(n(top + ph + 5))"/>"# + "\n"
            s += #"<text class="tick" x="\#(n(x))" y="\#(n(top + ph + 18))" text-anchor="middle">\#(escape(t.label))</text>"# + "\n"
        }
        if let name = f.xName {
            s += #"<text class="label" x="\#(n(left + pw / 2))" y="\#(n(top + ph + 36))" text-anchor="middle">\#(escape(name))</text>"# + "\n"
        }
        if let name = f.yName {
            let cy = top + ph / 2
            s += #"<text class="label" x="16" y="\#(n(cy))" text-anchor="middle" transform="rotate(-90 16 \#(n(cy)))">\#(escape(name))</text>"# + "\n"
        }
        var y = top + ph + 56
        for row in f.labelRows {
            s += #"<text class="row-name" x="\#(n(left - 8))" y="\#(n(y))" text-anchor="end">\#(escape(row.name))</text>"# + "\n"
            for item in row.items {
                s += #"<text class="count" x="\#(n(sx(item.value)))" y="\#(n(y))" text-anchor="middle">\#(escape(item.label))</text>"# + "\n"
            }
            y += 18
        }
        for note in f.notes {
            s += #"<text class="note" x="\#(n(left))" y="\#(n(y))">\#(escape(note))</text>"# + "\n"
            y += 18
        }
        return s + "</svg>\n"
    }

    private func draw(_ mark: PlotMark, _ sx: (Double) -> Double, _ sy: (Double) -> Double, _ f: Figure) -> String {
        var s = ""
        switch mark {
        case .bars(let bars, let role):
            let cls = role == .data ? "bar" : "bar reference"
            for b in bars where b.height > f.yMin {
                let x0 = sx(b.x0), x1 = sx(b.x1), y0 = sy(b.height), y1 = sy(max(f.yMin, 0))
                s += #"<rect class="\#(cls)" x="\#(n(x0))" y="\#(n(y0))" width="\#(n(x1 - x0))" height="\#(n(y1 - y0))"/>"# + "\n"
            }
        case .points(let ps, let role):
            let cls = role == .data ? "point" : "point reference"
            for p in ps { s += #"<circle class="\#(cls)" cx="\#(n(sx(p.x)))" cy="\#(n(sy(p.y)))" r="2.5"/>"# + "\n" }
        case .lines(let runs, let role):
            let cls = role == .data ? "line" : "line reference"
            for run in runs where !run.isEmpty {
                // coordinates written as bytes (thousands of them: String(format:) per number
                // was most of the time of a big plot)
                var pts: [UInt8] = []
                pts.reserveCapacity(run.count * 14)
                for (k, p) in run.enumerated() {
                    if k > 0 { pts.append(32) }
                    PlotNumber.appendFixed2(sx(p.x), to: &pts)
                    pts.append(44)
                    PlotNumber.appendFixed2(sy(p.y), to: &pts)
                }
                s += #"<polyline class="\#(cls)" points=""# + String(decoding: pts, as: UTF8.self) + "\"/>\n"
            }
        }
        return s
    }

    /// A coordinate with at most two decimals.
    private func n(_ x: Double) -> String { PlotNumber.fixed(x, decimals: 2) }

    private func escape(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "\t", "\n": out += " "
            default: if ch.unicodeScalars.allSatisfy({ $0.value >= 0x20 }) { out.append(ch) }
            }
        }
        return out
    }
}
