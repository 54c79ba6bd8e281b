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

    /// A plain find (SSE2 on x86-64: 16 starts at a time, then the tail) gives the first
    /// match that a byte-by-byte search gives, at every length around the 16-byte blocks,
    /// with NULs and repeats, any start (negative, past the end) and empty needles.
    func testPlainFindIsAByteByByteSearch() throws {
        let lua = try LuaState()
        XCTAssertEqual(try lua.evaluate(#"""
            (function()
              local function ref(s, p, init)
                if init < 0 then init = math.max(#s + init + 1, 1) elseif init == 0 then init = 1 end
                if init > #s + 1 then return nil end
                for i = init, #s - #p + 1 do
                  if s:sub(i, i + #p - 1) == p then return i, i + #p - 1 end
                end
                return nil
              end
              local letters, n = { "a", "b", "\0" }, 0
              math.randomseed(7)
              for trial = 1, 6000 do
                local t, u = {}, {}
                for i = 1, math.random(0, trial % 3 == 0 and 300 or 60) do t[i] = letters[math.random(1, 3)] end
                for i = 1, math.random(0, trial % 5 == 0 and 20 or 5) do u[i] = letters[math.random(1, 3)] end
                local s, p = table.concat(t), table.concat(u)
                local init = math.random(-5, #s + 2)
                local a, b = string.find(s, p, init, true)
                local c, d = ref(s, p, init)
                if a ~= c or b ~= d then return ("%q %q %d: %s %s, expected %s %s"):format(s, p, init, a, b, c, d) end
                n = n + 1
              end
              return n
            end)()
            """#), "6000")
    }

    /// (The plain find's needle has the subject's byte at both ends: a finder that tries only
    /// positions whose first and last bytes match, as the SSE2 one does, still compares
    /// ~15,000 bytes at each of them.)
    private static let quadratic = [
        #"string.find(s, ".-b")"#, #"s:match("a*b")"#, #"(function() for _ in s:gmatch("a-b") do end end)()"#,
        #"s:gsub(".-b", "")"#, #"string.find(s, "%b()")"#, #"string.find(s, ("a"):rep(15000) .. "b" .. ("a"):rep(15000), 1, true)"#,
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
