import LuaKit
import LuaShim

/// One worker: a `Workbench` with the task's definitions, scoring rows one by one. Used by
/// one thread at a time.
final class ScoringWorker {
    let workbench: Workbench
    let names: ScoringNames
    private let nanAsError: Bool
    private let rowBudget: Int?
    private var rewards: [LuaRef] = []
    /// The rewards' registry references, for `mlshim_call_rewards`.
    private var rewardIDs: [Int32] = []
    /// What `mlshim_call_rewards` found for each reward of a row.
    private let codes: UnsafeMutablePointer<UInt8>
    private var detectors: [LuaRef] = []
    /// The table every reward gets as its second argument (`state`).
    private var stateRef: LuaRef
    /// The task's own `state` (an empty table when it gave none).
    let defaultState: LuaValue

    /// A worker in a fresh workbench made with `options`, or in `existing` (whose setup has
    /// already run: the state `moonlab score` read the rewards files into).
    init(task: ScoringTask, options: WorkbenchOptions, existing: Workbench? = nil) throws {
        if let existing {
            workbench = existing
        } else {
            workbench = try Workbench(options: options)
            try task.setup?(workbench)
        }
        let lua = workbench.lua
        names = task.names
        nanAsError = task.nanAsError
        rowBudget = task.instructionsPerRow
        guard lua.checkStack(stackReserve) else { throw LuaScriptError("not enough Lua stack for a worker") }
        if let b = task.bundle {
            try RewardLibrary.pushField(lua, "portable", "install")
            lua.push(b)
            try lua.pcall(nargs: 1, nresults: 0)
        }
        codes = .allocate(capacity: max(1, task.rewards.count))
        for name in task.rewards { rewards.append(try RewardLibrary.ref(lua, registry: "rewards", name: name)) }
        rewardIDs = rewards.map(\.id)
        for name in task.detectors { detectors.append(try RewardLibrary.ref(lua, registry: "detectors", name: name)) }
        defaultState = task.state ?? .table([:])
        lua.push(defaultState)
        stateRef = LuaRef(popping: lua)
        if let rowBudget { lua.instructionBudget = rowBudget }
    }

    deinit {
        let lua = workbench.lua
        for ref in rewards + detectors { ref.release(lua) }
        codes.deallocate()
        stateRef.release(lua)
    }

    /// Replaces the `state` table the rewards get (a trainer's step, per request).
    func setState(_ state: LuaValue) {
        let lua = workbench.lua
        _ = lua.checkStack(stackReserve)
        stateRef.release(lua)
        lua.push(state)
        stateRef = LuaRef(popping: lua)
    }

    /// Scores a record given as a `LuaValue`.
    func score(_ record: LuaValue) -> ScoredRow {
        let lua = workbench.lua
        let base = lua.top
        _ = lua.checkStack(stackReserve)  // push(LuaValue) recurses without checking the stack
        lua.push(record)
        defer { lua.top = base }
        return scoreRecord(at: lua.top)
    }

    /// Runs every reward and detector on the record at stack index `rec`, with the table at
    /// `state` as their second argument (nil: the worker's own). Stack-neutral.
    func scoreRecord(at rec: Int32, state: Int32? = nil) -> ScoredRow {
        var row = ScoredRow(names: names)
        var values = row.values, outcomes = row.outcomes, flags = row.detectorFlags
        row.values = []  // one owner each: written in place
        row.outcomes = []
        row.detectorFlags = []
        values.withUnsafeMutableBufferPointer { v in
            outcomes.withUnsafeMutableBufferPointer { o in
                flags.withUnsafeMutableBufferPointer { f in
                    scoreRecord(at: rec, state: state, values: v, outcomes: o, flags: f, failures: &row.failures)
                }
            }
        }
        row.values = values
        row.outcomes = outcomes
        row.detectorFlags = flags
        return row
    }

