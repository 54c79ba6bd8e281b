import LuaKit
import AlignMath

/// `chain:explain` as a Lua table: one entry per stage (`input` first) with name, count,
/// mass, entropy and top = {{id =, prob =, text =}}, and a metatable whose `__tostring`
/// draws it as an aligned text table (what the prompt prints).
enum SampleExplain {
    static let metaKey = "moonlab.sample.explain"

    /// Pushes the report table. Stack: [] -> [report].
    static func push(_ s: LuaState, _ reports: [StageReport], vocab: SampleVocab?) throws {
        s.newTable(arrayCount: reports.count, recordCount: 0)
        for (i, r) in reports.enumerated() {
            s.newTable(arrayCount: 0, recordCount: 5)
            s.push(r.name); s.setField("name", of: -2)
            s.push(r.count); s.setField("count", of: -2)
            s.push(r.mass); s.setField("mass", of: -2)
            s.push(r.entropy); s.setField("entropy", of: -2)
            s.newTable(arrayCount: r.top.count, recordCount: 0)
            for (j, tp) in r.top.enumerated() {
                s.newTable(arrayCount: 0, recordCount: 3)
                s.push(tp.id); s.setField("id", of: -2)
                s.push(tp.prob); s.setField("prob", of: -2)
                if let text = vocab?.text(tp.id) { s.push(text); s.setField("text", of: -2) }
                s.rawSet(j + 1, of: -2)
            }
            s.setField("top", of: -2)
            s.rawSet(i + 1, of: -2)
        }
        pushMetatable(s)
        s.setMetatable(of: -2)
    }

    /// The shared metatable, made on first use. Stack: [] -> [mt].
    private static func pushMetatable(_ s: LuaState) {
        s.pushRegistry()
        if s.getField(metaKey, of: -1) == .table { s.remove(at: -2); return }
        s.pop()
        s.newTable()
        s.push("sample.explain"); s.setField("__name", of: -2)
        s.push(function: "sample.explain.__tostring") { a in
            try a.table(1)
            a.state.push(render(a.state, 1))
            return 1
        }
        s.setField("__tostring", of: -2)
        s.pushValue(at: -1)
        s.setField(metaKey, of: -3)
        s.remove(at: -2)
    }

    /// One row of the printed table, read back from Lua (so an edited report prints as edited).
    struct Row { var name = "?", kept = "", mass = "", entropy = "", top = "" }

    /// The aligned text table: stage | kept | mass | entropy | top tokens.
    static func render(_ s: LuaState, _ index: Int32) -> String {
        let t = s.absolute(index)
        var rows: [Row] = [Row(name: "stage", kept: "kept", mass: "mass", entropy: "entropy", top: "top tokens (prob)")]
        for i in 0..<s.rawLength(at: t) {
            s.rawGet(i + 1, of: t)
            defer { s.pop() }
            guard s.type(at: -1) == .table else { continue }
            var r = Row()
            if s.getField("name", of: -1) == .string { r.name = s.string(at: -1) ?? "?" }
            s.pop()
            if s.getField("count", of: -1) == .number { r.kept = s.describe(at: -1) }
            s.pop()
            if s.getField("mass", of: -1) == .number, let m = s.number(at: -1) { r.mass = fixed(m, 4) }
            s.pop()
            if s.getField("entropy", of: -1) == .number, let e = s.number(at: -1) { r.entropy = fixed(e, 3) }
            s.pop()
            if s.getField("top", of: -1) == .table { r.top = tops(s) }
            s.pop()
            rows.append(r)
        }
        func width(_ k: KeyPath<Row, String>) -> Int { rows.map { $0[keyPath: k].count }.max() ?? 0 }
        let wn = width(\.name), wk = width(\.kept), wm = width(\.mass), we = width(\.entropy)
        func left(_ x: String, _ w: Int) -> String { x + String(repeating: " ", count: max(0, w - x.count)) }
        func right(_ x: String, _ w: Int) -> String { String(repeating: " ", count: max(0, w - x.count)) + x }
        return rows.map { r in
            [left(r.name, wn), right(r.kept, wk), right(r.mass, wm), right(r.entropy, we), r.top]
                .joined(separator: "  ").trimmingTrailingSpaces()
        }.joined(separator: "\n")
    }

    /// The `top` list on the stack top as `"text" 0.412  #17 0.101 ...`.
    private static func tops(_ s: LuaState) -> String {
        var parts: [String] = []
        for j in 0..<s.rawLength(at: -1) {
            s.rawGet(j + 1, of: -1)
            defer { s.pop() }
            guard s.type(at: -1) == .table else { continue }
            var label = "?"
            if s.getField("id", of: -1) == .number { label = "#" + s.describe(at: -1) }
            s.pop()
            if s.getField("text", of: -1) == .string, let text = s.string(at: -1) { label = quoted(text) }
            s.pop()
            var prob = ""
            if s.getField("prob", of: -1) == .number, let p = s.number(at: -1) { prob = fixed(p, 3) }
            s.pop()
            parts.append("\(label) \(prob)")
        }
        return parts.joined(separator: "  ")
    }

    /// A token's text for display: quoted, newlines and control characters escaped, at most
    /// 16 characters.
    static func quoted(_ text: String) -> String {
        var out = PrettyPrinter.escaped(text)
        if out.count > 16 { out = String(out.prefix(15)) + "…" }
        return "\"\(out)\""
    }

    /// `x` with `digits` decimals (C's %.Nf, without Foundation's locale).
    static func fixed(_ x: Double, _ digits: Int) -> String {
        guard x.isFinite else { return x.isNaN ? "nan" : (x > 0 ? "inf" : "-inf") }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let r = (abs(x) * scale).rounded()
        let whole = Int(r / scale)
        let frac = Int(r - Double(whole) * scale)
        var f = String(frac)
        while f.count < digits { f = "0" + f }
        return (x < 0 && r != 0 ? "-" : "") + String(whole) + (digits > 0 ? "." + f : "")
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
