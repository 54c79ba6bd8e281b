import Foundation

/// The transformers-semantics filtering stages on the candidate list (`SamplerWorkspace`
/// in sparse mode, finite entries), in the dtype of the row. Each cites the HF warper it
/// reproduces; `SamplerStage`'s factories document the semantics. The llama.cpp
/// semantics live in `LlamaCppFilters`.
extension SamplerWorkspace {
    /// Top-k on any mode. Lazy rows are scanned in place (patched ids handled apart).
    /// HF `TopKLogitsWarper.__call__`: keep `scores >= topk(scores, k)[-1]` (ties kept);
    /// `exact` keeps exactly `k`, the lower ids first among ties (greedy, temperature 0).
    func topK(_ k: Int, exact: Bool) {
        guard k > 0 else { return }
        switch mode {
        case .lazy:
            var tau = -T.greatestFiniteMagnitude
            if let start = base.baseAddress {
                tau = patchSlot.withUnsafeBufferPointer { slots in
                    TopKSelect.collect(start, count: vocab, k: k, skip: patchIds.isEmpty ? nil : slots.baseAddress,
                                       ids: &ids, vals: &vals, scratch: &scratch, sawNaN: &sawNaN)
                }
            } else { ids.removeAll(); vals.removeAll() }
            if divisor != 1 { let d = divisor; for i in 0..<vals.count { vals[i] /= d } }
            // A patched entry below the k-th unpatched value cannot reach the top k.
            let floor = tau == -T.greatestFiniteMagnitude ? -T.infinity : tau / divisor
            for (j, id) in patchIds.enumerated() where patchVals[j] > -.infinity && patchVals[j] >= floor {
                ids.append(id); vals.append(patchVals[j])
            }
            clearPatches()
        case .dense:
            if let start = dense.baseAddress {
                // a NaN here is a custom stage's output (the caller's was refused before it ran)
                TopKSelect.collect(UnsafePointer(start), count: vocab, k: k, skip: nil, ids: &ids, vals: &vals,
                                   scratch: &scratch, sawNaN: &stageNaN)
            }
        case .sparse:
            if holdsNegInf { dropNonFinite() }
        }
        mode = .sparse
        sorted = false
        holdsNegInf = false
        probs.removeAll(keepingCapacity: true)
        sortCanonical()
        guard ids.count > k else { return }
        if exact { truncate(k); return }
        let tau = vals[k - 1]
        var m = k
        while m < ids.count && vals[m] >= tau { m += 1 }
        truncate(m)
    }

