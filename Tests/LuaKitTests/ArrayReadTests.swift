import XCTest
import LuaKit

/// `readNumbers`/`readFlags` read a table's array part in place (tablearray.c). The reference
/// for every case is Lua itself: a loop of `t[i]` in Lua code (rawget, so metatables do not
/// count) says what each entry is and where the first bad one sits; the C readers must agree
/// with it exactly, for tables laid out every way Lua lays them out (array part sized by a
/// constructor, grown by appends with `alimit` a hint, shrunk, entries left in the hash part,
/// holes).
final class ArrayReadTests: XCTestCase {
    /// Builds the table with `make` (a Lua expression of `n`), then reads `count` entries.
    private func check(_ make: String, n: Int, count: Int? = nil, flags: Bool = false,
                       file: StaticString = #filePath, line: UInt = #line) throws {
        let lua = try LuaState()
        let count = count ?? n
        try lua.run("""
            local n = \(n)
            T = (function() \(make) end)()
            local flags = \(flags)
            REF, BAD = {}, 0
            for i = 1, \(count) do
              local v = rawget(T, i)
              local x
              if math.type(v) then x = v + 0.0 elseif type(v) == "boolean" then x = v and 1.0 or 0.0 end
              if x == nil or (flags and x ~= 0 and x ~= 1) then BAD = i break end
              REF[i] = string.format("%a", x)
            end
            REF = table.concat(REF, ",")
            """)
        // the reference travels as hex-float text, not through the readers under test
        lua.getGlobal("REF")
        let text = lua.string(at: -1) ?? ""
        lua.pop()
        let expected = text.isEmpty ? [] : text.split(separator: ",").map { Double(String($0))! }
        let bad = Int(try lua.evaluate("BAD")) ?? -1
        lua.getGlobal("T")
        defer { lua.pop() }
        if flags {
            var out = [UInt8](repeating: 7, count: count)
            let got = out.withUnsafeMutableBufferPointer { lua.readFlags(at: -1, count: count, into: $0.baseAddress!) }
            XCTAssertEqual(got ?? 0, bad, "first bad flag", file: file, line: line)
            XCTAssertEqual(out.prefix(expected.count).map { Double($0) }, expected, file: file, line: line)
        } else {
            var out = [Double](repeating: .nan, count: count)
            let got = out.withUnsafeMutableBufferPointer { lua.readNumbers(at: -1, count: count, into: $0.baseAddress!) }
            XCTAssertEqual(got ?? 0, bad, "first bad number", file: file, line: line)
            XCTAssertEqual(Array(out.prefix(expected.count)), expected, file: file, line: line)
        }
    }

    func testTheInPlacePathIsTakenOnThisLua() throws {
        // Debian's liblua5.4 (5.4.4) is what CI links; if the mirror stopped matching it, the
        // readers would silently fall back to the API and be 5-10x slower.
        XCTAssertTrue(try LuaState().readsArraysInPlace)
    }

    func testArraysGrownByAppending() throws {
        let grow = "local t = {} for i = 1, n do t[i] = (i % 3 == 0) and (i % 2 == 0) or (i % 3 == 1 and i * 0.5 or i) end return t"
        for n in [1, 2, 3, 5, 17, 1000, 1024, 1025, 4097, 100_003] {
            try check(grow, n: n)
            try check(grow, n: n, count: max(1, n / 2))
        }
    }

    func testConstructorsAndIntegersBeyondDoublePrecision() throws {
        try check("return {1, 2.5, true, false, -0.0, 1/0, -1/0, 2^53 + 1, math.maxinteger, math.mininteger, 9007199254740993}", n: 11)
        try check("return table.pack(1, 2, 3, 4, 5)", n: 5)
    }

    func testEntriesInTheHashPart() throws {
        // filled backwards, the entries live in the hash part until a rehash moves them
        try check("local t = {} for i = n, 1, -1 do t[i] = i / 4 end return t", n: 300)
        try check("local t = {1, 2, 3} for i = 4, n do t[i] = i end t.x = 1 return t", n: 40)
        try check("local t = {k = 1} for i = 1, n do t[i] = i end return t", n: 33)
        try check("local t = table.move({1, 2, 3, 4}, 1, 4, 1, {}) t[5] = true return t", n: 5)
    }

    func testLengthOperatorAndShrinking() throws {
        try check("local t = {} for i = 1, n do t[i] = i end local _ = #t t[n] = nil return t", n: 1000, count: 999)
        try check("local t = {} for i = 1, n do t[i] = i end for i = n, 600, -1 do t[i] = nil end local _ = #t return t", n: 1000, count: 599)
        try check("local t = {} for i = 1, n do t[i] = i end local _ = #t for i = 1, 10 do t[n + i] = -i end return t", n: 1000, count: 1010)
    }

    func testTheFirstBadEntryIsFound() throws {
        let base = "local t = {} for i = 1, n do t[i] = i end "
        try check(base + "t[1] = 'x' return t", n: 100)
        try check(base + "t[37] = {} return t", n: 100)
        try check(base + "t[100] = 'last' return t", n: 100)
        try check(base + "t[50] = nil return t", n: 100)                      // a hole
        try check(base + "return t", n: 100, count: 140)                      // past the end
        try check("local t = {} for i = n, 1, -1 do t[i] = i end t[7] = print return t", n: 60)
        try check("return setmetatable({1, 2}, {__index = function() return 5 end})", n: 2, count: 4)
    }

    func testFlags() throws {
        let mixed = "local t = {} for i = 1, n do local k = i % 5 t[i] = k == 0 or (k == 1 and false) or (k == 2 and 1) or (k == 3 and 0.0) or (k == 4 and 1.0) end return t"
        for n in [1, 9, 1000, 1025, 100_000] { try check(mixed, n: n, flags: true) }
        let base = "local t = {} for i = 1, n do t[i] = i % 2 == 0 end "
        try check(base + "t[10] = 2 return t", n: 20, flags: true)
        try check(base + "t[11] = 0.5 return t", n: 20, flags: true)
        try check(base + "t[12] = 'true' return t", n: 20, flags: true)
        try check("local t = {} for i = n, 1, -1 do t[i] = i % 3 == 0 end t[5] = -1 return t", n: 50, flags: true)
    }
}
