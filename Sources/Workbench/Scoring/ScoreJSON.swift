import Foundation

/// The output line of one scored row, made by splicing the new fields into the input's own
/// JSON text: the record's fields, their order and their spelling stay byte for byte, and
/// `"rewards":{...},"flags":{...}` go before its closing brace; where a reward or detector
/// failed, also `"errors":{name: message}` and `"error":"name: message; ..."` (every value
/// that was computed is kept); where a reward returned NaN or an infinity (written as null,
/// as JSON has neither), `"nonfinite":{name: "nan"|"inf"|"-inf"}`. A reward that returned
/// nil (does not apply) is a plain null. A record that already has top-level fields of
/// these names (say, an earlier output scored again) has them removed first, so no key
/// appears twice. A line that is not a JSON object becomes `{"error":"input line N: ..."}`.
public enum ScoreJSON {
    private static let hexDigits = Array("0123456789abcdef".utf8)
    public static let added = ["rewards", "flags", "nonfinite", "errors", "error"]
    private static let replaced = Set(added.map { Array($0.utf8) })

    /// The reward names as JSON keys, each with its colon and (after the first) a leading
    /// comma: written once, copied into every line.
    public struct Keys: Sendable {
        let rewards: [[UInt8]]
        public init(_ names: ScoringNames) {
            rewards = names.rewards.enumerated().map { i, name in
                var key: [UInt8] = i > 0 ? [UInt8(ascii: ",")] : []
                ScoreJSON.appendString(name, to: &key)
                key.append(UInt8(ascii: ":"))
                return key
            }
        }
    }

    /// Appends the output line (without its newline) for `row`, scored from the JSON text
    /// `line`, to `out`.
    public static func append(_ line: UnsafeRawBufferPointer, row: ScoredRow, lineNumber: Int, to out: inout [UInt8]) {
        append(line, row: row, keys: Keys(row.names), lineNumber: lineNumber, to: &out)
    }

