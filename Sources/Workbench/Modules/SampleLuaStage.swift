import LuaKit
import AlignMath

/// A sampler stage written in Lua (`sample.stage(name, fn)`): `fn(logits, ctx) -> logits`.
///
/// Per token the stage costs at most one copy of the vocabulary and no allocation: the
/// chain writes the current row (removed tokens -inf) straight into a tensor the stage
/// keeps across calls (one per dtype and vocabulary size), hands that same tensor to `fn`,
/// and later stages read it where `fn` left it; only a different tensor returned by `fn`
/// is copied back. After a truncating stage (top-k...) the tensor stays blank (-inf) between
/// calls: only the candidates are written and one vectorised pass reads back what `fn`
/// left finite (see `CustomStageBody`). The ctx `fn` sees is also one table kept across calls: its history is a
/// Lua array extended by the tokens added since the last call (not rebuilt), `rng` and
/// the caller's other ctx fields are refreshed, and fields the stage sets itself stay.
/// `fn` runs under `pcall` on the state that called the chain, so a Lua error comes back
/// as a Swift error and never unwinds a Swift frame.
final class LuaStageFunction: CustomStageBody {
    let name: String
    private let ref: LuaRef
    /// The state that owns the references (the main thread); weak, so a stage that
    /// outlives its state (or dies while the state closes) releases nothing.
    private weak var owner: LuaState?
    /// The state whose call is running this stage (a coroutine's view included).
    var current: LuaState?
    /// The caller's ctx table, whose fields besides `history` are copied into the ctx `fn` sees.
    var extraContext: LuaRef?

    /// The tensor handed to `fn` (the chain's row) and its Lua userdata.
    private var row: Tensor?
    var rowIsBlank = false
    private var rowRef: LuaRef?
    /// The ctx table and its history array, and the ids that array holds.
    private var ctxRef: LuaRef?
    private var historyRef: LuaRef?
    private var mirrored: [Int] = []
    /// The caller's fields copied into ctx by the last call (cleared before the next).
    private var copiedKeys: [String] = []

    /// Takes the function at `index` of `state`.
    init(name: String, state: LuaState, index: Int32) {
        self.name = name
        state.pushValue(at: index)
        ref = LuaRef(popping: state)
        owner = Workbench.of(state)?.lua ?? state
    }

    deinit {
        guard let owner else { return }
        for r in [ref, rowRef, ctxRef, historyRef].compactMap({ $0 }) { r.release(owner) }
    }

    private func state() throws -> LuaState {
        guard let s = current ?? owner else { throw LuaScriptError("stage '\(name)': its Lua state is gone") }
        return s
    }

    /// The row tensor (made on first use, and again when the dtype or size changes).
    func rowBuffer(count: Int, f64: Bool) throws -> UnsafeMutableRawPointer {
        let dtype: DType = f64 ? .f64 : .f32
        if let t = row, t.count == count, t.dtype == dtype { return t.storage.base + t.offset * dtype.size }
        let s = try state()
        let t = try Tensor.zeros([count], dtype: dtype)
        if let old = rowRef { old.release(s) }
        s.push(tensor: t)
        rowRef = LuaRef(popping: s)
        row = t
        rowIsBlank = false
        return t.storage.base + t.offset * dtype.size
    }

    /// Calls `fn(row, ctx)`; a tensor other than the row that `fn` returns is copied in.
    func run(_ dense: DenseRow, _ ctx: SamplingContext) throws {
        let s = try state()
        guard let t = row, let rowRef else { throw LuaScriptError("stage '\(name)': no row to edit") }
        let base = s.top
        defer { if s.top > base { s.pop(s.top - base) } }
        let n = dense.count
        ref.push(s)
        rowRef.push(s)
        pushContext(s, ctx)
        do {
            try s.pcall(nargs: 2, nresults: 1)
        } catch let e as LuaError {
            throw LuaScriptError("stage '\(name)' failed: \(e.message)")
        }
        guard let out = s.object(at: -1, Tensor.self) else {
            throw LuaScriptError("stage '\(name)' must return the logits tensor (\(n) logits), got \(s.typeName(at: -1))")
        }
        if out === t { return }
        guard out.ndim == 1, out.count == n else {
            let shape = out.shape.map(String.init).joined(separator: ", ")
            throw LuaScriptError("stage '\(name)' returned a tensor of shape {\(shape)}; it must return \(n) logits (shape {\(n)}), as it was given")
        }
        try SampleChainSupport.withRows(out) { values in
            switch values {
            case .f32(let src): for i in 0..<n { dense[i] = Double(src[i]) }
            case .f64(let src): for i in 0..<n { dense[i] = src[i] }
            }
        }
    }

