/// The element types a sampler chain computes in: the dtype of the logits it is given.
/// An f64 row is filtered, tempered and penalised in Double and an f32 row in Float, so
/// no value is rounded on its way through a chain (the `llama.cpp` semantics excepted,
/// which reproduce llama.cpp's float32 arithmetic on purpose; see `LlamaCppFilters`).
public protocol SamplingScalar: BinaryFloatingPoint, SIMDScalar, Sendable, Codable {
    /// The 64-bit key that orders values as `<` does (-0 and +0 share one key), for the
    /// integer sorts of the candidate list. NaN never reaches a key: candidate lists hold
    /// finite values and -inf only.
    var orderKey: UInt64 { get }

    /// True when one of the 16 values at `x[i..<i+16]` is `>= tau` (NaN never is): the
    /// block test of `TopKSelect`'s scan, written per type so that it compiles to a few
    /// vector compares (the generic `any(v .>= t)` builds its mask lane by lane).
    static func anyAtLeast(_ x: UnsafePointer<Self>, _ i: Int, _ tau: Self) -> Bool

    /// True when one of the 16 values at `x[i..<i+16]` is `>= tau` or NaN.
    static func anyNotBelow(_ x: UnsafePointer<Self>, _ i: Int, _ tau: Self) -> Bool

    /// True when `x[0..<n]` holds a NaN: vector compares (`x != x` only for NaN) OR-ed
    /// without a branch per block, so the passes that must look for NaN in a full copy of
    /// the row cost a fraction of the copy.
    static func containsNaN(_ x: UnsafePointer<Self>, count n: Int) -> Bool

    /// Copies `x[0..<n]` to `out` and returns true when it held a NaN: the NaN test of
    /// `containsNaN` folded into the copy, so a row copied whole is read once, not twice.
    static func copyFindingNaN(_ x: UnsafePointer<Self>, to out: UnsafeMutablePointer<Self>, count n: Int) -> Bool

    /// True when one of the 16 values at `x[i..<i+16]` is not -inf (NaN included).
    static func anyNotNegativeInfinity(_ x: UnsafePointer<Self>, _ i: Int) -> Bool

    /// The 8 values at `x[i..<i+8]` divided by `d` in this type (as a pending temperature
    /// divides them), then widened to Double.
    static func widened8(_ x: UnsafePointer<Self>, _ i: Int, dividedBy d: Self) -> SIMD8<Double>
}

extension Float: SamplingScalar {
    @inline(__always) public var orderKey: UInt64 {
        let b = (self == 0 ? Float(0) : self).bitPattern
        return UInt64(b & 0x8000_0000 != 0 ? ~b : b | 0x8000_0000)
    }

    @inline(__always) public static func anyAtLeast(_ x: UnsafePointer<Float>, _ i: Int, _ tau: Float) -> Bool {
        let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
        return any(v .>= SIMD16<Float>(repeating: tau))
    }

    @inline(__always) public static func anyNotBelow(_ x: UnsafePointer<Float>, _ i: Int, _ tau: Float) -> Bool {
        let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
        return !all(v .< SIMD16<Float>(repeating: tau))
    }

    public static func copyFindingNaN(_ x: UnsafePointer<Float>, to out: UnsafeMutablePointer<Float>, count n: Int) -> Bool {
        let raw = UnsafeRawPointer(x), dst = UnsafeMutableRawPointer(out)
        var seen = SIMDMask<SIMD16<Float>.MaskStorage>(repeating: false)
        var i = 0
        while i &+ 16 <= n {
            let v = raw.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<Float>.self)
            dst.storeBytes(of: v, toByteOffset: i &* 4, as: SIMD16<Float>.self)
            seen = seen .| (v .!= v)
            i &+= 16
        }
        var found = any(seen)
        while i < n { let v = x[i]; out[i] = v; if v != v { found = true }; i &+= 1 }
        return found
    }

    public static func containsNaN(_ x: UnsafePointer<Float>, count n: Int) -> Bool {
        let raw = UnsafeRawPointer(x)
        var seen = SIMDMask<SIMD16<Float>.MaskStorage>(repeating: false)
        var i = 0
        while i &+ 16 <= n {
            let v = raw.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<Float>.self)
            seen = seen .| (v .!= v)
            i &+= 16
        }
        var found = any(seen)
        while i < n { if x[i] != x[i] { found = true }; i &+= 1 }
        return found
    }

    @inline(__always) public static func anyNotNegativeInfinity(_ x: UnsafePointer<Float>, _ i: Int) -> Bool {
        let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
        return any(v .!= SIMD16<Float>(repeating: -.infinity))
    }

    @inline(__always) public static func widened8(_ x: UnsafePointer<Float>, _ i: Int, dividedBy d: Float) -> SIMD8<Double> {
        var v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
        if d != 1 { v /= SIMD8<Float>(repeating: d) }
        return SIMD8<Double>(v)
    }
}

