import XCTest
import Foundation
import TestSupport

/// Model calls from the command line: a prompt session that called a model replays with the
/// server gone, Ctrl-C stops waiting for a slow answer and leaves the state alive,
/// `moonlab generate` output is what `moonlab score` reads, and `--resume` after kill -9
/// loses and doubles nothing.
final class ModelCommandTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "moonlab-model-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func prompt(record path: String) throws -> PseudoTerminal {
        let t = try PseudoTerminal(arguments: ["--record", path],
                                   environment: ["HOME": dir, "NO_COLOR": "1", "MOONLAB_INIT": "moonlab.prompt = 'P> '"])
        XCTAssertTrue(t.expect("P> "), t.transcript)
        return t
    }

    func testASessionThatCalledAModelReplaysWithTheServerStoppedAndReportsAMissingCall() throws {
        let stub = try StubServer()
        let path = dir + "/s.jsonl"
        let t = try prompt(record: path)
        for line in ["llm = model.openai{base_url = '\(stub.baseURL)', model = 'm'}",
                     "r = llm:complete('q', {n = 2, seed = 1})",
                     "r.texts[2], r.obtained.requests",
                     "#llm:complete_many({'a', 'b', 'c'})",
                     "pcall(llm.complete, llm, '500')"] {
            t.send(line + "\r")
            XCTAssertTrue(t.expect("P> "), t.transcript)
        }
        t.send("\u{4}")
        XCTAssertEqual(t.waitForExit(), 0)
        stub.stop()
        let r = try runMoonlab(["replay", path])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("replayed 5 entries"), r.stdout)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertTrue(text.contains("echo:q|seed=2|n=1"), "the recorded answer is in the session")
        // a session whose recording lacks a call: the replay says which call is missing
        let edited = text.replacingOccurrences(of: "{n = 2, seed = 1}", with: "{n = 2, seed = 5}")
        try edited.write(toFile: path, atomically: true, encoding: .utf8)
        let r2 = try runMoonlab(["replay", path])
        XCTAssertNotEqual(r2.status, 0)
        XCTAssertTrue(r2.stdout.contains("the recording has no answer for POST /completions") ||
                      r2.stderr.contains("the recording has no answer for POST /completions"), r2.stdout + r2.stderr)
    }

    func testCtrlCStopsWaitingForASlowAnswerAndTheStateStaysAlive() throws {
        let stub = try StubServer()
        let t = try prompt(record: dir + "/s.jsonl")
        t.send("x = 41; llm = model.openai{base_url = '\(stub.baseURL)', model = 'm'}\r")
        XCTAssertTrue(t.expect("P> "), t.transcript)
        let t0 = Date()
        t.send("llm:complete_many({'slow:20:a', 'slow:20:b'})\r")
        Thread.sleep(forTimeInterval: 0.8)
        t.send("\u{3}")
        XCTAssertTrue(t.expect("interrupted"), t.transcript)
        XCTAssertTrue(t.expect("P> "), t.transcript)
        XCTAssertLessThan(Date().timeIntervalSince(t0), 10)
        t.send("x + 1\r")
        XCTAssertTrue(t.expect("42"), t.transcript)
        t.send("\u{4}")
        XCTAssertEqual(t.waitForExit(), 0)
    }

    func writePrompts(_ n: Int, slow: Bool = false) throws -> String {
        let path = dir + "/prompts.jsonl"
        let lines = (0..<n).map { #"{"id": \#($0), "prompt": "\#(slow ? "slow:0.15:" : "")p\#($0)"}"# }
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func records(_ path: String) throws -> [[String: Any]] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
            try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    func testGenerateWritesOneLinePerCompletionThatScoreReads() throws {
        let stub = try StubServer()
        let prompts = try writePrompts(5)
        let out = dir + "/gen.jsonl"
        let g = try runMoonlab(["generate", "--data", prompts, "--base-url", stub.baseURL, "--model", "m",
                                "--n", "3", "--seed", "10", "--logprobs", "2", "--concurrency", "2", "--out", out])
        XCTAssertEqual(g.status, 0, g.stderr)
        XCTAssertTrue(g.stderr.contains("5/5 prompts, 15 completions"), g.stderr)
        XCTAssertTrue(g.stderr.contains("finish reasons: stop 15"), g.stderr)
        let recs = try records(out)
        XCTAssertEqual(recs.count, 15)
        XCTAssertEqual(recs.map { $0["group"] as? Int }, (0..<5).flatMap { g in [g, g, g] })
        XCTAssertEqual(recs.map { $0["sample"] as? Int }, (0..<5).flatMap { _ in [0, 1, 2] })
        XCTAssertEqual(recs[4]["completion"] as? String, "echo:p1|seed=11|n=2")
        XCTAssertEqual(recs[4]["id"] as? Int, 1, "the input fields are kept")
        let lp = try XCTUnwrap(recs[0]["logprobs"] as? [String: Any])
        XCTAssertEqual(lp["tokens"] as? [String], ["echo", ":"])
        let rewards = dir + "/r.lua"
        try """
            reward.define("len", function(s) return #s.completion end)
            detect.define("unsure", function(s) local u = detect.token_uncertainty(s.logprobs); return u.avg_neg_logprob > 0.9, u.avg_neg_logprob end)
            """.write(toFile: rewards, atomically: true, encoding: .utf8)
        let scored = dir + "/scored.jsonl"
        let s = try runMoonlab(["score", "--data", out, "--reward", rewards, "--detect", "unsure", "--out", scored, "--workers", "1"])
        XCTAssertEqual(s.status, 0, s.stderr)
        let srecs = try records(scored)
        XCTAssertEqual(srecs.count, 15)
        XCTAssertEqual((srecs[4]["rewards"] as? [String: Any])?["len"] as? Double, 19, "#\"echo:p1|seed=11|n=2\"")
        XCTAssertEqual(((srecs[0]["flags"] as? [String: Any])?["unsure"] as? [String: Any])?["flag"] as? Bool, true)
    }

    func testGenerateResumesAfterKill9WithoutLosingOrDoublingAndShardsSplitThePrompts() throws {
        let stub = try StubServer()
        let prompts = try writePrompts(30, slow: true)
        let out = dir + "/gen.jsonl"
        let args = ["generate", "--data", prompts, "--base-url", stub.baseURL, "--model", "m", "--n", "2",
                    "--concurrency", "3", "--out", out, "--no-progress"]
        let p = Process()
        p.executableURL = URL(fileURLWithPath: PseudoTerminal.moonlabPath)
        p.arguments = args
        p.standardError = FileHandle.nullDevice
        try p.run()
        Thread.sleep(forTimeInterval: 1.2)
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        let before = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").count
        XCTAssertGreaterThan(before, 0)
        XCTAssertLessThan(before, 60, "killed mid-run")
        let r = try runMoonlab(args + ["--resume"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("resuming"), r.stderr)
        let recs = try records(out)
        let pairs = recs.map { "\($0["group"] ?? "-")/\($0["sample"] ?? "-")" }
        XCTAssertEqual(pairs, (0..<30).flatMap { g in ["\(g)/0", "\(g)/1"] })
        // shards: every prompt exactly once across 0/2 and 1/2
        var all: [Int] = []
        for i in 0..<2 {
            let o = dir + "/shard\(i).jsonl"
            let s = try runMoonlab(["generate", "--data", prompts, "--base-url", stub.baseURL, "--shard", "\(i)/2",
                                    "--concurrency", "4", "--out", o])
            XCTAssertEqual(s.status, 0, s.stderr)
            all += try records(o).compactMap { $0["group"] as? Int }
        }
        XCTAssertEqual(all.sorted(), Array(0..<30))
    }

    func testGenerateWritesAFailedPromptWithErrorAndGoesOn() throws {
        let stub = try StubServer()
        let path = dir + "/p.jsonl"
        try "{\"prompt\": \"ok\"}\n{\"prompt\": \"500\"}\n{\"other\": 1}\n".write(toFile: path, atomically: true, encoding: .utf8)
        let out = dir + "/o.jsonl"
        let r = try runMoonlab(["generate", "--data", path, "--base-url", stub.baseURL, "--retries", "0", "--out", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        let recs = try records(out)
        XCTAssertEqual(recs.count, 3)
        XCTAssertEqual(recs[0]["completion"] as? String, "echo:ok|seed=None|n=1")
        XCTAssertTrue((recs[1]["error"] as? String)?.contains("HTTP 500: boom from the stub") ?? false)
        XCTAssertTrue((recs[2]["error"] as? String)?.contains("no string field 'prompt'") ?? false)
        XCTAssertTrue(r.stderr.contains("errors: 2"), r.stderr)
        let refused = try runMoonlab(["generate", "--data", path, "--base-url", "http://127.0.0.1:9/v1", "--out", out])
        XCTAssertEqual(refused.status, 0)
        XCTAssertTrue(try records(out)[0]["error"].map { "\($0)" }?.contains("http://127.0.0.1:9/v1/completions: connection refused") ?? false)
    }
}
