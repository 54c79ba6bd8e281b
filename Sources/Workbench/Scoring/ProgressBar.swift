import Foundation

/// A one-line progress bar on standard error with count, rate and ETA, drawn only when
/// standard error is a terminal, at most ten times a second. Thread-safe.
public final class ProgressBar: @unchecked Sendable {
    private let total: Int
    private let label: String
    private let enabled: Bool
    private let start = Date()
    private var last = Date.distantPast
    private let lock = NSLock()

    /// - Parameter enabled: draw at all (it is also off when stderr is not a terminal).
    public init(total: Int, label: String, enabled: Bool = true) {
        self.total = total
        self.label = label
        self.enabled = enabled && Platform.isTerminal(2) && total > 0
    }

    /// Reports `done` of `total` rows finished.
    public func update(_ done: Int) {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        let now = Date()
        guard done >= total || now.timeIntervalSince(last) >= 0.1 else { return }
        last = now
        let elapsed = max(now.timeIntervalSince(start), 1e-9)
        let rate = Double(done) / elapsed
        let eta = rate > 0 ? Double(total - done) / rate : 0
        let width = 24, filled = total > 0 ? width * done / total : width
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        Platform.writeStderr(String(format: "\r%@ %@ %d/%d  %.0f/s  ETA %.0fs ", label, bar, done, total, rate, eta))
    }

    /// Ends the line.
    public func finish() {
        if enabled { Platform.writeStderr("\n") }
    }
}
