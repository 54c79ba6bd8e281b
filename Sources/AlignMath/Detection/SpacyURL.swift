/// spaCy's `URL_MATCH` (spacy/lang/tokenizer_exceptions.py, explosion/spaCy), which keeps a
/// URL or an e-mail-like `user@host.tld` whole instead of splitting it at infixes:
/// optional `scheme://`, optional `user[:pass]@`, a host of dot-separated labels ending in a
/// top-level domain of 2-63 lower-case letters, optional `:port` (2-5 digits), optional
/// `/path`, `?query` or `#fragment` to the end. The IPv4 branch of the pattern is not ported.
enum SpacyURL {
    static func matches(_ s: [Unicode.Scalar]) -> Bool {
        var i = 0
        // (?:[\w\+\-\.]{2,}://)?
        if let k = firstIndex(of: "://", in: s), k >= 2,
           s[0..<k].allSatisfy({ isWord($0) || $0 == "+" || $0 == "-" || $0 == "." }) {
            i = k + 3
        }
        // (?:\S+(?::\S*)?@)? then the host; try each '@' from the last, then none.
        var starts: [Int] = []
        for j in stride(from: s.count - 1, through: i + 1, by: -1) where s[j] == "@" { starts.append(j + 1) }
        starts.append(i)
        return starts.contains { hostAndRest(s, $0) }
    }

    private static func hostAndRest(_ s: [Unicode.Scalar], _ from: Int) -> Bool {
        // The host cannot contain ':', '/', '?', '#', '@'; try every end where the rest fits.
        var end = from
        while end < s.count, !":/?#@".unicodeScalars.contains(s[end]) { end += 1 }
        var e = end
        while e > from {
            if isHost(Array(s[from..<e])) && isRest(Array(s[e...])) { return true }
            e -= 1
        }
        return false
    }

    private static func isHost(_ h: [Unicode.Scalar]) -> Bool {
        let labels = h.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, let tld = labels.last else { return false }
        guard (2...63).contains(tld.count), tld.allSatisfy(SpacyClass.isLower) else { return false }
        for l in labels.dropLast() {
            guard let f = l.first, let z = l.last, l.count <= 64, isLabelChar(f), isLabelChar(z),
                  l.allSatisfy({ isLabelChar($0) || $0 == "_" || $0 == "-" }) else { return false }
        }
        return true
    }

    private static func isRest(_ r: [Unicode.Scalar]) -> Bool {
        var i = 0
        if i < r.count, r[i] == ":" {
            var j = i + 1
            while j < r.count, SpacyClass.isDigit(r[j]) { j += 1 }
            if (2...5).contains(j - i - 1) { i = j }
        }
        if i == r.count { return true }
        return "/?#".unicodeScalars.contains(r[i])
    }

    private static func isLabelChar(_ u: Unicode.Scalar) -> Bool {
        (u.value < 128 && (SpacyClass.isAlpha(u) || SpacyClass.isDigit(u))) || (u.value >= 0xA1 && u.value <= 0xFFFF)
    }

    /// Python's `\w`: `str.isalnum()` (letters of category L*, numeric code points) or `_`.
    private static func isWord(_ u: Unicode.Scalar) -> Bool {
        Metrics.isPythonWord(u)
    }

    private static func firstIndex(of lit: String, in s: [Unicode.Scalar]) -> Int? {
        let l = Array(lit.unicodeScalars)
        guard s.count >= l.count else { return nil }
        for k in 0...(s.count - l.count) where Array(s[k..<(k + l.count)]) == l { return k }
        return nil
    }
}
