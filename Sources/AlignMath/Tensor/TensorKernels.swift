import Foundation
import AlignMathC

/// Elementwise kernels as types, not closures: the loops (`zip2`, `zip3`, `map1`, the
/// copies) are generic over the kernel type, so each specialisation calls `apply` directly
/// and the compiler vectorises the dense loop. (A closure passed down through the parallel
/// split would be called indirectly for every element: 5-10x slower.)
protocol Kernel1 {
    associatedtype A: TensorElement
    associatedtype R: TensorElement
    static func apply(_ a: A) -> R
}

protocol Kernel2 {
    associatedtype A: TensorElement
    associatedtype R: TensorElement
    static func apply(_ a: A, _ b: A) -> R
}

typealias FloatElement = BinaryFloatingPoint & TensorElement

// MARK: arithmetic

enum Add<T: FloatElement>: Kernel2 { @inline(__always) static func apply(_ a: T, _ b: T) -> T { a + b } }
enum Sub<T: FloatElement>: Kernel2 { @inline(__always) static func apply(_ a: T, _ b: T) -> T { a - b } }
enum Mul<T: FloatElement>: Kernel2 { @inline(__always) static func apply(_ a: T, _ b: T) -> T { a * b } }
enum Div<T: FloatElement>: Kernel2 { @inline(__always) static func apply(_ a: T, _ b: T) -> T { a / b } }
enum Pow<T: FloatElement>: Kernel2 { @inline(__always) static func apply(_ a: T, _ b: T) -> T { T(Foundation.pow(Double(a), Double(b))) } }
/// numpy's power by a scalar exponent of exactly 0.5: the square root (its fast path for a
/// stride-0 exponent; np.power(-0.0, 0.5) is -0.0 and np.power(-inf, 0.5) NaN, where C's pow,
/// which numpy uses for an array of exponents, gives +0.0 and +inf).
enum PowHalf<T: FloatElement>: Kernel2 { @inline(__always) static func apply(_ a: T, _ b: T) -> T { a.squareRoot() } }
enum Mod<T: FloatElement>: Kernel2 { @inline(__always) static func apply(_ a: T, _ b: T) -> T { T(Tensor.divmod(Double(a), Double(b)).mod) } }
enum FloorDiv<T: FloatElement>: Kernel2 { @inline(__always) static func apply(_ a: T, _ b: T) -> T { T(Tensor.divmod(Double(a), Double(b)).div) } }
/// Ties give the second operand, as numpy 2.4's SIMD loops on x86 (Highway's Max/Min, i.e.
/// maxpd/minpd), tails included: np.maximum(-0.0, 0.0) is 0.0 and np.maximum(0.0, -0.0) is
/// -0.0. (torch 2.15's CPU kernel does the same in its vector body but keeps the first operand
/// in its scalar tail: numpy's rule is the one that holds for every length.)
enum Maximum<T: FloatElement>: Kernel2 { @inline(__always) static func apply(_ a: T, _ b: T) -> T { a.isNaN || b.isNaN ? T.nan : (a > b ? a : b) } }
enum Minimum<T: FloatElement>: Kernel2 { @inline(__always) static func apply(_ a: T, _ b: T) -> T { a.isNaN || b.isNaN ? T.nan : (a < b ? a : b) } }

enum IAdd: Kernel2 { @inline(__always) static func apply(_ a: Int64, _ b: Int64) -> Int64 { a &+ b } }
enum ISub: Kernel2 { @inline(__always) static func apply(_ a: Int64, _ b: Int64) -> Int64 { a &- b } }
enum IMul: Kernel2 { @inline(__always) static func apply(_ a: Int64, _ b: Int64) -> Int64 { a &* b } }
enum IPow: Kernel2 { @inline(__always) static func apply(_ a: Int64, _ b: Int64) -> Int64 { Tensor.intPow(a, b) } }
enum IMod: Kernel2 { @inline(__always) static func apply(_ a: Int64, _ b: Int64) -> Int64 { Tensor.floorMod(a, b) } }
enum IFloorDiv: Kernel2 { @inline(__always) static func apply(_ a: Int64, _ b: Int64) -> Int64 { Tensor.floorDiv(a, b) } }
enum IMax: Kernel2 { @inline(__always) static func apply(_ a: Int64, _ b: Int64) -> Int64 { a >= b ? a : b } }
enum IMin: Kernel2 { @inline(__always) static func apply(_ a: Int64, _ b: Int64) -> Int64 { a <= b ? a : b } }

