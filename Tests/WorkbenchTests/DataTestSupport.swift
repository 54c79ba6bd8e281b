import Foundation
import XCTest
import TestSupport

/// Temporary files for the data tests, removed when the test case ends.
final class DataScratch {
    let dir: URL

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("moonlab-data-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: dir) }

    /// Writes bytes to a file in the scratch folder and returns its path.
    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let url = dir.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    /// Writes text (UTF-8, as given: no newline added).
    @discardableResult
    func write(_ name: String, text: String) throws -> String { try write(name, Array(text.utf8)) }

    /// Gzip-compresses bytes with the system gzip (one member).
    func gzip(_ bytes: [UInt8]) throws -> [UInt8] {
        let input = try write("gzip-input-\(UUID().uuidString)", bytes)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "gzip -c -n '\(input)'"]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let out = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        return Array(out)
    }

    /// The contents of a file in the scratch folder.
    func read(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path))) }
}

/// A Lua string literal of a path (long brackets, safe for any temp path).
func lua(_ path: String) -> String { "[==[\(path)]==]" }

/// An error message without the entry's position (`[3]:1: `), so tests need not count entries.
func withoutPosition(_ message: String?) -> String? {
    guard let m = message, m.hasPrefix("["), let r = m.range(of: "]:1: ") else { return message }
    return String(m[r.upperBound...])
}
