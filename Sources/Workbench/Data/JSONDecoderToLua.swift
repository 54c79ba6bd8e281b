#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LuaKit
import LuaShim

/// A JSON syntax error: what was expected and the 0-based byte offset where it was not found.
public struct JSONSyntaxError: Error, CustomStringConvertible {
    public var message: String
    /// Byte offset into the parsed text; the column shown is `offset + 1`.
    public var offset: Int
    public init(_ message: String, offset: Int) { self.message = message; self.offset = offset }
    /// "expected ',' or '}' at column 40".
    public var description: String { "\(message) at column \(offset + 1)" }
}

/// Parses JSON text straight into Lua values on a state's stack: no Swift object and no
/// `String` per value, strings pushed from the input bytes (copied through a scratch
/// buffer only when they hold escapes).
///
/// Mapping: objects and arrays become tables (an empty array gets `data.array`'s
/// metatable, so it encodes back as `[]`); strings stay bytes; `true`/`false` booleans;
/// `null` the `data.null` sentinel (so arrays keep their length); numbers without `.` or
/// exponent that fit in 64 bits become Lua integers, all others floats (correctly rounded).
/// `\u` escapes become UTF-8 (surrogate pairs joined; a lone surrogate becomes U+FFFD).
/// The input's UTF-8 is not validated. Raw control characters inside strings, leading
/// zeros, trailing commas, comments, NaN and nesting deeper than 200 (`LuaLimits.maxDepth`) are errors.
///
/// One decoder per state, reused for every line (it keeps its scratch buffer):
/// ```swift
/// let decoder = JSONDecoderToLua(state: lua)
/// try decoder.push(lineBytes, into: lua)   // Stack: [] -> [value]; on error nothing is pushed
/// ```
/// The decoder keeps no reference to the state (pass the state, or a coroutine's view of
/// it, to each call), so it can be held by anything that Lua itself owns.
public final class JSONDecoderToLua {
    /// What `NaN` and `Infinity` are told (Python's `json.dumps` writes them, pandas' missing
    /// values are NaN): not JSON.
    static let nonFinite = "NaN and Infinity are not JSON (Python's json.dumps writes them for float('nan') and float('inf'); send null)"
    private let sentinels: DataSentinels
    private var scratch: UnsafeMutablePointer<UInt8>
    private var scratchCapacity: Int
    private let hints: UnsafeMutablePointer<Int32>
    private let arrayHints: UnsafeMutablePointer<Int32>
    private let powers: UnsafeMutablePointer<Double>
    static let hintDepth = 32

    /// A decoder for `state` (creating `data.null` and the array marker if the `data`
    /// module is not installed there).
    public init(state: LuaState) {
        sentinels = DataSentinels.of(state)
        scratchCapacity = 4096
        scratch = .allocate(capacity: scratchCapacity)
        hints = .allocate(capacity: JSONDecoderToLua.hintDepth)
        hints.initialize(repeating: 0, count: JSONDecoderToLua.hintDepth)
        arrayHints = .allocate(capacity: JSONDecoderToLua.hintDepth)
        arrayHints.initialize(repeating: 0, count: JSONDecoderToLua.hintDepth)
        powers = .allocate(capacity: 23)
        var x = 1.0
        for i in 0..<23 { powers[i] = x; x *= 10 }
    }

    deinit {
        scratch.deallocate()
        hints.deallocate()
        arrayHints.deallocate()
        powers.deallocate()
    }

    /// Parses one complete JSON value (surrounding whitespace allowed) and pushes it.
    /// Stack: [] -> [value]; on error the stack is as it was and `JSONSyntaxError` is thrown.
    public func push(_ bytes: UnsafeRawBufferPointer, into state: LuaState) throws {
        let count = bytes.count
        if count + 1 > scratchCapacity {
            scratch.deallocate()
            scratchCapacity = max(count + 1, scratchCapacity * 2)
            scratch = .allocate(capacity: scratchCapacity)
        }
        guard let raw = bytes.baseAddress, count > 0 else { throw JSONSyntaxError("expected value", offset: 0) }
        let base = raw.assumingMemoryBound(to: UInt8.self)
        let top = state.top
        var parser = JSONParser(state: state, base: base, end: base + count, p: base, scratch: scratch,
                                hints: hints, arrayHints: arrayHints, powers: powers, nullRef: sentinels.null, arrayMeta: sentinels.arrayMeta)
        do {
            try parser.value(depth: 0)
            parser.skipSpace()
            if parser.p != parser.end { throw parser.fail("extra data after the value") }
        } catch {
            state.top = top
            throw error
        }
    }

