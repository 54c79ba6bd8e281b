import Foundation

/// Probabilities of the candidate list, computed in Double whatever the row's dtype.
extension SamplerWorkspace {
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
        var m = -T.infinity
        for v in vals where v > m { m = v }
        let md = Double(m)
        probs.append(contentsOf: repeatElement(0.0, count: n))
        var sum = 0.0
        vals.withUnsafeBufferPointer { vb in
            probs.withUnsafeMutableBufferPointer { pb in
                // Kahan-compensated lanes: a plain sum of 50,000 terms was off by ~200 ulps
                // (every probability with it), torch's softmax by ~15; this is within 1.
                var acc = SIMD4<Double>(), comp = SIMD4<Double>()
                var i = 0
                while i + 4 <= n {
                    let x = SIMD4<Double>(Double(vb[i]), Double(vb[i + 1]), Double(vb[i + 2]), Double(vb[i + 3]))
                    let e = FastExp.exp(x - SIMD4<Double>(repeating: md))
                    pb[i] = e[0]; pb[i + 1] = e[1]; pb[i + 2] = e[2]; pb[i + 3] = e[3]
                    let y = e - comp
                    let t = acc + y
                    comp = (t - acc) - y
                    acc = t
                    i += 4
                }
                var c = 0.0
                func add(_ e: Double) {
                    let y = e - c
                    let t = sum + y
                    c = (t - sum) - y
                    sum = t
                }
                for l in 0..<4 { add(acc[l]); add(-comp[l]) }
                while i < n {
                    let e = FastExp.exp(Double(vb[i]) - md)
                    pb[i] = e; add(e); i += 1
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
    /// or nil (list untouched) when nothing would be gained. With `float32`, the mass is
    /// summed from the probabilities rounded to float, as torch sums float32 ones.
    func restrictToTop(_ m: Int, atLeast: Int, max md: Double, sum: Double, float32: Bool = false) -> Double? {
        guard !sorted, ids.count > 4 * m else { return nil }
        var pos: [Int32] = [], pv: [T] = []
        var ignoredNaN = false  // the candidate list holds no NaN
        vals.withUnsafeBufferPointer { vb in
            if let start = vb.baseAddress {
                TopKSelect.collect(start, count: vb.count, k: m, skip: nil, ids: &pos, vals: &pv, scratch: &scratch,
                                   sawNaN: &ignoredNaN)
            }
        }
        guard pos.count >= atLeast, pos.count < ids.count else { return nil }
        var kept = 0.0
        for q in pos { kept += float32 ? Double(Float(probs[Int(q)])) : probs[Int(q)] }
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
