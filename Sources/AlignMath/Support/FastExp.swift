import Foundation

/// Vectorised exponentials for the hot loops of the distribution kernels (and any other
/// kernel that needs `exp` over a whole row): a scalar libm call per element would cost
/// more than reading the data from memory.
///
/// Range reduction `x = n·ln2 + r` with `|r| <= ln2/2` (the rounding done with the
/// 1.5·2^23 / 1.5·2^52 "magic number" trick), then a polynomial in `r` and a scale by
/// `2^n` built from the exponent bits. Every step is a fused multiply-add
/// (`addingProduct`: one instruction with FMA3 on x86-64 (the package builds for
/// `-target-cpu haswell`) and on arm64; IEEE-exact everywhere, so every machine gives the
/// same bits). Each width (4, 8, 16 lanes) runs the same operations, so a lane's result
/// does not depend on the vector width. Accuracy: within 2 ulp of libm over the normal
/// range; subnormal results are formed without a branch (two-factor scaling) and flushed
/// to exactly 0 below half the smallest subnormal. `-inf` gives exactly 0, `+inf` gives
/// `+inf`, NaN stays NaN. `expSum` is the cheaper variant for sums over non-positive
/// exponents (no overflow handling, subnormal results flushed to 0).
///
/// (The code of each width is generated from one template; keep them identical.)
public enum FastExp {
    // Float constants (Cephes expf polynomial).
    @usableFromInline static let log2eF: Float = 1.44269504088896341
    @usableFromInline static let ln2HiF: Float = 0.693359375
    @usableFromInline static let ln2LoF: Float = -2.12194440e-4
    @usableFromInline static let magicF: Float = 12582912.0  // 1.5 * 2^23
    /// ln 2 rounded to Float (the one-constant reduction of `expSum`).
    @usableFromInline static let ln2F: Float = 0.693147180559945
    /// 1.5·2^23 + 127: rounding with it leaves the biased exponent n + 127 in the low bits.
    @usableFromInline static let magicBiasedF: Float = 12583039.0
    /// Smallest input whose `exp` is a normal Float.
    public static let minNormalInputF: Float = -87.33654
    /// Largest input whose `exp` is finite in Float.
    public static let maxInputF: Float = 88.72283

    // Double constants.
    @usableFromInline static let log2eD: Double = 1.4426950408889634
    @usableFromInline static let ln2HiD: Double = 6.93147180369123816490e-01
    @usableFromInline static let ln2LoD: Double = 1.90821492927058770002e-10
    @usableFromInline static let magicD: Double = 6755399441055744.0  // 1.5 * 2^52
    /// 1.5·2^52 + 1023 (see `magicBiasedF`).
    @usableFromInline static let magicBiasedD: Double = 6755399441056767.0
    /// Smallest input whose `exp` is a normal Double.
    public static let minNormalInputD: Double = -708.3964185322641
    /// Largest input whose `exp` is finite in Double.
    public static let maxInputD: Double = 709.782712893384

    /// `exp` of 4 Floats at once (see the type's notes on accuracy and special values).
    @_transparent
    public static func exp(_ x: SIMD4<Float>) -> SIMD4<Float> {
        typealias V = SIMD4<Float>
        var xc = select(x .> maxInputF, V(repeating: maxInputF), x)
        xc = select(x .< -103.5, V(repeating: -103.5), xc)  // also -inf; fixed up below
        let t = V(repeating: magicF).addingProduct(xc, log2eF)
        let n = t - magicF
        let p = polyF(xc.addingProduct(n, -ln2HiF).addingProduct(n, -ln2LoF))
        // 2^n from the integer sitting in the low mantissa bits of t, applied as two
        // normal factors 2^(n/2)·2^(n−n/2) so results in the subnormal range need no branch.
        let ni = unsafeBitCast(t, to: SIMD4<Int32>.self) &- unsafeBitCast(V(repeating: magicF), to: SIMD4<Int32>.self)
        let n1 = ni &>> 1
        let s1 = unsafeBitCast((n1 &+ 127) &<< 23, to: V.self)
        let s2 = unsafeBitCast((ni &- n1 &+ 127) &<< 23, to: V.self)
        var y = p * s1 * s2
        y = select(x .> maxInputF, V(repeating: .infinity), y)
        y = select(x .< -103.98, V(), y)  // below half the smallest subnormal
        return y
    }

