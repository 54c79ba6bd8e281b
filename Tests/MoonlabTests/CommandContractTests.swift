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
}