extension Double: SamplingScalar {
    @inline(__always) public var orderKey: UInt64 {
        let b = (self == 0 ? Double(0) : self).bitPattern
        return b & 0x8000_0000_0000_0000 != 0 ? ~b : b | 0x8000_0000_0000_0000
    }

    @inline(__always) public static func anyAtLeast(_ x: UnsafePointer<Double>, _ i: Int, _ tau: Double) -> Bool {
        let raw = UnsafeRawPointer(x + i)
        let t = SIMD8<Double>(repeating: tau)
        let a = raw.loadUnaligned(as: SIMD8<Double>.self) .>= t
        let b = raw.loadUnaligned(fromByteOffset: 64, as: SIMD8<Double>.self) .>= t
        return any(a .| b)
    }

    @inline(__always) public static func anyNotBelow(_ x: UnsafePointer<Double>, _ i: Int, _ tau: Double) -> Bool {
        let raw = UnsafeRawPointer(x + i)
        let t = SIMD8<Double>(repeating: tau)
        let a = raw.loadUnaligned(as: SIMD8<Double>.self) .< t
        let b = raw.loadUnaligned(fromByteOffset: 64, as: SIMD8<Double>.self) .< t
        return !all(a .& b)
    }

    public static func copyFindingNaN(_ x: UnsafePointer<Double>, to out: UnsafeMutablePointer<Double>, count n: Int) -> Bool {
        let raw = UnsafeRawPointer(x), dst = UnsafeMutableRawPointer(out)
        var seen = SIMDMask<SIMD8<Double>.MaskStorage>(repeating: false)
        var i = 0
        while i &+ 8 <= n {
            let v = raw.loadUnaligned(fromByteOffset: i &* 8, as: SIMD8<Double>.self)
            dst.storeBytes(of: v, toByteOffset: i &* 8, as: SIMD8<Double>.self)
            seen = seen .| (v .!= v)
            i &+= 8
        }
        var found = any(seen)
        while i < n { let v = x[i]; out[i] = v; if v != v { found = true }; i &+= 1 }
        return found
    }

    public static func containsNaN(_ x: UnsafePointer<Double>, count n: Int) -> Bool {
        let raw = UnsafeRawPointer(x)
        var seen = SIMDMask<SIMD8<Double>.MaskStorage>(repeating: false)
        var i = 0
        while i &+ 8 <= n {
            let v = raw.loadUnaligned(fromByteOffset: i &* 8, as: SIMD8<Double>.self)
            seen = seen .| (v .!= v)
            i &+= 8
        }
        var found = any(seen)
        while i < n { if x[i] != x[i] { found = true }; i &+= 1 }
        return found
    }

    @inline(__always) public static func anyNotNegativeInfinity(_ x: UnsafePointer<Double>, _ i: Int) -> Bool {
        let raw = UnsafeRawPointer(x + i)
        let t = SIMD8<Double>(repeating: -.infinity)
        let a = raw.loadUnaligned(as: SIMD8<Double>.self) .!= t
        let b = raw.loadUnaligned(fromByteOffset: 64, as: SIMD8<Double>.self) .!= t
        return any(a .| b)
    }

    @inline(__always) public static func widened8(_ x: UnsafePointer<Double>, _ i: Int, dividedBy d: Double) -> SIMD8<Double> {
        let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Double>.self)
        return d == 1 ? v : v / SIMD8<Double>(repeating: d)
    }
}