    /// Parses JSON held in a Swift array. Stack: [] -> [value].
    public func push(_ bytes: [UInt8], into state: LuaState) throws {
        try bytes.withUnsafeBytes { try push($0, into: state) }
    }
}

/// The recursive-descent parser; a struct so that its cursor lives in registers.
struct JSONParser {
    let state: LuaState
    let base: UnsafePointer<UInt8>
    let end: UnsafePointer<UInt8>
    var p: UnsafePointer<UInt8>
    let scratch: UnsafeMutablePointer<UInt8>
    let hints: UnsafeMutablePointer<Int32>
    let arrayHints: UnsafeMutablePointer<Int32>
    let powers: UnsafeMutablePointer<Double>
    let nullRef: LuaRef
    let arrayMeta: LuaRef
    static let maxDepth = LuaLimits.maxDepth

    func fail(_ message: String, at q: UnsafePointer<UInt8>? = nil) -> JSONSyntaxError {
        JSONSyntaxError(message, offset: base.distance(to: q ?? p))
    }

    @inline(__always)
    mutating func skipSpace() {
        while p < end {
            let c = p.pointee
            guard c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 else { return }
            p += 1
        }
    }

    /// Parses the value at the cursor and pushes it. Stack: [] -> [v].
    mutating func value(depth: Int) throws {
        skipSpace()
        guard p < end else { throw fail("expected value") }
        switch p.pointee {
        case UInt8(ascii: "\""): try string()
        case UInt8(ascii: "{"): try object(depth: depth)
        case UInt8(ascii: "["): try array(depth: depth)
        case UInt8(ascii: "t"): try literal("true"); state.push(boolean: true)
        case UInt8(ascii: "f"): try literal("false"); state.push(boolean: false)
        case UInt8(ascii: "n"): try literal("null"); state.push(ref: nullRef)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try number()
        case UInt8(ascii: "N"), UInt8(ascii: "I"): throw fail(JSONDecoderToLua.nonFinite)
        default: throw fail("expected value")
        }
    }

    mutating func literal(_ word: StaticString) throws {
        let n = word.utf8CodeUnitCount
        guard end - p >= n, memcmp(p, word.utf8Start, n) == 0 else { throw fail("expected value") }
        p += n
    }

    mutating func enter(_ depth: Int) throws {
        guard depth < JSONParser.maxDepth, state.checkStack(4) else { throw fail("nesting deeper than \(JSONParser.maxDepth)") }
    }

    mutating func object(depth: Int) throws {
        try enter(depth)
        p += 1
        let hinted = depth < JSONDecoderToLua.hintDepth
        state.createTable(array: 0, record: hinted ? hints[depth] : 0)
        skipSpace()
        if p < end, p.pointee == UInt8(ascii: "}") { p += 1; return }
        var n: Int32 = 0
        while true {
            skipSpace()
            guard p < end, p.pointee == UInt8(ascii: "\"") else { throw fail("expected a string key") }
            try string()
            skipSpace()
            guard p < end, p.pointee == UInt8(ascii: ":") else { throw fail("expected ':'") }
            p += 1
            try value(depth: depth + 1)
            state.rawSetPair(of: -3)
            n += 1
            skipSpace()
            guard p < end else { throw fail("expected ',' or '}'") }
            let c = p.pointee
            p += 1
            if c == UInt8(ascii: ",") { continue }
            if c == UInt8(ascii: "}") { break }
            p -= 1
            throw fail("expected ',' or '}'")
        }
        if hinted { hints[depth] = min(n, 64) }
    }

