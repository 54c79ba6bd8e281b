#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Workbench

/// libc's `write`, named apart from the method that wraps it.
private func sysWrite(_ fd: Int32, _ p: UnsafeRawPointer?, _ n: Int) -> Int { write(fd, p, n) }

/// Where `moonlab score` writes: a file (created, truncated, or, with `--resume`, cut back
/// to its last complete line and appended to) or standard output. Each chunk goes out in
/// one `write(2)` loop, straight to the kernel, so after a chunk returns the lines are in
/// the file whatever happens to the process next.
final class ScoreOutput {
    let path: String?
    private var fd: Int32
    /// Complete lines the file already held (with `resume`), which the run skips.
    private(set) var existingLines = 0

    /// Opens `path` (nil: standard output). With `resume`, counts the complete lines already
    /// there, hands each to `existing` (the summary counts them) and truncates a partial
    /// last line (a run killed mid-write).
    init(path: String?, resume: Bool, existing: ([UInt8]) -> Void = { _ in }) throws {
        self.path = path
        guard let path else { fd = 1; return }
        fd = open(path, O_RDWR | O_CREAT | (resume ? 0 : O_TRUNC), 0o644)
        guard fd >= 0 else { throw ScoreUsageError("--out \(path): \(String(cString: strerror(errno)))") }
        if resume {
            let (lines, end) = try countLines(existing)
            existingLines = lines
            guard ftruncate(fd, off_t(end)) == 0, lseek(fd, off_t(end), SEEK_SET) >= 0 else {
                throw ScoreUsageError("--out \(path): \(String(cString: strerror(errno)))")
            }
        }
    }

    deinit { if fd > 2 { close(fd) } }

    /// Newline-terminated lines in the file (each handed to `body`) and the offset just
    /// after the last newline.
    private func countLines(_ body: ([UInt8]) -> Void) throws -> (Int, Int) {
        var lines = 0, offset = 0, end = 0
        var buf = [UInt8](repeating: 0, count: 1 << 20)
        var pending: [UInt8] = []  // the start of a line that continues in the next read
        while true {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ScoreUsageError("--out \(path ?? "-"): \(String(cString: strerror(errno)))")
            }
            if n == 0 { return (lines, end) }
            var start = 0
            for i in 0..<n where buf[i] == 10 {
                lines += 1
                end = offset + i + 1
                if pending.isEmpty { body(Array(buf[start..<i])) } else { body(pending + buf[start..<i]); pending = [] }
                start = i + 1
            }
            pending += buf[start..<n]
            offset += n
        }
    }

    /// Writes all of `bytes`. Throws when the disk is full or the file went away.
    func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { b in
            var done = 0
            while done < b.count {
                let n = sysWrite(fd, b.baseAddress.map { $0 + done }, b.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw ScoreUsageError("\(path ?? "standard output"): \(String(cString: strerror(errno)))")
                }
                done += n
            }
        }
    }

    /// Whether `a` and `b` are the same file (so `--out` would overwrite `--data`).
    static func sameFile(_ a: String, _ b: String) -> Bool {
        var sa = stat(), sb = stat()
        guard stat(a, &sa) == 0, stat(b, &sb) == 0 else { return false }
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
    }
}

/// SIGINT and SIGTERM during `moonlab score`: the first asks the run to stop after the
/// chunk being scored (so the output ends on a whole line and `--resume` continues); a
/// second Ctrl-C quits at once (the output may then end in a partial line, which `--resume`
/// cuts away). Lua code in the workers is not interrupted: the interrupt flag that the
/// prompt uses stays down.
// @unchecked Sendable: `requested` is read and written under `lock`; `sources` is filled by
// `install`, once, on the command's thread before any signal is handled.
final class ScoreStopSignal: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []
    private let lock = NSLock()
    private var requested = 0

    /// Whether a stop was asked for.
    var isRequested: Bool {
        lock.lock()
        defer { lock.unlock() }
        return requested > 0
    }

    func install() {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler { [weak self] in self?.received() }
            s.resume()
            sources.append(s)
        }
    }

    private func received() {
        lock.lock()
        requested += 1
        let n = requested
        lock.unlock()
        if n == 1 {
            Platform.writeStderr("\nmoonlab score: stopping after this chunk (Ctrl-C again to quit now)\n")
        } else {
            Platform.writeStderr("\nmoonlab score: quit; run again with --resume to continue\n")
            _exit(130)
        }
    }
}