    /// HF `TopPLogitsWarper.__call__`: ascending sort, `cumsum <= 1 - p` removed, the last
    /// `min_keep` kept. Where a group of tied logits straddles the cut, the ids kept are
    /// those torch 2.15's CPU sort of the whole row puts last (`keepPrefixTorchTieOrder`);
    /// count and mass do not depend on the order. A long unsorted list is first cut
    /// to its top 256 logits when the rest is certainly removed (its whole mass is below
    /// `1 - p` by a margin), so the full sort is avoided.
    ///
    /// On float32 rows torch computes in float32: the probabilities are floats, the
    /// cumulative sum is accumulated in double and stored as float (torch's CPU `cumsum`),
    /// and it is compared with `Float(1 - p)`. So is it here: 100 equal float32 logits
    /// under top-p 0.5 keep 50 tokens (the float partial sum after 50 is exactly 0.5), while
    /// 100 equal float64 logits keep 51, as transformers does in each dtype.
    func topP(_ p: Double, minKeep: Int) {
        guard ids.count > 0 else { return }
        let float32 = T.self == Float.self
        var s = 0.0
        var cut = false
        var rowIds: [Int32]? = nil, rowVals: [T]? = nil  // the whole list when the tail was cut
        if !sorted && ids.count > 1024 {
            let (md, sum) = softmaxParts()
            for i in 0..<probs.count { probs[i] /= sum }
            // float32: the tail's mass as torch sums it, its float probabilities in double
            var total32 = 0.0
            if float32 { for q in probs { total32 += Double(Float(q)) } }
            let saved = (ids, vals, probs)
            if let kept = restrictToTop(256, atLeast: minKeep, max: md, sum: sum, float32: float32) {
                let tail = float32 ? total32 - kept : 1 - kept
                if tail < (1 - p) - (float32 ? 1e-6 : 1e-9) {
                    s = tail; cut = true
                    rowIds = saved.0; rowVals = saved.1
                } else {
                    (ids, vals, probs) = saved
                    sorted = false
                }
            }
        }
        if !cut { sortCanonical(); softmax() }
        let n = ids.count
        // Suffix sums from the least probable = HF's ascending cumulative sum.
        var m = 0  // number kept (a prefix of the canonical order)
        var i = n - 1
        if float32 {
            let bound = Float(1 - p)
            // With top_p = 1 (bound 0) a token goes exactly when its float32 probability is 0,
            // and which ones are is decided in the subnormal range, where torch's own float
            // arithmetic (expf(x - max) · (1 / sum), each rounded to float) and the double
            // probability rounded to float disagree (up to 1 in 5 of such tokens): there,
            // the probabilities are torch's float ones.
            let torchFloats = bound == 0 ? torchFloat32Probabilities() : nil
            while i >= 0 {
                s += Double(torchFloats?[i] ?? Float(probs[i]))
                if !(Float(s) <= bound) { m = i + 1; break }
                i -= 1
            }
        } else {
            while i >= 0 {
                s += probs[i]
                if !(s <= 1 - p) { m = i + 1; break }
                i -= 1
            }
        }
        m = min(n, max(m, minKeep))
        if m > 0 && m < n && vals[m - 1] == vals[m] {
            keepPrefixTorchTieOrder(m, rowIds: rowIds ?? ids, rowVals: rowVals ?? vals)
        } else {
            truncate(m)
        }
    }

    /// The candidates' probabilities as torch.softmax computes them on a float32 row:
    /// e = expf(x - max) (correctly rounded, subnormals included), their sum rounded to
    /// float, and e · (1 / sum) in float (the same zeros as torch 2.15 on rows whose tail
    /// reaches the subnormal range; the sum is ours, torch's float one differs by ulps).
    func torchFloat32Probabilities() -> [Float] {
        var mx = -Float.infinity
        for v in vals { let f = Float(v); if f > mx { mx = f } }
        var es = [Float](repeating: 0, count: vals.count)
        var total = 0.0
        for (k, v) in vals.enumerated() {
            let e = Float(Foundation.exp(Double(Float(v) - mx)))
            es[k] = e; total += Double(e)
        }
        let inv = 1 / Float(total)
        for k in 0..<es.count { es[k] *= inv }
        return es
    }

    /// Keeps `m` candidates of the canonical order; if the cut splits a group of tied
    /// logits, the highest ids of that group are kept (HF's stable ascending order).
    func keepPrefixPreferringHighIdsInTie(_ m: Int) {
        let n = ids.count
        guard m < n, m > 0, vals[m - 1] == vals[m] else { truncate(m); return }
        let v = vals[m]
        var a = m - 1
        while a > 0 && vals[a - 1] == v { a -= 1 }
        var b = m + 1
        while b < n && vals[b] == v { b += 1 }
        let groupIds = Array(ids[a..<b]).sorted(by: >)
        let kept = groupIds.prefix(m - a).sorted()
        for (j, id) in kept.enumerated() { ids[a + j] = id }
        truncate(m)
        probs.removeAll(keepingCapacity: true)
    }

