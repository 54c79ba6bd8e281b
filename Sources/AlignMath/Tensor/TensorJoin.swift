/// Joining tensors: `cat` along an existing axis, `stack` along a new one (numpy's
/// `concatenate` and `stack`; dtypes promote as in arithmetic).
extension Tensor {
    /// The tensors joined along `axis` (0-based, negative from the last); all have the same
    /// number of axes and the same sizes except along `axis`.
    public static func cat(_ tensors: [Tensor], axis: Int) throws -> Tensor {
        guard let first = tensors.first else { throw AlignMathError.invalidArgument("cat: no tensors to join") }
        guard first.ndim > 0 else { throw AlignMathError.invalidArgument("cat: 0-d tensors cannot be joined along an axis (use stack)") }
        let a = axis < 0 ? axis + first.ndim : axis
        guard a >= 0 && a < first.ndim else {
            throw AlignMathError.invalidArgument("cat: axis \(axis < 0 ? axis : axis + 1) does not exist in a tensor of shape \(first.shape)")
        }
        var size = 0
        var dt = first.dtype
        for (k, t) in tensors.enumerated() {
            guard t.ndim == first.ndim, (0..<t.ndim).allSatisfy({ $0 == a || t.shape[$0] == first.shape[$0] }) else {
                throw AlignMathError.shapeMismatch("cat: tensor \(k + 1) has shape \(t.shape), tensor 1 has \(first.shape) (all sizes but axis \(a + 1) must match)")
            }
            size += t.shape[a]
            dt = DType.promote(dt, t.dtype)
        }
        var shape = first.shape
        shape[a] = size
        let out = try Tensor.empty(shape, dtype: dt)
        var start = 0
        for t in tensors where t.shape[a] > 0 {
            try out.narrow(axis: a, start: start, count: t.shape[a]).assign(t)
            start += t.shape[a]
        }
        return out
    }

    /// The tensors (all of one shape) stacked along a new axis at `axis` (0...ndim).
    public static func stack(_ tensors: [Tensor], axis: Int) throws -> Tensor {
        guard let first = tensors.first else { throw AlignMathError.invalidArgument("stack: no tensors to stack") }
        let a = axis < 0 ? axis + first.ndim + 1 : axis
        for (k, t) in tensors.enumerated() where t.shape != first.shape {
            throw AlignMathError.shapeMismatch("stack: tensor \(k + 1) has shape \(t.shape), tensor 1 has \(first.shape) (all must match)")
        }
        return try cat(tensors.map { try $0.unsqueeze(a) }, axis: a)
    }
}
