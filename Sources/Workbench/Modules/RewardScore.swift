import LuaKit
import AlignMath

extension Workbench {
    /// `reward.score(r, records, {workers = n, progress = true})`.
    static func installScore(_ m: ModuleBuilder) {
        m.function("score", doc: """
            reward.score(r, records, {workers = 1, progress = true}) -> scores, errors
            Scores every record (a table with completion, prompt and any other fields) with r (a
            reward, its name, or a function). scores is a tensor with NaN where a row failed;
            errors is a list of {row =, message =}. A reward that raises never stops the batch.
            workers = n runs n Lua states on n threads: each is a fresh moonlab state that gets
            the reward as bytecode (string.dump) with copies of its upvalues (numbers, strings,
            booleans, tables of them, other Lua functions, library functions such as math.floor),
            _ENV bound to the worker's globals, plus copies of your user globals and user
            rewards. Tensors, userdata and cyclic tables cannot travel (an error says which);
            upvalues are copies, so a reward that counts calls in an upvalue counts per worker;
            print inside a worker is discarded. progress draws a bar on stderr when it is a
            terminal.
            Options: workers (1), progress (true).
            Example: scores, errors = reward.score("format", rows, {workers = 2})
            """) { args in
            let lua = args.state
            let o = try args.options(3, allowed: ["workers", "progress"])
            let workers = try o.integer("workers", default: 1)
            guard workers >= 1 else { throw args.error(3, "option 'workers' must be >= 1, got \(workers)") }
            let progress = try o.boolean("progress", default: true)
            // resolve the reward
            lua.pushValue(at: 1)
            try RewardLibrary.call(lua, "resolve", nargs: 1, nresults: 2)
            if lua.isNil(-2) {
                let msg = lua.string(at: -1) ?? "reward expected"
                lua.pop(2)
                throw args.error(1, msg)
            }
            lua.pop()
            let target = lua.top
            // collect the records into an array
            lua.pushValue(at: 2)
            try RewardLibrary.call(lua, "collect", nargs: 1, nresults: 1)
            guard lua.type(at: -1) == .table else { throw args.typeError(2, expected: "array of records") }
            let recs = lua.top
            let n = lua.rawLength(at: recs)
            var scores = [Double](repeating: .nan, count: n)
            var errors: [(Int, String)] = []
            let bar = ProgressBar(total: n, label: "reward.score", enabled: progress)
            defer { bar.finish() }
            if workers == 1 || n < 2 {
                for i in 0..<n {
                    lua.pushValue(at: target)
                    lua.rawGet(i + 1, of: recs)
                    do {
                        try lua.pcall(nargs: 1, nresults: 1)
                        if lua.type(at: -1) == .number, let v = lua.number(at: -1) { scores[i] = v } else {
                            errors.append((i + 1, "reward returned \(lua.typeName(at: -1)), expected a number"))
                        }
                        lua.pop()
                    } catch let e as LuaError where !e.isInterruption {
                        errors.append((i + 1, e.message))
                    }
                    bar.update(i + 1)
                }
            } else {
                let bundle: LuaValue
                do { bundle = try PortableDefinitions.bundle(lua, targetAt: target, targetName: "__score_target") } catch let e as LuaError {
                    throw args.failure("cannot send the reward to workers: \(e.message)")
                }
                var records: [LuaValue] = []
                records.reserveCapacity(n)
                guard lua.checkStack(stackReserve) else { throw args.failure("not enough Lua stack to read the records") }
                for i in 0..<n {
                    lua.rawGet(i + 1, of: recs)
                    records.append(lua.value(at: -1) ?? .nil)
                    lua.pop()
                }
                let engine = ScoringEngine(workers: workers, options: Workbench.of(lua)?.workerOptions ?? WorkbenchOptions())
                let rows = try engine.score(records: records, task: ScoringTask(rewards: ["__score_target"], bundle: bundle),
                                            progress: { done, _ in bar.update(done) })
                for (i, row) in rows.enumerated() {
                    scores[i] = row.rewards["__score_target"] ?? .nan
                    if let f = row.failures.first { errors.append((i + 1, f.message)) }
                }
            }
            lua.top = target - 1
            try lua.push(tensorOf: scores)
            lua.newTable(arrayCount: errors.count)
            for (k, e) in errors.enumerated() {
                lua.newTable(recordCount: 2)
                lua.push(e.0); lua.setField("row")
                lua.push(e.1); lua.setField("message")
                lua.rawSet(k + 1, of: -2)
            }
            return 2
        }
    }
}

extension Workbench {
    /// The options a worker state is made with: this state's, printing nowhere.
    var workerOptions: WorkbenchOptions {
        var o = options
        o.output = { _ in }
        return o
    }
}
