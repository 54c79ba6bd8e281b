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
    }

    /// Every documented module that is a global under its own name, sorted. Stack-neutral.
    public static func moduleNames(_ state: LuaState) -> [String] {
        var names: [String] = []
        pushTable(state)
        state.forEachPair(of: -1) {
            guard state.type(at: -1) == .table else { return true }
            _ = state.getField("module"); let isModule = state.boolean(at: -1); state.pop()
            _ = state.getField("name"); let name = state.string(at: -1) ?? ""; state.pop()
            guard isModule, !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { return true }
            _ = state.getGlobal(name)
            if state.rawEqual(-1, -3) { names.append(name) }
            state.pop()
            return true
        }
        state.pop()
        return names.sorted()
    }

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

    /// The whole signature of a doc on one line: a signature that spans several lines
    /// (`pref.dpo_loss{policy_chosen =, ...,` then indented lines) is joined until its
    /// brackets close.
    static func signature(_ doc: String) -> String {
        var out = ""
        var depth = 0
        for (i, line) in doc.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let continues = line.hasPrefix(" ") && (depth > 0 || line.drop(while: { $0 == " " }).hasPrefix("->"))
            if i > 0 && !continues { break }
            out += (i > 0 ? " " : "") + line.drop(while: { $0 == " " })
            for c in line {
                if c == "(" || c == "{" || c == "[" { depth += 1 }
                if c == ")" || c == "}" || c == "]" { depth -= 1 }
            }
        }
        return out
    }

    /// A signature short enough for a listing: past `width` characters the arguments are
    /// elided (`pref.dpo_loss{...} -> losses, chosen_rewards, rejected_rewards, stats`).
    static func listing(_ doc: String, width: Int = 100) -> String {
        let s = signature(doc)
        guard s.count > width, let open = s.firstIndex(where: { $0 == "(" || $0 == "{" }) else { return s }
        let close: Character = s[open] == "(" ? ")" : "}"
        var depth = 0
        var end = s.endIndex
        for i in s.indices[open...] {
            if s[i] == "(" || s[i] == "{" { depth += 1 }
            if s[i] == ")" || s[i] == "}" { depth -= 1; if depth == 0 { end = i; break } }
        }
        guard end < s.endIndex else { return s }
        return String(s[...open]) + "..." + String(close) + String(s[s.index(after: end)...])
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
        var rows: [(String, String)] = []
        state.forEachPair(of: v) {
            if state.type(at: -2) == .string, let k = state.string(at: -2), state.type(at: -1) == .function,
               let fe = entry(state, at: -1) {
                rows.append((k, listing(fe.doc)))
            }
            return true
        }
        guard !rows.isEmpty else { return e.doc }
        var out = e.doc + "\n\nFunctions:\n"
        for (_, s) in rows.sorted(by: { $0.0 < $1.0 }) { out += "  \(s)\n" }
        return out + "\nhelp(\(e.name).NAME) shows one in full."
    }

    /// The list `help()` prints: every module with its summary.
    public static func overview(_ state: LuaState) -> String {
        var out = "moonlab: a Lua workbench for alignment research. Modules:\n"
        for m in moduleNames(state) where m != "moonlab" {
            guard state.getGlobal(m) == .table else { state.pop(); continue }
            var s = entry(state, at: -1).map { summary($0.doc) } ?? ""
            state.pop()
            if s.hasPrefix(m + ": ") { s = String(s.dropFirst(m.count + 2)) }
            out += "  " + m.padding(toLength: 9) + s + "\n"
        }
        out += "\nhelp(module) lists its functions, help(fn) shows one; ?name does the same at the prompt.\n"
        out += "Settings and moonlab.restore: help(moonlab). Prompt commands (:help explains them):\n  "
        out += promptCommands.map { $0.usage.split(separator: " ").first.map(String.init) ?? $0.usage }.joined(separator: " ")
        return out
    }

    /// The prompt's commands, as `:help` lists them (usage, what it does). The prompt
    /// handles each one; `help()` names them.
    public static let promptCommands: [(usage: String, meaning: String)] = [
        (":help [topic]", "this list, or the doc of a module or function (as ?topic)"),
        ("?name", "the doc of a function or module; help() lists the modules"),
        ("??fn", "the source of a Lua function defined at the prompt or in a file"),
        (":load FILE", "run a Lua file in this session"),
        (":time CODE", "time an expression or statements, repeated as %timeit does (-n N -r R to choose)"),
        (":whos", "your globals with their type and shape or size"),
        (":edit [FN|FILE]", "edit a new chunk (or fn's source, or a file) in $EDITOR, then run it"),
        ("!cmd", "run a shell command (not under --sandbox)"),
        (":plugins", "the plugins found: version, status, folder (plugin.list() as data)"),
        (":record [FILE]", "where this session is recorded, or record to FILE from now"),
        (":reset", "start over with a fresh state"),
        (":quit", "leave (or Ctrl-D)"),
    ]

    /// `:help` at the prompt: the commands, aligned.
    public static var promptCommandHelp: String {
        let w = promptCommands.map(\.usage.count).max() ?? 0
        return promptCommands.map { $0.usage.padding(toLength: w + 2) + $0.meaning }.joined(separator: "\n")
            + "\nCtrl-C drops the line being typed, or stops running code.\n"
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
