import Foundation
import LuaKit

/// The printed face of the lab's result tables (`sample.compare`, `rl.dry_run`,
/// `rl.kl_lab`, `reward.check`): plain Lua tables of fields (what scripts read) with a
/// metatable whose `__tostring` returns a text table drawn when the result was made (what
/// the prompt prints).
enum LabReport {
    /// A text table: `header` then `rows`, columns separated by two spaces; columns whose
    /// index is in `rightAligned` are aligned right (numbers), the others left.
    static func table(_ header: [String], _ rows: [[String]], rightAligned: Set<Int> = []) -> String {
        let all = [header] + rows
        let columns = all.map(\.count).max() ?? 0
        var widths = [Int](repeating: 0, count: columns)
        for r in all { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
        return all.map { r in
            (0..<columns).map { i -> String in
                let c = i < r.count ? r[i] : ""
                let pad = String(repeating: " ", count: max(0, widths[i] - c.count))
                return rightAligned.contains(i) ? pad + c : c + pad
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }.joined(separator: "\n")
    }

    /// Gives the table on top of the stack a metatable named `name` whose `__tostring`
    /// returns `text`. Stack: [t] -> [t].
    static func attach(_ s: LuaState, name: String, text: String) {
        s.newTable(recordCount: 2)
        s.push(name)
        s.setField("__name", of: -2)
        s.push(function: "\(name).__tostring") { a in
            a.state.push(text)
            return 1
        }
        s.setField("__tostring", of: -2)
        s.setMetatable(of: -2)
    }

    /// A number for a table cell: `digits` significant digits (%g), NaN and inf spelled out.
    static func number(_ x: Double, _ digits: Int = 4) -> String {
        guard x.isFinite else { return x.isNaN ? "nan" : (x > 0 ? "inf" : "-inf") }
        if x == 0 { return "0" }
        return String(format: "%.\(digits)g", x)
    }

    /// Pushes a Lua array of strings. Stack: [] -> [t].
    static func push(strings: [String], _ s: LuaState) {
        s.newTable(arrayCount: strings.count)
        for (i, v) in strings.enumerated() {
            s.push(v)
            s.rawSet(i + 1, of: -2)
        }
    }

    /// Pushes a Lua array of integers (1-based rows or group numbers). Stack: [] -> [t].
    static func push(integers: [Int], _ s: LuaState) {
        s.newTable(arrayCount: integers.count)
        for (i, v) in integers.enumerated() {
            s.push(v)
            s.rawSet(i + 1, of: -2)
        }
    }
}
