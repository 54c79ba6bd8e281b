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
        try writeAll(p, count)
        position += count
    }

    /// Appends `head` and then `count` bytes at `p` with one `writev` (a `.npy` header and
    /// its tensor's memory: one system call per tensor, no copy of either into the other).
    func write(_ head: [UInt8], then p: UnsafeRawPointer, _ count: Int) throws {
        let sent: Int = try head.withUnsafeBytes { h in
            var parts = [iovec(iov_base: UnsafeMutableRawPointer(mutating: h.baseAddress), iov_len: h.count),
                         iovec(iov_base: UnsafeMutableRawPointer(mutating: p), iov_len: Swift.min(count, 1 << 30))]
            while true {
                let r = writev(fd, &parts, 2)
                if r >= 0 { return r }
                if errno != EINTR { throw fail() }
            }
        }
        // What one call did not take (over 1 GiB, a short write) goes on with plain writes.
        if sent < head.count {
            try head.withUnsafeBytes { h in try writeAll(h.baseAddress.unsafelyUnwrapped + sent, h.count - sent) }
        }
        let done = Swift.max(0, sent - head.count)
        if done < count { try writeAll(p + done, count - done) }
        position += head.count + count
    }

    private func writeAll(_ p: UnsafeRawPointer, _ count: Int) throws {
        var done = 0
        while done < count {
            let r = Glibc.write(fd, p + done, Swift.min(count - done, 1 << 30))
            if r < 0 {
                if errno == EINTR { continue }
                throw fail()
            }
            done += r
        }
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

    /// Closes the file and puts it at `path`. Over an existing file the two names are
    /// exchanged atomically (`renameat2(RENAME_EXCHANGE)`) and the old file, now under the
    /// temporary name, is removed: a reader sees the old file or the new one, never neither.
    /// A plain `rename` over an existing file would do the same but makes ext4 start writing
    /// the new file back inside the call (its `auto_da_alloc` heuristic, for programs that
    /// skip fsync): 20-25 ms of an 80 MB save at load 10, which numpy's `np.save` (truncate
    /// in place) does not wait for either way. Durability after a power loss is not promised
    /// by either (no fsync, as numpy). Where exchange is not supported, plain `rename`.
    func commit() throws {
        guard close(fd) == 0 else { let e = fail(); unlink(temporary); throw e }
        #if os(Linux)
        var old = stat()
        let replacesFile = lstat(path, &old) == 0 && (old.st_mode & S_IFMT) != S_IFDIR  // a directory: rename's error
        if replacesFile && AtomicFile.exchange(temporary, path) {
            unlink(temporary)  // the old file's name now
            return
        }
        #endif
        guard rename(temporary, path) == 0 else { let e = fail(); unlink(temporary); throw e }
    }

    #if os(Linux)
    /// Swaps the files at `a` and `b` (both must exist); false when that cannot be done
    /// (no such file at `b`, a file system or C library without `renameat2`).
    private static func exchange(_ a: String, _ b: String) -> Bool {
        guard renameat2Address != 0 else { return false }
        typealias Renameat2 = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32
        let renameat2 = unsafeBitCast(renameat2Address, to: Renameat2.self)
        let atFDCWD: Int32 = -100, renameExchange: UInt32 = 2  // <fcntl.h>, <linux/fs.h>
        return a.withCString { pa in b.withCString { pb in renameat2(atFDCWD, pa, atFDCWD, pb, renameExchange) == 0 } }
    }

    /// glibc's `renameat2` (2.28 and later), looked up once: Swift's Glibc module does not
    /// show it, and `syscall` is variadic.
    private static let renameat2Address = Int(bitPattern: dlsym(nil, "renameat2"))
    #endif

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
