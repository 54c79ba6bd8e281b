/// Where a chunk's top-level statements are separated by `;`: outside strings, comments,
/// brackets and blocks (`function`/`do`/`if`/`repeat` ... `end`/`until`). The prompt uses
/// it to print the value of a last expression after statements (`x = 1; x + 1` prints 2),
/// as IPython and Julia do.
enum TopLevelStatements {
    /// Byte offsets of the top-level `;` separators of `code`, in order.
    static func separators(_ code: String) -> [Int] {
        let b = Array(code.utf8)
        var out: [Int] = []
        var i = 0, brackets = 0, blocks = 0
        while i < b.count {
            let c = b[i]
            switch c {
            case UInt8(ascii: "-") where i + 1 < b.count && b[i + 1] == UInt8(ascii: "-"):
                i += 2
                if let end = longBracketEnd(b, i) { i = end } else {
                    while i < b.count && b[i] != UInt8(ascii: "\n") { i += 1 }
                }
                continue
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                i += 1
                while i < b.count && b[i] != c && b[i] != UInt8(ascii: "\n") {
                    i += b[i] == UInt8(ascii: "\\") ? 2 : 1
                }
            case UInt8(ascii: "["):
                if let end = longBracketEnd(b, i) { i = end; continue }
                brackets += 1
            case UInt8(ascii: "("), UInt8(ascii: "{"): brackets += 1
            case UInt8(ascii: ")"), UInt8(ascii: "}"), UInt8(ascii: "]"): brackets -= 1
            case UInt8(ascii: ";") where brackets == 0 && blocks == 0: out.append(i)
            default:
                if isWordStart(c) {
                    var j = i
                    while j < b.count && (isWordStart(b[j]) || (b[j] >= 48 && b[j] <= 57)) { j += 1 }
                    switch String(decoding: b[i..<j], as: UTF8.self) {
                    case "function", "do", "if", "repeat": blocks += 1
                    case "end", "until": blocks -= 1
                    default: break
                    }
                    i = j
                    continue
                }
                if c >= 48 && c <= 57 {  // a number: skip it whole (0x1e, 1e-3)
                    while i < b.count && (isWordStart(b[i]) || (b[i] >= 48 && b[i] <= 57) || b[i] == UInt8(ascii: ".")
                        || ((b[i] == UInt8(ascii: "-") || b[i] == UInt8(ascii: "+")) && (b[i - 1] | 0x20) == UInt8(ascii: "e"))) { i += 1 }
                    continue
                }
            }
            i += 1
        }
        return out
    }

    /// `head; return tail` for the last top-level statement of `code`, when there is one
    /// after a `;` (nil otherwise). Lines are kept, so error positions stay right.
    static func returningLast(_ code: String) -> String? {
        guard let last = separators(code).last else { return nil }
        let bytes = Array(code.utf8)
        let tail = bytes[(last + 1)...]
        guard tail.contains(where: { $0 != 32 && $0 != 9 && $0 != 10 && $0 != 13 }) else { return nil }
        return String(decoding: bytes[...last], as: UTF8.self) + " return " + String(decoding: tail, as: UTF8.self) + ";"
    }

    private static func isWordStart(_ c: UInt8) -> Bool {
        (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95
    }

    /// The index after a long bracket (`[[...]]`, `[==[...]==]`) that starts at `i`, or nil.
    private static func longBracketEnd(_ b: [UInt8], _ i: Int) -> Int? {
        guard i < b.count, b[i] == UInt8(ascii: "[") else { return nil }
        var j = i + 1, level = 0
        while j < b.count && b[j] == UInt8(ascii: "=") { level += 1; j += 1 }
        guard j < b.count, b[j] == UInt8(ascii: "[") else { return nil }
        j += 1
        while j < b.count {
            if b[j] == UInt8(ascii: "]") {
                var k = j + 1, l = 0
                while k < b.count && b[k] == UInt8(ascii: "=") { l += 1; k += 1 }
                if l == level && k < b.count && b[k] == UInt8(ascii: "]") { return k + 1 }
            }
            j += 1
        }
        return b.count
    }
}