    /// The polynomial part of the Float exp: e^r for |r| <= ln2/2 (Cephes expf
    /// coefficients: 1 + r + r²·q(r), q of degree 5), q in Estrin's scheme with fused
    /// multiply-adds (a dependency chain of 4 steps instead of Horner's 6: the exp loops
    /// are latency-bound).
    @_transparent
    @usableFromInline static func polyF(_ r: SIMD4<Float>) -> SIMD4<Float> {
        typealias V = SIMD4<Float>
        let r2 = r * r
        let e0 = V(repeating: 5.0000001201e-1).addingProduct(r, 1.6666665459e-1)
        let e1 = V(repeating: 4.1665795894e-2).addingProduct(r, 8.3334519073e-3)
        let e2 = V(repeating: 1.3981999507e-3).addingProduct(r, 1.9875691500e-4)
        let q = e0.addingProduct(e1.addingProduct(e2, r2), r2)
        return r.addingProduct(q, r2) + 1
    }

    /// `exp(y)` for `y <= 0` (or NaN) where only sums of the results matter, two fused
    /// operations cheaper than `exp`: a one-constant range reduction (error n·2e-9
    /// relative, under 1 ulp for y > -20 and a few ulp towards -87, where the terms are
    /// below 1e-30 of any sum that holds the row maximum's exp(0) = 1) and the scale by
    /// 2^n fused into the final multiply-add. Results that would be subnormal are flushed
    /// to 0 (y < `minNormalInputF`, and `-inf`). Also returns the lanes kept (all ones
    /// where `y >= minNormalInputF` or NaN), to zero products `e·y` where `y` may be
    /// `-inf`. No clamp and no select: below the threshold the reduction gives garbage
    /// (even NaN) that the final mask turns into +0.
    @_transparent
    public static func expSum(_ y: SIMD4<Float>) -> (SIMD4<Float>, SIMD4<UInt32>) {
        typealias V = SIMD4<Float>
        typealias U = SIMD4<UInt32>
        let keep = ~unsafeBitCast(y .< minNormalInputF, to: U.self)  // NaN is kept, and propagates
        let t = V(repeating: magicBiasedF).addingProduct(y, log2eF)
        let n = t - magicBiasedF
        let r = y.addingProduct(n, -ln2F)
        let r2 = r * r
        let e0 = V(repeating: 5.0000001201e-1).addingProduct(r, 1.6666665459e-1)
        let e1 = V(repeating: 4.1665795894e-2).addingProduct(r, 8.3334519073e-3)
        let e2 = V(repeating: 1.3981999507e-3).addingProduct(r, 1.9875691500e-4)
        let q = e0.addingProduct(e1.addingProduct(e2, r2), r2)
        let pm1 = r.addingProduct(q, r2)  // e^r − 1
        // 2^n: the biased exponent n + 127 sits in the low bits of t; `&* 2^23` is a shift.
        let scale = unsafeBitCast(unsafeBitCast(t, to: SIMD4<Int32>.self) &* 8_388_608, to: V.self)
        let e = scale.addingProduct(pm1, scale)  // (1 + (e^r − 1))·2^n in one rounding
        return (unsafeBitCast(unsafeBitCast(e, to: U.self) & keep, to: V.self), keep)
    }