enum Or: Kernel2 { @inline(__always) static func apply(_ a: Bool, _ b: Bool) -> Bool { a || b } }
enum And: Kernel2 { @inline(__always) static func apply(_ a: Bool, _ b: Bool) -> Bool { a && b } }

// MARK: comparisons

enum Eq<T: TensorElement & Equatable>: Kernel2 { @inline(__always) static func apply(_ a: T, _ b: T) -> Bool { a == b } }
enum Ne<T: TensorElement & Equatable>: Kernel2 { @inline(__always) static func apply(_ a: T, _ b: T) -> Bool { a != b } }
enum Lt<T: TensorElement & Comparable>: Kernel2 { @inline(__always) static func apply(_ a: T, _ b: T) -> Bool { a < b } }
enum Le<T: TensorElement & Comparable>: Kernel2 { @inline(__always) static func apply(_ a: T, _ b: T) -> Bool { a <= b } }
enum Gt<T: TensorElement & Comparable>: Kernel2 { @inline(__always) static func apply(_ a: T, _ b: T) -> Bool { a > b } }
enum Ge<T: TensorElement & Comparable>: Kernel2 { @inline(__always) static func apply(_ a: T, _ b: T) -> Bool { a >= b } }
// false < true
enum BoolLt: Kernel2 { @inline(__always) static func apply(_ a: Bool, _ b: Bool) -> Bool { !a && b } }
enum BoolLe: Kernel2 { @inline(__always) static func apply(_ a: Bool, _ b: Bool) -> Bool { !a || b } }
enum BoolGt: Kernel2 { @inline(__always) static func apply(_ a: Bool, _ b: Bool) -> Bool { a && !b } }
enum BoolGe: Kernel2 { @inline(__always) static func apply(_ a: Bool, _ b: Bool) -> Bool { a || !b } }

// MARK: one argument

enum Exp<T: FloatElement>: Kernel1 { @inline(__always) static func apply(_ a: T) -> T { T(Foundation.exp(Double(a))) } }
enum Log<T: FloatElement>: Kernel1 { @inline(__always) static func apply(_ a: T) -> T { T(Foundation.log(Double(a))) } }
enum Log1p<T: FloatElement>: Kernel1 { @inline(__always) static func apply(_ a: T) -> T { T(Foundation.log1p(Double(a))) } }
enum Expm1<T: FloatElement>: Kernel1 { @inline(__always) static func apply(_ a: T) -> T { T(Foundation.expm1(Double(a))) } }
enum Sqrt<T: FloatElement>: Kernel1 { @inline(__always) static func apply(_ a: T) -> T { a.squareRoot() } }
enum Tanh<T: FloatElement>: Kernel1 { @inline(__always) static func apply(_ a: T) -> T { T(Foundation.tanh(Double(a))) } }
enum Sigmoid<T: FloatElement>: Kernel1 {
    @inline(__always) static func apply(_ a: T) -> T {
        let v = Double(a)
        if v >= 0 { return T(1 / (1 + Foundation.exp(-v))) }
        let e = Foundation.exp(v)
        return T(e / (1 + e))
    }
}
enum Abs<T: FloatElement>: Kernel1 { @inline(__always) static func apply(_ a: T) -> T { Swift.abs(a) } }
enum Neg<T: FloatElement>: Kernel1 { @inline(__always) static func apply(_ a: T) -> T { -a } }
/// numpy's sign: NaN stays NaN, and both zeros give +0.0 (np.sign(-0.0) is 0.0).
enum Sign<T: FloatElement>: Kernel1 { @inline(__always) static func apply(_ a: T) -> T { a.isNaN ? a : (a > 0 ? 1 : (a < 0 ? -1 : 0)) } }
enum Floor<T: FloatElement>: Kernel1 { @inline(__always) static func apply(_ a: T) -> T { a.rounded(.down) } }
enum Ceil<T: FloatElement>: Kernel1 { @inline(__always) static func apply(_ a: T) -> T { a.rounded(.up) } }
enum Round<T: FloatElement>: Kernel1 { @inline(__always) static func apply(_ a: T) -> T { a.rounded(.toNearestOrEven) } }
enum IsNaN<T: FloatElement>: Kernel1 { @inline(__always) static func apply(_ a: T) -> Bool { a.isNaN } }
enum IsFinite<T: FloatElement>: Kernel1 { @inline(__always) static func apply(_ a: T) -> Bool { a.isFinite } }

enum IAbs: Kernel1 { @inline(__always) static func apply(_ a: Int64) -> Int64 { a < 0 ? 0 &- a : a } }
enum INeg: Kernel1 { @inline(__always) static func apply(_ a: Int64) -> Int64 { 0 &- a } }
enum ISign: Kernel1 { @inline(__always) static func apply(_ a: Int64) -> Int64 { a > 0 ? 1 : (a < 0 ? -1 : 0) } }

