import XCTest
import Workbench
import TestSupport

/// Discovery, manifests and every way a plugin can fail to load (issue 6, point 1).
final class PluginLoadingTests: XCTestCase {
    override func tearDown() { PluginSearch.searchDefaultFolders = true }

    func testGoodPluginLoadsAndItsRewardWorks() throws {
        let f = try PluginFolder()
        try f.plugin("shout", rewards: ["shout"], code: """
            reward.define("shout", function(s) return s.completion:upper() == s.completion and 1 or 0 end, {doc = "all caps"})
            """)
        let h = try f.harness()
        XCTAssertEqual(try h.pluginField("shout", "status"), "loaded")
        XCTAssertEqual(try h.value("reward.get('shout'){completion = 'HEY'}"), "1")
        XCTAssertEqual(try h.value("plugin.info('shout').registered.rewards[1]"), "shout")
        XCTAssertEqual(try h.value("plugin.info('shout').version"), "1.0.0")
        XCTAssertEqual(h.workbench.loadedPlugins().map(\.name), ["shout"])
        XCTAssertEqual(h.workbench.sessionHeader().plugins.first?.version, "1.0.0")
    }

    func testNoPluginsLoadsNothingButLoadOnDemandWorks() throws {
        let f = try PluginFolder()
        try f.plugin("lazy", rewards: ["lazy"], code: "reward.define('lazy', function() return 2 end)")
        let h = try f.harness(load: false)
        XCTAssertNotNil(h.error("reward.get('lazy')"))
        XCTAssertEqual(try h.pluginField("lazy", "status"), "available")
        try h.run("plugin.load('lazy')")
        XCTAssertEqual(try h.value("reward.get('lazy')({})"), "2")
        XCTAssertTrue(h.error("plugin.load('nope')")?.contains("no plugin named 'nope'") ?? false)
    }

    func testSyntaxErrorIsReportedWithPathAndOthersLoad() throws {
        let f = try PluginFolder()
        try f.plugin("broken", rewards: ["b"], code: "reward.define('b', function( return 1 end)")
        try f.plugin("good", rewards: ["g"], code: "reward.define('g', function() return 1 end)")
        let h = try f.harness()
        XCTAssertEqual(try h.pluginField("broken", "status"), "failed")
        let err = try h.pluginField("broken", "error")
        XCTAssertTrue(err.contains("broken/init.lua"), err)
        XCTAssertTrue(err.contains("expected") || err.contains("near"), err)
        XCTAssertEqual(try h.pluginField("good", "status"), "loaded")
        XCTAssertNotNil(h.error("reward.get('b')"))
    }

    func testRuntimeErrorTakesBackWhatItRegistered() throws {
        let f = try PluginFolder()
        try f.plugin("half", rewards: ["h1", "h2"], code: """
            reward.define("h1", function() return 1 end)
            error("boom in init")
            """)
        let h = try f.harness()
        let err = try h.pluginField("half", "error")
        XCTAssertTrue(err.contains("half/init.lua") && err.contains("boom in init"), err)
        XCTAssertNotNil(h.error("reward.get('h1')"), "a failed plugin leaves nothing registered")
    }

    func testBadManifestFieldsAreNamed() throws {
        let cases: [(String, String, String)] = [
            ("return { version = '1.0.0', description = 'x' }", "name", "required"),
            ("return { name = 'v', version = '1.0', description = 'x' }", "version", "semantic version"),
            ("return { name = 'd', version = '1.0.0' }", "description", "required"),
            ("return { name = 'r', version = '1.0.0', description = 'x', requires = { moonlab = 'soon' } }", "requires.moonlab", "version range"),
            ("return { name = 'p', version = '1.0.0', description = 'x', provides = { rewards = 'one' } }", "provides.rewards", "array"),
            ("return { name = 'k', version = '1.0.0', description = 'x', provides = { metrics = {} } }", "provides", "unknown kind"),
            ("return { name = 'u', version = '1.0.0', description = 'x', colour = 'red' }", "colour", "unknown field"),
            ("return 42", "(file)", "must return a table"),
        ]
        for (i, (manifest, field, problem)) in cases.enumerated() {
            let f = try PluginFolder()
            try f.write("p\(i)/plugin.lua", manifest)
            try f.write("p\(i)/init.lua", "")
            let h = try f.harness()
            let status = try h.value("plugin.list()[1].status")
            let err = try h.value("plugin.list()[1].error")
            XCTAssertEqual(status, "failed", manifest)
            XCTAssertTrue(err.contains("p\(i)/plugin.lua") && err.contains("field '\(field)'") && err.contains(problem),
                          "\(manifest): \(err)")
        }
    }

