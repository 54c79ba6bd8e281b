import Foundation

/// PyTorch's printing (torch/_tensor_str.py), so a tensor at the prompt looks like what a
/// researcher knows: `tensor([0.7311, 0.2689], dtype=f64)`. One number format for the whole
/// tensor, chosen from its nonzero finite values (whole numbers as `2.`, fixed with 4
/// decimals, or scientific); i64 as integers, bool as true/false. Rows wrap at the line
/// width; over 1000 elements, each long axis shows its first and last 3 entries around
/// `...`, so a huge value never floods the terminal. n-d tensors also show their shape.
extension Tensor: CustomStringConvertible {
    /// Elements above which the printout is abbreviated (torch's `threshold`).
    public static let printThreshold = 1000
    /// Entries kept at each end of an abbreviated axis (torch's `edgeitems`).
    public static let printEdgeItems = 3

    /// The printout at torch's default width of 80 columns.
    public var description: String { description(lineWidth: 80) }

    /// The printout with rows wrapped at `lineWidth` columns.
    public func description(lineWidth: Int) -> String {
        let summarize = count > Tensor.printThreshold
        let fmt = Formatter(self, summarize: summarize)
        let prefix = "tensor("
        let indent = prefix.count
        var body: String
        if ndim == 0 {
            body = fmt.format(0, of: self)
        } else if count == 0 {
            // torch's `tensor([], size=(1005, 0))`: one pair of brackets whatever the shape (a
            // [1005, 0] tensor printed 1005 lines of `[]`, never summarised at 0 elements).
            body = "[]"
        } else {
            body = render(self, indent: indent, summarize: summarize, fmt: fmt, width: lineWidth)
        }
        var suffixes: [String] = []
        if ndim >= 2 { suffixes.append("shape=[" + shape.map(String.init).joined(separator: ", ") + "]") }
        suffixes.append("dtype=\(dtype)")
        var text = prefix + body
        var lastLine = text.count - (text.lastIndex(of: "\n").map { text.distance(from: text.startIndex, to: $0) } ?? -1) + 1
        for s in suffixes {
            if lastLine + s.count + 2 > lineWidth {
                text += ",\n" + String(repeating: " ", count: indent) + s
                lastLine = indent + s.count
            } else {
                text += ", " + s
                lastLine += s.count + 2
            }
        }
        return text + ")"
    }

    private func render(_ t: Tensor, indent: Int, summarize: Bool, fmt: Formatter, width: Int) -> String {
        let n = t.shape[0]
        let e = Tensor.printEdgeItems
        let abbreviated = summarize && n > 2 * e
        if t.ndim == 1 {
            let perLine = Swift.max(1, (width - indent) / (fmt.width + 2))
            var items: [String] = []
            if abbreviated {
                items = (0..<e).map { fmt.format($0, of: t) } + [" ..."] + ((n - e)..<n).map { fmt.format($0, of: t) }
            } else {
                items = (0..<n).map { fmt.format($0, of: t) }
            }
            var lines: [String] = []
            var i = 0
            while i < items.count {
                lines.append(items[i..<Swift.min(items.count, i + perLine)].joined(separator: ", "))
                i += perLine
            }
            return "[" + lines.joined(separator: ",\n" + String(repeating: " ", count: indent + 1)) + "]"
        }
        let rows: [Int?] = abbreviated ? Array(0..<e) + [nil] + Array((n - e)..<n) : Array(0..<n)
        let parts = rows.map { i -> String in
            guard let i = i, let row = try? t.select(axis: 0, i) else { return "..." }
            return render(row, indent: indent + 1, summarize: summarize, fmt: fmt, width: width)
        }
        let sep = "," + String(repeating: "\n", count: t.ndim - 1) + String(repeating: " ", count: indent + 1)
        return "[" + parts.joined(separator: sep) + "]"
    }

    /// The elements that will be printed (all, or the corners a summary shows).
    fileprivate func shownElements(summarize: Bool) -> Tensor {
        guard summarize, ndim > 0 else { return self }
        let e = Tensor.printEdgeItems
        var t = self
        for axis in 0..<ndim where shape[axis] > 2 * e {
            let head = (try? t.narrow(axis: axis, start: 0, count: e)) ?? t
            let tail = (try? t.narrow(axis: axis, start: shape[axis] - e, count: e)) ?? t
            t = (try? Tensor.cat([head, tail], axis: axis)) ?? t
        }
        return t
    }

    /// One number style for all printed values, as torch's `_Formatter`.
    struct Formatter {
        enum Mode { case int, fixed, sci, integer, boolean }
        let mode: Mode
        let width: Int

        init(_ t: Tensor, summarize: Bool) {
            let shown = t.shownElements(summarize: summarize)
            switch t.dtype {
            case .bool:
                mode = .boolean
                width = shown.count == 0 ? 1 : (shown.toDoubles().contains(0) ? 5 : 4)
                return
            case .i64:
                mode = .integer
                width = shown.toInt64s().map { String($0).count }.max() ?? 1
                return
            case .f32, .f64:
                break
            }
            let values = shown.toDoubles().filter { $0.isFinite && $0 != 0 }
            guard let hi = values.map({ Swift.abs($0) }).max(), let lo = values.map({ Swift.abs($0) }).min() else {
                mode = .int  // no nonzero finite value: torch keeps int mode, width 1
                width = 1
                return
            }
            let whole = values.allSatisfy { $0 == $0.rounded(.up) }
            if whole {
                if hi / lo > 1000 || hi > 1e8 {
                    mode = .sci
                    width = values.map { Formatter.raw($0, .sci).count }.max() ?? 1
                } else {
                    mode = .int
                    width = values.map { String(format: "%.0f", $0).count + 1 }.max() ?? 1
                }
            } else if hi / lo > 1000 || hi > 1e8 || lo < 1e-4 {
                mode = .sci
                width = values.map { Formatter.raw($0, .sci).count }.max() ?? 1
            } else {
                mode = .fixed
                width = values.map { Formatter.raw($0, .fixed).count }.max() ?? 1
            }
        }

        static func raw(_ v: Double, _ mode: Mode) -> String {
            if v.isNaN { return "nan" }
            if v.isInfinite { return v > 0 ? "inf" : "-inf" }
            switch mode {
            case .int: return String(format: "%.0f", v) + "."
            case .fixed: return String(format: "%.4f", v)
            case .sci: return String(format: "%.4e", v)
            case .integer: return String(Int64(v))
            case .boolean: return v != 0 ? "true" : "false"
            }
        }

        /// Element `i` of the 1-d (or 0-d) tensor `t`, padded to the common width.
        func format(_ i: Int, of t: Tensor) -> String {
            let s: String
            switch mode {
            case .integer: s = String(t.int64(flat: i))
            default: s = Formatter.raw(t[flat: i], mode)
            }
            return String(repeating: " ", count: Swift.max(0, width - s.count)) + s
        }
    }
}
