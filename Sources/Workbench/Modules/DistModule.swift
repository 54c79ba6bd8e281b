import LuaKit
import AlignMath

extension Workbench {
    /// The `dist` module: distributions over the last axis (AlignMath's `Dist`).
    static func installDist(_ wb: Workbench) throws {
        typealias D = DistModule
        let m = ModuleBuilder(wb.lua, name: "dist", doc: """
            dist: distributions over the last axis of logits (softmax, entropy, KL, ...)
            Inputs are logits (unnormalized log-probabilities; -inf excludes a token), as a tensor
            or a Lua array; {probs = true} takes probabilities instead. A 1-d input is one
            distribution; a 2-d or 3-d input is a batch, one value per row.
            NaN in a row gives NaN for that row. A row whose logits are all -inf (no token left;
            with probs, a row of zeros) gives what torch 2.x gives, never an error, so a batch
            keeps its other rows: logsumexp -inf; softmax, log_softmax, entropy, kl, js, tv and
            cross_entropy NaN (kl, js, tv when either side is such a row; the id -100 still
            gives 0); argmax 0; topk -inf values with the ids 0, 1, ...
            Example: dist.kl({2, 1, 0}, {1, 1, 1})
            """)
        let options = """
            Options: temperature (1): the logits are divided by it (probabilities p become
            p^(1/T), renormalised); probs (false): the inputs are probabilities (>= 0, renormalised).
            """
        let one: [(String, String, String, (Tensor, DistOptions) throws -> Tensor)] = [
            ("softmax", "dist.softmax(x, {temperature = 1, probs = false}) -> tensor\nsoftmax(x / T) along the last axis; same shape and dtype as x.\nA row of only -inf gives NaN (as torch.softmax).",
             "dist.softmax{2, 1}  --> tensor([0.7311, 0.2689], dtype=f64)", Dist.softmax),
            ("log_softmax", "dist.log_softmax(x, {temperature = 1, probs = false}) -> tensor\nlog softmax(x / T) along the last axis; same shape and dtype as x.\nA row of only -inf gives NaN (as torch.log_softmax).",
             "dist.log_softmax{2, 1}", Dist.logSoftmax),
            ("logsumexp", "dist.logsumexp(x, {temperature = 1, probs = false}) -> number | tensor\nlog sum exp(x / T) over the last axis: a number for 1-d x, one per row for a batch.\nA row of only -inf gives -inf (log 0), a row holding +inf (and no NaN) +inf, as torch.logsumexp.",
             "dist.logsumexp{0, 0}  --> 0.69314718055995", Dist.logsumexp),
            ("entropy", "dist.entropy(x, {temperature = 1, probs = false}) -> number | tensor\nShannon entropy -sum p log p in nats of P = softmax(x / T): a number for 1-d x, one per\nrow for a batch. A row of only -inf gives NaN (as torch's Categorical(logits).entropy()); a\none-hot row ({0, 1} with probs, {0, -inf}) exactly 0 (as torch.special.entr(p).sum()).",
             "dist.entropy({0.5, 0.5}, {probs = true})  --> 0.69314718055995", Dist.entropy),
        ]
        for (name, head, example, f) in one {
            m.function(name, doc: "\(head)\n\(options)\nExample: \(example)") { a in
                let x = try D.input(a, 1)
                let o = try D.distOptions(a, 2)
                return D.push(a, try D.call(a, name) { try f(x, o) }, keepShape: name.hasSuffix("softmax"))
            }
        }
        let two: [(String, String, String, (Tensor, Tensor, DistOptions) throws -> Tensor)] = [
            ("kl", "dist.kl(p, q, {temperature = 1, probs = false}) -> number | tensor\nKL(P||Q) = sum P (log P - log Q) in nats, P = softmax(p / T), Q = softmax(q / T); +inf\nwhere P has mass on a token q excludes. A number for 1-d inputs, one per row for a batch.",
             "dist.kl({2, 1, 0}, {0, 0, 0})", Dist.kl),
            ("js", "dist.js(p, q, {temperature = 1, probs = false}) -> number | tensor\nJensen-Shannon divergence KL(P||M)/2 + KL(Q||M)/2, M = (P + Q)/2, in nats (the divergence,\nnot scipy's jensenshannon distance, its square root). One per row for a batch.",
             "dist.js({1, 0}, {0, 1}, {probs = true})  --> 0.69314718055995", Dist.js),
            ("tv", "dist.tv(p, q, {temperature = 1, probs = false}) -> number | tensor\nTotal variation distance sum |P - Q| / 2. One per row for a batch.",
             "dist.tv({0.5, 0.5}, {1, 0}, {probs = true})  --> 0.5", Dist.tv),
        ]
        for (name, head, example, f) in two {
            m.function(name, doc: "\(head)\np and q must have the same shape. A row of only -inf in p or q gives NaN (as torch,\nwhose softmax of it is NaN).\n\(options)\nExample: \(example)") { a in
                let p = try D.input(a, 1), q = try D.input(a, 2)
                let o = try D.distOptions(a, 3)
                return D.push(a, try D.call(a, name) { try f(p, q, o) }, keepShape: false)
            }
        }
        m.function("cross_entropy", doc: """
            dist.cross_entropy(logits, target_id, {temperature = 1, probs = false}) -> number | tensor
            -log softmax(logits / T)[target] in nats: a number for 1-d logits and one target id, one
            per row for a batch, with target_id an array (nested for 3-d) or tensor of one id per
            row. Ids are 0-based vocabulary ids, as a tokenizer gives them; +inf where the
            target's logit is -inf. The id -100 (torch's ignore_index, how HF labels mask prompt
            and padding) gives 0 for its row, as F.cross_entropy(..., reduction = "none"). A row
            of only -inf gives NaN (as F.cross_entropy) unless its id is -100.
            \(options)
            Example: dist.cross_entropy({2, 1, 0}, 0)  --> 0.40760596444438
            """) { a in
            let x = try D.input(a, 1)
            let o = try D.distOptions(a, 3)
            let targets = try D.targetIds(a, x)
            return D.push(a, try D.call(a, "cross_entropy") { try Dist.crossEntropy(x, targets: targets, o) }, keepShape: false)
        }
        DistRanking.install(m)
    }

}

