import Foundation
import LuaKit

/// JSON text to `LuaValue` for the scoring engine: objects become tables with string keys,
/// arrays tables with keys 1...n, `null` is absent (nil) inside objects and arrays.
enum JSONRecords {
    struct Invalid: Error, CustomStringConvertible { let description: String }

    static func decode(_ bytes: [UInt8]) throws -> LuaValue {
        let any: Any
        do { any = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) } catch {
            throw Invalid(description: "not valid JSON")
        }
        return convert(any)
    }

    static func convert(_ x: Any) -> LuaValue {
        switch x {
        case let s as String: return .text(s)
        case let n as NSNumber:
            if n.objCType.pointee == 99 /* 'c': a JSON true/false */ { return .boolean(n.boolValue) }
            let d = n.doubleValue
            if d.rounded() == d, abs(d) < 9.0e15, !"\(n)".contains(".") { return .integer(Int(d)) }
            return .number(d)
        case let a as [Any]:
            var t: [LuaValue: LuaValue] = [:]
            for (i, v) in a.enumerated() where !(v is NSNull) { t[.integer(i + 1)] = convert(v) }
            return .table(t)
        case let o as [String: Any]:
            var t: [LuaValue: LuaValue] = [:]
            for (k, v) in o where !(v is NSNull) { t[.text(k)] = convert(v) }
            return .table(t)
        default: return .nil
        }
    }
}
