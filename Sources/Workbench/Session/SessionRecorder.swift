import Foundation

/// Writes a session as it happens: the header when it starts, then each entry as one
/// line, flushed at once.
public final class SessionRecorder {
    public let path: String
    private let file: UnsafeMutablePointer<FILE>
    private var n = 0

    /// Creates the file (and its folder) and writes the header.
    public init(path: String, header: SessionFormat.Header) throws {
        let dir = Platform.parentDirectory(of: path)
        if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        guard let f = fopen(path, "w") else { throw SessionError("cannot write the session file \(path)") }
        self.path = path
        file = f
        writeLine(SessionFormat.encode(header))
    }

    deinit { fclose(file) }

    /// Records one entry (numbered in order).
    public func record(input: String, evaluation e: Evaluation, clock: [Double], model: [String] = []) {
        n += 1
        var entry = SessionFormat.Entry(n: n, input: input, ok: e.status == .ok, output: e.output,
                                        error: e.error, ms: e.seconds * 1000, clock: clock)
        entry.model = model
        writeLine(SessionFormat.encode(entry))
    }

    /// Writes an entry as it is (for `replay --update`).
    public func write(entry: SessionFormat.Entry) {
        n = entry.n
        writeLine(SessionFormat.encode(entry))
    }

    private func writeLine(_ s: String) {
        var line = s + "\n"
        line.withUTF8 { buf in _ = fwrite(buf.baseAddress, 1, buf.count, file) }
        fflush(file)
    }

    /// Where sessions go by default: `~/.local/share/moonlab/sessions/<timestamp>.jsonl`.
    public static func defaultPath() -> String {
        let base = Platform.environment("XDG_DATA_HOME") ?? (Platform.home + "/.local/share")
        return base + "/moonlab/sessions/" + SessionFormat.timestamp(compact: true) + "-\(getpid()).jsonl"
    }
}
