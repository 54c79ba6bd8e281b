import XCTest
@testable import Workbench

/// The CSV scanner copies runs of ordinary bytes at once; a record, a quoted field, a
/// doubled quote or a CRLF split across two chunks must read as if the file were one chunk.
/// The expected records are Python's `csv.reader` on the same text (blank lines skipped, as
/// data.csv documents; the lenient cases:
/// a quote inside an unquoted field and text after a closing quote are kept as text).
final class CSVReaderChunkTests: XCTestCase {
    func testRecordsDoNotDependOnTheChunkSize() throws {
        let text = "\u{FEFF}id,text,score\r\n1,\"a, \"\"quoted\"\"\r\nline\",3.5\r\n\r\n2,plain \"mid\" quote,-1\n"
            + "3,\"closed\"after,7\n4,,\n" + String(repeating: "5,\"" + String(repeating: "x", count: 40) + "\",9\n", count: 20)
        let path = NSTemporaryDirectory() + "moonlab-csv-chunks-\(getpid()).csv"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        func read(_ chunk: Int) throws -> [[String]] {
            let r = try CSVReader(path: path, chunkSize: chunk)
            var out: [[String]] = []
            while try r.nextRecord() {
                out.append((0..<r.fieldCount).map { String(decoding: r.field($0), as: UTF8.self) })
            }
            return out
        }
        let whole = try read(1 << 20)
        // python3: list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")))
        XCTAssertEqual(Array(whole.prefix(5)), [["id", "text", "score"], ["1", "a, \"quoted\"\r\nline", "3.5"],
                                                ["2", "plain \"mid\" quote", "-1"], ["3", "closedafter", "7"], ["4", "", ""]])
        XCTAssertEqual(whole.count, 25)
        for chunk in [16, 17, 19, 23, 64] { XCTAssertEqual(try read(chunk), whole, "chunk \(chunk)") }
    }

    /// Issue 10 (fuzzing, csv): every reader zero-filled a 1 MB chunk, resident until Lua's
    /// collector (which does not see it) freed the dataset, so 221 small files read in a row
    /// held ~480 MB. A small plain file gets a chunk of its size; the chunk goes at its end.
    func testASmallFileHoldsASmallChunkAndNoneAfterItsEnd() throws {
        let path = NSTemporaryDirectory() + "moonlab-csv-small-\(getpid()).csv"
        try ("id,text\n" + String(repeating: "1,abcdefgh\n", count: 90)).write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = try CSVReader(path: path)
        XCTAssertEqual(r.chunkBytes, 8 + 90 * 11 + 1)
        var n = 0
        while try r.nextRecord() { n += 1 }
        XCTAssertEqual(n, 91)
        XCTAssertEqual(r.chunkBytes, 0)
        XCTAssertEqual(try CSVReader(path: path, chunkSize: 64).chunkBytes, 64)
    }
}

/// Lone CR line ends (Excel for Mac's "CSV" export): Python's `csv.reader` (the peer; a file
/// opened with newline='') ends a record at LF, CRLF and a lone CR alike. The reader dropped
/// a CR outside quotes, so a CR-only file was one record (an error, or silently glued
/// fields: "a\rb" read as "ab"), and line numbers counted LFs only.
final class CSVLineEndTests: XCTestCase {
    func testLoneCRAndMixedLineEndsEndRecordsAsPythonsCSV() throws {
        let text = "id,text\r1,\"in\rquotes\"\r2,b\r\n\r3,c\n\r\n4,\"x\"\r5,plain"
        let path = NSTemporaryDirectory() + "moonlab-csv-cr-\(getpid()).csv"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        for chunk in [1 << 20, 16, 17] {
            let r = try CSVReader(path: path, chunkSize: chunk)
            var rows: [[String]] = [], lines: [Int] = []
            while try r.nextRecord() {
                rows.append((0..<r.fieldCount).map { String(decoding: r.field($0), as: UTF8.self) })
                lines.append(r.lineNumber)
            }
            // python3: list(csv.reader(io.StringIO(text, newline=""))) without the [] rows
            XCTAssertEqual(rows, [["id", "text"], ["1", "in\rquotes"], ["2", "b"], ["3", "c"], ["4", "x"], ["5", "plain"]], "chunk \(chunk)")
            // python3: the first line of each record (line_num after the record before it, plus 1)
            XCTAssertEqual(lines, [1, 2, 4, 6, 8, 9], "chunk \(chunk)")
        }
    }
}