    mutating func array(depth: Int) throws {
        try enter(depth)
        p += 1
        // Sized as the last array of this depth was (at most 64 items): a trainer's request
        // has lists of equal length (query, prompts, labels), a JSONL file's records alike
        // lists, and a table grown one item at a time is resized at 1, 2, 4, 8... items.
        let hinted = depth < JSONDecoderToLua.hintDepth
        state.createTable(array: hinted ? arrayHints[depth] : 0, record: 0)
        skipSpace()
        if p < end, p.pointee == UInt8(ascii: "]") {
            p += 1
            state.push(ref: arrayMeta)
            state.setMetatable(of: -2)
            return
        }
        var n: Int64 = 0
        while true {
            try value(depth: depth + 1)
            n += 1
            state.rawSet(index: n, of: -2)
            skipSpace()
            guard p < end else { throw fail("expected ',' or ']'") }
            let c = p.pointee
            p += 1
            if c == UInt8(ascii: ",") { continue }
            if c == UInt8(ascii: "]") {
                if hinted { arrayHints[depth] = Int32(min(n, 64)) }
                return
            }
            p -= 1
            throw fail("expected ',' or ']'")
        }
    }

    /// A string at the cursor (on its opening quote). Stack: [] -> [string].
    mutating func string() throws {
        let open = p
        p += 1
        let s = p
        // Up to the first '"', '\\' or control character: 16 bytes at a time (LuaShim's
        // jsonscan.c, SSE2), twice the speed of the 8-byte word loop it replaces.
        p = mlshim_json_plain_end(p, end)
        while p < end {
            let c = p.pointee
            if c == UInt8(ascii: "\"") {
                state.push(bytes: s, count: s.distance(to: p))
                p += 1
                return
            }
            if c == UInt8(ascii: "\\") { break }
            if c < 0x20 { throw fail("invalid control character in string") }
            p += 1
        }
        guard p < end else { throw fail("unterminated string", at: open) }
        try escapedString(from: s, open: open)
    }