    /// Pushes the ctx table, refreshed: history, rng and the caller's other fields.
    /// Stack: [] -> [ctx].
    private func pushContext(_ s: LuaState, _ ctx: SamplingContext) {
        if ctxRef == nil {
            s.newTable(arrayCount: 0, recordCount: 4)
            ctxRef = LuaRef(popping: s)
        }
        ctxRef?.push(s)
        for key in copiedKeys {
            s.pushNil()
            s.setField(key, of: -2)
        }
        copiedKeys.removeAll(keepingCapacity: true)
        if let extra = extraContext {
            extra.push(s)  // [ctx extra]
            s.forEachPair(of: -1) {
                if s.type(at: -2) == .string, let key = s.string(at: -2), key != "history", key != "rng" {
                    copiedKeys.append(key)
                    s.pushValue(at: -2)
                    s.pushValue(at: -2)
                    s.rawSet(of: -6)  // [ctx extra k v k' v']
                }
                return true
            }
            s.pop()
        }
        pushHistory(s, ctx.history)
        s.setField("history", of: -2)
        if let g = ctx.rng { s.push(object: g) } else { s.pushNil() }
        s.setField("rng", of: -2)
    }

    /// Pushes the history array, extended by the ids added since the last call when the
    /// history grew (a generation loop), rewritten otherwise. Stack: [] -> [history].
    private func pushHistory(_ s: LuaState, _ history: [Int]) {
        if historyRef == nil {
            s.newTable(arrayCount: history.count, recordCount: 0)
            historyRef = LuaRef(popping: s)
            mirrored = []
        }
        historyRef?.push(s)
        var keep = 0
        let common = min(mirrored.count, history.count)
        while keep < common && mirrored[keep] == history[keep] { keep += 1 }
        for i in keep..<history.count {
            s.push(history[i])
            s.rawSet(i + 1, of: -2)
        }
        if mirrored.count > history.count {
            for i in history.count..<mirrored.count {
                s.pushNil()
                s.rawSet(i + 1, of: -2)
            }
        }
        mirrored = history
    }
}

extension SampleStages {
    static func installLuaStage(_ m: ModuleBuilder) {
        m.function("stage", doc: """
            sample.stage(name, fn) -> stage
            A stage written in Lua. fn(logits, ctx) receives the logits of the whole vocabulary as
            a 1-d tensor in the chain's dtype (f64 for f64 logits, f32 for f32; tokens removed by
            earlier stages are -math.huge; set a logit to -math.huge to remove a token) and
            ctx = {history = {ids...}, rng = generator, plus the other fields of the ctx given to
            the chain}; it returns the logits: the same tensor edited in place, or a new tensor of
            the same length (f32 or f64). The tensor is the chain's own buffer, the same one on
            every call (clone it to keep it): the vocabulary is copied into it once per token (after
            a truncating stage such as top_k only the candidates are) and nothing is copied back
            unless fn returns another tensor. ctx is also the same table on
            every call (its history extended, not rebuilt; fields fn sets stay). A wrong length or
            a non-tensor return is an error naming the stage, and so is a NaN fn leaves in the
            logits ("stage N (name) wrote NaN at id K", 0-based id; -math.huge removes a token).
            fn never sees a NaN: a NaN in the chain's input is refused before it runs.
            Example: sample.stage("no_digits", function(l, ctx) l[1 + 15] = -math.huge return l end)
            """) { a in
            let name = try a.string(1)
            try a.callable(2)
            let f = LuaStageFunction(name: name, state: a.state, index: 2)
            a.state.push(object: StageBox(.custom(name, f), label: "sample.stage(\"\(name)\")", luaFunction: f))
            return 1
        }
    }
}
