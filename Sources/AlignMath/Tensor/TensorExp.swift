import Foundation

extension FastExp {
    /// Largest input given to `expNormal` by `exp(_:into:count:)`: at `maxInputD` (709.78)
    /// k = 128·1024 would carry 2^(k/128)'s exponent out of range (NaN); e^709 = 8.2e307.
    public static let expTableMaxInputD: Double = 709

    /// `exp` of `x[0..<n]` into `out` (f64): libm's `exp` to within 1 ulp for every input.
    /// Vectors whose inputs all lie in [`minNormalInputD`, `expTableMaxInputD`] (results
    /// normal and finite: any real data) take the table exp `expNormal` (glibc's method: a 128-entry
    /// table of 2^(j/128) and a degree-5 polynomial, 4 lanes per AVX2 register, two vectors
    /// per step); a vector with a lane outside that range (a subnormal or zero result, an
    /// overflow, ±inf) or NaN is finished by libm lane by lane, so the edge cases are libm's
    /// own bits. Tested against libm in `TensorExpTests`.
    @inline(never)
    public static func exp(_ x: UnsafePointer<Double>, into out: UnsafeMutablePointer<Double>, count n: Int) {
        typealias V = SIMD4<Double>
        let lo = V(repeating: minNormalInputD), hi = V(repeating: expTableMaxInputD)
        @inline(__always) func inRange(_ v: V) -> SIMDMask<V.MaskStorage> { (v .>= lo) .& (v .<= hi) }
        @inline(__always) func fix(_ v: V, _ e: inout V) {
            for j in 0..<4 where !(v[j] >= lo[j] && v[j] <= hi[j]) { e[j] = Foundation.exp(v[j]) }
        }
        var i = 0
        while i &+ 8 <= n {
            let a = UnsafeRawPointer(x + i).loadUnaligned(as: V.self)
            let b = UnsafeRawPointer(x + i + 4).loadUnaligned(as: V.self)
            var ea = expNormal(a), eb = expNormal(b)
            if _slowPath(!all(inRange(a) .& inRange(b))) { fix(a, &ea); fix(b, &eb) }
            UnsafeMutableRawPointer(out + i).storeBytes(of: ea, as: V.self)
            UnsafeMutableRawPointer(out + i + 4).storeBytes(of: eb, as: V.self)
            i &+= 8
        }
        while i < n {
            let v = x[i]
            out[i] = v >= minNormalInputD && v <= expTableMaxInputD ? expNormal(V(repeating: v))[0] : Foundation.exp(v)
            i &+= 1
        }
    }

    /// The scalar of `exp(_:into:count:)`: the same value for one element.
    @inline(__always)
    public static func expLibmClose(_ v: Double) -> Double {
        v >= minNormalInputD && v <= expTableMaxInputD ? expNormal(SIMD4<Double>(repeating: v))[0] : Foundation.exp(v)
    }
}

extension Tensor {
    /// `out = exp(x)` for f64 tensors of one shape (any layouts): dense runs through the
    /// vectorised `FastExp.exp(_:into:count:)`, split over the cores as the other
    /// elementwise kernels are; strided runs element by element with the same values.
    static func expF64(_ x: Tensor, _ out: Tensor) {
        if out.count == 0 { return }
        let runs = StridedRuns(shape: out.shape, strides: [out.strides, x.strides])
        let d0 = out.storage.base.assumingMemoryBound(to: Double.self) + out.offset
        let a0 = UnsafePointer(x.storage.base.assumingMemoryBound(to: Double.self) + x.offset)
        let sd = runs.innerStride(0), sa = runs.innerStride(1)
        withExtendedLifetime(x) {
            runs.forEachRunParallel(cost: 4) { starts, n in
                let d = d0 + starts[0], a = a0 + starts[1]
                if sd == 1 && sa == 1 { FastExp.exp(a, into: d, count: n); return }
                for j in 0..<n { d[j * sd] = FastExp.expLibmClose(a[j * sa]) }
            }
        }
    }
}
