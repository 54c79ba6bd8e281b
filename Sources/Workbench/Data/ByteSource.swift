#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CZlib

/// libc's `read` and `close`, named apart from the methods that wrap them.
func sysRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int { read(fd, buffer, count) }
func sysClose(_ fd: Int32) { _ = close(fd) }

/// An error reading or writing a data file; `message` is ready to show after the
/// function's name ("data.jsonl: /x.jsonl: no such file").
public struct DataFileError: Error, CustomStringConvertible {
    public var message: String
    /// The error is about one record (a malformed line): the cursor that threw it has
    /// moved past that record and can go on.
    public var row = false
    public init(_ message: String, row: Bool = false) {
        self.message = message
        self.row = row
    }
    public var description: String { message }
}

/// The bytes of a file, read in chunks with `read(2)`: plain, or gzip (detected by its
/// magic bytes `1f 8b`, whatever the file is called) inflated by zlib as a stream, every
/// member of a multi-member file in turn. Nothing is held beyond one compressed chunk.
public final class ByteSource {
    /// The path, as error messages show it.
    public let path: String
    /// Whether the file is gzip-compressed.
    public let isGzip: Bool
    /// The file's size in bytes when it was opened (what a plain file yields).
    public let fileSize: Int
    private var fd: Int32
    private var inflater: Inflater?

    /// Opens `path` for reading. Throws `DataFileError` naming the path and the reason.
    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY)
        self.fd = fd
        guard fd >= 0 else { throw DataFileError("\(path): \(String(cString: strerror(errno)))") }
        var st = stat()
        let statted = fstat(fd, &st) == 0
        if statted, (st.st_mode & S_IFMT) == S_IFDIR {
            sysClose(fd)
            throw DataFileError("\(path): is a directory")
        }
        fileSize = statted ? Int(st.st_size) : 0
        var magic: (UInt8, UInt8) = (0, 0)
        let n = withUnsafeMutableBytes(of: &magic) { pread(fd, $0.baseAddress, 2, 0) }
        isGzip = n == 2 && magic.0 == 0x1f && magic.1 == 0x8b
        if isGzip { inflater = try Inflater(path: path) }
    }

    deinit { close() }

    /// Closes the file (idempotent); later reads return 0.
    public func close() {
        if fd >= 0 { sysClose(fd); fd = -1 }
        inflater = nil
    }

    /// Reads up to `capacity` bytes into `buffer`; returns how many, 0 at the end.
    public func read(into buffer: UnsafeMutablePointer<UInt8>, capacity: Int) throws -> Int {
        guard fd >= 0 else { return 0 }
        if let inflater { return try inflater.read(fd: fd, into: buffer, capacity: capacity) }
        while true {
            let n = sysRead(fd, buffer, capacity)
            if n >= 0 { return n }
            if errno != EINTR { throw DataFileError("\(path): \(String(cString: strerror(errno)))") }
        }
    }

    /// Reads the whole file (decompressed) into memory: for `data.json`, never for streams.
    public func readAll() throws -> [UInt8] {
        var out: [UInt8] = []
        let chunk = 1 << 20
        var buf = [UInt8](repeating: 0, count: chunk)
        while true {
            let n = try buf.withUnsafeMutableBufferPointer { b -> Int in
                guard let base = b.baseAddress else { return 0 }
                return try read(into: base, capacity: chunk)
            }
            if n == 0 { return out }
            out.append(contentsOf: buf[0..<n])
        }
    }
}

/// zlib's streaming inflate over a file descriptor, gzip headers, members one after another.
private final class Inflater {
    private var stream = z_stream()
    private let input: UnsafeMutablePointer<UInt8>
    private let inputCapacity = 256 * 1024
    private var inputEnded = false
    private var memberEnded = false
    private let path: String

    init(path: String) throws {
        self.path = path
        input = .allocate(capacity: inputCapacity)
        // 15 + 16: gzip header and trailer only (a zlib stream is not a .gz file).
        let rc = inflateInit2_(&stream, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else {
            input.deallocate()
            throw DataFileError("\(path): zlib could not start (\(rc))")
        }
    }

    deinit {
        inflateEnd(&stream)
        input.deallocate()
    }

    private func refill(fd: Int32) throws {
        guard !inputEnded else { return }
        while true {
            let n = sysRead(fd, input, inputCapacity)
            if n > 0 { stream.next_in = input; stream.avail_in = UInt32(n); return }
            if n == 0 { inputEnded = true; return }
            if errno != EINTR { throw DataFileError("\(path): \(String(cString: strerror(errno)))") }
        }
    }

    func read(fd: Int32, into buffer: UnsafeMutablePointer<UInt8>, capacity: Int) throws -> Int {
        stream.next_out = buffer
        stream.avail_out = UInt32(min(capacity, Int(UInt32.max)))
        while stream.avail_out > 0 {
            if memberEnded {
                // Another member follows only if more bytes start with the gzip magic.
                if stream.avail_in == 0 { try refill(fd: fd) }
                if stream.avail_in == 0 { break }
                if stream.avail_in < 2 { break }  // trailing byte: ignored, as gzip does
                guard let p = stream.next_in, p[0] == 0x1f, p[1] == 0x8b else { break }
                inflateReset(&stream)
                memberEnded = false
            }
            if stream.avail_in == 0 { try refill(fd: fd) }
            if stream.avail_in == 0 {
                throw DataFileError("\(path): truncated gzip stream (the file ends inside a compressed member)")
            }
            let rc = CZlib.inflate(&stream, Z_NO_FLUSH)
            switch rc {
            case Z_OK, Z_BUF_ERROR: continue
            case Z_STREAM_END: memberEnded = true
            default:
                let why = stream.msg.map { String(cString: $0) } ?? "error \(rc)"
                throw DataFileError("\(path): corrupt gzip data (\(why))")
            }
        }
        return capacity - Int(stream.avail_out)
    }
}