    /// HF `MinPLogitsWarper.__call__`: `probs < min_p * max_prob` removed, the
    /// `min_keep` most probable restored (`torch.topk`'s pick among ties at that boundary).
    func minP(_ p: Double, minKeep: Int) {
        guard ids.count > 0 else { return }
        if minKeep > 1 { sortCanonical() }
        softmax()
        var top = 0.0
        for q in probs where q > top { top = q }
        let thr = p * top
        let keepFirst = minKeep > 1 ? minKeep : 0
        // transformers restores torch.topk(probs, min_keep): when the min_keep-th
        // probability is removed and tied across that boundary (with a candidate, or with
        // the zeros of the tokens outside the list), torch's selection picks which.
        let n = ids.count
        if keepFirst > 0 && keepFirst <= n && probs[keepFirst - 1] < thr
            && ((keepFirst < n && probs[keepFirst - 1] == probs[keepFirst]) || (probs[keepFirst - 1] == 0 && n < vocab)),
           let row = torchRow(ids, fill: 0, { self.probs[$0] }),
           let restored = Self.torchTopK(row, keepFirst) {
            filter { i, _ in !(probs[i] < thr) || restored.contains(ids[i]) }
            return
        }
        filter { i, _ in i < keepFirst || !(probs[i] < thr) }
    }

    /// HF `TypicalLogitsWarper.__call__`: order by `|-log p - H|` ascending,
    /// `last = #(cumsum < p)`, remove scores above the `last`-th, keep the first
    /// `min_keep` (of equal scores at that boundary, the first in torch's CPU sort).
    func typical(_ mass: Double, minKeep: Int) {
        guard ids.count > 0 else { return }
        softmax()
        let n = ids.count
        let ent = entropy()
        var shifted = [Double](repeating: 0, count: n)
        for i in 0..<n { shifted[i] = abs(-Foundation.log(probs[i]) - ent) }
        // Stable ascending order by shifted score (ties: lower id first, as torch.sort).
        let order = (0..<n).sorted { a, b in shifted[a] < shifted[b] || (shifted[a] == shifted[b] && ids[a] < ids[b]) }
        var cum = 0.0
        var lastInd = 0
        for idx in order { cum += probs[idx]; if cum < mass { lastInd += 1 } }
        lastInd = min(lastInd, n - 1)
        let thr = shifted[order[lastInd]]
        var keep = [Bool](repeating: false, count: n)
        for (r, idx) in order.enumerated() { keep[idx] = r < minKeep || !(shifted[idx] > thr) }
        // The first min_keep of torch's ascending sort of the whole row are kept: when a
        // group of equal scores straddles that boundary above the threshold, torch's
        // order among them decides (tokens outside the list score +inf there).
        if minKeep > 1 && minKeep < n && shifted[order[minKeep - 1]] > thr
            && shifted[order[minKeep - 1]] == shifted[order[minKeep]],
           let row = torchRow(ids, fill: .infinity, { shifted[$0] }),
           let torchOrder = Self.torchSortOrder(row, descending: false) {
            var first = Set<Int32>()
            for j in 0..<minKeep { first.insert(Int32(torchOrder[j])) }
            for i in 0..<n { keep[i] = !(shifted[i] > thr) || first.contains(ids[i]) }
        }
        filter { i, _ in keep[i] }
    }

    /// The `min_keep`-th largest logit (ties count separately), for epsilon/eta.
    func kthLogit(_ k: Int) -> T {
        if k <= 1 { var m = -T.infinity; for v in vals where v > m { m = v }; return m }
        sortCanonical()
        return vals[min(k, ids.count) - 1]
    }

    /// HF `EpsilonLogitsWarper` (`cutoff = e`) or `EtaLogitsWarper`
    /// (`cutoff = min(e, sqrt(e) * exp(-entropy))`): remove `prob < cutoff` unless the
    /// logit is `>=` the `min_keep`-th largest.
    func epsilonEta(_ e: Double, minKeep: Int, eta: Bool) {
        guard ids.count > 0 else { return }
        let kth = kthLogit(minKeep)
        softmax()
        let cutoff = eta ? min(e, e.squareRoot() * Foundation.exp(-entropy())) : e
        filter { i, v in !(probs[i] < cutoff && v < kth) }
    }

