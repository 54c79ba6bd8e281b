import Foundation

/// Number formatting for tick labels, counts and notes: as few digits as the range needs.
enum PlotNumber {
    /// `x` with `decimals` digits after the point, trailing zeros dropped ("0.5", "12").
    static func fixed(_ x: Double, decimals: Int) -> String {
        if !x.isFinite || abs(x) >= 1e15 { return String(format: "%.3g", x) }
        var s = String(format: "%.\(max(0, min(12, decimals)))f", x)
        if s.contains(".") {
            while s.hasSuffix("0") { s.removeLast() }
            if s.hasSuffix(".") { s.removeLast() }
        }
        return s == "-0" ? "0" : s
    }

    /// A tick label for `x` on an axis spanning `span`: two significant digits of the span
    /// ("0.25" on [0, 1], "1250" on [0, 5000]); scientific notation for huge or tiny values.
    static func tick(_ x: Double, span: Double) -> String {
        let a = abs(x)
        if a >= 1e6 || (a > 0 && a < 1e-4 && span < 1e-3) {
            let s = String(format: "%.3g", x)
            return s.replacingOccurrences(of: "e+0", with: "e").replacingOccurrences(of: "e-0", with: "e-")
                .replacingOccurrences(of: "e+", with: "e")
        }
        guard span > 0, span.isFinite else { return fixed(x, decimals: 3) }
        return fixed(x, decimals: 2 - Int(plotCell: log10(span).rounded(.down), limit: 400))
    }

    /// A bin edge: two significant digits of the bin width, at least those of the span
    /// ("-2.25" for bins of width 1.1 over [-2.25, 5.5]).
    static func edge(_ x: Double, width: Double, span: Double) -> String {
        let a = abs(x)
        if a >= 1e6 || (a > 0 && a < 1e-4 && span < 1e-3) || !(width > 0) || !width.isFinite || !(span > 0) || !span.isFinite {
            return tick(x, span: span)
        }
        let d = max(1 - Int(plotCell: log10(width).rounded(.down), limit: 400), 2 - Int(plotCell: log10(span).rounded(.down), limit: 400))
        return fixed(x, decimals: d)
    }

    /// A plain number for notes: integers as integers, others with 4 significant digits.
    static func plain(_ x: Double) -> String {
        if x == x.rounded(), abs(x) < 1e15 { return String(Int(x)) }
        return tick(x, span: abs(x))
    }

    /// Ticks at the ends and the middle of [lo, hi] (ends only when `middle` is false).
    static func ticks(_ lo: Double, _ hi: Double, middle: Bool = true) -> [PlotTick] {
        let span = hi - lo
        let values = middle ? [lo, lo + span / 2, hi] : [lo, hi]
        return values.map { PlotTick(value: $0, label: tick($0, span: span)) }
    }
}

extension PlotNumber {
    /// Appends `x` with at most two decimals, trailing zeros dropped ("12.5", "3", "-0.25"),
    /// as `fixed(x, decimals: 2)` writes it, for finite coordinates of a drawing; others go
    /// through `fixed`.
    static func appendFixed2(_ x: Double, to out: inout [UInt8]) {
        let scaled = (x * 100).rounded()
        guard scaled.isFinite, Swift.abs(scaled) < 9e15 else { out.append(contentsOf: fixed(x, decimals: 2).utf8); return }
        var v = Int64(scaled)
        if v < 0 { out.append(45); v = -v }
        let whole = v / 100, frac = Int(v % 100)
        out.append(contentsOf: String(whole).utf8)
        if frac != 0 {
            out.append(46)
            out.append(UInt8(48 + frac / 10))
            if frac % 10 != 0 { out.append(UInt8(48 + frac % 10)) }
        }
    }

    /// Four decimals, as the ECE and accuracies are reported ("0.0423").
    static func fixed4(_ x: Double) -> String { String(format: "%.4f", x) }
}
