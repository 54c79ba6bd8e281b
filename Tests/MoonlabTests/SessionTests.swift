import XCTest
import Foundation

/// Sessions (Docs/design.md, "Sessions"): recorded at the prompt, replayed, exported.
final class SessionTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "moonlab-session-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    /// Types `entries` at a real prompt that records to `path`.
    func record(_ entries: [String], to path: String) throws {
        let t = try PseudoTerminal(arguments: ["--record", path],
                                   environment: ["HOME": dir, "NO_COLOR": "1", "MOONLAB_INIT": "moonlab.prompt = 'P> '"])
        XCTAssertTrue(t.expect("P> "), t.transcript)
        for e in entries {
            t.send(e + "\r")
            XCTAssertTrue(t.expect("> "), t.transcript)
        }
        t.send("\u{4}")
        XCTAssertEqual(t.waitForExit(), 0)
    }

    func lines(_ path: String) throws -> [String] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    func testARecordedSessionWithRandomnessAndAMultiLineFunctionReplaysExactly() throws {
        let path = dir + "/s.jsonl"
        try record(["x = math.random(1, 1000000)", "x", "function sq(a)", "return a * a", "end",
                    "sq(x)", "print('clock', os.time())", "t = {b = 2, a = {1, 2}}", "t", "error('nope')"], to: path)
        let l = try lines(path)
        XCTAssertEqual(l.count, 1 + 8, l.joined(separator: "\n"))
        XCTAssertTrue(l[0].contains("\"moonlab_session\":1"))
        XCTAssertTrue(l[3].contains("function sq(a)\\nreturn a * a\\nend"), "a multi-line chunk is one entry")
        // replay elsewhere, a little later: no divergence
        let r = try runMoonlab(["replay", path], directory: NSTemporaryDirectory())
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("replayed 8 entries"), r.stdout)
    }

    func testAColouredPictureDrawnAtTheTerminalReplaysOffTheTerminal() throws {
        let path = dir + "/s.jsonl"
        let t = try PseudoTerminal(arguments: ["--record", path],
                                   environment: ["HOME": dir, "NO_COLOR": "", "MOONLAB_INIT": "moonlab.prompt = 'P> '"])
        XCTAssertTrue(t.expect("P> "), t.transcript)
        t.send("plot.hist({1, 2, 2, 3, 3, 3, 4, 4, 5}, {bins = 5})\r")
        XCTAssertTrue(t.expect("P> "), t.transcript)
        XCTAssertTrue(t.transcript.contains("\u{1b}["), "coloured on the terminal")
        t.send("\u{4}")
        XCTAssertEqual(t.waitForExit(), 0)
        let recorded = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertFalse(recorded.contains("\\u001b"), "sessions hold plain text")
        XCTAssertTrue(recorded.contains("\"picture\":[100,39]"), recorded)
        let r = try runMoonlab(["replay", path])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    }

    func testASessionUsingAPluginReplaysAndAMissingPluginIsReportedFirst() throws {
        let path = dir + "/s.jsonl"
        try record(["r = reward.get('math_answer')", "r{completion = 'so \\\\boxed{3/4}', answer = '0.75'}",
                    "plugin.info('math-answer').version"], to: path)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertTrue(text.contains("{\"name\":\"math-answer\",\"version\":\"1.0.0\"}"), "the header lists plugins: \(text)")
        XCTAssertTrue(text.contains("\"output\":\"1\\t{"), "the plugin's reward ran (score, then its info table): \(text)")
        let r = try runMoonlab(["replay", path])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        let missing = try runMoonlab(["--no-plugins", "replay", path])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("plugin math-answer 1.0.0 is not available"), missing.stderr)
        let older = text.replacingOccurrences(of: "\"version\":\"1.0.0\"}", with: "\"version\":\"0.9.0\"}")
        try older.write(toFile: path, atomically: true, encoding: .utf8)
        let other = try runMoonlab(["replay", path])
        XCTAssertEqual(other.status, 1)
        XCTAssertTrue(other.stderr.contains("plugin math-answer is 1.0.0, the session used 0.9.0"), other.stderr)
    }

    func testStepReplaysOneEntryPerEnterAndLeavesTheStateLive() throws {
        let path = dir + "/s.jsonl"
        let header = #"{"moonlab_session":1,"version":"0.1.0","lua":"Lua 5.4","seed":0,"started":"x","plugins":[]}"#
        let entries = [#"{"n":1,"input":"a = 20","ok":true,"output":"","error":null,"ms":0}"#,
                       #"{"n":2,"input":"a = a + 1","ok":true,"output":"","error":null,"ms":0}"#,
                       #"{"n":3,"input":"a * 2","ok":true,"output":"42\n","error":null,"ms":0}"#]
        try ([header] + entries).joined(separator: "\n").appending("\n").write(toFile: path, atomically: true, encoding: .utf8)
        let t = try PseudoTerminal(arguments: ["--no-plugins", "replay", "--step", path],
                                   environment: ["HOME": dir, "NO_COLOR": "1", "MOONLAB_INIT": "moonlab.prompt = 'P> '"])
        XCTAssertTrue(t.expect("next entry"), t.transcript)
        t.send("\r")
        XCTAssertTrue(t.expect("[1] a = 20"), t.transcript)
        t.send("\r")
        XCTAssertTrue(t.expect("[2] a = a + 1"), t.transcript)
        t.send("\r")
        XCTAssertTrue(t.expect("[3] a * 2"), t.transcript)
        XCTAssertTrue(t.expect("42"), t.transcript)
        XCTAssertTrue(t.expect("the state is live"), t.transcript)
        t.send("a + 100\r")
        XCTAssertTrue(t.expect("121"), "the replayed state stays live: \(t.transcript)")
        t.send("\u{4}")
        XCTAssertEqual(t.waitForExit(), 0)
    }

    func testAChangedOutputFailsNamingTheEntry() throws {
        let path = dir + "/s.jsonl"
        try record(["a = 6", "a * 7", "a + 1"], to: path)
        var l = try lines(path)
        l[2] = l[2].replacingOccurrences(of: "\"output\":\"42\\n\"", with: "\"output\":\"43\\n\"")
        try (l.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let r = try runMoonlab(["replay", path])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("entry 2 diverged: a * 7"), r.stderr)
        XCTAssertTrue(r.stderr.contains("expected: 43") && r.stderr.contains("actual:   42"), r.stderr)
        XCTAssertFalse(r.stderr.contains("entry 3"), r.stderr)
    }

    func testATruncatedFileReplaysWhatItHolds() throws {
        let path = dir + "/s.jsonl"
        try record(["a = 1", "a + 1", "a + 2"], to: path)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        try String(text.dropLast(20)).write(toFile: path, atomically: true, encoding: .utf8)
        let r = try runMoonlab(["replay", path])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("replayed 2 entries"), r.stdout)
        XCTAssertTrue(r.stderr.contains("unreadable line(s) 4"), r.stderr)
    }

    func testToleranceAcceptsTinyNoiseAndRejectsLargeDifferences() throws {
        let path = dir + "/s.jsonl"
        let header = #"{"moonlab_session":1,"version":"0.1.0","lua":"Lua 5.4","seed":0,"started":"x","plugins":[]}"#
        func write(_ output: String) throws {
            let entry = #"{"n":1,"input":"1/3","ok":true,"output":"\#(output)\n","error":null,"ms":0}"#
            try (header + "\n" + entry + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        }
        try write("0.33333333333334")  // 3e-14 relative noise in the last digit
        XCTAssertEqual(try runMoonlab(["replay", path]).status, 1, "exact by default")
        XCTAssertEqual(try runMoonlab(["replay", path, "--tolerance", "1e-12"]).status, 0)
        try write("0.3337")  // 1e-3 off
        XCTAssertEqual(try runMoonlab(["replay", path, "--tolerance", "1e-12"]).status, 1)
    }

    func testUpdateRewritesOutputsAndExportRunsToTheSameState() throws {
        let path = dir + "/s.jsonl"
        try record(["x = math.random(1, 1000)", "function f(v)", "return v * 2", "end", "y = f(x)",
                    "z = {y, x}", "undefined_fn()", "y + 1;"], to: path)
        let export = try runMoonlab(["replay", "--export", path])
        XCTAssertEqual(export.status, 0)
        XCTAssertTrue(export.stdout.contains("-- [5] failed:"), export.stdout)
        let script = dir + "/s.lua"
        try (export.stdout + "\nprint(x, y, z[1], z[2], _)\n").write(toFile: script, atomically: true, encoding: .utf8)
        let run = try runMoonlab(["run", script])
        XCTAssertEqual(run.status, 0, run.stderr)
        let fields = run.stdout.split(separator: "\t").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        XCTAssertEqual(fields.count, 5)
        let x = Int(fields[0]) ?? -1
        XCTAssertEqual(Int(fields[1]), 2 * x)
        XCTAssertEqual(Int(fields[4]), 2 * x + 1, "_ holds the last result, as at the prompt")
        // the same state as the replayed session: compare with a replay's final values
        let check = try runMoonlab(["-e", "math.random(1, 1000)"])
        XCTAssertEqual(Int(check.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), x, "seed 0 everywhere")
        var l = try lines(path)
        l[1] = l[1].replacingOccurrences(of: "\"ok\":true", with: "\"ok\":true,\"stale\":1")
        let upd = try runMoonlab(["replay", "--update", path])
        XCTAssertEqual(upd.status, 0, upd.stderr)
        XCTAssertEqual(try runMoonlab(["replay", path]).status, 0)
    }

    func testExportedScriptPrintsWhatTheSessionPrinted() throws {
        let path = dir + "/shown.jsonl"
        try record(["t = {b = 1, a = {2, 3}}", "t", "x = 1; x + 1", "x + 10;", "print('printed')",
                    "'text', 5", "_"], to: path)
        let export = try runMoonlab(["replay", "--export", path])
        XCTAssertEqual(export.status, 0, export.stderr)
        XCTAssertFalse(export.stdout.contains("_ = t\n"), export.stdout)
        let script = dir + "/shown.lua"
        try export.stdout.write(toFile: script, atomically: true, encoding: .utf8)
        let run = try runMoonlab(["run", script])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stdout, "{a = {2, 3}, b = 1}\n2\nprinted\ntext\t5\ntext\n", export.stdout)
    }
}
