import AlignMathC
import Foundation

/// Which of several tied tokens transformers keeps on the CPU (transformers 5.25 on torch
/// 2.15). Its TopPLogitsWarper and TypicalLogitsWarper sort the whole row with
/// `torch.sort` (stable=False) and MinPLogitsWarper restores `min_keep` tokens with
/// `torch.topk`; on the CPU both are libstdc++'s `std::sort` / `std::partial_sort` /
/// `std::nth_element` over (value, index) pairs (`am_torch_sort_f64`, `am_torch_topk_f64`,
/// alignmath_torchsort.h), whose order among equal values depends on the whole row. The
/// stages keep their fast path and come here only when a group of tied values straddles
/// the cut; then the row transformers sees is rebuilt (the candidates' keys at their ids,
/// `fill` at every other id: those are -inf in transformers' row) and sorted as torch does.
extension SamplerWorkspace {
    /// The whole row for torch's sort: `fill` everywhere, `key(r)` at `ids[r]` for the
    /// candidates `r` of `rowIds`. Nil when an id lies outside the vocabulary (no row known).
    func torchRow(_ rowIds: [Int32], fill: Double, _ key: (Int) -> Double) -> [Double]? {
        let v = vocab
        guard v > 0 else { return nil }
        var row = [Double](repeating: fill, count: v)
        for (r, id) in rowIds.enumerated() {
            guard id >= 0 && Int(id) < v else { return nil }
            row[Int(id)] = key(r)
        }
        return row
    }

    /// `torch.sort(row, descending)[1]` on the CPU.
    static func torchSortOrder(_ row: [Double], descending: Bool) -> [Int64]? {
        var order = [Int64](repeating: 0, count: row.count)
        let rc = row.withUnsafeBufferPointer { rb in
            order.withUnsafeMutableBufferPointer { ob in
                am_torch_sort_f64(rb.baseAddress, Int64(rb.count), descending ? 1 : 0, ob.baseAddress)
            }
        }
        return rc == 0 ? order : nil
    }

    /// The ids of `torch.topk(row, k)` (largest) on the CPU, as a set.
    static func torchTopK(_ row: [Double], _ k: Int) -> Set<Int32>? {
        let k = min(k, row.count)
        var out = [Int64](repeating: 0, count: k)
        let rc = row.withUnsafeBufferPointer { rb in
            out.withUnsafeMutableBufferPointer { ob in
                am_torch_topk_f64(rb.baseAddress, Int64(rb.count), Int64(k), 1, ob.baseAddress)
            }
        }
        return rc == 0 ? Set(out.map { Int32($0) }) : nil
    }

    /// Top-p's cut at `m` of the canonical list: when it splits a group of tied logits,
    /// the group's tokens kept are those torch's ascending sort of the whole row puts last
    /// (transformers keeps the last positions of that order). `rowIds`/`rowVals` are the
    /// candidates the warper saw (the list before a shortcut dropped its tail), in any order.
    func keepPrefixTorchTieOrder(_ m: Int, rowIds: [Int32], rowVals: [T]) {
        let n = ids.count
        guard m < n, m > 0, vals[m - 1] == vals[m] else { truncate(m); return }
        let v = vals[m]
        var a = m - 1
        while a > 0 && vals[a - 1] == v { a -= 1 }
        guard let row = torchRow(rowIds, fill: -.infinity, { Double(rowVals[$0]) }),
              let order = Self.torchSortOrder(row, descending: false) else {
            keepPrefixPreferringHighIdsInTie(m); return
        }
        let dv = Double(v)
        var kept: [Int32] = []
        var j = order.count - 1
        while j >= 0 && kept.count < m - a {
            let id = Int(order[j])
            if row[id] == dv { kept.append(Int32(id)) }
            j -= 1
        }
        kept.sort()
        for (q, id) in kept.enumerated() { ids[a + q] = id }
        truncate(m)
        probs.removeAll(keepingCapacity: true)
    }
}
