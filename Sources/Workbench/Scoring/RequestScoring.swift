import Foundation
import LuaKit
import LuaShim

/// A trainer's request scored inside one worker: the body's JSON is parsed straight onto
/// the worker's Lua stack (no Swift value per row), checked, turned into records and
/// scored, all on the worker's thread. What `moonlab serve` runs for `POST /get_reward`
/// (OpenRLHF's remote reward protocol) and `POST /score`.
///
/// The outcomes are flat, row-major buffers (reward k of row i at `i * rewards + k`), with
/// the failures kept apart for the few rows that have any: a request of 64 rows costs a
/// handful of arrays, not a few per row. `row(i)` (and `rows`) gives a `ScoredRow` where one
/// is wanted (the audit log, `/score`, error reports).
public struct ScoredRequest: Sendable {
    public let names: ScoringNames
    /// How many rows.
    public private(set) var count = 0
    /// Each reward's value (NaN where it failed or did not apply), row-major.
    public private(set) var values: [Double] = []
    /// Each reward's outcome, row-major.
    public private(set) var outcomes: [RewardOutcome] = []
    /// Each detector's flag (nil where it raised), row-major.
    public private(set) var detectorFlags: [DetectorFlag?] = []
    /// The failures of the rows that have any, by row (a record that could not be read
    /// has one named "input").
    public private(set) var failures: [Int: [(name: String, message: String)]] = [:]
    /// Each row's record as JSON text (when asked for: the audit log), in row order.
    public var records: [[UInt8]] = []
    /// The training step the rewards saw (`"step"` in the body, else the header's).
    public var step: Int?

    public init(names: ScoringNames, step: Int? = nil) {
        self.names = names
        self.step = step
    }

    /// Row `i` as a `ScoredRow`.
    public func row(_ i: Int) -> ScoredRow {
        let r = names.rewards.count, d = names.detectors.count
        var row = ScoredRow(names: names)
        row.values = Array(values[(i * r)..<(i * r + r)])
        row.outcomes = Array(outcomes[(i * r)..<(i * r + r)])
        row.detectorFlags = Array(detectorFlags[(i * d)..<(i * d + d)])
        row.failures = failures[i] ?? []
        return row
    }

    /// Every row as a `ScoredRow`, in order.
    public var rows: [ScoredRow] { (0..<count).map(row) }

    /// Whether row `i` failed: its record could not be read, or a reward or detector raised,
    /// returned NaN/inf or ran out of time (a trainer gets `--on-error` for it).
    public func failed(_ i: Int) -> Bool {
        if !failures.isEmpty, failures[i] != nil { return true }
        let r = names.rewards.count
        for k in (i * r)..<(i * r + r) where outcomes[k] == .nonFinite || outcomes[k] == .failed { return true }
        return false
    }

    /// Whether row `i` failed as a trainer sees it (`--on-error` and 1 in `moonlab/errors`):
    /// its record could not be read, or a reward raised, returned NaN/inf or ran out of time.
    /// A detector that raised leaves the rewards standing, so it is not counted here.
    public func rewardsFailed(_ i: Int) -> Bool {
        if inputError(i) != nil { return true }
        let r = names.rewards.count
        for k in (i * r)..<(i * r + r) where outcomes[k] == .nonFinite || outcomes[k] == .failed { return true }
        return false
    }

    /// The input failure of row `i` (its record is not a JSON object), if any.
    public func inputError(_ i: Int) -> String? {
        if failures.isEmpty { return nil }
        return failures[i]?.first { $0.name == "input" }?.message
    }

    /// Makes room for `n` rows that `add` then fills.
    mutating func reserve(_ n: Int) {
        values.reserveCapacity(n * names.rewards.count)
        outcomes.reserveCapacity(n * names.rewards.count)
        detectorFlags.reserveCapacity(n * names.detectors.count)
    }

    /// Appends a row: `score` writes its slots (values NaN, outcomes `.failed` and flags nil
    /// beforehand) and appends its failures.
    mutating func add(_ score: (UnsafeMutableBufferPointer<Double>, UnsafeMutableBufferPointer<RewardOutcome>,
                                UnsafeMutableBufferPointer<DetectorFlag?>, inout [(name: String, message: String)]) -> Void) {
        let r = names.rewards.count, d = names.detectors.count
        let i = count
        // (An empty append still makes a new buffer for an array with none: no detectors.)
        if r == 1 {
            values.append(.nan)
            outcomes.append(.failed)
        } else if r > 0 {
            values.append(contentsOf: repeatElement(.nan, count: r))
            outcomes.append(contentsOf: repeatElement(.failed, count: r))
        }
        if d > 0 { detectorFlags.append(contentsOf: repeatElement(nil, count: d)) }
        var rowFailures: [(name: String, message: String)] = []
        values.withUnsafeMutableBufferPointer { v in
            outcomes.withUnsafeMutableBufferPointer { o in
                detectorFlags.withUnsafeMutableBufferPointer { f in
                    score(UnsafeMutableBufferPointer(rebasing: v[(i * r)..<(i * r + r)]),
                          UnsafeMutableBufferPointer(rebasing: o[(i * r)..<(i * r + r)]),
                          UnsafeMutableBufferPointer(rebasing: f[(i * d)..<(i * d + d)]), &rowFailures)
                }
            }
        }
        if !rowFailures.isEmpty { failures[i] = rowFailures }
        count += 1
    }

