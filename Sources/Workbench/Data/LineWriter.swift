#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CZlib

/// An output file written through a buffer: plain, or gzip when the path ends in `.gz`.
public final class LineWriter {
    /// The path, as error messages show it.
    public let path: String
    private var file: UnsafeMutablePointer<FILE>?
    private var gz: gzFile?

    /// Creates (or truncates) `path`. Throws `DataFileError` naming the path and reason.
    public init(path: String) throws {
        self.path = path
        if path.hasSuffix(".gz") {
            gz = gzopen(path, "wb")
            guard gz != nil else { throw DataFileError("\(path): \(String(cString: strerror(errno)))") }
            gzbuffer(gz, 1 << 18)
        } else {
            file = fopen(path, "wb")
            guard file != nil else { throw DataFileError("\(path): \(String(cString: strerror(errno)))") }
        }
    }

    deinit { try? close() }

    /// Writes bytes.
    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { b in
            guard let base = b.baseAddress, b.count > 0 else { return }
            if let gz {
                guard gzwrite(gz, base, UInt32(b.count)) == Int32(b.count) else { throw DataFileError("\(path): write failed") }
            } else if let file {
                guard fwrite(base, 1, b.count, file) == b.count else {
                    throw DataFileError("\(path): \(String(cString: strerror(errno)))")
                }
            }
        }
    }

    /// Flushes and closes (idempotent). Throws if the final flush fails (disk full).
    public func close() throws {
        if let gz {
            self.gz = nil
            guard gzclose(gz) == Z_OK else { throw DataFileError("\(path): write failed") }
        }
        if let file {
            self.file = nil
            guard fclose(file) == 0 else { throw DataFileError("\(path): \(String(cString: strerror(errno)))") }
        }
    }
}
