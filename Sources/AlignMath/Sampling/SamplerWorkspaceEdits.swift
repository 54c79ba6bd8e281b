/// The workspace's row-wide edits: temperature's division in any mode, the history count
/// for penalties, the custom stages' buffer exchange, and a read-only snapshot for
/// `explain`.
extension SamplerWorkspace {
    /// Divides every logit by `t` (a temperature), in any mode: lazily while no
    /// divisor is pending (the patches divided now), else on an owned dense row.
    func divide(by t: T) {
        switch mode {
        case .lazy:
            if divisor == 1 {
                divisor = t
                for j in 0..<patchVals.count { patchVals[j] /= t }
            } else {
                makeDense()
                divide(by: t)
            }
        case .dense:
            for i in 0..<vocab { dense[i] /= t }
        case .sparse:
            for i in 0..<vals.count { vals[i] /= t }
            probs.removeAll(keepingCapacity: true)
        }
    }

    /// Fills `targets` with the distinct in-vocabulary ids of `history` (first seen
    /// first) and `counts` with how often each occurs: one pass, with a per-id counter
    /// (kept zero between calls) instead of a sort or a dictionary.
    func countHistory(_ history: ArraySlice<Int>) {
        let v = vocab
        if counter.count < v { counter = [Int32](repeating: 0, count: v) }
        targets.removeAll(keepingCapacity: true)
        counts.removeAll(keepingCapacity: true)
        for id in history where id >= 0 && id < v {
            if counter[id] == 0 {
                targets.append(id)
                counts.append(0)
                counter[id] = Int32(targets.count)
            }
            counts[Int(counter[id]) - 1] += 1
        }
        for id in targets { counter[id] = 0 }
    }

    /// Notes a NaN in the dense row (`stageNaN`): for the readers that have no pass of
    /// their own to fold the test into (`apply`'s result, `explain`).
    func noteDenseNaN() {
        if mode == .dense, let d = dense.baseAddress, T.containsNaN(d, count: vocab) { stageNaN = true }
    }

    /// The finite entries of the row as it stands (ids, logits), whatever the mode,
    /// without changing the workspace (for `explain`).
    func finiteSnapshot() -> ([Int32], [T]) {
        var outIds: [Int32] = [], outVals: [T] = []
        switch mode {
        case .lazy:
            for i in 0..<vocab {
                let v = lazyValue(i)
                if v > -.infinity { outIds.append(Int32(i)); outVals.append(v) }
            }
        case .dense:
            for i in 0..<vocab where dense[i] > -.infinity { outIds.append(Int32(i)); outVals.append(dense[i]) }
        case .sparse:
            for i in 0..<ids.count where vals[i] > -.infinity { outIds.append(ids[i]); outVals.append(vals[i]) }
        }
        return (outIds, outVals)
    }

    /// Writes the candidates into `row` (a custom stage's memory, -inf elsewhere).
    func scatter(into row: UnsafeMutableBufferPointer<T>) {
        for i in 0..<ids.count { row[Int(ids[i])] = vals[i] }
    }

    /// Reads the entries of `row` that are not -inf back as the candidate list (finite
    /// ones, id order) and sets every one of them to -inf again: one vectorised pass that
    /// skips blocks of 16 holding only -inf. A NaN the stage wrote is noted (`stageNaNId`).
    func gatherAndBlank(_ row: UnsafeMutableBufferPointer<T>) {
        ids.removeAll(keepingCapacity: true)
        vals.removeAll(keepingCapacity: true)
        guard let x = row.baseAddress else { return }
        let n = row.count
        var i = 0
        while i < n {
            let end = min(i + 16, n)
            if end - i == 16 && !T.anyNotNegativeInfinity(UnsafePointer(x), i) { i = end; continue }
            while i < end {
                let v = x[i]
                if v > -.infinity { ids.append(Int32(i)); vals.append(v) }
                if v != -.infinity {
                    if v != v && stageNaNId < 0 { stageNaNId = i; stageNaN = true }
                    x[i] = -.infinity
                }
                i += 1
            }
        }
        mode = .sparse
        sorted = false
        llamaSorted = false
        holdsNegInf = false
        probs.removeAll(keepingCapacity: true)
    }
}