    func testManifestSyntaxErrorAndEndlessManifest() throws {
        let f = try PluginFolder()
        try f.write("a/plugin.lua", "return { name = ")
        try f.write("b/plugin.lua", "while true do end")
        let h = try f.harness()
        let a = try h.value("plugin.list()[1].error")
        XCTAssertTrue(a.contains("a/plugin.lua"), a)
        let b = try h.value("plugin.list()[2].error")
        XCTAssertTrue(b.contains("b/plugin.lua") && b.contains("instruction budget"), b)
    }

    func testUnmetRequires() throws {
        let f = try PluginFolder()
        try f.plugin("future", rewards: ["f"], requires: ">=2.0, <3.0", code: "reward.define('f', function() return 1 end)")
        let h = try f.harness()
        let err = try h.pluginField("future", "error")
        XCTAssertTrue(err.contains("requires.moonlab") && err.contains(">=2.0, <3.0") && err.contains(Workbench.version), err)
        XCTAssertNotNil(h.error("reward.get('f')"))
    }

    func testProvidesEntryNeverRegistered() throws {
        let f = try PluginFolder()
        try f.plugin("liar", rewards: ["said", "never"], detectors: ["ghost"], code: "reward.define('said', function() return 1 end)")
        let h = try f.harness()
        let err = try h.pluginField("liar", "error")
        XCTAssertTrue(err.contains("liar") && err.contains("reward 'never'") && err.contains("did not register"), err)
        XCTAssertNotNil(h.error("reward.get('said')"), "what it did register is taken back")
    }

    func testDuplicateProviderNamesBoth() throws {
        let f = try PluginFolder()
        try f.plugin("first", rewards: ["same"], code: "reward.define('same', function() return 1 end)")
        try f.plugin("second", rewards: ["same"], code: "reward.define('same', function() return 2 end)")
        let h = try f.harness()
        XCTAssertEqual(try h.pluginField("first", "status"), "loaded")
        let err = try h.pluginField("second", "error")
        XCTAssertTrue(err.contains("reward 'same'") && err.contains("'first'") && err.contains("'second'")
                      && err.contains("/first") && err.contains("/second"), err)
        XCTAssertEqual(try h.value("reward.get('same')({})"), "1")
    }

    func testFirstOfTwoSameNamedPluginsWins() throws {
        let a = try PluginFolder(), b = try PluginFolder()
        try a.plugin("twin", rewards: ["t"], code: "reward.define('t', function() return 'a' end)")
        try b.plugin("twin", rewards: ["t"], code: "reward.define('t', function() return 'b' end)")
        let h = try a.harness(more: [b.root])
        XCTAssertEqual(try h.value("reward.get('t')({})"), "a")
        XCTAssertEqual(try h.value("plugin.list()[2].status"), "shadowed")
        XCTAssertTrue(try h.value("plugin.list()[2].error").contains(a.root.split(separator: "/").last.map(String.init) ?? "?"))
    }

    func testDetectorsAndSamplers() throws {
        let f = try PluginFolder()
        try f.plugin("kit", detectors: ["shouting"], samplers: ["no_first"], code: """
            detect.define("shouting", function(s) return s.completion:upper() == s.completion, 1, "caps" end)
            return { samplers = { no_first = sample.stage("no_first", function(l) l[1] = -math.huge return l end) } }
            """)
        let h = try f.harness()
        XCTAssertEqual(try h.value("detect.run({'shouting'}, {{completion = 'A'}, {completion = 'b'}}).rules.shouting.flag_rate"), "0.5")
        XCTAssertEqual(try h.value("sample.chain{plugin.sampler('no_first'), sample.greedy()}:sample({5, 1, 2})"), "2")
        XCTAssertEqual(try h.value("plugin.info('kit').registered.samplers[1]"), "no_first")
    }

    func testSemVerAndRanges() throws {
        XCTAssertNil(SemVer(strict: "1.0"))
        XCTAssertNil(SemVer(strict: "01.0.0"))
        XCTAssertEqual(SemVer(strict: "1.2.3-beta.1")?.description, "1.2.3-beta.1")
        XCTAssertTrue(SemVer(strict: "1.0.0-alpha").map { $0 < SemVer(1, 0, 0) } ?? false)
        let v = SemVer(0, 1, 0)
        XCTAssertTrue(VersionRange(">=0.1")?.contains(v) ?? false)
        XCTAssertTrue(VersionRange(">=0.1, <1.0")?.contains(v) ?? false)
        XCTAssertFalse(VersionRange(">0.1.0")?.contains(v) ?? true)
        XCTAssertTrue(VersionRange("^0.1")?.contains(SemVer(0, 1, 9)) ?? false)
        XCTAssertFalse(VersionRange("^0.1")?.contains(SemVer(0, 2, 0)) ?? true)
        XCTAssertTrue(VersionRange("~1.2")?.contains(SemVer(1, 2, 7)) ?? false)
        XCTAssertTrue(VersionRange("*")?.contains(v) ?? false)
        XCTAssertNil(VersionRange("soon"))
    }
}