    /// Appends a row none of whose rewards ran, failed with `failures`.
    mutating func add(failing rowFailures: [(name: String, message: String)]) {
        add { _, _, _, f in f = rowFailures }
    }
}

/// A request the server must refuse (400), with the reason.
public struct RequestProblem: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ message: String) { description = message }
}

/// How a request is scored beyond the task: when to give up, and the step from a header.
public struct RequestLimits: Sendable {
    /// Rows not started by then fail with "timeout" (their reward never runs).
    public var deadline: DispatchTime
    /// The step a header gave (the body's `"step"` wins).
    public var headerStep: Int?
    /// Keep each row's record as JSON text (for the audit log).
    public var keepRecords: Bool
    public init(deadline: DispatchTime, headerStep: Int? = nil, keepRecords: Bool = false) {
        self.deadline = deadline
        self.headerStep = headerStep
        self.keepRecords = keepRecords
    }
}

extension PoolWorker {
    /// `POST /get_reward`: `{"query": [...], "prompts": [...], "labels": [...], "step": N}`.
    /// `query` is required (a list of strings; prompt + response each); `prompts` and
    /// `labels` may be absent or null, else lists of the same length (a label may be any
    /// JSON value, null for none). Row i becomes the record `{query =, prompt =, label =,
    /// completion =}`, `completion` being `query` without its leading `prompt` (the whole
    /// query when it does not start with it).
    public func scoreGetReward(body: UnsafeRawBufferPointer, limits: RequestLimits) -> Result<ScoredRequest, RequestProblem> {
        withRequest(body) { lua, request in
            guard isObject(lua, request) else { throw RequestProblem("the body must be a JSON object with a \"query\" list") }
            let query = try list(lua, request, "query", required: true)
            let n = query == 0 ? 0 : lua.rawLength(at: query)
            let prompts = try list(lua, request, "prompts", count: n)
            let labels = try list(lua, request, "labels", count: n)
            for (k, index) in [("query", query), ("prompts", prompts)] where index != 0 {
                var type: Int32 = 0
                let bad = mlshim_first_non_string(lua.L, index, lua_Integer(n), &type)
                if bad != 0 {
                    lua.rawGet(Int(bad), of: index)
                    let got = jsonType(lua, -1)
                    lua.pop()
                    throw RequestProblem("\"\(k)\"[\(bad - 1)] must be a string, got \(got)")
                }
            }
            let state = try self.state(lua, request, limits)
            sentinels.null.push(lua)
            let null = lua.top
            for key in ["query", "prompt", "label", "completion"] { lua.push(key) }  // the records' keys
            let keys = lua.top - 3
            var out = ScoredRequest(names: worker.names, step: state.step)
            out.reserve(n)
            for i in 0..<n {
                let base = lua.top
                mlshim_push_request_row(lua.L, query, prompts, labels, null, keys, lua_Integer(i + 1))
                score(lua, record: lua.top, state: state.index, limits: limits, into: &out)
                if limits.keepRecords { out.records.append(encode(lua, lua.top)) }
                lua.top = base
            }
            return out
        }
    }

    /// `POST /score`: `{"records": [...], "step": N}`; each record is scored as `moonlab
    /// score` scores a line (a record that is not an object is that row's input error).
    public func scoreRecords(body: UnsafeRawBufferPointer, limits: RequestLimits) -> Result<ScoredRequest, RequestProblem> {
        withRequest(body) { lua, request in
            guard isObject(lua, request) else { throw RequestProblem("the body must be a JSON object with a \"records\" list") }
            let records = try list(lua, request, "records", required: true)
            let n = records == 0 ? 0 : lua.rawLength(at: records)
            let state = try self.state(lua, request, limits)
            var out = ScoredRequest(names: worker.names, step: state.step)
            out.reserve(n)
            for i in 0..<n {
                let base = lua.top
                lua.rawGet(i + 1, of: records)
                if !isObject(lua, -1) {
                    out.add(failing: [("input", "record \(i) is not a JSON object")])
                    if limits.keepRecords { out.records.append(Array("{}".utf8)) }
                } else {
                    score(lua, record: lua.top, state: state.index, limits: limits, into: &out)
                    if limits.keepRecords { out.records.append(encode(lua, lua.top)) }
                }
                lua.top = base
            }
            return out
        }
    }

