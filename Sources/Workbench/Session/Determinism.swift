import AlignMath
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
        // math.randomseed as installed, for `reseed(row:)` (a script may replace the global).
        if lua.getGlobal("math") == .table, lua.getField("randomseed") == .function {
            randomseedRef = LuaRef(popping: lua)
            lua.pop()
        } else {
            lua.pop(2)
        }
    }

    /// Reseeds this state's own random sources for one row of a batch (`moonlab score`):
    /// `math.random` as `math.randomseed(seed, row)` and `random.default` (which `random.new()`
    /// splits and samplers fall back to) from `seed` and `row` mixed. A row's draws then depend
    /// on `--seed` and the row alone, not on which worker took it or what it scored before, so
    /// `--workers`, `--shard` and `--resume` give the same output as one uninterrupted run.
    public func reseed(row: Int) {
        guard let ref = randomseedRef else { return }
        let top = lua.top
        ref.push(lua)
        lua.push(options.seed)
        lua.push(row)
        try? lua.pcall(nargs: 2, nresults: 0)
        lua.top = top
        RandomModule.defaultGenerator(lua).reseed(Workbench.rowSeed(options.seed, row))
    }

    /// SplitMix64's finalizer over the seed and the row: distinct rows, unrelated streams.
    static func rowSeed(_ seed: Int, _ row: Int) -> UInt64 {
        var z = UInt64(bitPattern: Int64(seed)) &+ 0x9E37_79B9_7F4A_7C15 &* (UInt64(bitPattern: Int64(row)) &+ 1)
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
