import Dispatch
import Foundation
import Synchronization

/// Splits independent rows of work over the machine's cores, polling the Ctrl-C flag
/// between chunks, so a long native call can be interrupted and never blocks the prompt.
public enum ParallelFor {
    /// Number of worker threads used (the active processor count, at least 1).
    public static let workers: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Runs `body` over `0..<count` in contiguous chunks.
    ///
    /// - Parameters:
    ///   - count: number of rows.
    ///   - costPerRow: rough cost of one row in elements touched; small jobs (below
    ///     ~64k elements in all) run on the calling thread, as threads would cost more.
    ///   - body: processes one chunk of rows; may throw (the error of the lowest chunk
    ///     that failed is rethrown, so the reported row is deterministic).
    /// - Throws: `AlignMathError.interrupted` when `Interruption.isPending` between chunks,
    ///   or the first error `body` threw.
    public static func rows(_ count: Int, costPerRow: Int,
                            _ body: (Range<Int>) throws -> Void) throws {
        if count <= 0 { return }
        let total = count.multipliedReportingOverflow(by: max(1, costPerRow))
        let cost = total.overflow ? Int.max : total.partialValue
        if workers == 1 || count == 1 || cost < 65_536 {
            // Serial: still chunked, to poll the interrupt flag.
            let chunk = max(1, min(count, (1 << 22) / max(1, costPerRow)))
            var start = 0
            while start < count {
                if Interruption.isPending { throw AlignMathError.interrupted }
                let end = min(count, start + chunk)
                try body(start..<end)
                start = end
            }
            return
        }
        // About 8 chunks per worker to balance load, but at most ~4M elements a chunk
        // so the interrupt flag is polled every few milliseconds.
        let chunk = max(1, min(max(1, count / (workers * 8)), (1 << 22) / max(1, costPerRow)))
        let nChunks = (count + chunk - 1) / chunk
        let errors = ErrorSlots(nChunks)
        withoutActuallyEscaping(body) { body in
            let work = UncheckedSendable(body)  // each chunk writes its own rows
            DispatchQueue.concurrentPerform(iterations: nChunks) { c in
                if errors.stop { return }
                if Interruption.isPending { errors.set(c, AlignMathError.interrupted); return }
                let start = c * chunk
                do { try work.value(start..<min(count, start + chunk)) } catch { errors.set(c, error) }
            }
        }
        if let e = errors.first() { throw e }
    }

    /// Like `rows`, for work with no error of its own (still throws on interrupt).
    public static func rowsNoThrow(_ count: Int, costPerRow: Int, _ body: (Range<Int>) -> Void) throws {
        try rows(count, costPerRow: costPerRow) { body($0) }
    }
}

/// Per-chunk error slots shared by the workers of one `ParallelFor.rows` call.
final class ErrorSlots: Sendable {
    private struct Slots { var errors: [(any Error)?]; var interrupted = false }
    private let slots: Mutex<Slots>
    init(_ n: Int) { slots = Mutex(Slots(errors: Array(repeating: nil, count: n))) }
    /// True once an interrupt was seen: the remaining chunks are skipped. (Other errors
    /// do not stop the others, so the lowest failing chunk is always the one reported.)
    var stop: Bool { slots.withLock { $0.interrupted } }
    func set(_ i: Int, _ e: any Error) {
        let interrupt: Bool
        if case AlignMathError.interrupted? = e as? AlignMathError { interrupt = true } else { interrupt = false }
        slots.withLock {
            $0.errors[i] = e
            if interrupt { $0.interrupted = true }
        }
    }
    func first() -> (any Error)? {
        slots.withLock { s in
            for e in s.errors where e != nil { return e }
            return nil
        }
    }
}

/// A value handed to the threads of `DispatchQueue.concurrentPerform` that the caller knows
/// is used safely there: a closure whose calls touch disjoint parts of its output, a
/// pointer to those parts. (Swift cannot see that the parts are disjoint.)
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
