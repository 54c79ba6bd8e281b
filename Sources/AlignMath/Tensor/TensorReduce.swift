/// Reductions of a tensor, whole or along its last axis (`{axis = -1}` in Lua), always
/// accumulated in Double; results along an axis are `f64` tensors of shape `shape.dropLast()`.
public enum Reduction: String, Sendable {
    case sum, mean, std, min, max, argmax
}

extension Tensor {
    /// Reduces `n` elements starting at flat index `start`.
    func reduceRange(_ r: Reduction, _ start: Int, _ n: Int) -> Double {
        switch r {
        case .sum, .mean, .std:
            var s = 0.0
            if dtype == .f32 { let p = floatPointer + start; for i in 0..<n { s += Double(p[i]) } }
            else { let p = doublePointer + start; for i in 0..<n { s += p[i] } }
            if r == .sum { return s }
            let mean = s / Double(n)
            if r == .mean { return mean }
            // Unbiased (n - 1), as torch.std; two-pass for accuracy.
            var v = 0.0
            for i in 0..<n { let d = self[flat: start + i] - mean; v += d * d }
            return (v / Double(n - 1)).squareRoot()
        case .min, .max, .argmax:
            var best = self[flat: start], at = 0
            if best.isNaN { return r == .argmax ? 0 : .nan }
            for i in 1..<Swift.max(n, 1) {
                let x = self[flat: start + i]
                if x.isNaN { return r == .argmax ? Double(i) : .nan }  // NaN wins, as torch
                if r == .min ? x < best : x > best { best = x; at = i }
            }
            return r == .argmax ? Double(at) : best
        }
    }

    /// The reduction over all elements. `argmax` gives a 0-based flat index (first
    /// maximum). Empty tensors: sum 0, mean/std NaN; min/max/argmax throw.
    public func reduce(_ r: Reduction) throws -> Double {
        let x = contiguousFloating()
        if x !== self { return try x.reduce(r) }
        if count == 0 {
            switch r {
            case .sum: return 0
            case .mean, .std: return .nan
            default: throw AlignMathError.invalidArgument("\(r.rawValue) of an empty tensor")
            }
        }
        if r == .std && count == 1 { return .nan }
        return reduceRange(r, 0, count)
    }

    /// The reduction along `axis`, which must be the last axis (`-1` or `ndim - 1`):
    /// an `f64` tensor of shape `shape.dropLast()` (argmax: 0-based indices).
    public func reduce(_ r: Reduction, axis: Int) throws -> Tensor {
        let x = contiguousFloating()
        if x !== self { return try x.reduce(r, axis: axis) }
        guard ndim >= 1 else { throw AlignMathError.invalidArgument("\(r.rawValue): a 0-d tensor has no axis \(axis)") }
        guard axis == -1 || axis == ndim - 1 else {
            throw AlignMathError.invalidArgument("\(r.rawValue): only the last axis (-1) is supported, got axis \(axis) for a \(ndim)-d tensor")
        }
        let n = rowLength, rows = rowCount
        if n == 0 && r != .sum && r != .mean && r != .std {
            throw AlignMathError.invalidArgument("\(r.rawValue) along an empty last axis")
        }
        let out = try Tensor.zeros(Array(shape.dropLast()), dtype: .f64)
        let d = out.doublePointer
        for row in 0..<rows {
            if n == 0 { d[row] = r == .sum ? 0 : .nan; continue }
            if r == .std && n == 1 { d[row] = .nan; continue }
            d[row] = reduceRange(r, row * n, n)
        }
        return out
    }

    /// Sum of all elements.
    public func sum() throws -> Double { try reduce(.sum) }
    /// Mean of all elements.
    public func mean() throws -> Double { try reduce(.mean) }
    /// Unbiased standard deviation of all elements (divides by n - 1, as `torch.std`).
    public func std() throws -> Double { try reduce(.std) }
    /// Smallest element (NaN if any is NaN).
    public func min() throws -> Double { try reduce(.min) }
    /// Largest element (NaN if any is NaN).
    public func max() throws -> Double { try reduce(.max) }
    /// 0-based flat index of the first largest element (the Lua glue adds 1).
    public func argmax() throws -> Int { Int(try reduce(.argmax)) }

    /// A sorted copy: ascending along the last axis (`torch.sort` default), NaN last.
    public func sort(descending: Bool = false) -> Tensor {
        let out = contiguousFloating().clone()
        let n = rowLength
        if n <= 1 || count == 0 { return out }
        for row in 0..<rowCount {
            switch out.dtype {
            case .f32:
                var b = UnsafeMutableBufferPointer(start: out.floatPointer + row * n, count: n)
                b.sort { x, y in x.isNaN ? false : (y.isNaN ? true : (descending ? x > y : x < y)) }
            case .f64:
                var b = UnsafeMutableBufferPointer(start: out.doublePointer + row * n, count: n)
                b.sort { x, y in x.isNaN ? false : (y.isNaN ? true : (descending ? x > y : x < y)) }
            default: preconditionFailure("contiguousFloating gave \(dtype)")
            }
        }
        return out
    }
}
