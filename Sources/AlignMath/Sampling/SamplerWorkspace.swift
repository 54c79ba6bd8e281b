import Foundation

/// The working state of one row while a `SamplerChain` runs, in the dtype of the row
/// (`T`), reused across calls so a token costs no allocation once warmed up. Three
/// representations, like llama.cpp's `llama_token_data_array` plus a lazy view of the
/// caller's row:
/// - `lazy`: the caller's logits, read-only, divided by `divisor`, with a few `patch`
///   entries (penalties, logit_bias) overriding single ids. No copy of the vocabulary.
/// - `dense`: the whole row in memory the chain may write (its own, or the buffer of a
///   custom stage, which the chain fills and the stage edits in place).
/// - `sparse`: a candidate list of ids and logits. `sorted` when in canonical order
///   (logit descending, then id ascending). The transformers stages see finite entries
///   only; the llama.cpp stages see the list as llama.cpp's array: its order, its own
///   `sorted` flag (`llamaSorted`) and the -inf entries llama.cpp keeps (`holdsNegInf`).
final class SamplerWorkspace<T: SamplingScalar> {
    enum Mode { case lazy, dense, sparse }

    var mode: Mode = .lazy
    var base = UnsafeBufferPointer<T>(start: nil, count: 0)
    var divisor: T = 1
    var patchIds: [Int32] = []
    var patchVals: [T] = []
    /// Per vocabulary id: 1 + its index in `patchIds`, 0 when not patched. All zero
    /// between calls (`clearPatches` resets the entries it set). Also lent out as a
    /// scratch map by `modify` and `countHistory`, which leave it zero.
    var patchSlot: [Int32] = []
    /// The dense row: `ownDense` or a custom stage's buffer.
    var dense = UnsafeMutableBufferPointer<T>(start: nil, count: 0)
    private var ownDense = UnsafeMutableBufferPointer<T>(start: nil, count: 0)
    var ids: [Int32] = []
    var vals: [T] = []
    var sorted = false
    /// llama.cpp's `cur_p->sorted`: set by its sorting stages, cleared by penalties, and
    /// (as in llama.cpp) left alone by logit_bias and temperature.
    var llamaSorted = false
    /// True when the list may hold -inf entries (kept by llama.cpp stages, as its array
    /// keeps them); the transformers stages drop them first.
    var holdsNegInf = false
    /// Probabilities of the sparse list after `softmax()`, aligned with `ids`.
    var probs: [Double] = []
    var scratch: [T] = []
    var sortKeys: [CanonicalKey] = []
    var targets: [Int] = []
    var counts: [Int] = []
    /// `drawWholeRow`'s weights (one per vocabulary id) and their sums by blocks of 8;
    /// scratch, grown as needed and never cleared.
    var rowWeights: [Double] = []
    var blockSums: [Double] = []
    /// Per vocabulary id, for `countHistory`; all zero between calls.
    var counter: [Int32] = []
    /// The list as llama.cpp's array while a llama.cpp stage runs (`LlamaCppArray`).
    var llama: [LlamaToken] = []
    var llamaBuffer: [LlamaToken] = []
    var llamaBuckets: [Int32] = []
    /// Set by the first pass that reads the caller's row (lazy mode) when it met a NaN;
    /// the chain then refuses the row (`SamplerChain.refuseIfNaN`). Each such pass finds
    /// it as a side effect of what it already does, or scans only when entries were
    /// dropped, so a clean row costs nothing extra.
    var sawNaN = false
    /// The custom stage that last wrote the row (nil before one runs), and whether a pass
    /// over what it wrote met a NaN (`SamplerChain.refuseIfNaN` then names the stage). The
    /// caller's NaN is refused before a custom stage runs, so a NaN in a row a stage wrote
    /// is the stage's. Found, like `sawNaN`, by the passes that read the row anyway: the
    /// copy into the next stage's buffer, top-k's scan, the gather into a candidate list,
    /// the whole-row draw, and the read-back of a stage run on the candidates.
    var writer: SamplerStage?
    var stageNaN = false
    /// The first id where a stage run on the candidates wrote NaN (its buffer is blanked
    /// when read back, so the id is kept here); -1 when none, or when the NaN sits in the
    /// dense row (`dense`, where `SamplerChain` finds it).
    var stageNaNId = -1

