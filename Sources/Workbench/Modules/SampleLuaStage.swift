import LuaKit
import AlignMath

/// A sampler stage written in Lua (`sample.stage(name, fn)`): `fn(logits, ctx) -> logits`.
///
/// The chain hands the stage the dense logits of the whole vocabulary (removed tokens
/// `-inf`); they go to Lua as one new f32 tensor (the one copy of the vocabulary this stage
/// makes), `fn` edits it in place or builds another, and the tensor it returns is read
/// back into the chain's buffer. `fn` runs under `pcall` on the state that called the
/// chain, so a Lua error comes back as a Swift error and never unwinds a Swift frame.
final class LuaStageFunction {
    let name: String
    private let ref: LuaRef
    /// The state that owns the reference (the main thread); weak, so a stage that outlives
    /// its state (or dies while the state closes) releases nothing.
    private weak var owner: LuaState?
    /// The state whose call is running this stage (a coroutine's view included).
    var current: LuaState?
    /// Fields of the caller's ctx table besides `history`, copied into each ctx `fn` sees.
    var extraContext: LuaRef?

    /// Takes the function at `index` of `state`.
    init(name: String, state: LuaState, index: Int32) {
        self.name = name
        state.pushValue(at: index)
        ref = LuaRef(popping: state)
        owner = Workbench.of(state)?.lua ?? state
    }

    deinit {
        if let owner { ref.release(owner) }
    }

    /// The stage body for `SamplerStage.custom`.
    func run(_ logits: inout [Float], _ ctx: SamplingContext) throws {
        guard let s = current ?? owner else {
            throw LuaScriptError("stage '\(name)': its Lua state is gone")
        }
        let base = s.top
        defer { if s.top > base { s.pop(s.top - base) } }
        let n = logits.count
        let input = try Tensor.zeros([n], dtype: .f32)
        try input.withMutableFloats { dst in
            logits.withUnsafeBufferPointer { src in
                if let d = dst.baseAddress, let b = src.baseAddress { d.update(from: b, count: n) }
            }
        }
        ref.push(s)
        s.push(tensor: input)
        pushContext(s, ctx)
        do {
            try s.pcall(nargs: 2, nresults: 1)
        } catch let e as LuaError {
            throw LuaScriptError("stage '\(name)' failed: \(e.message)")
        }
        guard let out = s.object(at: -1, Tensor.self) else {
            throw LuaScriptError("stage '\(name)' must return the logits tensor (\(n) logits), got \(s.typeName(at: -1))")
        }
        guard out.ndim == 1, out.count == n else {
            let shape = out.shape.map(String.init).joined(separator: ", ")
            throw LuaScriptError("stage '\(name)' returned a tensor of shape {\(shape)}; it must return \(n) logits (shape {\(n)}), as it was given")
        }
        if out.dtype == .f32 {
            try out.withFloats { src in
                logits.withUnsafeMutableBufferPointer { dst in
                    if let d = dst.baseAddress, let b = src.baseAddress { d.update(from: b, count: n) }
                }
            }
        } else {
            try out.withDoubles { src in
                for i in 0..<n { logits[i] = Float(src[i]) }
            }
        }
    }

    /// Pushes `{history = {...}, rng = g, <the caller's other ctx fields>}`. Stack: [] -> [ctx].
    private func pushContext(_ s: LuaState, _ ctx: SamplingContext) {
        s.newTable(arrayCount: 0, recordCount: 4)
        if let extra = extraContext {
            extra.push(s)
            s.forEachPair(of: -1) {
                if s.type(at: -2) == .string, s.string(at: -2) != "history" {
                    s.pushValue(at: -2)
                    s.pushValue(at: -2)
                    s.rawSet(of: -6)  // [ctx extra k v k' v']
                }
                return true
            }
            s.pop()
        }
        s.newTable(arrayCount: ctx.history.count, recordCount: 0)
        for (i, id) in ctx.history.enumerated() {
            s.push(id)
            s.rawSet(i + 1, of: -2)
        }
        s.setField("history", of: -2)
        if let g = ctx.rng {
            s.push(object: g)
            s.setField("rng", of: -2)
        }
    }
}

extension SampleStages {
    static func installLuaStage(_ m: ModuleBuilder) {
        m.function("stage", doc: """
            sample.stage(name, fn) -> stage
            A stage written in Lua. fn(logits, ctx) receives the logits of the whole vocabulary as
            a 1-d f32 tensor (tokens removed by earlier stages are -math.huge; set a logit to
            -math.huge to remove a token) and ctx = {history = {ids...}, rng = generator, plus the
            other fields of the ctx given to the chain}; it returns the logits: the same tensor
            edited in place, or a new tensor of the same length (f32 or f64). It composes with the
            native stages: the vocabulary is copied once into the tensor and read back from what
            fn returns. A wrong length or a non-tensor return is an error naming the stage.
            Example: sample.stage("no_digits", function(l, ctx) l[1 + 15] = -math.huge return l end)
            """) { a in
            let name = try a.string(1)
            try a.callable(2)
            let f = LuaStageFunction(name: name, state: a.state, index: 2)
            let stage = SamplerStage.custom(name) { logits, ctx in try f.run(&logits, ctx) }
            a.state.push(object: StageBox(stage, label: "sample.stage(\"\(name)\")", luaFunction: f))
            return 1
        }
    }
}
