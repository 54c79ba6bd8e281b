import LuaKit

/// A session as a Lua script: successful inputs in order (an expression entry becomes
/// `_ = ...`, so the script ends in the same state), failed ones as comments.
public enum SessionExport {
    public static func script(_ file: SessionFormat.File) throws -> String {
        let checker = try LuaState(openLibraries: false)
        var out = "-- moonlab session exported as a script (seed \(file.header.seed), started \(file.header.started))\n"
        out += "-- run it with: moonlab run --seed \(file.header.seed) FILE.lua\n"
        for e in file.entries {
            if !e.ok {
                out += "-- [\(e.n)] failed: \((e.error ?? "").replacingNewlines())\n"
                out += e.input.split(separator: "\n", omittingEmptySubsequences: false).map { "-- " + $0 }.joined(separator: "\n") + "\n"
                continue
            }
            var code = e.input
            if Evaluator.endsWithSemicolon(code) { code = Evaluator.droppingTrailingSemicolon(code) }
            if compiles(checker, "return (" + code + ")") {
                out += "_ = " + code + "\n"
            } else if compiles(checker, "return " + code) {
                out += "_ = select(1, " + code + ")\n"
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
}
