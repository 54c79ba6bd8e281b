import LuaKit

extension Workbench {
    /// The global `timeit`: median, min and max wall-clock seconds of `fn()`.
    static func installTiming(_ wb: Workbench) throws {
        registerGlobal(wb.lua, "timeit", doc: """
            timeit(fn, {runs = 5, warmup = 1}) -> median, min, max
            Calls fn() warmup times untimed, then runs times, and returns the median, minimum and
            maximum wall-clock seconds. `:time EXPR` at the prompt prints the same.
            Example: timeit(function() dist.log_softmax(x) end, {runs = 10})
            """) { args in
            try args.callable(1)
            let o = try args.options(2, allowed: ["runs", "warmup"])
            let runs = try o.integer("runs", default: 5), warmup = try o.integer("warmup", default: 1)
            guard runs >= 1 else { throw args.error(2, "option 'runs' must be at least 1, got \(runs)") }
            guard warmup >= 0 else { throw args.error(2, "option 'warmup' must be at least 0, got \(warmup)") }
            let s = args.state
            var times: [Double] = []
            for i in 0..<(warmup + runs) {
                s.pushValue(at: 1)
                let t0 = Clock.now()
                try s.pcall(nargs: 0, nresults: 0)
                if i >= warmup { times.append(Clock.now() - t0) }
            }
            times.sort()
            let median = times.count % 2 == 1 ? times[times.count / 2] : (times[times.count / 2 - 1] + times[times.count / 2]) / 2
            s.push(median); s.push(times[0]); s.push(times[times.count - 1])
            return 3
        }
    }
}
