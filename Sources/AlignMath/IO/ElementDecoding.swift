/// How elements are stored in a file, and how they become Float or Double: the one
/// place that knows about half floats, integers and byte order.
struct StoredType {
    enum Kind { case float, int, uint, bool, bfloat }
    let kind: Kind
    /// Bytes per element.
    let size: Int
    /// True when the bytes are big-endian.
    let bigEndian: Bool

    /// The dtype the elements load as: f32/f64 stay, f16/bf16 widen to f32, integers of
    /// any width become i64 (u64 above 2^63 wraps, as numpy's cast does) and booleans bool.
    var loadedAs: DType {
        switch kind {
        case .float: return size == 8 ? .f64 : .f32
        case .bfloat: return .f32
        case .int, .uint: return .i64
        case .bool: return .bool
        }
    }

    /// True when the bytes can be used as they are (f32/f64/i64, little-endian host order).
    /// Booleans are always copied, so that every byte is 0 or 1.
    var isNative: Bool {
        !bigEndian && ((kind == .float && (size == 4 || size == 8)) || (kind == .int && size == 8))
    }

    /// The raw bits of element `i` at `p` in host order (any width, any byte order).
    @inline(__always)
    func bits(_ p: UnsafeRawPointer, _ i: Int) -> UInt64 {
        var bits: UInt64 = 0
        let b = p.assumingMemoryBound(to: UInt8.self) + i * size
        for k in 0..<size {
            let byte = UInt64(b[bigEndian ? size - 1 - k : k])
            bits |= byte << (8 * k)
        }
        return bits
    }

    /// Decodes integer element `i` at `p` exactly (signed kinds sign-extended).
    @inline(__always)
    func integer(_ p: UnsafeRawPointer, _ i: Int) -> Int64 {
        let v = bits(p, i)
        if kind == .int {
            let shift = UInt64(64 - 8 * size)
            return Int64(bitPattern: v << shift) >> Int64(shift)
        }
        return Int64(bitPattern: v)
    }

    /// Decodes element `i` at `p` as a Double (any kind, any byte order).
    @inline(__always)
    func value(_ p: UnsafeRawPointer, _ i: Int) -> Double {
        let bits = self.bits(p, i)
        switch kind {
        case .float:
            switch size {
            case 2: return Double(StoredType.halfToFloat(UInt16(truncatingIfNeeded: bits)))
            case 4: return Double(Float(bitPattern: UInt32(truncatingIfNeeded: bits)))
            default: return Double(bitPattern: bits)
            }
        case .bfloat: return Double(Float(bitPattern: UInt32(truncatingIfNeeded: bits) << 16))
        case .bool: return bits != 0 ? 1 : 0
        case .uint: return Double(bits)
        case .int:
            let shift = UInt64(64 - 8 * size)
            return Double(Int64(bitPattern: bits << shift) >> Int64(shift))
        }
    }

    /// IEEE binary16 to Float (subnormals, infinities and NaN included), without relying
    /// on the platform's `Float16`.
    static func halfToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exp = Int((h >> 10) & 0x1f)
        let mant = UInt32(h & 0x3ff)
        if exp == 0 {
            let v = Float(mant) * Float(sign: .plus, exponent: -24, significand: 1)
            return sign != 0 ? -v : v
        }
        if exp == 31 { return Float(bitPattern: sign | 0x7f80_0000 | (mant << 13)) }
        return Float(bitPattern: sign | (UInt32(exp - 15 + 127) << 23) | (mant << 13))
    }

    /// A tensor of `shape` from `count` elements at byte `offset` of `file`: a view of the
    /// mapping when the data is native, aligned and large, else a converted copy.
    func tensor(from file: MappedFile, offset: Int, shape: [Int], what: String) throws -> Tensor {
        let n = try Tensor.checkedCount(shape)
        let (bytes, o) = n.multipliedReportingOverflow(by: size)
        guard !o else { throw AlignMathError.invalidArgument("\(file.path): \(what) is too large") }
        try file.check(offset, bytes, what)
        let dt = loadedAs
        if isNative && offset % size == 0 && bytes >= MappedFile.viewThreshold {
            return try Tensor(storage: file.storage, offset: offset / size, shape: shape, dtype: dt)
        }
        let t = try Tensor.empty(shape, dtype: dt)
        let src = UnsafeRawPointer(file.bytes(at: offset))
        if isNative {
            if n > 0 { t.storage.base.copyMemory(from: src, byteCount: bytes) }
            return t
        }
        switch dt {
        case .f32: t.withRaw(Float.self) { d in for i in 0..<n { d[i] = Float(value(src, i)) } }
        case .f64: t.withRaw(Double.self) { d in for i in 0..<n { d[i] = value(src, i) } }
        case .i64: t.withRaw(Int64.self) { d in for i in 0..<n { d[i] = integer(src, i) } }
        case .bool: t.withRaw(Bool.self) { d in for i in 0..<n { d[i] = bits(src, i) != 0 } }
        }
        return t
    }
}