/// numpy's casts between dtypes (through Double; to i64 truncating, NaN to Int64.min).
enum Cast<S: TensorElement, D: TensorElement>: Kernel1 { @inline(__always) static func apply(_ a: S) -> D { D.fromDouble(a.asDouble) } }
/// Exact i64 to f64/f32 and bool to anything (no detour that could round twice).
enum CastI64ToF32: Kernel1 { @inline(__always) static func apply(_ a: Int64) -> Float { Float(a) } }
enum Identity<T: TensorElement>: Kernel1 { @inline(__always) static func apply(_ a: T) -> T { a } }

extension Tensor {
    /// `out[i] = K.apply(x[i], y[i])` over the broadcast shape of `out`, split over the cores
    /// for large outputs; dense runs get a loop the compiler vectorises.
    static func zip2<K: Kernel2>(_: K.Type, _ x: Tensor, _ y: Tensor, _ out: Tensor, cost: Int = 1) {
        if out.count == 0 { return }
        let runs = StridedRuns(shape: out.shape, strides: [out.strides, x.strides(broadcastTo: out.shape),
                                                          y.strides(broadcastTo: out.shape)])
        let d0 = out.storage.base.assumingMemoryBound(to: K.R.self) + out.offset
        let a0 = UnsafePointer(x.storage.base.assumingMemoryBound(to: K.A.self) + x.offset)
        let b0 = UnsafePointer(y.storage.base.assumingMemoryBound(to: K.A.self) + y.offset)
        let sd = runs.innerStride(0), sa = runs.innerStride(1), sb = runs.innerStride(2)
        let stream = streams(out, x, y)
        withExtendedLifetime((x, y)) {
            runs.forEachRunParallel(cost: cost) { starts, n in
                let d = d0 + starts[0], a = a0 + starts[1], b = b0 + starts[2]
                if sd == 1 {
                    if stream {
                        if sa == 1 && sb == 1 { streamed(d, n) { j in K.apply(a[j], b[j]) }; return }
                        if sa == 1 && sb == 0 { let q = b[0]; streamed(d, n) { j in K.apply(a[j], q) }; return }
                        if sa == 0 && sb == 1 { let p = a[0]; streamed(d, n) { j in K.apply(p, b[j]) }; return }
                    }
                    if sa == 1 && sb == 1 { for j in 0..<n { d[j] = K.apply(a[j], b[j]) }; return }
                    if sa == 1 && sb == 0 { let q = b[0]; for j in 0..<n { d[j] = K.apply(a[j], q) }; return }
                    if sa == 0 && sb == 1 { let p = a[0]; for j in 0..<n { d[j] = K.apply(p, b[j]) }; return }
                }
                for j in 0..<n { d[j * sd] = K.apply(a[j * sa], b[j * sb]) }
            }
        }
    }

    /// Outputs of at least this many bytes are written with streaming stores. A result this
    /// large rarely comes back from the cache anyway: a Lua loop's dead temporaries wait for
    /// the collector, so the block an output gets is one of several in rotation and its lines
    /// are not in the 32 MB L3; an ordinary store then reads each line from memory first and
    /// evicts another. In a C check of `(a * 2 + b) / c` (three new outputs a pass, outputs
    /// rotating over 3 or 12 blocks) streaming was slower at 1 MiB per array (0.171 against
    /// 0.146 ms), even at 2 and 4 MiB, and faster from 8 MB up (1e6 f64: 1.52-1.66 against
    /// 1.88-2.30 ms; BENCHMARKS.md, "Issue 11/13, sixth pass").
    static let streamingBytes = 4 << 20

    /// Whether `out` is written with streaming stores: large, and no input shares its storage
    /// (a kernel writing over one of its inputs reads each chunk before it writes it anyway,
    /// but keeps the ordinary path).
    static func streams(_ out: Tensor, _ inputs: Tensor...) -> Bool {
        guard out.count * out.dtype.size >= streamingBytes else { return false }
        return !inputs.contains { $0.storage === out.storage }
    }

