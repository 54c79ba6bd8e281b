import Foundation

/// PyTorch-like printing, so a tensor at the prompt looks like what a researcher knows:
/// `tensor([0.7311, 0.2689], dtype=f64)`; n-d tensors nest brackets and show their shape;
/// tensors over 1000 elements show the first and last 3 entries of each long axis
/// around `...`, so a huge value never floods the terminal.
extension Tensor: CustomStringConvertible {
    /// Elements above which the printout is abbreviated (torch's `threshold`).
    public static let printThreshold = 1000
    /// Entries kept at each end of an abbreviated axis (torch's `edgeitems`).
    public static let printEdgeItems = 3

    /// The torch-style printout (see the extension's notes).
    public var description: String {
        let summarize = count > Tensor.printThreshold
        let fmt = Tensor.Formatter(values: visibleValues(summarize: summarize))
        var suffix = ""
        if ndim >= 2 {
            suffix += ", shape=[" + shape.map(String.init).joined(separator: ", ") + "]"
        }
        suffix += ", dtype=\(dtype)"
        let prefix = "tensor("
        if ndim == 0 { return prefix + fmt.format(self[flat: 0]) + suffix + ")" }
        let body = render(axis: 0, start: 0, indent: prefix.count + 1, fmt: fmt, summarize: summarize)
        return prefix + body + suffix + ")"
    }

    /// Indices (per axis) printed when summarizing.
    private func shownIndices(_ n: Int, _ summarize: Bool) -> [Int?] {
        let e = Tensor.printEdgeItems
        if summarize && n > 2 * e { return Array(0..<e).map { $0 } + [nil] + Array((n - e)..<n).map { $0 } }
        return Array(0..<n).map { $0 }
    }

    /// The values that will be printed (to choose a common format and width).
    private func visibleValues(summarize: Bool) -> [Double] {
        if !summarize { return toDoubles() }
        var out: [Double] = []
        func walk(_ axis: Int, _ start: Int) {
            let stride = shape.dropFirst(axis + 1).reduce(1, *)
            for i in shownIndices(shape[axis], true) {
                guard let i = i else { continue }
                if axis == ndim - 1 { out.append(self[flat: start + i]) } else { walk(axis + 1, start + i * stride) }
            }
        }
        if ndim > 0 { walk(0, 0) }
        return out
    }

    private func render(axis: Int, start: Int, indent: Int, fmt: Formatter, summarize: Bool) -> String {
        let n = shape[axis]
        let stride = shape.dropFirst(axis + 1).reduce(1, *)
        let idx = shownIndices(n, summarize)
        if axis == ndim - 1 {
            let items = idx.map { i in i.map { fmt.format(self[flat: start + $0]) } ?? "..." }
            return "[" + items.joined(separator: ", ") + "]"
        }
        let blank = String(repeating: "\n", count: Swift.max(1, ndim - axis - 1))
        let pad = String(repeating: " ", count: indent)
        let parts = idx.map { i -> String in
            guard let i = i else { return "..." }
            return render(axis: axis + 1, start: start + i * stride, indent: indent + 1, fmt: fmt, summarize: summarize)
        }
        return "[" + parts.joined(separator: "," + blank + pad) + "]"
    }

    /// One number style for all printed values, as torch's `_Formatter`.
    struct Formatter {
        enum Mode { case int, fixed, sci }
        let mode: Mode
        let width: Int

        init(values: [Double]) {
            let finite = values.filter { $0.isFinite }
            let mags = finite.map { Swift.abs($0) }.filter { $0 > 0 }
            if finite.allSatisfy({ $0 == $0.rounded() }) {
                mode = (mags.max() ?? 0) > 1e8 ? .sci : .int
            } else if let hi = mags.max(), let lo = mags.min(), hi / lo > 1000 || hi > 1e8 || lo < 1e-4 {
                mode = .sci
            } else {
                mode = .fixed
            }
            var w = 0
            for v in values { w = Swift.max(w, Formatter.raw(v, mode).count) }
            width = w
        }

        static func raw(_ v: Double, _ mode: Mode) -> String {
            if v.isNaN { return "nan" }
            if v.isInfinite { return v > 0 ? "inf" : "-inf" }
            switch mode {
            case .int: return String(format: "%.0f.", v)
            case .fixed: return String(format: "%.4f", v)
            case .sci: return String(format: "%.4e", v)
            }
        }

        func format(_ v: Double) -> String {
            let s = Formatter.raw(v, mode)
            return String(repeating: " ", count: Swift.max(0, width - s.count)) + s
        }
    }
}
