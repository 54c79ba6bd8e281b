import LuaKit
import AlignMath

extension Workbench {
    /// The `reward` module: reward objects (define/get/list/remove/combine, in `RewardLua`),
    /// `normalize`, `score` over records with worker states, and the built-in rewards.
    static func installReward(_ wb: Workbench) throws {
        let lua = wb.lua
        try RewardLibrary.install(lua)
        try recordStartupGlobals(lua)
        let m = ModuleBuilder(lua, name: "reward", doc: """
            reward: scripted reward functions
            define, get, list, remove, combine (weights may be functions of state), normalize,
            score, check (determinism, NaN, errors, range, latency); built-in rewards format, length,
            accuracy, repetition (reward.list() names them; help(reward.get("format")) explains
            one), and the constructors reward.format(pattern), reward.length{...},
            reward.accuracy{...}, reward.repetition{...} for variants.
            Example: reward.define("short", function(s) return -#s.completion / 100 end)
            """)
        for (name, doc) in RewardDocs.luaFunctions {
            m.function(name, doc: doc, RewardLibrary.forwarder(name))
        }
        installNormalize(m)
        installScore(m)
        installCheck(m)
        try installBuiltinRewards(m)
    }

    /// Keeps the names of the globals a fresh state has, so exporting to workers skips them.
    private static func recordStartupGlobals(_ lua: LuaState) throws {
        try RewardLibrary.pushField(lua, "lib", "typename")  // any field proves the library is there
        lua.pop()
        try lua.run("""
            local names = {}
            for k in pairs(_G) do names[k] = true end
            return names
            """, name: "=reward")
        lua.pushRegistry()
        lua.getField(RewardLibrary.libraryKey)
        lua.pushValue(at: -3)
        lua.setField("startup")
        lua.pop(3)
    }

    private static func installNormalize(_ m: ModuleBuilder) {
        m.function("normalize", doc: """
            reward.normalize(scores, method) -> tensor
            Rescales scores: "zscore" (x - mean) / std with the population std (ddof = 0, as
            numpy; all equal gives zeros, an infinite score NaN everywhere as scipy's zscore),
            "rank" (scipy's rankdata "average" ranks of ties, scaled to [0, 1]: (rank - 1) /
            (n - 1), 0 for one score), or "minmax" (x - min) / (max - min) (all equal gives
            zeros). NaN entries (failed rows) stay NaN and are left out of the statistics.
            Example: reward.normalize({1, 2, 3, 10}, "rank")
            """) { args in
            let x = try args.doubles(1)
            let method = try args.string(2)
            try args.noOptions(3)
            guard ["zscore", "rank", "minmax"].contains(method) else {
                throw args.error(2, "method must be \"zscore\", \"rank\" or \"minmax\", got \"\(method)\"")
            }
            try args.state.push(tensorOf: RewardNormalize.apply(x, method: method))
            return 1
        }
    }
}

/// `reward.normalize`'s arithmetic.
enum RewardNormalize {
    static func apply(_ x: [Double], method: String) -> [Double] {
        let idx = x.indices.filter { !x[$0].isNaN }
        guard !idx.isEmpty else { return x }
        var out = x
        switch method {
        case "zscore":
            // All equal: zeros, checked on the values (a rounded mean of equal values such as
            // 0.1 differs from them by an ulp, and (x - mean) / std is then +-1, as scipy's
            // zscore gives). Infinite values: NaN everywhere, as scipy (inf - inf).
            let first = x[idx[0]]
            if first.isFinite && idx.allSatisfy({ x[$0] == first }) {
                for i in idx { out[i] = 0 }
                break
            }
            let mean = idx.reduce(0) { $0 + x[$1] } / Double(idx.count)
            let v = idx.reduce(0) { $0 + (x[$1] - mean) * (x[$1] - mean) } / Double(idx.count)
            let sd = v.squareRoot()
            for i in idx { out[i] = sd > 0 ? (x[i] - mean) / sd : (sd == 0 ? 0 : .nan) }
        case "minmax":
            let lo = idx.map { x[$0] }.min() ?? 0, hi = idx.map { x[$0] }.max() ?? 0
            for i in idx { out[i] = hi > lo ? (x[i] - lo) / (hi - lo) : 0 }
        default:
            let sorted = idx.sorted { x[$0] < x[$1] }
            var k = 0
            while k < sorted.count {
                var j = k
                while j + 1 < sorted.count && x[sorted[j + 1]] == x[sorted[k]] { j += 1 }
                let rank = Double(k + j) / 2  // 0-based average rank
                for t in k...j { out[sorted[t]] = sorted.count > 1 ? rank / Double(sorted.count - 1) : 0 }
                k = j + 1
            }
        }
        return out
    }
}