    /// One candidate's place in the canonical order: the inverted order key of its logit
    /// (ascending = logit descending), its id, and where it sits in the list.
    struct CanonicalKey: Comparable {
        var key: UInt64
        var id: Int32
        var pos: Int32
        static func < (a: Self, b: Self) -> Bool { a.key < b.key || (a.key == b.key && a.id < b.id) }
        static func == (a: Self, b: Self) -> Bool { a.key == b.key && a.id == b.id }
    }

    var vocab: Int { base.count }
    var count: Int { ids.count }

    deinit { ownDense.deallocate() }

    /// Starts a row: lazy view of `logits`, no patches.
    func begin(_ logits: UnsafeBufferPointer<T>) {
        clearPatches()
        base = logits
        mode = .lazy
        divisor = 1
        sorted = false
        llamaSorted = false
        holdsNegInf = false
        sawNaN = false
        writer = nil
        stageNaN = false
        stageNaNId = -1
        probs.removeAll(keepingCapacity: true)
        if patchSlot.count < logits.count { patchSlot = [Int32](repeating: 0, count: logits.count) }
    }

    /// Sets `sawNaN` when `x[0..<n]` holds a NaN.
    func noteNaN(_ x: UnsafePointer<T>, count n: Int) {
        if !sawNaN && T.containsNaN(x, count: n) { sawNaN = true }
    }

    func clearPatches() {
        for id in patchIds { patchSlot[Int(id)] = 0 }
        patchIds.removeAll(keepingCapacity: true)
        patchVals.removeAll(keepingCapacity: true)
    }

    /// The current logit of `id` in lazy mode.
    @inline(__always) func lazyValue(_ id: Int) -> T {
        let s = patchSlot[id]
        return s != 0 ? patchVals[Int(s) - 1] : base[id] / divisor
    }

    /// Overrides the logit of `id` in lazy mode.
    func setPatch(_ id: Int, _ value: T) {
        let s = patchSlot[id]
        if s != 0 { patchVals[Int(s) - 1] = value; return }
        patchIds.append(Int32(id))
        patchVals.append(value)
        patchSlot[id] = Int32(patchIds.count)
    }

    /// Replaces the current logit `x` of each id `targets[j]` (distinct ids in the
    /// vocabulary) by `f(j, x)`, in whatever mode the row is. In sparse mode non-finite
    /// results are dropped unless `keepNegInf` (the llama.cpp stages keep -inf entries).
    func modify(_ targets: [Int], keepNegInf: Bool = false, _ f: (Int, T) -> T) {
        switch mode {
        case .lazy:
            for (j, id) in targets.enumerated() { setPatch(id, f(j, lazyValue(id))) }
        case .dense:
            for (j, id) in targets.enumerated() { dense[id] = f(j, dense[id]) }
        case .sparse:
            // patchSlot is all zero outside lazy mode: borrow it as an id -> target map.
            for (j, id) in targets.enumerated() { patchSlot[id] = Int32(j + 1) }
            for i in 0..<ids.count {
                let j = patchSlot[Int(ids[i])]
                if j != 0 { vals[i] = f(Int(j) - 1, vals[i]) }
            }
            for id in targets { patchSlot[id] = 0 }
            if keepNegInf { holdsNegInf = true } else { dropNonFinite() }
            sorted = false
            probs.removeAll(keepingCapacity: true)
        }
    }

