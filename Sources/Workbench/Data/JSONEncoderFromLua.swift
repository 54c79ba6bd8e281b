#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LuaKit
import AlignMath

/// A value that cannot be written as JSON (a function, a float table key, a cycle).
public struct JSONEncodingError: Error, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Writes Lua values as compact JSON into a growing byte buffer, straight from the stack.
///
/// Rules (documented in `help(data.write_jsonl)`):
/// - a table whose keys are exactly 1..n (n >= 1) is an array; any other table an object;
///   an empty table is `{}` unless it carries `data.array`'s marker (decoded `[]` does);
/// - object keys: strings as they are, integer keys as decimal strings; other keys are an
///   error. Keys are written sorted (integers first, ascending; then strings bytewise), so
///   output is deterministic and diffable;
/// - integers as integers, floats in the shortest form that reads back to the same double
///   (`1.0` stays `1.0`); NaN and ±inf become `null` (as orjson does);
/// - strings escaped (`"`, `\`, control characters), other bytes (UTF-8) written as they are;
/// - `data.null` and nil are `null`; a tensor as `json.dumps(a.tolist())` writes a numpy
///   array: nested arrays, i64 integers, bools `true`/`false`, a 0-d tensor its number;
/// - functions, threads, other userdata, and nesting deeper than 200 (`LuaLimits.maxDepth`; a cycle) are errors.
public final class JSONEncoderFromLua {
    private let sentinels: DataSentinels
    /// The bytes written so far.
    public private(set) var bytes: [UInt8] = []
    private static let maxDepth = LuaLimits.maxDepth

    /// An encoder reading from `state`.
    /// Keeps no reference to the state: pass it to each `encode`.
    public init(state: LuaState) {
        sentinels = DataSentinels.of(state)
        bytes.reserveCapacity(1 << 16)
    }

    /// Empties the buffer, keeping its capacity.
    public func reset() { bytes.removeAll(keepingCapacity: true) }

    /// Appends a raw byte (a newline between records).
    public func append(_ byte: UInt8) { bytes.append(byte) }

    /// Appends the JSON of the value at `index`. Stack-neutral. Throws `JSONEncodingError`.
    public func encode(at index: Int32, in state: LuaState) throws {
        try value(state, state.absolute(index), depth: 0)
    }

    private func value(_ state: LuaState, _ idx: Int32, depth: Int) throws {
        switch LuaType(rawValue: state.rawType(at: idx)) ?? .none {
        case .nil, .none: appendASCII("null")
        case .boolean: appendASCII(state.boolean(at: idx) ? "true" : "false")
        case .number:
            if state.isInteger(at: idx) { appendInteger(state.rawInteger(at: idx)) } else { appendFloat(state.rawNumber(at: idx)) }
        case .string:
            if let b = state.rawBytes(at: idx) { appendString(b) }
        case .table: try table(state, idx, depth: depth)
        case .userdata:
            if sentinels.isNull(state, at: idx) { appendASCII("null"); return }
            if let t = state.object(at: idx, Tensor.self) { appendTensor(t); return }
            throw JSONEncodingError("cannot encode a \(state.typeName(at: idx)) as JSON")
        default:
            throw JSONEncodingError("cannot encode a \(state.typeName(at: idx)) as JSON")
        }
    }

    /// One key of an object, in the order it is written.
    private struct Key {
        var integer: Int64
        var text: UnsafeRawBufferPointer?
    }