    /// As `scoreRecord(at:state:)`, into one row's slots of buffers the caller owns
    /// (`values` NaN and `outcomes` `.failed` beforehand, one per reward; `flags` nil, one
    /// per detector), failures appended: how a server's request is scored with no array
    /// per row.
    func scoreRecord(at rec: Int32, state: Int32?, values: UnsafeMutableBufferPointer<Double>,
                     outcomes: UnsafeMutableBufferPointer<RewardOutcome>,
                     flags: UnsafeMutableBufferPointer<DetectorFlag?>,
                     failures: inout [(name: String, message: String)]) {
        let lua = workbench.lua
        let base = lua.top
        defer { lua.top = base }
        let rec = rec < 0 ? base + rec + 1 : rec
        let stateIndex: Int32
        if let state { stateIndex = state < 0 ? base + state + 1 : state } else { lua.push(ref: stateRef); stateIndex = lua.top }
        // The rewards are called from C (mlshim_call_rewards: what LuaState.pcall does, per
        // reward); a reward that raised or returned another type stops it, is reported
        // here, and the call goes on with the next one.
        let count = Int32(rewardIDs.count)
        let budget = rowBudget == nil ? -1 : Int64(lua.instructionBudget ?? -1)
        var k: Int32 = 0
        while k < count {
            var status: Int32 = 0
            let stop = rewardIDs.withUnsafeBufferPointer { ids in
                mlshim_call_rewards(lua.L, rec, stateIndex, ids.baseAddress, k, count, rowBudget != nil ? 1 : 0,
                                    budget, values.baseAddress, codes, &status)
            }
            for j in Int(k)..<Int(stop) {
                switch Int32(codes[j]) {
                case MLSHIM_REWARD_VALUE: outcomes[j] = .value
                case MLSHIM_REWARD_NIL: outcomes[j] = .notApplicable
                default:
                    if nanAsError {
                        failures.append((names.rewards[j], "reward returned \(ScoringWorker.spell(values[j])), expected a finite number"))
                    } else {
                        outcomes[j] = .nonFinite
                    }
                }
            }
            guard stop < count else { break }
            let j = Int(stop)
            if status == LUA_OK {
                failures.append((names.rewards[j], "reward returned \(lua.typeName(at: -1)), expected a number or nil"))
                lua.pop()
            } else {
                failures.append((names.rewards[j], ScoringWorker.message(lua.popError(status: status))))
            }
            k = stop + 1
        }
        for k in detectors.indices {
            detectors[k].push(lua)
            lua.pushValue(at: rec)
            lua.pushValue(at: stateIndex)
            if rowBudget != nil { lua.resetBudget() }
            // Armed lazily, as the rewards' budget is (mlshim_watch_begin): 0 without a budget.
            let watch = mlshim_watch_begin(lua.L)
            defer { mlshim_watch_end(lua.L, watch) }
            do {
                // The detector object's __call gives what fn returned as flag, score, reason
                // (DetectLua's detector_result: a table {flag =, score =, reason =} is the
                // three; another non-boolean flag raises, a failure of this row only).
                try lua.pcall(nargs: 2, nresults: 3)
                flags[k] = DetectorFlag(flag: lua.boolean(at: -3),
                                        score: lua.type(at: -2) == .number ? lua.number(at: -2) : nil,
                                        reason: lua.type(at: -1) == .string ? lua.string(at: -1) : nil)
                lua.pop(3)
            } catch {
                failures.append((names.detectors[k], ScoringWorker.message(error)))
            }
        }
    }

    /// An error as a user reads it: the Lua message without moonlab's internal positions.
    static func message(_ error: Error) -> String {
        ErrorText.clean((error as? LuaError)?.message ?? "\(error)")
    }

    /// "nan", "inf" or "-inf", as Python prints them.
    static func spell(_ v: Double) -> String { v.isNaN ? "nan" : v > 0 ? "inf" : "-inf" }
}
