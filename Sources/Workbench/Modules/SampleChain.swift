import LuaKit
import AlignMath

/// A chain as Lua holds it (userdata `sample.chain`): the AlignMath chain and the stage
/// boxes it was built from (which keep Lua stages' functions alive).
final class ChainBox {
    let chain: SamplerChain
    let boxes: [StageBox]
    /// True while a method runs: a Lua stage calling its own chain would share the workspace.
    var busy = false

    init(_ boxes: [StageBox]) throws {
        self.boxes = boxes
        chain = try SamplerChain(boxes.map(\.stage))
    }

    var label: String { "sample.chain{" + boxes.map(\.label).joined(separator: ", ") + "}" }
}

/// One row of logits as a chain method reads it: in place when it is an f32 or f64
/// tensor, else the Lua array's numbers as Doubles.
enum LogitsRow {
    case f32(UnsafeBufferPointer<Float>)
    case f64(UnsafeBufferPointer<Double>)
}

/// Logits and ctx from Lua, and running a chain method with errors turned into Lua's.
enum SampleChainSupport {
    /// Calls `body` with the 1-d logits at `i` in their own dtype: an f32 or f64 tensor
    /// is read in place (no copy, no conversion); a Lua array of numbers is read once
    /// into Doubles (f64, the dtype tensors made in Lua have).
    static func withLogits<R>(_ a: LuaArguments, _ i: Int32, _ body: (LogitsRow) throws -> R) throws -> R {
        if let t = a.tensorIfAny(i) {
            guard t.ndim == 1 else {
                throw a.error(i, "logits must be 1-d (one row of the vocabulary), got shape {\(t.shape.map(String.init).joined(separator: ", "))}; for a [T, V] tensor use sample.replay_logits")
            }
            return try withRows(t) { try body($0) }
        }
        guard a.type(i) == .table else { throw a.typeError(i, expected: "logits (tensor or array of numbers)") }
        guard let d = a.state.numberArray(at: i) else {
            throw a.error(i, "logits must be a tensor or a flat array of numbers")
        }
        return try d.withUnsafeBufferPointer { try body(.f64($0)) }
    }

    /// The elements of `t` in its dtype, read in place when they can be (f32, f64),
    /// else as Doubles.
    static func withRows<R>(_ t: Tensor, _ body: (LogitsRow) throws -> R) throws -> R {
        if t.dtype == .f32 { return try t.withFloats { try body(.f32($0)) } }
        if t.dtype == .f64 { return try t.withDoubles { try body(.f64($0)) } }
        return try t.toDoubles().withUnsafeBufferPointer { try body(.f64($0)) }
    }

    /// Token ids from a Lua array or tensor at `index` (absolute): integers only.
    static func ids(_ a: LuaArguments, at index: Int32, what: String) throws -> [Int] {
        let s = a.state
        if let t = s.object(at: index, Tensor.self) {
            return try CheckedIntegers.from(t.toDoubles(), in: CheckedIntegers.tokenIds) { i, v in
                a.failure("\(what) must hold integer token ids, entry \(i) is \(formatLuaFloat(v))")
            }
        }
        guard s.type(at: index) == .table else { throw a.failure("\(what) must be an array of token ids, got \(s.typeName(at: index))") }
        let n = s.rawLength(at: index)
        var out: [Int] = []
        out.reserveCapacity(n)
        for i in 0..<n {
            let t = s.rawGet(i + 1, of: index)
            defer { s.pop() }
            guard t == .number, let id = s.integer(at: -1) else {
                throw a.failure("\(what) must hold integer token ids, entry \(i + 1) is \(s.describe(at: -1))")
            }
            out.append(id)
        }
        return out
    }

