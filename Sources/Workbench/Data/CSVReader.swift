/// A CSV syntax error at a record's first line.
public struct CSVSyntaxError: Error, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Records of an RFC 4180 CSV file (plain or gzip), streamed through a 1 MB chunk: quoted
/// fields may hold separators, doubled quotes (`""` is one `"`) and line breaks; CRLF or
/// LF line ends; a UTF-8 BOM at the start is dropped; blank lines are skipped. Like
/// Python's `csv` it is lenient about a quote inside an unquoted field or text after a
/// closing quote (kept as text). A quote still open at the end of the file is an error.
///
/// ```swift
/// let csv = try CSVReader(path: "TruthfulQA.csv")
/// while try csv.nextRecord() {
///     for i in 0..<csv.fieldCount { use(csv.field(i)) }   // valid until the next call
/// }
/// ```
public final class CSVReader {
    /// The file's bytes.
    public let source: ByteSource
    /// The separator byte (`,` by default).
    public let separator: UInt8
    /// The 1-based line on which the record last returned starts.
    public private(set) var lineNumber = 0
    private var chunk: [UInt8]
    private var pos = 0, len = 0
    private var atEOF = false, atBeginning = true
    private var physicalLine = 1
    private var record: [UInt8] = []
    private var bounds: [Int] = []  // field i is record[bounds[2i] ..< bounds[2i+1]]

    /// Opens `path`; `separator` is a single byte such as `,`, `;` or a tab.
    public init(path: String, separator: UInt8 = UInt8(ascii: ","), chunkSize: Int = 1 << 20) throws {
        source = try ByteSource(path: path)
        self.separator = separator
        chunk = [UInt8](repeating: 0, count: max(chunkSize, 16))
    }

    /// The path, as error messages show it.
    public var path: String { source.path }

    /// Number of fields of the record last read.
    public var fieldCount: Int { bounds.count / 2 }

    /// The bytes of field `i` of the record last read (unquoted, `""` made `"`).
    public func field(_ i: Int) -> UnsafeRawBufferPointer {
        record.withUnsafeBytes { UnsafeRawBufferPointer(rebasing: $0[bounds[2 * i]..<bounds[2 * i + 1]]) }
    }

    /// A field's bytes as a Swift array (for header names).
    public func fieldBytes(_ i: Int) -> [UInt8] { Array(record[bounds[2 * i]..<bounds[2 * i + 1]]) }

    /// Closes the file; `nextRecord()` then returns false.
    public func close() { source.close(); atEOF = true; pos = 0; len = 0 }

    private func nextByte() throws -> UInt8? {
        if pos == len {
            if atEOF { return nil }
            let n = try chunk.withUnsafeMutableBufferPointer { b -> Int in
                guard let base = b.baseAddress else { return 0 }
                return try source.read(into: base, capacity: b.count)
            }
            if n == 0 { atEOF = true; return nil }
            pos = 0; len = n
            if atBeginning {
                atBeginning = false
                if n >= 3, chunk[0] == 0xEF, chunk[1] == 0xBB, chunk[2] == 0xBF { pos = 3 }
                if pos == len { return try nextByte() }
            }
        }
        let c = chunk[pos]
        pos += 1
        return c
    }

    private enum Where { case fieldStart, unquoted, quoted, quoteInQuoted }

    /// Reads the next record; false at the end of the file. Throws `CSVSyntaxError` for a
    /// quoted field left open at the end.
    public func nextRecord() throws -> Bool {
        record.removeAll(keepingCapacity: true)
        bounds.removeAll(keepingCapacity: true)
        var state = Where.fieldStart
        var fieldStart = 0
        lineNumber = physicalLine
        func endField() { bounds.append(fieldStart); bounds.append(record.count); fieldStart = record.count }
        while let c = try nextByte() {
            if c == 10 { physicalLine += 1 }
            switch state {
            case .quoted:
                if c == UInt8(ascii: "\"") { state = .quoteInQuoted } else { record.append(c) }
            case .fieldStart, .unquoted, .quoteInQuoted:
                if c == UInt8(ascii: "\""), state != .unquoted {
                    if state == .quoteInQuoted { record.append(c) }
                    state = .quoted
                } else if c == separator {
                    endField(); state = .fieldStart
                } else if c == 10 {
                    if state == .fieldStart, bounds.isEmpty, record.isEmpty { lineNumber = physicalLine; continue }
                    endField()
                    return true
                } else if c == 13 {
                    continue
                } else {
                    record.append(c); state = .unquoted
                }
            }
        }
        if state == .quoted {
            throw CSVSyntaxError("\(path):\(lineNumber): unterminated quoted field (the file ends inside quotes)")
        }
        if state == .fieldStart, bounds.isEmpty, record.isEmpty { return false }
        endField()
        return true
    }
}
