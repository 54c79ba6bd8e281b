import Foundation
import Workbench

/// The output line of one scored row, made by splicing the new fields into the input's own
/// JSON text: the record's fields, their order and their spelling stay byte for byte, and
/// `"rewards":{...},"flags":{...}` (or `"error":"..."`) go before its closing brace. A
/// record that already has top-level `rewards`, `flags` or `error` fields (say, an earlier
/// output scored again) has them removed first, so no key appears twice.
enum ScoreJSON {
    private static let hexDigits = Array("0123456789abcdef".utf8)
    private static let replaced: Set<[UInt8]> = [Array("rewards".utf8), Array("flags".utf8), Array("error".utf8)]

    /// The output line (without its newline) for `row`, scored from the JSON text `line`.
    /// `inputError` is the message for a row whose text could not be read as an object.
    static func line(_ line: UnsafeRawBufferPointer, row: ScoredRow, rewards: [String], detectors: [String],
                     lineNumber: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(line.count + 64 + 24 * rewards.count + 64 * detectors.count)
        if let input = row.failures.first(where: { $0.name == "input" }) {
            out.append(contentsOf: "{\"error\":".utf8)
            appendString("input line \(lineNumber): \(input.message)", to: &out)
            out.append(UInt8(ascii: "}"))
            return out
        }
        if mayHaveOwnFields(line), let cleaned = removingMembers(replaced, from: Array(line)) {
            cleaned.withUnsafeBytes { splice($0, into: &out) }
        } else {
            splice(line, into: &out)
        }
        if let error = row.error {
            out.append(contentsOf: "\"error\":".utf8)
            appendString(error, to: &out)
        } else {
            out.append(contentsOf: "\"rewards\":{".utf8)
            for (i, name) in rewards.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                appendString(name, to: &out)
                out.append(UInt8(ascii: ":"))
                appendNumber(row.rewards[name] ?? .nan, to: &out)
            }
            out.append(contentsOf: "},\"flags\":{".utf8)
            var first = true
            for name in detectors {
                guard let f = row.flags[name] else { continue }
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                appendString(name, to: &out)
                out.append(contentsOf: ":{\"flag\":".utf8)
                out.append(contentsOf: (f.flag ? "true" : "false").utf8)
                out.append(contentsOf: ",\"score\":".utf8)
                appendNumber(f.score ?? .nan, to: &out)
                out.append(contentsOf: ",\"reason\":".utf8)
                if let r = f.reason { appendString(r, to: &out) } else { out.append(contentsOf: "null".utf8) }
                out.append(UInt8(ascii: "}"))
            }
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// A number as JSON: the shortest text that reads back to the same double (`1.0`,
    /// `0.25`, `1e-05`); NaN and infinities, which JSON lacks, as `null`.
    static func appendNumber(_ d: Double, to out: inout [UInt8]) {
        if !d.isFinite { out.append(contentsOf: "null".utf8); return }
        out.append(contentsOf: d.description.utf8)
    }

    /// A JSON string literal: `"` `\` and control characters escaped, other bytes as they are.
    static func appendString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out += [92, 34]
            case UInt8(ascii: "\\"): out += [92, 92]
            case 10: out += [92, UInt8(ascii: "n")]
            case 13: out += [92, UInt8(ascii: "r")]
            case 9: out += [92, UInt8(ascii: "t")]
            case 0..<32: out += [92, UInt8(ascii: "u"), 48, 48, hexDigits[Int(b >> 4)], hexDigits[Int(b & 15)]]
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    private static func isSpace(_ b: UInt8) -> Bool { b == 32 || b == 9 || b == 10 || b == 13 }

    /// Appends the object's text without its closing brace, then a comma unless it is empty.
    private static func splice(_ body: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        var end = body.count - 1
        while end > 0, isSpace(body[end]) { end -= 1 }
        var before = end - 1
        while before > 0, isSpace(body[before]) { before -= 1 }
        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: body[0..<end]))
        if body[before] != UInt8(ascii: "{") { out.append(UInt8(ascii: ",")) }
    }

    /// Whether the text holds `"rewards"`, `"flags"` or `"error"` anywhere (a quick test,
    /// jumping from quote to quote, before the exact scan).
    static func mayHaveOwnFields(_ text: UnsafeRawBufferPointer) -> Bool {
        guard let base = text.baseAddress, text.count > 7 else { return false }
        var i = 0
        while i < text.count - 7, let q = memchr(base + i, 34, text.count - 7 - i) {
            let k = base.distance(to: UnsafeRawPointer(q))
            for key in replaced where k + key.count + 1 < text.count && text[k + key.count + 1] == 34 {
                if text[(k + 1)...(k + key.count)].elementsEqual(key) { return true }
            }
            i = k + 1
        }
        return false
    }

    /// The object `text` without its top-level members whose key (as written, unescaped
    /// bytes) is in `keys`; the kept members keep their text. Nil if `text` is not an object
    /// this scanner can follow (it was already parsed, so that does not happen).
    static func removingMembers(_ keys: Set<[UInt8]>, from text: [UInt8]) -> [UInt8]? {
        var i = 0
        func skipSpace() { while i < text.count, isSpace(text[i]) { i += 1 } }
        func skipString() -> Bool {  // at the opening quote; ends after the closing one
            i += 1
            while i < text.count {
                if text[i] == 92 { i += 2; continue }
                if text[i] == 34 { i += 1; return true }
                i += 1
            }
            return false
        }
        skipSpace()
        guard i < text.count, text[i] == UInt8(ascii: "{") else { return nil }
        let open = i
        i += 1
        var kept: [ArraySlice<UInt8>] = []
        while true {
            skipSpace()
            guard i < text.count else { return nil }
            if text[i] == UInt8(ascii: "}") { break }
            guard text[i] == 34 else { return nil }
            let start = i
            guard skipString() else { return nil }
            let key = Array(text[(start + 1)..<(i - 1)])
            skipSpace()
            guard i < text.count, text[i] == UInt8(ascii: ":") else { return nil }
            i += 1
            var depth = 0
            while i < text.count {
                let c = text[i]
                if c == 34 { guard skipString() else { return nil }; continue }
                if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") { depth += 1 }
                if c == UInt8(ascii: "}") || c == UInt8(ascii: "]") {
                    if depth == 0 { break }
                    depth -= 1
                }
                if c == UInt8(ascii: ","), depth == 0 { break }
                i += 1
            }
            guard i < text.count else { return nil }
            var end = i
            while end > start, isSpace(text[end - 1]) { end -= 1 }
            if !keys.contains(key) { kept.append(text[start..<end]) }
            if text[i] == UInt8(ascii: ",") { i += 1 }
        }
        var out = Array(text[0...open])
        for (n, m) in kept.enumerated() {
            if n > 0 { out.append(UInt8(ascii: ",")) }
            out += m
        }
        out.append(UInt8(ascii: "}"))
        return out
    }
}
