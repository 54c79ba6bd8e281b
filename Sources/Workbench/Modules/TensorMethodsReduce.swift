import LuaKit
import AlignMath

/// Reductions over all elements or any axis, running totals, and ordering. Positions
/// returned (argmax, sort, topk, ...) are 1-based, as every tensor method speaks.
enum TensorMethodsReduce {
    static func add(_ method: TensorMethods.Adder) {
        let what: [(Reduction, String, String)] = [
            (.sum, "The sum (i64 for i64 and bool tensors).", "tensor{1, 2, 3}:sum()  --> 6.0"),
            (.mean, "The mean (NaN for no elements).", "tensor{{1, 2}, {3, 4}}:mean{axis = -1}"),
            (.std, "The standard deviation, unbiased by default (ddof = 1, as torch.std; numpy's np.std is ddof = 0).",
             "tensor{1, 2, 3, 4}:std()  --> 1.2909944487358"),
            (.var, "The variance, unbiased by default (ddof = 1, as torch.var).", "tensor{1, 2, 3, 4}:var()"),
            (.min, "The smallest element (NaN if any is NaN).", "tensor{3, 1, 2}:min()  --> 1.0"),
            (.max, "The largest element (NaN if any is NaN).", "tensor{3, 1, 2}:max()  --> 3.0"),
            (.prod, "The product (i64 for i64 and bool tensors).", "tensor{1, 2, 3, 4}:prod()  --> 24.0"),
            (.nansum, "The sum of the elements that are not NaN.", "tensor{1, 0/0, 2}:nansum()  --> 3.0"),
            (.nanmean, "The mean of the elements that are not NaN.", "tensor{1, 0/0, 2}:nanmean()  --> 1.5"),
            (.logsumexp, "log(sum(exp(x))), computed without overflow (NaN if any is NaN).", "tensor{0, 0}:logsumexp()  --> 0.69314718055995"),
            (.argmax, "The 1-based position of the first largest element (of the first NaN, if any; flat for a\nwhole n-d tensor).", "tensor{3, 1, 5}:argmax()  --> 3"),
            (.argmin, "The 1-based position of the first smallest element (of the first NaN, if any; flat for a\nwhole n-d tensor).", "tensor{3, 1, 5}:argmin()  --> 2"),
            (.any, "True if any element is nonzero (true).", "tensor{0, 0, 1}:any()  --> true"),
            (.all, "True if every element is nonzero (true).", "tensor{1, 1, 0}:all()  --> false"),
        ]
        for (r, meaning, example) in what {
            let ddof = r == .std || r == .var
            method(r.rawValue, """
                t:\(r.rawValue)([{axis = nil, keepdim = false\(ddof ? ", ddof = 1" : "")}]) -> value | tensor
                \(meaning)
                Over the whole tensor by default (a number, integer or boolean); with axis (1-based,
                negative from the last; t:\(r.rawValue)(2) and t:\(r.rawValue){2} also work) along that axis: a
                tensor without it (a value for a 1-d tensor), or with it kept as size 1 when keepdim.
                Example: \(example)
                """) { t, a in try reduce(r, t, a) }
        }
        for (op, name) in [(Tensor.Scan.sum, "sum"), (.prod, "product")] {
            method(op.rawValue, """
                t:\(op.rawValue)([axis]) -> tensor
                The running \(name) along axis (1-based, negative from the last; t:\(op.rawValue){2},
                t:\(op.rawValue)(2) or {axis = 2}), or over the flattened tensor when none is given (as
                numpy). Accumulated in order in the result's dtype: i64 for i64 and bool tensors.
                Example: tensor{1, 2, 3}:\(op.rawValue)()
                """) { t, a in
                let (_, axis) = try a.axisOption(2, ndim: t.ndim, allowed: ["axis"])
                a.state.push(tensor: try a.tensorMath { try t.scan(op, axis: axis) })
                return 1
            }
        }
        addOrdering(method)
    }

