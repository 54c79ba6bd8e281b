import LuaKit

/// A session as a Lua script: successful inputs in order, failed ones as comments. An
/// expression entry becomes `_ = moonlab.show(...)`, so the script prints what the
/// session printed and ends in the same state (`_ = ...` when the entry ended in `;`).
public enum SessionExport {
    public static func script(_ file: SessionFormat.File) throws -> String {
        let checker = try LuaState(openLibraries: false)
        var out = "-- moonlab session exported as a script (seed \(file.header.seed), started \(file.header.started))\n"
        out += "-- run it with: moonlab run \(file.header.sandbox ? "--sandbox " : "")--seed \(file.header.seed) FILE.lua\n"
        if let i = file.header.initChunk {
            out += "-- MOONLAB_INIT (\(i.name == "=MOONLAB_INIT" ? "code" : String(i.name.dropFirst()))) ran first:\ndo\n"
            out += (i.code.hasPrefix("#") ? String(i.code.drop(while: { $0 != "\n" })) : i.code) + "\nend\n"
        }
        for e in file.entries {
            if !e.ok {
                out += "-- [\(e.n)] failed: \((e.error ?? "").replacingNewlines())\n"
                out += e.input.split(separator: "\n", omittingEmptySubsequences: false).map { "-- " + $0 }.joined(separator: "\n") + "\n"
                continue
            }
            var code = e.input
            let quiet = Evaluator.endsWithSemicolon(code)
            if quiet { code = Evaluator.droppingTrailingSemicolon(code) }
            let shown = quiet || e.output.isEmpty ? "_ = " : "_ = moonlab.show("
            let close = shown == "_ = " ? "" : ")"
            if compiles(checker, "return (" + code + ")") {
                out += shown + code + close + "\n"
            } else if compiles(checker, "return " + code) {
                out += quiet ? "_ = select(1, " + code + ")\n" : shown + code + close + "\n"
            } else if let last = TopLevelStatements.separators(code).last,
                      let split = TopLevelStatements.returningLast(code), compiles(checker, split) {
                let bytes = Array(code.utf8)
                let head = String(decoding: bytes[...last], as: UTF8.self)
                let tail = String(decoding: bytes[(last + 1)...], as: UTF8.self).trimmingSpacesForExport()
                out += head + " " + (quiet ? "_ = select(1, " + tail + ")" : shown + tail + close) + "\n"
            } else {
                out += e.input + "\n"
            }
        }
        return out
    }

    static func compiles(_ L: LuaState, _ code: String) -> Bool {
        do { try L.load(code, name: "=export"); L.pop(); return true } catch { return false }
    }
}

extension String {
    func replacingNewlines() -> String { split(separator: "\n").joined(separator: " ") }

    func trimmingSpacesForExport() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