    /// The slow path: a string with escapes, decoded into the scratch buffer.
    mutating func escapedString(from s: UnsafePointer<UInt8>, open: UnsafePointer<UInt8>) throws {
        var n = s.distance(to: p)
        scratch.update(from: s, count: n)
        while true {
            guard p < end else { throw fail("unterminated string", at: open) }
            let c = p.pointee
            if c == UInt8(ascii: "\"") { p += 1; break }
            if c < 0x20 { throw fail("invalid control character in string") }
            if c != UInt8(ascii: "\\") { scratch[n] = c; n += 1; p += 1; continue }
            guard end - p >= 2 else { throw fail("unterminated string", at: open) }
            let e = p[1]
            p += 2
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scratch[n] = e
            case UInt8(ascii: "b"): scratch[n] = 8
            case UInt8(ascii: "f"): scratch[n] = 12
            case UInt8(ascii: "n"): scratch[n] = 10
            case UInt8(ascii: "r"): scratch[n] = 13
            case UInt8(ascii: "t"): scratch[n] = 9
            case UInt8(ascii: "u"):
                n += try unicodeEscape(into: scratch + n)
                continue
            default: throw fail("invalid escape", at: p - 2)
            }
            n += 1
        }
        state.push(bytes: UnsafePointer(scratch), count: n)
    }

    /// Four hex digits at the cursor.
    mutating func hex4() throws -> UInt32 {
        guard end - p >= 4 else { throw fail("invalid \\u escape", at: p - 2) }
        var v: UInt32 = 0
        for i in 0..<4 {
            let c = UInt32(p[i])
            let d: UInt32
            switch c {
            case 48...57: d = c - 48
            case 65...70: d = c - 55
            case 97...102: d = c - 87
            default: throw fail("invalid \\u escape", at: p - 2)
            }
            v = v << 4 | d
        }
        p += 4
        return v
    }

    /// A `\uXXXX` escape (cursor after `\u`; a surrogate pair takes both) written as UTF-8
    /// at `out` (never more than the 6 or 12 input bytes it replaces). Returns its length.
    mutating func unicodeEscape(into out: UnsafeMutablePointer<UInt8>) throws -> Int {
        var code = try hex4()
        if code >= 0xD800, code < 0xDC00 {
            if end - p >= 6, p[0] == UInt8(ascii: "\\"), p[1] == UInt8(ascii: "u") {
                let save = p
                p += 2
                let low = try hex4()
                if low >= 0xDC00, low < 0xE000 {
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                } else { p = save; code = 0xFFFD }
            } else { code = 0xFFFD }
        } else if code >= 0xDC00, code < 0xE000 { code = 0xFFFD }
        switch code {
        case 0..<0x80: out[0] = UInt8(code); return 1
        case 0x80..<0x800:
            out[0] = UInt8(0xC0 | code >> 6); out[1] = UInt8(0x80 | code & 0x3F); return 2
        case 0x800..<0x10000:
            out[0] = UInt8(0xE0 | code >> 12); out[1] = UInt8(0x80 | (code >> 6) & 0x3F)
            out[2] = UInt8(0x80 | code & 0x3F); return 3
        default:
            out[0] = UInt8(0xF0 | code >> 18); out[1] = UInt8(0x80 | (code >> 12) & 0x3F)
            out[2] = UInt8(0x80 | (code >> 6) & 0x3F); out[3] = UInt8(0x80 | code & 0x3F); return 4
        }
    }

    /// A number at the cursor: a Lua integer when integral (no '.', no exponent) and in
    /// range, else a correctly rounded float. Stack: [] -> [number].
    mutating func number() throws {
        let s = p
        let negative = p.pointee == UInt8(ascii: "-")
        if negative { p += 1 }
        if p < end, p.pointee == UInt8(ascii: "I") { throw fail(JSONDecoderToLua.nonFinite, at: s) }
        guard p < end, p.pointee &- 48 < 10 else { throw fail("invalid number", at: s) }
        var m: UInt64 = 0
        var exp10 = 0
        var inexact = false
        if p.pointee == UInt8(ascii: "0") {
            p += 1
            if p < end, p.pointee &- 48 < 10 { throw fail("invalid number (leading zero)", at: s) }
        } else {
            while p < end {
                let d = p.pointee &- 48
                if d >= 10 { break }
                if m < 1_000_000_000_000_000_000 { m = m &* 10 &+ UInt64(d) } else { exp10 += 1; inexact = true }
                p += 1
            }
        }
        var isFloat = false
        if p < end, p.pointee == UInt8(ascii: ".") {
            isFloat = true
            p += 1
            guard p < end, p.pointee &- 48 < 10 else { throw fail("invalid number", at: s) }
            while p < end {
                let d = p.pointee &- 48
                if d >= 10 { break }
                if m < 1_000_000_000_000_000_000 { m = m &* 10 &+ UInt64(d); exp10 -= 1 } else if d != 0 { inexact = true }
                p += 1
            }
        }
        if p < end, p.pointee | 0x20 == UInt8(ascii: "e") {
            isFloat = true
            p += 1
            var eneg = false
            if p < end, p.pointee == UInt8(ascii: "-") || p.pointee == UInt8(ascii: "+") { eneg = p.pointee == UInt8(ascii: "-"); p += 1 }
            guard p < end, p.pointee &- 48 < 10 else { throw fail("invalid number", at: s) }
            var e = 0
            while p < end {
                let d = p.pointee &- 48
                if d >= 10 { break }
                if e < 100_000 { e = e * 10 + Int(d) }
                p += 1
            }
            exp10 += eneg ? -e : e
        }
        if !isFloat, !inexact {
            if negative, m <= 1 << 63 { state.push(integer: m == 1 << 63 ? Int64.min : -Int64(m)); return }
            if !negative, m <= UInt64(Int64.max) { state.push(integer: Int64(m)); return }
        }
        if !inexact, m <= 1 << 53, exp10 >= -22, exp10 <= 22 {
            var d = Double(m)
            d = exp10 < 0 ? d / powers[-exp10] : d * powers[exp10]
            state.push(float: negative ? -d : d)
            return
        }
        let n = s.distance(to: p)
        scratch.update(from: s, count: n)
        scratch[n] = 0
        let d = scratch.withMemoryRebound(to: CChar.self, capacity: n + 1) { strtod($0, nil) }
        state.push(float: d)
    }
}
