/// Python's regular-expression syntax rewritten for PCRE2, for the places where the two
/// disagree on what rewards use (everything else is the same text):
///
/// - `\Z` is the very end in Python, PCRE2's `\z` (PCRE2's `\Z` also matches before a
///   final newline, which is Python's `$`);
/// - `{,n}` is `{0,n}` in Python; PCRE2 10.42 reads it as literal text;
/// - `\uXXXX` and `\UXXXXXXXX` are code points (PCRE2's `\x{...}`);
/// - the inline flags `a` (ASCII) and `u` (Unicode) have no PCRE2 spelling: ASCII is the
///   byte mode's only meaning and Unicode is the `u` flag of `re.compile`, so they are
///   dropped; `L` (locale) is refused, as Python refuses it for str patterns.
///
/// `offsets[i]` is the offset in the original pattern of byte `i` of the rewritten one, so
/// an error PCRE2 reports at an offset is shown where the user wrote it.
struct PythonPattern {
    let pcre: [UInt8]
    let offsets: [Int]

    struct Invalid: Error {
        let offset: Int
        let message: String
    }

    init(_ pattern: [UInt8]) throws {
        var out: [UInt8] = []
        var map: [Int] = []
        out.reserveCapacity(pattern.count + 8)
        map.reserveCapacity(pattern.count + 8)
        func emit<S: Sequence>(_ bytes: S, from offset: Int) where S.Element == UInt8 {
            for b in bytes { out.append(b); map.append(offset) }
        }
        let n = pattern.count
        var i = 0
        var inClass = false
        while i < n {
            let c = pattern[i]
            if c == UInt8(ascii: "\\") {
                guard i + 1 < n else { throw Invalid(offset: i, message: "bad escape (end of pattern)") }
                let e = pattern[i + 1]
                switch e {
                case UInt8(ascii: "Z") where !inClass:
                    emit(Array("\\z".utf8), from: i)
                    i += 2
                case UInt8(ascii: "u"), UInt8(ascii: "U"):
                    let width = e == UInt8(ascii: "u") ? 4 : 8
                    let digits = pattern[(i + 2)..<min(n, i + 2 + width)]
                    guard digits.count == width, digits.allSatisfy(PythonPattern.isHex) else {
                        throw Invalid(offset: i, message: "incomplete escape \\\(Character(UnicodeScalar(e)))")
                    }
                    emit(Array("\\x{".utf8) + digits + [UInt8(ascii: "}")], from: i)
                    i += 2 + width
                case UInt8(ascii: "N") where i + 2 < n && pattern[i + 2] == UInt8(ascii: "{"):
                    throw Invalid(offset: i, message: "\\N{name} escapes are not supported (write the character or \\x{...})")
                default:
                    emit(pattern[i...(i + 1)], from: i)
                    i += 2
                }
                continue
            }
            if inClass {
                if c == UInt8(ascii: "]") { inClass = false }
                emit([c], from: i)
                i += 1
                continue
            }
            switch c {
            case UInt8(ascii: "["):
                inClass = true
                emit([c], from: i)
                i += 1
                // A `]` right after `[` or `[^` is a literal, as in Python.
                if i < n, pattern[i] == UInt8(ascii: "^") { emit([pattern[i]], from: i); i += 1 }
                if i < n, pattern[i] == UInt8(ascii: "]") { emit([pattern[i]], from: i); i += 1 }
            case UInt8(ascii: "{"):
                // `{,n}` -> `{0,n}` when it is a quantifier.
                var j = i + 1
                if j < n, pattern[j] == UInt8(ascii: ",") {
                    j += 1
                    let start = j
                    while j < n, PythonPattern.isDigit(pattern[j]) { j += 1 }
                    if j > start, j < n, pattern[j] == UInt8(ascii: "}") {
                        emit(Array("{0".utf8), from: i)
                        i += 1
                        continue
                    }
                }
                emit([c], from: i)
                i += 1
            case UInt8(ascii: "(") where i + 1 < n && pattern[i + 1] == UInt8(ascii: "?"):
                i = try PythonPattern.inlineFlags(pattern, at: i, emit: emit)
            default:
                emit([c], from: i)
                i += 1
            }
        }
        map.append(n)  // an error at the end of the rewritten pattern is at the end of the original
        pcre = out
        offsets = map
    }

    /// `(?aiLmsux-imsx)` and `(?aiLmsux-imsx:...)` with Python's letters: copied without
    /// `a` and `u`; `(?...)` that is not a flag group is copied as it is. Returns the index
    /// after what was consumed.
    private static func inlineFlags(_ p: [UInt8], at start: Int,
                             emit: ([UInt8], Int) -> Void) throws -> Int {
        let flagLetters = Set("aiLmsux-".utf8)
        var j = start + 2
        while j < p.count, flagLetters.contains(p[j]) { j += 1 }
        guard j > start + 2, j < p.count, p[j] == UInt8(ascii: ")") || p[j] == UInt8(ascii: ":") else {
            emit(Array(p[start...(start + 1)]), start)
            return start + 2
        }
        let letters = p[(start + 2)..<j]
        if letters.contains(UInt8(ascii: "L")) {
            throw Invalid(offset: start, message: "the L (locale) flag is not supported")
        }
        let kept = letters.filter { $0 != UInt8(ascii: "a") && $0 != UInt8(ascii: "u") }
        if p[j] == UInt8(ascii: ")") {
            if !kept.isEmpty && kept != [UInt8(ascii: "-")] { emit(Array("(?".utf8) + kept + [UInt8(ascii: ")")], start) }
        } else {
            emit(Array("(?".utf8) + (kept == [UInt8(ascii: "-")] ? [] : kept) + [UInt8(ascii: ":")], start)
        }
        return j + 1
    }

    /// The offset in the original pattern of offset `k` of the rewritten one.
    func originalOffset(_ k: Int) -> Int { offsets[min(max(0, k), offsets.count - 1)] }

    private static func isDigit(_ b: UInt8) -> Bool { b &- 48 < 10 }
    private static func isHex(_ b: UInt8) -> Bool { isDigit(b) || (b | 0x20) &- 97 < 6 }
}
