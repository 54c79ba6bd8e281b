import XCTest
import TestSupport

/// Helpers for the `rl`, `pref` and `metrics` module tests: numbers out of Lua at full
/// precision, and error messages without the entry's position prefix.
extension LuaHarness {
    /// Defines `show(...)` and `T(array)` (a tensor from an array). `show(...)`: every number of its arguments (numbers, arrays, tensors, nested),
    /// printed with %.17g and separated by spaces.
    func installNumberHelpers() throws {
        try run("""
            function show(...)
              local out = {}
              local function add(x)
                if type(x) == 'number' then out[#out + 1] = string.format('%.17g', x)
                elseif type(x) == 'table' then for _, v in ipairs(x) do add(v) end
                else add(x:totable()) end
              end
              for i = 1, select('#', ...) do add((select(i, ...))) end
              return table.concat(out, ' ')
            end
            -- A tensor with the values of a (nested) array, built by rl.kl's k1 against zeros
            -- (logp - 0), so these tests need nothing from the tensor module but the type.
            function T(x)
              local function zeros(a)
                local z = {}
                for i, v in ipairs(a) do z[i] = type(v) == 'table' and zeros(v) or 0 end
                return z
              end
              return rl.kl(x, zeros(x))
            end
            """)
    }

    /// The numbers of `expr` (all its results, flattened), via `show`.
    func luaNumbers(_ expr: String, file: StaticString = #filePath, line: UInt = #line) throws -> [Double] {
        let text = try value("show(\(expr))")
        let parts = text.split(separator: " ")
        let out = parts.compactMap { Double(String($0)) }
        XCTAssertEqual(out.count, parts.count, "unparsable numbers in '\(text)'", file: file, line: line)
        return out
    }

    /// The error message of `code` without the `[N]:1: ` position prefix (nil if it succeeded).
    func bareError(_ code: String) -> String? {
        guard let e = error(code) else { return nil }
        guard e.hasPrefix("["), let close = e.range(of: "]:") else { return e }
        let rest = e[close.upperBound...]
        guard let colon = rest.range(of: ": ") else { return e }
        return String(rest[colon.upperBound...])
    }
}

/// Asserts that two vectors agree elementwise to `accuracy` (relative to 1 + |expected|).
func assertNumbersClose(_ actual: [Double], _ expected: [Double], accuracy: Double = 1e-12,
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.count, expected.count, "lengths differ: \(actual) vs \(expected)", file: file, line: line)
    for (i, (a, e)) in zip(actual, expected).enumerated() {
        if e.isNaN { XCTAssertTrue(a.isNaN, "entry \(i + 1): \(a) is not NaN", file: file, line: line); continue }
        XCTAssertLessThanOrEqual(abs(a - e), accuracy * (1 + abs(e)), "entry \(i + 1): \(a) vs \(e)", file: file, line: line)
    }
}
