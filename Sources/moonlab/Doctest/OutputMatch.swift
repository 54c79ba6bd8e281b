/// Whether output matches what a doc shows, as Python's doctest with ELLIPSIS: a line
/// that is only `...` stands for any number of lines (none too), and `...` inside a line
/// for any text on that line. Trailing spaces and trailing blank lines never count.
enum OutputMatch {
    static func lines(_ text: String) -> [String] {
        var out = text.split(separator: "\n", omittingEmptySubsequences: false).map { l -> String in
            var s = Substring(l)
            while let c = s.last, c == " " || c == "\t" || c == "\r" { s.removeLast() }
            return String(s)
        }
        while let last = out.last, last.isEmpty { out.removeLast() }
        return out
    }

    static func matches(expected: [String], actual: [String]) -> Bool {
        let want = lines(expected.joined(separator: "\n")), got = actual
        // reachable[j]: the first i expected lines can match the first j actual lines
        var reachable = [Bool](repeating: false, count: got.count + 1)
        reachable[0] = true
        for w in want {
            var next = [Bool](repeating: false, count: got.count + 1)
            if w == "..." {
                var seen = false
                for j in 0...got.count { seen = seen || reachable[j]; next[j] = seen }
            } else {
                for j in 0..<got.count where reachable[j] && line(w, matches: got[j]) { next[j + 1] = true }
            }
            reachable = next
        }
        return reachable[got.count]
    }

    /// One line, with `...` inside it matching any text.
    static func line(_ pattern: String, matches text: String) -> Bool {
        guard pattern.contains("...") else { return pattern == text }
        let parts = pattern.components(separatedBy: "...")
        var rest = Substring(text)
        guard let first = parts.first, rest.hasPrefix(first) else { return false }
        rest = rest.dropFirst(first.count)
        for (k, part) in parts.enumerated().dropFirst() {
            if k == parts.count - 1 { return part.isEmpty || rest.hasSuffix(part) }
            guard !part.isEmpty else { continue }
            guard let r = rest.range(of: part) else { return false }
            rest = rest[r.upperBound...]
        }
        return true
    }
}
