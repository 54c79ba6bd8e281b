import LuaKit

/// Integers that arrive as doubles (token ids and positions read from a tensor, counts in
/// an array): each must be integral and inside a range before Swift converts it, since
/// `Int(x)` traps on NaN, infinities and values past `Int`.
enum CheckedIntegers {
    /// `values` as Ints, each inside `range`; otherwise `fail(entry, value)` (entry 1-based).
    static func from(_ values: [Double], in range: ClosedRange<Int>, _ fail: (Int, Double) -> Error) throws -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(values.count)
        for (i, v) in values.enumerated() {
            guard let n = integer(v, in: range) else { throw fail(i + 1, v) }
            out.append(n)
        }
        return out
    }

    /// `v` as an Int when it is integral and inside `range`, else nil.
    static func integer(_ v: Double, in range: ClosedRange<Int>) -> Int? {
        guard v == v.rounded(), v >= Double(range.lowerBound), v <= Double(range.upperBound),
              let n = Int(exactly: v), range.contains(n) else { return nil }
        return n
    }

    /// Token ids: any id a tokenizer could give (ids past the vocabulary are the stage's to
    /// judge), kept to the range where a Double is exact.
    static let tokenIds = -(1 << 53)...(1 << 53)
}
