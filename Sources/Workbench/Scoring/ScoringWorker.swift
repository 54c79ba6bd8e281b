import LuaKit

/// One worker: a fresh `Workbench` with the task's definitions, scoring rows one by one.
/// Used by one thread only.
final class ScoringWorker {
    let workbench: Workbench
    private var rewards: [(String, LuaRef)] = []
    private var detectors: [(String, LuaRef)] = []

    init(task: ScoringTask, options: WorkbenchOptions) throws {
        workbench = try Workbench(options: options)
        let lua = workbench.lua
        try task.setup?(workbench)
        guard lua.checkStack(stackReserve) else { throw LuaScriptError("not enough Lua stack for a worker") }
        if let b = task.bundle {
            try RewardLibrary.pushField(lua, "portable", "install")
            lua.push(b)
            try lua.pcall(nargs: 1, nresults: 0)
        }
        for name in task.rewards { rewards.append((name, try RewardLibrary.ref(lua, registry: "rewards", name: name))) }
        for name in task.detectors { detectors.append((name, try RewardLibrary.ref(lua, registry: "detectors", name: name))) }
    }

    deinit {
        for (_, ref) in rewards + detectors { ref.release(workbench.lua) }
    }

    func score(_ record: LuaValue) -> ScoredRow {
        let lua = workbench.lua
        let base = lua.top
        _ = lua.checkStack(stackReserve)  // push(LuaValue) recurses without checking the stack
        lua.push(record)
        defer { lua.top = base }
        return scoreRecord(at: lua.top)
    }

    /// Runs every reward and detector on the record at stack index `rec`. Stack-neutral.
    func scoreRecord(at rec: Int32) -> ScoredRow {
        let lua = workbench.lua
        var row = ScoredRow()
        let base = lua.top
        defer { lua.top = base }
        for (name, ref) in rewards {
            ref.push(lua)
            lua.pushValue(at: rec)
            do {
                try lua.pcall(nargs: 1, nresults: 1)
                if lua.type(at: -1) == .number, let v = lua.number(at: -1) {
                    row.rewards[name] = v
                } else {
                    row.rewards[name] = .nan
                    row.failures.append((name, "reward returned \(lua.typeName(at: -1)), expected a number"))
                }
                lua.pop()
            } catch {
                row.rewards[name] = .nan
                row.failures.append((name, (error as? LuaError)?.message ?? "\(error)"))
            }
        }
        for (name, ref) in detectors {
            ref.push(lua)
            lua.pushValue(at: rec)
            do {
                try lua.pcall(nargs: 1, nresults: 3)
                row.flags[name] = DetectorFlag(flag: lua.boolean(at: -3),
                                               score: lua.type(at: -2) == .number ? lua.number(at: -2) : nil,
                                               reason: lua.type(at: -1) == .string ? lua.string(at: -1) : nil)
                lua.pop(3)
            } catch {
                row.failures.append((name, (error as? LuaError)?.message ?? "\(error)"))
            }
        }
        return row
    }
}
