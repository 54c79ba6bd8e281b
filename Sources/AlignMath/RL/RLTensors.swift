extension Tensor {
    /// Runs `body` over the elements as Doubles: an `f64` tensor is read in place (no copy),
    /// any other dtype through one converted copy. The one door through which the RL
    /// kernels read their inputs.
    public func readingDoubles<R>(_ body: (UnsafeBufferPointer<Double>) throws -> R) throws -> R {
        try converted(to: .f64).withDoubles(body)
    }
}

/// The RL functions as `rl.*` calls them: tensors in (read in place), new `f64` tensors out,
/// no Swift arrays in between.
extension RL {
    /// A flag (a done) that is neither 0 nor 1: `position` is 0-based in the flattened input.
    public struct InvalidFlag: Error, CustomStringConvertible {
        public var position: Int
        public var value: Double
        public var description: String {
            let shown = value == value.rounded() && Swift.abs(value) < 1e15 ? String(Int(value)) : "\(value)"
            return "dones must hold booleans or 0/1, entry \(position + 1) is \(shown)"
        }
    }

    /// The first flag that is neither 0 nor 1, if any.
    static func invalidFlag(_ d: UnsafeBufferPointer<Double>) -> InvalidFlag? {
        guard let i = d.firstIndex(where: { $0 != 0 && $0 != 1 }) else { return nil }
        return InvalidFlag(position: i, value: d[i])
    }

    /// GAE over `rows` trajectories of `width` steps stored row-major in tensors (one row for a
    /// 1-d input), as `gaeKernel` computes it, with `dones` read in place: a bool tensor as it
    /// is, 0/1 numbers checked inside the loop (where the check costs nothing: the loop waits
    /// on its own dependency chain).
    /// Both outputs share one block, so a call in a loop reuses the block the last one freed.
    /// - Throws: `AlignMathError` on lengths that differ or gamma/lambda outside [0, 1];
    ///   `InvalidFlag` for a done that is not 0/1.
    public static func gae(rewards: Tensor, values: Tensor, gamma: Double = 1, lambda: Double = 0.95,
                           dones: Tensor? = nil, lastValues: [Double]) throws
        -> (advantages: Tensor, returns: Tensor) {
        try checkSameLength(rewards.count, values.count, "rewards and values")
        if let d = dones { try checkSameLength(rewards.count, d.count, "rewards and dones") }
        try checkUnitInterval(gamma, "gamma")
        try checkUnitInterval(lambda, "lambda")
        let n = rewards.count, rows = lastValues.count
        guard rows > 0, n % rows == 0 else {
            throw AlignMathError.shapeMismatch("\(n) steps do not split into \(rows) rows")
        }
        let width = n / rows
        let block = TensorStorage(uninitializedBytes: Swift.max(1, 2 * n * 8))
        let adv = try Tensor(storage: block, offset: 0, shape: rewards.shape, dtype: .f64)
        let ret = try Tensor(storage: block, offset: n, shape: rewards.shape, dtype: .f64)
        let a = adv.doublePointer, g = ret.doublePointer
        try rewards.readingDoubles { r in
            try values.readingDoubles { v in
                guard let rp = r.baseAddress, let vp = v.baseAddress else { return }
                if let dones, dones.dtype == .bool {
                    // booleans (a Lua array of them is read straight into a bool tensor)
                    try dones.withBools { d in
                        guard let dp = d.baseAddress else { return }
                        _ = GAESegments.run(rp, vp, doubles: nil, bools: dp, rows: rows, width: width,
                                            gamma: gamma, lambda: lambda, lastValues: lastValues, a, g)
                    }
                } else if let dones {
                    try dones.readingDoubles { d in
                        guard let dp = d.baseAddress else { return }
                        let valid = GAESegments.run(rp, vp, doubles: dp, bools: nil, rows: rows, width: width,
                                                    gamma: gamma, lambda: lambda, lastValues: lastValues, a, g)
                        if !valid, let e = invalidFlag(d) { throw e }
                    }
                } else {
                    _ = GAESegments.run(rp, vp, doubles: nil, bools: nil, rows: rows, width: width,
                                        gamma: gamma, lambda: lambda, lastValues: lastValues, a, g)
                }
            }
        }
        return (adv, ret)
    }

