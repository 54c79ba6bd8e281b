/// A replacement string of `re.sub` read as Python reads one (`re._parser.parse_template`):
/// `\1`..`\99` and `\g<1>`, `\g<name>` insert a group (an unmatched group inserts nothing);
/// `\n`, `\t`, `\r`, `\f`, `\v`, `\a`, `\b`, `\\` and octal `\0`, `\012` are characters;
/// any other escape of an ASCII letter is an error; other escapes (`\&`) stay as written.
struct ReplacementTemplate {
    enum Piece {
        case text([UInt8])
        case group(Int)
    }
    let pieces: [Piece]

    struct Invalid: Error, CustomStringConvertible {
        let description: String
    }

    init(_ repl: [UInt8], groups: Int, names: [(Int, String)]) throws {
        var pieces: [Piece] = []
        var text: [UInt8] = []
        func group(_ k: Int) throws {
            guard k <= groups else { throw Invalid(description: "invalid group reference \(k) in the replacement") }
            if !text.isEmpty { pieces.append(.text(text)); text = [] }
            pieces.append(.group(k))
        }
        let n = repl.count
        var i = 0
        while i < n {
            let c = repl[i]
            guard c == UInt8(ascii: "\\") else { text.append(c); i += 1; continue }
            guard i + 1 < n else { throw Invalid(description: "bad escape (end of the replacement)") }
            let e = repl[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "g"):
                guard i < n, repl[i] == UInt8(ascii: "<"), let close = repl[i...].firstIndex(of: UInt8(ascii: ">")) else {
                    throw Invalid(description: "missing < or > after \\g in the replacement")
                }
                let name = String(decoding: repl[(i + 1)..<close], as: UTF8.self)
                i = close + 1
                if let k = Int(name), k >= 0 { try group(k) }
                else if let k = names.first(where: { $0.1 == name })?.0 { try group(k) }
                else { throw Invalid(description: "unknown group name '\(name)' in the replacement") }
            case UInt8(ascii: "0"):
                // \0 then up to two more octal digits: a character
                var value = 0, j = i
                while j < min(n, i + 2), ReplacementTemplate.isOctal(repl[j]) { value = value * 8 + Int(repl[j] - 48); j += 1 }
                text.append(UInt8(truncatingIfNeeded: value))
                i = j
            case UInt8(ascii: "1")...UInt8(ascii: "9"):
                // three octal digits make a character (\101 is "A"), else one or two digits a group
                if i + 1 < n, ReplacementTemplate.isOctal(e), ReplacementTemplate.isOctal(repl[i]), ReplacementTemplate.isOctal(repl[i + 1]) {
                    let value = Int(e - 48) * 64 + Int(repl[i] - 48) * 8 + Int(repl[i + 1] - 48)
                    guard value <= 0o377 else { throw Invalid(description: "octal escape value \\\(value) outside of range 0-0o377") }
                    text.append(UInt8(value))
                    i += 2
                } else {
                    var k = Int(e - 48)
                    if i < n, repl[i] &- 48 < 10 { k = k * 10 + Int(repl[i] - 48); i += 1 }
                    try group(k)
                }
            case UInt8(ascii: "n"): text.append(10)
            case UInt8(ascii: "t"): text.append(9)
            case UInt8(ascii: "r"): text.append(13)
            case UInt8(ascii: "f"): text.append(12)
            case UInt8(ascii: "v"): text.append(11)
            case UInt8(ascii: "a"): text.append(7)
            case UInt8(ascii: "b"): text.append(8)
            case UInt8(ascii: "\\"): text.append(92)
            default:
                if (e | 0x20) &- 97 < 26 {
                    throw Invalid(description: "bad escape \\\(Character(UnicodeScalar(e))) in the replacement")
                }
                text += [92, e]
            }
        }
        if !text.isEmpty { pieces.append(.text(text)) }
        self.pieces = pieces
    }

    private static func isOctal(_ b: UInt8) -> Bool { b &- 48 < 8 }
}
