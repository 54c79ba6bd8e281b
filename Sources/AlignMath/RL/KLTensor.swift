import Foundation
import AlignMathC

extension RL {
    /// A clamp on per-token KL estimates, as RL frameworks apply one before the penalty.
    public enum KLClamp: Equatable, Sendable {
        /// No clamp (TRL).
        case none
        /// Every estimate clamped to `[-c, c]`, as OpenRLHF 0.11's `compute_approx_kl`
        /// (`log_ratio.clamp(min=-10, max=10)` after any estimator, c = 10).
        case symmetric(Double)
        /// verl 0.7's `kl_penalty_forward`: for k3 (`low_var_kl`) log r is clamped to ±20
        /// before the exponential and the estimate to ±10 after it; k1 and k2 are not clamped.
        case verl

        /// The estimate `k` (of estimator `e`, log r = `logr`) after the clamp. NaN stays NaN,
        /// as `torch.clamp` keeps it.
        @inline(__always)
        func apply(_ k: Double, _ e: KLEstimator, logr: Double) -> Double {
            switch self {
            case .none: return k
            case .symmetric(let c): return clampKeepingNaN(k, c)
            case .verl:
                guard e == .k3 else { return k }
                let l = clampKeepingNaN(logr, 20)
                return clampKeepingNaN(k3Exact(l), 10)
            }
        }
    }

    @inline(__always)
    static func clampKeepingNaN(_ x: Double, _ c: Double) -> Double {
        x > c ? c : (x < -c ? -c : x)
    }

    /// `k3 = e^x − 1 − x` for `x = log r`, to within a few ulp everywhere (also where
    /// `expm1(x) − x` would cancel: near 0 it is `x²·Σ x^k/(k+2)!`, so `k3(1e-9)` is
    /// 5e-19, not a rounding error of 1e-25 relative 1e-7).
    @inline(__always)
    public static func k3Exact(_ x: Double) -> Double {
        k3Exact(SIMD4<Double>(repeating: x))[0]
    }

    /// Four `k3Exact` at once: the series for |x| < 1, `exp(x) − (1 + x)` beyond (where the
    /// difference loses at most a factor 2.8 to cancellation, at x = 1). Only the branch the
    /// lanes need is computed (both, and a select, for a vector that straddles |x| = 1).
    @inline(__always)
    static func k3Exact(_ x: SIMD4<Double>) -> SIMD4<Double> {
        typealias V = SIMD4<Double>
        let small = unsafeBitCast(abs(x) .< 1, to: SIMD4<UInt64>.self)
        if small == SIMD4(repeating: .max) { return k3Series(x) }
        if small == SIMD4<UInt64>() { return FastExp.exp(x) - (x + 1) }
        let series = k3Series(x), direct = FastExp.exp(x) - (x + 1)
        return unsafeBitCast((unsafeBitCast(series, to: SIMD4<UInt64>.self) & small)
                             | (unsafeBitCast(direct, to: SIMD4<UInt64>.self) & ~small), to: V.self)
    }

    /// x²·Σ x^k/(k+2)! for |x| < 1.
    @inline(__always)
    static func k3Series(_ x: SIMD4<Double>) -> SIMD4<Double> {
        typealias V = SIMD4<Double>
        // (e^x − 1 − x)/x² = Σ x^k/(k+2)!, k = 0...17, Horner: for |x| < 1 the first term
        // left out is below 2^-57 of the sum.
        var p = V(repeating: 1.0 / 121645100408832000.0)
        p = V(repeating: 1.0 / 6402373705728000.0).addingProduct(p, x)
        p = V(repeating: 1.0 / 355687428096000.0).addingProduct(p, x)
        p = V(repeating: 1.0 / 20922789888000.0).addingProduct(p, x)
        p = V(repeating: 1.0 / 1307674368000.0).addingProduct(p, x)
        p = V(repeating: 1.0 / 87178291200.0).addingProduct(p, x)
        p = V(repeating: 1.0 / 6227020800.0).addingProduct(p, x)
        p = V(repeating: 1.0 / 479001600.0).addingProduct(p, x)
        p = V(repeating: 1.0 / 39916800.0).addingProduct(p, x)
        p = V(repeating: 1.0 / 3628800.0).addingProduct(p, x)
        p = V(repeating: 1.0 / 362880.0).addingProduct(p, x)
        p = V(repeating: 1.0 / 40320.0).addingProduct(p, x)
        p = V(repeating: 1.0 / 5040.0).addingProduct(p, x)
        p = V(repeating: 1.0 / 720.0).addingProduct(p, x)
        p = V(repeating: 1.0 / 120.0).addingProduct(p, x)
        p = V(repeating: 1.0 / 24.0).addingProduct(p, x)
        p = V(repeating: 1.0 / 6.0).addingProduct(p, x)
        p = V(repeating: 1.0 / 2.0).addingProduct(p, x)
        return x * x * p
    }