    /// Lanewise `mask ? a : b` as three bitwise ops. (The standard library's
    /// `replacing(with:where:)` is a per-lane loop that LLVM may turn into branches per
    /// lane, dragging the whole polynomial into scalar code.)
    @_transparent
    public static func select(_ mask: SIMDMask<SIMD4<Int32>>, _ a: SIMD4<Float>, _ b: SIMD4<Float>) -> SIMD4<Float> {
        let m = unsafeBitCast(mask, to: SIMD4<UInt32>.self)
        let ua = unsafeBitCast(a, to: SIMD4<UInt32>.self), ub = unsafeBitCast(b, to: SIMD4<UInt32>.self)
        return unsafeBitCast(ub ^ ((ua ^ ub) & m), to: SIMD4<Float>.self)
    }

    /// `exp` of 8 Floats at once (see the type's notes on accuracy and special values).
    @_transparent
    public static func exp(_ x: SIMD8<Float>) -> SIMD8<Float> {
        typealias V = SIMD8<Float>
        var xc = select(x .> maxInputF, V(repeating: maxInputF), x)
        xc = select(x .< -103.5, V(repeating: -103.5), xc)  // also -inf; fixed up below
        let t = V(repeating: magicF).addingProduct(xc, log2eF)
        let n = t - magicF
        let p = polyF(xc.addingProduct(n, -ln2HiF).addingProduct(n, -ln2LoF))
        // 2^n from the integer sitting in the low mantissa bits of t, applied as two
        // normal factors 2^(n/2)·2^(n−n/2) so results in the subnormal range need no branch.
        let ni = unsafeBitCast(t, to: SIMD8<Int32>.self) &- unsafeBitCast(V(repeating: magicF), to: SIMD8<Int32>.self)
        let n1 = ni &>> 1
        let s1 = unsafeBitCast((n1 &+ 127) &<< 23, to: V.self)
        let s2 = unsafeBitCast((ni &- n1 &+ 127) &<< 23, to: V.self)
        var y = p * s1 * s2
        y = select(x .> maxInputF, V(repeating: .infinity), y)
        y = select(x .< -103.98, V(), y)  // below half the smallest subnormal
        return y
    }

    /// The polynomial part of the Float exp: e^r for |r| <= ln2/2 (Cephes expf
    /// coefficients: 1 + r + r²·q(r), q of degree 5), q in Estrin's scheme with fused
    /// multiply-adds (a dependency chain of 4 steps instead of Horner's 6: the exp loops
    /// are latency-bound).
    @_transparent
    @usableFromInline static func polyF(_ r: SIMD8<Float>) -> SIMD8<Float> {
        typealias V = SIMD8<Float>
        let r2 = r * r
        let e0 = V(repeating: 5.0000001201e-1).addingProduct(r, 1.6666665459e-1)
        let e1 = V(repeating: 4.1665795894e-2).addingProduct(r, 8.3334519073e-3)
        let e2 = V(repeating: 1.3981999507e-3).addingProduct(r, 1.9875691500e-4)
        let q = e0.addingProduct(e1.addingProduct(e2, r2), r2)
        return r.addingProduct(q, r2) + 1
    }

