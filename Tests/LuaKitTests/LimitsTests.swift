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
