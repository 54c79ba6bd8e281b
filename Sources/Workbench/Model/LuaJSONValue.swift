import LuaKit
import ModelClient

/// Lua values to and from `JSONValue`, for request bodies and answers. A table is an array
/// when its keys are 1..n (an empty table, or one marked with `data.array`, too), an
/// object otherwise; `data.null` is JSON null.
extension LuaState {
    /// The JSON value at `index`; throws a message for values JSON cannot hold.
    func jsonValue(at index: Int32, depth: Int = 0) throws -> JSONValue {
        let i = absolute(index)
        guard depth < 64 else { throw LuaScriptError("nested more than 64 levels (a cycle?)") }
        switch type(at: i) {
        case .nil: return .null
        case .boolean: return .bool(boolean(at: i))
        case .number:
            if isInteger(at: i) { return .integer(Int(rawInteger(at: i))) }
            return .number(rawNumber(at: i))
        case .string: return .string(string(at: i) ?? "")
        case .userdata where DataSentinels.of(self).isNull(self, at: i): return .null
        case .table:
            let n = rawLength(at: i)
            var count = 0
            var stringKeys = true
            forEachPair(of: i) {
                count += 1
                if type(at: -2) != .string { stringKeys = false }
                return true
            }
            if count == 0 { return .array([]) }
            if n == count {
                var a: [JSONValue] = []
                a.reserveCapacity(n)
                for k in 1...n {
                    _ = rawGet(k, of: i)
                    defer { pop() }
                    a.append(try jsonValue(at: -1, depth: depth + 1))
                }
                return .array(a)
            }
            guard stringKeys else { throw LuaScriptError("a table mixing array entries and keys cannot be JSON") }
            var o: [String: JSONValue] = [:]
            var failure: Error?
            forEachPair(of: i) {
                do { o[string(at: -2) ?? ""] = try jsonValue(at: -1, depth: depth + 1) } catch { failure = error; return false }
                return true
            }
            if let failure { throw failure }
            return .object(o)
        default:
            throw LuaScriptError("a \(typeName(at: i)) cannot be sent as JSON")
        }
    }

    /// Pushes a JSON value as Lua (null as `data.null`). Stack: [] -> [v].
    func push(json v: JSONValue) {
        switch v {
        case .null: push(ref: DataSentinels.of(self).null)
        case .bool(let b): push(b)
        case .integer(let i): push(i)
        case .number(let d): push(d)
        case .string(let s): push(s)
        case .array(let a):
            newTable(arrayCount: a.count)
            for (k, x) in a.enumerated() { push(json: x); rawSet(k + 1, of: -2) }
        case .object(let o):
            newTable(recordCount: o.count)
            for (k, x) in o { push(json: x); setField(k, of: -2) }
        }
    }
}
