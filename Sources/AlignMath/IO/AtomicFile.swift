#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file written under a temporary name beside its destination and renamed into place
/// when complete, so a reader never sees half a file and a failed save leaves the old one.
/// Bytes go straight from the caller's buffers to `write(2)` (a tensor's memory is never
/// copied into an intermediate array).
final class AtomicFile {
    let path: String
    private let temporary: String
    private let fd: Int32
    /// Bytes written so far (the offset of the next byte).
    private(set) var position = 0

    init(path: String) throws {
        self.path = path
        temporary = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw AlignMathError.invalidArgument("\(path): cannot write (\(String(cString: strerror(errno))))")
        }
    }

    /// Appends `count` bytes at `p`.
    func write(_ p: UnsafeRawPointer, _ count: Int) throws {
        var done = 0
        while done < count {
            let r = Glibc.write(fd, p + done, Swift.min(count - done, 1 << 30))
            if r < 0 {
                if errno == EINTR { continue }
                throw fail()
            }
            done += r
        }
        position += count
    }

    /// Overwrites bytes already written, at `offset` (a header patched once sizes are known).
    func patch(at offset: Int, _ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { b in
            var done = 0
            while done < b.count {
                let r = pwrite(fd, b.baseAddress.unsafelyUnwrapped + done, b.count - done, off_t(offset + done))
                if r < 0 {
                    if errno == EINTR { continue }
                    throw fail()
                }
                done += r
            }
        }
    }

    /// Appends the bytes of `a`.
    func write(_ a: [UInt8]) throws {
        try a.withUnsafeBytes { b in if let p = b.baseAddress { try write(p, b.count) } }
    }

    /// Closes the file and renames it to `path`.
    func commit() throws {
        guard close(fd) == 0 else { let e = fail(); unlink(temporary); throw e }
        guard rename(temporary, path) == 0 else { let e = fail(); unlink(temporary); throw e }
    }

    /// Closes and removes the temporary file (after an error).
    func abandon() {
        close(fd)
        unlink(temporary)
    }

    private func fail() -> AlignMathError {
        .invalidArgument("\(path): cannot write (\(String(cString: strerror(errno))))")
    }

    /// Writes a file whose content `body` appends, atomically; removes the temporary file
    /// if `body` throws.
    static func write(path: String, _ body: (AtomicFile) throws -> Void) throws {
        let f = try AtomicFile(path: path)
        do { try body(f) } catch { f.abandon(); throw error }
        try f.commit()
    }
}
