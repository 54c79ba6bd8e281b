import Synchronization

/// Hands out the rows of a parallel job to worker threads, a block at a time, and stops
/// handing them out at Ctrl-C: the one way every worker pool (`reward.score` with workers,
/// `moonlab score`, anything added later) stops. Worker states see the same interrupt flag
/// in their hooks, so a row that is running stops too; its error is an interruption
/// (`LuaError.isInterruption`), not the row's failure.
///
///     let rows = RowDispenser(count: n, block: 16)
///     DispatchQueue.concurrentPerform(iterations: workers) { _ in
///         while let range = rows.next() { for i in range { score(i) } }
///     }
///     try rows.finish()   // throws LuaError.interrupted if Ctrl-C stopped the job
public final class RowDispenser: Sendable {
    public let count: Int
    public let block: Int
    private let nextRow = Atomic<Int>(0)
    private let stopped = Atomic<Bool>(false)
    private let interrupted = Atomic<Bool>(false)

    /// - Parameters:
    ///   - count: rows in the job (0..<count).
    ///   - block: rows handed out at a time (at least 1).
    public init(count: Int, block: Int = 1) {
        self.count = max(0, count)
        self.block = max(1, block)
    }

    /// The next rows to work on, or nil when every row is handed out or the job stopped.
    public func next() -> Range<Int>? {
        if stopped.load(ordering: .relaxed) { return nil }
        if LuaInterrupt.isPending {
            interrupted.store(true, ordering: .relaxed)
            stopped.store(true, ordering: .relaxed)
            return nil
        }
        let lo = nextRow.wrappingAdd(block, ordering: .relaxed).oldValue
        guard lo < count else { return nil }
        return lo..<min(lo + block, count)
    }

    /// Stops handing out rows (a worker saw an interruption, or the job should end early).
    /// - Parameter interrupted: true when the reason is Ctrl-C (`finish()` then throws).
    public func stop(interrupted: Bool = false) {
        if interrupted { self.interrupted.store(true, ordering: .relaxed) }
        stopped.store(true, ordering: .relaxed)
    }

    /// True when Ctrl-C stopped the job (some rows were never handed out or did not finish).
    public var wasInterrupted: Bool { interrupted.load(ordering: .relaxed) || LuaInterrupt.isPending }

    /// Call after the workers are done: throws `LuaError.interrupted` when Ctrl-C stopped
    /// the job, so the caller raises instead of returning partial results as if complete.
    public func finish() throws {
        if wasInterrupted { throw LuaError.interrupted }
    }
}
