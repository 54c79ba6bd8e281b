import XCTest
import Foundation
import Workbench
import TestSupport

/// The evaluator's rules are lua.c 5.4's (lua/lua `lua.c`: addreturn, multiline, incomplete).
final class EvaluatorTests: XCTestCase {
    func testExpressionsPrintAndStatementsDoNot() throws {
        let h = try LuaHarness()
        XCTAssertEqual(try h.value("1 + 1"), "2")
        XCTAssertEqual(try h.value("x = 3"), "")
        XCTAssertEqual(try h.value("x * 2"), "6")
        XCTAssertEqual(try h.value("1, 'a', nil, true"), "1\ta\tnil\ttrue")
        XCTAssertEqual(try h.value("'hello'"), "hello")
        XCTAssertEqual(try h.value("1.5"), "1.5")
    }

    func testTrailingSemicolonSuppressesPrintAndUnderscoreHoldsLastResult() throws {
        let h = try LuaHarness()
        XCTAssertEqual(h.eval("40 + 2;").result, "")
        XCTAssertEqual(try h.value("_"), "42")
        XCTAssertEqual(try h.value("_ + 1"), "43")
    }

    func testIncompleteChunksAskForMoreAndMultiLineFunctionsWork() throws {
        let h = try LuaHarness()
        XCTAssertEqual(h.eval("function f(x)").status, .incomplete)
        XCTAssertEqual(h.eval("function f(x)\n  return x * 2").status, .incomplete)
        XCTAssertEqual(h.eval("function f(x)\n  return x * 2\nend").status, .ok)
        XCTAssertEqual(try h.value("f(21)"), "42")
        XCTAssertEqual(h.eval("t = {").status, .incomplete)
        XCTAssertEqual(h.eval("x = = 1").status, .error)
    }

    func testErrorsCarryTheEntryChunkNameAndStateSurvives() throws {
        let h = try LuaHarness()
        try h.run("y = 5")
        let e = h.eval("error('boom')")
        XCTAssertEqual(e.status, .error)
        XCTAssertEqual(e.error, "[2]:1: boom")
        XCTAssertNil(e.traceback, "a direct error needs no traceback")
        try h.run("function g() error('deep') end function k() g() end")
        let deep = h.eval("k()")
        XCTAssertEqual(deep.error, "[3]:1: deep", "raised inside g, defined in entry 3")
        XCTAssertTrue(deep.traceback?.contains("in function 'k'") ?? false, deep.traceback ?? "nil")
        XCTAssertFalse(deep.traceback?.contains("[C]: in ?") ?? true)
        XCTAssertEqual(try h.value("y"), "5")
    }

    func testPrintIsCapturedPerEntry() throws {
        let h = try LuaHarness()
        let e = h.eval("print('a', 1) print('b') return 7")
        XCTAssertEqual(e.printed, "a\t1\nb\n")
        XCTAssertEqual(e.output, "a\t1\nb\n7\n")
    }

    func testPrettyPrintingOfNestedAndCyclicTables() throws {
        let h = try LuaHarness()
        XCTAssertEqual(try h.value("{1, 2, 3}"), "{1, 2, 3}")
        XCTAssertEqual(try h.value("{b = 2, a = 1, [1] = 'x'}"), "{[1] = \"x\", a = 1, b = 2}")
        XCTAssertEqual(try h.value("{a = {b = {c = {d = {e = 1}}}}}"), "{a = {b = {c = {d = {...}}}}}")
        try h.run("c = {name = 'loop'} c.self = c")
        XCTAssertEqual(try h.value("c"), "{name = \"loop\", self = <cycle>}")
        try h.run("moonlab.print_items = 3")
        XCTAssertEqual(try h.value("{1, 2, 3, 4, 5}"), "{1, 2, 3, ... (2 more)}")
        try h.run("moonlab.print_items = 40")
        let wide = try h.value("{alpha = string.rep('x', 60), beta = string.rep('y', 60)}")
        XCTAssertTrue(wide.hasPrefix("{\n  alpha = \"xxx"), wide)
        XCTAssertTrue(wide.hasSuffix(",\n}"), wide)
        XCTAssertEqual(try h.value("{}"), "{}")
        XCTAssertEqual(try h.value("{['key with space'] = true}"), "{[\"key with space\"] = true}")
        XCTAssertEqual(try h.value("print"), "<function print>")
    }

    func testHelpPrintsDocstringsAndListsModules() throws {
        let h = try LuaHarness()
        try h.run("help()")
        let overview = h.takeOutput()
        XCTAssertTrue(overview.contains("tensor"), overview)
        try h.run("help(timeit)")
        XCTAssertTrue(h.takeOutput().hasPrefix("timeit(fn, {runs = 5, warmup = 1})"))
        try h.run("help('timeit')")
        XCTAssertTrue(h.takeOutput().contains("median"))
    }
}

/// Lua arrays become tensors only when rectangular (Core/TensorBridge.swift).
final class TensorBridgeTests: XCTestCase {
    func testRaggedOrMixedNestingIsAnError() throws {
        let h = try LuaHarness()
        XCTAssertEqual(try h.value("tensor{{1, 2}, {3, 4}}:shape()"), "{2, 2}")
        XCTAssertEqual(h.error("tensor{1, {2}}"),
                       "[2]:1: bad argument #1 to 'tensor' (mixed numbers and rows at depth 1; a tensor must be rectangular)")
        XCTAssertEqual(h.error("tensor{{1}, 2}"),
                       "[3]:1: bad argument #1 to 'tensor' (mixed numbers and rows at depth 1; a tensor must be rectangular)")
        XCTAssertEqual(h.error("tensor{{1, 2}, {3}}"),
                       "[4]:1: bad argument #1 to 'tensor' (rows of different lengths (2 vs 1); a tensor must be rectangular)")
    }
}

/// Modules compose as the README shows them: a dataset straight into reward.score.
final class CompositionTests: XCTestCase {
    func testRewardScoreTakesADataset() throws {
        let dir = NSTemporaryDirectory() + "moonlab-compose-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let lines = (0..<20).map { "{\"completion\": \"\(String(repeating: "x", count: $0))\"}" }
        try (lines.joined(separator: "\n") + "\n").write(toFile: dir + "/r.jsonl", atomically: true, encoding: .utf8)
        let h = try LuaHarness()
        try h.run("reward.define('len', function(s) return #s.completion end)")
        try h.run("scores, errors = reward.score('len', data.jsonl('\(dir)/r.jsonl'):take(10), {workers = 2})")
        XCTAssertEqual(try h.value("scores:numel(), #errors, scores:sum()"), "10\t0\t45.0")
    }
}

/// A size a user chose that memory cannot hold is a Lua error, not a crash of the host.
final class HugeAllocationTests: XCTestCase {
    func testAnImpossibleTensorIsAnErrorAndTheStateSurvives() throws {
        let h = try LuaHarness()
        try h.run("x = 7")
        XCTAssertEqual(h.error("tensor.zeros{1e6, 1e6}"),
                       "[2]:1: tensor.zeros: not enough memory for 8000000000000 bytes (8000 GB)")
        XCTAssertEqual(h.error("tensor.full({1e6, 1e6}, 1)"),
                       "[3]:1: tensor.full: not enough memory for 8000000000000 bytes (8000 GB)")
        XCTAssertEqual(try h.value("x"), "7")
    }
}
