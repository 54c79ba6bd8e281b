import XCTest
import Foundation

/// The prompt driven through a pseudo-terminal, as lua's own testes/main.lua drives lua.c.
final class PromptTests: XCTestCase {
    var home = ""

    override func setUpWithError() throws {
        home = NSTemporaryDirectory() + "moonlab-prompt-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: home) }

    func start() throws -> PseudoTerminal {
        let t = try PseudoTerminal(environment: ["HOME": home, "NO_COLOR": "1",
                                                  "MOONLAB_INIT": "moonlab.prompt = 'P> ' moonlab.prompt2 = 'C> '"])
        XCTAssertTrue(t.expect("P> "), t.transcript)
        return t
    }

    func testAutoPrintMultiLineFunctionsAndErrors() throws {
        let t = try start()
        t.send("1 + 1\r")
        XCTAssertTrue(t.expect("2\r\n"), t.transcript)
        t.send("function f(x)\r")
        XCTAssertTrue(t.expect("C> "), t.transcript)
        t.send("return x * 2\r")
        XCTAssertTrue(t.expect("C> "), t.transcript)
        t.send("end\r")
        XCTAssertTrue(t.expect("P> "), t.transcript)
        t.send("f(21)\r")
        XCTAssertTrue(t.expect("42"), t.transcript)
        t.send("error('boom')\r")
        XCTAssertTrue(t.expect("boom"), t.transcript)
        t.send("f(1)\r")
        XCTAssertTrue(t.expect("2\r\n"), "state survives an error: \(t.transcript)")
        t.send("\u{4}")
        XCTAssertEqual(t.waitForExit(), 0)
    }

    func testCtrlCStopsRunningCodeEvenUnderPcallAndKeepsTheState() throws {
        let t = try start()
        t.send("kept = 7\r")
        XCTAssertTrue(t.expect("P> "))
        t.send("while true do end\r")
        usleep(300_000)
        t.send("\u{3}")
        XCTAssertTrue(t.expect("interrupted"), t.transcript)
        XCTAssertTrue(t.expect("P> "), t.transcript)
        t.send("pcall(function() while true do end end)\r")
        usleep(300_000)
        t.send("\u{3}")
        XCTAssertTrue(t.expect("interrupted"), "pcall must not swallow Ctrl-C: \(t.transcript)")
        t.send("half typed line\u{3}")
        XCTAssertTrue(t.expect("P> "), t.transcript)
        t.send("kept\r")
        XCTAssertTrue(t.expect("7\r\n"), t.transcript)
        t.send(":quit\r")
        XCTAssertEqual(t.waitForExit(), 0, "Ctrl-C never exits; :quit does")
    }

    func testCompletionOfModuleFieldsAndStringMethods() throws {
        let t = try start()
        // the screen shows libedit's redraw, so check what the completed line does
        t.send("string.fo\t")
        usleep(200_000)
        t.send("('%d', 5)\r")
        XCTAssertTrue(t.expect("5\r\n"), "string.fo<TAB> completes to string.format: \(t.transcript)")
        t.send("moonlab.print_w\t")
        usleep(200_000)
        t.send(" = 90\r")
        XCTAssertTrue(t.expect("P> "), t.transcript)
        t.send("moonlab.print_width\r")
        XCTAssertTrue(t.expect("90"), t.transcript)
        t.send("rl.ga\t")
        usleep(200_000)
        t.send("({1, 1}, {0, 0}, {lambda = 1})\r")
        XCTAssertTrue(t.expect("tensor(["), "rl.ga<TAB> completes to rl.gae: \(t.transcript)")
        t.send("x = tensor{1, 2}\r")
        XCTAssertTrue(t.expect("P> "))
        t.send("x:num\t")
        usleep(200_000)
        t.send("()\r")
        XCTAssertTrue(t.expect("2\r\n"), "x:num<TAB> completes to x:numel: \(t.transcript)")
        t.send("help.\t\t")  // a function has no fields: nothing happens, no crash
        t.send("\u{3}")
        XCTAssertTrue(t.expect("P> "), t.transcript)
    }

    func testTypeAheadBeforeThePromptIsKeptIncludingCtrlD() throws {
        let t = try PseudoTerminal(environment: ["HOME": home, "NO_COLOR": "1"])
        t.send("x = 41\rprint('typed ahead', x + 1)\r\u{4}")  // before moonlab has even started
        XCTAssertTrue(t.expect("typed ahead\t42"), t.transcript)
        XCTAssertEqual(t.waitForExit(), 0, "the Ctrl-D typed ahead ends the session: \(t.transcript)")
    }

    func testABracketedPasteRunsAsOneChunk() throws {
        let t = try start()
        // a terminal wraps pasted text in ESC[200~ ... ESC[201~, with newlines as CR
        t.send("\u{1b}[200~function pasted(a)\rlocal b = a + 1\rreturn b * 2\rend\rpasted_value = pasted(4)\r\u{1b}[201~")
        XCTAssertTrue(t.expect("P> "), t.transcript)
        t.send("pasted_value\r")
        XCTAssertTrue(t.expect("10\r\n"), t.transcript)
        XCTAssertFalse(t.transcript.contains("C> "), "a paste never asks for continuation lines: \(t.transcript)")
    }

    func testHistoryIsKeptAcrossRunsWithMultiLineEntriesAsOne() throws {
        do {
            let t = try start()
            t.send("function g()\r")
            XCTAssertTrue(t.expect("C> "))
            t.send("return 99 end\r")
            XCTAssertTrue(t.expect("P> "))
            t.send("history_marker = 1\r")
            XCTAssertTrue(t.expect("P> "))
            t.send("\u{4}")
            XCTAssertEqual(t.waitForExit(), 0)
        }
        let saved = try String(contentsOfFile: home + "/.moonlab_history", encoding: .utf8)
        XCTAssertTrue(saved.contains("history_marker"), saved)
        let t = try start()
        t.send("\u{1b}[A\u{1b}[A\r")  // up twice: the multi-line definition, as one entry
        XCTAssertTrue(t.expect("P> "), t.transcript)
        t.send("g()\r")
        XCTAssertTrue(t.expect("99"), t.transcript)
    }

    func testPipedStandardInputRunsAsAScript() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: PseudoTerminal.moonlabPath)
        let input = Pipe(), output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        try p.run()
        input.fileHandleForWriting.write("print(1 + 1)\n".data(using: .utf8) ?? Data())
        try input.fileHandleForWriting.close()
        p.waitUntilExit()
        XCTAssertEqual(String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self), "2\n")
        XCTAssertEqual(p.terminationStatus, 0)
    }
}
