import XCTest
import Foundation

/// `moonlab doctest`: the examples of Markdown files run and their output is compared
/// (Docs/writing-docs.md is the convention), so a doc that no longer matches fails.
final class DoctestTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "moonlab-doctest-test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func doctest(_ markdown: String) throws -> CommandResult {
        let path = dir + "/doc.md"
        try markdown.write(toFile: path, atomically: true, encoding: .utf8)
        return try runMoonlab(["doctest", path])
    }

    func testPromptBlocksShareOneStateAndOutputIsCompared() throws {
        let r = try doctest("""
            # A page
            ```lua
            > x = 20; x + 1
            21
            > function twice(v)
            >>   return 2 * v
            >> end
            > twice(x)
            40
            > print("a"); print("b")
            a
            b
            > {z = 1, y = {2, 3}}
            {y = {2, 3}, z = 1}
            ```
            Text between blocks.
            ```lua
            > twice(4)   -- the state goes on from block to block
            8
            > error("boom")
            [7]:1: boom
            > ?metrics.pass_at_k
            metrics.pass_at_k(n, c, k) -> ...
            ...
            > :time twice(1)
            ... per loop (mean ± std. dev. of ... runs, ... loops each)
            ```
            """)
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("doc.md: 9 examples, 0 blocks skipped: ok"), r.stdout)
    }

    func testAMismatchFailsNamingLineExpectedAndGot() throws {
        let r = try doctest("""
            ```lua
            > 1 + 1
            3
            > x = 1
            > x
            1
            > y = 2
            printed nothing
            ```
            """)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stdout.contains("doc.md:2: > 1 + 1\nexpected:\n    3\ngot:\n    2"), r.stdout)
        XCTAssertTrue(r.stdout.contains("doc.md:7: > y = 2\nexpected:\n    printed nothing\ngot:\n    (no output)"), r.stdout)
        XCTAssertTrue(r.stdout.contains("2 FAILED"), r.stdout)
    }

    func testEllipsisMatchesTextInALineAndWholeLines() throws {
        let ok = try doctest("""
            ```lua
            > for i = 1, 5 do print("line " .. i) end
            line 1
            ...
            line 5
            > "a path: /tmp/abc123/x.txt"
            a path: .../x.txt
            > "nothing between"
            nothing...between
            ```
            """)
        XCTAssertEqual(ok.status, 0, ok.stdout)
        let bad = try doctest("""
            ```lua
            > print("one\\ntwo")
            one
            ...
            three
            ```
            """)
        XCTAssertEqual(bad.status, 1, bad.stdout)
    }

    func testScriptsConsoleBlocksFilesAndSkips() throws {
        let r = try doctest("""
            A script runs in the page's state; its `-->` lines are its expected output:
            ```lua
            local n = 0
            for i = 1, 3 do n = n + i end
            shared = n
            print(n)   --> 6
            ```
            ```lua
            > shared
            6
            ```
            A file, then a shell session that uses it:
            ```lua file=greet.lua
            print("hello " .. (arg[1] or "?"))
            ```
            ```console
            $ moonlab run greet.lua moon
            hello moon
            $ echo 'print(1 + 1)' | moonlab
            2
            $ moonlab -e 'metrics.pass_at_k(10, 3, 1)' \\
                -e '1 + 1'
            0.3
            2
            ```
            ```lua skip: needs a model server
            > llm:complete("hi")
            ```
            ```sh
            Scripts/setup.sh      # shown, not run
            ```
            ```lua fresh
            > shared
            nil
            ```
            """)
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("doc.md: 6 examples, 1 blocks skipped: ok"), r.stdout)
    }

    func testBlocksThatLookRunnableMustRunOrSayWhyNot() throws {
        let r = try doctest("""
            ```
            > x = 1
            ```
            ```lua skip
            > y = 2
            ```
            ```lua
            print(undefined_name.field)
            ```
            """)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stdout.contains("doc.md:1: this ``` block shows prompt or shell lines (> x = 1)"), r.stdout)
        XCTAssertTrue(r.stdout.contains("doc.md:4: a skipped block must say why"), r.stdout)
        XCTAssertTrue(r.stdout.contains("doc.md:7: the script failed:\n    doc.md:8: attempt to index a nil value (global 'undefined_name')\n"), r.stdout)
    }

    func testAnExampleThatRunsForeverIsStopped() throws {
        let path = dir + "/loop.md"
        try "```lua\n> while true do end\n> 1 + 1\n2\n```\n".write(toFile: path, atomically: true, encoding: .utf8)
        let r = try runMoonlab(["doctest", "--timeout", "1", path])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stdout.contains("loop.md:2: stopped after 1 s:\n    > while true do end"), r.stdout)
        XCTAssertTrue(r.stdout.contains("1 FAILED"), "the next example still runs and passes: \(r.stdout)")
    }

    func testFixWritesWhatMoonlabPrintedAndLinksMustNameRepositoryFiles() throws {
        let path = dir + "/fix.md"
        try """
            - a list item with an indented example:

              ```lua
              > 1 + 1
              3
              > "kept"
              kept
              ```

            ```console
            $ echo one; echo two
            three
            ```
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let r = try runMoonlab(["doctest", "--fix", path])
        XCTAssertEqual(r.status, 1, "the run that fixes still reports the failures: \(r.stdout)")
        XCTAssertTrue(r.stdout.contains("wrote the output of 2 examples (--fix)"), r.stdout)
        let fixed = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertTrue(fixed.contains("  > 1 + 1\n  2\n  > \"kept\"\n  kept\n"), fixed)
        XCTAssertTrue(fixed.contains("$ echo one; echo two\none\ntwo\n```"), fixed)
        XCTAssertEqual(try runMoonlab(["doctest", path]).status, 0)

        try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: true)
        try "x".write(toFile: dir + "/sub/there.txt", atomically: true, encoding: .utf8)
        let links = try doctest("""
            See [there](sub/there.txt#part), [the web](https://example.org/x.md), [here](#links)
            and `[code](not/checked.md)`, but [gone](sub/missing.md) and
            ![a picture](pics/none.png).
            """)
        XCTAssertEqual(links.status, 1)
        XCTAssertTrue(links.stdout.contains("doc.md:2: the link sub/missing.md names no file"), links.stdout)
        XCTAssertTrue(links.stdout.contains("doc.md:3: the link pics/none.png names no file"), links.stdout)
        XCTAssertTrue(links.stdout.contains("2 FAILED"), links.stdout)
    }
}
