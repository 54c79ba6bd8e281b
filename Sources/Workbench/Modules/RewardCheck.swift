import Foundation
import LuaKit

/// `reward.check`: a reward's health before it reaches a trainer. A reward that gives a
/// different number for the same sample (a random call, a clock, state kept between calls),
/// returns NaN or inf, raises on some records, or takes a second per call makes a training
/// run fail far from its cause; here each shows up on the records that trigger it.
extension Workbench {
    static func installCheck(_ m: ModuleBuilder) {
        m.function("check", doc: """
            reward.check(r, records, {runs = 2, state = {}, range = nil}) -> report
            Calls the reward r (a reward, its name or a function) on every record `runs` times, in
            this state, and reports: deterministic (true when every record got the same result on
            every run: the same number, NaN counted equal to NaN, or nil every time, or an error
            every time), nondeterministic = {rows whose results differed}, nan_rows = {rows
            where it returned NaN or +-inf}, not_applicable = {rows where it returned nil},
            errors = {{row =, message =}} (the first run's error of each failing row; a value
            other than a number or nil is an error too), min and max of the finite values,
            out_of_range = {rows outside range = {lo, hi}} when range is given, and latency:
            p50_ms and p99_ms (numpy's linear percentiles) and mean_ms of one call, over every
            call. Rows are 1-based. state is the second argument of every call (reward.score's).
            Printed at the prompt as a table.
            Options: runs (2, at least 1); state ({}); range (nil).
            Example: report = reward.check("accuracy", rows, {runs = 3, range = {0, 1}}); report.deterministic
            """) { args in
            try checkReward(args)
        }
    }

    /// One record's result on one run.
    private enum Outcome: Equatable {
        case value(UInt64)  // bit pattern, NaN normalised
        case notApplicable
        case failed(String)

        init(_ x: Double) { self = .value(x.isNaN ? Double.nan.bitPattern : x.bitPattern) }
    }

