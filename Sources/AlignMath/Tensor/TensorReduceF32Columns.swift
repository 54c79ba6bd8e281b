import Foundation

/// `sum`, `mean`, `nansum` and `nanmean` of a dense f32 tensor over a non-last axis, added
/// as numpy adds them: in f32, row after row, from 0, all columns of a block at once (SIMD
/// across the columns). The results are numpy's to the bit, and an f32 accumulator reads
/// half the scratch memory of an f64 one. (Means divide the f32 sum by the count in f64 and
/// round once, as numpy 2's `true_divide(sum, intp(count))` does.)
struct F32ColumnSums {
    let plan: ReducePlan
    let r: Reduction

    /// Reduces `p`, seen as [outer, n, inner], into the `outer * inner` floats at `out`.
    func run(_ p: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>) {
        // Blocks as wide as two per core allow: each row's piece of a block is one
        // contiguous run (see FloatReducer.columns).
        let n = plan.n, inner = plan.inner
        let width = Swift.max(256, (inner + 2 * ParallelFor.workers - 1) / (2 * ParallelFor.workers))
        let blocks = (inner + width - 1) / width
        Parallel.forEach(plan.outer * blocks, cost: Swift.max(1, n) * width) { range in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: width) { sums in
                withUnsafeTemporaryAllocation(of: Int.self, capacity: width) { counts in
                    let acc = sums.baseAddress.unsafelyUnwrapped, seen = counts.baseAddress.unsafelyUnwrapped
                    for task in range {
                        let o = task / blocks, c0 = (task % blocks) * width
                        let len = Swift.min(width, inner - c0)
                        block(p + o * n * inner + c0, len, acc, seen, out + o * inner + c0)
                    }
                }
            }
        }
    }

    /// Reduces `len` neighbouring columns starting at `base` (each `n` long, `inner` apart)
    /// into `out[0..<len]`.
    private func block(_ base: UnsafePointer<Float>, _ len: Int, _ acc: UnsafeMutablePointer<Float>,
                       _ seen: UnsafeMutablePointer<Int>, _ out: UnsafeMutablePointer<Float>) {
        let n = plan.n, inner = plan.inner
        acc.update(repeating: 0, count: len)
        if r == .sum || r == .mean {
            // Four rows per pass over the block, still added in row order: a quarter of the
            // accumulator loads and stores.
            var i = 0
            while i + 4 <= n {
                let r0 = base + i * inner, r1 = r0 + inner, r2 = r1 + inner, r3 = r2 + inner
                for j in 0..<len { acc[j] = acc[j] + r0[j] + r1[j] + r2[j] + r3[j] }
                i += 4
            }
            while i < n {
                let row = base + i * inner
                for j in 0..<len { acc[j] += row[j] }
                i += 1
            }
            if r == .sum {
                out.update(from: acc, count: len)
            } else {
                for j in 0..<len { out[j] = n == 0 ? .nan : Float(Double(acc[j]) / Double(n)) }
            }
            return
        }
        seen.update(repeating: 0, count: len)
        for i in 0..<n {
            let row = base + i * inner
            for j in 0..<len {
                let v = row[j], ok = !v.isNaN
                acc[j] += ok ? v : 0
                seen[j] &+= ok ? 1 : 0
            }
        }
        if r == .nansum {
            out.update(from: acc, count: len)
        } else {
            for j in 0..<len { out[j] = seen[j] == 0 ? .nan : Float(Double(acc[j]) / Double(seen[j])) }
        }
    }
}
