import Foundation
import LuaKit

/// What every worker state scores: rewards and detectors by registered name, after an
/// optional setup (running a rewards file, loading plugins) and an optional bundle of
/// definitions exported from another state (`PortableDefinitions.bundle`).
public struct ScoringTask: Sendable {
    public var rewards: [String] { names.rewards }
    public var detectors: [String] { names.detectors }
    /// The names, shared by every row scored (rows hold arrays in this order).
    public let names: ScoringNames
    /// Runs first in each worker's fresh `Workbench` (e.g. `try wb.lua.run(file source)`).
    public var setup: (@Sendable (Workbench) throws -> Void)?
    /// Definitions from `PortableDefinitions.bundle(...)`, installed after `setup`.
    public var bundle: LuaValue?
    /// The table every reward and detector gets as its second argument (`state`: step,
    /// epoch, max_steps); nil gives an empty table.
    public var state: LuaValue?
    /// A reward returning NaN or an infinity is an error for that row (else it is a value,
    /// written as null and counted apart).
    public var nanAsError = false
    /// Instructions each reward or detector call may run on one row (nil: unlimited).
    public var instructionsPerRow: Int?

    public init(rewards: [String], detectors: [String] = [], setup: (@Sendable (Workbench) throws -> Void)? = nil,
                bundle: LuaValue? = nil, state: LuaValue? = nil) {
        names = ScoringNames(rewards: rewards, detectors: detectors)
        self.setup = setup
        self.bundle = bundle
        self.state = state
    }
}

/// Scores records across worker threads, one Lua state (a full `Workbench`) per worker,
/// and returns one `ScoredRow` per record in input order: a `ScoringPool` made for one
/// call. A failing row never stops the run. This is the engine behind
/// `reward.score{workers = n}`.
///
///     let engine = ScoringEngine(workers: 2)
///     let rows = try engine.score(jsonLines: lines, task: ScoringTask(rewards: ["format"]))
public final class ScoringEngine {
    public let workers: Int
    public let options: WorkbenchOptions

    /// - Parameters:
    ///   - workers: worker threads (and Lua states), at least 1.
    ///   - options: how each worker's `Workbench` is made; `print` in workers is discarded
    ///     unless `options.output` is set.
    public init(workers: Int, options: WorkbenchOptions = WorkbenchOptions()) {
        self.workers = max(1, workers)
        var o = options
        if o.output == nil { o.output = { _ in } }
        self.options = o
    }

    /// Scores JSON Lines (one JSON object per element, bytes as read from the file). A line
    /// that is not valid JSON gives a row whose `failures` say so.
    public func score(jsonLines: [[UInt8]], task: ScoringTask,
                      progress: ((_ done: Int, _ total: Int) -> Void)? = nil) throws -> [ScoredRow] {
        var bad: [Int: String] = [:]
        var records: [LuaValue] = []
        records.reserveCapacity(jsonLines.count)
        for (i, line) in jsonLines.enumerated() {
            do { records.append(try JSONRecords.decode(line)) } catch {
                bad[i] = "line \(i + 1): \(error)"
                records.append(.nil)
            }
        }
        var rows = try score(records: records, task: task, progress: progress)
        for (i, message) in bad { rows[i] = .inputFailure(message, names: task.names) }
        return rows
    }

    /// Scores records given as `LuaValue` tables (`reward.score`'s workers). Each row's random
    /// sources are seeded from the seed and its 1-based number first (`Workbench.reseed(row:)`),
    /// so what a reward draws does not depend on the number of workers or who took the row.
    public func score(records: [LuaValue], task: ScoringTask,
                      progress: ((_ done: Int, _ total: Int) -> Void)? = nil) throws -> [ScoredRow] {
        guard !records.isEmpty else { return [] }
        let pool = try ScoringPool(workers: min(workers, records.count), task: task, options: options)
        defer { pool.shutdown() }
        let lock = NSLock()
        var done = 0
        let total = records.count
        var rows = [ScoredRow](repeating: ScoredRow(names: task.names), count: total)
        let interrupted = rows.withUnsafeMutableBufferPointer { out in
            let out = UnsafeSendableBuffer(base: out)
            return pool.run(count: total, block: 1, stopOnInterrupt: true) { worker, rows in
                for i in rows {
                    worker.workbench.reseed(row: i + 1)
                    out.base[i] = worker.score(record: records[i])
                    lock.lock()
                    done += 1
                    let d = done
                    lock.unlock()
                    progress?(d, total)
                }
            }
        }
        if interrupted { throw LuaError.interrupted }  // Ctrl-C: raise, never return unscored rows as failures
        return rows
    }
}
