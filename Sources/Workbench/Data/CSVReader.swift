/// A CSV syntax error at a record's first line.
public struct CSVSyntaxError: Error, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Records of an RFC 4180 CSV file (plain or gzip), streamed through a 1 MB chunk: quoted
/// fields may hold separators, doubled quotes (`""` is one `"`) and line breaks; CRLF, LF
/// or lone CR line ends (old Mac Excel; Python's `csv` with newline='' ends a record at each
/// of the three, and so does this reader); a UTF-8 BOM at the start is dropped; blank lines are skipped. Like
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
    private var lastOfPreviousChunk: UInt8 = 0
    private var pendingLF = false  // a CR ended the last line: an LF right after it is the same line end
    private var record: [UInt8] = []
    private var bounds: [Int] = []  // field i is record[bounds[2i] ..< bounds[2i+1]]

    /// Opens `path`; `separator` is a single byte such as `,`, `;` or a tab.
    public init(path: String, separator: UInt8 = UInt8(ascii: ","), chunkSize: Int = 1 << 20) throws {
        source = try ByteSource(path: path)
        self.separator = separator
        // A plain file smaller than a chunk gets a chunk of its size: the chunk is zero-filled,
        // so resident at once, and Lua's collector does not see it (fuzzing 221 small CSV files
        // held ~480 MB until it ran). A longer file (or one grown since) is read in more chunks.
        let size = source.isGzip ? chunkSize : Swift.min(chunkSize, Swift.max(source.fileSize, 0) + 1)
        chunk = [UInt8](repeating: 0, count: Swift.max(size, 16))
    }

    /// The path, as error messages show it.
    public var path: String { source.path }

    /// Bytes held for reading (tests).
    var chunkBytes: Int { chunk.count }

    /// Number of fields of the record last read.
    public var fieldCount: Int { bounds.count / 2 }

    /// The bytes of field `i` of the record last read (unquoted, `""` made `"`).
    public func field(_ i: Int) -> UnsafeRawBufferPointer {
        record.withUnsafeBytes { UnsafeRawBufferPointer(rebasing: $0[bounds[2 * i]..<bounds[2 * i + 1]]) }
    }

    /// A field's bytes as a Swift array (for header names).
    public func fieldBytes(_ i: Int) -> [UInt8] { Array(record[bounds[2 * i]..<bounds[2 * i + 1]]) }

    /// Closes the file; `nextRecord()` then returns false.
    public func close() { source.close(); atEOF = true; pos = 0; len = 0; chunk = [] }

    /// Makes `pos < len` by reading the next chunk; false at the end of the file. Drops a
    /// UTF-8 byte-order mark at the very beginning.
    private func fill() throws -> Bool {
        while pos == len {
            if atEOF { return false }
            if len > 0 { lastOfPreviousChunk = chunk[len - 1] }
            let n = try chunk.withUnsafeMutableBufferPointer { b -> Int in
                guard let base = b.baseAddress else { return 0 }
                return try source.read(into: base, capacity: b.count)
            }
            if n == 0 { atEOF = true; chunk = []; return false }  // the chunk is not needed again
            pos = 0; len = n
            if atBeginning {
                atBeginning = false
                if n >= 3, chunk[0] == 0xEF, chunk[1] == 0xBB, chunk[2] == 0xBF { pos = 3 }
            }
        }
        return true
    }

    private enum Where { case fieldStart, unquoted, quoted, quoteInQuoted }

    /// Reads the next record; false at the end of the file. Throws `CSVSyntaxError` for a
    /// quoted field left open at the end.
    ///
    /// The bytes between two bytes that matter (the separator, a quote, CR, LF) are found by
    /// a scan of the chunk and copied into the record as one run, not byte by byte.
    public func nextRecord() throws -> Bool {
        record.removeAll(keepingCapacity: true)
        bounds.removeAll(keepingCapacity: true)
        var state = Where.fieldStart
        var fieldStart = 0
        lineNumber = physicalLine
        func endField() { bounds.append(fieldStart); bounds.append(record.count); fieldStart = record.count }
        let sep = separator, quote = UInt8(ascii: "\"")
        while try fill() {
            if pendingLF {
                pendingLF = false
                if chunk[pos] == 10 { pos += 1; continue }
            }
            // the run of ordinary bytes from pos: in a quoted field only a quote ends it (line
            // breaks are kept, and counted); elsewhere the separator, a quote, CR or LF
            let runEnd: Int = chunk.withUnsafeBufferPointer { b in
                var j = pos
                if state == .quoted {
                    while j < len && b[j] != quote {
                        // LF, CRLF and a lone CR each count one line, as Python's csv counts them
                        let c = b[j]
                        if c == 13 || (c == 10 && (j > 0 ? b[j - 1] : lastOfPreviousChunk) != 13) { physicalLine += 1 }
                        j += 1
                    }
                } else if state == .unquoted || state == .fieldStart {
                    while j < len {
                        let c = b[j]
                        if c == sep || c == 10 || c == 13 || (c == quote && state == .fieldStart) { break }
                        if c == quote { j += 1; continue }  // a quote inside an unquoted field is text
                        j += 1
                    }
                }
                return j
            }
            if runEnd > pos {
                record.append(contentsOf: chunk[pos..<runEnd])
                if state == .fieldStart { state = .unquoted }
                pos = runEnd
                continue
            }
            let c = chunk[pos]
            pos += 1
            if c == 10 || c == 13 { physicalLine += 1 }  // a CR here is outside quotes
            switch state {
            case .quoted:
                state = .quoteInQuoted  // c is the quote
            case .fieldStart, .unquoted, .quoteInQuoted:
                if c == quote, state != .unquoted {
                    if state == .quoteInQuoted { record.append(c) }
                    state = .quoted
                } else if c == sep {
                    endField(); state = .fieldStart
                } else if c == 10 || c == 13 {
                    if c == 13 { pendingLF = true }
                    if state == .fieldStart, bounds.isEmpty, record.isEmpty { lineNumber = physicalLine; continue }
                    endField()
                    return true
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
