import LuaKit
import AlignMath

extension Workbench {
    /// The `random` module: seeded xoshiro256** generators (AlignMath's `RandomGenerator`)
    /// as userdata of type `random.generator`, and `random.default`, seeded from `--seed`.
    static func installRandom(_ wb: Workbench) throws {
        let lua = wb.lua
        var docs: [(String, String)] = []
        lua.register(type: RandomGenerator.self, name: RandomModule.typeName) { b in
            RandomModule.addMethods(to: b, docs: &docs)
            b.meta("__tostring") { a in
                let g = try a.object(1, RandomGenerator.self)
                if let l = g.llama {
                    a.state.push("random.generator(llama.cpp, seed \(l.seed))")
                } else {
                    a.state.push("random.generator(state \(RandomModule.hex(g.stateBytes).prefix(16))...)")
                }
                return 1
            }
        }
        let m = ModuleBuilder(lua, name: "random", doc: """
            random: seeded generators, the only source of randomness in sampling
            A generator is xoshiro256** seeded through SplitMix64: the same seed gives the same
            stream on every machine, so sessions replay. random.default is seeded from --seed
            (0 by default) and is what chain:sample uses when given no generator.
            Methods: help(random.methods).
            Example: g = random.new(42); g:uniform(), g:normal(), g:categorical{0.2, 0.8}
            """)
        registerMethodDocs(lua, typeName: RandomModule.typeName, prefix: "generator", listName: "random.methods", docs: docs, doc: """
            random.methods: what a generator g answers to, as g:name(...)
            uniform, normal, gumbel, categorical, state, set_state, split, copy.
            Example: g = random.new(1); g:split():uniform()
            """)
        m.field("methods")
        let fallback = RandomGenerator(seed: wb.options.seed)
        lua.userInfo[RandomModule.defaultKey] = fallback
        lua.push(object: fallback)
        m.field("default")
        m.function("new", doc: """
            random.new([seed], {engine = "moonlab"}) -> generator
            A new generator. seed is an integer (any 64-bit value; negative seeds are taken as
            their two's-complement bits); the same seed gives the same stream on every machine.
            Without a seed the generator is random.default:split(), so it still follows --seed
            and a session replays.
            Options: engine ("moonlab"): "moonlab" is xoshiro256**; "llama.cpp" is llama.cpp's
            own generators (std::mt19937 seeded with seed, a 32-bit llama.cpp seed, reals as
            libstdc++ makes them): chain:sample then draws the token llama.cpp's dist sampler draws
            from the same seed (its inverse-CDF walk over the candidates in llama.cpp's order;
            std::discrete_distribution after mirostat; each xtc stage's chance from a stream of its
            own, as llama.cpp gives every xtc sampler its own mt19937 from the seed), so a
            llama.cpp run replays token for token.
            g:uniform() is then std::uniform_real_distribution<double>(0, 1) of that stream. Where
            llama.cpp re-seeds its samplers (llama_sampler_reset, a new request), make a new
            generator with the seed (or g:set_state a saved state); chain:reset() resets mu only.
            Example: g = random.new(42); print(g:uniform()); ll = random.new(1234, {engine = "llama.cpp"})
            """) { a in
            let o = try a.options(2, allowed: ["engine"])
            let engine = try o.choice("engine", ["moonlab", "llama.cpp"], default: "moonlab")
            if a.isNil(1) {
                guard engine == "moonlab" else {
                    throw a.error(1, "a llama.cpp generator needs the seed the llama.cpp run used")
                }
                a.state.push(object: RandomModule.defaultGenerator(a.state).split())
                return 1
            }
            let seed = try a.integer(1)
            do {
                a.state.push(object: try RandomGenerator(seed: seed, engine: RandomGenerator.Engine(rawValue: engine) ?? .moonlab))
            } catch let e as AlignMathError {
                throw a.error(1, e.description)
            }
            return 1
        }
    }
}

/// The generator methods and the conversions of its state.
enum RandomModule {
    static let typeName = "random.generator"
    static let defaultKey = "random.default"

    /// `random.default` as set at install time (the one chain:sample falls back to).
    static func defaultGenerator(_ s: LuaState) -> RandomGenerator {
        if let g = s.userInfo[defaultKey] as? RandomGenerator { return g }
        let g = RandomGenerator(seed: Workbench.of(s)?.options.seed ?? 0)
        s.userInfo[defaultKey] = g
        return g
    }

