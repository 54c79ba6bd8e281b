import XCTest
import LuaKit

/// Lua API calls made from Swift frames must never unwind them with longjmp: a raising
/// `__tostring`/`__index`, or running out of memory inside a Swift function.
final class HostSafetyTests: XCTestCase {
    func testRaisingToStringIsReportedNotUnwound() throws {
        let lua = try LuaState()
        try lua.run("bad = setmetatable({}, {__tostring = function() error('no string for you') end})")
        lua.getGlobal("bad")
        let text = lua.describe(at: -1)
        lua.pop()
        XCTAssertTrue(text.hasPrefix("<error in __tostring:"), text)
        XCTAssertTrue(text.contains("no string for you"), text)
        XCTAssertEqual(lua.top, 0)
    }

    func testRaisingIndexGivesNilOrATypedError() throws {
        let lua = try LuaState()
        try lua.run("opts = setmetatable({}, {__index = function(t, k) error('boom ' .. k) end})")
        lua.getGlobal("opts")
        XCTAssertEqual(lua.getField("gamma"), .nil)
        lua.pop()
        XCTAssertThrowsError(try lua.field("gamma")) { e in
            XCTAssertTrue((e as? LuaError)?.message.contains("boom gamma") ?? false, "\(e)")
        }
        lua.pop()
        XCTAssertEqual(lua.top, 0)
    }

    func testASwiftFunctionThatAllocatesPastTheCeilingFailsAfterItReturns() throws {
        let lua = try LuaState(memoryLimit: 2 << 20)
        lua.register(global: "big") { args in
            // 4 MB of strings pushed from Swift: over the ceiling while this frame is live
            args.state.newTable()
            for i in 1...4000 {
                args.state.push(String(repeating: "x", count: 1000) + "\(i)")
                args.state.rawSet(i, of: -2)
            }
            return 1
        }
        XCTAssertThrowsError(try lua.run("t = big()", name: "=t")) { e in
            XCTAssertTrue((e as? LuaError)?.message.contains("not enough memory") ?? false, "\(e)")
        }
        lua.collectGarbage()
        XCTAssertEqual(try lua.evaluate("1 + 1"), "2")
        // Lua code called back from a Swift function is held to the ceiling again
        lua.register(global: "call") { args in
            args.state.pushValue(at: 1)
            try args.state.pcall(nargs: 0, nresults: 0)
            return 0
        }
        XCTAssertThrowsError(try lua.run("call(function() local t = {} for i = 1, 1e7 do t[i] = i end end)", name: "=t")) { e in
            XCTAssertTrue((e as? LuaError)?.message.contains("not enough memory") ?? false, "\(e)")
        }
    }
}
