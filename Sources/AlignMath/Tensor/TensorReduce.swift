import Foundation

/// Reductions of a tensor over all its elements or along one axis, as numpy's: `sum`,
/// `mean`, `std`/`var` (with `ddof`), `min`, `max`, `argmax`, `argmin`, `prod`, `nansum`,
/// `nanmean`, `logsumexp`, `any`, `all`.
public enum Reduction: String, CaseIterable, Sendable {
    case sum, mean, std, `var`, min, max, argmax, argmin, prod, nansum, nanmean, logsumexp, any, all

    /// The result's dtype for an input of dtype `d` (numpy's): sums and products of
    /// integers and booleans are i64, means and spreads are floating (f32 stays f32),
    /// `min`/`max` keep the dtype, positions are i64, `any`/`all` bool.
    public func resultDtype(_ d: DType) -> DType {
        switch self {
        case .sum, .prod, .nansum: return d.isFloating ? d : .i64
        case .mean, .nanmean, .std, .var, .logsumexp: return d.floating
        case .min, .max: return d
        case .argmax, .argmin: return .i64
        case .any, .all: return .bool
        }
    }

    /// True for the reductions that have no value over no elements.
    var needsElements: Bool { [.min, .max, .argmax, .argmin].contains(self) }
}

extension Tensor {
    /// The reduction over all elements (`axis` nil) or along `axis` (0-based; negative counts
    /// from the last), with the reduced axis kept as size 1 when `keepdim`. Positions from
    /// `argmax`/`argmin` are 0-based (flat for a whole-tensor reduction). `ddof` is the
    /// divisor's offset of `std`/`var` (1: unbiased, torch's default; 0: numpy's).
    /// Empty input: `sum` 0, `prod` 1, `mean`/`std`/`var` NaN, `logsumexp` -inf, `any` false,
    /// `all` true; `min`/`max`/`argmax`/`argmin` throw (also when only the reduced axis is empty).
    public func reduce(_ r: Reduction, axis: Int?, keepdim: Bool = false, ddof: Int = 1) throws -> Tensor {
        if let order = memoryOrder(for: r) { return try reduceInMemoryOrder(order, r, axis: axis, keepdim: keepdim, ddof: ddof) }
        if dtype == .f32 && (r == .var || r == .std) { return try numpyF32Spread(r, axis: axis, keepdim: keepdim, ddof: ddof) }
        var outer = 1, n = count, inner = 1
        var outShape: [Int] = keepdim ? [Int](repeating: 1, count: ndim) : []
        if let a = axis {
            let k = a < 0 ? a + ndim : a
            guard k >= 0 && k < ndim else {
                throw AlignMathError.invalidArgument("\(r.rawValue): axis \(a < 0 ? a : a + 1) is out of range for a tensor of shape \(shape) (\(ndim) axes)")
            }
            outer = shape[..<k].reduce(1, *)
            n = shape[k]
            inner = shape[(k + 1)...].reduce(1, *)
            outShape = shape
            if keepdim { outShape[k] = 1 } else { outShape.remove(at: k) }
        }
        // numpy raises whenever the reduced axis is empty, even when the result has no
        // elements (np.max(np.zeros((3, 0)), axis=1) and np.argmax(np.zeros((0, 2, 0)), axis=2)).
        if n == 0 && r.needsElements {
            throw AlignMathError.invalidArgument("\(r.rawValue) of an empty \(axis == nil ? "tensor" : "axis") (shape \(shape)): it has no value")
        }
        let out = Tensor.output(outShape, dtype: r.resultDtype(dtype), count: outShape.reduce(1, *))
        if out.count == 0 { return out }
        let plan = ReducePlan(outer: outer, n: n, inner: inner, ddof: ddof)
        switch dtype {
        case .f64: try FloatReducer<Double>(plan: plan, r: r).run(contiguous(), into: out)
        case .f32: try FloatReducer<Float>(plan: plan, r: r).run(contiguous(), into: out)
        case .i64: try reduceIntegers(r, plan, contiguous(), out, ddof: ddof)
        case .bool:
            let asInt = converted(to: .i64)
            if r == .min || r == .max {
                let t = Tensor.output(outShape, dtype: .i64, count: out.count)
                try reduceIntegers(r, plan, asInt, t, ddof: ddof)
                t.copyElements(into: out)
            } else {
                try reduceIntegers(r, plan, asInt, out, ddof: ddof)
            }
        }
        return out
    }

