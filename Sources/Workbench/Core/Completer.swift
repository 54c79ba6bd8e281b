import LuaKit

/// Tab completion at the prompt: globals and keywords, fields of tables and modules
/// (`rl.<TAB>`, `string.fo<TAB>`), following `__index` tables of metatables, and methods
/// after `:` (`t:<TAB>` on a tensor, `s:<TAB>` on a string). Never runs Lua code: only
/// tables are walked, `__index` functions are not called.
public struct Completer {
    let state: LuaState

    public init(_ state: LuaState) { self.state = state }

    /// For the text before the cursor: how many trailing characters the candidates
    /// replace, and the candidates, sorted.
    public func complete(_ before: String) -> (replace: Int, candidates: [String]) {
        let scalars = Array(before.unicodeScalars)
        var start = scalars.count
        while start > 0, Completer.isWordScalar(scalars[start - 1]) { start -= 1 }
        let word = String(String.UnicodeScalarView(scalars[start...]))
        // inside a string literal there is nothing to complete
        let quotes = scalars[..<start].filter { $0 == "\"" || $0 == "'" }.count
        if quotes % 2 == 1 { return (0, []) }

        let sepIndex = word.lastIndex { $0 == "." || $0 == ":" }
        guard let sep = sepIndex else {
            var names = Set<String>()
            state.pushGlobals()
            collectKeys(into: &names, methodsOnly: false)
            state.pop()
            names.formUnion(PrettyPrinter.keywords)
            return (word.count, names.filter { $0.hasPrefix(word) }.sorted())
        }
        let path = String(word[..<sep])
        let isMethod = word[sep] == ":"
        let partial = String(word[word.index(after: sep)...])
        guard !path.isEmpty, pushPath(path) else { return (partial.count, []) }
        defer { state.pop() }
        var names = Set<String>()
        if isMethod {
            // methods live in the metatable's __index (or __methods) of the value
            if state.type(at: -1) == .string {
                state.getGlobal("string")
                collectKeys(into: &names, methodsOnly: true)
                state.pop()
            } else if state.getMetatable(of: -1) {
                for key in ["__index", "__methods"] {
                    if state.getField(key) == .table { collectKeys(into: &names, methodsOnly: true) }
                    state.pop()
                }
                state.pop()
            }
            if state.type(at: -1) == .table { collectKeys(into: &names, methodsOnly: true) }
        } else {
            collectKeys(into: &names, methodsOnly: false)
        }
        return (partial.count, names.filter { $0.hasPrefix(partial) && !$0.hasPrefix("__") }.sorted())
    }

    static func isWordScalar(_ s: Unicode.Scalar) -> Bool {
        s == "_" || s == "." || s == ":" || (s.isASCII && (s.properties.isAlphabetic || ("0"..."9").contains(s)))
    }

    /// Pushes the value at a path like `a.b.c` (fields read raw or through `__index`
    /// tables). Returns false with nothing pushed when a step is missing.
    private func pushPath(_ path: String) -> Bool {
        let parts = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard let first = parts.first, !first.isEmpty else { return false }
        state.pushGlobals()
        for p in [first] + parts.dropFirst() {
            guard !p.isEmpty, lookup(p) else { state.pop(); return false }
            state.remove(at: -2)
        }
        if state.isNil(-1) { state.pop(); return false }
        return true
    }

    /// Pushes `v[key]` for the value v on top, following `__index` tables only.
    /// Stack: [v] -> [v r] when found (returns true), [v] otherwise.
    private func lookup(_ key: String, depth: Int = 0) -> Bool {
        guard depth < 8 else { return false }
        if state.type(at: -1) == .table {
            state.push(key)
            if state.rawGet(of: -2) != .nil { return true }
            state.pop()
        }
        guard state.getMetatable(of: -1) else { return false }  // [v mt]
        state.getField("__index")                              // [v mt idx]
        state.remove(at: -2)                                   // [v idx]
        guard state.type(at: -1) == .table else { state.pop(); return false }
        if lookup(key, depth: depth + 1) {                     // [v idx r]
            state.remove(at: -2)
            return true
        }
        state.pop()
        return false
    }

    /// Adds the string keys of the table on top (and of its `__index` tables).
    private func collectKeys(into names: inout Set<String>, methodsOnly: Bool, depth: Int = 0) {
        guard depth < 8, state.type(at: -1) == .table else { return }
        state.forEachPair(of: -1) {
            if state.type(at: -2) == .string, let k = state.string(at: -2),
               !methodsOnly || state.type(at: -1) == .function {
                names.insert(k)
            }
            return true
        }
        if state.getMetatable(of: -1) {
            if state.getField("__index") == .table { collectKeys(into: &names, methodsOnly: methodsOnly, depth: depth + 1) }
            state.pop(2)
        }
    }
}
