import XCTest
import Workbench
import TestSupport

/// What the prompt adds to lua.c's rules for a user: a last expression after statements
/// prints, replacing a built-in module warns once and can be undone, a function's source
/// can be shown, a value shows as the prompt shows it.
final class PromptSafetyTests: XCTestCase {
    func testLastExpressionAfterStatementsPrints() throws {
        let h = try LuaHarness()
        XCTAssertEqual(try h.value("x = 1; x + 1"), "2")
        XCTAssertEqual(try h.value("x"), "1", "the statements ran once")
        XCTAssertEqual(try h.value("y = 2; z = 3"), "")
        XCTAssertEqual(try h.value("z"), "3")
        XCTAssertEqual(try h.value("n = 0; n = n + 1; n"), "1")
        XCTAssertEqual(h.eval("a = 1; a + 1;").result, "", "a trailing ; keeps it quiet")
        XCTAssertEqual(try h.value("_"), "2")
        // separators inside blocks, strings, brackets and comments are not the chunk's own
        XCTAssertEqual(try h.value("for i = 1, 3 do k = i; f = i end"), "")
        XCTAssertEqual(try h.value("k"), "3", "a ; inside a loop does not return from it")
        XCTAssertEqual(try h.value("s = 'a;b'; #s"), "3")
        XCTAssertEqual(try h.value("l = [[x;y]] --[==[ ; ]==] ; #l"), "3")
        XCTAssertEqual(try h.value("t = {1; 2}; #t"), "2")
        XCTAssertEqual(try h.value("function g() local q = 1; return q end; g()"), "1")
        XCTAssertEqual(try h.value("e = 1e-3; e * 1000"), "1.0")
        XCTAssertEqual(h.eval("x = 1; x +").status, .error)
        XCTAssertEqual(h.eval("x = 1; function h()").status, .incomplete)
    }

    func testReplacingABuiltinWarnsOnceAndRestoreBringsItBack() throws {
        let h = try LuaHarness()
        XCTAssertEqual(h.workbench.builtinWarnings(), [])
        try h.run("function reward(s) return #s.completion end")
        let w = h.workbench.builtinWarnings()
        XCTAssertEqual(w.count, 1)
        XCTAssertTrue(w[0].contains("'reward' was moonlab's reward module"), w[0])
        XCTAssertTrue(w[0].contains("moonlab.restore(\"reward\")") && w[0].contains(":reset"), w[0])
        try h.run("reward = 5")
        XCTAssertEqual(h.workbench.builtinWarnings(), [], "once per name")
        XCTAssertEqual(try h.value("moonlab.restore('reward')"), "<module reward>")
        XCTAssertEqual(try h.value("type(reward.define)"), "function")
        try h.run("reward = nil; string = 1")
        let again = h.workbench.builtinWarnings()
        XCTAssertEqual(again.count, 2, "warns again after a restore: \(again)")
        XCTAssertTrue(again[1].contains("'string' was Lua's string library and now holds a number"), again[1])
        XCTAssertEqual(try h.value("moonlab.restore()"), #"{"reward", "string"}"#)
        XCTAssertEqual(try h.value("string.rep('a', 2)"), "aa")
        let unknown = h.error("moonlab.restore('x')") ?? ""
        XCTAssertTrue(unknown.hasPrefix("[8]:1: bad argument #1 to 'moonlab.restore' ('x' is not a built-in module; built-ins are: coroutine, data, debug, detect, dist, help, io, math, metrics, "), unknown)
        XCTAssertTrue(unknown.hasSuffix(", tensor, utf8)") && unknown.contains(", reward, rl, sample, session, spec, string, synth, table,"), unknown)
        try h.run("local reward = 1")  // a local hides nothing global
        XCTAssertEqual(h.workbench.builtinWarnings(), [])
    }

    func testSourceOfFunctionsDefinedAtThePromptInChunksAndFiles() throws {
        let h = try LuaHarness()
        try h.run("function double(x)\n  return 2 * x\nend")
        XCTAssertEqual(try h.value("moonlab.source(double)"), "function double(x)\n  return 2 * x\nend")
        try h.run("x = 1; function inc(v) return v + 1 end")
        XCTAssertEqual(try h.value("moonlab.source('inc')"), "x = 1; function inc(v) return v + 1 end")
        try h.run("loaded = load('return function(a) return a end')()")
        XCTAssertEqual(try h.value("moonlab.source(loaded)"), "return function(a) return a end")
        let path = NSTemporaryDirectory() + "moonlab-source-\(getpid()).lua"
        try "local M = {}\n\nfunction M.sq(v)\n  return v * v\nend\n\nreturn M\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try h.run("M = dofile('\(path)')")
        XCTAssertEqual(try h.value("moonlab.source(M.sq)"), "function M.sq(v)\n  return v * v\nend")
        XCTAssertEqual(h.error("moonlab.source(rl.gae)"),
                       "[9]:1: moonlab.source: 'rl.gae' is native (Swift or C), it has no Lua source; help(rl.gae) shows its doc")
        XCTAssertEqual(h.error("moonlab.source(5)"), "[10]:1: bad argument #1 to 'moonlab.source' (function expected, got number)")
    }

    func testShowPrintsAsThePromptDoes() throws {
        let h = try LuaHarness()
        _ = h.takeOutput()
        XCTAssertEqual(try h.value("moonlab.show({b = 1, a = {2, 3}}, 'x')"), "{a = {2, 3}, b = 1}\tx", "returns its arguments")
        XCTAssertEqual(h.takeOutput(), "{a = {2, 3}, b = 1}\tx\n", "and printed them")
        XCTAssertEqual(try h.value("select('#', moonlab.show())"), "0")
    }
}