    /// For a float sum-like reduction of a transposed or permuted view of a dense block (every
    /// axis of size > 1 stepping forward, no gaps): its axes ordered as they lie in memory, the
    /// order numpy's iterator adds in (np.sum(m.T, axis=0) is the pairwise sum of each row of
    /// m, np.sum(m.T) that of m's memory). nil when the order does not change the bits (ints,
    /// min/max/arg*, a contiguous tensor) or the view is not such a block.
    private func memoryOrder(for r: Reduction) -> [Int]? {
        guard !isContiguous, dtype == .f32 || dtype == .f64, ndim > 1 else { return nil }
        switch r {
        case .sum, .mean, .nansum, .nanmean, .var, .std, .prod: break
        default: return nil
        }
        guard zip(shape, strides).allSatisfy({ $0.0 <= 1 || $0.1 > 0 }) else { return nil }
        // size-1 axes first (their strides mean nothing), the others by decreasing stride
        let order = (0..<ndim).sorted { a, b in
            let sa = shape[a] <= 1 ? Int.max : strides[a], sb = shape[b] <= 1 ? Int.max : strides[b]
            return sa != sb ? sa > sb : a < b
        }
        guard let p = try? permute(order), p.isContiguous else { return nil }
        return order
    }

    /// `reduce` of the view `permute(order)` (dense, so its rows are memory's), the result's
    /// axes put back in this tensor's order.
    private func reduceInMemoryOrder(_ order: [Int], _ r: Reduction, axis: Int?, keepdim: Bool, ddof: Int) throws -> Tensor {
        let p = try permute(order)
        guard let a = axis else { return try p.reduce(r, axis: nil, keepdim: keepdim, ddof: ddof) }
        let k = a < 0 ? a + ndim : a
        guard k >= 0 && k < ndim else { return try p.reduce(r, axis: a, keepdim: keepdim, ddof: ddof) }  // its error
        let kept = try p.reduce(r, axis: order.firstIndex(of: k)!, keepdim: true, ddof: ddof)
        var inverse = [Int](repeating: 0, count: ndim)
        for (i, o) in order.enumerated() { inverse[o] = i }
        let back = try kept.permute(inverse)
        return (keepdim ? back : try back.squeeze(k)).contiguous()
    }

    /// numpy's var/std of an f32 tensor (its _methods._var): the mean, the deviations, their
    /// squares and the sum of those all in f32, summed in numpy's order (pairwise along rows,
    /// row by row down columns), then divided by max(n - ddof, 0) (0/0 is NaN, x/0 inf). In f64
    /// the answers were the exact ones, and numpy's f32 arithmetic is up to 6e-5 off them on
    /// 4,096-row columns: numpy's are the contract.
    private func numpyF32Spread(_ r: Reduction, axis: Int?, keepdim: Bool, ddof: Int) throws -> Tensor {
        let total = try reduce(.sum, axis: axis, keepdim: true)  // checks the axis
        let n = axis.map { shape[$0 < 0 ? $0 + ndim : $0] } ?? count
        let mean = try total.binary(.div, .int(Int64(n)))
        let d = try binary(.sub, mean)
        let m2 = try d.binary(.mul, d).reduce(.sum, axis: axis, keepdim: keepdim)
        let v = try m2.binary(.div, .int(Int64(Swift.max(n - ddof, 0))))
        return r == .var ? v : try v.unary(.sqrt)
    }

    private func reduceIntegers(_ r: Reduction, _ plan: ReducePlan, _ x: Tensor, _ out: Tensor, ddof: Int) throws {
        switch r {
        case .mean, .nanmean, .std, .var, .logsumexp:
            var reducer = FloatReducer<Double>(plan: plan, r: r)
            reducer.castInBuffers = true
            try reducer.run(x.converted(to: .f64), into: out)
        default:
            IntReducer(plan: plan, r: r).run(x, into: out)
        }
    }

    /// The reduction over all elements as a Double (`argmax`/`argmin`: the 0-based flat
    /// position; `any`/`all`: 1 or 0; i64 sums rounded above 2^53).
    public func reduce(_ r: Reduction) throws -> Double {
        let t = try reduce(r, axis: nil)
        return t[flat: 0]
    }

    /// The reduction along `axis` (0-based, negative from the last).
    public func reduce(_ r: Reduction, axis: Int) throws -> Tensor { try reduce(r, axis: Optional(axis)) }

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
    /// 0-based flat position of the first largest element (of the first NaN if any).
    public func argmax() throws -> Int { Int(try reduce(.argmax)) }
}

/// The geometry of a reduction over a dense tensor seen as [outer, n, inner]: the reduced
/// axis has `n` elements `inner` apart.
struct ReducePlan {
    let outer: Int, n: Int, inner: Int, ddof: Int
}
