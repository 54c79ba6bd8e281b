import Foundation

/// Vectorised exponentials for the hot loops of the distribution kernels (and any other
/// kernel that needs `exp` over a whole row): a scalar libm call per element would cost
/// more than reading the data from memory.
///
/// Range reduction `x = n·ln2 + r` with `|r| <= ln2/2` (the rounding done with the
/// 1.5·2^23 / 1.5·2^52 "magic number" trick, so it compiles to plain adds on any x86-64
/// or arm64), then a polynomial in `r` and a scale by `2^n` built from the exponent bits.
/// Accuracy: within 2 ulp of libm over the normal range; subnormal results are formed
/// without a branch (two-factor scaling) and flushed to exactly 0 below half the smallest
/// subnormal. `-inf` gives exactly 0, `+inf` gives `+inf`, NaN stays NaN.
public enum FastExp {
    // Float constants (Cephes expf polynomial).
    @usableFromInline static let log2eF: Float = 1.44269504088896341
    @usableFromInline static let ln2HiF: Float = 0.693359375
    @usableFromInline static let ln2LoF: Float = -2.12194440e-4
    @usableFromInline static let magicF: Float = 12582912.0  // 1.5 * 2^23
    /// Smallest input whose `exp` is a normal Float.
    public static let minNormalInputF: Float = -87.33654
    /// Largest input whose `exp` is finite in Float.
    public static let maxInputF: Float = 88.72283

    /// `exp` of four Floats at once (see the type's notes on accuracy and special values).
    @_transparent
    public static func exp(_ x: SIMD4<Float>) -> SIMD4<Float> {
        var xc = select(x .> maxInputF, SIMD4<Float>(repeating: maxInputF), x)
        xc = select(x .< -103.5, SIMD4<Float>(repeating: -103.5), xc)  // also -inf; fixed up below
        let t = xc * log2eF + magicF
        let n = t - magicF
        var r = xc - n * ln2HiF
        r = r - n * ln2LoF
        var p = SIMD4<Float>(repeating: 1.9875691500e-4)
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        p = p * (r * r) + r + 1
        // 2^n from the integer sitting in the low mantissa bits of t, applied as two
        // normal factors 2^(n/2)·2^(n−n/2) so results in the subnormal range need no branch.
        let ni = unsafeBitCast(t, to: SIMD4<Int32>.self) &- unsafeBitCast(SIMD4<Float>(repeating: magicF), to: SIMD4<Int32>.self)
        let n1 = ni &>> 1
        let s1 = unsafeBitCast((n1 &+ 127) &<< 23, to: SIMD4<Float>.self)
        let s2 = unsafeBitCast((ni &- n1 &+ 127) &<< 23, to: SIMD4<Float>.self)
        var y = p * s1 * s2
        y = select(x .> maxInputF, SIMD4<Float>(repeating: .infinity), y)
        y = select(x .< -103.98, SIMD4<Float>(), y)  // below half the smallest subnormal
        return y
    }


    /// `exp` of eight Floats at once: two `SIMD4` halves (on baseline x86-64, SSE2, a
    /// 4-lane vector is one register, which keeps the polynomial out of the stack).
    @_transparent
    public static func exp(_ x: SIMD8<Float>) -> SIMD8<Float> {
        SIMD8(lowHalf: exp(x.lowHalf), highHalf: exp(x.highHalf))
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

    /// Lanewise `mask ? a : b` for Doubles (see the Float overload).
    @_transparent
    public static func select(_ mask: SIMDMask<SIMD4<Int64>>, _ a: SIMD4<Double>, _ b: SIMD4<Double>) -> SIMD4<Double> {
        let m = unsafeBitCast(mask, to: SIMD4<UInt64>.self)
        let ua = unsafeBitCast(a, to: SIMD4<UInt64>.self), ub = unsafeBitCast(b, to: SIMD4<UInt64>.self)
        return unsafeBitCast(ub ^ ((ua ^ ub) & m), to: SIMD4<Double>.self)
    }

    // Double constants.
    @usableFromInline static let log2eD: Double = 1.4426950408889634
    @usableFromInline static let ln2HiD: Double = 6.93147180369123816490e-01
    @usableFromInline static let ln2LoD: Double = 1.90821492927058770002e-10
    @usableFromInline static let magicD: Double = 6755399441055744.0  // 1.5 * 2^52
    /// Smallest input whose `exp` is a normal Double.
    public static let minNormalInputD: Double = -708.3964185322641
    /// Largest input whose `exp` is finite in Double.
    public static let maxInputD: Double = 709.782712893384

    /// `exp` of four Doubles at once (see the type's notes on accuracy and special values).
    @_transparent
    public static func exp(_ x: SIMD4<Double>) -> SIMD4<Double> {
        var xc = select(x .> maxInputD, SIMD4<Double>(repeating: maxInputD), x)
        xc = select(x .< -745, SIMD4<Double>(repeating: -745), xc)  // also -inf; fixed up below
        let t = xc * log2eD + magicD
        let n = t - magicD
        var r = xc - n * ln2HiD
        r = r - n * ln2LoD
        // Taylor series to r^13: truncation error < 5e-18 for |r| <= ln2/2.
        var p = SIMD4<Double>(repeating: 1.0 / 6227020800.0)
        p = p * r + 1.0 / 479001600.0
        p = p * r + 1.0 / 39916800.0
        p = p * r + 1.0 / 3628800.0
        p = p * r + 1.0 / 362880.0
        p = p * r + 1.0 / 40320.0
        p = p * r + 1.0 / 5040.0
        p = p * r + 1.0 / 720.0
        p = p * r + 1.0 / 120.0
        p = p * r + 1.0 / 24.0
        p = p * r + 1.0 / 6.0
        p = p * r + 0.5
        p = p * (r * r) + r + 1
        let ni = unsafeBitCast(t, to: SIMD4<Int64>.self) &- unsafeBitCast(SIMD4<Double>(repeating: magicD), to: SIMD4<Int64>.self)
        let n1 = ni &>> 1
        let s1 = unsafeBitCast((n1 &+ 1023) &<< 52, to: SIMD4<Double>.self)
        let s2 = unsafeBitCast((ni &- n1 &+ 1023) &<< 52, to: SIMD4<Double>.self)
        var y = p * s1 * s2
        y = select(x .> maxInputD, SIMD4<Double>(repeating: .infinity), y)
        y = select(x .< -745.14, SIMD4<Double>(), y)  // below half the smallest subnormal
        return y
    }


    /// Scalar `exp` with the same polynomial as the vector version, for loop tails, so a
    /// row gives identical bits whatever its length modulo the vector width.
    @inlinable @inline(__always)
    public static func exp(_ x: Float) -> Float { exp(SIMD4<Float>(repeating: x))[0] }

    /// Scalar `exp` with the same polynomial as the vector version (see the Float overload).
    @inlinable @inline(__always)
    public static func exp(_ x: Double) -> Double { exp(SIMD4<Double>(repeating: x))[0] }
}
