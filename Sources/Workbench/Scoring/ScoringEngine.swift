import Foundation
import LuaKit

/// What one detector said about one row.
public struct DetectorFlag: Sendable, Equatable {
    public var flag: Bool
    public var score: Double?
    public var reason: String?
    public init(flag: Bool, score: Double?, reason: String?) {
        self.flag = flag
        self.score = score
        self.reason = reason
    }
}

/// The outcome of one row: each reward's value (NaN where it failed), each detector's flag,
/// and the failures, in the order of the task's names.
public struct ScoredRow: Sendable {
    /// Reward name -> value (NaN when that reward raised or returned a non-number).
    public var rewards: [String: Double] = [:]
    /// Detector name -> its flag, score and reason (absent when the detector raised).
    public var flags: [String: DetectorFlag] = [:]
    /// Failed reward or detector name -> its error message, in the order they ran.
    public var failures: [(name: String, message: String)] = []
    /// All failures as "name: message", joined by "; ", or nil when the row scored cleanly.
    public var error: String? {
        failures.isEmpty ? nil : failures.map { "\($0.name): \($0.message)" }.joined(separator: "; ")
    }
}

/// What every worker state scores: rewards and detectors by registered name, after an
/// optional setup (running a rewards file, loading plugins) and an optional bundle of
/// definitions exported from another state (`PortableDefinitions.bundle`).
public struct ScoringTask: @unchecked Sendable {
    public var rewards: [String]
    public var detectors: [String]
    /// Runs first in each worker's fresh `Workbench` (e.g. `try wb.lua.run(file source)`).
    public var setup: ((Workbench) throws -> Void)?
    /// Definitions from `PortableDefinitions.bundle(...)`, installed after `setup`.
    public var bundle: LuaValue?
    public init(rewards: [String], detectors: [String] = [], setup: ((Workbench) throws -> Void)? = nil,
                bundle: LuaValue? = nil) {
        self.rewards = rewards
        self.detectors = detectors
        self.setup = setup
        self.bundle = bundle
    }
}

/// Scores records across worker threads, one Lua state (a full `Workbench`) per worker,
/// and returns one `ScoredRow` per record in input order. A failing row never stops the
/// run. This is the engine behind `reward.score{workers = n}` and `moonlab score`.
///
///     let engine = ScoringEngine(workers: 2)
///     let rows = try engine.score(jsonLines: lines, task: ScoringTask(rewards: ["format"]))
public final class ScoringEngine {
    public let workers: Int
    public let options: WorkbenchOptions
    /// Worker states are built one at a time (module installation touches shared tables).
    private static let creation = NSLock()

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
        for (i, message) in bad { rows[i] = ScoredRow(failures: [("input", message)]) }
        return rows
    }

    /// Scores records given as `LuaValue` tables.
    public func score(records: [LuaValue], task: ScoringTask,
                      progress: ((_ done: Int, _ total: Int) -> Void)? = nil) throws -> [ScoredRow] {
        var results = [ScoredRow](repeating: ScoredRow(), count: records.count)
        let lock = NSLock()
        var done = 0
        var setupError: Error?
        let rows = RowDispenser(count: records.count)
        let n = min(workers, max(1, records.count))
        results.withUnsafeMutableBufferPointer { out in
            let out = UnsafeSendableBuffer(base: out)
            DispatchQueue.concurrentPerform(iterations: n) { _ in
                let worker: ScoringWorker
                do {
                    ScoringEngine.creation.lock()
                    defer { ScoringEngine.creation.unlock() }
                    worker = try ScoringWorker(task: task, options: options)
                } catch {
                    lock.lock(); setupError = setupError ?? error; lock.unlock()
                    return
                }
                while let range = rows.next() {
                    for i in range { out.base[i] = worker.score(records[i]) }
                    lock.lock()
                    done += range.count
                    let d = done
                    lock.unlock()
                    progress?(d, records.count)
                }
            }
        }
        try rows.finish()  // Ctrl-C: raise, never return the unscored rows as failures
        if let e = setupError { throw e }
        return results
    }
}

/// A buffer pointer handed to worker threads that write disjoint elements.
struct UnsafeSendableBuffer<T>: @unchecked Sendable {
    let base: UnsafeMutableBufferPointer<T>
}
