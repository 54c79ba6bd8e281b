import XCTest
import LuaKit

final class LimitsTests: XCTestCase {
    func testInstructionBudgetStopsARunawayScriptEvenUnderPcall() throws {
        let lua = try LuaState(instructionBudget: 1_000_000)
        XCTAssertThrowsError(try lua.run("while true do end", name: "=t")) { e in
            XCTAssertTrue((e as? LuaError)?.message.contains("instruction budget exceeded") ?? false, "\(e)")
        }
        lua.resetBudget()
        XCTAssertThrowsError(try lua.run("pcall(function() while true do end end) while true do end", name: "=t"))
        lua.resetBudget()
        XCTAssertEqual(try lua.evaluate("1 + 1"), "2")
    }

    func testMemoryCeilingGivesALuaErrorNotACrash() throws {
        let lua = try LuaState(memoryLimit: 4 << 20)
        XCTAssertThrowsError(try lua.run("local t = {} for i = 1, 1e8 do t[i] = i end", name: "=t")) { e in
            XCTAssertEqual((e as? LuaError)?.kind, .memory)
            XCTAssertTrue((e as? LuaError)?.message.contains("not enough memory") ?? false)
        }
        lua.collectGarbage()
        XCTAssertEqual(try lua.evaluate("#string.rep('x', 1000)"), "1000")
        XCTAssertLessThanOrEqual(lua.memoryUsed, 4 << 20)
    }

    /// The allocator keeps freed blocks of up to 256 bytes for reuse (16-byte classes):
    /// tables grown and shrunk across the classes and past them, strings of every small
    /// size made and dropped, keep their contents; the bytes counted come back to what they
    /// were once the garbage is collected, and a closed state frees what it kept.
    func testSmallBlocksReusedKeepTheirContents() throws {
        for _ in 0..<3 {
            let lua = try LuaState()
            lua.collectGarbage()
            let before = lua.memoryUsed
            XCTAssertEqual(try lua.evaluate("""
                (function()
                  local keep = {}
                  for round = 1, 20 do
                    for n = 1, 600, 7 do
                      local s = string.rep(string.char(65 + n % 26), n)
                      local t = {}
                      for i = 1, n % 70 do t[i] = i * round end
                      for i = n % 70, 1, -3 do t[i] = nil end
                      t.s, t.r = s, round
                      if n % 5 == 0 then keep[#keep + 1] = t end
                      if #s ~= n or s:sub(n, n) ~= string.char(65 + n % 26) then return "string " .. n end
                    end
                    if round % 4 == 0 then collectgarbage() end
                  end
                  for _, t in ipairs(keep) do
                    local n = #t.s
                    for i = 1, n % 70 do
                      local want = (n % 70 - i) % 3 ~= 0 and i * t.r or nil
                      if t[i] ~= want then return "table " .. n .. " item " .. i end
                    end
                    if t.s ~= string.rep(string.char(65 + n % 26), n) then return "kept " .. n end
                  end
                  keep = nil
                  collectgarbage()
                  return "ok"
                end)()
                """), "ok")
            lua.collectGarbage()
            XCTAssertLessThan(abs(lua.memoryUsed - before), 4096, "\(before) -> \(lua.memoryUsed)")
        }
    }

    func testInterruptFlagStopsRunningCodeAndPcallCannotSwallowIt() throws {
        let lua = try LuaState()
        lua.register(global: "arm") { _ in LuaInterrupt.raise(); return 0 }
        XCTAssertThrowsError(try lua.run("arm() local ok = pcall(function() while true do end end) while true do end", name: "=t")) { e in
            XCTAssertTrue((e as? LuaError)?.message.hasSuffix("interrupted") ?? false, "\(e)")
        }
        LuaInterrupt.clear()
        XCTAssertEqual(try lua.evaluate("2 * 21"), "42")
    }

    func testSyntaxErrorsAreTypedAndIncompleteChunksRecognised() throws {
        let lua = try LuaState()
        XCTAssertThrowsError(try lua.load("function f()", name: "=t")) { e in
            XCTAssertEqual((e as? LuaError)?.kind, .syntax)
            XCTAssertTrue((e as? LuaError)?.isIncompleteChunk ?? false)
        }
        XCTAssertThrowsError(try lua.load("x = = 1", name: "=t")) { e in
            XCTAssertFalse((e as? LuaError)?.isIncompleteChunk ?? true)
        }
    }
}
