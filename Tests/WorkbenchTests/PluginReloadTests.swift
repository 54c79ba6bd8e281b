import XCTest
import Workbench
import TestSupport

/// `plugin.reload`: new behaviour after an edit, names no longer provided are removed,
/// unload() runs first, a reload that fails leaves nothing behind and can be retried.
final class PluginReloadTests: XCTestCase {
    override func tearDown() { PluginSearch.searchDefaultFolders = true }

    func testReloadReplacesAndRemoves() throws {
        let f = try PluginFolder()
        try f.plugin("editable", rewards: ["r1", "r2"], detectors: ["d1"], code: """
            reward.define("r1", function() return 1 end)
            reward.define("r2", function() return 2 end)
            detect.define("d1", function() return true end)
            unloaded = 0
            return { unload = function() unloaded = unloaded + 1 end }
            """)
        let h = try f.harness()
        XCTAssertEqual(try h.value("reward.get('r1')({})"), "1")
        try f.plugin("editable", rewards: ["r1"], version: "1.1.0", code: """
            reward.define("r1", function() return 10 end)
            return { unload = function() unloaded = (unloaded or 0) + 100 end }
            """)
        XCTAssertEqual(try h.value("plugin.reload('editable').version"), "1.1.0")
        XCTAssertEqual(try h.value("unloaded"), "1", "the old unload() ran once")
        XCTAssertEqual(try h.value("reward.get('r1')({})"), "10")
        XCTAssertNotNil(h.error("reward.get('r2')"), "r2 is no longer provided")
        XCTAssertNotNil(h.error("detect.run({'d1'}, {{}})"), "d1 is gone too")
        XCTAssertEqual(try h.value("#plugin.info('editable').registered.detectors"), "0")
    }

    func testReloadFailureThenFix() throws {
        let f = try PluginFolder()
        try f.plugin("flaky", rewards: ["fl"], code: "reward.define('fl', function() return 1 end)")
        let h = try f.harness()
        try f.write("flaky/init.lua", "reward.define('fl', function() return 2 end) error('half way')")
        let err = h.error("plugin.reload('flaky')") ?? ""
        XCTAssertTrue(err.contains("plugin.reload") && err.contains("flaky/init.lua") && err.contains("half way"), err)
        XCTAssertEqual(try h.pluginField("flaky", "status"), "failed")
        XCTAssertNotNil(h.error("reward.get('fl')"))
        try f.write("flaky/init.lua", "reward.define('fl', function() return 3 end)")
        try h.run("plugin.reload('flaky')")
        XCTAssertEqual(try h.value("reward.get('fl')({})"), "3")
        XCTAssertEqual(try h.pluginField("flaky", "status"), "loaded")
    }

    func testLoadFindsAFolderMadeAfterStart() throws {
        let f = try PluginFolder()
        let h = try f.harness()
        XCTAssertEqual(try h.value("#plugin.list()"), "0")
        try f.plugin("late", rewards: ["late"], code: "reward.define('late', function() return 7 end)")
        try h.run("plugin.load('late')")
        XCTAssertEqual(try h.value("reward.get('late')({})"), "7")
    }
}