    /// Lanewise `clampKeepingNaN`.
    @inline(__always)
    static func clampKeepingNaN(_ x: SIMD4<Double>, _ c: Double) -> SIMD4<Double> {
        let hi = SIMD4<Double>(repeating: c)
        let y = FastExp.select(x .> hi, hi, x)
        return FastExp.select(y .< -hi, -hi, y)
    }

    @inline(__always)
    static func abs(_ x: SIMD4<Double>) -> SIMD4<Double> {
        unsafeBitCast(unsafeBitCast(x, to: SIMD4<UInt64>.self) & SIMD4(repeating: 0x7FFF_FFFF_FFFF_FFFF), to: SIMD4<Double>.self)
    }

    /// Per-token KL estimates of two tensors of the same shape, read in place, into a new f64
    /// tensor of that shape; `clamp` as the framework named applies it.
    public static func kl(logp: Tensor, refLogp: Tensor, estimator: KLEstimator = .k1,
                          clamp: KLClamp = .none) throws -> Tensor {
        try checkSameLength(logp.count, refLogp.count, "logp and ref_logp")
        let n = logp.count
        let out = try Tensor.uninitialized(logp.shape, dtype: .f64), o = out.doublePointer
        try logp.readingDoubles { lp in
            try refLogp.readingDoubles { rf in
                guard let a = lp.baseAddress, let b = rf.baseAddress else { return }
                // one thread: the pass is bound by memory, and a second thread cost more
                // than it saved on a loaded 2-core machine
                // a large k1/k2 output goes out with streaming stores (`klStreamed`); k3 is
                // bound by its arithmetic, and streaming measured 5-8% slower there
                if estimator != .k3 && n * 8 >= Tensor.streamingBytes && Int(bitPattern: o) & 31 == 0 {
                    let whole = n - n % 4
                    klStreamed(a, b, o, whole, estimator == .k2, clamp)
                    if whole < n { klKernel(a + whole, b + whole, o + whole, n - whole, estimator, clamp) }
                } else {
                    klKernel(a, b, o, n, estimator, clamp)
                }
            }
        }
        return out
    }

    /// The estimator over raw buffers: SIMD4 for whole vectors, the same lane code for the tail.
    static func klKernel(_ lp: UnsafePointer<Double>, _ rf: UnsafePointer<Double>, _ o: UnsafeMutablePointer<Double>,
                         _ n: Int, _ e: KLEstimator, _ clamp: KLClamp) {
        typealias V = SIMD4<Double>
        @inline(__always) func block(_ x: V, _ y: V) -> V {
            let logr = y - x
            var k: V
            switch e {
            case .k1: k = -logr
            case .k2: k = 0.5 * logr * logr
            case .k3: k = k3Exact(logr)
            }
            switch clamp {
            case .none: break
            case .symmetric(let c): k = clampKeepingNaN(k, c)
            case .verl: if e == .k3 { k = clampKeepingNaN(k3Exact(clampKeepingNaN(logr, 20)), 10) }
            }
            return k
        }
        var i = 0
        while i + 4 <= n {
            let x = UnsafeRawPointer(lp + i).loadUnaligned(as: V.self)
            let y = UnsafeRawPointer(rf + i).loadUnaligned(as: V.self)
            UnsafeMutableRawPointer(o + i).storeBytes(of: block(x, y), as: V.self)
            i += 4
        }
        if i < n {
            var x = V(), y = V()
            for k in 0..<(n - i) { x[k] = lp[i + k]; y[k] = rf[i + k] }
            let k = block(x, y)
            for j in 0..<(n - i) { o[i + j] = k[j] }
        }
    }

    /// k1 (or k2 with `squared`) over `n` (a multiple of 4) tokens into a 32-byte aligned
    /// `o` with streaming stores, the same lane code as `klKernel`'s (verl's clamp does not
    /// apply to k1/k2), for a large output: the block a new output gets is one of several
    /// the collector has not yet given back, not in the cache, and an ordinary store would
    /// read each of its lines from memory first, as in the elementwise kernels
    /// (`Tensor.streamed`). k1 over 1e6 tokens from Lua: BENCHMARKS.md, "Issue 11/13, sixth
    /// pass".
    @inline(never)
    static func klStreamed(_ lp: UnsafePointer<Double>, _ rf: UnsafePointer<Double>, _ o: UnsafeMutablePointer<Double>,
                           _ n: Int, _ squared: Bool, _ clamp: KLClamp) {
        typealias V = SIMD4<Double>
        let raw = UnsafeMutableRawPointer(o)
        var i = 0
        while i + 4 <= n {
            let x = UnsafeRawPointer(lp + i).loadUnaligned(as: V.self)
            let y = UnsafeRawPointer(rf + i).loadUnaligned(as: V.self)
            let logr = y - x
            var k = squared ? 0.5 * logr * logr : -logr
            if case .symmetric(let c) = clamp { k = clampKeepingNaN(k, c) }
            am_stream_u64x4(raw + i * 8, unsafeBitCast(k, to: SIMD4<UInt64>.self))
            i += 4
        }
        am_store_fence()
    }
}
