import LuaKit

/// Limits that keep a huge value from flooding the terminal. Lua-settable through the
/// `moonlab` table (`moonlab.print_depth`, `moonlab.print_items`, `moonlab.print_width`).
public struct PrintLimits: Sendable {
    public var depth = 4
    public var items = 40
    public var width = 100
    public init() {}
}

/// Formats Lua values for the prompt: tables nested and cycle-safe with sorted keys,
/// arrays compact, everything within `PrintLimits`. Output is deterministic (no
/// addresses), so a recorded session replays to the same text.
public struct PrettyPrinter {
    public var limits: PrintLimits
    let state: LuaState

    public init(_ state: LuaState, limits: PrintLimits = PrintLimits()) {
        self.state = state
        self.limits = limits
    }

    /// The text for the value at `index` as a result at the prompt (strings unquoted, as
    /// lua.c prints them).
    public func format(at index: Int32) -> String {
        let idx = state.absolute(index)
        if state.type(at: idx) == .string { return clip(state.string(at: idx) ?? "") }
        var seen: [UnsafeRawPointer] = []
        return render(idx, depth: 0, indent: "", seen: &seen)
    }

    private func clip(_ s: String) -> String {
        let max = limits.width * 40
        guard s.count > max else { return s }
        return String(s.prefix(max)) + "... (\(s.count - max) more characters)"
    }

    /// A quoted Lua string literal, escaped as `%q` would, cut at the width limit.
    func quote(_ s: String) -> String {
        let scalars = s.unicodeScalars
        guard scalars.count > limits.width else { return "\"" + PrettyPrinter.escaped(s) + "\"" }
        let head = String(String.UnicodeScalarView(scalars.prefix(limits.width)))
        return "\"" + PrettyPrinter.escaped(head) + "...\"(\(scalars.count) chars)"
    }

    /// Text with quotes, backslashes and control characters escaped as in a Lua string
    /// literal (`\n`, `\t`, `\ddd`), for showing strings on one line.
    public static func escaped(_ s: String) -> String {
        var out = ""
        for ch in s.unicodeScalars {
            switch ch {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if ch.value < 32 || ch.value == 127 { out += "\\\(ch.value)" } else { out.unicodeScalars.append(ch) }
            }
        }
        return out
    }

    private func scalar(_ idx: Int32) -> String {
        switch state.type(at: idx) {
        case .nil, .none: return "nil"
        case .boolean: return state.boolean(at: idx) ? "true" : "false"
        case .number: return state.describe(at: idx)
        case .string: return quote(state.string(at: idx) ?? "")
        case .function:
            if let e = Help.entry(state, at: idx) { return "<function \(e.name)>" }
            return "<function>"
        case .userdata:
            if state.getMetatable(of: idx) {
                let has = state.getField("__tostring") != .nil
                state.pop(2)
                if has { return state.describe(at: idx) }
            }
            return "<\(state.typeName(at: idx))>"
        case .thread: return "<thread>"
        case .lightUserdata: return "<lightuserdata>"
        case .table: return "{...}"
        }
    }

    private func render(_ idx: Int32, depth: Int, indent: String, seen: inout [UnsafeRawPointer]) -> String {
        guard state.type(at: idx) == .table else { return scalar(idx) }
        if state.getMetatable(of: idx) {
            let has = state.getField("__tostring") != .nil
            state.pop(2)
            if has { return state.describe(at: idx) }
        }
        if let e = Help.entry(state, at: idx), e.isModule { return "<module \(e.name)>" }
        guard let ptr = state.pointer(at: idx) else { return "{...}" }
        if seen.contains(ptr) { return "<cycle>" }
        // each level keeps a key and a value on the Lua stack
        if depth >= min(limits.depth, LuaLimits.maxDepth) || !state.checkStack(4) { return "{...}" }
        seen.append(ptr)
        defer { seen.removeLast() }

        let n = state.rawLength(at: idx)
        var total = 0
        state.forEachPair(of: idx) { total += 1; return true }
        let isArray = total == n
        var parts: [String] = []
        let inner = indent + "  "
        if isArray {
            for i in 1...max(n, 1) where i <= n {
                if parts.count >= limits.items { parts.append("... (\(n - limits.items) more)"); break }
                state.rawGet(i, of: idx)
                parts.append(render(state.absolute(-1), depth: depth + 1, indent: inner, seen: &seen))
                state.pop()
            }
        } else {
            let keys = sortedKeys(idx)
            for (i, key) in keys.enumerated() {
                if i >= limits.items { parts.append("... (\(keys.count - limits.items) more)"); break }
                key.push(state)
                state.pushValue(at: -1)
                state.rawGet(of: idx)
                let v = render(state.absolute(-1), depth: depth + 1, indent: inner, seen: &seen)
                state.pop(2)
                parts.append("\(key.label(self)) = \(v)")
            }
        }
        if parts.isEmpty { return "{}" }
        let oneLine = "{" + parts.joined(separator: ", ") + "}"
        if oneLine.count + indent.count <= limits.width && !oneLine.contains("\n") { return oneLine }
        return "{\n" + parts.map { inner + $0 }.joined(separator: ",\n") + ",\n" + indent + "}"
    }

    /// A table key, kept as a sortable Swift value and re-pushable.
    enum Key {
        case number(Double, Bool)  // value, isInteger
        case string(String)

        func push(_ s: LuaState) {
            switch self {
            case .number(let d, let isInt): if isInt { s.push(Int(d)) } else { s.push(d) }
            case .string(let t): s.push(t)
            }
        }

        func label(_ p: PrettyPrinter) -> String {
            switch self {
            case .number(let d, let isInt): return isInt ? "[\(Int(d))]" : "[\(d)]"
            case .string(let t): return PrettyPrinter.isIdentifier(t) ? t : "[\(p.quote(t))]"
            }
        }
    }

    private func sortedKeys(_ idx: Int32) -> [Key] {
        var nums: [(Double, Bool)] = []
        var strs: [String] = []
        var others = 0
        state.forEachPair(of: idx) {
            switch state.type(at: -2) {
            case .number:
                let isInt = state.integer(at: -2) != nil
                nums.append((state.number(at: -2) ?? 0, isInt))
            case .string: strs.append(state.string(at: -2) ?? "")
            default: others += 1
            }
            return true
        }
        var keys = nums.sorted { $0.0 < $1.0 }.map { Key.number($0.0, $0.1) }
        keys += strs.sorted().map { Key.string($0) }
        _ = others  // boolean/table/function keys are rare at the prompt and not shown
        return keys
    }

    static let keywords: Set<String> = ["and", "break", "do", "else", "elseif", "end", "false", "for", "function",
        "goto", "if", "in", "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while"]

    static func isIdentifier(_ s: String) -> Bool {
        guard let f = s.unicodeScalars.first, f == "_" || (f.isASCII && f.properties.isAlphabetic) else { return false }
        return !keywords.contains(s) && s.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
    }
}