    /// The dense row in `external` (a custom stage's buffer of `vocab` elements) or in
    /// memory of the workspace's own; removed tokens are -inf. One pass over the row.
    func makeDense(into external: UnsafeMutableBufferPointer<T>? = nil) {
        let n = vocab
        let target: UnsafeMutableBufferPointer<T>
        if let e = external {
            target = e
        } else if mode == .dense {
            return
        } else {
            if ownDense.count < n {
                ownDense.deallocate()
                ownDense = UnsafeMutableBufferPointer<T>.allocate(capacity: n)
            }
            target = UnsafeMutableBufferPointer(rebasing: ownDense[0..<n])
        }
        guard let dst = target.baseAddress else { return }
        switch mode {
        case .lazy:
            let d = divisor
            if let src = base.baseAddress {
                if d == 1 {
                    // the NaN test folded into the copy: the row is read once
                    if T.copyFindingNaN(src, to: dst, count: n) { sawNaN = true }
                } else {
                    for i in 0..<n { dst[i] = src[i] / d }
                    noteNaN(src, count: n)
                }
            }
            for (j, id) in patchIds.enumerated() { dst[Int(id)] = patchVals[j] }
            clearPatches()
        case .dense:
            if let src = dense.baseAddress, src != dst, T.copyFindingNaN(src, to: dst, count: n) { stageNaN = true }
        case .sparse:
            dst.update(repeating: -.infinity, count: n)
            for i in 0..<ids.count { dst[Int(ids[i])] = vals[i] }
        }
        dense = target
        mode = .dense
    }

    /// Makes the row a candidate list of its finite entries, if not already; a list that
    /// llama.cpp stages left with -inf entries loses them (order kept).
    func makeSparse() {
        switch mode {
        case .sparse:
            if holdsNegInf { dropNonFinite() }
            return
        case .lazy:
            ids.removeAll(keepingCapacity: true); vals.removeAll(keepingCapacity: true)
            if let src = base.baseAddress {
                if gather(src, count: vocab, divisor: divisor, finiteOnly: true) { sawNaN = true }
            }
            if !patchIds.isEmpty { applyPatchesToGathered() }
            clearPatches()
        case .dense:
            ids.removeAll(keepingCapacity: true); vals.removeAll(keepingCapacity: true)
            if let src = dense.baseAddress, gather(UnsafePointer(src), count: vocab, divisor: 1, finiteOnly: true) {
                stageNaN = true
            }
        }
        mode = .sparse
        sorted = false
        llamaSorted = false
        holdsNegInf = false
        probs.removeAll(keepingCapacity: true)
    }

    /// Makes the row llama.cpp's array: from a lazy or dense row, every entry in id
    /// order (-inf included, as `llama_token_data_array` holds the whole vocabulary);
    /// a candidate list stays as it is.
    func makeLlamaArray() {
        guard mode != .sparse else { return }
        ids.removeAll(keepingCapacity: true); vals.removeAll(keepingCapacity: true)
        if mode == .lazy {
            if let src = base.baseAddress {
                if gather(src, count: vocab, divisor: divisor, finiteOnly: false) { sawNaN = true }
            }
            for (j, id) in patchIds.enumerated() { vals[Int(id)] = patchVals[j] }
            clearPatches()
        } else if let src = dense.baseAddress, gather(UnsafePointer(src), count: vocab, divisor: 1, finiteOnly: false) {
            stageNaN = true
        }
        mode = .sparse
        sorted = false
        llamaSorted = false
        holdsNegInf = true
        probs.removeAll(keepingCapacity: true)
    }

    /// Appends `(i, x[i] / divisor)` in id order: every entry, or the finite ones (NaN is
    /// dropped). Returns true when `x` held a NaN (tested in the same pass).
    @discardableResult
    func gather(_ x: UnsafePointer<T>, count n: Int, divisor d: T, finiteOnly: Bool) -> Bool {
        let start = ids.count
        ids.append(contentsOf: repeatElement(0, count: n))
        vals.append(contentsOf: repeatElement(0, count: n))
        var w = start
        var nan = 0
        ids.withUnsafeMutableBufferPointer { ib in
            vals.withUnsafeMutableBufferPointer { vb in
                for i in 0..<n {
                    let v = d == 1 ? x[i] : x[i] / d
                    ib[w] = Int32(truncatingIfNeeded: i); vb[w] = v
                    w &+= (!finiteOnly || v > -.infinity) ? 1 : 0
                    nan |= v != v ? 1 : 0
                }
            }
        }
        truncate(w)
        return nan != 0
    }

