import XCTest
import LuaKit

private struct Boom: Error, CustomStringConvertible { var description: String { "went wrong" } }

final class SwiftFunctionTests: XCTestCase {
    func testSwiftErrorBecomesLuaErrorAndStateStaysUsable() throws {
        let lua = try LuaState()
        lua.register(global: "fail") { _ in throw Boom() }
        lua.register(global: "add") { args in
            args.state.push(try args.number(1) + args.number(2))
            return 1
        }
        XCTAssertThrowsError(try lua.run("fail()", name: "=t")) { e in
            let err = e as? LuaError
            XCTAssertEqual(err?.message, "t:1: fail: went wrong")
            XCTAssertTrue(err?.traceback?.contains("stack traceback") ?? false)
        }
        // caught inside Lua with pcall, many times over: no leak of Swift frames
        XCTAssertEqual(try lua.evaluate("select(2, pcall(fail))"), "fail: went wrong")
        for _ in 0..<1000 { _ = try lua.evaluate("pcall(fail)") }
        XCTAssertEqual(try lua.evaluate("add(1, 2)"), "3.0")
        XCTAssertEqual(lua.top, 0)
    }

    func testArgumentErrorsNameFunctionArgumentAndExpectation() throws {
        let lua = try LuaState()
        lua.newTable()
        lua.setFunction("gae", qualifiedName: "rl.gae") { args in
            _ = try args.number(2)
            return 0
        }
        lua.setGlobal("rl")
        XCTAssertThrowsError(try lua.run("rl.gae(1, 'x')", name: "=t")) { e in
            XCTAssertEqual((e as? LuaError)?.message, "t:1: bad argument #2 to 'rl.gae' (number expected, got string)")
        }
        XCTAssertThrowsError(try lua.run("rl.gae(1)", name: "=t")) { e in
            XCTAssertEqual((e as? LuaError)?.message, "t:1: bad argument #2 to 'rl.gae' (number expected, got no value)")
        }
    }

    func testOptionsRejectUnknownKeysAndWrongTypes() throws {
        let lua = try LuaState()
        lua.register(global: "f") { args in
            let o = try args.options(1, allowed: ["gamma", "lambda"])
            args.state.push(try o.number("gamma", default: 1))
            return 1
        }
        XCTAssertEqual(try lua.evaluate("f{gamma = 0.5}"), "0.5")
        XCTAssertEqual(try lua.evaluate("f()"), "1.0")
        XCTAssertThrowsError(try lua.run("f{gama = 1}", name: "=t")) { e in
            XCTAssertEqual((e as? LuaError)?.message,
                           "t:1: bad argument #1 to 'f' (unknown option 'gama'; valid options: gamma, lambda)")
        }
        XCTAssertThrowsError(try lua.run("f{gamma = 'x'}", name: "=t")) { e in
            XCTAssertEqual((e as? LuaError)?.message,
                           "t:1: bad argument #1 to 'f' (option 'gamma' must be a number, got string)")
        }
    }

    func testSwiftFunctionInsideCoroutineUsesTheCoroutineStack() throws {
        let lua = try LuaState()
        lua.register(global: "twice") { args in
            args.state.push(try args.number(1) * 2)
            return 1
        }
        let out = try lua.evaluate("""
            (function() local co = coroutine.wrap(function(x) local y = twice(x); coroutine.yield(y); return twice(y) end)
              return co(3) + co() end)()
            """)
        XCTAssertEqual(out, "18.0")
    }
}
