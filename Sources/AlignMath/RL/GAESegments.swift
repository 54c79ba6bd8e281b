import AlignMathC
import Foundation

/// GAE faster than one walk down the row, with the serial walk's exact bits.
///
/// The serial loop waits on its own dependency chain (a multiply and an add per step, ~2 ms
/// for 1e6 steps whatever the memory does). So a row is cut near evenly spaced points into
/// segments; four segments are walked in one loop (their chains overlap in the core) and
/// groups of four run on all cores. Each segment after the first starts from lastgaelam 0
/// in place of the advantage above it, not known yet; then, top down, each such start is
/// walked again from the true value until a step lands on the bits already written
/// (`am_gae_rejoin`): from there the two walks are the same walk.
/// - At a done (`done = 1`, preferred as a cut) the advantage does not depend on the step
///   after it, and `0 * x` makes the first step agree unless x is not finite or a zero's
///   sign differs.
/// - Elsewhere the walks draw together as (gamma * lambda)^k, in ~36 / -ln(gamma * lambda)
///   steps (~700 at the usual 0.95); a row is cut there only when that is a small part of a
///   segment (never for gamma = lambda = 1, where it would be the whole segment).
/// Rows are independent, so several rows (one segment each when short) interleave the same way.
enum GAESegments {
    /// Steps below which a row is not cut (the overhead would outweigh the gain).
    static let minimumSegment = 16_384
    /// Work below which the groups run on the calling thread.
    static let parallelThreshold = 1 << 16
    /// Steps past an ideal cut searched for a done before cutting at the ideal point itself.
    static let doneSearch = 1024

    /// About how many steps two walks that start apart take to land on the same bits: their
    /// difference shrinks by `gl` a step and must fall below 2^-53 of the advantage.
    static func stepsToRejoin(_ gl: Double) -> Int {
        gl < 1 ? Int((40 / -Foundation.log(Swift.max(gl, 1e-300))).rounded(.up)) : Int.max / 32
    }

    /// Fills `a` and `g` for `rows` rows of `width` steps; dones as 0/1 doubles (`df`) or
    /// booleans (`db`), or neither. Returns false when a double done is not 0/1.
    static func run(_ r: UnsafePointer<Double>, _ v: UnsafePointer<Double>,
                    doubles df: UnsafePointer<Double>?, bools db: UnsafePointer<Bool>?,
                    rows: Int, width: Int, gamma: Double, lambda: Double, lastValues: [Double],
                    _ a: UnsafeMutablePointer<Double>, _ g: UnsafeMutablePointer<Double>) -> Bool {
        let dbBytes = db.map { UnsafeRawPointer($0).assumingMemoryBound(to: UInt8.self) }
        func isDone(_ t: Int) -> Bool {
            if let df { return df[t] == 1 }
            if let db { return db[t] }
            return false
        }

        // Segments, each row's from its end (true start) down; `cut` marks the ones to check.
        var segments: [am_gae_segment] = []
        var cut: [Bool] = []
        segments.reserveCapacity(rows)
        cut.reserveCapacity(rows)
        let pieces = Swift.max(1, Swift.min(16, width / minimumSegment))
        let cutAnywhere = pieces > 1 && stepsToRejoin(gamma * lambda) * 16 <= width / pieces
        let hasDones = df != nil || db != nil
        var cuts: [Int] = []
        for row in 0..<rows {
            let o = row * width
            cuts.removeAll(keepingCapacity: true)
            if pieces > 1 {
                for k in 1..<pieces {
                    // the first done in [ideal, next ideal), never the row's last step; or,
                    // where the walks rejoin soon, the ideal point when no done is near it
                    let from = o + k * width / pieces, to = Swift.min(o + (k + 1) * width / pieces, o + width - 1)
                    let end = cutAnywhere ? Swift.min(to, from + doneSearch) : to
                    var t = from
                    if hasDones { while t < end && !isDone(t) { t += 1 } } else { t = end }
                    if t < end { cuts.append(t) } else if cutAnywhere { cuts.append(from) }
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
            // Walk each cut start again from the advantage above it until it rejoins, top
            // down (a rewrite above changes what the segment below must start from).
            for i in 0..<s.count where cut[i] {
                let hi = s[i].hi
                _ = am_gae_rejoin(r, v, df, dbBytes, gamma, lambda, hi, s[i].lo, a[Int(hi) + 1], a, g)
            }
        }
        return !segments.contains { $0.bad != 0 }
    }
}
