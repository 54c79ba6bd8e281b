import XCTest
import Foundation

/// The plugin system through the built binary: `moonlab plugins list/info/test`, a broken
/// plugin beside good ones, native modules, `--sandbox`, and a new user's first plugin.
final class PluginCommandTests: XCTestCase {
    private var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "moonlab-plugin-cmd-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    private func write(_ relative: String, _ text: String) throws {
        let path = dir + "/" + relative
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// Runs moonlab in the temp folder (so ./Plugins is not the repository's).
    private func moonlab(_ args: [String], stdin: String = "") throws -> CommandResult {
        try runMoonlab(args, stdin: stdin, environment: ["HOME": dir, "MOONLAB_PATH": ""], directory: dir)
    }

    func testBundledPluginsAreListedAndTheirSpecsPass() throws {
        let list = try moonlab(["plugins", "list"])
        XCTAssertEqual(list.status, 0, list.stderr)
        for p in ["math-answer", "pope", "selfcheck", "ngram-diversity"] {
            XCTAssertTrue(list.stdout.contains("\(p) 1.0.0  loaded"), list.stdout)
            let t = try moonlab(["plugins", "test", p])
            XCTAssertEqual(t.status, 0, "\(p): \(t.stdout)\(t.stderr)")
            XCTAssertTrue(t.stdout.contains("passed, 0 failed"), t.stdout)
        }
        let info = try moonlab(["plugins", "info", "math-answer"])
        XCTAssertTrue(info.stdout.contains("rewards   math_answer") && info.stdout.contains("bundled"), info.stdout)
        let noPlugins = try moonlab(["--no-plugins", "-e", "#plugin.list() > 0 and plugin.list()[1].status"])
        XCTAssertEqual(noPlugins.stdout, "available\n")
    }

