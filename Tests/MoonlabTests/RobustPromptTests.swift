import XCTest
import Foundation

/// Issue 10 at a real terminal: Ctrl-C that no pcall loop swallows, a strict-mode `_G`,
/// and a finalizer that loops at exit.
final class RobustPromptTests: XCTestCase {
    var home = ""

    override func setUpWithError() throws {
        home = NSTemporaryDirectory() + "moonlab-robust-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: home) }

    func start(_ arguments: [String] = []) throws -> PseudoTerminal {
        let t = try PseudoTerminal(arguments: arguments,
                                   environment: ["HOME": home, "NO_COLOR": "1", "MOONLAB_INIT": "moonlab.prompt = 'P> '"])
        XCTAssertTrue(t.expect("P> "), t.transcript)
        return t
    }

    /// The README's promise: Ctrl-C stops running code even when it loops over pcalls.
    func testCtrlCStopsALoopOfPcalls() throws {
        let t = try start()
        t.send("kept = 7\r")
        XCTAssertTrue(t.expect("P> "))
        t.send("while true do pcall(function() while true do end end) end\r")
        usleep(400_000)
        t.send("\u{3}")
        XCTAssertTrue(t.expect("interrupted"), "a loop of pcalls must not swallow Ctrl-C: \(t.transcript)")
        XCTAssertTrue(t.expect("P> "), t.transcript)
        t.send("while true do local ok = pcall(error, 'x') end\r")
        usleep(300_000)
        t.send("\u{3}")
        XCTAssertTrue(t.expect("interrupted"), t.transcript)
        XCTAssertTrue(t.expect("P> "), t.transcript)
        t.send("kept\r")
        XCTAssertTrue(t.expect("7\r\n"), "the state is kept: \(t.transcript)")
        t.send(":quit\r")
        XCTAssertEqual(t.waitForExit(), 0)
    }

    /// strict.lua at the prompt: an undefined name is the user's error, never an abort of
    /// the host (which reads and sets globals such as `_` and the prompt settings).
    func testStrictGlobalsAtThePrompt() throws {
        let t = try start()
        t.send("setmetatable(_G, {__index = function(_, k) error('undefined ' .. k, 2) end})\r")
        XCTAssertTrue(t.expect("P> "), t.transcript)
        t.send("1 + 1\r")
        XCTAssertTrue(t.expect("2\r\n"), t.transcript)
        t.send("nosuch\r")
        XCTAssertTrue(t.expect("undefined nosuch"), t.transcript)
        t.send("reward.score(function(s) return #s.completion end, {{completion = 'abc'}})\r")
        XCTAssertTrue(t.expect("P> "), t.transcript)
        t.send("_\r")
        XCTAssertTrue(t.expect("P> "), t.transcript)
        t.send("6 * 7\r")
        XCTAssertTrue(t.expect("42"), "the prompt keeps working: \(t.transcript)")
        t.send(":quit\r")
        XCTAssertEqual(t.waitForExit(), 0)
    }

    /// A finalizer that never ends runs under the closing budget at exit; before the fix
    /// Ctrl-D left the process spinning.
    func testALoopingFinalizerDoesNotHangTheExit() throws {
        let t = try start()
        t.send("keep = setmetatable({}, {__gc = function() while true do end end})\r")
        XCTAssertTrue(t.expect("P> "), t.transcript)
        t.send("\u{4}")
        XCTAssertEqual(t.waitForExit(timeout: 60), 0, t.transcript)
    }
}
