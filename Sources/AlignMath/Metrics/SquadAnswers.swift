extension Metrics {
    /// SQuAD v1.1's `normalize_answer` (`evaluate-v1.1.py`) split into tokens:
    /// `lower()`, drop `string.punctuation`, `re.sub(r"\b(a|an|the)\b", " ", ...)`, then
    /// `str.split()` (Python's whitespace, U+001C–U+001F included). ASCII text takes a byte
    /// path with the same rules; other text goes through Unicode scalars: `lower()` as Python's
    /// (final sigma, `PythonLower`), `\w` as Python's `re` reads it (`str.isalnum()`: a letter of
    /// category L*, or a numeric code point, or `_`; not the combining marks Swift's
    /// `isAlphabetic` counts). Tokens are compared code point by code point, as Python compares
    /// strings (Swift's `==` would equate "café" with "cafe\u{301}").
    public static func squadNormalizedTokens(_ s: String) -> [String] {
        var copy = s
        if let ascii = copy.withUTF8({ asciiSquadTokens(UnsafeRawBufferPointer($0)) }) {
            return ascii.map { String(decoding: $0, as: UTF8.self) }
        }
        return unicodeSquadTokens(s)
    }

    /// The byte path: nil when the text is not ASCII.
    static func asciiSquadTokens(_ text: UnsafeRawBufferPointer) -> [ArraySlice<UInt8>]? {
        var kept: [UInt8] = []
        kept.reserveCapacity(text.count)
        for b in text {
            if b >= 0x80 { return nil }
            if isPunctuation(b) { continue }
            kept.append(b >= 65 && b <= 90 ? b + 32 : b)
        }
        // word runs equal to a/an/the become one space
        var out: [UInt8] = []
        out.reserveCapacity(kept.count)
        var i = 0
        while i < kept.count {
            if isWordByte(kept[i]) {
                var j = i
                while j < kept.count && isWordByte(kept[j]) { j += 1 }
                if isArticle(kept[i..<j]) { out.append(32) } else { out.append(contentsOf: kept[i..<j]) }
                i = j
            } else {
                out.append(kept[i])
                i += 1
            }
        }
        var tokens: [ArraySlice<UInt8>] = []
        out.withUnsafeBufferPointer { b in
            guard let p = b.baseAddress else { return }
            PythonWhitespace.forEachToken(p, b.count) { a, e in tokens.append(out[a..<e]) }
        }
        return tokens
    }

    @inline(__always) static func isPunctuation(_ b: UInt8) -> Bool {
        (b >= 33 && b <= 47) || (b >= 58 && b <= 64) || (b >= 91 && b <= 96) || (b >= 123 && b <= 126)
    }

    @inline(__always) static func isWordByte(_ b: UInt8) -> Bool {
        (b >= 97 && b <= 122) || (b >= 48 && b <= 57) || b == 95 || (b >= 65 && b <= 90)
    }

    static func isArticle(_ w: ArraySlice<UInt8>) -> Bool {
        w.elementsEqual([97]) || w.elementsEqual([97, 110]) || w.elementsEqual([116, 104, 101])
    }

    /// The Unicode path, by scalars as Python's `str` sees code points.
    static func unicodeSquadTokens(_ s: String) -> [String] {
        var noPunct = String.UnicodeScalarView()
        for u in PythonLower.lower(s).unicodeScalars where !(u.isASCII && isPunctuation(UInt8(u.value))) { noPunct.append(u) }
        var text = String.UnicodeScalarView(), word = String.UnicodeScalarView()
        func flush() {
            let w = String(word)
            if w == "a" || w == "an" || w == "the" { text.append(" ") } else { text.append(contentsOf: word) }
            word = String.UnicodeScalarView()
        }
        for u in noPunct {
            if isPythonWord(u) { word.append(u) } else { flush(); text.append(u) }
        }
        flush()
        return PythonWhitespace.split(String(text))
    }

    /// Python's `re` `\w` for a code point: `str.isalnum()` (categories Lu, Ll, Lt, Lm, Lo, or a
    /// numeric type) or `_`.
    static func isPythonWord(_ u: Unicode.Scalar) -> Bool {
        if u == "_" || u.properties.numericType != nil { return true }
        switch u.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return false
        }
    }

    /// The normalised tokens as UTF-8 bytes: equal exactly when Python's strings are equal.
    static func squadTokenBytes(_ s: String) -> [[UInt8]] { squadNormalizedTokens(s).map { Array($0.utf8) } }

    /// SQuAD v1.1 exact match: 1 when the normalised answers are equal, else 0.
    public static func exactMatch(_ prediction: String, _ groundTruth: String) -> Double {
        squadTokenBytes(prediction) == squadTokenBytes(groundTruth) ? 1 : 0
    }

    /// SQuAD v1.1 token F1 of the normalised answers (0 when they share no token, also when both
    /// are empty, as v1.1's `f1_score`).
    public static func tokenF1(_ prediction: String, _ groundTruth: String) -> Double {
        let p = squadTokenBytes(prediction), g = squadTokenBytes(groundTruth)
        var counts = [[UInt8]: Int](minimumCapacity: g.count)
        for t in g { counts[t, default: 0] += 1 }
        var same = 0
        for t in p {
            if let k = counts[t], k > 0 { same += 1; counts[t] = k - 1 }
        }
        if same == 0 { return 0 }
        let precision = Double(same) / Double(p.count), recall = Double(same) / Double(g.count)
        return 2 * precision * recall / (precision + recall)
    }
}
