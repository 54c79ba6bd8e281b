#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The lines of a (possibly gzip-compressed) text file, read in 1 MB chunks and split in
/// place: each line is handed out as a pointer into the chunk, never copied, so a file of
/// any size streams through a fixed buffer (it grows only for a line longer than a chunk).
///
/// A UTF-8 byte order mark at the start is dropped, a trailing `\r` of each line too
/// (CRLF files), and lines holding only spaces and tabs are skipped. A last line without a
/// newline is returned like any other. This is the reader under `data.jsonl`, and the one
/// `moonlab score` and `reward.score` stream records with:
///
/// ```swift
/// let reader = try JSONLinesReader(path: "x.jsonl.gz")
/// while let line = try reader.nextLine() {
///     try decoder.push(line, into: state)   // or hand the bytes to a worker
///     _ = reader.lineNumber                 // 1-based line of `line`
/// }
/// ```
public final class JSONLinesReader {
    /// The file's bytes (plain or inflated).
    public let source: ByteSource
    /// The 1-based number of the line last returned by `nextLine()` (0 before the first).
    public private(set) var lineNumber = 0
    /// Whether the line last returned had no newline after it (the end of the file).
    public private(set) var lastLineUnterminated = false
    private var buffer: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private var start = 0, end = 0
    private var physicalLine = 0
    private var atEOF = false
    private var atBeginning = true

    /// Opens `path`. `chunkSize` is how much is read at a time (1 MB).
    public init(path: String, chunkSize: Int = 1 << 20) throws {
        source = try ByteSource(path: path)
        capacity = max(chunkSize, 16)
        buffer = .allocate(capacity: capacity)
    }

    deinit { buffer.deallocate() }

    /// The path, as error messages show it.
    public var path: String { source.path }

    /// Closes the file; `nextLine()` then returns nil.
    public func close() {
        source.close()
        atEOF = true
        start = 0; end = 0
    }

    /// The next non-blank line without its line end, or nil at the end of the file. The
    /// bytes stay valid until the next call. `lineNumber` is then its 1-based line.
    public func nextLine() throws -> UnsafeRawBufferPointer? {
        while true {
            guard let (s, e, terminated) = try nextRawLine() else { return nil }
            physicalLine += 1
            var lo = s, hi = e
            if hi > lo, buffer[hi - 1] == 13 { hi -= 1 }
            if atBeginning {
                atBeginning = false
                if hi - lo >= 3, buffer[lo] == 0xEF, buffer[lo + 1] == 0xBB, buffer[lo + 2] == 0xBF { lo += 3 }
            }
            var k = lo
            while k < hi, buffer[k] == 32 || buffer[k] == 9 { k += 1 }
            if k == hi { continue }
            lineNumber = physicalLine
            lastLineUnterminated = !terminated
            return UnsafeRawBufferPointer(start: buffer + lo, count: hi - lo)
        }
    }

    /// The bounds [s, e) of the next line in the buffer and whether a newline ended it.
    private func nextRawLine() throws -> (Int, Int, Bool)? {
        while true {
            if start < end, let nl = memchr(buffer + start, 10, end - start) {
                let e = buffer.distance(to: nl.assumingMemoryBound(to: UInt8.self))
                let s = start
                start = e + 1
                return (s, e, true)
            }
            if atEOF {
                guard start < end else { return nil }
                let s = start
                start = end
                return (s, end, false)
            }
            try fill()
        }
    }

    /// Moves the partial line to the front and reads more after it (growing the buffer
    /// when a single line fills it).
    private func fill() throws {
        if start > 0 {
            let rest = end - start
            if rest > 0 { memmove(buffer, buffer + start, rest) }
            start = 0; end = rest
        }
        if end == capacity {
            let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity * 2)
            bigger.update(from: buffer, count: end)
            buffer.deallocate()
            buffer = bigger
            capacity *= 2
        }
        let n = try source.read(into: buffer + end, capacity: capacity - end)
        if n == 0 { atEOF = true } else { end += n }
    }
}
