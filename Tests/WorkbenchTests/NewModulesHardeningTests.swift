import Foundation
import XCTest
import LuaKit
import Workbench
import TestSupport

/// Issue 10 for the modules that landed after the first crash hunt (`re`, `model`, `synth`):
/// Ctrl-C and the instruction budget reach long native work, sizes are bounded, and a
/// hostile input file ends with a reported problem, never a hang or a trap.
final class NewModulesHardeningTests: XCTestCase {
    override func tearDown() { LuaInterrupt.clear() }

    /// A subject on which `(\w+\s?)+$` backtracks about a million steps at each of its start
    /// positions: each position is under PCRE2's match limit, the sum takes minutes.
    private let backtracking = "s = (('a'):rep(20) .. '!'):rep(3000)"

    func testARegexSearchStopsOnCtrlC() throws {
        let h = try LuaHarness()
        try h.run(backtracking)
        for call in ["re.search('(\\\\w+\\\\s?)+$', s)", "re.findall('(\\\\w+\\\\s?)+$', s)", "re.sub('(\\\\w+\\\\s?)+$', '', s)"] {
            Thread.detachNewThread {
                Thread.sleep(forTimeInterval: 0.3)
                LuaInterrupt.raise()
            }
            let t0 = Date()
            let e = h.error(call)
            XCTAssertTrue(e?.hasSuffix("interrupted") ?? false, "\(call): expected an interruption, got \(e ?? "a result")")
            XCTAssertLessThan(Date().timeIntervalSince(t0), 10, call)
            LuaInterrupt.clear()
        }
        XCTAssertEqual(try h.value("re.search('b', ('a'):rep(100000) .. 'b'):span()"), "100001\t100001")
    }

    func testARegexSearchCountsAgainstTheInstructionBudget() throws {
        var o = WorkbenchOptions()
        o.instructionBudget = 1_000_000
        let h = try LuaHarness(options: o)
        try h.run(backtracking)
        let t0 = Date()
        let e = h.error("re.findall('(\\\\w+\\\\s?)+$', s .. s .. s .. s)")
        XCTAssertTrue(e?.contains("instruction budget exceeded") ?? false, e ?? "no error")
        XCTAssertLessThan(Date().timeIntervalSince(t0), 20)
    }

    func testRegexSizesAreBounded() throws {
        let h = try LuaHarness()
        XCTAssertTrue(h.error("re.compile(('a'):rep(5000000))")?.contains("re.compile: the pattern is 5000000 bytes long, at most 1048576 are accepted") ?? false)
        XCTAssertTrue(h.error("re.sub('', ('x'):rep(1000000), ('y'):rep(100000))")?.contains("re.sub: the result would be larger than") ?? false)
        // a byte pattern cannot turn itself into a UTF-8 one, and \C (one byte of a character) is refused
        XCTAssertTrue(h.error("re.compile('(*UTF)a')")?.contains("re.compile: bad pattern") ?? false)
        XCTAssertTrue(h.error("re.compile('\\\\Ca', {flags = 'u'})")?.contains("re.compile: bad pattern") ?? false)
        // what still works: a long subject, UTF-8 across the search windows
        XCTAssertEqual(try h.value("#re.findall('é', ('é'):rep(10000) .. 'x', {flags = 'u'})"), "10000")
        XCTAssertEqual(try h.value("re.search('(?<=é)x', ('é'):rep(10000) .. 'x', {flags = 'u'}):span()"), "20001\t20001")
    }

    func testRegexMatchesStopAtTheMemoryCeiling() throws {
        var o = WorkbenchOptions()
        o.memoryLimit = 64 << 20
        let h = try LuaHarness(options: o)
        // 40M matches would take a minute and 640 MB of list; the ceiling stops the loop at
        // about 64 MB (the message is the ceiling's own, raised as the call returns)
        let t0 = Date()
        let e = h.error("re.findall('', ('y'):rep(40000000))")
        XCTAssertTrue(e?.contains("not enough memory") ?? false, e ?? "no error")
        XCTAssertLessThan(Date().timeIntervalSince(t0), 15)
        XCTAssertEqual(try h.value("#re.findall('y', ('y'):rep(1000))"), "1000")
    }

