import Foundation
import LuaKit

/// A trainer's request scored inside one worker: the body's JSON is parsed straight onto
/// the worker's Lua stack (no Swift value per row), checked, turned into records and
/// scored, all on the worker's thread. What `moonlab serve` runs for `POST /get_reward`
/// (OpenRLHF's remote reward protocol) and `POST /score`.
public struct ScoredRequest: Sendable {
    public var rows: [ScoredRow] = []
    /// Each row's record as JSON text (when asked for: the audit log), in row order.
    public var records: [[UInt8]] = []
    /// The training step the rewards saw (`"step"` in the body, else the header's).
    public var step: Int?
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
                for i in 1...max(1, n) where i <= n {
                    guard lua.rawGet(i, of: index) == .string else {
                        let got = lua.typeName(at: -1)
                        lua.pop()
                        throw RequestProblem("\"\(k)\"[\(i - 1)] must be a string, got \(got)")
                    }
                    lua.pop()
                }
            }
            let state = try self.state(lua, request, limits)
            var out = ScoredRequest(step: state.step)
            out.rows.reserveCapacity(n)
            for i in 0..<n {
                let base = lua.top
                lua.createTable(array: 0, record: 4)
                let record = lua.top
                lua.rawGet(i + 1, of: query)
                lua.setField("query", of: record)
                if prompts != 0 {
                    lua.rawGet(i + 1, of: prompts)
                    lua.setField("prompt", of: record)
                }
                if labels != 0, lua.rawGet(i + 1, of: labels) != .nil, !isNull(lua, -1) {
                    lua.setField("label", of: record)
                } else if labels != 0 {
                    lua.pop()
                }
                pushCompletion(lua, record: record)
                lua.setField("completion", of: record)
                out.rows.append(score(lua, record: record, state: state.index, limits: limits))
                if limits.keepRecords { out.records.append(encode(lua, record)) }
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
            var out = ScoredRequest(step: state.step)
            out.rows.reserveCapacity(n)
            for i in 0..<n {
                let base = lua.top
                lua.rawGet(i + 1, of: records)
                if !isObject(lua, -1) {
                    out.rows.append(.inputFailure("record \(i) is not a JSON object", names: worker.names))
                    if limits.keepRecords { out.records.append(Array("{}".utf8)) }
                } else {
                    out.rows.append(score(lua, record: lua.top, state: state.index, limits: limits))
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
            let got = lua.typeName(at: -1)
            lua.pop()
            throw RequestProblem("\"\(key)\" must be a list, got \(got)")
        }
        let n = lua.rawLength(at: -1)
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
            lua.pop()
            throw RequestProblem("\"step\" must be an integer, got \(lua.typeName(at: -1))")
        }
        lua.pop()
        guard let step else { return (0, nil) }
        lua.createTable(array: 0, record: 1)
        lua.push(integer: Int64(step))
        lua.setField("step", of: -2)
        return (lua.top, step)
    }

    /// Scores one record, or fails it when the request's time is up.
    private func score(_ lua: LuaState, record: Int32, state: Int32, limits: RequestLimits) -> ScoredRow {
        if DispatchTime.now() > limits.deadline {
            var row = ScoredRow(names: worker.names)
            for name in worker.names.rewards + worker.names.detectors {
                row.failures.append((name, "timeout: the request took longer than its time limit"))
            }
            return row
        }
        return worker.scoreRecord(at: record, state: state == 0 ? nil : state)
    }

    /// Pushes the completion: the query at `record` without its leading prompt.
    private func pushCompletion(_ lua: LuaState, record: Int32) {
        lua.getField("query", of: record)
        lua.getField("prompt", of: record)
        if let q = lua.rawBytes(at: -2), let p = lua.rawBytes(at: -1), lua.type(at: -1) == .string,
           p.count <= q.count, UnsafeRawBufferPointer(rebasing: q[0..<p.count]).elementsEqual(p) {
            let rest = UnsafeRawBufferPointer(rebasing: q[p.count...])
            lua.pop(2)
            lua.push(bytes: rest)
        } else {
            lua.pop()
        }
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