    /// `ctx` at `i`: nil, or a table with `history` (ids) and `rng` (a generator).
    static func context(_ a: LuaArguments, _ i: Int32, defaultRNG: Bool) throws -> SamplingContext {
        var ctx = SamplingContext()
        if a.isNil(i) {
            if defaultRNG { ctx.rng = RandomModule.defaultGenerator(a.state) }
            return ctx
        }
        guard a.type(i) == .table else { throw a.typeError(i, expected: "ctx table ({history = {...}})") }
        let s = a.state
        if s.getField("history", of: i) != .nil {
            ctx.history = try ids(a, at: s.absolute(-1), what: "ctx.history")
        }
        s.pop()
        if s.getField("rng", of: i) != .nil {
            guard let g = s.object(at: -1, RandomGenerator.self) else {
                s.pop()
                throw a.error(i, "ctx.rng must be a generator (random.new(seed))")
            }
            ctx.rng = g
        }
        s.pop()
        if ctx.rng == nil && defaultRNG { ctx.rng = RandomModule.defaultGenerator(a.state) }
        return ctx
    }

    /// Runs `body` with the chain marked busy and its Lua stages pointed at this call's
    /// state and ctx table (at `ctxIndex`, 0 for none) and at the storage of the logits
    /// tensor at `logitsIndex` (a stage first in the chain borrows the row from it,
    /// copy-on-write); AlignMath and stage errors become `sample.chain:method: message` Lua errors.
    static func running<R>(_ box: ChainBox, _ a: LuaArguments, ctxIndex: Int32, logitsIndex: Int32 = 2,
                           _ body: () throws -> R) throws -> R {
        guard !box.busy else { throw a.failure("the chain is already running (a Lua stage called its own chain)") }
        box.busy = true
        defer { box.busy = false }
        let fns = box.boxes.compactMap(\.luaFunction)
        var extra: LuaRef?
        if !fns.isEmpty, ctxIndex != 0, !a.isNil(ctxIndex) {
            a.state.pushValue(at: ctxIndex)
            extra = LuaRef(popping: a.state)
        }
        let saved = fns.map { ($0.current, $0.extraContext, $0.lender) }
        let lender = fns.isEmpty ? nil : a.tensorIfAny(logitsIndex)?.storage
        for f in fns { f.current = a.state; f.extraContext = extra; f.lender = lender }
        defer {
            for (f, old) in zip(fns, saved) { f.current = old.0; f.extraContext = old.1; f.lender = old.2 }
            extra?.release(a.state)
        }
        do {
            return try body()
        } catch let e as AlignMathError {
            throw a.failure(e.description)
        } catch let e as LuaScriptError {
            throw a.failure(e.message)
        }
    }

    /// Pushes a row as a new f32 tensor. Stack: [] -> [tensor].
    static func push(_ a: LuaArguments, _ values: [Float]) throws {
        a.state.push(tensor: try Tensor(floats: values))
    }

    /// Pushes a row as a new f64 tensor. Stack: [] -> [tensor].
    static func push(_ a: LuaArguments, _ values: [Double]) throws {
        a.state.push(tensor: try Tensor(values))
    }
}

extension SampleStages {
    typealias ChainBuilder = LuaTypeBuilder<ChainBox>