    func testModelClientSettingsAreRangeChecked() throws {
        let h = try LuaHarness()
        let url = "base_url = 'http://127.0.0.1:9/v1'"
        for (option, expect) in [("timeout = 1/0", "option 'timeout' must be a number in [0.001, 86400.0]"),
                                 ("timeout = 1e308", "option 'timeout'"), ("timeout = 0/0", "option 'timeout'"),
                                 ("backoff = 1/0", "option 'backoff'"), ("retries = math.maxinteger", "option 'retries'"),
                                 ("concurrency = 2^40", "option 'concurrency'")] {
            let e = h.error("model.openai{\(url), \(option)}")
            XCTAssertTrue(e?.contains(expect) ?? false, "\(option): \(e ?? "no error")")
        }
        XCTAssertTrue(h.error("model.openai{\(url)}:complete('hi', {n = 2^40})")?.contains("option 'n' must be an integer in [1, 1000000]") ?? false)
    }

    /// A qna.yaml whose aliases stand for a billion values, and a FIFO named qna.yaml:
    /// each is one problem, quickly; the good leaf is still read.
    func testHostileTaxonomyFilesAreProblemsNotHangs() throws {
        let root = NSTemporaryDirectory() + "moonlab-taxonomy-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let fm = FileManager.default
        for d in ["compositional_skills/bomb", "compositional_skills/seeds", "compositional_skills/pipe"] {
            try fm.createDirectory(atPath: root + "/" + d, withIntermediateDirectories: true)
        }
        var bomb = ["version: 2", "task_description: x", "created_by: me", "a0: &a0 {question: q, answer: a}"]
        for i in 1..<10 { bomb.append("a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ",") + "]") }
        bomb.append("seed_examples: [" + Array(repeating: "*a9", count: 50).joined(separator: ",") + "]")
        try (bomb.joined(separator: "\n") + "\n").write(toFile: root + "/compositional_skills/bomb/qna.yaml", atomically: true, encoding: .utf8)
        let lol = ["version: 2", "task_description: x", "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
            + (1..<10).map { "a\($0): &a\($0) [" + Array(repeating: "*a\($0 - 1)", count: 10).joined(separator: ",") + "]" }
            + ["created_by: *a9"]
        try (lol.joined(separator: "\n") + "\n").write(toFile: root + "/compositional_skills/seeds/qna.yaml", atomically: true, encoding: .utf8)
        XCTAssertEqual(mkfifo(root + "/compositional_skills/pipe/qna.yaml", 0o644), 0)
        let h = try LuaHarness()
        let t0 = Date()
        try h.run("leaves, problems = synth.taxonomy(\(quoted(root)))")
        XCTAssertLessThan(Date().timeIntervalSince(t0), 10)
        XCTAssertEqual(try h.value("#problems"), "3")
        try h.run("""
            function has(text)
              for _, p in ipairs(problems) do
                for _, e in ipairs(p.errors) do if e.message:find(text, 1, true) then return true end end
              end
              return false
            end
            """)
        XCTAssertEqual(try h.value("has('not a regular file')"), "true")
        XCTAssertEqual(try h.value("has(\"is not of type 'string'\")"), "true")  // created_by: the billion lols, quoted cut short
        XCTAssertEqual(try h.value("has('more than 1000000 values')"), "false")  // errors stop at 100 first
    }

    /// What the crash probes found in the full run of 01:08 (81,055 probes): a slice from
    /// math.mininteger overflowed, a session recorded to "." or "/" trapped in Foundation's
    /// path code.
    func testCrashProbeFindings() throws {
        let h = try LuaHarness()
        try h.run("t = tensor{1, 2, 3, 4}")
        XCTAssertTrue(h.error("t:slice(math.mininteger)")?.contains("out of range") ?? false)
        XCTAssertTrue(h.error("t:slice(-2^63)")?.contains("out of range") ?? false)
        XCTAssertEqual(try h.value("t:slice(4, 1, math.mininteger):sum()"), "4.0")
        XCTAssertEqual(try h.value("t:slice(-1, 1, -1):sum()"), "10.0")
        for path in [".", "/", "..", ""] {
            XCTAssertTrue(h.error("session.record(\(quoted(path)))")?.contains("cannot write the session file") ?? false, path)
        }
        XCTAssertEqual(Platform.parentDirectory(of: "a/b/c.jsonl"), "a/b")
        XCTAssertEqual(Platform.parentDirectory(of: "/x"), "/")
        XCTAssertEqual(Platform.parentDirectory(of: "x"), "")
        XCTAssertEqual(Platform.lastComponent(of: "a/b/qna.yaml"), "qna.yaml")
    }
}
