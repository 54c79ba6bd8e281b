import Foundation
import XCTest
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// `moonlab score` end to end: the built binary on files, as a user runs it.
final class ScoreCommandTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "moonlab-score-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func write(_ name: String, _ text: String) throws -> String {
        let path = dir + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    func lines(_ text: String) -> [String] { text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init) }

    func json(_ line: String) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], line)
    }

    static let rewards = """
        print("loading rewards")  -- goes to stderr, never into the output
        reward.define("len", function(s) return #s.completion end)
        reward.define("picky", function(s)
          if s.id % 7 == 3 then error("id " .. s.id .. " refused") end
          return s.id / 4
        end)
        detect.define("long", function(s) return #s.completion > 12, #s.completion, "over 12 bytes" end)
        """

    /// `n` records `{"id", "completion", "meta"}` with varied spacing and fields.
    func records(_ n: Int) -> String {
        (0..<n).map { i in
            i % 5 == 0 ? #"{ "id" : \#(i), "completion": "ans \#(String(repeating: "x", count: i % 17))", "meta": {"k": [1, null, "}"]} }"#
                : #"{"id": \#(i), "completion": "c\#(i)", "gold": null}"#
        }.joined(separator: "\n") + "\n"
    }

    func testRewardFileScoresRowsAndReportsFailingOnes() throws {
        let data = try write("in.jsonl", records(20) + "not json\n[1, 2]\n")
        let file = try write("r.lua", ScoreCommandTests.rewards)
        let r = try runMoonlab(["score", "--data", data, "--reward", file, "--detect", "long", "--workers", "2"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let out = lines(r.stdout)
        XCTAssertEqual(out.count, 22)
        XCTAssertEqual(out[0], #"{ "id" : 0, "completion": "ans ", "meta": {"k": [1, null, "}"]} ,"rewards":{"len":4.0,"picky":0.0},"flags":{"long":{"flag":false,"score":4.0,"reason":"over 12 bytes"}}}"#)
        XCTAssertEqual(out[1], #"{"id": 1, "completion": "c1", "gold": null,"rewards":{"len":2.0,"picky":0.25},"flags":{"long":{"flag":false,"score":2.0,"reason":"over 12 bytes"}}}"#)
        // A failing reward keeps the values of the others, with its message by name.
        XCTAssertEqual(out[3], #"{"id": 3, "completion": "c3", "gold": null,"rewards":{"len":2.0,"picky":null},"flags":{"long":{"flag":false,"score":2.0,"reason":"over 12 bytes"}},"errors":{"picky":"\#(file):4: id 3 refused"},"error":"picky: \#(file):4: id 3 refused"}"#)
        XCTAssertEqual(try json(out[10])["error"] as? String, "picky: \(file):4: id 10 refused")
        XCTAssertEqual(out[20], #"{"error":"input line 21: not valid JSON: expected value at column 1"}"#)
        XCTAssertEqual(out[21], #"{"error":"input line 22: not a JSON object"}"#)
        XCTAssertEqual(out.filter { $0.contains("\"error\"") }.count, 5)
        XCTAssertTrue(r.stderr.contains("loading rewards"), r.stderr)
        XCTAssertTrue(r.stderr.contains("scored 22 rows"), r.stderr)
        XCTAssertTrue(r.stderr.contains("5 with errors"), r.stderr)
        XCTAssertTrue(r.stderr.contains("picky "), r.stderr)
        XCTAssertTrue(r.stderr.contains("long "), r.stderr)
    }

    func testTwoWorkersWriteWhatOneWrites() throws {
        let data = try write("in.jsonl", records(9000))
        let file = try write("r.lua", ScoreCommandTests.rewards)
        let one = dir + "/one.jsonl", two = dir + "/two.jsonl"
        XCTAssertEqual(try runMoonlab(["score", "--data", data, "--reward", file, "--detect", "long", "--workers", "1", "--out", one]).status, 0)
        let r = try runMoonlab(["score", "--data", data, "--reward", file, "--detect", "long", "--workers", "2", "--out", two])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "")
        XCTAssertEqual(lines(read(one)).count, 9000)
        XCTAssertEqual(read(one), read(two))
    }

    func testShardsTogetherAreTheWholeRun() throws {
        let data = try write("in.jsonl", records(501))
        let file = try write("r.lua", ScoreCommandTests.rewards)
        let all = try runMoonlab(["score", "--data", data, "--reward", file])
        let s0 = try runMoonlab(["score", "--data", data, "--reward", file, "--shard", "0/2"])
        let s1 = try runMoonlab(["score", "--data", data, "--reward", file, "--shard", "1/2"])
        XCTAssertEqual([all.status, s0.status, s1.status], [0, 0, 0], s0.stderr + s1.stderr)
        let a = lines(all.stdout), l0 = lines(s0.stdout), l1 = lines(s1.stdout)
        XCTAssertEqual(l0.count, 251)
        XCTAssertEqual(l1.count, 250)
        var merged: [String] = []
        for i in 0..<l0.count { merged.append(l0[i]); if i < l1.count { merged.append(l1[i]) } }
        XCTAssertEqual(merged, a)  // shard I holds records I, I+N, ...
        XCTAssertEqual((l0 + l1).sorted(), a.sorted())  // so `cat` of the shards is the whole set
        XCTAssertTrue(l1[0].hasPrefix(#"{"id": 1,"#))
    }

    /// A reward slow enough (some 50 us a row) that a run can be caught midway.
    static let slowReward = """
        reward.define("slow", function(s)
          local x = 0
          for i = 1, 5000 do x = x + (i % 7) end
          return #s.completion + x % 3
        end)
        """

    func testResumeAfterAKilledRunGivesTheUninterruptedOutput() throws {
        let data = try write("in.jsonl", records(30000))
        let file = try write("slow.lua", ScoreCommandTests.slowReward)
        let whole = dir + "/whole.jsonl", resumed = dir + "/resumed.jsonl"
        let args = ["score", "--data", data, "--reward", file, "--workers", "2"]
        let killed = try startMoonlab(args + ["--out", resumed])
        XCTAssertTrue(waitUntil(timeout: 60) { self.lines(self.read(resumed)).count >= 200 }, "no output from the run")
        kill(killed.processIdentifier, SIGKILL)
        killed.waitUntilExit()
        let before = lines(read(resumed)).count
        XCTAssertGreaterThan(before, 0)
        XCTAssertLessThan(before, 30000, "the run ended before it was killed")
        // As if killed in the middle of a write: a partial last line, which --resume cuts away.
        let h = try XCTUnwrap(FileHandle(forWritingAtPath: resumed))
        h.seekToEndOfFile()
        h.write(Data(#"{"id": 99999, "compl"#.utf8))
        h.closeFile()
        let r = try runMoonlab(args + ["--out", resumed, "--resume"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("(resumed: \(before) rows were already there); the whole file: 30000 rows, 0 with errors"), r.stderr)
        XCTAssertEqual(try runMoonlab(args + ["--out", whole]).status, 0)
        XCTAssertEqual(lines(read(whole)).count, 30000)
        XCTAssertTrue(read(resumed) == read(whole), "resumed output differs from an uninterrupted run")
        // Resuming a finished run adds nothing.
        let again = try runMoonlab(args + ["--out", resumed, "--resume"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains("scored 0 rows"), again.stderr)
        XCTAssertTrue(read(resumed) == read(whole))
    }

    func testCtrlCStopsAfterAChunkAndResumeFinishes() throws {
        let data = try write("in.jsonl", records(30000))
        let file = try write("slow.lua", ScoreCommandTests.slowReward)
        let out = dir + "/out.jsonl", whole = dir + "/whole.jsonl"
        let args = ["score", "--data", data, "--reward", file, "--workers", "2"]
        let p = try startMoonlab(args + ["--out", out])
        XCTAssertTrue(waitUntil(timeout: 60) { self.lines(self.read(out)).count >= 100 })
        p.interrupt()  // SIGINT, as Ctrl-C sends
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 130)
        let text = read(out)
        XCTAssertTrue(text.hasSuffix("\n"), "the output ends on a whole line")
        XCTAssertLessThan(lines(text).count, 30000)
        XCTAssertEqual(try runMoonlab(args + ["--out", out, "--resume"]).status, 0)
        XCTAssertEqual(try runMoonlab(args + ["--out", whole]).status, 0)
        XCTAssertTrue(read(out) == read(whole))
    }

    func testRealGzippedHHRLHFFile() throws {
        let hh = exampleData("hh-rlhf/harmless-base/test.jsonl.gz")
        let file = try write("hh.lua", """
            reward.define("chosen_longer", function(s) return #s.chosen > #s.rejected and 1 or 0 end)
            reward.define("length_gap", function(s) return #s.chosen - #s.rejected end)
            """)
        let out = dir + "/hh.jsonl"
        let r = try runMoonlab(["score", "--data", hh, "--reward", file, "--out", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        let rows = lines(read(out))
        XCTAssertEqual(rows.count, 2312)
        let first = try json(rows[0])
        XCTAssertTrue((first["chosen"] as? String ?? "").hasPrefix("\n\nHuman: "))
        let rewards = try XCTUnwrap(first["rewards"] as? [String: Double])
        let gap = Double((first["chosen"] as? String ?? "").utf8.count - (first["rejected"] as? String ?? "").utf8.count)
        XCTAssertEqual(rewards["length_gap"], gap)
        XCTAssertTrue(rows.allSatisfy { $0.contains(#""rewards":{"chosen_longer":"#) })
        XCTAssertTrue(rows[0].hasPrefix(#"{"chosen": ""#), "the record's own text comes first, as it was")
        XCTAssertTrue(r.stderr.contains("scored 2312 rows"), r.stderr)
    }

    func testBuiltinRewardByNameAndOwnFieldsReplaced() throws {
        let data = try write("in.jsonl", """
            {"completion": "<think>2+2</think> <answer>4</answer>", "answer": "4"}
            {"completion": "it is 5", "answer": "4", "rewards": {"old": 1}, "error": "stale"}
            {}
            """)
        let r = try runMoonlab(["score", "--data", data, "--reward", "format", "--reward", "accuracy"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(lines(r.stdout), [
            #"{"completion": "<think>2+2</think> <answer>4</answer>", "answer": "4","rewards":{"format":1.0,"accuracy":1.0},"flags":{}}"#,
            #"{"completion": "it is 5","answer": "4","rewards":{"format":0.0,"accuracy":0.0},"flags":{}}"#,
            #"{"rewards":{"format":null,"accuracy":null},"flags":{},"errors":{"format":"sample has no field 'completion' (a string or a list of {role, content} messages)","accuracy":"sample has no field 'completion' (a string or a list of {role, content} messages)"},"error":"format: sample has no field 'completion' (a string or a list of {role, content} messages); accuracy: sample has no field 'completion' (a string or a list of {role, content} messages)"}"#,
        ])
    }

    func testDetectorsFromTheFile() throws {
        let data = try write("in.jsonl", records(10))
        let file = try write("r.lua", ScoreCommandTests.rewards + """

            detect.define("odd", function(s) if s.id % 2 == 1 then return true, s.id end return false end)
            """)
        let r = try runMoonlab(["score", "--data", data, "--reward", file, "--detect", "odd", "--detect", "long"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let row = try json(lines(r.stdout)[1])
        let flags = try XCTUnwrap(row["flags"] as? [String: [String: Any]])
        XCTAssertEqual(flags["odd"]?["flag"] as? Bool, true)
        XCTAssertEqual(flags["odd"]?["score"] as? Double, 1)
        XCTAssertTrue(flags["odd"]?["reason"] is NSNull)
        XCTAssertEqual(flags["long"]?["flag"] as? Bool, false)
        XCTAssertTrue(lines(r.stdout)[0].contains(#""flags":{"odd":{"flag":false,"score":null,"reason":null},"long":"#))
        XCTAssertTrue(r.stderr.contains("flag rate"), r.stderr)
    }

    /// A detector returning a table {flag =, score =, reason =} is written as those three
    /// values (it was flagged with no score); a string where the flag belongs is that row's
    /// error, naming the detector, and the run goes on.
    func testDetectorReturningATableOrAString() throws {
        let data = try write("in.jsonl", records(4))
        let file = try write("r.lua", """
            detect.define("tab", function(s) return {flag = s.id == 1, score = s.id * 2, reason = "id " .. s.id} end)
            detect.define("str", function(s) if s.id == 2 then return "yes" end return true, 0 end)
            """)
        let r = try runMoonlab(["score", "--data", data, "--reward", file, "--detect", "tab", "--detect", "str"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let out = lines(r.stdout)
        XCTAssertEqual(out.count, 4)
        XCTAssertTrue(out[1].contains(#""flags":{"tab":{"flag":true,"score":2.0,"reason":"id 1"},"str":{"flag":true,"score":0.0,"reason":null}}"#), out[1])
        XCTAssertTrue(out[0].contains(#""tab":{"flag":false,"score":0.0,"reason":"id 0"}"#), out[0])
        XCTAssertTrue(out[2].contains(#""errors":{"str":"detector 'str' returned string \"yes\" as its flag; expected a boolean (return flag, score, reason) or a table {flag = boolean, score =, reason =}"}"#), out[2])
        XCTAssertTrue(out[2].contains(#""tab":{"flag":false,"score":4.0,"reason":"id 2"}"#), out[2])
        XCTAssertTrue(r.stderr.contains("1 with errors"), r.stderr)
    }

    /// nil (does not apply), NaN and inf are told apart in the output and counted in the
    /// summary; --nan-as-error makes NaN/inf errors; --state reaches the rewards; the most
    /// frequent error messages are named with their counts.
    func testNilNaNStateAndErrorCounts() throws {
        let data = try write("in.jsonl", records(30))
        let file = try write("r.lua", """
            reward.define("step", function(s, state) return state.step + state.lr end)
            reward.define("odd", function(s)
              if s.id % 3 == 0 then return nil end
              if s.id == 4 then return 0/0 end
              if s.id == 5 then return -math.huge end
              if s.id % 10 == 7 then error("sevens refused") end
              if s.id == 8 then error("eight") end
              return 1
            end)
            """)
        let r = try runMoonlab(["score", "--data", data, "--reward", file, "--state", "step=100,lr=0.5", "--workers", "2"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let out = lines(r.stdout)
        XCTAssertTrue(out[0].hasSuffix(#","rewards":{"odd":null,"step":100.5},"flags":{}}"#), out[0])
        XCTAssertTrue(out[4].hasSuffix(#","rewards":{"odd":null,"step":100.5},"flags":{},"nonfinite":{"odd":"nan"}}"#), out[4])
        XCTAssertTrue(out[5].hasSuffix(#""nonfinite":{"odd":"-inf"}}"#), out[5])
        XCTAssertTrue(out[7].contains(#""rewards":{"odd":null,"step":100.5},"flags":{},"errors":{"odd":"\#(file):6: sevens refused"}"#), out[7])
        XCTAssertTrue(r.stderr.contains("3 with errors"), r.stderr)
        // 30 rows: 10 nil (ids 0, 3, ...), 2 non-finite, 3 errors (7, 8, 17; 27 is nil).
        XCTAssertTrue(r.stderr.contains("odd             15           1           1           1           1         2      10       3"), r.stderr)
        XCTAssertTrue(r.stderr.contains("most frequent errors:\n       2x  odd: \(file):6: sevens refused\n       1x  odd: \(file):7: eight"), r.stderr)
        let strict = try runMoonlab(["score", "--data", data, "--reward", file, "--state", "step=1", "--state", "lr=0", "--nan-as-error"])
        XCTAssertEqual(strict.status, 0, strict.stderr)
        XCTAssertTrue(lines(strict.stdout)[4].contains(#""errors":{"odd":"reward returned nan, expected a finite number"}"#))
        XCTAssertTrue(strict.stderr.contains("5 with errors"), strict.stderr)
        let bad = try runMoonlab(["score", "--data", data, "--reward", file, "--state", "step"])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.contains("--state step: expected KEY=VALUE pairs"), bad.stderr)
    }

    /// After --resume the summary is of the whole output file, not of the rows just added.
    func testResumedSummaryCoversTheWholeFile() throws {
        let data = try write("in.jsonl", records(40))
        let file = try write("r.lua", ScoreCommandTests.rewards)
        let whole = dir + "/whole.jsonl", part = dir + "/part.jsonl"
        let full = try runMoonlab(["score", "--data", data, "--reward", file, "--out", whole])
        XCTAssertEqual(full.status, 0, full.stderr)
        try lines(read(whole)).prefix(25).map { $0 + "\n" }.joined().write(toFile: part, atomically: true, encoding: .utf8)
        let r = try runMoonlab(["score", "--data", data, "--reward", file, "--out", part, "--resume"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(read(part), read(whole))
        XCTAssertTrue(r.stderr.contains("scored 15 rows"), r.stderr)
        XCTAssertTrue(r.stderr.contains("the whole file: 40 rows, 6 with errors"), r.stderr)
        // The tables are the same as the uninterrupted run's.
        let table = { (s: String) in s.split(separator: "\n").drop { !$0.hasPrefix("scored") }.dropFirst().joined(separator: "\n") }
        XCTAssertEqual(table(r.stderr), table(full.stderr))
    }

    func testBadCommandLinesExitOneWithAMessage() throws {
        let data = try write("in.jsonl", records(3))
        let file = try write("r.lua", ScoreCommandTests.rewards)
        let broken = try write("broken.lua", "reward.define('x', function(s) return 1 end\n")
        let kept = try write("kept.jsonl", "keep me\n")
        let cases: [([String], String)] = [
            (["--reward", "format"], "--data FILE is required"),
            (["--data", data], "--reward NAME|FILE.lua is required"),
            (["--data", dir + "/missing.jsonl", "--reward", "format", "--out", kept], "--data \(dir)/missing.jsonl: No such file"),
            (["--data", dir, "--reward", "format"], "is a directory"),
            (["--data", data, "--reward", "nope"], "--reward nope: unknown reward; registered: accuracy, format"),
            (["--data", data, "--reward", dir + "/none.lua"], "--reward \(dir)/none.lua: no such file"),
            (["--data", data, "--reward", broken], "--reward \(broken): "),
            (["--data", data, "--reward", file, "--detect", "nope"], "--detect nope: unknown detector; registered (by plugins and the --reward files): long"),
            (["--data", data, "--reward", "format", "--workers", "0"], "--workers 0: expected a number of workers"),
            (["--data", data, "--reward", "format", "--workers", "two"], "--workers two"),
            (["--data", data, "--reward", "format", "--shard", "2/2"], "--shard 2/2: expected I/N with 0 <= I < N"),
            (["--data", data, "--reward", "format", "--shard", "1"], "--shard 1: expected I/N"),
            (["--data", data, "--reward", "format", "--resume"], "--resume needs --out"),
            (["--data", data, "--reward", "format", "--out", data], "is the --data file"),
            (["--data", data, "--reward", "format", "--bogus"], "unexpected argument '--bogus'"),
        ]
        for (args, message) in cases {
            let r = try runMoonlab(["score"] + args)
            XCTAssertEqual(r.status, 1, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("moonlab: score: "), "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(message), "\(args): expected \(message) in \(r.stderr)")
            XCTAssertEqual(r.stdout, "", "\(args)")
        }
        XCTAssertEqual(read(kept), "keep me\n", "a failed start leaves --out alone")
    }

    func testProgressBarOnATerminal() throws {
        let data = try write("in.jsonl", records(3000))
        let file = try write("slow.lua", ScoreCommandTests.slowReward)
        let t = try PseudoTerminal(arguments: ["score", "--data", data, "--reward", file, "--out", dir + "/o.jsonl"],
                                   environment: [:])
        XCTAssertTrue(t.expect("/s  ETA ", timeout: 60), t.transcript)
        XCTAssertEqual(t.waitForExit(timeout: 60), 0)
        XCTAssertTrue(t.transcript.contains("scored 3000 rows"), t.transcript)
    }

    // MARK: helpers

    func startMoonlab(_ arguments: [String]) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: PseudoTerminal.moonlabPath)
        p.arguments = arguments
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    func waitUntil(timeout: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            usleep(5_000)
        }
        return false
    }
}
