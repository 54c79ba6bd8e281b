import Foundation
import LuaKit

/// Worker states that live across many batches: `moonlab score` streams a file through
/// one pool chunk by chunk, so each worker's `Workbench` (and its setup, e.g. running a
/// rewards file) is made once, not once per chunk as `ScoringEngine.score` does.
///
/// Each worker parses its rows' JSON straight onto its own Lua stack
/// (`JSONDecoderToLua`: `null` is `data.null`, as `data.jsonl` gives it), so the thread
/// that reads the file only hands out bytes.
///
///     let pool = try ScoringPool(workers: 2, task: task)
///     let lines = pool.score(count: n, line: { i in bytes(of: i) }) { i, row in format(i, row) }
public final class ScoringPool {
    private let workers: [PoolWorker]

    /// Builds `workers` worker states (at least 1), one at a time. Throws the first setup
    /// error (a rewards file that fails, an unknown reward or detector name).
    public init(workers: Int, task: ScoringTask, options: WorkbenchOptions = WorkbenchOptions()) throws {
        var o = options
        if o.output == nil { o.output = { _ in } }
        var made: [PoolWorker] = []
        for _ in 0..<max(1, workers) { made.append(try PoolWorker(task: task, options: o)) }
        self.workers = made
    }

    /// How many worker states there are.
    public var count: Int { workers.count }

    /// Scores `count` rows in parallel. `line(i)` gives row i's JSON text (it must stay
    /// valid for the whole call and may be called from any worker thread); `finish(i, row)`
    /// runs on the worker thread that scored row i, and its results come back in input
    /// order. A row whose text is not a JSON object gives a row whose failure says so
    /// (named "input").
    public func score<Output>(count: Int, line: (Int) -> UnsafeRawBufferPointer,
                              finish: (Int, ScoredRow) -> Output) -> [Output] {
        guard count > 0 else { return [] }
        let lock = NSLock()
        var next = 0
        let block = max(1, min(16, count / (workers.count * 8)))
        let n = min(workers.count, count)
        return [Output](unsafeUninitializedCapacity: count) { out, initialized in
            let out = UnsafeSendableBuffer(base: out)
            DispatchQueue.concurrentPerform(iterations: n) { w in
                let worker = workers[w]
                while true {
                    lock.lock()
                    let lo = next
                    next += block
                    lock.unlock()
                    if lo >= count { break }
                    for i in lo..<min(lo + block, count) {
                        let value = finish(i, worker.score(json: line(i)))
                        out.base.baseAddress?.advanced(by: i).initialize(to: value)
                    }
                }
            }
            initialized = count
        }
    }
}

/// One pool worker: a `ScoringWorker` and its JSON decoder. Used by one thread at a time.
final class PoolWorker {
    let worker: ScoringWorker
    let decoder: JSONDecoderToLua

    init(task: ScoringTask, options: WorkbenchOptions) throws {
        worker = try ScoringWorker(task: task, options: options)
        decoder = JSONDecoderToLua(state: worker.workbench.lua)
    }

    func score(json: UnsafeRawBufferPointer) -> ScoredRow {
        let lua = worker.workbench.lua
        let base = lua.top
        defer { lua.top = base }
        guard lua.checkStack(64) else { return ScoredRow(failures: [("input", "not enough Lua stack")]) }
        do {
            try decoder.push(json, into: lua)
        } catch {
            return ScoredRow(failures: [("input", "not valid JSON: \(error)")])
        }
        guard lua.type(at: -1) == .table, json.first(where: { $0 != 32 && $0 != 9 }) == UInt8(ascii: "{") else {
            return ScoredRow(failures: [("input", "not a JSON object")])
        }
        return worker.scoreRecord(at: lua.top)
    }
}
