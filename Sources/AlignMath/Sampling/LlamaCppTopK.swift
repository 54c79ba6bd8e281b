/// llama.cpp's top-k on a whole row without loading it into an array.
extension SamplerWorkspace {
    /// `llama_sampler_top_k_impl` on an unsorted row in id order (lazy with no pending
    /// divisor, or dense), for `k <= 128` below the vocabulary size: there llama.cpp calls
    /// `std::partial_sort`, whose heap select visits the entries in order and changes the
    /// heap only for an entry whose float logit is above the heap's top. A vector test
    /// skips the blocks of 16 where no logit can be (patched ids are visited one by one),
    /// so the row is read once and the heap evolves exactly as in llama.cpp: same entries,
    /// same order after the final heap sort. Returns false (nothing done) when the case
    /// is not that one; `llamaTopK` then loads the array and sorts it as llama.cpp does.
    func llamaTopKFromRow(_ k: Int) -> Bool {
        let n = vocab
        guard k > 0, k <= 128, k < n else { return false }
        let src: UnsafePointer<T>
        let lazy: Bool
        switch mode {
        case .lazy:
            guard divisor == 1, let b = base.baseAddress else { return false }
            src = b
            lazy = true
        case .dense:
            guard let d = dense.baseAddress else { return false }
            src = UnsafePointer(d)
            lazy = false
        case .sparse:
            return false
        }
        let patches = lazy ? patchIds.sorted() : []
        @inline(__always) func value(_ i: Int) -> T { lazy ? lazyValue(i) : src[i] }
        llama.removeAll(keepingCapacity: true)
        // NaN is looked for on the way: in the first k entries, and in the blocks the vector
        // test lets through (it passes NaN lanes), so a clean row costs no extra pass.
        var nan = 0
        for i in 0..<k {
            nan |= src[i] != src[i] ? 1 : 0
            llama.append(LlamaToken(logit: Float(value(i)), p: 0, pos: Int32(i)))
        }
        llama.withUnsafeMutableBufferPointer { h in
            Libstdcxx.makeHeap(h, 0, k, LlamaCppSort.descending)
            var tau = h[0].logit
            var next = patches.firstIndex { Int($0) >= k } ?? patches.count
            var i = k
            while i < n {
                let patchAt = next < patches.count ? Int(patches[next]) : n
                // Float(x) > tau implies x > tau: the test on T never skips an entrant.
                if i + 16 <= n && patchAt >= i + 16 && !T.anyNotBelow(src, i, T(tau)) {
                    i += 16
                    continue
                }
                let end = min(i + 16, n)
                while i < end {
                    if i == patchAt { next += 1 }
                    nan |= src[i] != src[i] ? 1 : 0
                    let e = LlamaToken(logit: Float(value(i)), p: 0, pos: Int32(i))
                    if LlamaCppSort.descending(e, h[0]) {
                        // std::__pop_heap(first, middle, i): the entrant sifts in from the top.
                        Libstdcxx.adjustHeap(h, 0, hole: 0, len: k, e, LlamaCppSort.descending)
                        tau = h[0].logit
                    }
                    i += 1
                }
            }
            Libstdcxx.sortHeap(h, 0, k, LlamaCppSort.descending)
        }
        if nan != 0 { if lazy { sawNaN = true } else { stageNaN = true } }
        ids.removeAll(keepingCapacity: true)
        vals.removeAll(keepingCapacity: true)
        for e in llama {
            ids.append(e.pos)
            vals.append(value(Int(e.pos)))
        }
        clearPatches()
        mode = .sparse
        sorted = false
        llamaSorted = true
        holdsNegInf = true
        probs.removeAll(keepingCapacity: true)
        return true
    }
}
