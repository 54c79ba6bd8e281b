import LuaKit
import AlignMath

extension Workbench {
    /// The most worker states (threads) a call may ask for.
    static let maxWorkers = 256

    /// `reward.score(r, records, {workers = n, progress = true, state = {}})`.
    static func installScore(_ m: ModuleBuilder) {
        m.function("score", doc: """
            reward.score(r, records, {workers = 1, progress = true, state = {}}) -> scores, errors
            Scores every record (a table with completion, prompt and any other fields; records is
            a list or a dataset) with r (a reward, its name, or a function), called as
            r(record, state). scores is a tensor with NaN where a row failed or where the reward
            returned nil (does not apply: TRL's None, no error); errors is a list of
            {row =, message =}. A reward that raises never stops the batch, and neither does a
            malformed line of a data.jsonl or data.csv dataset: it is reported as that row's
            error, naming file and line. state (a table: step, epoch, max_steps...) is the
            second argument every call gets; an empty table when not given.
            workers = n runs n Lua states on n threads: each is a fresh moonlab state that gets
            the reward as bytecode (string.dump) with copies of its upvalues (numbers, strings,
            booleans, tables of them, other Lua functions, library functions such as math.floor),
            _ENV bound to the worker's globals, plus copies of your user globals and user
            rewards. Tensors, userdata and cyclic tables cannot travel (an error says which);
            upvalues are copies, so a reward that counts calls in an upvalue counts per worker;
            print inside a worker is discarded; before each row a worker seeds math.random and
            random.default from --seed and the row number, so what a reward draws does not depend
            on n or on which worker took the row. progress draws a bar on stderr when it is a
            terminal.
            Options: workers (1), progress (true), state ({}).
            Example: scores, errors = reward.score("format", rows, {workers = 2, state = {step = 100}})
            """) { args in
            let lua = args.state
            let o = try args.options(3, allowed: ["workers", "progress", "state"])
            let workers = try o.count("workers", in: 1...Workbench.maxWorkers, default: 1)
            let progress = try o.boolean("progress", default: true)
            let (stateIndex, target, recs, inputErrors) = try pushScoringInputs(args, options: o)
            let n = lua.rawLength(at: recs)
            var scores = [Double](repeating: .nan, count: n)
            var errors: [(Int, String)] = []
            let bar = ProgressBar(total: n, label: "reward.score", enabled: progress)
            defer { bar.finish() }
            if workers == 1 || n < 2 {
                for i in 0..<n {
                    defer { bar.update(i + 1) }
                    if let message = inputErrors[i + 1] { errors.append((i + 1, message)); continue }
                    lua.pushValue(at: target)
                    lua.rawGet(i + 1, of: recs)
                    lua.pushValue(at: stateIndex)
                    do {
                        try lua.pcall(nargs: 2, nresults: 1)
                        switch lua.type(at: -1) {
                        case .number: scores[i] = lua.number(at: -1) ?? .nan
                        case .nil: break  // does not apply
                        default: errors.append((i + 1, "reward returned \(lua.typeName(at: -1)), expected a number or nil"))
                        }
                        lua.pop()
                    } catch let e as LuaError where !e.isInterruption {
                        errors.append((i + 1, ErrorText.clean(e.message)))
                    }
                }
            } else {
                let bundle: LuaValue
                do { bundle = try PortableDefinitions.bundle(lua, targetAt: target, targetName: "__score_target") } catch let e as LuaError {
                    throw args.failure("cannot send the reward to workers: \(ErrorText.clean(e.message))")
                }
                guard lua.checkStack(stackReserve) else { throw args.failure("not enough Lua stack to read the records") }
                let state = lua.value(at: stateIndex, depth: 200) ?? .table([:])
                var records: [LuaValue] = []
                records.reserveCapacity(n)
                for i in 0..<n {
                    lua.rawGet(i + 1, of: recs)
                    records.append(inputErrors[i + 1] == nil ? (lua.value(at: -1) ?? .nil) : .table([:]))
                    lua.pop()
                }
                let engine = ScoringEngine(workers: workers, options: Workbench.of(lua)?.workerOptions ?? WorkbenchOptions())
                let rows = try engine.score(records: records,
                                            task: ScoringTask(rewards: ["__score_target"], bundle: bundle, state: state),
                                            progress: { done, _ in bar.update(done) })
                for (i, row) in rows.enumerated() {
                    if let message = inputErrors[i + 1] { errors.append((i + 1, message)); continue }
                    scores[i] = row.values.first ?? .nan
                    if let f = row.failures.first { errors.append((i + 1, f.message)) }
                }
            }
            lua.top = stateIndex - 1
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

    /// What reward.score and reward.check both push before calling a reward row by row: the
    /// `state` option (a fresh table when absent), the reward that argument 1 names or is,
    /// and the records of argument 2. Returns their stack indexes and the rows whose input
    /// could not be read.
    static func pushScoringInputs(_ args: LuaArguments, options o: LuaOptions) throws
        -> (state: Int32, reward: Int32, records: Int32, inputErrors: [Int: String]) {
        let lua = args.state
        let stateType = o.push("state")
        guard stateType == .nil || stateType == .table else { lua.pop(); throw o.optionError("state", "a table") }
        if stateType == .nil { lua.pop(); lua.newTable() }
        let stateIndex = lua.top
        lua.pushValue(at: 1)
        try RewardLibrary.call(lua, "resolve", nargs: 1, nresults: 2)
        if lua.isNil(-2) {
            let msg = lua.string(at: -1) ?? "reward expected"
            lua.pop(2)
            throw args.error(1, msg)
        }
        lua.pop()
        let target = lua.top
        let (recs, inputErrors) = try collectRecords(args, at: 2)
        return (stateIndex, target, recs, inputErrors)
    }

    /// Pushes the records at argument `index` as a Lua array, and returns its stack index
    /// and the rows (1-based) whose input could not be read. A dataset is read here, one
    /// record at a time, so that a malformed line of its file becomes that row's error
    /// (`data.jsonl: f.jsonl:3: ...`) instead of stopping the call; its slot in the array
    /// holds an empty table. Anything else goes through the reward library's `collect`
    /// (a list as it is, or whatever has an `each()` iterator).
    static func collectRecords(_ args: LuaArguments, at index: Int32) throws -> (Int32, [Int: String]) {
        let lua = args.state
        var bad: [Int: String] = [:]
        if let dataset = lua.object(at: index, Dataset.self) {
            let cursor = try dataset.cursor(lua)
            defer { cursor.close() }
            lua.newTable()
            let list = lua.top
            var row = 0
            while true {
                try LuaInterrupt.check()
                do {
                    guard try cursor.next(lua) else { break }
                    row += 1
                } catch let e as DataFileError where e.row {
                    row += 1
                    bad[row] = "\(dataset.sourceFunction): \(e.message)"
                    lua.newTable()
                } catch let e as DataFileError {
                    throw LuaScriptError("\(dataset.sourceFunction): \(e.message)")
                }
                lua.rawSet(row, of: list)
            }
            return (list, bad)
        }
        lua.pushValue(at: index)
        do { try RewardLibrary.call(lua, "collect", nargs: 1, nresults: 1) } catch let e as LuaError {
            throw LuaScriptError(ErrorText.clean(e.message))
        }
        guard lua.type(at: -1) == .table else { throw args.typeError(index, expected: "array of records or a dataset") }
        return (lua.top, bad)
    }
}

extension Workbench {
    /// The options a worker state is made with: this state's, printing nowhere, and what
    /// this state knows to be sandboxed code (a plugin loaded since it started included).
    var workerOptions: WorkbenchOptions {
        var o = options
        o.output = { _ in }
        o.sandboxedSources = sandboxedSources
        return o
    }
}