    /// `exp(y)` for `y <= 0` (or NaN) where only sums of the results matter, two fused
    /// operations cheaper than `exp`: a one-constant range reduction (error n·2e-9
    /// relative, under 1 ulp for y > -20 and a few ulp towards -87, where the terms are
    /// below 1e-30 of any sum that holds the row maximum's exp(0) = 1) and the scale by
    /// 2^n fused into the final multiply-add. Results that would be subnormal are flushed
    /// to 0 (y < `minNormalInputF`, and `-inf`). Also returns the lanes kept (all ones
    /// where `y >= minNormalInputF` or NaN), to zero products `e·y` where `y` may be
    /// `-inf`. No clamp and no select: below the threshold the reduction gives garbage
    /// (even NaN) that the final mask turns into +0.
    @_transparent
    public static func expSum(_ y: SIMD8<Float>) -> (SIMD8<Float>, SIMD8<UInt32>) {
        typealias V = SIMD8<Float>
        typealias U = SIMD8<UInt32>
        let keep = ~unsafeBitCast(y .< minNormalInputF, to: U.self)  // NaN is kept, and propagates
        let t = V(repeating: magicBiasedF).addingProduct(y, log2eF)
        let n = t - magicBiasedF
        let r = y.addingProduct(n, -ln2F)
        let r2 = r * r
        let e0 = V(repeating: 5.0000001201e-1).addingProduct(r, 1.6666665459e-1)
        let e1 = V(repeating: 4.1665795894e-2).addingProduct(r, 8.3334519073e-3)
        let e2 = V(repeating: 1.3981999507e-3).addingProduct(r, 1.9875691500e-4)
        let q = e0.addingProduct(e1.addingProduct(e2, r2), r2)
        let pm1 = r.addingProduct(q, r2)  // e^r − 1
        // 2^n: the biased exponent n + 127 sits in the low bits of t; `&* 2^23` is a shift.
        let scale = unsafeBitCast(unsafeBitCast(t, to: SIMD8<Int32>.self) &* 8_388_608, to: V.self)
        let e = scale.addingProduct(pm1, scale)  // (1 + (e^r − 1))·2^n in one rounding
        return (unsafeBitCast(unsafeBitCast(e, to: U.self) & keep, to: V.self), keep)
    }

    /// Lanewise `mask ? a : b` as three bitwise ops. (The standard library's
    /// `replacing(with:where:)` is a per-lane loop that LLVM may turn into branches per
    /// lane, dragging the whole polynomial into scalar code.)
    @_transparent
    public static func select(_ mask: SIMDMask<SIMD8<Int32>>, _ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
        let m = unsafeBitCast(mask, to: SIMD8<UInt32>.self)
        let ua = unsafeBitCast(a, to: SIMD8<UInt32>.self), ub = unsafeBitCast(b, to: SIMD8<UInt32>.self)
        return unsafeBitCast(ub ^ ((ua ^ ub) & m), to: SIMD8<Float>.self)
    }

    /// `exp` of 16 Floats at once (see the type's notes on accuracy and special values).
    @_transparent
    public static func exp(_ x: SIMD16<Float>) -> SIMD16<Float> {
        typealias V = SIMD16<Float>
        var xc = select(x .> maxInputF, V(repeating: maxInputF), x)
        xc = select(x .< -103.5, V(repeating: -103.5), xc)  // also -inf; fixed up below
        let t = V(repeating: magicF).addingProduct(xc, log2eF)
        let n = t - magicF
        let p = polyF(xc.addingProduct(n, -ln2HiF).addingProduct(n, -ln2LoF))
        // 2^n from the integer sitting in the low mantissa bits of t, applied as two
        // normal factors 2^(n/2)·2^(n−n/2) so results in the subnormal range need no branch.
        let ni = unsafeBitCast(t, to: SIMD16<Int32>.self) &- unsafeBitCast(V(repeating: magicF), to: SIMD16<Int32>.self)
        let n1 = ni &>> 1
        let s1 = unsafeBitCast((n1 &+ 127) &<< 23, to: V.self)
        let s2 = unsafeBitCast((ni &- n1 &+ 127) &<< 23, to: V.self)
        var y = p * s1 * s2
        y = select(x .> maxInputF, V(repeating: .infinity), y)
        y = select(x .< -103.98, V(), y)  // below half the smallest subnormal
        return y
    }

    /// The polynomial part of the Float exp: e^r for |r| <= ln2/2 (Cephes expf
    /// coefficients: 1 + r + r²·q(r), q of degree 5), q in Estrin's scheme with fused
    /// multiply-adds (a dependency chain of 4 steps instead of Horner's 6: the exp loops
    /// are latency-bound).
    @_transparent
    @usableFromInline static func polyF(_ r: SIMD16<Float>) -> SIMD16<Float> {
        typealias V = SIMD16<Float>
        let r2 = r * r
        let e0 = V(repeating: 5.0000001201e-1).addingProduct(r, 1.6666665459e-1)
        let e1 = V(repeating: 4.1665795894e-2).addingProduct(r, 8.3334519073e-3)
        let e2 = V(repeating: 1.3981999507e-3).addingProduct(r, 1.9875691500e-4)
        let q = e0.addingProduct(e1.addingProduct(e2, r2), r2)
        return r.addingProduct(q, r2) + 1
    }

