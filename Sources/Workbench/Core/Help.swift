import LuaKit

/// Docstrings for everything Workbench registers, kept in a weak-keyed registry table
/// (function or module table -> {name =, doc =, module =}), so `help(x)` finds the doc
/// of the value itself, whatever name it was reached by.
public enum Help {
    static let registryKey = "moonlab.docs"

    /// Pushes the docs table, creating it on first use. Stack: [] -> [docs].
    static func pushTable(_ state: LuaState) {
        state.pushRegistry()
        if state.getField(registryKey) != .table {
            state.pop()
            state.newTable()
            state.newTable()
            state.push("k")
            state.setField("__mode")
            state.setMetatable(of: -2)
            state.pushValue(at: -1)
            state.setField(registryKey, of: -3)
        }
        state.remove(at: -2)
    }

    /// Records the doc of the value at `value`. Stack-neutral.
    public static func register(_ state: LuaState, value: Int32, name: String, doc: String, isModule: Bool) {
        let v = state.absolute(value)
        pushTable(state)
        state.pushValue(at: v)
        state.newTable()
        state.push(name); state.setField("name")
        state.push(doc); state.setField("doc")
        state.push(isModule); state.setField("module")
        state.rawSet(of: -3)
        state.pop()
        if isModule { modules.insert(name) }
    }

    nonisolated(unsafe) static var modules: Set<String> = []

    /// The doc entry of the value at `index`: (name, doc, isModule).
    public static func entry(_ state: LuaState, at index: Int32) -> (name: String, doc: String, isModule: Bool)? {
        let v = state.absolute(index)
        pushTable(state)
        state.pushValue(at: v)
        defer { state.pop(2) }
        guard state.rawGet(of: -2) == .table else { return nil }
        state.getField("name"); let name = state.string(at: -1) ?? "?"; state.pop()
        state.getField("doc"); let doc = state.string(at: -1) ?? ""; state.pop()
        state.getField("module"); let isModule = state.boolean(at: -1); state.pop()
        return (name, doc, isModule)
    }

    /// The first line of a doc (its signature or summary).
    static func summary(_ doc: String) -> String {
        let lines = doc.split(separator: "\n", omittingEmptySubsequences: true)
        return lines.first.map(String.init) ?? ""
    }

    /// The text `help(x)` prints for the value at `index`.
    public static func text(_ state: LuaState, at index: Int32) -> String {
        let v = state.absolute(index)
        if state.type(at: v) == .string, let path = state.string(at: v) {
            guard pushPath(state, path) else { return "help: no such name '\(path)'" }
            defer { state.pop() }
            return text(state, at: -1)
        }
        guard let e = entry(state, at: v) else {
            if state.type(at: v) == .table {
                return "a table without documentation; fields: " + state.stringKeys(of: v).sorted().joined(separator: ", ")
            }
            if state.type(at: v) == .function {
                return "a function without documentation (Lua's own functions are documented in the Lua 5.4 manual)"
            }
            return "\(state.typeName(at: v)): no documentation"
        }
        guard e.isModule else { return e.doc }
        var out = e.doc + "\n\nFunctions:\n"
        var rows: [(String, String)] = []
        state.forEachPair(of: v) {
            if state.type(at: -2) == .string, let k = state.string(at: -2), let fe = entry(state, at: -1) {
                rows.append((k, summary(fe.doc)))
            }
            return true
        }
        for (_, s) in rows.sorted(by: { $0.0 < $1.0 }) { out += "  \(s)\n" }
        return out + "\nhelp(\(e.name).NAME) shows one in full."
    }

    /// The list `help()` prints: every module with its summary.
    public static func overview(_ state: LuaState) -> String {
        var out = "moonlab: a Lua workbench for alignment research. Modules:\n"
        for m in modules.sorted() {
            guard state.getGlobal(m) == .table else { state.pop(); continue }
            var s = entry(state, at: -1).map { summary($0.doc) } ?? ""
            state.pop()
            if s.hasPrefix(m + ": ") { s = String(s.dropFirst(m.count + 2)) }
            out += "  " + m.padding(toLength: 9) + s + "\n"
        }
        out += "\nhelp(module) lists its functions, help(fn) shows one; ?name does the same at the prompt.\n"
        out += "Prompt commands: :help :load FILE :time EXPR :reset :quit"
        return out
    }

    /// Pushes the value at a dotted path (`"rl.gae"`) from the globals. Returns false
    /// (nothing pushed) when a step is missing.
    public static func pushPath(_ state: LuaState, _ path: String) -> Bool {
        let parts = path.split(separator: ".").map(String.init)
        guard !parts.isEmpty else { return false }
        state.getGlobal(parts[0])
        for p in parts.dropFirst() {
            guard state.type(at: -1) == .table else { state.pop(); return false }
            state.getField(p)
            state.remove(at: -2)
        }
        if state.isNil(-1) { state.pop(); return false }
        return true
    }
}

extension String {
    /// Pads with spaces to `n` characters (never truncates).
    func padding(toLength n: Int) -> String {
        count >= n ? self + " " : self + String(repeating: " ", count: n - count)
    }
}