    /// Parses the body onto this worker's stack and runs `body` with the value's index;
    /// the stack is restored afterwards.
    private func withRequest(_ json: UnsafeRawBufferPointer,
                             _ body: (LuaState, Int32) throws -> ScoredRequest) -> Result<ScoredRequest, RequestProblem> {
        let lua = worker.workbench.lua
        let base = lua.top
        defer { lua.top = base }
        guard lua.checkStack(64) else { return .failure(RequestProblem("not enough Lua stack")) }
        do {
            try decoder.push(json, into: lua)
        } catch {
            return .failure(RequestProblem("the body is not valid JSON: \(error)"))
        }
        do { return .success(try body(lua, lua.top)) } catch let e as RequestProblem {
            return .failure(e)
        } catch {
            return .failure(RequestProblem("\(error)"))
        }
    }

    /// The index of the list `request[key]`, 0 when absent or null; an error when it is
    /// not a list or (with `count`) has another length.
    private func list(_ lua: LuaState, _ request: Int32, _ key: String, required: Bool = false, count: Int? = nil) throws -> Int32 {
        lua.push(key)
        let t = lua.rawGet(of: request)
        if t == .nil || isNull(lua, -1) {
            lua.pop()
            if required { throw RequestProblem("the body has no \"\(key)\" list") }
            return 0
        }
        guard t == .table else {
            let got = jsonType(lua, -1)
            lua.pop()
            throw RequestProblem("\"\(key)\" must be a list, got \(got)")
        }
        let n = lua.rawLength(at: -1)
        if n == 0 && !sentinels.isMarkedArray(lua, at: -1) && !isEmptyTable(lua, lua.top) {
            // A JSON object (its keys are strings, so its length is 0): not a list of rows.
            lua.pop()
            throw RequestProblem("\"\(key)\" must be a list, got an object")
        }
        if let count, n != count {
            lua.pop()
            throw RequestProblem("\"\(key)\" has \(n) items but \"query\" has \(count): the lists must have the same length")
        }
        return lua.top
    }

    /// The state table for this request: `{step = N}` from the body's `"step"` (or the
    /// header's), pushed; else the task's own (index 0).
    private func state(_ lua: LuaState, _ request: Int32, _ limits: RequestLimits) throws -> (index: Int32, step: Int?) {
        lua.push("step")
        let t = lua.rawGet(of: request)
        var step = limits.headerStep
        if t == .number {
            guard let v = lua.number(at: -1), v.rounded() == v, abs(v) < 9e15 else {
                lua.pop()
                throw RequestProblem("\"step\" must be an integer")
            }
            step = Int(v)
        } else if t != .nil && !isNull(lua, -1) {
            let got = jsonType(lua, -1)
            lua.pop()
            throw RequestProblem("\"step\" must be an integer, got \(got)")
        }
        lua.pop()
        guard let step else { return (0, nil) }
        lua.createTable(array: 0, record: 1)
        lua.push(integer: Int64(step))
        lua.setField("step", of: -2)
        return (lua.top, step)
    }

    /// Scores one record into `out`, or fails it when the request's time is up.
    private func score(_ lua: LuaState, record: Int32, state: Int32, limits: RequestLimits, into out: inout ScoredRequest) {
        if DispatchTime.now() > limits.deadline {
            let names = worker.names
            out.add(failing: (names.rewards + names.detectors).map { ($0, "timeout: the request took longer than its time limit") })
            return
        }
        out.add { values, outcomes, flags, failures in
            worker.scoreRecord(at: record, state: state == 0 ? nil : state, values: values, outcomes: outcomes,
                               flags: flags, failures: &failures)
        }
    }

    /// The JSON type of a decoded value, for messages: "a string", "null", "a list", "an object"...
    private func jsonType(_ lua: LuaState, _ index: Int32) -> String {
        switch lua.type(at: index) {
        case .string: return "a string"
        case .number: return "a number"
        case .boolean: return "a boolean"
        case .table:
            return lua.rawLength(at: index) > 0 || sentinels.isMarkedArray(lua, at: index) ? "a list" : "an object"
        default: return isNull(lua, index) ? "null" : lua.typeName(at: index)
        }
    }

    /// A table with no key at all (`index` absolute): `[]`, or `{}` taken as an empty list.
    private func isEmptyTable(_ lua: LuaState, _ index: Int32) -> Bool {
        lua.pushNil()
        if lua.next(of: index) {
            lua.pop(2)
            return false
        }
        return true
    }

    private func isNull(_ lua: LuaState, _ index: Int32) -> Bool {
        lua.type(at: index) == .userdata && sentinels.isNull(lua, at: index)
    }

    /// A JSON object: a table that is neither a list (items 1..n) nor an empty JSON array
    /// (data.array's marker).
    private func isObject(_ lua: LuaState, _ index: Int32) -> Bool {
        lua.type(at: index) == .table && lua.rawLength(at: index) == 0 && !sentinels.isMarkedArray(lua, at: index)
    }

    private func encode(_ lua: LuaState, _ index: Int32) -> [UInt8] {
        let encoder = JSONEncoderFromLua(state: lua)
        do { try encoder.encode(at: index, in: lua) } catch { return Array("{}".utf8) }
        return encoder.bytes
    }
}
