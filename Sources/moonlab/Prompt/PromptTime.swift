import LuaKit
import Workbench

/// `:time CODE`, as IPython's `%timeit`: the code (an expression or statements) is
/// compiled once inside a counted loop, the loop count grows 1, 2, 5, 10, 20, ... until
/// one batch takes 0.2 s, then 7 batches are timed (fewer when they would pass 3 s), and
/// the mean and standard deviation per loop are shown. `-n N` fixes the loop count,
/// `-r R` the batches.
extension PromptSession {
    struct TimingPlan: Equatable {
        var loops: Int?
        var runs: Int = 7
        var code: String
    }

    /// Splits `-n N -r R CODE`.
    static func timingPlan(_ text: String) -> Result<TimingPlan, TimingError> {
        var plan = TimingPlan(loops: nil, code: text)
        var rest = Substring(text)
        while rest.hasPrefix("-n ") || rest.hasPrefix("-r ") {
            let flag = rest.prefix(2)
            rest = rest.dropFirst(3).drop(while: { $0 == " " })
            let digits = rest.prefix(while: { $0.isNumber })
            guard let v = Int(digits), v >= 1, v <= 1_000_000_000 else {
                return .failure(TimingError(message: ":time \(flag) needs a whole number from 1 to 10^9"))
            }
            if flag == "-n" { plan.loops = v } else { plan.runs = v }
            rest = rest.dropFirst(digits.count).drop(while: { $0 == " " })
        }
        plan.code = String(rest)
        guard !plan.code.isEmpty else { return .failure(TimingError(message: ":time needs code after its options")) }
        return .success(plan)
    }

    struct TimingError: Error { var message: String }

    func time(_ text: String) {
        let plan: TimingPlan
        switch PromptSession.timingPlan(text) {
        case .success(let p): plan = p
        case .failure(let e): complain(e.message); return
        }
        let lua = workbench.lua
        let top = lua.top
        defer { lua.top = top; LuaInterrupt.clear() }
        let name = "=[\(entry + 1)]"
        // The loop header shares the code's first line, so error positions stay right.
        let header = "local __moonlab_n = ... for __moonlab_i = 1, __moonlab_n do "
        do {
            do {
                try lua.load(header + "local _ = " + plan.code + "\nend", name: name)
            } catch {
                try lua.load(header + plan.code + "\nend", name: name)
            }
        } catch let e as LuaError {
            complain(e.isIncompleteChunk ? ":time: the code is not complete" : e.message)
            return
        } catch {
            complain("\(error)")
            return
        }
        workbench.rememberChunk(name, plan.code)
        let loop = LuaRef(popping: lua)
        defer { loop.release(lua) }
        LuaInterrupt.clear()
        func batch(_ n: Int) throws -> Double {
            loop.push(lua)
            lua.push(n)
            lua.resetBudget()
            let t0 = Clock.now()
            try lua.pcall(nargs: 1, nresults: 0)
            return Clock.now() - t0
        }
        do {
            var loops = plan.loops ?? 1
            var first: Double? = nil
            if plan.loops == nil {
                // autorange, as timeit.Timer.autorange: 1, 2, 5, 10, 20, 50, ...
                var steps = [1, 2, 5].makeIterator(), scale = 1
                while true {
                    guard let s = steps.next() else { steps = [1, 2, 5].makeIterator(); scale *= 10; continue }
                    loops = s * scale
                    let t = try batch(loops)
                    if t >= 0.2 || loops >= 1_000_000_000 { first = t; break }
                }
            }
            var times: [Double] = []
            if let first, loops == 1 { times.append(first) }  // one slow call: already a measurement
            let budget = 3.0
            var spent = times.reduce(0, +)
            while times.count < plan.runs {
                if plan.loops == nil, !times.isEmpty, spent + times[times.count - 1] > budget { break }
                let t = try batch(loops)
                times.append(t)
                spent += t
            }
            write(PromptSession.timingReport(times: times, loops: loops) + "\n")
        } catch let e as LuaError {
            let lead = interactive && e.message.hasSuffix("interrupted") ? "\n" : ""
            write(lead + style.error(e.message) + "\n")
        } catch {
            complain("\(error)")
        }
    }

    /// `1.23 ms ± 45.6 us per loop (mean ± std. dev. of 7 runs, 100 loops each)`.
    static func timingReport(times: [Double], loops: Int) -> String {
        let per = times.map { $0 / Double(loops) }
        let mean = per.reduce(0, +) / Double(per.count)
        let sd = per.count > 1 ? (per.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(per.count - 1)).squareRoot() : 0
        let runs = times.count == 1 ? "1 run" : "\(times.count) runs"
        let each = loops == 1 ? "1 loop each" : "\(grouped(loops)) loops each"
        return "\(duration(mean)) ± \(duration(sd)) per loop (mean ± std. dev. of \(runs), \(each))"
    }

    /// Seconds with three significant digits and a unit (ns, us, ms, s).
    static func duration(_ s: Double) -> String {
        let (v, unit): (Double, String) = s < 1e-6 ? (s * 1e9, "ns") : s < 1e-3 ? (s * 1e6, "us") : s < 1 ? (s * 1e3, "ms") : (s, "s")
        let digits = v >= 100 ? 0 : v >= 10 ? 1 : 2
        return formatFixed(v, digits) + " " + unit
    }

    static func formatFixed(_ v: Double, _ digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let r = (v * scale).rounded() / scale
        var s = "\(r)"
        if let dot = s.firstIndex(of: ".") {
            let have = s.distance(from: dot, to: s.endIndex) - 1
            if digits == 0 { s = String(s[..<dot]) } else if have < digits { s += String(repeating: "0", count: digits - have) }
        } else if digits > 0 {
            s += "." + String(repeating: "0", count: digits)
        }
        return s
    }

    /// 10000 -> "10,000".
    static func grouped(_ n: Int) -> String {
        let s = String(n)
        var out = ""
        for (i, c) in s.enumerated() {
            if i > 0 && (s.count - i) % 3 == 0 { out += "," }
            out.append(c)
        }
        return out
    }
}