    public static func append(_ line: UnsafeRawBufferPointer, row: ScoredRow, keys: Keys, lineNumber: Int, to out: inout [UInt8]) {
        if let input = row.inputError {
            out.append(contentsOf: "{\"error\":".utf8)
            appendString("input line \(lineNumber): \(input)", to: &out)
            out.append(UInt8(ascii: "}"))
            return
        }
        if mayHaveOwnFields(line), let cleaned = removingMembers(replaced, from: Array(line)) {
            cleaned.withUnsafeBytes { splice($0, into: &out) }
        } else {
            splice(line, into: &out)
        }
        let names = row.names
        out.append(contentsOf: "\"rewards\":{".utf8)
        for (i, key) in keys.rewards.enumerated() {
            out += key
            appendNumber(row.outcomes[i] == .failed ? .nan : row.values[i], to: &out)
        }
        out.append(contentsOf: "},\"flags\":{".utf8)
        var first = true
        for (i, name) in names.detectors.enumerated() {
            guard let f = row.detectorFlags[i] else { continue }
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
        if row.outcomes.contains(.nonFinite) {
            out.append(contentsOf: ",\"nonfinite\":{".utf8)
            var first = true
            for (i, name) in names.rewards.enumerated() where row.outcomes[i] == .nonFinite {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                appendString(name, to: &out)
                out.append(UInt8(ascii: ":"))
                appendString(row.values[i].isNaN ? "nan" : row.values[i] > 0 ? "inf" : "-inf", to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
        if let error = row.error {
            out.append(contentsOf: ",\"errors\":{".utf8)
            for (i, f) in row.failures.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                appendString(f.name, to: &out)
                out.append(UInt8(ascii: ":"))
                appendString(f.message, to: &out)
            }
            out.append(contentsOf: "},\"error\":".utf8)
            appendString(error, to: &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    /// A number as JSON: the shortest text that reads back to the same double (`1.0`,
    /// `0.25`, `1e-05`); NaN and infinities, which JSON lacks, as `null`.
    public static func appendNumber(_ d: Double, to out: inout [UInt8]) {
        if !d.isFinite { out.append(contentsOf: "null".utf8); return }
        // `description`'s text, written straight into `out`: Double.write(to:) hands its
        // digits to the stream's `_writeASCII` (the standard library's hook for ASCII text),
        // which here appends the bytes, where `description` makes a String (allocated when
        // longer than 15 bytes, as 2.1950000000000003) to be copied again: about half the
        // time per number (`moonlab serve` writes one per row).
        var sink = ByteSink()
        swap(&sink.bytes, &out)
        d.write(to: &sink)
        swap(&sink.bytes, &out)
    }

    /// A text stream over a byte array (moved in and out with `swap`, so never copied).
    private struct ByteSink: TextOutputStream {
        var bytes: [UInt8] = []
        mutating func write(_ string: String) { bytes.append(contentsOf: string.utf8) }
        mutating func _writeASCII(_ buffer: UnsafeBufferPointer<UInt8>) { bytes.append(contentsOf: buffer) }
    }

    /// A JSON string literal: `"` `\` and control characters escaped, other bytes as they are.
    public static func appendString(_ s: String, to out: inout [UInt8]) {
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

    /// Whether the text holds one of the added keys in quotes (`"rewards"`, `"error"`...)
    /// anywhere: a quick test before the exact scan, jumping from quote to quote and
    /// comparing only where the next byte starts one of the keys.
    static func mayHaveOwnFields(_ text: UnsafeRawBufferPointer) -> Bool {
        guard let base = text.baseAddress, text.count > 7 else { return false }
        let n = text.count
        var i = 0
        while i < n - 6, let q = memchr(base + i, 34, n - 6 - i) {
            let k = base.distance(to: UnsafeRawPointer(q))
            let candidates: [[UInt8]]
            switch text[k + 1] {
            case UInt8(ascii: "r"): candidates = quotedRewards
            case UInt8(ascii: "f"): candidates = quotedFlags
            case UInt8(ascii: "n"): candidates = quotedNonfinite
            case UInt8(ascii: "e"): candidates = quotedErrors
            default: candidates = []
            }
            for key in candidates where k + 1 + key.count <= n {
                if UnsafeRawBufferPointer(rebasing: text[(k + 1)..<(k + 1 + key.count)]).elementsEqual(key) { return true }
            }
            i = k + 1
        }
        return false
    }
    private static let quotedRewards = [Array("rewards\"".utf8)]
    private static let quotedFlags = [Array("flags\"".utf8)]
    private static let quotedNonfinite = [Array("nonfinite\"".utf8)]
    private static let quotedErrors = [Array("error\"".utf8), Array("errors\"".utf8)]

    /// The object `text` without its top-level members whose key (as written, unescaped
    /// bytes) is in `keys`; the kept members keep their text. Nil if `text` is not an object
    /// this scanner can follow (it was already parsed, so that does not happen).
    static func removingMembers(_ keys: Set<[UInt8]>, from text: [UInt8]) -> [UInt8]? {
        var kept: [Range<Int>] = []
        var open = 0
        let ok = forEachMember(of: text) { key, member, _ in
            if !keys.contains(Array(text[key])) { kept.append(member) }
        } opening: { open = $0 }
        guard ok else { return nil }
        var out = Array(text[0...open])
        for (n, m) in kept.enumerated() {
            if n > 0 { out.append(UInt8(ascii: ",")) }
            out += text[m]
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// The text of the top-level members of the object `text` whose keys are in `keys`.
    public static func members(_ keys: Set<String>, of text: [UInt8]) -> [String: ArraySlice<UInt8>] {
        var out: [String: ArraySlice<UInt8>] = [:]
        _ = forEachMember(of: text) { key, _, value in
            let k = String(decoding: text[key], as: UTF8.self)
            if keys.contains(k) { out[k] = text[value] }
        } opening: { _ in }
        return out
    }

    /// Walks the top-level members of the object `text`: for each, the range of its key
    /// (between the quotes, as written), of the whole member (key to value) and of its
    /// value. `opening` gets the offset of the opening brace. False if `text` is not an
    /// object this scanner can follow.
    static func forEachMember(of text: [UInt8], _ body: (Range<Int>, Range<Int>, Range<Int>) -> Void,
                              opening: (Int) -> Void) -> Bool {
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
        guard i < text.count, text[i] == UInt8(ascii: "{") else { return false }
        opening(i)
        i += 1
        while true {
            skipSpace()
            guard i < text.count else { return false }
            if text[i] == UInt8(ascii: "}") { return true }
            guard text[i] == 34 else { return false }
            let start = i
            guard skipString() else { return false }
            let key = (start + 1)..<(i - 1)
            skipSpace()
            guard i < text.count, text[i] == UInt8(ascii: ":") else { return false }
            i += 1
            skipSpace()
            let valueStart = i
            var depth = 0
            while i < text.count {
                let c = text[i]
                if c == 34 { guard skipString() else { return false }; continue }
                if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") { depth += 1 }
                if c == UInt8(ascii: "}") || c == UInt8(ascii: "]") {
                    if depth == 0 { break }
                    depth -= 1
                }
                if c == UInt8(ascii: ","), depth == 0 { break }
                i += 1
            }
            guard i < text.count else { return false }
            var end = i
            while end > valueStart, isSpace(text[end - 1]) { end -= 1 }
            body(key, start..<end, valueStart..<end)
            if text[i] == UInt8(ascii: ",") { i += 1 }
        }
    }
}
