import LuaKit
import AlignMath

/// A sampler stage written in Lua (`sample.stage(name, fn)`): `fn(logits, ctx) -> logits`
/// (or nil: the tensor `fn` was given, as it left it).
///
/// Per token the stage costs at most one copy of the vocabulary and no allocation: `fn`
/// gets a tensor the stage keeps across calls (one per dtype and vocabulary size, its
/// storage a copy-on-write `TensorStorage`), and later stages read it where `fn` left it;
/// only a different tensor returned by `fn` is copied back. First in the chain (the row is
/// still the caller's contiguous f32/f64 logits tensor, `lender`), the tensor borrows
/// the caller's row (`lend`): no copy, and the chain goes on reading the caller's row
/// unless `fn` wrote, whose first write (through any path: `t[i] = x`, ranges, masks,
/// views) copies the row into the tensor's own block, so the caller's logits never change.
/// Elsewhere the chain writes the current row (removed tokens -inf) into the tensor's own
/// block. After a truncating stage (top-k...) the tensor stays blank (-inf) between
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
    /// The storage of the caller's logits tensor for this call (nil for a Lua array): a row
    /// inside its bytes is lent to `fn` instead of copied.
    var lender: TensorStorage?
    /// Calls left that take the copy instead of a lent row: after a lent call in which `fn`
    /// wrote (the copy it then paid came on top of the NaN scan of the lent row; copying
    /// with the scan folded in, as the chain does, reads the row once less), the next 15 take
    /// the copy, then one is lent again to see whether `fn` still writes.
    private var copyCalls = 0

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

    /// The row tensor (made on first use, and again when the dtype or size changes), its
    /// storage a borrowing one (zero-filled).
    private func rowTensor(count: Int, dtype: DType) throws -> Tensor {
        if let t = row, t.count == count, t.dtype == dtype { return t }
        let s = try state()
        let storage = TensorStorage(borrowingCapacity: count * dtype.size)
        let t = try Tensor(storage: storage, offset: 0, shape: [count], dtype: dtype)
        if let old = rowRef { old.release(s) }
        s.push(tensor: t)
        rowRef = LuaRef(popping: s)
        row = t
        rowIsBlank = false
        return t
    }

    /// The row tensor's own block, for the chain to write the whole row into (a row lent
    /// by the last call is let go without a copy).
    func rowBuffer(count: Int, f64: Bool) throws -> UnsafeMutableRawPointer {
        let t = try rowTensor(count: count, dtype: f64 ? .f64 : .f32)
        t.storage.unborrow()
        return t.storage.base
    }

    /// Shows `fn` the caller's row in place when it lies in the caller's logits tensor.
    func lend(_ logits: UnsafeRawPointer, count: Int, f64: Bool) throws -> Bool {
        guard let lender else { return false }
        if copyCalls > 0 { copyCalls -= 1; return false }
        let t = try rowTensor(count: count, dtype: f64 ? .f64 : .f32)
        return t.storage.borrow(lender, at: logits)
    }

    /// Calls `fn` on the lent row: nil when it left the row unchanged (still borrowed),
    /// else the tensor's own block, holding what it wrote or the tensor it returned.
    func runLent(_ ctx: SamplingContext) throws -> UnsafeMutableRawPointer? {
        guard let t = row else { throw LuaScriptError("stage '\(name)': no row to edit") }
        let s = try state()
        let base = s.top
        defer { if s.top > base { s.pop(s.top - base) } }
        let out = try call(s, t, ctx)
        if !t.storage.isBorrowed || out != nil { copyCalls = 15 }
        guard let out else { return t.storage.isBorrowed ? nil : t.storage.base }
        t.makeWritable()  // out may be a view of t: copy the lent row first
        try copyIn(out, DenseRow(count: t.count, base: t.storage.base, isF64: t.dtype == .f64))
        return t.storage.base
    }

    /// Calls `fn(row, ctx)`; a tensor other than the row that `fn` returns is copied in.
    func run(_ dense: DenseRow, _ ctx: SamplingContext) throws {
        guard let t = row else { throw LuaScriptError("stage '\(name)': no row to edit") }
        let s = try state()
        let base = s.top
        defer { if s.top > base { s.pop(s.top - base) } }
        if let out = try call(s, t, ctx) { try copyIn(out, dense) }
    }

    /// Calls `fn(t, ctx)`, leaving its result on the stack: nil when it returned `t` or
    /// nothing (nil: the logits as `fn` left them in `t`), else the other tensor it returned
    /// (checked to hold `t.count` logits).
    private func call(_ s: LuaState, _ t: Tensor, _ ctx: SamplingContext) throws -> Tensor? {
        guard let rowRef else { throw LuaScriptError("stage '\(name)': no row to edit") }
        let n = t.count
        ref.push(s)
        rowRef.push(s)
        pushContext(s, ctx)
        do {
            try s.pcall(nargs: 2, nresults: 1)
        } catch let e as LuaError {
            throw LuaScriptError("stage '\(name)' failed: \(e.message)")
        }
        if s.type(at: -1) == .nil { return nil }  // edited in place (or not at all), nothing returned
        guard let out = s.object(at: -1, Tensor.self) else {
            // a Lua array of numbers, as every vector the contract takes ("numbers in")
            if s.type(at: -1) == .table, let a = s.numberArray(at: -1) {
                guard a.count == n else {
                    throw LuaScriptError("stage '\(name)' returned an array of \(a.count) numbers; it must return \(n) logits, as it was given")
                }
                return try Tensor(a)
            }
            throw LuaScriptError("stage '\(name)' must return the logits (a tensor or an array of \(n) numbers), got \(s.typeName(at: -1))")
        }
        if out === t { return nil }
        guard out.ndim == 1, out.count == n else {
            let shape = out.shape.map(String.init).joined(separator: ", ")
            throw LuaScriptError("stage '\(name)' returned a tensor of shape {\(shape)}; it must return \(n) logits (shape {\(n)}), as it was given")
        }
        return out
    }

    /// Copies the logits of `out` into the row.
    private func copyIn(_ out: Tensor, _ dense: DenseRow) throws {
        let n = dense.count
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
            the chain}; it returns the logits: the same tensor edited in place, or nothing (nil: the
            logits as fn left them, its in-place edits included), or a new tensor of the same length
            (f32 or f64), or a Lua array of that many numbers. The tensor is the same one on every call (clone it to
            keep a row). First in the chain, given a contiguous f32/f64 logits tensor, it is a
            view of that tensor until fn writes: fn's first write (any: l[i] = x, ranges, masks,
            views of l) copies the row into the stage's own buffer, so the caller's logits never
            change, and a stage that only reads costs no copy (a stage that wrote gets the copy
            up front for its next 15 calls: the same one copy, with one read of the row less).
            Elsewhere (after another stage, or for a Lua array or a strided tensor) the row is
            copied into that buffer once per token (after a truncating stage such as top_k only
            the candidates are). Nothing is copied back
            unless fn returns another tensor. ctx is also the same table on
            every call (its history extended, not rebuilt; fields fn sets stay). A wrong length or
            any other return is an error naming the stage, and so is a NaN fn leaves in the
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
