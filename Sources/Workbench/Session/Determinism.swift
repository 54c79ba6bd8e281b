import LuaKit

/// Everything that can differ between two runs of a session goes through here:
/// `math.random` is seeded from the session's seed, and the values of `os.time()`,
/// `os.clock()` and `os.date()` (without an explicit time) are recorded per entry and
/// served back in replay.
public final class ClockTap {
    /// Values observed in the current entry (recording).
    public private(set) var observed: [Double] = []
    /// Values to serve in the current entry (replay); nil when live.
    private var replaying: [Double]?
    private var next = 0

    /// Starts an entry: live, or serving the recorded values.
    public func begin(replaying values: [Double]?) {
        observed = []
        replaying = values
        next = 0
    }

    /// The value to hand to the script for a clock reading `live`.
    func tap(_ live: Double) -> Double {
        var v = live
        if let r = replaying, next < r.count { v = r[next] }
        next += 1
        observed.append(v)
        return v
    }
}

extension Workbench {
    /// Seeds `math.random` and routes the clock functions through the tap.
    func installDeterminism() throws {
        lua.push(function: "moonlab.clock_tap") { args in
            let v = try args.number(1)
            args.state.push(Workbench.of(args.state)?.clock.tap(v) ?? v)
            return 1
        }
        lua.setGlobal("__moonlab_clock_tap")
        try lua.run("""
            math.randomseed(\(options.seed))
            if os then
              local tap, time, clock, date = __moonlab_clock_tap, os.time, os.clock, os.date
              os.time = function(t) if t ~= nil then return time(t) end return math.tointeger(tap(time())) end
              os.clock = function() return tap(clock()) end
              os.date = function(fmt, t) return date(fmt, t == nil and os.time() or t) end
            end
            __moonlab_clock_tap = nil
            """, name: "=moonlab.determinism")
    }
}
