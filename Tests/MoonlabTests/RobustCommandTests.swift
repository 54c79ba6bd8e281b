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