    /// Writes `value(j)` to `d[j]` for `j` in `0..<n` with streaming stores (no read of the
    /// destination's lines first, no eviction of the inputs), computed in registers and
    /// stored 32 bytes at a time (`am_stream_u64x4` / `am_stream_u32x8`, inlined: the loop
    /// is the same vector loop as the ordinary one with `vmovntpd` for its store); ordinary
    /// stores up to the first 32-byte boundary and for the tail, and for elements of other
    /// sizes. Ends with a store fence, so another thread may read the output. An earlier
    /// version computed 4 KB pieces into a stack buffer and streamed the buffer out: in a C
    /// check of the same three passes over 1e7 f64 it took 24.5 ms a pass against 17.3 for
    /// direct streaming stores and 24.7 for ordinary ones.
    @inline(__always)
    static func streamed<R>(_ d: UnsafeMutablePointer<R>, _ n: Int, _ value: (Int) -> R) {
        var j = 0
        let size = MemoryLayout<R>.stride
        if size == 8 || size == 4 {
            while j < n && Int(bitPattern: UnsafeRawPointer(d + j)) & 31 != 0 { d[j] = value(j); j += 1 }
            let raw = UnsafeMutableRawPointer(d)
            if size == 8 {
                @inline(__always) func bits(_ k: Int) -> UInt64 { unsafeBitCast(value(k), to: UInt64.self) }
                while j + 4 <= n {
                    am_stream_u64x4(raw + j * 8, SIMD4(bits(j), bits(j + 1), bits(j + 2), bits(j + 3)))
                    j += 4
                }
            } else {
                @inline(__always) func bits(_ k: Int) -> UInt32 { unsafeBitCast(value(k), to: UInt32.self) }
                while j + 8 <= n {
                    am_stream_u32x8(raw + j * 4, SIMD8(bits(j), bits(j + 1), bits(j + 2), bits(j + 3),
                                                       bits(j + 4), bits(j + 5), bits(j + 6), bits(j + 7)))
                    j += 8
                }
            }
        }
        while j < n { d[j] = value(j); j += 1 }
        am_store_fence()
    }

    /// `out[i] = K.apply(x[i])` over `x`'s shape (`out` any layout of that shape).
    /// A dense output of 4 MiB and more is streamed (`streamed`): `-a`, `a:abs()` on 1e7 f64
    /// 6.8-7.2 ms against 7.5-8.0 (BENCHMARKS.md, tensors).
    static func map1<K: Kernel1>(_: K.Type, _ x: Tensor, _ out: Tensor, cost: Int = 1) {
        if out.count == 0 { return }
        let runs = StridedRuns(shape: out.shape, strides: [out.strides, x.strides])
        let d0 = out.storage.base.assumingMemoryBound(to: K.R.self) + out.offset
        let a0 = UnsafePointer(x.storage.base.assumingMemoryBound(to: K.A.self) + x.offset)
        let sd = runs.innerStride(0), sa = runs.innerStride(1)
        let stream = streams(out, x)
        withExtendedLifetime(x) {
            runs.forEachRunParallel(cost: cost) { starts, n in
                let d = d0 + starts[0], a = a0 + starts[1]
                if sd == 1 && sa == 1 && stream { streamed(d, n) { j in K.apply(a[j]) }; return }
                if sd == 1 && sa == 1 { for j in 0..<n { d[j] = K.apply(a[j]) }; return }
                for j in 0..<n { d[j * sd] = K.apply(a[j * sa]) }
            }
        }
    }

    /// `out[i] = c[i] ? x[i] : y[i]` over the broadcast shape of `out` (numpy's where).
    static func choose<T: TensorElement>(_: T.Type, _ c: Tensor, _ x: Tensor, _ y: Tensor, _ out: Tensor) {
        if out.count == 0 { return }
        let runs = StridedRuns(shape: out.shape, strides: [out.strides, c.strides(broadcastTo: out.shape),
                                                          x.strides(broadcastTo: out.shape), y.strides(broadcastTo: out.shape)])
        let d0 = out.storage.base.assumingMemoryBound(to: T.self) + out.offset
        let c0 = UnsafePointer(c.storage.base.assumingMemoryBound(to: Bool.self) + c.offset)
        let a0 = UnsafePointer(x.storage.base.assumingMemoryBound(to: T.self) + x.offset)
        let b0 = UnsafePointer(y.storage.base.assumingMemoryBound(to: T.self) + y.offset)
        let sd = runs.innerStride(0), sc = runs.innerStride(1), sa = runs.innerStride(2), sb = runs.innerStride(3)
        withExtendedLifetime((c, x, y)) {
            runs.forEachRunParallel { starts, n in
                let d = d0 + starts[0], k = c0 + starts[1], a = a0 + starts[2], b = b0 + starts[3]
                if sd == 1 && sc == 1 && sa == 1 && sb == 1 { for j in 0..<n { d[j] = k[j] ? a[j] : b[j] }; return }
                for j in 0..<n { d[j * sd] = k[j * sc] ? a[j * sa] : b[j * sb] }
            }
        }
    }
}
