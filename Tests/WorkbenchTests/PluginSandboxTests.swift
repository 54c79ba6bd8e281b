import XCTest
import Workbench
import LuaKit
import TestSupport

/// The sandbox: `--sandbox` for the whole state and `sandbox = true` for one plugin.
final class PluginSandboxTests: XCTestCase {
    override func tearDown() { PluginSearch.searchDefaultFolders = true }

    func testSandboxedStateCannotReadFilesOrRunCommands() throws {
        let f = try PluginFolder()
        try f.write("secret.txt", "hidden")
        let h = try f.harness(sandbox: true, budget: 2_000_000)
        let path = quoted(f.root + "/secret.txt")
        XCTAssertEqual(try h.value("tostring(io)"), "nil")
        XCTAssertEqual(try h.value("tostring(os.execute)"), "nil")
        XCTAssertEqual(try h.value("tostring(os.getenv)"), "nil")
        XCTAssertEqual(try h.value("tostring(debug)"), "nil")
        XCTAssertEqual(try h.value("tostring(package)"), "nil")
        XCTAssertEqual(try h.value("tostring(dofile)"), "nil")
        XCTAssertTrue(try h.value("type(os.clock())") == "number")
        XCTAssertTrue(h.error("data.json(\(path))")?.contains("sandbox: data.json (file access)") ?? false)
        XCTAssertTrue(h.error("tensor.load(\(path))")?.contains("not available in the sandbox") ?? false)
        XCTAssertTrue(h.error("require('cjson')")?.contains("not available in the sandbox") ?? false)
        XCTAssertTrue(h.error("plot.line({1, 2, 3}, {svg = '/tmp/x.svg'})")?.contains("svg") ?? false)
        XCTAssertEqual(try h.value("select(2, load(string.dump(function() end), 'b', 'b'))"),
                       "sandbox: binary chunks are not loaded in the sandbox")
        XCTAssertEqual(try h.value("load('return 1 + 1')()"), "2")
        let loop = h.error("while true do end") ?? ""
        XCTAssertTrue(loop.contains("instruction budget exceeded"), loop)
    }

    func testSandboxedStateHasAMemoryCeiling() throws {
        let f = try PluginFolder()
        let h = try f.harness(sandbox: true, memory: 32 << 20)
        let err = h.error("local t = {} for i = 1, 1e8 do t[i] = ('x'):rep(64) .. i end") ?? ""
        XCTAssertTrue(err.contains("not enough memory"), err)
        XCTAssertEqual(try h.value("1 + 1"), "2", "the state still works")
    }

    func testSandboxedPluginRunsInItsOwnEnvironment() throws {
        let f = try PluginFolder()
        try f.write("secret.txt", "hidden")
        try f.plugin("untrusted", rewards: ["peek", "spin", "hog"], extra: "sandbox = true,", code: """
            assert(io == nil and debug == nil and os.execute == nil and package == nil, "sandbox leaks")
            leaked = true
            reward.define("peek", function(s) return io.open(s.path):read("a") end)
            reward.define("spin", function() while true do end end)
            reward.define("hog", function() local t = {} for i = 1, 1e8 do t[i] = ('x'):rep(64) .. i end end)
            """)
        let h = try f.harness(budget: 3_000_000, memory: 32 << 20)
        XCTAssertEqual(try h.pluginField("untrusted", "status"), "loaded")
        XCTAssertEqual(try h.value("plugin.info('untrusted').sandbox"), "true")
        XCTAssertEqual(try h.value("tostring(leaked)"), "nil", "its globals stay in its environment")
        XCTAssertEqual(try h.value("type(io)"), "table", "the user's state keeps io")
        let peek = h.error("reward.get('peek'){path = \(quoted(f.root + "/secret.txt"))}") ?? ""
        XCTAssertTrue(peek.contains("io"), peek)
        let spin = h.error("reward.get('spin')({})") ?? ""
        XCTAssertTrue(spin.contains("instruction budget exceeded (3000000 instructions)"), spin)
        let hog = h.error("reward.get('hog')({})") ?? ""
        XCTAssertTrue(hog.contains("not enough memory"), hog)
        XCTAssertEqual(try h.value("1 + 1"), "2")
    }

    func testSandboxedPluginInitThatLoopsFails() throws {
        let f = try PluginFolder()
        try f.plugin("looper", rewards: ["x"], extra: "sandbox = true,", code: "while true do end")
        try f.plugin("fine", rewards: ["y"], code: "reward.define('y', function() return 1 end)")
        let h = try f.harness(budget: 1_000_000)
        let err = try h.pluginField("looper", "error")
        XCTAssertTrue(err.contains("looper/init.lua") && err.contains("instruction budget"), err)
        XCTAssertEqual(try h.pluginField("fine", "status"), "loaded")
    }

    func testCallLimitsChargeTheOuterBudget() throws {
        let lua = try LuaState(instructionBudget: 10_000_000)
        try lua.withCallLimits(instructions: 1_000_000, memory: nil) {
            XCTAssertThrowsError(try lua.run("while true do end"))
        }
        XCTAssertNoThrow(try lua.run("for i = 1, 1000 do end"), "the outer budget is not exhausted")
        XCTAssertLessThan(lua.instructionsLeft ?? 0, 10_000_000 - 900_000)
    }
}