    /// The GAE loop with dones as 0/1 doubles (`keep = 1 - done`). Returns false when some
    /// done is neither 0 nor 1 (the outputs are then garbage).
    @inline(__always)
    static func gaeKernel(_ r: UnsafePointer<Double>, _ v: UnsafePointer<Double>, _ d: UnsafePointer<Double>,
                          _ n: Int, _ gamma: Double, _ lambda: Double, _ lastValue: Double,
                          _ a: UnsafeMutablePointer<Double>, _ g: UnsafeMutablePointer<Double>) -> Bool {
        let gl = gamma * lambda
        var nextValue = lastValue, lastgaelam = 0.0
        var invalid = false
        var t = n - 1
        while t >= 0 {
            let vt = v[t], dt = d[t]
            invalid = invalid || (dt != 0 && dt != 1)
            let keep = 1 - dt
            let delta = r[t] + gamma * keep * nextValue - vt
            lastgaelam = delta + gl * keep * lastgaelam
            a[t] = lastgaelam
            g[t] = lastgaelam + vt
            nextValue = vt
            t -= 1
        }
        return !invalid
    }

    /// The GAE loop with dones as booleans.
    @inline(__always)
    static func gaeKernel(_ r: UnsafePointer<Double>, _ v: UnsafePointer<Double>, _ d: UnsafePointer<Bool>,
                          _ n: Int, _ gamma: Double, _ lambda: Double, _ lastValue: Double,
                          _ a: UnsafeMutablePointer<Double>, _ g: UnsafeMutablePointer<Double>) {
        let gl = gamma * lambda
        var nextValue = lastValue, lastgaelam = 0.0
        var t = n - 1
        while t >= 0 {
            let vt = v[t]
            let keep: Double = d[t] ? 0 : 1
            let delta = r[t] + gamma * keep * nextValue - vt
            lastgaelam = delta + gl * keep * lastgaelam
            a[t] = lastgaelam
            g[t] = lastgaelam + vt
            nextValue = vt
            t -= 1
        }
    }

    /// The GAE loop without dones.
    @inline(__always)
    static func gaeKernel(_ r: UnsafePointer<Double>, _ v: UnsafePointer<Double>, _ n: Int, _ gamma: Double,
                          _ lambda: Double, _ lastValue: Double,
                          _ a: UnsafeMutablePointer<Double>, _ g: UnsafeMutablePointer<Double>) {
        let gl = gamma * lambda
        var nextValue = lastValue, lastgaelam = 0.0
        var t = n - 1
        while t >= 0 {
            let vt = v[t]
            lastgaelam = r[t] + gamma * nextValue - vt + gl * lastgaelam
            a[t] = lastgaelam
            g[t] = lastgaelam + vt
            nextValue = vt
            t -= 1
        }
    }

    /// Discounted returns of `lastValues.count` rows stored row-major (see `returns(_:)`),
    /// tensors read in place, dones 0/1.
    public static func returns(_ rewards: Tensor, gamma: Double = 1, dones: Tensor? = nil,
                               lastValues: [Double]) throws -> Tensor {
        try checkUnitInterval(gamma, "gamma")
        if let d = dones { try checkSameLength(rewards.count, d.count, "rewards and dones") }
        let n = rewards.count, rows = lastValues.count
        guard rows > 0, n % rows == 0 else {
            throw AlignMathError.shapeMismatch("\(n) steps do not split into \(rows) rows")
        }
        let width = n / rows
        let out = try Tensor.uninitialized(rewards.shape, dtype: .f64), o = out.doublePointer
        try rewards.readingDoubles { r in
            guard let rp = r.baseAddress else { return }
            if let dones, dones.dtype == .bool {
                try dones.withBools { d in
                    guard let dp = d.baseAddress else { return }
                    for row in 0..<rows {
                        var acc = lastValues[row]
                        var t = (row + 1) * width - 1
                        while t >= row * width {
                            acc = rp[t] + (dp[t] ? 0 : gamma) * acc
                            o[t] = acc
                            t -= 1
                        }
                    }
                }
            } else if let dones {
                try dones.readingDoubles { d in
                    guard let dp = d.baseAddress else { return }
                    if let e = invalidFlag(d) { throw e }
                    for row in 0..<rows {
                        var acc = lastValues[row]
                        var t = (row + 1) * width - 1
                        while t >= row * width {
                            acc = rp[t] + (1 - dp[t]) * gamma * acc
                            o[t] = acc
                            t -= 1
                        }
                    }
                }
            } else {
                for row in 0..<rows {
                    var acc = lastValues[row]
                    var t = (row + 1) * width - 1
                    while t >= row * width {
                        acc = rp[t] + gamma * acc
                        o[t] = acc
                        t -= 1
                    }
                }
            }
        }
        return out
    }

