import Foundation

/// The working state of one row while a `SamplerChain` runs, reused across calls so a
/// token costs no allocation once warmed up. Three representations, like llama.cpp's
/// `llama_token_data_array` plus a lazy view of the caller's row:
/// - `lazy`: the caller's logits, read-only, divided by `divisor`, with a few `patch`
///   entries (penalties, logit_bias) overriding single ids. No copy of the vocabulary.
/// - `dense`: an owned copy of the whole row (after a custom stage).
/// - `sparse`: a candidate list of ids and logits (finite only), after a filtering stage;
///   `sorted` when in canonical order (logit descending, then id ascending).
final class SamplerWorkspace {
    enum Mode { case lazy, dense, sparse }

    var mode: Mode = .lazy
    var base = UnsafeBufferPointer<Float>(start: nil, count: 0)
    var divisor: Float = 1
    var patchIds: [Int32] = []
    var patchVals: [Float] = []
    /// One bit per vocabulary id, set for patched ids; all clear between calls.
    var patchMask: [UInt64] = []
    var dense: [Float] = []
    var ids: [Int32] = []
    var vals: [Float] = []
    var sorted = false
    /// Probabilities of the sparse list after `softmax()`, aligned with `ids`.
    var probs: [Double] = []
    var scratch: [Float] = []
    var keys: [UInt64] = []
    var history: [Int] = []
    var targets: [Int] = []
    var counts: [Int] = []

    var vocab: Int { base.count }
    var count: Int { ids.count }

    /// Starts a row: lazy view of `logits`, no patches.
    func begin(_ logits: UnsafeBufferPointer<Float>) {
        clearPatches()
        base = logits
        mode = .lazy
        divisor = 1
        sorted = false
        let words = (logits.count + 63) / 64
        if patchMask.count < words { patchMask = [UInt64](repeating: 0, count: words) }
    }

    func clearPatches() {
        for id in patchIds { patchMask[Int(id) >> 6] = 0 }
        patchIds.removeAll(keepingCapacity: true)
        patchVals.removeAll(keepingCapacity: true)
    }

    @inline(__always) func isPatched(_ id: Int) -> Bool {
        patchMask[id >> 6] & (1 << UInt64(id & 63)) != 0
    }

    /// The current logit of `id` in lazy mode.
    func lazyValue(_ id: Int) -> Float {
        if isPatched(id), let j = patchIds.firstIndex(of: Int32(id)) { return patchVals[j] }
        return base[id] / divisor
    }

    /// Overrides the logit of `id` in lazy mode.
    func setPatch(_ id: Int, _ value: Float) {
        if isPatched(id), let j = patchIds.firstIndex(of: Int32(id)) { patchVals[j] = value; return }
        patchMask[id >> 6] |= 1 << UInt64(id & 63)
        patchIds.append(Int32(id))
        patchVals.append(value)
    }

