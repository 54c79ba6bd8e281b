#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import ModelClient

private func sysWrite(_ fd: Int32, _ p: UnsafeRawPointer?, _ n: Int) -> Int { write(fd, p, n) }

/// Where `moonlab generate` writes. Each group goes out in one `write(2)` loop; with
/// `--resume` the file is read back, and a group that a kill cut short (fewer than `n`
/// lines and no `error`, or a partial last line) is cut away, so it is asked again whole.
final class GenerateOutput {
    let path: String?
    private var fd: Int32 = 1
    /// Groups the file already holds whole (skipped by a resumed run).
    private(set) var doneGroups = Set<Int>()

    init(path: String?, resume: Bool, wanted: Int) throws {
        self.path = path
        guard let path else { return }
        fd = open(path, O_RDWR | O_CREAT | (resume ? 0 : O_TRUNC), 0o644)
        guard fd >= 0 else { throw GenerateError("--out \(path): \(String(cString: strerror(errno)))") }
        guard resume else { return }
        let keep = try scan(wanted: wanted)
        guard ftruncate(fd, off_t(keep)) == 0, lseek(fd, off_t(keep), SEEK_SET) >= 0 else {
            throw GenerateError("--out \(path): \(String(cString: strerror(errno)))")
        }
    }

    deinit { if fd > 2 { close(fd) } }

    /// Reads the existing lines; returns the offset to keep up to.
    private func scan(wanted: Int) throws -> Int {
        var bytes: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue }; throw GenerateError("--out \(path ?? ""): \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            bytes += buf[0..<n]
        }
        var offset = 0
        var current: (group: Int, start: Int, lines: Int, error: Bool)?
        var keep = 0
        func close(_ g: (group: Int, start: Int, lines: Int, error: Bool)) -> Bool {
            guard g.error || g.lines >= wanted else { return false }
            doneGroups.insert(g.group)
            return true
        }
        while let nl = bytes[offset...].firstIndex(of: 10) {
            let line = String(decoding: bytes[offset..<nl], as: UTF8.self)
            let v = JSONValue.parse(line)
            guard let group = v?["group"]?.intValue else { break }  // not ours: keep what came before
            if current?.group != group {
                if let c = current {
                    guard close(c) else { return c.start }
                }
                keep = offset
                current = (group, offset, 0, false)
            }
            current?.lines += 1
            if v?["error"] != nil { current?.error = true }
            offset = nl + 1
        }
        if let c = current { return close(c) ? offset : c.start }
        return keep
    }

    func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { b in
            var done = 0
            while done < b.count {
                let n = sysWrite(fd, b.baseAddress.map { $0 + done }, b.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw GenerateError("\(path ?? "standard output"): \(String(cString: strerror(errno)))")
                }
                done += n
            }
        }
    }
}