    /// `whiten` over a tensor (any shape, all elements), read in place; the result keeps the
    /// shape. Two passes for the mean and the variance (pairwise-safe: the variance is taken
    /// around the mean), one to write.
    public static func whiten(_ x: Tensor, shiftMean: Bool = true) throws -> Tensor {
        let n = x.count
        if n < 2 {
            throw AlignMathError.invalidArgument("whiten needs at least 2 values (unbiased variance), got \(n)")
        }
        let out = try Tensor.uninitialized(x.shape, dtype: .f64), o = out.doublePointer
        try x.readingDoubles { b in
            guard let p = b.baseAddress else { return }
            let mean = VectorSum.sum(p, n) / Double(n)
            let ss = VectorSum.sumSquaredDeviations(p, n, mean)
            let variance = (ss / Double(n)) * (Double(n) / Double(n - 1))
            let inv = 1 / (variance + 1e-8).squareRoot()
            VectorSum.affine(p, o, n, shift: -mean, scale: inv, add: shiftMean ? 0 : mean)
        }
        return out
    }
}

/// Vectorised sums and maps over Double buffers for the RL kernels: four independent
/// SIMD4 accumulators (so the additions do not wait on each other), scalar tails.
enum VectorSum {
    typealias V = SIMD4<Double>

    @inline(__always)
    static func load(_ p: UnsafePointer<Double>, _ i: Int) -> V {
        UnsafeRawPointer(p + i).loadUnaligned(as: V.self)
    }

    /// Σ p[i].
    static func sum(_ p: UnsafePointer<Double>, _ n: Int) -> Double {
        var a0 = V(), a1 = V(), a2 = V(), a3 = V()
        var i = 0
        while i + 16 <= n {
            a0 += load(p, i); a1 += load(p, i + 4); a2 += load(p, i + 8); a3 += load(p, i + 12)
            i += 16
        }
        while i + 4 <= n { a0 += load(p, i); i += 4 }
        var s = ((a0 + a1) + (a2 + a3)).sum()
        while i < n { s += p[i]; i += 1 }
        return s
    }

    /// Σ (p[i] − m)².
    static func sumSquaredDeviations(_ p: UnsafePointer<Double>, _ n: Int, _ m: Double) -> Double {
        var a0 = V(), a1 = V(), a2 = V(), a3 = V()
        var i = 0
        while i + 16 <= n {
            let d0 = load(p, i) - m, d1 = load(p, i + 4) - m, d2 = load(p, i + 8) - m, d3 = load(p, i + 12) - m
            a0.addProduct(d0, d0); a1.addProduct(d1, d1); a2.addProduct(d2, d2); a3.addProduct(d3, d3)
            i += 16
        }
        while i + 4 <= n { let d = load(p, i) - m; a0.addProduct(d, d); i += 4 }
        var s = ((a0 + a1) + (a2 + a3)).sum()
        while i < n { let d = p[i] - m; s += d * d; i += 1 }
        return s
    }

    /// o[i] = (p[i] + shift) · scale + add.
    static func affine(_ p: UnsafePointer<Double>, _ o: UnsafeMutablePointer<Double>, _ n: Int,
                       shift: Double, scale: Double, add: Double) {
        var i = 0
        while i + 4 <= n {
            let v = (load(p, i) + shift) * scale + add
            UnsafeMutableRawPointer(o + i).storeBytes(of: v, as: V.self)
            i += 4
        }
        while i < n { o[i] = (p[i] + shift) * scale + add; i += 1 }
    }
}
