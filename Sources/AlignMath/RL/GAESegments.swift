import AlignMathC

/// GAE with dones, faster than one walk down the row, with the serial walk's exact bits.
///
/// The serial loop waits on its own dependency chain (a multiply and an add per step, ~2 ms
/// for 1e6 steps whatever the memory does). But a done cuts the chain: at a step with
/// `done = 1` the advantage no longer depends on the step after it. So a row is cut at dones
/// near evenly spaced points into segments; four segments are walked in one loop (their
/// chains overlap in the core) and groups of four run on all cores. Each segment after the
/// first starts from lastgaelam 0 in place of the advantage after its done, which
/// `0 * x` makes the same unless that advantage is not finite or a zero's sign differs; every
/// such start is checked against the true value, top down, and a segment that disagrees is
/// walked again (`am_gae_first_step_agrees`). Rows are independent, so several rows (one
/// segment each when short) interleave the same way.
enum GAESegments {
    /// Steps below which a row is not cut (the overhead would outweigh the gain).
    static let minimumSegment = 16_384
    /// Work below which the groups run on the calling thread.
    static let parallelThreshold = 1 << 16

    /// Fills `a` and `g` for `rows` rows of `width` steps; dones as 0/1 doubles (`df`) or
    /// booleans (`db`), exactly one given. Returns false when a double done is not 0/1.
    static func run(_ r: UnsafePointer<Double>, _ v: UnsafePointer<Double>,
                    doubles df: UnsafePointer<Double>?, bools db: UnsafePointer<Bool>?,
                    rows: Int, width: Int, gamma: Double, lambda: Double, lastValues: [Double],
                    _ a: UnsafeMutablePointer<Double>, _ g: UnsafeMutablePointer<Double>) -> Bool {
        let dbBytes = db.map { UnsafeRawPointer($0).assumingMemoryBound(to: UInt8.self) }
        func isDone(_ t: Int) -> Bool { df.map { $0[t] == 1 } ?? (db.unsafelyUnwrapped[t]) }

        // Segments, each row's from its end (true start) down; `cut` marks the ones to check.
        var segments: [am_gae_segment] = []
        var cut: [Bool] = []
        segments.reserveCapacity(rows)
        cut.reserveCapacity(rows)
        let pieces = Swift.max(1, Swift.min(16, width / minimumSegment))
        var cuts: [Int] = []
        for row in 0..<rows {
            let o = row * width
            cuts.removeAll(keepingCapacity: true)
            if pieces > 1 {
                for k in 1..<pieces {
                    // the first done in [ideal, next ideal), never the row's last step
                    let from = o + k * width / pieces, to = Swift.min(o + (k + 1) * width / pieces, o + width - 1)
                    var t = from
                    while t < to && !isDone(t) { t += 1 }
                    if t < to { cuts.append(t) }
                }
            }
            var hi = o + width - 1
            var first = true
            for c in cuts.reversed() + [o - 1] {
                segments.append(am_gae_segment(hi: Int64(hi), lo: Int64(c + 1),
                                               next_value: first ? lastValues[row] : v[hi + 1],
                                               lastgaelam: 0, bad: 0))
                cut.append(!first)
                first = false
                hi = c
            }
        }

        let groups = (segments.count + 3) / 4
        segments.withUnsafeMutableBufferPointer { s in
            let base = s.baseAddress.unsafelyUnwrapped
            func walk(_ i: Int) {
                am_gae_segments(r, v, df, dbBytes, gamma, lambda, base + 4 * i, Int32(Swift.min(4, s.count - 4 * i)), a, g)
            }
            if rows * width < parallelThreshold || ParallelFor.workers == 1 || groups == 1 {
                for i in 0..<groups { walk(i) }
            } else {
                let shared = UncheckedSendable((r, v, df, dbBytes, a, g, base))  // each group writes its own steps
                Parallel.each(groups) { i in
                    let (r, v, df, db, a, g, base) = shared.value
                    am_gae_segments(r, v, df, db, gamma, lambda, base + 4 * i, Int32(Swift.min(4, s.count - 4 * i)), a, g)
                }
            }
            // Check each cut start against the advantage after it, top down (a redo above
            // changes what the segment below must start from).
            for i in 0..<s.count where cut[i] {
                let hi = Int(s[i].hi)
                if am_gae_first_step_agrees(r, v, df, dbBytes, gamma, lambda, Int64(hi), a[hi + 1], a) == 0 {
                    var redo = s[i]
                    redo.lastgaelam = a[hi + 1]
                    redo.bad = 0
                    am_gae_segments(r, v, df, dbBytes, gamma, lambda, &redo, 1, a, g)
                }
            }
        }
        return !segments.contains { $0.bad != 0 }
    }
}
