import Foundation
import XCTest
import LuaKit
import LuaShim

/// Issue 10: Lua's own string patterns ran a whole search in one C call, where neither
/// Ctrl-C nor the instruction budget could reach (`string.find(("a"):rep(3e5), ".-b")` is
/// quadratic). Every state now has luapattern.c's copy of Lua 5.4.4's matcher, which checks
/// both every few thousand steps; its results must be Lua's own.
final class LuaPatternTests: XCTestCase {
    override func tearDown() { LuaInterrupt.clear() }

    /// Runs `code` (a chunk returning a string) in a raw state and returns that string.
    private func runRaw(_ L: OpaquePointer, _ code: String) throws -> String {
        let status = code.withCString { mlshim_loadbuffer(L, $0, strlen($0), "=corpus", "t") }
        XCTAssertEqual(status, LUA_OK)
        guard mlshim_pcall(L, 0, 1, 0) == LUA_OK else {
            throw LuaError(.runtime, String(cString: mlshim_tolstring(L, -1, nil)))
        }
        var n = 0
        guard let p = mlshim_tolstring(L, -1, &n) else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: p, count: n), as: UTF8.self)
    }

    /// Every case of the corpus (captures, position captures, %b, %f, anchors, init,
    /// gmatch, gsub with string/number/table/function replacements, and the errors:
    /// malformed patterns, invalid capture indexes, bad replacements) gives what the
    /// system's Lua 5.4 gives, message for message.
    func testResultsAreLuasOwn() throws {
        guard let stock = luaL_newstate() else { return XCTFail("no Lua state") }
        defer { lua_close(stock) }
        luaL_openlibs(stock)
        let expected = try runRaw(stock, patternCorpus)
        let lua = try LuaState()
        let got = try runRaw(lua.L, patternCorpus)
        let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let g = got.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertGreaterThan(e.count, 70_000, "the corpus ran whole")
        XCTAssertEqual(e.count, g.count)
        var shown = 0
        for (a, b) in zip(e, g) where a != b && shown < 10 {
            XCTFail("stock: \(a)\nours:  \(b)")
            shown += 1
        }
        // and the functions are moonlab's, in the library and through the string metatable
        XCTAssertEqual(try lua.evaluate("debug.getinfo(string.find).func ~= nil and getmetatable('').__index == string and ('x').gsub == string.gsub"), "true")
    }

    private static let quadratic = [
        #"string.find(s, ".-b")"#, #"s:match("a*b")"#, #"(function() for _ in s:gmatch("a-b") do end end)()"#,
        #"s:gsub(".-b", "")"#, #"string.find(s, "%b()")"#, #"string.find(s, ("a"):rep(30000) .. "b", 1, true)"#,
    ]

    /// Ctrl-C lands inside the match (here raised from another thread 100 ms in), and a
    /// pcall around the call cannot swallow it. Before, each of these ran for seconds to
    /// minutes, then returned.
    func testCtrlCStopsAQuadraticPatternInEveryFunction() throws {
        let lua = try LuaState()
        for call in Self.quadratic {
            LuaInterrupt.clear()
            let subject = call.contains("%b") ? #"("("):rep(1e5)"# : #"("a"):rep(1e5)"#
            let code = """
                local s = \(subject)
                for i = 1, 10 do pcall(function() return \(call) end) end
                return "finished"
                """
            let raiser = Thread { Thread.sleep(forTimeInterval: 0.1); LuaInterrupt.raise() }
            let start = Date()
            raiser.start()
            XCTAssertThrowsError(try lua.run(code, name: "=t"), call) { e in
                XCTAssertEqual((e as? LuaError)?.kind, .interrupted, "\(call): \(e)")
            }
            XCTAssertLessThan(Date().timeIntervalSince(start), 2, call)
            Thread.sleep(forTimeInterval: 0.15)  // the raiser has run
        }
        LuaInterrupt.clear()
        XCTAssertEqual(try lua.evaluate(#"(("a"):rep(10) .. "b"):find(".-b")"#), "1", "the state works after")
    }

    /// The instruction budget counts matching steps: a quadratic pattern fails with the
    /// budget's error instead of running to its end, and stays failed under pcall.
    func testInstructionBudgetStopsAQuadraticPattern() throws {
        let lua = try LuaState(instructionBudget: 2_000_000)
        for call in Self.quadratic {
            lua.resetBudget()
            let subject = call.contains("%b") ? #"("("):rep(1e5)"# : #"("a"):rep(1e5)"#
            let start = Date()
            XCTAssertThrowsError(try lua.run("local s = \(subject) for i = 1, 10 do pcall(function() return \(call) end) end", name: "=t"), call) { e in
                XCTAssertTrue((e as? LuaError)?.message.contains("instruction budget exceeded (2000000 instructions)") ?? false, "\(call): \(e)")
            }
            XCTAssertLessThan(Date().timeIntervalSince(start), 2, call)
        }
        // a call's own limit (what a sandboxed plugin's reward runs under) stops it too
        lua.instructionBudget = nil
        XCTAssertThrowsError(try lua.withCallLimits(instructions: 1_000_000, memory: nil) {
            try lua.run(#"return string.find(("a"):rep(1e5), ".-b")"#, name: "=t")
        }) { e in
            XCTAssertTrue((e as? LuaError)?.message.contains("instruction budget exceeded (1000000 instructions)") ?? false, "\(e)")
        }
        // ordinary matching fits a small budget
        lua.instructionBudget = 100_000
        XCTAssertEqual(try lua.evaluate(#"select(2, ("word "):rep(1000):gsub("%w+", "%0"))"#), "1000")
    }
}