    /// Replaces the current logit `x` of each id `targets[j]` (distinct ids in the
    /// vocabulary) by `f(j, x)`, in whatever mode the row is.
    func modify(_ targets: [Int], _ f: (Int, Float) -> Float) {
        switch mode {
        case .lazy:
            for (j, id) in targets.enumerated() { setPatch(id, f(j, lazyValue(id))) }
        case .dense:
            for (j, id) in targets.enumerated() { dense[id] = f(j, dense[id]) }
        case .sparse:
            let pos = Dictionary(targets.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
            for i in 0..<ids.count { if let j = pos[Int(ids[i])] { vals[i] = f(j, vals[i]) } }
            dropNonFinite()
            sorted = false
            probs.removeAll(keepingCapacity: true)
        }
    }

    /// Turns the lazy view into an owned dense row (one pass over the vocabulary).
    func materialize() {
        guard mode == .lazy else { return }
        let n = vocab
        if dense.count != n { dense = [Float](repeating: 0, count: n) }
        let d = divisor
        dense.withUnsafeMutableBufferPointer { out in
            guard let src = base.baseAddress, let dst = out.baseAddress else { return }
            if d == 1 { dst.update(from: src, count: n) } else { for i in 0..<n { dst[i] = src[i] / d } }
        }
        for (j, id) in patchIds.enumerated() { dense[Int(id)] = patchVals[j] }
        clearPatches()
        mode = .dense
    }

    /// Makes the row dense (lazy: materialise; sparse: scatter into `-inf`).
    func makeDense() {
        switch mode {
        case .lazy: materialize()
        case .dense: return
        case .sparse:
            let n = vocab
            if dense.count != n { dense = [Float](repeating: 0, count: n) }
            dense.withUnsafeMutableBufferPointer { out in
                out.update(repeating: -.infinity)
                for i in 0..<ids.count { out[Int(ids[i])] = vals[i] }
            }
            mode = .dense
        }
    }

    /// Makes the row a candidate list of its finite entries (id order), if not already.
    func makeSparse() {
        switch mode {
        case .sparse: return
        case .lazy:
            ids.removeAll(keepingCapacity: true); vals.removeAll(keepingCapacity: true)
            let d = divisor
            if let src = base.baseAddress {
                gatherFinite(src, count: vocab, divisor: d)
            }
            for (j, id) in patchIds.enumerated() {
                // Patched ids were gathered with their unpatched value (or skipped if -inf).
                if let at = binarySearch(id) {
                    if patchVals[j] > -.infinity { vals[at] = patchVals[j] } else { vals[at] = -.infinity }
                } else if patchVals[j] > -.infinity {
                    let at = ids.firstIndex(where: { $0 > id }) ?? ids.count
                    ids.insert(id, at: at); vals.insert(patchVals[j], at: at)
                }
            }
            if !patchIds.isEmpty { dropNonFinite() }
            clearPatches()
        case .dense:
            ids.removeAll(keepingCapacity: true); vals.removeAll(keepingCapacity: true)
            for i in 0..<dense.count where dense[i] > -.infinity {
                ids.append(Int32(i)); vals.append(dense[i])
            }
        }
        mode = .sparse
        sorted = false
    }

    /// Appends `(i, x[i] / divisor)` for every finite `x[i] / divisor`, in id order.
    func gatherFinite(_ x: UnsafePointer<Float>, count n: Int, divisor d: Float) {
        ids.append(contentsOf: repeatElement(0, count: n))
        vals.append(contentsOf: repeatElement(0, count: n))
        var w = 0
        ids.withUnsafeMutableBufferPointer { ib in
            vals.withUnsafeMutableBufferPointer { vb in
                for i in 0..<n {
                    let v = d == 1 ? x[i] : x[i] / d
                    ib[w] = Int32(truncatingIfNeeded: i); vb[w] = v
                    w &+= v > -.infinity ? 1 : 0
                }
            }
        }
        truncate(w)
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
    func dropNonFinite() { filter { _, v in v > -.infinity } }

    /// Keeps the candidates for which `keep(position, logit)` holds (order preserved).
    func filter(_ keep: (Int, Float) -> Bool) {
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
            // One 64-bit key per candidate, ascending = canonical: the logit's bits made
            // order-preserving and inverted (descending) above the id. Integer sort, no
            // comparison closure.
            keys.removeAll(keepingCapacity: true)
            for i in 0..<n {
                let b = vals[i].bitPattern
                let ordered = b & 0x8000_0000 != 0 ? ~b : b | 0x8000_0000
                keys.append(UInt64(~ordered) << 32 | UInt64(UInt32(bitPattern: ids[i])))
            }
            keys.sort()
            for i in 0..<n {
                let k = keys[i]
                let ordered = ~UInt32(truncatingIfNeeded: k >> 32)
                let b = ordered & 0x8000_0000 != 0 ? ordered & 0x7FFF_FFFF : ~ordered
                vals[i] = Float(bitPattern: b)
                ids[i] = Int32(bitPattern: UInt32(truncatingIfNeeded: k))
            }
        }
        sorted = true
        probs.removeAll(keepingCapacity: true)
    }

    /// Fills `probs` with the softmax of the candidate logits (Double, through
    /// `FastExp`, whose pure arithmetic gives the same bits on every machine).
    func softmax() {
        let (md, sum) = softmaxParts()
        let inv = 1 / sum
        if md.isFinite { for i in 0..<probs.count { probs[i] *= inv } }
    }

    /// Fills `probs` with `exp(logit - max)` and returns `(max, sum)`.
    @discardableResult
    func softmaxParts() -> (Double, Double) {
        let n = ids.count
        probs.removeAll(keepingCapacity: true)
        guard n > 0 else { return (-.infinity, 0) }
        var m = -Float.infinity
        for v in vals where v > m { m = v }
        let md = Double(m)
        probs.append(contentsOf: repeatElement(0.0, count: n))
        var sum = 0.0
        vals.withUnsafeBufferPointer { vb in
            probs.withUnsafeMutableBufferPointer { pb in
                var acc = SIMD4<Double>()
                var i = 0
                while i + 4 <= n {
                    let x = SIMD4<Double>(Double(vb[i]), Double(vb[i + 1]), Double(vb[i + 2]), Double(vb[i + 3]))
                    let e = FastExp.exp(x - SIMD4<Double>(repeating: md))
                    pb[i] = e[0]; pb[i + 1] = e[1]; pb[i + 2] = e[2]; pb[i + 3] = e[3]
                    acc += e
                    i += 4
                }
                sum = acc.sum()
                while i < n {
                    let e = FastExp.exp(Double(vb[i]) - md)
                    pb[i] = e; sum += e; i += 1
                }
            }
        }
        return (md, sum)
    }

    /// Fills `probs` with probabilities under a softmax computed earlier on a larger
    /// list (`exp(logit - max) / sum`).
    func probsUnder(max md: Double, sum: Double) {
        probs.removeAll(keepingCapacity: true)
        for v in vals { probs.append(FastExp.exp(Double(v) - md) / sum) }
    }

    /// For a long unsorted list whose `probs` are normalised: keeps only the entries at
    /// or above the m-th largest logit (ties included), sorted canonically with their
    /// probabilities, if at least `atLeast` remain. Returns the probability mass kept,
    /// or nil (list untouched) when nothing would be gained.
    func restrictToTop(_ m: Int, atLeast: Int, max md: Double, sum: Double) -> Double? {
        guard !sorted, ids.count > 4 * m else { return nil }
        var pos: [Int32] = [], pv: [Float] = []
        vals.withUnsafeBufferPointer { vb in
            if let start = vb.baseAddress {
                TopKSelect.collect(start, count: vb.count, k: m, skip: nil, ids: &pos, vals: &pv, scratch: &scratch)
            }
        }
        guard pos.count >= atLeast, pos.count < ids.count else { return nil }
        var kept = 0.0
        for q in pos { kept += probs[Int(q)] }
        let newIds = pos.map { ids[Int($0)] }
        ids.removeAll(keepingCapacity: true); ids.append(contentsOf: newIds)
        vals.removeAll(keepingCapacity: true); vals.append(contentsOf: pv)
        sortCanonical()
        probsUnder(max: md, sum: sum)
        return kept
    }

    /// Shannon entropy (nats) of `probs`.
    func entropy() -> Double {
        var h = 0.0
        for p in probs where p > 0 { h -= p * Foundation.log(p) }
        return h
    }
}
