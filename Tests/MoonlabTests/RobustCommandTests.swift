import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Issue 10 through the binary: probes that must end without a signal, a script stopped by
/// Ctrl-C, and `moonlab --sandbox score`.
final class RobustCommandTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "moonlab-robust-cmd-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    /// The issue's examples, run as a user would: a Lua error (exit 1), never a signal.
    func testIssueExamplesEndWithALuaError() throws {
        let probes = [
            "return sample.top_k(math.maxinteger)",
            "return metrics.ece({0.2,0.9},{0,1},{bins=2^40})",
            "return timeit(function() end,{warmup=math.maxinteger})",
            "local t = {} local c = t for i = 1, 500 do c[1] = {} c = c[1] end c[1] = 1 return tensor(t)",
            "setmetatable(_G, {__index = function(_, k) error('undefined ' .. k) end}) return nosuch",
        ]
        for code in probes {
            let r = try runMoonlab(["--no-plugins", "-e", code], directory: dir)
            XCTAssertEqual(r.status, 1, "\(code): \(r.stderr)")
            XCTAssertTrue(r.stderr.hasPrefix("moonlab: "), "\(code): \(r.stderr)")
            XCTAssertFalse(r.stderr.contains("crashed") || r.stderr.contains("Fatal error"), "\(code): \(r.stderr)")
        }
        let plot = try runMoonlab(["--no-plugins", "-e", "plot.hist({1e308, -1e308, 0})"], directory: dir)
        XCTAssertEqual(plot.status, 0, plot.stderr)
    }

    /// SIGINT stops a script even in a loop of pcalls; the script sees an error, the process
    /// ends with status 1 and the message, its finalizers run.
    func testCtrlCStopsAScriptsLoopOfPcalls() throws {
        let script = dir + "/spin.lua"
        try """
            io.stderr:write("ready\\n")
            setmetatable({}, {__gc = function() io.stderr:write("finalized\\n") end})
            while true do pcall(function() while true do end end) end
            """.write(toFile: script, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: PseudoTerminal.moonlabPath)
        p.arguments = ["--no-plugins", "run", script]
        let errors = Pipe()
        p.standardError = errors
        p.standardOutput = Pipe()
        try p.run()
        Thread.sleep(forTimeInterval: 1.0)
        kill(p.processIdentifier, SIGINT)
        let deadline = Date().addingTimeInterval(20)
        while p.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if p.isRunning { kill(p.processIdentifier, SIGKILL); XCTFail("Ctrl-C did not stop the script") }
        p.waitUntilExit()
        let err = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(p.terminationReason, .exit, err)
        XCTAssertEqual(p.terminationStatus, 1, err)
        XCTAssertTrue(err.contains("interrupted"), err)
        XCTAssertTrue(err.contains("finalized"), "the state was closed: \(err)")
    }

    /// strict.lua (the common idiom: reading or assigning an undeclared global raises) in a
    /// script, in a rewards file for `moonlab score`'s workers and in a plugin: the host reads
    /// and sets globals through protected calls, so these run (before the fix: "unprotected
    /// Lua error" and an abort).
    func testStrictModeInScriptsWorkersAndPlugins() throws {
        let strict = dir + "/strict.lua"
        try """
            local mt = getmetatable(_G) or {}
            setmetatable(_G, mt)
            mt.__declared = {}
            mt.__newindex = function(t, n, v)
              if not mt.__declared[n] then
                local w = debug.getinfo(2, "S").what
                if w ~= "main" and w ~= "C" then error("assign to undeclared variable '" .. n .. "'", 2) end
                mt.__declared[n] = true
              end
              rawset(t, n, v)
            end
            mt.__index = function(t, n)
              if not mt.__declared[n] and debug.getinfo(2, "S").what ~= "C" then error("variable '" .. n .. "' is not declared", 2) end
              return rawget(t, n)
            end
            """.write(toFile: strict, atomically: true, encoding: .utf8)
        let script = dir + "/script.lua"
        try """
            dofile(\"\(strict)\")
            reward.define("len", function(s) return #s.completion end)
            local rows = {} for i = 1, 20 do rows[i] = {completion = ("x"):rep(i)} end
            print(reward.score("len", rows, {progress = false}):sum(), reward.score("len", rows, {workers = 2, progress = false}):sum())
            print(pcall(function() return undefined_thing end))
            help(rl.gae)
            """.write(toFile: script, atomically: true, encoding: .utf8)
        let run = try runMoonlab(["--no-plugins", "run", script], directory: dir)
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.hasPrefix("210.0\t210.0\n"), run.stdout)
        XCTAssertTrue(run.stdout.contains("is not declared"), run.stdout)

        let rewards = dir + "/rewards.lua"
        try "dofile(\"\(strict)\")\nreward.define('len', function(s) return #s.completion end)\n"
            .write(toFile: rewards, atomically: true, encoding: .utf8)
        let data = dir + "/in.jsonl"
        try "{\"completion\": \"abc\"}\n{\"completion\": \"de\"}\n".write(toFile: data, atomically: true, encoding: .utf8)
        let score = try runMoonlab(["--no-plugins", "score", "--data", data, "--reward", rewards, "--workers", "2"], directory: dir)
        XCTAssertEqual(score.status, 0, score.stderr)
        XCTAssertTrue(score.stdout.contains("\"len\":3"), score.stdout)

        let plugin = dir + "/plugins/strictp"
        try FileManager.default.createDirectory(atPath: plugin, withIntermediateDirectories: true)
        try #"return { name = "strictp", version = "1.0.0", description = "strict", requires = { moonlab = ">=0.1" }, provides = { rewards = {"sl"} } }"#
            .write(toFile: plugin + "/plugin.lua", atomically: true, encoding: .utf8)
        try "dofile(\"\(strict)\")\nreward.define('sl', function(s) return 1 end)\n".write(toFile: plugin + "/init.lua", atomically: true, encoding: .utf8)
        let p = try runMoonlab(["--plugin-path", dir + "/plugins", "-e", "return reward.get('sl')({})",
                                "-e", "return plugin.reload('strictp').status",
                                "-e", "return reward.score('sl', {{}, {}}, {workers = 2, progress = false})"], directory: dir)
        XCTAssertEqual(p.status, 0, p.stderr)
        XCTAssertTrue(p.stdout.hasPrefix("1\nloaded\ntensor([1., 1.]"), p.stdout)

        // a session that turned strict mode on replays (the replayer sets `_` and reads settings)
        let session = dir + "/strict-session.jsonl"
        try """
            {"moonlab_session":1,"version":"0.1.0","lua":"Lua 5.4","seed":0,"started":"2026-11-22T23:01:02Z","plugins":[]}
            {"n":1,"input":"setmetatable(_G, {__index = function(_, k) error('undefined ' .. k, 2) end, __newindex = function(t, k, v) if k ~= '_' then error('no new globals', 2) end rawset(t, k, v) end});","ok":true,"output":"","error":null,"ms":0.1}
            {"n":2,"input":"1 + 1","ok":true,"output":"2\\n","error":null,"ms":0.1}
            {"n":3,"input":"nosuch","ok":false,"output":"","error":"[3]:1: undefined nosuch","ms":0.1}
            """.write(toFile: session, atomically: true, encoding: .utf8)
        let replay = try runMoonlab(["--no-plugins", "replay", session], directory: dir)
        XCTAssertEqual(replay.status, 0, replay.stderr + replay.stdout)
        XCTAssertTrue(replay.stdout.contains("no divergence"), replay.stdout)
    }

    /// Workers of `moonlab score` switch the collector's mode, which --sandbox allows.
    func testSandboxedScoreWorks() throws {
        let data = dir + "/in.jsonl"
        try "{\"completion\": \"abc\"}\n{\"completion\": \"de\"}\n".write(toFile: data, atomically: true, encoding: .utf8)
        let rewards = dir + "/r.lua"
        try "reward.define('len', function(s) return #s.completion end)\n".write(toFile: rewards, atomically: true, encoding: .utf8)
        let r = try runMoonlab(["--sandbox", "--no-plugins", "score", "--data", data, "--reward", rewards, "--workers", "2"], directory: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("\"len\":3"), r.stdout)
        XCTAssertTrue(r.stdout.contains("\"len\":2"), r.stdout)
    }
}