    /// The generator at `index`, or `random.default` when it is nil or absent.
    static func generator(_ a: LuaArguments, _ index: Int32) throws -> RandomGenerator {
        a.isNil(index) ? defaultGenerator(a.state) : try a.object(index, RandomGenerator.self)
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        var s = ""
        for b in bytes { s.append(digits[Int(b >> 4)]); s.append(digits[Int(b & 15)]) }
        return s
    }

    /// Bytes from 96 hex digits; nil if the text is not hex of that length.
    static func unhex(_ text: String) -> [UInt8]? {
        let u = Array(text.utf8)
        guard u.count == 96 else { return nil }
        func digit(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: return c - 48
            case 97...102: return c - 87
            case 65...70: return c - 55
            default: return nil
            }
        }
        var out: [UInt8] = []
        for i in stride(from: 0, to: 96, by: 2) {
            guard let h = digit(u[i]), let l = digit(u[i + 1]) else { return nil }
            out.append(h << 4 | l)
        }
        return out
    }

    /// `g:set_state(s)`: a 96-digit hex string (from `g:state()`), the raw 48 bytes, or an
    /// array of 6 (or 4) 64-bit integers.
    static func setState(_ g: RandomGenerator, _ a: LuaArguments) throws {
        do {
            switch a.type(2) {
            case .string:
                if g.engine == .llamaCpp {
                    guard let streams = LlamaCppStreams(text: try a.string(2)) else {
                        throw a.error(2, "state must be the \"mt19937:...\" text that g:state() returns for a llama.cpp generator")
                    }
                    try g.setLlamaStreams(streams)
                    return
                }
                let raw = try a.bytes(2)
                if raw.count == 48 { try g.setState(bytes: raw); return }
                guard let b = unhex(try a.string(2)) else {
                    throw a.error(2, "state must be the 96 hex digits that g:state() returns, got a string of \(raw.count) bytes")
                }
                try g.setState(bytes: b)
            case .table:
                let s = a.state
                var words: [UInt64] = []
                for i in 1...max(1, s.rawLength(at: 2)) where i <= s.rawLength(at: 2) {
                    let t = s.rawGet(i, of: 2)
                    defer { s.pop() }
                    guard t == .number, let v = s.integer(at: -1) else {
                        throw a.error(2, "state array entries must be integers, entry \(i) is \(s.typeName(at: -1))")
                    }
                    words.append(UInt64(bitPattern: Int64(v)))
                }
                try g.setState(words)
            default:
                throw a.typeError(2, expected: "state (string from g:state() or array of integers)")
            }
        } catch let e as AlignMathError {
            throw a.error(2, e.description)
        }
    }

    typealias Builder = LuaTypeBuilder<RandomGenerator>

    static func addMethods(to b: Builder, docs: inout [(String, String)]) {
        func method(_ name: String, fast: Builder.NumberFastPath? = nil, _ doc: String, _ body: @escaping Builder.Method) {
            if let fast { b.method(name, fast: fast, body) } else { b.method(name, body) }
            docs.append((name, doc))
        }
        // g:uniform() in a Lua loop goes from C straight to the generator (no generic
        // dispatch): as fast per call as Python's random.random (BENCHMARKS.md).
        method("uniform", fast: { p in
            guard let p else { return .nan }
            return Unmanaged<RandomGenerator>.fromOpaque(p)._withUnsafeGuaranteedRef { $0.uniform() }
        }, """
            g:uniform([lo, hi]) -> number
            A uniform double in [0, 1) (the top 53 bits of one output), or in [lo, hi). A llama.cpp
            generator gives std::uniform_real_distribution<double>(0, 1) of its mt19937 (libstdc++:
            two 32-bit outputs), the number llama.cpp's dist sampler draws per token.
            Example: random.new(0):uniform()
            """) { g, a in
            let u = g.uniform()
            if a.isNil(2) { a.state.push(u); return 1 }
            let lo = try a.number(2), hi = try a.number(3)
            a.state.push(lo + (hi - lo) * u)
            return 1
        }
        method("normal", fast: { p in
            guard let p else { return .nan }
            return Unmanaged<RandomGenerator>.fromOpaque(p)._withUnsafeGuaranteedRef { $0.normal() }
        }, """
            g:normal([mean, std]) -> number
            A normal variate (Marsaglia's polar method; the second value of each pair is cached in
            the generator's state), standard unless mean (0) and std (1) are given.
            Example: random.new(0):normal(0, 2)
            """) { g, a in
            let z = g.normal()
            let mean = try a.number(2, default: 0), sd = try a.number(3, default: 1)
            a.state.push(mean + sd * z)
            return 1
        }
        method("gumbel", fast: { p in
            guard let p else { return .nan }
            return Unmanaged<RandomGenerator>.fromOpaque(p)._withUnsafeGuaranteedRef { $0.gumbel() }
        }, """
            g:gumbel() -> number
            A standard Gumbel variate -log(-log(u)), u uniform in (0, 1): argmax(logits + gumbel)
            is a sample of softmax(logits) (the Gumbel-max trick).
            Example: random.new(0):gumbel()
            """) { g, a in a.state.push(g.gumbel()); return 1 }
        method("categorical", """
            g:categorical(probs[, n]) -> id | tensor of ids
            A token id drawn with probability proportional to probs (a tensor or Lua array of
            weights >= 0; they need not sum to 1). The id is 0-BASED, as chain:sample and
            torch.multinomial return it: its probability is probs[id + 1]. One draw is exact
            (inverse CDF over a double running sum, so tiny probabilities keep their true rate);
            with n, n draws through an alias table (Walker/Vose) come back as an i64 tensor of ids.
            Example: g:categorical{0.1, 0.9}  --> 1 (most of the time)
            """) { g, a in
            let w = try a.doubles(2, what: "probs (tensor or array of numbers)")
            do {
                if a.isNil(3) {
                    a.state.push(try g.categorical(w))
                    return 1
                }
                let n = try a.count(3, "n", in: 0...LuaLimits.maxElements)
                try a.state.checkHeadroom(n * 8, for: "g:categorical")
                let table = try AliasTable(w)
                let t = try Tensor.empty([n], dtype: .i64)
                try t.withMutableInt64s { ids in
                    var i = 0
                    while i < n {
                        try a.state.checkpoint(cost: 1 << 16)
                        for j in i..<min(n, i + (1 << 16)) { ids[j] = Int64(table.sample(g)) }
                        i += 1 << 16
                    }
                }
                a.state.push(tensor: t)
                return 1
            } catch let e as AlignMathError {
                throw a.error(2, e.description)
            }
        }
        method("state", """
            g:state() -> string
            The generator's whole state (the four xoshiro words and the cached normal) as 96 hex
            digits: printable, storable in JSON, and restored exactly by g:set_state(s). A
            llama.cpp generator gives "mt19937:" and the hex of its seed and its mt19937 streams
            (the token draw's, then one per xtc stage that has drawn).
            Example: s = g:state(); a = g:uniform(); g:set_state(s); assert(g:uniform() == a)
            """) { g, a in
            if let l = g.llama { a.state.push(l.text) } else { a.state.push(hex(g.stateBytes)) }
            return 1
        }
        method("set_state", """
            g:set_state(s) -> g
            Restores a state from g:state() (96 hex digits), from its 48 raw bytes, or from an
            array of 6 integers (4 xoshiro words, has-cached-normal, its bits) or 4 words.
            Example: g:set_state(saved)
            """) { g, a in
            try setState(g, a)
            a.state.pushValue(at: 1)
            return 1
        }
        method("split", """
            g:split() -> generator
            An independent child generator by xoshiro's jump: the child starts 2^128 draws ahead of
            g and g moves 2^129 ahead, so children of successive splits and g never overlap.
            Deterministic: the same state of g gives the same child. Give each worker its own.
            A llama.cpp generator (mt19937 cannot jump) gives a llama.cpp generator seeded with
            its next 32-bit output.
            Example: child = g:split()
            """) { g, a in a.state.push(object: g.split()); return 1 }
        method("copy", """
            g:copy() -> generator
            A copy with the same state: it produces the same stream as g from here on.
            Example: h = g:copy(); assert(h:uniform() == g:uniform())
            """) { g, a in a.state.push(object: g.copy()); return 1 }
    }
}

/// Registers the docs of a userdata type's methods (`help(g.uniform)` works) and pushes
/// its methods table, documented (as `listName`) like a module, so help lists them. Stack: [] -> [methods].
func registerMethodDocs(_ lua: LuaState, typeName: String, prefix: String, listName: String, docs: [(String, String)], doc: String) {
    lua.pushRegistry()
    lua.getField(typeName)
    lua.getField("__methods")
    lua.remove(at: -2)
    lua.remove(at: -2)
    for (name, d) in docs {
        lua.getField(name)
        Help.register(lua, value: -1, name: "\(prefix):\(name)", doc: d, isModule: false)
        lua.pop()
    }
    Help.register(lua, value: -1, name: listName, doc: doc, isModule: true)
}