    private static func checkReward(_ args: LuaArguments) throws -> Int32 {
        let lua = args.state
        let o = try args.options(3, allowed: ["runs", "state", "range"])
        let runs = try o.count("runs", in: 1...1_000_000, default: 2)
        var range: (Double, Double)?
        if let r = try o.doubles("range") {
            guard r.count == 2, r[0] <= r[1] else { throw o.optionError("range", "{lo, hi} with lo <= hi") }
            range = (r[0], r[1])
        }
        let (stateIndex, target, recs, inputErrors) = try pushScoringInputs(args, options: o)
        let n = lua.rawLength(at: recs)
        var outcomes = [[Outcome]](repeating: [], count: n)
        var values: [Double] = []
        var latencies: [Double] = []
        latencies.reserveCapacity(n * runs)
        for _ in 0..<runs {
            for i in 0..<n {
                if let message = inputErrors[i + 1] { outcomes[i].append(.failed(message)); continue }
                lua.pushValue(at: target)
                lua.rawGet(i + 1, of: recs)
                lua.pushValue(at: stateIndex)
                let start = DispatchTime.now().uptimeNanoseconds
                do {
                    try lua.pcall(nargs: 2, nresults: 1)
                    latencies.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
                    switch lua.type(at: -1) {
                    case .number:
                        let v = lua.number(at: -1) ?? .nan
                        outcomes[i].append(Outcome(v))
                        values.append(v)
                    case .nil: outcomes[i].append(.notApplicable)
                    default: outcomes[i].append(.failed("reward returned \(lua.typeName(at: -1)), expected a number or nil"))
                    }
                    lua.pop()
                } catch let e as LuaError where !e.isInterruption {
                    latencies.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
                    outcomes[i].append(.failed(ErrorText.clean(e.message)))
                }
            }
        }
        lua.top = stateIndex - 1
        var differ: [Int] = [], nanRows: [Int] = [], nilRows: [Int] = [], outside: [Int] = []
        var errors: [(Int, String)] = []
        for (i, runs) in outcomes.enumerated() {
            guard let first = runs.first else { continue }
            if runs.contains(where: { $0 != first }) { differ.append(i + 1) }
            if runs.contains(where: { if case .value(let b) = $0 { return !Double(bitPattern: b).isFinite }; return false }) {
                nanRows.append(i + 1)
            }
            if runs.contains(.notApplicable) { nilRows.append(i + 1) }
            if let message = runs.lazy.compactMap({ if case .failed(let m) = $0 { return m }; return nil }).first {
                errors.append((i + 1, message))
            }
            if let (lo, hi) = range, runs.contains(where: {
                if case .value(let b) = $0 { let v = Double(bitPattern: b); return v.isFinite && (v < lo || v > hi) }
                return false
            }) { outside.append(i + 1) }
        }
        let finite = values.filter(\.isFinite)
        let sorted = latencies.sorted()
        func percentile(_ q: Double) -> Double {
            guard !sorted.isEmpty else { return .nan }
            let pos = q * Double(sorted.count - 1)
            let lo = Int(pos.rounded(.down)), hi = min(lo + 1, sorted.count - 1)
            return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - Double(lo))
        }
        let p50 = percentile(0.5), p99 = percentile(0.99)
        let mean = sorted.isEmpty ? Double.nan : sorted.reduce(0, +) / Double(sorted.count)
        lua.newTable(recordCount: 14)
        lua.push(differ.isEmpty); lua.setField("deterministic", of: -2)
        LabReport.push(integers: differ, lua); lua.setField("nondeterministic", of: -2)
        LabReport.push(integers: nanRows, lua); lua.setField("nan_rows", of: -2)
        LabReport.push(integers: nilRows, lua); lua.setField("not_applicable", of: -2)
        lua.newTable(arrayCount: errors.count)
        for (k, e) in errors.enumerated() {
            lua.newTable(recordCount: 2)
            lua.push(e.0); lua.setField("row", of: -2)
            lua.push(e.1); lua.setField("message", of: -2)
            lua.rawSet(k + 1, of: -2)
        }
        lua.setField("errors", of: -2)
        if let lo = finite.min(), let hi = finite.max() {
            lua.push(lo); lua.setField("min", of: -2)
            lua.push(hi); lua.setField("max", of: -2)
        }
        if range != nil { LabReport.push(integers: outside, lua); lua.setField("out_of_range", of: -2) }
        lua.push(p50); lua.setField("p50_ms", of: -2)
        lua.push(p99); lua.setField("p99_ms", of: -2)
        lua.push(mean); lua.setField("mean_ms", of: -2)
        lua.push(n); lua.setField("records", of: -2)
        lua.push(runs); lua.setField("runs", of: -2)
        func rowList(_ rows: [Int]) -> String {
            rows.isEmpty ? "none" : "\(rows.count): rows " + rows.prefix(10).map(String.init).joined(separator: ", ") + (rows.count > 10 ? ", ..." : "")
        }
        var lines: [[String]] = [
            ["deterministic", differ.isEmpty ? "yes" : "NO, \(rowList(differ))"],
            ["NaN/inf", rowList(nanRows)],
            ["errors", errors.isEmpty ? "none" : "\(rowList(errors.map(\.0))); first: \(errors[0].1)"],
            ["not applicable", rowList(nilRows)],
            ["range", finite.isEmpty ? "no finite values" : "[\(LabReport.number(finite.min() ?? 0, 6)), \(LabReport.number(finite.max() ?? 0, 6))]"],
        ]
        if let (lo, hi) = range {
            lines.append(["outside [\(LabReport.number(lo)), \(LabReport.number(hi))]", rowList(outside)])
        }
        lines.append(["latency", "p50 \(LabReport.number(p50, 3)) ms, p99 \(LabReport.number(p99, 3)) ms, mean \(LabReport.number(mean, 3)) ms"])
        let text = "reward.check: \(n) records x \(runs) runs\n" + LabReport.table(["check", "result"], lines)
        LabReport.attach(lua, name: "reward.check", text: text)
        return 1
    }
}
