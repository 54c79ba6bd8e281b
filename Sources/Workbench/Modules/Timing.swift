import LuaKit

extension Workbench {
    /// The most runs (and warm-up runs) `timeit` and `:time` take.
    static let maxTimedRuns = 100_000_000

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
            let runs = try o.count("runs", in: 1...Workbench.maxTimedRuns, default: 5)
            let warmup = try o.count("warmup", in: 0...Workbench.maxTimedRuns, default: 1)
            let s = args.state
            var times: [Double] = []
            times.reserveCapacity(runs)
            for i in 0..<(warmup + runs) {
                try s.checkpoint()  // fn may be a C function, which no hook sees
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