    /// `exp(y)` for `y <= 0` (or NaN) where only sums of the results matter, two fused
    /// operations cheaper than `exp`: a one-constant range reduction (error n·2e-9
    /// relative, under 1 ulp for y > -20 and a few ulp towards -87, where the terms are
    /// below 1e-30 of any sum that holds the row maximum's exp(0) = 1) and the scale by
    /// 2^n fused into the final multiply-add. Results that would be subnormal are flushed
    /// to 0 (y < `minNormalInputF`, and `-inf`). Also returns the lanes kept (all ones
    /// where `y >= minNormalInputF` or NaN), to zero products `e·y` where `y` may be
    /// `-inf`. No clamp and no select: below the threshold the reduction gives garbage
    /// (even NaN) that the final mask turns into +0.
    @_transparent
    public static func expSum(_ y: SIMD16<Float>) -> (SIMD16<Float>, SIMD16<UInt32>) {
        typealias V = SIMD16<Float>
        typealias U = SIMD16<UInt32>
        let keep = ~unsafeBitCast(y .< minNormalInputF, to: U.self)  // NaN is kept, and propagates
        let t = V(repeating: magicBiasedF).addingProduct(y, log2eF)
        let n = t - magicBiasedF
        let r = y.addingProduct(n, -ln2F)
        let r2 = r * r
        let e0 = V(repeating: 5.0000001201e-1).addingProduct(r, 1.6666665459e-1)
        let e1 = V(repeating: 4.1665795894e-2).addingProduct(r, 8.3334519073e-3)
        let e2 = V(repeating: 1.3981999507e-3).addingProduct(r, 1.9875691500e-4)
        let q = e0.addingProduct(e1.addingProduct(e2, r2), r2)
        let pm1 = r.addingProduct(q, r2)  // e^r − 1
        // 2^n: the biased exponent n + 127 sits in the low bits of t; `&* 2^23` is a shift.
        let scale = unsafeBitCast(unsafeBitCast(t, to: SIMD16<Int32>.self) &* 8_388_608, to: V.self)
        let e = scale.addingProduct(pm1, scale)  // (1 + (e^r − 1))·2^n in one rounding
        return (unsafeBitCast(unsafeBitCast(e, to: U.self) & keep, to: V.self), keep)
    }