    func testBrokenPluginBesideGoodOnes() throws {
        try write("mine/bad/plugin.lua", "return { name = 'bad', version = 'one', description = 'x' }")
        try write("mine/bad/init.lua", "")
        try write("mine/good/plugin.lua", "return { name = 'good', version = '0.1.0', description = 'x', provides = { rewards = {'g'} } }")
        try write("mine/good/init.lua", "reward.define('g', function(s) return #s.completion end)")
        let r = try moonlab(["--plugin-path", dir + "/mine", "-e", "reward.get('g'){completion = 'abc'}"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "3\n")
        XCTAssertTrue(r.stderr.contains("plugin 'bad'") && r.stderr.contains("bad/plugin.lua: field 'version'"), r.stderr)
        XCTAssertEqual(r.stderr.components(separatedBy: "plugin 'bad'").count, 2, "reported once: \(r.stderr)")
        let info = try moonlab(["--plugin-path", dir + "/mine", "plugins", "info", "bad"])
        XCTAssertTrue(info.stdout.contains("status    failed") && info.stdout.contains("semantic version"), info.stdout)
        let missing = try moonlab(["plugins", "info", "nope"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("no plugin named 'nope'"), missing.stderr)
    }

    func testFailingSpecExitsOne() throws {
        try write("p/wrong/plugin.lua", "return { name = 'wrong', version = '1.0.0', description = 'x' }")
        try write("p/wrong/init.lua", "")
        try write("p/wrong/spec.lua", "it('holds', function() expect(1):to_be(1) end) it('breaks', function() expect(1):to_be(2) end)")
        let r = try moonlab(["--plugin-path", dir + "/p", "plugins", "test", "wrong"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stdout.contains("FAIL  breaks") && r.stdout.contains("1 passed, 1 failed"), r.stdout)
    }

    func testNativeModulesLoadAsInLua54() throws {
        try write("native/hello.c", """
            #include <lua.h>
            #include <lauxlib.h>
            static int twice(lua_State *L) { lua_pushinteger(L, 2 * luaL_checkinteger(L, 1)); return 1; }
            int luaopen_hello(lua_State *L) {
              luaL_Reg fns[] = {{"twice", twice}, {NULL, NULL}};
              luaL_newlib(L, fns);
              return 1;
            }
            """)
        let cc = Process()
        cc.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        cc.arguments = ["cc", "-shared", "-fPIC", "-I/usr/include/lua5.4", "-o", dir + "/native/hello.so", dir + "/native/hello.c"]
        try cc.run()
        cc.waitUntilExit()
        XCTAssertEqual(cc.terminationStatus, 0, "cc failed")
        let script = "package.cpath = \(luaQuoted(dir + "/native/?.so")) .. ';' .. package.cpath\nprint(require('hello').twice(21))"
        let r = try moonlab([], stdin: script)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "42\n")
        if FileManager.default.fileExists(atPath: "/usr/lib/x86_64-linux-gnu/lua/5.4/cjson.so")
            || FileManager.default.fileExists(atPath: "/usr/lib/aarch64-linux-gnu/lua/5.4/cjson.so") {
            let j = try moonlab(["-e", "require('cjson').encode({a = {1, 2}})"])
            XCTAssertEqual(j.stdout, "{\"a\":[1,2]}\n", j.stderr)
        }
        let sandboxed = try moonlab(["--sandbox"], stdin: "require('hello')")
        XCTAssertEqual(sandboxed.status, 1)
        XCTAssertTrue(sandboxed.stderr.contains("not available in the sandbox"), sandboxed.stderr)
    }

    func testSandboxFlag() throws {
        try write("secret.txt", "hidden")
        let read = try moonlab(["--sandbox"], stdin: "print(io.open('secret.txt'):read('a'))")
        XCTAssertEqual(read.status, 1)
        XCTAssertTrue(read.stderr.contains("attempt to index a nil value (global 'io')"), read.stderr)
        let run = try moonlab(["--sandbox"], stdin: "os.execute('touch pwned')")
        XCTAssertEqual(run.status, 1)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/pwned"))
        let spin = try moonlab(["--sandbox"], stdin: "while true do end")
        XCTAssertEqual(spin.status, 1)
        XCTAssertTrue(spin.stderr.contains("instruction budget exceeded (100000000 instructions)"), spin.stderr)
    }

    /// README's plugin section, as a new user follows it: a folder, --plugin-path, listed,
    /// its reward used, the file edited and reloaded in the same session, its spec run.
    func testNewUserFlow() throws {
        try write("my-plugins/brevity/plugin.lua", """
            return {
              name = "brevity", version = "0.1.0",
              description = "Rewards short answers",
              requires = { moonlab = ">=0.1" },
              provides = { rewards = { "brevity" } },
            }
            """)
        try write("my-plugins/brevity/init.lua", """
            reward.define("brevity", function(s)
              return math.max(0, 1 - #s.completion / 100)
            end, { doc = "1 for an empty answer, 0 from 100 bytes on" })
            """)
        try write("my-plugins/brevity/spec.lua", """
            describe("brevity", function()
              it("prefers short answers", function()
                local r = reward.get("brevity")
                expect(r{ completion = "" }):to_be(1)
                expect(r{ completion = ("x"):rep(50) }):to_be_close(0.5)
              end)
            end)
            """)
        let path = dir + "/my-plugins"
        let list = try moonlab(["--plugin-path", path, "plugins", "list"])
        XCTAssertTrue(list.stdout.contains("brevity 0.1.0  loaded  ") && list.stdout.contains("(--plugin-path)"), list.stdout)
        let session = """
            print(reward.get("brevity"){completion = ("x"):rep(50)})
            local f = io.open(\(luaQuoted(path + "/brevity/init.lua")), "w")
            f:write('reward.define("brevity", function(s) return math.max(0, 1 - #s.completion / 200) end)')
            f:close()
            print(plugin.reload("brevity").status)
            print(reward.get("brevity"){completion = ("x"):rep(50)})
            """
        let r = try moonlab(["--plugin-path", path], stdin: session)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "0.5\nloaded\n0.75\n")
        let t = try moonlab(["--plugin-path", path, "plugins", "test", "brevity"])
        XCTAssertEqual(t.status, 1, "the spec still expects the old behaviour")
        XCTAssertTrue(t.stdout.contains("expected 0.5"), t.stdout)
    }
}

private func luaQuoted(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
