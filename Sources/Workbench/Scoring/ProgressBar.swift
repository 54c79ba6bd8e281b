import Foundation
import Synchronization

/// A one-line progress bar on standard error with count, rate and ETA, drawn only when
/// standard error is a terminal, at most ten times a second. Thread-safe.
///
/// The total may be unknown at first (a file being streamed while it is still counted):
/// the line then shows the count and rate, and the bar and ETA appear once `setTotal` is
/// called.
public final class ProgressBar: Sendable {
    /// The total (0: unknown) and when the line was last drawn, shared by the threads that
    /// report; held while a line is written, so lines never interleave.
    private struct Drawn { var total: Int; var last = Date.distantPast; var lastDone = 0 }
    private let drawn: Mutex<Drawn>
    private let label: String
    private let enabled: Bool
    private let start = Date()

    /// - Parameter enabled: draw at all (it is also off when stderr is not a terminal).
    public init(total: Int, label: String, enabled: Bool = true) {
        drawn = Mutex(Drawn(total: total))
        self.label = label
        self.enabled = enabled && Platform.isTerminal(2) && total > 0
    }

    /// A bar whose total is not known yet (see `setTotal`).
    public init(label: String, enabled: Bool = true) {
        drawn = Mutex(Drawn(total: 0))
        self.label = label
        self.enabled = enabled && Platform.isTerminal(2)
    }

    /// Whether the bar draws anything (a terminal on standard error, and asked for).
    public var isDrawing: Bool { enabled }

    /// Sets the total once it is known (0: unknown).
    public func setTotal(_ n: Int) {
        drawn.withLock { $0.total = max(0, n) }
    }

    /// Reports `done` of `total` rows finished.
    public func update(_ done: Int) {
        guard enabled else { return }
        drawn.withLock { d in
            let now = Date()
            guard (d.total > 0 && done >= d.total) || now.timeIntervalSince(d.last) >= 0.1 else { return }
            d.last = now
            d.lastDone = done
            Platform.writeStderr("\r" + line(done: done, total: d.total, now: now) + "\u{1B}[K")
        }
    }

    private func line(done: Int, total: Int, now: Date) -> String {
        let elapsed = max(now.timeIntervalSince(start), 1e-9)
        let rate = Double(done) / elapsed
        guard total > 0 else {
            return String(format: "%@ %d rows  %.0f/s  %.0fs", label, done, rate, elapsed)
        }
        let eta = rate > 0 ? Double(max(0, total - done)) / rate : 0
        let width = 24, filled = min(width, width * done / total)
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        return String(format: "%@ %@ %d/%d  %.0f/s  ETA %@", label, bar, done, total, rate, ProgressBar.duration(eta))
    }

    /// "42s", "3m05s", "2h07m".
    static func duration(_ s: Double) -> String {
        let t = Int(s.rounded())
        if t < 60 { return "\(t)s" }
        if t < 3600 { return String(format: "%dm%02ds", t / 60, t % 60) }
        return String(format: "%dh%02dm", t / 3600, (t % 3600) / 60)
    }

    /// Ends the line.
    public func finish() {
        if enabled { Platform.writeStderr("\n") }
    }
}