/// Argument checking and result conversion for the `dist` functions.
enum DistModule {
    /// The logits argument: a tensor or Lua array with at least one axis.
    static func input(_ a: LuaArguments, _ i: Int32) throws -> Tensor {
        let t = try a.tensor(i)
        guard t.ndim >= 1 else { throw a.error(i, "tensor with at least one axis expected, got a 0-d tensor") }
        return t
    }

    /// `{temperature =, probs =}` at argument `i`.
    static func distOptions(_ a: LuaArguments, _ i: Int32) throws -> DistOptions {
        let o = try a.options(i, allowed: ["temperature", "probs"])
        let t = try o.number("temperature", default: 1)
        guard t > 0, t.isFinite else { throw a.error(i, "option 'temperature' must be a finite number > 0, got \(t)") }
        return DistOptions(temperature: t, probs: try o.boolean("probs", default: false))
    }

    /// Runs a `Dist` function, naming it in its errors (`dist.kl: ...`).
    static func call(_ a: LuaArguments, _ name: String, _ body: () throws -> Tensor) throws -> Tensor {
        do {
            return try body()
        } catch let e as AlignMathError {
            var m = e.description
            if m.hasPrefix(name + ": ") { m.removeFirst(name.count + 2) } else if m.hasPrefix(name + " ") { m.removeFirst(name.count + 1) }
            throw a.failure(m)
        }
    }

    /// Pushes a result: a tensor as it is, or a number when it is a 0-d per-row result.
    static func push(_ a: LuaArguments, _ t: Tensor, keepShape: Bool) -> Int32 {
        if !keepShape, t.ndim == 0, let v = t.scalar { a.state.push(v) } else { a.state.push(tensor: t) }
        return 1
    }

    /// cross_entropy's targets (argument 2): one 0-based id per row of `x`, checked.
    static func targetIds(_ a: LuaArguments, _ x: Tensor) throws -> [Int] {
        let rows = x.rowCount, vocab = x.rowLength
        guard vocab > 0 else { throw a.failure("the last axis has length 0 (a distribution needs at least one token)") }
        let batch = Array(x.shape.dropLast())
        var ids: [Double]
        if x.ndim == 1 {
            guard a.type(2) == .number else { throw a.typeError(2, expected: "target id (integer)") }
            ids = [try a.number(2)]
        } else {
            guard a.tensorIfAny(2) != nil || a.type(2) == .table else {
                throw a.typeError(2, expected: "array or tensor of target ids (one per row)")
            }
            let t = try a.tensor(2)
            guard t.count == rows, t.shape == batch || t.ndim == 1 else {
                throw a.failure("\(t.count) target ids of shape \(t.shape) for logits of shape \(x.shape) (one id per row: shape \(batch))")
            }
            ids = t.toDoubles()
        }
        var out: [Int] = []
        out.reserveCapacity(ids.count)
        for (r, d) in ids.enumerated() {
            let row = x.ndim == 1 ? "" : " (row \(r + 1))"
            guard d.isFinite, d == d.rounded(), let id = Int(exactly: d) else {
                throw a.failure("target id \(d)\(row) is not an integer")
            }
            guard (id >= 0 && id < vocab) || id == Dist.ignoreIndex else {
                throw a.failure("target id \(id)\(row) is outside the vocabulary 0..\(vocab - 1) (ids are 0-based)")
            }
            out.append(id)
        }
        return out
    }
}