    private static func reduce(_ r: Reduction, _ t: Tensor, _ a: LuaArguments) throws -> Int32 {
        let allowed = r == .std || r == .var ? ["axis", "keepdim", "ddof"] : ["axis", "keepdim"]
        let (o, axis) = try a.axisOption(2, ndim: t.ndim, allowed: allowed)
        let keepdim = try o.boolean("keepdim", default: false)
        let ddof = try o.integer("ddof", default: 1)
        guard ddof >= 0 else { throw a.error(2, "option 'ddof' must be >= 0, got \(ddof)") }
        var out = try a.tensorMath { try t.reduce(r, axis: axis, keepdim: keepdim, ddof: ddof) }
        if r == .argmax || r == .argmin { out = oneBased(out) }
        a.state.push(result: out)
        return 1
    }

    /// 0-based positions (a fresh i64 tensor) made 1-based in place.
    static func oneBased(_ p: Tensor) -> Tensor {
        _ = try? p.withMutableInt64s { b in for i in b.indices { b[i] += 1 } }
        return p
    }

    private static func addOrdering(_ method: TensorMethods.Adder) {
        method("sort", """
            t:sort({axis = -1, descending = false}) -> values, positions
            The elements sorted along axis (1-based, negative from the last) and their 1-based
            positions (an i64 tensor), as torch.sort: stable (equal elements keep their order), NaN
            last ascending and first descending; -0.0 equals 0.0.
            Options: axis (-1), descending (false).
            Example: tensor{3, 1, 2}:sort()  --> tensor([1., 2., 3.], dtype=f64), tensor([2, 3, 1], dtype=i64)
            """) { t, a in
            let (values, positions) = try ordering(t, a) { axis, descending in
                try t.sort(axis: axis, descending: descending, positionBase: 1)
            }
            a.state.push(tensor: values)
            a.state.push(tensor: positions)
            return 2
        }
        method("argsort", """
            t:argsort({axis = -1, descending = false}) -> positions
            The 1-based positions (an i64 tensor) that sort t along axis, as sort's second result.
            Options: axis (-1), descending (false).
            Example: tensor{3, 1, 2}:argsort()  --> tensor([2, 3, 1], dtype=i64)
            """) { t, a in
            let (_, positions) = try ordering(t, a) { axis, descending in
                (nil, try t.argsort(axis: axis, descending: descending, positionBase: 1))
            }
            a.state.push(tensor: positions)
            return 1
        }
        method("topk", """
            t:topk(k, {axis = -1, largest = true}) -> values, positions
            The k largest (or, with largest = false, smallest) elements along axis, best first, and
            their 1-based positions (i64), as torch.topk: ties go to the lower position; NaN counts
            as the largest. One pass over each row, no sort.
            Options: axis (-1), largest (true). The axis may also be a number, as torch's
            topk(k, dim): t:topk(2, 1) or t:topk(2, 1, {largest = false}).
            Example: tensor{1, 5, 3, 5}:topk(2)  --> tensor([5., 5.], dtype=f64), tensor([2, 4], dtype=i64)
            """) { t, a in
            let k = try a.integer(2)
            guard t.ndim > 0 else { throw a.failure("a 0-d tensor has no axis") }
            let positional = a.type(3) == .number
            let o = try a.options(positional ? 4 : 3, allowed: positional ? ["largest"] : ["axis", "largest"])
            let axis = try a.axis(positional ? try a.integer(3) : try o.integer("axis", default: -1), ndim: t.ndim, argument: 3)
            guard k >= 0 && k <= t.shape[axis] else {
                throw a.error(2, "k must be in 0..\(t.shape[axis]) (the size of axis \(axis + 1) of shape \(TensorIndexing.shapeText(t.shape))), got \(k)")
            }
            let (values, positions) = try a.tensorMath { try t.topk(k, axis: axis, largest: try o.boolean("largest", default: true)) }
            a.state.push(tensor: values)
            a.state.push(tensor: oneBased(positions))
            return 2
        }
    }

    /// Reads `{axis, descending}` and runs `body` with the 0-based axis.
    private static func ordering(_ t: Tensor, _ a: LuaArguments,
                                 _ body: (Int, Bool) throws -> (Tensor?, Tensor)) throws -> (Tensor, Tensor) {
        let (o, axis) = try a.axisOption(2, ndim: max(t.ndim, 1), allowed: ["axis", "descending"])
        let descending = try o.boolean("descending", default: false)
        let (v, p) = try a.tensorMath { try body(axis ?? -1, descending) }
        return (v ?? p, p)
    }
}
