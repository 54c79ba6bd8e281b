import XCTest
import LuaKit

final class ValueRoundTripTests: XCTestCase {
    func testEveryValueTypeRoundTrips() throws {
        let lua = try LuaState()
        let values: [LuaValue] = [
            .nil, .boolean(true), .boolean(false), .integer(42), .integer(Int.min), .number(0.1),
            .number(-1e300), .string(Array("a\u{0}b".utf8)), .string([0xff, 0x00, 0xfe]),
            .table([.integer(1): .text("x"), .text("k"): .table([.integer(1): .number(2.5)])]),
        ]
        for v in values {
            lua.push(v)
            XCTAssertEqual(lua.value(at: -1), v, "\(v)")
            lua.pop()
        }
        XCTAssertEqual(lua.top, 0)
    }

    func testStringsKeepEmbeddedZerosThroughLua() throws {
        let lua = try LuaState()
        lua.push(bytes: [65, 0, 66])
        lua.setGlobal("s")
        XCTAssertEqual(try lua.evaluate("#s"), "3")
        XCTAssertEqual(try lua.evaluate("s:byte(2)"), "0")
    }

    func testNumberAndStringArrays() throws {
        let lua = try LuaState()
        lua.push(array: [1, 2.5, -3])
        XCTAssertEqual(lua.numberArray(at: -1), [1, 2.5, -3])
        lua.pop()
        try lua.run("return {'a', 'b'}, {1, 'x'}")
        XCTAssertEqual(lua.stringArray(at: -2), ["a", "b"])
        XCTAssertNil(lua.numberArray(at: -1))
        lua.pop(2)
    }

    func testFunctionsAndIntegersVersusFloats() throws {
        let lua = try LuaState()
        XCTAssertEqual(try lua.evaluate("3 // 1"), "3")
        XCTAssertEqual(try lua.evaluate("3 / 1"), "3.0")
        try lua.run("return function(x) return x * 2 end")
        XCTAssertEqual(lua.type(at: -1), .function)
        lua.push(21)
        try lua.pcall(nargs: 1, nresults: 1)
        XCTAssertEqual(lua.integer(at: -1), 42)
        lua.pop()
    }
}