    static func installChain(_ m: ModuleBuilder) {
        var docs: [(String, String)] = []
        m.state.register(type: ChainBox.self, name: "sample.chain") { b in
            addChainMethods(b, &docs)
            addDistributionMethods(b, &docs)
            b.meta("__tostring") { a in a.state.push(try a.object(1, ChainBox.self).label); return 1 }
            b.meta("__len") { a in a.state.push(try a.object(1, ChainBox.self).boxes.count); return 1 }
        }
        registerMethodDocs(m.state, typeName: "sample.chain", prefix: "chain", listName: "sample.methods", docs: docs, doc: """
            sample.methods: what a chain answers to, as chain:apply(logits) does
            apply, probs, sample, explain, reset, distribution, logprob; #chain is its number of
            stages.
            Example: chain:explain(logits, {history = {}})
            """)
        m.field("methods")
        m.function("chain", doc: """
            sample.chain{stage, ...} -> chain
            Stages applied in order to one row of logits, then one token drawn from what is left.
            Methods (help(sample.methods)): chain:apply(logits, ctx), chain:probs(logits, ctx),
            chain:sample(logits, rng, ctx), chain:explain(logits, ctx), chain:reset(),
            chain:distribution(logits, ctx) (what it samples from, Monte-Carlo for xtc and
            mirostat), chain:logprob(logits, id, ctx) (processed and raw log-probability).
            logits: a 1-d tensor (read in place, no copy) or Lua array; the chain computes in its
            dtype (f64 for Lua arrays and tensors made in Lua, f32 for an f32 tensor), so f64
            logits are never rounded to f32 (llama.cpp-semantics stages excepted: they compute
            in float32, as llama.cpp does). ctx: nil or {history = {token ids...}, rng =
            generator}. A mirostat stage must be last.
            Options (a second table): semantics (nil): "transformers" or "llama.cpp", the semantics
            of every built-in stage made without its own semantics option (values only llama.cpp
            takes, as top_n_sigma(-1) or min_keep = 0, are refused when the chain is built without
            it, not when the stage is made; a stage that names
            one keeps it; Lua stages are unchanged), so sample.chain({sample.top_k(40),
            sample.temperature(0.8)}, {semantics = "llama.cpp"}) is llama.cpp's top_k and temp.
            Example: c = sample.chain{sample.penalties{repetition = 1.1}, sample.top_k(40), sample.top_p(0.95), sample.temperature(0.8)}
            """) { a in
            try a.table(1)
            let o = try a.options(2, allowed: ["semantics"])
            let chainSemantics: SamplingSemantics? = o.has("semantics") ? try SampleStages.semantics(o).0 : nil
            let s = a.state
            var boxes: [StageBox] = []
            for i in 0..<s.rawLength(at: 1) {
                s.rawGet(i + 1, of: 1)
                defer { s.pop() }
                guard var b = s.object(at: -1, StageBox.self) else {
                    throw a.error(1, "entry \(i + 1) is not a stage (\(s.typeName(at: -1))); build stages with sample.top_k(40), sample.top_p(0.9), ... or sample.stage(name, fn)")
                }
                if let sem = chainSemantics, let remake = b.remake {
                    do {
                        let (stage, label) = try remake(sem)
                        b = StageBox(stage, label: label, remake: remake)
                    } catch let e as AlignMathError { throw a.error(1, "entry \(i + 1): \(e.description)") }
                } else if let refusal = b.refusal {
                    throw a.error(1, "entry \(i + 1): \(b.refusalMessage(refusal))")
                }
                boxes.append(b)
            }
            do { s.push(object: try ChainBox(boxes)) } catch let e as AlignMathError { throw a.error(1, e.description) }
            return 1
        }
    }

