import Foundation
import LuaKit
import Workbench

/// What `moonlab serve` was asked for (design.md, "Trainers: moonlab serve"), checked by
/// the command line.
// @unchecked Sendable: `workbench` (WorkbenchOptions) holds non-Sendable closures (output,
// plugin hooks); the configuration is filled in by the command line, then only read.
public struct ServeConfiguration: @unchecked Sendable {
    public var rewardArguments: [String]
    public var detectorArguments: [String] = []
    /// Reward name -> weight of `rewards` when several rewards are served (default 1 each).
    public var weights: [String: Double] = [:]
    /// The reward whose value `scores` holds (default: the same as `rewards`).
    public var scoreName: String?
    /// What a failed row gets in `rewards`, `scores` and `extra_logs` (never NaN or null).
    public var onError: Double = 0
    public var host = "127.0.0.1"
    public var port = 8000
    /// Event loops, each with its own Lua state (one per core by default).
    public var workers = ProcessInfo.processInfo.activeProcessorCount
    /// Rows not started this long after their request arrived fail with "timeout".
    public var timeoutMilliseconds = 30_000
    public var maxBodyBytes = 64 << 20
    /// Instructions each reward or detector may run on one row.
    public var instructionsPerRow = 100_000_000
    /// The audit log (JSON Lines), appended to.
    public var logPath: String?
    /// Read the rewards files again when they change (as SIGHUP does at any time).
    public var watchFiles = false
    /// How worker states are made (seed, plugins, sandbox).
    public var workbench: WorkbenchOptions
    /// A Lua error as text (message and trimmed traceback), for a file that fails to load.
    public var describe: @Sendable (LuaError) -> String = { $0.message }

    public init(rewardArguments: [String], workbench: WorkbenchOptions) {
        self.rewardArguments = rewardArguments
        self.workbench = workbench
    }
}

/// One loaded set of rewards: the plan, a Lua state per event loop, and how a row's values
/// make OpenRLHF's `rewards`, `scores` and `extra_logs`. A reload makes a new one; requests
/// hold the one they started with, and its states close when the last of them is done.
final class ServingVersion: Sendable {
    let number: Int
    let workers: LoopWorkers
    let names: ScoringNames
    let files: [String]
    /// Per reward (task order): its weight in `rewards`.
    let weights: [Double]
    /// The reward `scores` holds (task order), nil for the same as `rewards`.
    let scoreIndex: Int?
    let keys: ScoreJSON.Keys
    /// The rewards files' modification times when they were read (for --reload).
    let stamps: [Date?]

    init(number: Int, configuration c: ServeConfiguration) throws {
        let plan = try ScoringPlan.make(rewardArguments: c.rewardArguments, detectorArguments: c.detectorArguments,
                                        options: ServingVersion.quiet(c.workbench), describe: c.describe)
        let task = plan.task(instructionsPerRow: c.instructionsPerRow)
        for name in c.weights.keys where !plan.rewards.contains(name) {
            throw ScoringPlan.Problem("--weights \(name): not a served reward (served: \(plan.rewards.joined(separator: ", ")))")
        }
        if let s = c.scoreName, !plan.rewards.contains(s) {
            throw ScoringPlan.Problem("--score \(s): not a served reward (served: \(plan.rewards.joined(separator: ", ")))")
        }
        workers = try LoopWorkers(count: c.workers, task: task, options: ServingVersion.quiet(c.workbench), first: plan.first)
        self.number = number
        names = task.names
        files = plan.files
        weights = plan.rewards.map { c.weights[$0] ?? 1 }
        scoreIndex = c.scoreName.flatMap { plan.rewards.firstIndex(of: $0) }
        keys = ScoreJSON.Keys(task.names)
        stamps = plan.files.map { ServingVersion.modified($0) }
    }

    /// Worker states print nowhere: a server's standard output is not a place for it.
    static func quiet(_ o: WorkbenchOptions) -> WorkbenchOptions {
        var q = o
        q.output = { _ in }
        return q
    }

    static func modified(_ path: String) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
    }

    /// Whether a rewards file changed since it was read.
    var filesChanged: Bool {
        zip(files, stamps).contains { ServingVersion.modified($0) != $1 }
    }
}
