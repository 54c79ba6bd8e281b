import Foundation
import XCTest

/// The command line as Docs/design.md words it, run as a user would (an audit of options
/// that were taken but did nothing, or taken by the wrong party).
final class CommandContractTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "moonlab-contract-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    /// `moonlab run FILE ARGS...`: as in lua5.4, everything after FILE is the script's, even
    /// an option moonlab also knows (`--seed`, `--help`); moonlab's own options go before FILE.
    /// (ArgumentParser took a `--seed 3` after FILE as moonlab's seed and hid it from `arg`.)
    func testRunPassesEverythingAfterTheFileToTheScript() throws {
        let script = dir + "/args.lua"
        try "print(#arg, table.concat(arg, ' ', 1, #arg), math.random(1000))\n"
            .write(toFile: script, atomically: true, encoding: .utf8)
        let seed0 = try runMoonlab(["--no-plugins", "run", script])
        XCTAssertEqual(seed0.status, 0, seed0.stderr)
        let draw0 = seed0.stdout.split(separator: "\t").last.map(String.init) ?? ""
        let theirs = try runMoonlab(["--no-plugins", "run", script, "a", "--seed", "3", "--help", "-e", "b"])
        XCTAssertEqual(theirs.status, 0, theirs.stderr)
        XCTAssertEqual(theirs.stdout, "6\ta --seed 3 --help -e b\t" + draw0, "the script's options stay the script's")
        let ours = try runMoonlab(["--no-plugins", "run", "--seed", "3", script, "x"])
        XCTAssertEqual(ours.status, 0, ours.stderr)
        XCTAssertTrue(ours.stdout.hasPrefix("1\tx\t"), ours.stdout)
        XCTAssertNotEqual(ours.stdout.split(separator: "\t").last.map(String.init), draw0, "--seed before FILE is moonlab's")
        let root = try runMoonlab(["--seed", "3", "--no-plugins", "run", script, "x"])
        XCTAssertEqual(root.stdout, ours.stdout)
        let terminated = try runMoonlab(["--no-plugins", "run", "--", script, "--seed"])
        XCTAssertEqual(terminated.stdout, "1\t--seed\t" + draw0)
    }

    /// `--seed N` seeds every random generator (design.md); in `moonlab score` each row's
    /// `math.random` and `random.default` are seeded from `--seed` and the row's line, so the
    /// output is the same with 1 or 2 workers, in two shards joined, and resumed after a cut.
    /// (Every worker used to start from the same seed: rows 1 and 2 drew the same number on two
    /// workers, and which row a worker took decided its draw.)
    func testScoreDrawsDependOnSeedAndRowOnly() throws {
        let rewards = dir + "/r.lua"
        try """
            reward.define("m", function(s) return math.random() end)
            reward.define("g", function(s) return random.default:uniform() + 10 * random.new():uniform() end)
            """.write(toFile: rewards, atomically: true, encoding: .utf8)
        let data = dir + "/d.jsonl"
        try (0..<40).map { "{\"i\":\($0)}\n" }.joined().write(toFile: data, atomically: true, encoding: .utf8)
        func score(_ extra: [String]) throws -> String {
            let r = try runMoonlab(["--no-plugins", "score", "--data", data, "--reward", rewards, "--no-progress"] + extra)
            XCTAssertEqual(r.status, 0, r.stderr)
            return r.stdout
        }
        let one = try score(["--workers", "1"])
        let lines = one.split(separator: "\n")
        XCTAssertEqual(lines.count, 40)
        XCTAssertEqual(Set(lines.map { $0.split(separator: ",")[1] }).count, 40, "every row its own draw: \(one)")
        XCTAssertEqual(try score(["--workers", "2"]), one)
        let shards = try score(["--workers", "2", "--shard", "0/2"]).split(separator: "\n") +
            (try score(["--workers", "2", "--shard", "1/2"])).split(separator: "\n")
        XCTAssertEqual(Set(shards), Set(lines))
        let out = dir + "/o.jsonl"
        try String(one.prefix(one.count / 3)).write(toFile: out, atomically: true, encoding: .utf8)
        _ = try score(["--workers", "2", "--out", out, "--resume"])
        XCTAssertEqual(try String(contentsOfFile: out, encoding: .utf8), one)
        XCTAssertNotEqual(try score(["--workers", "2", "--seed", "1"]), one, "--seed reaches the rows")
    }

    /// A session recorded at a prompt that `MOONLAB_INIT` prepared replays: the header keeps
    /// what it ran (code, or `@FILE`'s text and name) and a replay runs it before the first
    /// entry. (Replays of such sessions diverged at the first use of what the init defined.)
    func testSessionsKeepWhatMoonlabInitRan() throws {
        let initFile = dir + "/init.lua"
        try "#!/usr/bin/env moonlab\nmoonlab.prompt = 'P> '\nz = 7\nfunction f() error('in init') end\n"
            .write(toFile: initFile, atomically: true, encoding: .utf8)
        for (value, entries) in [("moonlab.prompt = 'P> '; y = 42", ["y", "y + 1"]),
                                 ("@" + initFile, ["z", "pcall(f)", "arg[0] == \(quoteLua(initFile))"])] {
            let path = dir + "/s\(entries.count).jsonl"
            let t = try PseudoTerminal(arguments: ["--no-plugins", "--record", path],
                                       environment: ["HOME": dir, "NO_COLOR": "1", "MOONLAB_INIT": value])
            XCTAssertTrue(t.expect("P> "), t.transcript)
            for e in entries {
                t.send(e + "\r")
                XCTAssertTrue(t.expect("P> "), t.transcript)
            }
            t.send("\u{4}")
            XCTAssertEqual(t.waitForExit(), 0)
            let recorded = try String(contentsOfFile: path, encoding: .utf8)
            XCTAssertFalse(recorded.contains("nil\\n") || recorded.contains("false\\n"), recorded)
            XCTAssertTrue(recorded.split(separator: "\n")[0].contains("\"init\":{"), recorded)
            let r = try runMoonlab(["--no-plugins", "replay", path], directory: NSTemporaryDirectory())
            XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
            let export = try runMoonlab(["replay", "--export", path])
            let script = dir + "/exported.lua"
            try export.stdout.write(toFile: script, atomically: true, encoding: .utf8)
            let run = try runMoonlab(["--no-plugins", "run", script])
            XCTAssertEqual(run.status, 0, export.stdout + run.stderr)
            XCTAssertFalse(run.stdout.contains("nil"), export.stdout + run.stdout)
        }
    }

    /// A `--plugin-path` that holds no plugin (a typo, a folder of the wrong level) is named on
    /// standard error, once, and the others still load; it used to be skipped without a word.
    func testAPluginPathWithNoPluginIsReported() throws {
        let good = dir + "/plugins/good"
        try FileManager.default.createDirectory(atPath: good, withIntermediateDirectories: true)
        try """
            return { name = "good", version = "1.0.0", description = "g", requires = { moonlab = ">=0.1" },
                     provides = { rewards = {"goodr"} } }
            """.write(toFile: good + "/plugin.lua", atomically: true, encoding: .utf8)
        try "reward.define('goodr', function(s) return 1 end)\n".write(toFile: good + "/init.lua", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: dir + "/empty", withIntermediateDirectories: true)
        let r = try runMoonlab(["--plugin-path", dir + "/nope", "--plugin-path", dir + "/empty", "--plugin-path", dir + "/plugins",
                                "-e", "reward.get('goodr')"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "reward goodr\n")
        XCTAssertEqual(r.stderr, "moonlab: --plugin-path \(dir)/nope: no such folder\n" +
                       "moonlab: --plugin-path \(dir)/empty: no plugin in it (a plugin is a folder with a plugin.lua)\n")
    }


    /// `:record FILE` in the middle of a session records from there on; it now says that the
    /// entries before are not in the file (its replay runs without them), and says nothing
    /// after a `:reset` (the state is fresh again, and MOONLAB_INIT ran again: its prompt stays).
    func testRecordMidSessionSaysWhatTheFileLacks() throws {
        let t = try PseudoTerminal(arguments: ["--no-plugins", "--no-record"],
                                   environment: ["HOME": dir, "NO_COLOR": "1", "MOONLAB_INIT": "moonlab.prompt = 'P> '"])
        XCTAssertTrue(t.expect("P> "), t.transcript)
        for e in ["x = 3", "y = 4", ":record \(dir)/a.jsonl", ":reset", ":record \(dir)/b.jsonl", "z = 1"] {
            t.send(e + "\r")
            XCTAssertTrue(t.expect("P> "), t.transcript)  // :reset runs MOONLAB_INIT again
        }
        t.send("\u{4}")
        XCTAssertEqual(t.waitForExit(), 0)
        XCTAssertTrue(t.transcript.contains("recording to \(dir)/a.jsonl\r\n(from here on: the 2 entries before are not in it"),
                      t.transcript)
        let afterReset = t.transcript.components(separatedBy: "recording to \(dir)/b.jsonl").last ?? ""
        XCTAssertFalse(afterReset.contains("from here on"), t.transcript)
    }


    /// `moonlab generate` never costs a file its lines on a bad command line: `--out` naming
    /// the `--data` file is refused (as `score` refuses it), and an unreadable `--data` is found
    /// before `--out` is opened. Both emptied the file before.
    func testGenerateKeepsItsFilesOnABadCommandLine() throws {
        let prompts = dir + "/p.jsonl", kept = dir + "/kept.jsonl"
        let text = "{\"prompt\": \"a\"}\n{\"prompt\": \"b\"}\n"
        try text.write(toFile: prompts, atomically: true, encoding: .utf8)
        try text.write(toFile: kept, atomically: true, encoding: .utf8)
        let common = ["--base-url", "http://127.0.0.1:9/v1", "--model", "m", "--no-progress", "--retries", "0"]
        let same = try runMoonlab(["generate", "--data", prompts, "--out", dir + "/./p.jsonl"] + common)
        XCTAssertEqual(same.status, 1)
        XCTAssertTrue(same.stderr.contains("is the --data file"), same.stderr)
        XCTAssertEqual(try String(contentsOfFile: prompts, encoding: .utf8), text)
        let missing = try runMoonlab(["generate", "--data", dir + "/nope.jsonl", "--out", kept] + common)
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("--data \(dir)/nope.jsonl"), missing.stderr)
        XCTAssertEqual(try String(contentsOfFile: kept, encoding: .utf8), text)
    }


    /// `--seed N` takes a negative N as written (random.new takes any 64-bit seed): `--seed -5`
    /// was "Missing value for '--seed'", only `--seed=-5` worked.
    func testANegativeSeedIsTakenAfterASpace() throws {
        let code = "math.random(1000), random.default:uniform()"
        let eq = try runMoonlab(["--no-plugins", "--seed=-5", "-e", code])
        XCTAssertEqual(eq.status, 0, eq.stderr)
        let spaced = try runMoonlab(["--no-plugins", "--seed", "-5", "-e", code])
        XCTAssertEqual(spaced.status, 0, spaced.stderr)
        XCTAssertEqual(spaced.stdout, eq.stdout)
        XCTAssertNotEqual(try runMoonlab(["--no-plugins", "-e", code]).stdout, eq.stdout)
        let script = dir + "/s.lua"
        try "print(math.random(1000), random.default:uniform())\n".write(toFile: script, atomically: true, encoding: .utf8)
        XCTAssertEqual(try runMoonlab(["--no-plugins", "run", "--seed", "-5", script]).stdout, eq.stdout)
    }


    /// A failed entry's replay compares what it printed before the error, not the error alone:
    /// `print(v); error(...)` whose printed value changed replayed with "no divergence".
    func testReplayComparesWhatAFailedEntryPrinted() throws {
        let path = dir + "/failed.jsonl"
        let t = try PseudoTerminal(arguments: ["--no-plugins", "--record", path],
                                   environment: ["HOME": dir, "NO_COLOR": "1", "MOONLAB_INIT": "moonlab.prompt = 'P> '"])
        XCTAssertTrue(t.expect("P> "), t.transcript)
        t.send("print(6 * 7); error('stop')\r")
        XCTAssertTrue(t.expect("P> "), t.transcript)
        t.send("\u{4}")
        XCTAssertEqual(t.waitForExit(), 0)
        XCTAssertEqual(try runMoonlab(["--no-plugins", "replay", path]).status, 0)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertTrue(text.contains("\"output\":\"42\\n\""), text)
        try text.replacingOccurrences(of: "\"output\":\"42\\n\"", with: "\"output\":\"41\\n\"")
            .write(toFile: path, atomically: true, encoding: .utf8)
        let r = try runMoonlab(["--no-plugins", "replay", path])
        XCTAssertEqual(r.status, 1, r.stdout + r.stderr)
        XCTAssertTrue(r.stderr.contains("expected: 41"), r.stderr)
    }


    /// The user's plugin folder follows `$XDG_DATA_HOME` (default `~/.local/share`), as the
    /// session recordings beside it do; it was always `$HOME/.local/share/moonlab/plugins`.
    func testUserPluginsFollowXDGDataHome() throws {
        let plugin = dir + "/data/moonlab/plugins/mine"
        try FileManager.default.createDirectory(atPath: plugin, withIntermediateDirectories: true)
        try """
            return { name = "mine", version = "1.0.0", description = "m", requires = { moonlab = ">=0.1" },
                     provides = { rewards = {"miner"} } }
            """.write(toFile: plugin + "/plugin.lua", atomically: true, encoding: .utf8)
        try "reward.define('miner', function(s) return 1 end)\n".write(toFile: plugin + "/init.lua", atomically: true, encoding: .utf8)
        let r = try runMoonlab(["plugins"], environment: ["XDG_DATA_HOME": dir + "/data", "HOME": dir + "/home"], directory: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("mine 1.0.0  loaded  \(plugin) (user)"), r.stdout)
    }


    /// A session recorded under `--sandbox` says so in its header and replays sandboxed (it
    /// diverged at `type(io)` unless the replay was given `--sandbox` again); the export's
    /// command line says `--sandbox` too.
    func testASandboxedSessionReplaysSandboxed() throws {
        let path = dir + "/sandboxed.jsonl"
        let t = try PseudoTerminal(arguments: ["--no-plugins", "--sandbox", "--record", path],
                                   environment: ["HOME": dir, "NO_COLOR": "1", "MOONLAB_INIT": "moonlab.prompt = 'P> '"])
        XCTAssertTrue(t.expect("P> "), t.transcript)
        t.send("type(io), type(os.execute)\r")
        XCTAssertTrue(t.expect("P> "), t.transcript)
        t.send("\u{4}")
        XCTAssertEqual(t.waitForExit(), 0)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertTrue(text.split(separator: "\n")[0].contains("\"sandbox\":true"), text)
        let r = try runMoonlab(["--no-plugins", "replay", path])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(try runMoonlab(["replay", "--export", path]).stdout.contains("moonlab run --sandbox --seed 0"))
    }


    /// A replay loads the plugins the session's header names and no others: a session
    /// recorded with `--no-plugins` (or before a plugin was installed) replays to the same
    /// `reward.list()` though the bundled plugins are found (it diverged: 4 rewards, then 8).
    func testAReplayLoadsOnlyTheSessionsPlugins() throws {
        let path = dir + "/bare.jsonl"
        let t = try PseudoTerminal(arguments: ["--no-plugins", "--record", path],
                                   environment: ["HOME": dir, "NO_COLOR": "1", "MOONLAB_INIT": "moonlab.prompt = 'P> '"])
        XCTAssertTrue(t.expect("P> "), t.transcript)
        t.send("table.concat(reward.list(), ' ')\r")
        XCTAssertTrue(t.expect("P> "), t.transcript)
        t.send("\u{4}")
        XCTAssertEqual(t.waitForExit(), 0)
        XCTAssertFalse(try runMoonlab(["-e", "table.concat(reward.list(), ' ')"]).stdout
                        == (try runMoonlab(["--no-plugins", "-e", "table.concat(reward.list(), ' ')"]).stdout),
                       "the bundled plugins add rewards")
        let r = try runMoonlab(["replay", path])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    }


    /// `--record FILE` records a prompt session; with `-e` or piped input it was accepted and
    /// did nothing, without a word. It now says so (and the command still runs).
    func testRecordWithoutAPromptSaysItRecordsNothing() throws {
        let path = dir + "/never.jsonl"
        let e = try runMoonlab(["--no-plugins", "--record", path, "-e", "1 + 1"])
        XCTAssertEqual(e.status, 0, e.stderr)
        XCTAssertEqual(e.stdout, "2\n")
        XCTAssertTrue(e.stderr.contains("--record \(path): nothing is recorded with -e"), e.stderr)
        let piped = try runMoonlab(["--no-plugins", "--record", path], stdin: "print(3)\n")
        XCTAssertEqual(piped.stdout, "3\n")
        XCTAssertTrue(piped.stderr.contains("nothing is recorded with standard input that is not a terminal"), piped.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
        XCTAssertEqual(try runMoonlab(["--no-plugins", "-e", "1"]).stderr, "")
    }

}

private func quoteLua(_ s: String) -> String {
    "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
}