    private func table(_ state: LuaState, _ idx: Int32, depth: Int) throws {
        guard depth < JSONEncoderFromLua.maxDepth, state.checkStack(4) else {
            throw JSONEncodingError("cannot encode a table nested deeper than \(JSONEncoderFromLua.maxDepth) (a cycle?)")
        }
        let n = state.rawLength(at: idx)
        var count = 0, inRange = 0
        var keys: [Key] = []
        state.pushNil()
        while state.next(of: idx) {
            count += 1
            let kt = state.rawType(at: -2)
            if kt == LuaType.number.rawValue, state.isInteger(at: -2) {
                let k = state.rawInteger(at: -2)
                if k >= 1, k <= n { inRange += 1 }
                keys.append(Key(integer: k, text: nil))
            } else if kt == LuaType.string.rawValue {
                keys.append(Key(integer: 0, text: state.rawBytes(at: -2)))
            } else {
                let name = state.typeName(at: -2)
                state.pop(2)
                throw JSONEncodingError("cannot encode a table with a \(name) key as JSON")
            }
            state.pop()
        }
        if count == 0 {
            appendASCII(sentinels.isMarkedArray(state, at: idx) ? "[]" : "{}")
            return
        }
        if n > 0, count == n, inRange == n {
            bytes.append(UInt8(ascii: "["))
            for i in 1...n {
                if i > 1 { bytes.append(UInt8(ascii: ",")) }
                _ = state.rawGet(index: Int64(i), of: idx)
                defer { state.pop() }
                try value(state, state.absolute(-1), depth: depth + 1)
            }
            bytes.append(UInt8(ascii: "]"))
            return
        }
        keys.sort(by: JSONEncoderFromLua.ordered)
        bytes.append(UInt8(ascii: "{"))
        for (i, k) in keys.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            if let t = k.text {
                appendString(t)
                state.push(bytes: t)
            } else {
                bytes.append(UInt8(ascii: "\""))
                appendInteger(k.integer)
                bytes.append(UInt8(ascii: "\""))
                state.push(integer: k.integer)
            }
            bytes.append(UInt8(ascii: ":"))
            _ = state.rawGet(of: idx)
            defer { state.pop() }
            try value(state, state.absolute(-1), depth: depth + 1)
        }
        bytes.append(UInt8(ascii: "}"))
    }

    private static func ordered(_ a: Key, _ b: Key) -> Bool {
        switch (a.text, b.text) {
        case (nil, nil): return a.integer < b.integer
        case (nil, _): return true
        case (_, nil): return false
        case let (x?, y?):
            guard let xa = x.baseAddress, let ya = y.baseAddress, x.count > 0, y.count > 0 else { return x.count < y.count }
            let c = memcmp(xa, ya, min(x.count, y.count))
            return c != 0 ? c < 0 : x.count < y.count
        }
    }

    private func appendASCII(_ s: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// A JSON string: runs of plain bytes copied at once, escapes written as needed.
    public func appendString(_ s: UnsafeRawBufferPointer) {
        bytes.append(UInt8(ascii: "\""))
        var run = 0
        for i in 0..<s.count {
            let c = s[i]
            guard c < 0x20 || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") else { continue }
            if i > run { bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: s[run..<i])) }
            run = i + 1
            bytes.append(UInt8(ascii: "\\"))
            switch c {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(c)
            case 10: bytes.append(UInt8(ascii: "n"))
            case 13: bytes.append(UInt8(ascii: "r"))
            case 9: bytes.append(UInt8(ascii: "t"))
            case 8: bytes.append(UInt8(ascii: "b"))
            case 12: bytes.append(UInt8(ascii: "f"))
            default:
                bytes.append(contentsOf: [UInt8(ascii: "u"), 48, 48,
                                          JSONEncoderFromLua.hexDigits[Int(c >> 4)], JSONEncoderFromLua.hexDigits[Int(c & 15)]])
            }
        }
        if s.count > run { bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: s[run..<s.count])) }
        bytes.append(UInt8(ascii: "\""))
    }

    /// A decimal integer.
    public func appendInteger(_ v: Int64) {
        if v == 0 { bytes.append(48); return }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes of scratch
        var m = v.magnitude
        let n = withUnsafeMutableBytes(of: &digits) { buf -> Int in
            var i = 24
            while m > 0 { i -= 1; buf[i] = UInt8(48 + m % 10); m /= 10 }
            if v < 0 { i -= 1; buf[i] = UInt8(ascii: "-") }
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: buf[i..<24]))
            return 24 - i
        }
        _ = n
    }

    /// A float in its shortest round-trip form (`1.0`, `0.1`, `1e+20`); NaN/inf as `null`.
    public func appendFloat(_ d: Double) {
        guard d.isFinite else { appendASCII("null"); return }
        bytes.append(contentsOf: d.description.utf8)
    }

    /// A tensor as numpy's `tolist()` then `json.dumps` writes it (the peer): i64 elements as
    /// integers (they were floats, so ids above 2^53 lost digits), bool as `true`/`false`,
    /// floats (f32 widened) as shortest doubles, a 0-d tensor as its one value.
    private func appendTensor(_ t: Tensor) {
        let ints: [Int64]? = t.dtype == .i64 || t.dtype == .bool ? t.toInt64s() : nil
        let values: [Double] = ints == nil ? t.toDoubles() : []
        let isBool = t.dtype == .bool
        func item(_ k: Int) {
            if let ints {
                if isBool { appendASCII(ints[k] != 0 ? "true" : "false") } else { appendInteger(ints[k]) }
            } else {
                appendFloat(values[k])
            }
        }
        let shape = t.shape
        if shape.isEmpty {
            if (ints?.count ?? values.count) > 0 { item(0) } else { appendASCII("null") }
            return
        }
        var k = 0
        func level(_ d: Int) {
            bytes.append(UInt8(ascii: "["))
            for i in 0..<shape[d] {
                if i > 0 { bytes.append(UInt8(ascii: ",")) }
                if d == shape.count - 1 { item(k); k += 1 } else { level(d + 1) }
            }
            bytes.append(UInt8(ascii: "]"))
        }
        level(0)
    }
}