    /// Lanewise `mask ? a : b` as three bitwise ops. (The standard library's
    /// `replacing(with:where:)` is a per-lane loop that LLVM may turn into branches per
    /// lane, dragging the whole polynomial into scalar code.)
    @_transparent
    public static func select(_ mask: SIMDMask<SIMD16<Int32>>, _ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> {
        let m = unsafeBitCast(mask, to: SIMD16<UInt32>.self)
        let ua = unsafeBitCast(a, to: SIMD16<UInt32>.self), ub = unsafeBitCast(b, to: SIMD16<UInt32>.self)
        return unsafeBitCast(ub ^ ((ua ^ ub) & m), to: SIMD16<Float>.self)
    }

    /// `exp` of 4 Doubles at once (see the type's notes on accuracy and special values).
    @_transparent
    public static func exp(_ x: SIMD4<Double>) -> SIMD4<Double> {
        typealias V = SIMD4<Double>
        var xc = select(x .> maxInputD, V(repeating: maxInputD), x)
        xc = select(x .< -745, V(repeating: -745), xc)  // also -inf; fixed up below
        let t = V(repeating: magicD).addingProduct(xc, log2eD)
        let n = t - magicD
        let p = polyD(xc.addingProduct(n, -ln2HiD).addingProduct(n, -ln2LoD))
        let ni = unsafeBitCast(t, to: SIMD4<Int64>.self) &- unsafeBitCast(V(repeating: magicD), to: SIMD4<Int64>.self)
        let n1 = ni &>> 1
        let s1 = unsafeBitCast((n1 &+ 1023) &<< 52, to: V.self)
        let s2 = unsafeBitCast((ni &- n1 &+ 1023) &<< 52, to: V.self)
        var y = p * s1 * s2
        y = select(x .> maxInputD, V(repeating: .infinity), y)
        y = select(x .< -745.14, V(), y)  // below half the smallest subnormal
        return y
    }

    /// The polynomial part of the Double exp: e^r for |r| <= ln2/2 as 1 + r + r²·q(r), q of
    /// degree 9 interpolated at Chebyshev nodes (relative error of the polynomial below 2e-17,
    /// so the result is within an ulp or two of libm), evaluated in Estrin's scheme: a
    /// dependency chain of 5 fused multiply-adds instead of Horner's 13 for the Taylor series
    /// it replaces, which made the f64 kernels latency-bound.
    @_transparent
    @usableFromInline static func polyD(_ r: SIMD4<Double>) -> SIMD4<Double> { polyDm1(r) + 1 }

    /// `polyD(r) − 1`, computed without the cancellation (e^r − 1 = r + r²·q(r)).
    @_transparent
    @usableFromInline static func polyDm1(_ r: SIMD4<Double>) -> SIMD4<Double> {
        typealias V = SIMD4<Double>
        let r2 = r * r, r4 = r2 * r2, r8 = r4 * r4
        let a0 = V(repeating: 0.5000000000000001).addingProduct(r, 0.16666666666666669)
        let a1 = V(repeating: 0.041666666666624164).addingProduct(r, 0.008333333333330065)
        let a2 = V(repeating: 0.0013888888917196719).addingProduct(r, 0.00019841269863040545)
        let a3 = V(repeating: 2.4801521322368692e-05).addingProduct(r, 2.7557268480310024e-06)
        let a4 = V(repeating: 2.7620075879983367e-07).addingProduct(r, 2.5100375832561234e-08)
        let b0 = a0.addingProduct(a1, r2), b1 = a2.addingProduct(a3, r2)
        let q = b0.addingProduct(b1, r4).addingProduct(a4, r8)
        return r.addingProduct(q, r2)
    }

    /// `exp(y)` for `y <= 0` (or NaN) where only sums matter (see the Float overload):
    /// exactly `exp` while the result is normal, 0 below; also the lanes kept.
    @_transparent
    public static func expSum(_ y: SIMD4<Double>) -> (SIMD4<Double>, SIMD4<UInt64>) {
        typealias V = SIMD4<Double>
        typealias U = SIMD4<UInt64>
        let keep = ~unsafeBitCast(y .< minNormalInputD, to: U.self)
        let t = V(repeating: magicBiasedD).addingProduct(y, log2eD)
        let n = t - magicBiasedD
        let pm1 = polyDm1(y.addingProduct(n, -ln2HiD).addingProduct(n, -ln2LoD))
        let scale = unsafeBitCast(unsafeBitCast(t, to: SIMD4<Int64>.self) &* 4_503_599_627_370_496, to: V.self)
        // (1 + (e^r − 1))·2^n in one rounding (as the Float expSum)
        let e = unsafeBitCast(unsafeBitCast(scale.addingProduct(pm1, scale), to: U.self) & keep, to: V.self)
        return (e, keep)
    }

    /// `exp(y)` for `minNormalInputD <= y <= 0` (or NaN), for callers that raise `y` to
    /// `minNormalInputD` first, so the result is a normal number (the f64 `Dist` kernels: a
    /// masked token then weighs e^-708, not 0, in a sum that holds the row maximum's
    /// e^0 = 1). Table-driven, as glibc's `exp`: y = (k/N)·ln 2 + r with N = 128 and
    /// |r| <= ln2/256, e^y = 2^(k/N)·e^r, 2^(j/N) (j = k mod N) from `expTable` and e^r − 1
    /// by a degree-5 polynomial (5 operations, 3 deep, instead of the 13 of the degree-11
    /// one `exp` needs over |r| <= ln2/2; about a quarter faster per element). Within 1
    /// ulp of libm like `exp`, but not bit-identical to it (the sampling paths keep `exp`).
    @_transparent
    public static func expNormal(_ y: SIMD4<Double>) -> SIMD4<Double> {
        typealias V = SIMD4<Double>
        let t = V(repeating: magicD).addingProduct(y, expTableScale)
        let kd = t - magicD
        let r = y.addingProduct(kd, -expTableLn2Hi).addingProduct(kd, -expTableLn2Lo)
        // k sits in the low mantissa bits of t: its low 7 bits pick the table entry, and
        // k << 45 adds k / N to the exponent (the entries have j << 45 taken off; see `expTable`).
        let k = unsafeBitCast(t, to: SIMD4<UInt64>.self)
        let j = k & 127
        let tb = SIMD4<UInt64>(expTable[Int(j[0])], expTable[Int(j[1])], expTable[Int(j[2])], expTable[Int(j[3])])
        let scale = unsafeBitCast(tb &+ (k &<< 45), to: V.self)
        let r2 = r * r
        let a = V(repeating: 0.5).addingProduct(r, 1.0 / 6)
        let c = V(repeating: 1.0 / 24).addingProduct(r, 1.0 / 120)
        let pm1 = r.addingProduct(a.addingProduct(c, r2), r2)  // e^r − 1 (Taylor: |r|^6/720 < 6e-19)
        return scale.addingProduct(pm1, scale)  // NaN in y: r is NaN, and so is the result
    }

    /// Lanewise `mask ? a : b` for Doubles (see the Float overload).
    @_transparent
    public static func select(_ mask: SIMDMask<SIMD4<Int64>>, _ a: SIMD4<Double>, _ b: SIMD4<Double>) -> SIMD4<Double> {
        let m = unsafeBitCast(mask, to: SIMD4<UInt64>.self)
        let ua = unsafeBitCast(a, to: SIMD4<UInt64>.self), ub = unsafeBitCast(b, to: SIMD4<UInt64>.self)
        return unsafeBitCast(ub ^ ((ua ^ ub) & m), to: SIMD4<Double>.self)
    }

    /// `exp` of 8 Doubles at once (see the type's notes on accuracy and special values).
    @_transparent
    public static func exp(_ x: SIMD8<Double>) -> SIMD8<Double> {
        typealias V = SIMD8<Double>
        var xc = select(x .> maxInputD, V(repeating: maxInputD), x)
        xc = select(x .< -745, V(repeating: -745), xc)  // also -inf; fixed up below
        let t = V(repeating: magicD).addingProduct(xc, log2eD)
        let n = t - magicD
        let p = polyD(xc.addingProduct(n, -ln2HiD).addingProduct(n, -ln2LoD))
        let ni = unsafeBitCast(t, to: SIMD8<Int64>.self) &- unsafeBitCast(V(repeating: magicD), to: SIMD8<Int64>.self)
        let n1 = ni &>> 1
        let s1 = unsafeBitCast((n1 &+ 1023) &<< 52, to: V.self)
        let s2 = unsafeBitCast((ni &- n1 &+ 1023) &<< 52, to: V.self)
        var y = p * s1 * s2
        y = select(x .> maxInputD, V(repeating: .infinity), y)
        y = select(x .< -745.14, V(), y)  // below half the smallest subnormal
        return y
    }

    /// The polynomial part of the Double exp: e^r for |r| <= ln2/2 as 1 + r + r²·q(r), q of
    /// degree 9 interpolated at Chebyshev nodes (relative error of the polynomial below 2e-17,
    /// so the result is within an ulp or two of libm), evaluated in Estrin's scheme: a
    /// dependency chain of 5 fused multiply-adds instead of Horner's 13 for the Taylor series
    /// it replaces, which made the f64 kernels latency-bound.
    @_transparent
    @usableFromInline static func polyD(_ r: SIMD8<Double>) -> SIMD8<Double> { polyDm1(r) + 1 }

    /// `polyD(r) − 1`, computed without the cancellation (e^r − 1 = r + r²·q(r)).
    @_transparent
    @usableFromInline static func polyDm1(_ r: SIMD8<Double>) -> SIMD8<Double> {
        typealias V = SIMD8<Double>
        let r2 = r * r, r4 = r2 * r2, r8 = r4 * r4
        let a0 = V(repeating: 0.5000000000000001).addingProduct(r, 0.16666666666666669)
        let a1 = V(repeating: 0.041666666666624164).addingProduct(r, 0.008333333333330065)
        let a2 = V(repeating: 0.0013888888917196719).addingProduct(r, 0.00019841269863040545)
        let a3 = V(repeating: 2.4801521322368692e-05).addingProduct(r, 2.7557268480310024e-06)
        let a4 = V(repeating: 2.7620075879983367e-07).addingProduct(r, 2.5100375832561234e-08)
        let b0 = a0.addingProduct(a1, r2), b1 = a2.addingProduct(a3, r2)
        let q = b0.addingProduct(b1, r4).addingProduct(a4, r8)
        return r.addingProduct(q, r2)
    }

    /// `exp(y)` for `y <= 0` (or NaN) where only sums matter (see the Float overload):
    /// exactly `exp` while the result is normal, 0 below; also the lanes kept.
    @_transparent
    public static func expSum(_ y: SIMD8<Double>) -> (SIMD8<Double>, SIMD8<UInt64>) {
        typealias V = SIMD8<Double>
        typealias U = SIMD8<UInt64>
        let keep = ~unsafeBitCast(y .< minNormalInputD, to: U.self)
        let t = V(repeating: magicBiasedD).addingProduct(y, log2eD)
        let n = t - magicBiasedD
        let pm1 = polyDm1(y.addingProduct(n, -ln2HiD).addingProduct(n, -ln2LoD))
        let scale = unsafeBitCast(unsafeBitCast(t, to: SIMD8<Int64>.self) &* 4_503_599_627_370_496, to: V.self)
        // (1 + (e^r − 1))·2^n in one rounding (as the Float expSum)
        let e = unsafeBitCast(unsafeBitCast(scale.addingProduct(pm1, scale), to: U.self) & keep, to: V.self)
        return (e, keep)
    }

    /// Lanewise `mask ? a : b` for Doubles (see the Float overload).
    @_transparent
    public static func select(_ mask: SIMDMask<SIMD8<Int64>>, _ a: SIMD8<Double>, _ b: SIMD8<Double>) -> SIMD8<Double> {
        let m = unsafeBitCast(mask, to: SIMD8<UInt64>.self)
        let ua = unsafeBitCast(a, to: SIMD8<UInt64>.self), ub = unsafeBitCast(b, to: SIMD8<UInt64>.self)
        return unsafeBitCast(ub ^ ((ua ^ ub) & m), to: SIMD8<Double>.self)
    }

    /// Scalar `exp` with the same polynomial as the vector version, for loop tails, so a
    /// row gives identical bits whatever its length modulo the vector width.
    @inlinable @inline(__always)
    public static func exp(_ x: Float) -> Float { exp(SIMD4<Float>(repeating: x))[0] }

    /// Scalar `exp` with the same polynomial as the vector version (see the Float overload).
    @inlinable @inline(__always)
    public static func exp(_ x: Double) -> Double { exp(SIMD4<Double>(repeating: x))[0] }
}