    /// Puts the lazy patches into a list gathered (finite entries, id order) from the
    /// unpatched row: patched values replace, -inf removes, a finite patch of an id whose
    /// base value was -inf is inserted in id order.
    private func applyPatchesToGathered() {
        var inserted = false
        for (j, id) in patchIds.enumerated() {
            if let at = binarySearch(id) {
                vals[at] = patchVals[j]
            } else if patchVals[j] > -.infinity {
                ids.append(id); vals.append(patchVals[j])
                inserted = true
            }
        }
        dropNonFinite()
        if inserted {
            // Restore id order (rare: a token banned in the input, then biased back).
            let order = ids.indices.sorted { ids[$0] < ids[$1] }
            let newIds = order.map { ids[$0] }, newVals = order.map { vals[$0] }
            ids = newIds
            vals = newVals
        }
    }

    /// The position of `id` in an id-ordered candidate list.
    func binarySearch(_ id: Int32) -> Int? {
        var lo = 0, hi = ids.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if ids[mid] < id { lo = mid + 1 } else { hi = mid }
        }
        return lo < ids.count && ids[lo] == id ? lo : nil
    }

    /// Removes `-inf` and NaN entries of the candidate list.
    func dropNonFinite() {
        filter { _, v in v > -.infinity }
        holdsNegInf = false
    }

    /// Keeps the candidates for which `keep(position, logit)` holds (order preserved).
    func filter(_ keep: (Int, T) -> Bool) {
        var w = 0
        for r in 0..<ids.count where keep(r, vals[r]) {
            ids[w] = ids[r]; vals[w] = vals[r]
            if r < probs.count { probs[w] = probs[r] }
            w += 1
        }
        truncate(w)
    }

    /// Keeps the first `m` candidates.
    func truncate(_ m: Int) {
        let m = max(0, min(m, ids.count))
        ids.removeLast(ids.count - m)
        vals.removeLast(vals.count - m)
        if probs.count > m { probs.removeLast(probs.count - m) }
    }

    /// Drops the first `m` candidates.
    func dropFirst(_ m: Int) {
        guard m > 0 else { return }
        ids.removeFirst(m)
        vals.removeFirst(m)
        if probs.count >= m { probs.removeFirst(m) } else { probs.removeAll(keepingCapacity: true) }
    }

    /// Sorts the candidate list canonically: logit descending, then id ascending.
    func sortCanonical() {
        if sorted { return }
        let n = ids.count
        if n <= 64 {
            // Insertion sort: no allocation, fast on the short lists after top-k.
            ids.withUnsafeMutableBufferPointer { ib in
                vals.withUnsafeMutableBufferPointer { vb in
                    for i in 1..<max(n, 1) {
                        let v = vb[i], id = ib[i]
                        var j = i
                        while j > 0 && (vb[j - 1] < v || (vb[j - 1] == v && ib[j - 1] > id)) {
                            vb[j] = vb[j - 1]; ib[j] = ib[j - 1]; j -= 1
                        }
                        vb[j] = v; ib[j] = id
                    }
                }
            }
        } else {
            // Integer keys (the logit's order key inverted, then the id): no comparison of
            // floating-point values, no closure.
            sortKeys.removeAll(keepingCapacity: true)
            for i in 0..<n { sortKeys.append(CanonicalKey(key: ~vals[i].orderKey, id: ids[i], pos: Int32(i))) }
            sortKeys.sort()
            scratch.removeAll(keepingCapacity: true)
            scratch.append(contentsOf: vals)
            for i in 0..<n {
                let k = sortKeys[i]
                ids[i] = k.id
                vals[i] = scratch[Int(k.pos)]
            }
        }
        sorted = true
        llamaSorted = true
        probs.removeAll(keepingCapacity: true)
    }
}
