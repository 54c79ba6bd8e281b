import LuaKit
import AlignMath

/// `dist.argmax` and `dist.topk`: functions over a vocabulary, so they answer with 0-based
/// token ids (as a tokenizer gives them), not tensor positions. Ids come back as Lua integers
/// for one row and i64 tensors for a batch: the logit of `id` is `x[id + 1]`.
enum DistRanking {
    static func install(_ m: ModuleBuilder) {
        m.function("argmax", doc: """
            dist.argmax(x, {temperature = 1, probs = false}) -> id | ids
            The 0-based token id of the largest logit of each row (the greedy choice): an integer
            for 1-d x, an i64 tensor of one id per row for a batch. Ties go to the lower id (a row
            of only -inf gives 0); a row with NaN gives the id of its first NaN (as torch.argmax). temperature and probs do not
            change the answer (they are accepted so the call matches the other dist functions).
            The logit of the answer is x[id + 1].
            Example: dist.argmax{0.1, 2.5, -1}  --> 1
            """) { a in
            let x = try DistModule.input(a, 1)
            _ = try DistModule.distOptions(a, 2)
            let ids = try a.tensorMath { try x.reduce(.argmax, axis: -1) }
            a.state.push(result: ids)
            return 1
        }
        m.function("topk", doc: """
            dist.topk(x, k, {temperature = 1, probs = false}) -> ids, values
            The k largest logits of each row, best first: their 0-based token ids (i64) and their
            values (x's own entries, in x's dtype), as torch.topk gives indices and values. Ties go to
            the lower id (torch.topk leaves their order unspecified; torch.sort(x, stable = True,
            descending = True) gives this one), so a row of only -inf gives -inf values with the
            ids 0, 1, ...; NaN counts as the largest. For a batch, one row of k per row of x.
            Example: dist.topk({0.1, 2.5, -1, 2.5}, 2)  --> tensor([1, 3], dtype=i64), tensor([2.5000, 2.5000], dtype=f64)
            """) { a in
            let x = try DistModule.input(a, 1)
            let k = try a.integer(2)
            let v = x.rowLength
            guard k >= 0 && k <= v else { throw a.error(2, "k must be in 0..\(v) (the vocabulary size), got \(k)") }
            _ = try DistModule.distOptions(a, 3)
            let (values, ids) = try a.tensorMath { try x.topk(k, axis: -1, largest: true) }
            a.state.push(tensor: ids)
            a.state.push(tensor: values)
            return 2
        }
    }
}
