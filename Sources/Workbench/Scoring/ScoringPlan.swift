import Foundation
import LuaKit
import Synchronization

/// What `moonlab score` and `moonlab serve` run in every worker: the reward and detector
/// names, and the rewards files to run first. Made by running the files in the state that
/// becomes the first worker (so each file runs once per worker, and a bad file or name is
/// caught before any output is written or any request is taken).
///
///     let plan = try ScoringPlan.make(rewardArguments: ["rewards.lua"], detectorArguments: [], options: o)
///     let pool = try ScoringPool(workers: 2, task: plan.task(), options: o, first: plan.first)
public struct ScoringPlan {
    public private(set) var rewards: [String] = []
    public private(set) var detectors: [String] = []
    public private(set) var files: [String] = []
    /// The state the files were read into: hand it to the pool as its first worker.
    public let first: Workbench

    /// A mistake in the arguments or the files, with a message for the user.
    public struct Problem: Error, CustomStringConvertible {
        public var description: String
        public init(_ message: String) { description = message }
    }

    /// The task each worker builds itself from (the first worker already has): the files
    /// run in order (with `arg` set as `moonlab run` sets it), then the names are looked
    /// up. Workers collect garbage in Lua's generational mode, which suits a stream of
    /// short-lived record tables (a file may switch back with `collectgarbage("incremental")`).
    public func task(state: LuaValue? = nil, nanAsError: Bool = false, instructionsPerRow: Int? = nil) -> ScoringTask {
        let files = self.files
        var t = ScoringTask(rewards: rewards, detectors: detectors, setup: { wb in
            ScoringPlan.generational(wb.lua)
            for f in files { try wb.runFile(f) }
        }, state: state)
        t.nanAsError = nanAsError
        t.instructionsPerRow = instructionsPerRow
        return t
    }

    /// Whether a `--reward` argument names a file rather than a registered reward.
    public static func isFile(_ argument: String) -> Bool {
        if argument.hasSuffix(".lua") { return true }
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory) && !isDirectory.boolValue
    }

    /// Runs the rewards files in a new state and checks every name. Throws `Problem`.
    /// - Parameters:
    ///   - options: how the state is made; its `output` receives what the files print at
    ///     their top level (and, later, what rewards print in this worker).
    ///   - describe: turns a file's Lua error into text (message and trimmed traceback).
    public static func make(rewardArguments: [String], detectorArguments: [String], options: WorkbenchOptions,
                            describe: (LuaError) -> String = { $0.message }) throws -> ScoringPlan {
        let wb: Workbench
        do { wb = try Workbench(options: options) } catch { throw Problem("could not start: \(error)") }
        let lua = wb.lua
        generational(lua)
        var plan = ScoringPlan(first: wb)
        for argument in rewardArguments {
            if isFile(argument) {
                guard FileManager.default.isReadableFile(atPath: argument) else {
                    throw Problem("--reward \(argument): no such file (or not readable)")
                }
                let before = (try Registries.snapshot(lua, .rewards), try Registries.snapshot(lua, .detectors))
                defer { before.0.release(lua); before.1.release(lua) }
                do { try wb.runFile(argument) } catch let e as LuaError {
                    throw Problem("--reward \(argument): " + describe(e))
                }
                let rewards = try Registries.changed(lua, .rewards, since: before.0)
                let detectors = try Registries.changed(lua, .detectors, since: before.1)
                if rewards.isEmpty && detectors.isEmpty {
                    throw Problem("--reward \(argument): the file defines no rewards (reward.define(name, fn))")
                }
                plan.files.append(argument)
                plan.rewards += rewards.filter { !plan.rewards.contains($0) }
            } else {
                guard try Registries.contains(lua, .rewards, argument) else {
                    throw Problem("--reward \(argument): unknown reward; registered: "
                                  + (try Registries.names(lua, .rewards)).joined(separator: ", ")
                                  + " (or give a .lua file that defines rewards)")
                }
                if !plan.rewards.contains(argument) { plan.rewards.append(argument) }
            }
        }
        for name in detectorArguments where !plan.detectors.contains(name) {
            guard try Registries.contains(lua, .detectors, name) else {
                let known = try Registries.names(lua, .detectors)
                let list = known.isEmpty ? "none" : known.joined(separator: ", ")
                throw Problem("--detect \(name): unknown detector; registered (by plugins and the --reward files): \(list); define one with detect.define in a --reward file")
            }
            plan.detectors.append(name)
        }
        if plan.rewards.isEmpty && plan.detectors.isEmpty {
            throw Problem("nothing to score: the --reward files define only detectors; name them with --detect")
        }
        return plan
    }

    /// Switches the collector to generational mode (every workbench state now starts in it;
    /// this keeps a worker's state generational whatever the default).
    static func generational(_ lua: LuaState) {
        lua.generationalCollector = true
    }
}

/// Where a state's `print` goes, switchable: the first worker of `moonlab score` prints to
/// standard error while its rewards files load, then nowhere, like every other worker.
public final class PrintSwitch: Sendable {
    private let on = Atomic(true)
    public init() {}
    public var isOn: Bool {
        get { on.load(ordering: .acquiring) }
        set { on.store(newValue, ordering: .releasing) }
    }
}
