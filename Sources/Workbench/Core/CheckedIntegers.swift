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

extension LuaArguments {
    /// Checks a new tensor of `shape` before it is allocated: its element count must not
    /// overflow or pass `LuaLimits.maxElements`, and its bytes must fit under the state's
    /// memory limit. Returns the element count.
    @discardableResult
    func checkAllocation(shape: [Int], bytesPerElement: Int) throws -> Int {
        var count = 1
        for n in shape {
            let (p, overflow) = count.multipliedReportingOverflow(by: max(0, n))
            guard !overflow, p <= LuaLimits.maxElements else {
                throw failure("a tensor of shape {\(shape.map(String.init).joined(separator: ", "))} is too large (at most \(LuaLimits.maxElements) elements)")
            }
            count = p
        }
        do { try state.checkHeadroom(count * bytesPerElement, for: function) } catch let e as LuaError { throw LuaScriptError(e.message) }
        return count
    }
}