    /// Top-n-sigma in the row's dtype (llama.cpp's rule: mean and population std of the
    /// finite logits, remove `logit < max - n * std`; no-op for `n <= 0` or one token),
    /// then the `min_keep` best restored.
    func topNSigma(_ nSigma: Double, minKeep: Int) {
        let n = ids.count
        guard nSigma > 0, n > 1 else { return }
        var mx = -Double.infinity, sum = 0.0
        for v in vals { let d = Double(v); mx = max(mx, d); sum += d }
        let mean = sum / Double(n)
        var acc = 0.0
        for v in vals { let d = Double(v) - mean; acc += d * d }
        let thr = mx - nSigma * (acc / Double(n)).squareRoot()
        var c = 0
        for v in vals where !(Double(v) < thr) { c += 1 }
        if c >= minKeep { filter { _, v in !(Double(v) < thr) } } else { sortCanonical(); truncate(minKeep) }
    }

    /// XTC in the row's dtype (llama.cpp's rule), its chance one `draw()`.
    func xtc(probability: Double, threshold: Double, minKeep: Int, chance draw: () -> Double) {
        guard probability > 0, threshold <= 0.5, ids.count >= 2 else { return }
        let chance = draw()
        guard chance <= probability else { return }
        sortCanonical()
        softmax()
        var posLast = 0
        for i in 0..<ids.count { if probs[i] >= threshold { posLast = i } else { break } }
        guard ids.count - posLast >= minKeep, posLast > 0 else { return }
        dropFirst(posLast)
    }

    /// Dynamic temperature in Double (llama.cpp's rule; HF has none): the normalised
    /// entropy `h` of the candidates sets the temperature `min + (max - min) * h^exponent`
    /// between `max(0, t - delta)` and `t + delta`; one candidate is left as it is, and a
    /// temperature of 0 keeps the first maximal token.
    func dynamicTemperature(_ t: Double, delta: Double, exponent: Double) {
        let n = ids.count
        guard n > 1 else { return }
        let minT = max(0, t - delta), maxT = t + delta
        softmax()
        let h = entropy() / Foundation.log(Double(n))
        let dyn = minT + (maxT - minT) * Foundation.pow(h, exponent)
        if dyn <= 0 { topK(1, exact: true) } else { divide(by: T(dyn)) }
    }

    /// Mirostat 1.0's truncation in Double (llama.cpp's rule): the Zipf exponent from the
    /// first `m` sorted probabilities, then the top `k` (at least one).
    func mirostatV1Truncate(mu: Double, m: Int, vocab: Int) {
        guard ids.count > 0 else { return }
        sortCanonical()
        softmax()
        var sumTiBi = 0.0, sumTiSq = 0.0
        var i = 0
        while i < m - 1 && i < ids.count - 1 {
            let ti = Foundation.log(Double(i + 2) / Double(i + 1))
            let bi = Foundation.log(probs[i] / probs[i + 1])
            sumTiBi += ti * bi
            sumTiSq += ti * ti
            i += 1
        }
        let sHat = sumTiBi / sumTiSq
        let epsHat = sHat - 1
        let k = Foundation.pow(epsHat * Foundation.pow(2, mu) / (1 - Foundation.pow(Double(vocab), -epsHat)), 1 / sHat)
        let kept = k.isFinite && k >= 1 ? Int(min(k, Double(ids.count))) : 1
        truncate(kept)
    }

    /// Mirostat 2.0's truncation in the row's dtype: keep the prefix of the sorted list
    /// before the first token with `-log2(p) > mu` (at least one).
    func mirostatTruncate(mu: Double) {
        guard ids.count > 0 else { return }
        sortCanonical()
        softmax()
        var m = ids.count
        for i in 0..<ids.count where -Foundation.log2(probs[i]) > mu { m = i; break }
        truncate(max(m, 1))
    }
}