    private static func addChainMethods(_ b: ChainBuilder, _ docs: inout [(String, String)]) {
        func method(_ name: String, _ doc: String, _ body: @escaping ChainBuilder.Method) {
            b.method(name, body)
            docs.append((name, doc))
        }
        typealias C = SampleChainSupport
        method("apply", """
            chain:apply(logits, ctx) -> tensor
            The logits after every stage, over the whole vocabulary: removed tokens are -inf,
            temperature and penalties applied, in the dtype of the logits (f32 in gives f32 out;
            otherwise f64).
            ctx: {history = {ids...}, rng = generator} (rng for xtc; random.default if absent).
            Example: chain:apply({3, 2, 1, 0}, {history = {0}})
            """) { box, a in
            let ctx = try C.context(a, 3, defaultRNG: true)
            try C.running(box, a, ctxIndex: 3) {
                try C.withLogits(a, 2) { row in
                    switch row {
                    case .f32(let r): try C.push(a, try box.chain.apply(r, context: ctx))
                    case .f64(let r): try C.push(a, try box.chain.apply(r, context: ctx))
                    }
                }
            }
            return 1
        }
        method("probs", """
            chain:probs(logits, ctx) -> tensor
            The final distribution over the whole vocabulary (0 for removed tokens), what
            chain:sample draws from, computed in double precision: f32 in gives f32 out;
            otherwise f64. With llama.cpp-semantics stages it is the softmax of the logits as
            llama.cpp's dist holds them (float32), so it agrees with llama.cpp to float
            precision on f64 rows too. ctx as in chain:apply.
            A row with no token left (every logit -inf, or every token removed by a stage) is an
            error here and in chain:sample, chain:distribution and chain:logprob, where
            dist.softmax gives NaN as torch.softmax does: nothing can be drawn from it (torch's
            multinomial refuses the NaN row; llama.cpp's dist draws from NaN).
            Example: chain:probs({3, 2, 1, 0})
            """) { box, a in
            let ctx = try C.context(a, 3, defaultRNG: true)
            try C.running(box, a, ctxIndex: 3) {
                try C.withLogits(a, 2) { row in
                    switch row {
                    case .f32(let r): try C.push(a, try box.chain.probs(r, context: ctx))
                    case .f64(let r): try C.push(a, try box.chain.probs(r, context: ctx))
                    }
                }
            }
            return 1
        }
        method("sample", """
            chain:sample(logits, rng, ctx) -> id
            Runs the stages and draws one token: its 0-BASED vocabulary id (the logit of id is
            logits[id + 1]; chain:probs gives its probability). rng is a generator
            (random.new(seed)); nil uses random.default (seeded from --seed). The same seed gives
            the same tokens. A generator made with random.new(seed, {engine = "llama.cpp"})
            draws as llama.cpp's dist sampler does (its mt19937 and its walk over the candidates
            in llama.cpp's order; after mirostat, std::discrete_distribution): with llama.cpp
            semantics stages, the tokens a llama.cpp run with that seed drew.
            ctx: {history = {ids...}} for penalties. Updates mirostat's mu.
            Example: id = chain:sample(logits, random.new(0), {history = {1, 5}})
            """) { box, a in
            let rng = try RandomModule.generator(a, 3)
            let ctx = try C.context(a, 4, defaultRNG: false)
            let id = try C.running(box, a, ctxIndex: 4) {
                try C.withLogits(a, 2) { row -> Int in
                    switch row {
                    case .f32(let r): return try box.chain.sample(r, rng: rng, context: ctx)
                    case .f64(let r): return try box.chain.sample(r, rng: rng, context: ctx)
                    }
                }
            }
            a.state.push(id)
            return 1
        }
        method("explain", """
            chain:explain(logits, ctx, {top = 5}) -> report
            What each stage left, for one distribution: report[1] is the input, then one entry per
            stage with name, count (tokens kept), mass (their total probability under the ORIGINAL
            softmax), entropy (nats, of the renormalised survivors) and top = {{id =, prob =,
            text =}, ...} (most probable survivors, renormalised; text when sample.vocab is
            loaded). Printed at the prompt (tostring) as an aligned table. ctx as in chain:apply.
            Options: top (5): how many top tokens per stage.
            Example: chain:explain(logits, {history = {}})
            """) { box, a in
            let ctx = try C.context(a, 3, defaultRNG: true)
            let o = try a.options(4, allowed: ["top"])
            let top = try o.count("top", in: 0...LuaLimits.maxCount, default: 5)
            let reports = try C.running(box, a, ctxIndex: 3) {
                try C.withLogits(a, 2) { row -> [StageReport] in
                    switch row {
                    case .f32(let r): return try box.chain.explain(r, context: ctx, top: top)
                    case .f64(let r): return try box.chain.explain(r, context: ctx, top: top)
                    }
                }
            }
            try SampleExplain.push(a.state, reports, vocab: SampleVocab.current(a.state))
            return 1
        }
        method("reset", """
            chain:reset() -> chain
            Restores stateful stages (mirostat's mu = 2 tau), e.g. before a new sequence.
            Example: chain:reset()
            """) { box, a in box.chain.reset(); a.state.pushValue(at: 1); return 1 }
    }
}
