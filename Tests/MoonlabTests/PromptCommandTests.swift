import XCTest
import Foundation

/// The prompt features IPython and Julia users reach for, through a pseudo-terminal:
/// `:time` with automatic repeat counts, `:whos`, `??fn`, `:edit`, `!cmd`, a last
/// expression after statements, and the warning when a built-in module is replaced.
final class PromptCommandTests: XCTestCase {
    var home = ""

    override func setUpWithError() throws {
        home = NSTemporaryDirectory() + "moonlab-commands-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: home) }

    func start(_ arguments: [String] = [], environment: [String: String] = [:]) throws -> PseudoTerminal {
        var env = ["HOME": home, "NO_COLOR": "1", "MOONLAB_INIT": "moonlab.prompt = 'P> ' moonlab.prompt2 = 'C> '"]
        for (k, v) in environment { env[k] = v }
        let t = try PseudoTerminal(arguments: ["--no-record"] + arguments, environment: env)
        XCTAssertTrue(t.expect("P> "), t.transcript)
        return t
    }

    func testLastExpressionAfterStatementsPrintsAndReplacingAModuleWarnsOnce() throws {
        let t = try start()
        t.send("x = 1; x + 1\r")
        XCTAssertTrue(t.expect("2\r\n"), t.transcript)
        t.send("function reward(s) return 1 end\r")
        XCTAssertTrue(t.expect("warning: 'reward' was moonlab's reward module and now holds a function; moonlab.restore(\"reward\") brings it back, :reset starts over"), t.transcript)
        XCTAssertTrue(t.expect("P> "))
        t.send("reward = 2\r")
        XCTAssertTrue(t.expect("P> "))
        t.send("moonlab.restore('reward').define\r")
        XCTAssertTrue(t.expect("<function reward.define>"), t.transcript)
        XCTAssertEqual(t.transcript.components(separatedBy: "warning:").count, 2, "warned once: \(t.transcript)")
    }

    func testTimeRunsStatementsAndExpressionsWithRepeatCounts() throws {
        let t = try start()
        t.send(":time -n 3 -r 2 n = (n or 0) + 1\r")
        XCTAssertTrue(t.expect(" per loop (mean ± std. dev. of 2 runs, 3 loops each)"), t.transcript)
        t.send("n\r")
        XCTAssertTrue(t.expect("6\r\n"), "statements run loops x runs times: \(t.transcript)")
        t.send(":time math.sqrt(2)\r")
        XCTAssertTrue(t.expect("runs, "), t.transcript)
        XCTAssertTrue(t.expect("0 loops each)"), "a fast expression gets a large automatic count: \(t.transcript)")
        t.send(":time error('in the loop')\r")
        XCTAssertTrue(t.expect("[2]:1: in the loop"), t.transcript)
        t.send(":time -n 0 1\r")
        XCTAssertTrue(t.expect(":time -n needs a whole number"), t.transcript)
        t.send(":time while true do end\r")
        usleep(300_000)
        t.send("\u{3}")
        XCTAssertTrue(t.expect("interrupted"), t.transcript)
        XCTAssertTrue(t.expect("P> "), t.transcript)
    }

    func testWhosListsUserGlobalsWithTypeAndShape() throws {
        let t = try start()
        t.send(":whos\r")
        XCTAssertTrue(t.expect("no variables of your own yet"), t.transcript)
        t.send("x = tensor{{1, 2, 3}, {4, 5, 6}}; name = 'moon'; n = 3; rows = {1, 2}; function f() end\r")
        XCTAssertTrue(t.expect("P> "))
        t.send(":whos\r")
        XCTAssertTrue(t.expect("Variable  Type      Data/Info\r\n"), t.transcript)
        XCTAssertTrue(t.expect("f         function  defined at [1]:1\r\n"), t.transcript)
        XCTAssertTrue(t.expect("n         number    3\r\n"), t.transcript)
        XCTAssertTrue(t.expect("name      string    4 bytes: \"moon\"\r\n"), t.transcript)
        XCTAssertTrue(t.expect("rows      table     2 items\r\n"), t.transcript)
        XCTAssertTrue(t.expect("x         tensor    f64 [2, 3]\r\n"), t.transcript)
        XCTAssertFalse(t.transcript.contains("reward "), "built-ins are not listed: \(t.transcript)")
    }

    func testDoubleQuestionMarkShowsTheSourceOfAFunction() throws {
        let t = try start()
        t.send("function clipped(x)\r")
        XCTAssertTrue(t.expect("C> "))
        t.send("  return math.min(x, 1)\r")
        XCTAssertTrue(t.expect("C> "))
        t.send("end\r")
        XCTAssertTrue(t.expect("P> "))
        t.send("??clipped\r")
        XCTAssertTrue(t.expect("function clipped(x)\r\n  return math.min(x, 1)\r\nend\r\n"), t.transcript)
        t.send("??rl.gae\r")
        XCTAssertTrue(t.expect("(native: no Lua source; its doc)"), t.transcript)
        XCTAssertTrue(t.expect("rl.gae(rewards, values"), t.transcript)
        t.send("??nothing_here\r")
        XCTAssertTrue(t.expect("??nothing_here: no such name"), t.transcript)
    }

    func testShellCommandRunsAndIsRefusedUnderSandbox() throws {
        do {
            let t = try start()
            t.send("!echo from-the-shell; exit 3\r")
            XCTAssertTrue(t.expect("from-the-shell\r\n(exit status 3)"), t.transcript)
            t.send("1 + 1\r")
            XCTAssertTrue(t.expect("2\r\n"), "the prompt goes on: \(t.transcript)")
        }
        let t = try start(["--sandbox"])
        t.send("!echo nope\r")
        XCTAssertTrue(t.expect("!cmd is not allowed under --sandbox"), t.transcript)
        t.send(":edit\r")
        XCTAssertTrue(t.expect(":edit is not allowed under --sandbox"), t.transcript)
    }

    func testEditRunsWhatTheEditorWrote() throws {
        // an "editor" that appends a line to the file it is given, as a person would type it
        let editor = home + "/editor.sh"
        try "#!/bin/sh\nprintf 'edited = 40 + 2\\n' >> \"$1\"\n".write(toFile: editor, atomically: true, encoding: .utf8)
        chmod(editor, 0o755)
        let t = try start(environment: ["EDITOR": editor])
        t.send(":edit\r")
        XCTAssertTrue(t.expect("edited = 40 + 2"), t.transcript)
        XCTAssertTrue(t.expect("P> "))
        t.send("edited\r")
        XCTAssertTrue(t.expect("42\r\n"), t.transcript)
        t.send("function twice(v) return 2 * v end\r")
        XCTAssertTrue(t.expect("P> "))
        t.send(":edit twice\r")  // the function's source, then the appended line, run together
        XCTAssertTrue(t.expect("P> "), t.transcript)
        t.send("twice(edited)\r")
        XCTAssertTrue(t.expect("84\r\n"), t.transcript)
        t.send(":edit no_such_thing\r")
        XCTAssertTrue(t.expect(":edit no_such_thing: no Lua function or file of that name"), t.transcript)
    }
}
