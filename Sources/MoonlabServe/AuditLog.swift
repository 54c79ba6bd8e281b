#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Workbench

/// libc's `write`, named apart from the method that wraps it.
private func systemWrite(_ fd: Int32, _ p: UnsafeRawPointer?, _ n: Int) -> Int { write(fd, p, n) }

/// `--log F.jsonl`: every scored row as one JSON line, appended: the row's record (for
/// `/get_reward`: query, prompt, label, completion) with `request_id`, `row` (0-based),
/// `endpoint`, `step`, `version` (of the rewards, counting reloads) and `time`, then the
/// `rewards`, `flags`, `errors` and `error` fields `moonlab score` writes. So the file is
/// read by `data.jsonl`, and `moonlab score --data F.jsonl` scores it again. A request's
/// lines go out in one `write(2)`. SIGHUP reopens the path (`reopen`), as logrotate expects.
// @unchecked Sendable: `fd` is read and replaced under `lock` only.
final class AuditLog: @unchecked Sendable {
    private var fd: Int32
    private let lock = NSLock()
    let path: String

    init(path: String) throws {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        guard fd >= 0 else { throw ScoringPlan.Problem("--log \(path): \(String(cString: strerror(errno)))") }
    }

    deinit { close(fd) }

    /// Opens the path again (after logrotate moved the file, the lines go to a new one);
    /// on failure the old file is kept and the reason returned.
    func reopen() -> String? {
        let next = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        guard next >= 0 else { return "--log \(path): \(String(cString: strerror(errno)))" }
        lock.lock()
        let old = fd
        fd = next
        lock.unlock()
        close(old)
        return nil
    }

    /// Writes the rows of one request.
    func write(_ request: ScoredRequest, id: String, endpoint: String, version: ServingVersion) {
        var out: [UInt8] = []
        let time = ISO8601DateFormatter().string(from: Date())
        for (i, row) in request.rows.enumerated() {
            var record = i < request.records.count ? request.records[i] : Array("{}".utf8)
            // The request's facts go in before the record's closing brace.
            while let last = record.last, last != UInt8(ascii: "}") { record.removeLast() }
            guard !record.isEmpty else { continue }
            record.removeLast()
            if record.count > 1 { record.append(UInt8(ascii: ",")) }
            record += Array("\"request_id\":".utf8)
            ScoreJSON.appendString(id, to: &record)
            record += Array(",\"row\":\(i),\"endpoint\":".utf8)
            ScoreJSON.appendString(endpoint, to: &record)
            record += Array(",\"step\":".utf8)
            record += Array((request.step.map(String.init) ?? "null").utf8)
            record += Array(",\"version\":\(version.number),\"time\":\"\(time)\"}".utf8)
            record.withUnsafeBytes { ScoreJSON.append($0, row: row, keys: version.keys, lineNumber: i + 1, to: &out) }
            out.append(10)
        }
        // A body's strings are bytes to Lua, never checked as UTF-8: bytes that are not UTF-8
        // become U+FFFD here, so every JSON reader (Python's, jq) can read the log.
        if !out.allSatisfy({ $0 < 0x80 }), String(validating: out, as: UTF8.self) == nil {
            out = Array(String(decoding: out, as: UTF8.self).utf8)
        }
        lock.lock()
        defer { lock.unlock() }
        out.withUnsafeBytes { b in
            var done = 0
            while done < b.count {
                let n = systemWrite(fd, b.baseAddress.map { $0 + done }, b.count - done)
                if n < 0 { if errno == EINTR { continue }; return }
                done += n
            }
        }
    }
}
