import Dispatch

/// Splitting one pass over memory between the cores, for the tensor kernels that run in
/// a fraction of a second (copies, elementwise arithmetic, reductions): unlike
/// `ParallelFor.rows` it never stops early on Ctrl-C, so a kernel never leaves an output
/// half written.
enum Parallel {
    /// Elements of work (weighted by cost) below which one thread does it all: starting
    /// the second costs about as much as it saves.
    static let threshold = 1 << 17

    /// Calls `body(range)` over `0..<count` in contiguous pieces, on all cores when
    /// `count * cost` is large.
    static func forEach(_ count: Int, cost: Int = 1, _ body: (Range<Int>) -> Void) {
        if count <= 0 { return }
        let workers = ParallelFor.workers
        let total = count.multipliedReportingOverflow(by: Swift.max(1, cost))
        if workers == 1 || count == 1 || (!total.overflow && total.partialValue < threshold) {
            body(0..<count)
            return
        }
        let pieces = Swift.min(count, workers * 4)
        let piece = (count + pieces - 1) / pieces
        withoutActuallyEscaping(body) { body in
            let work = UncheckedSendable(body)  // each piece touches its own elements
            DispatchQueue.concurrentPerform(iterations: (count + piece - 1) / piece) { p in
                work.value(p * piece..<Swift.min(count, (p + 1) * piece))
            }
        }
    }

    /// Calls `body(i)` for every `i` in `0..<count`, on all cores (each call touches its own
    /// elements; the closure need not be `@Sendable`, as in `forEach`).
    static func each(_ count: Int, _ body: (Int) -> Void) {
        if count <= 0 { return }
        if count == 1 || ParallelFor.workers == 1 { for i in 0..<count { body(i) }; return }
        withoutActuallyEscaping(body) { body in
            let work = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: count) { work.value($0) }
        }
    }

    /// The pieces `forEach` and `map` cut `0..<count` into (one piece when the work is small).
    static func ranges(_ count: Int, cost: Int = 1) -> [Range<Int>] {
        if count <= 0 { return [] }
        let total = count.multipliedReportingOverflow(by: Swift.max(1, cost))
        if ParallelFor.workers == 1 || count == 1 || (!total.overflow && total.partialValue < threshold) { return [0..<count] }
        let pieces = Swift.min(count, ParallelFor.workers * 4)
        let piece = (count + pieces - 1) / pieces
        return stride(from: 0, to: count, by: piece).map { $0..<Swift.min(count, $0 + piece) }
    }

    /// Like `forEach`, collecting one partial result per piece (in order) for the caller
    /// to combine: a parallel reduction.
    static func map<R>(_ count: Int, cost: Int = 1, _ body: (Range<Int>) -> R) -> [R] {
        if count <= 0 { return [] }
        let workers = ParallelFor.workers
        let total = count.multipliedReportingOverflow(by: Swift.max(1, cost))
        if workers == 1 || count == 1 || (!total.overflow && total.partialValue < threshold) {
            return [body(0..<count)]
        }
        let pieces = Swift.min(count, workers * 4)
        let piece = (count + pieces - 1) / pieces
        let n = (count + piece - 1) / piece
        var results = [R?](repeating: nil, count: n)
        results.withUnsafeMutableBufferPointer { slots in
            let out = UncheckedSendable(slots.baseAddress.unsafelyUnwrapped)  // one slot per piece
            withoutActuallyEscaping(body) { body in
                let work = UncheckedSendable(body)
                DispatchQueue.concurrentPerform(iterations: n) { p in
                    (out.value + p).pointee = work.value(p * piece..<Swift.min(count, (p + 1) * piece))
                }
            }
        }
        return results.map { $0.unsafelyUnwrapped }
    }
}
