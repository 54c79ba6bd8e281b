import Foundation

/// One entry of llama.cpp's `llama_token_data_array` as the llama.cpp stages see it: the
/// logit as float32 (llama.cpp's logits are floats), the probability a stage computed,
/// and where the entry sat in the workspace's list when the stage began.
struct LlamaToken {
    var logit: Float
    var p: Float
    var pos: Int32
}

/// llama.cpp's candidate sorting (`src/llama-sampler.cpp`), on `LlamaToken`s: the
/// comparator is `a.logit > b.logit`, the algorithms libstdc++'s (`Libstdcxx`), so tied
/// logits come out in the order llama.cpp leaves them.
enum LlamaCppSort {
    static func descending(_ a: LlamaToken, _ b: LlamaToken) -> Bool { a.logit > b.logit }

    /// C++'s `int(float)` on x86-64 (`cvttss2si`): truncation, and INT_MIN for NaN and
    /// values outside int's range.
    static func cInt(_ x: Float) -> Int32 {
        x.isNaN || x >= 2_147_483_648 || x < -2_147_483_648 ? Int32.min : Int32(x)
    }

    /// `llama_token_data_array_partial_sort`: writes into `res` the entries of the
    /// buckets (128 over logits [-10, 10], the ends open) that hold the `npartial`
    /// largest, the first `npartial` of them sorted. `cur` is not changed.
    static func bucketPartialSort(_ cur: UnsafeBufferPointer<LlamaToken>, npartial: Int, into res: inout [LlamaToken], bucketOf: inout [Int32]) {
        let nbuckets = 128
        let scale: Float = 6.4  // nbuckets / (bucket_high - bucket_low), as float
        let inter: Float = 64   // -bucket_low * bucket_scale
        var histo = [Int](repeating: 0, count: nbuckets)
        bucketOf.removeAll(keepingCapacity: true)
        for e in cur {
            let scaled = scale * e.logit
            var ib = Int(cInt(scaled + inter))
            ib = max(0, min(nbuckets - 1, ib))
            bucketOf.append(Int32(ib))
            histo[ib] += 1
        }
        var nhave = 0
        var ib = nbuckets - 1
        while ib >= 0 {
            nhave += histo[ib]
            if nhave >= npartial { break }
            ib -= 1
        }
        ib = max(ib, 0)
        res.removeAll(keepingCapacity: true)
        res.append(contentsOf: repeatElement(LlamaToken(logit: 0, p: 0, pos: 0), count: nhave))
        var start = [Int](repeating: 0, count: nbuckets)
        var at = 0
        var j = nbuckets - 1
        while j >= ib { start[j] = at; at += histo[j]; j -= 1 }
        for (i, e) in cur.enumerated() {
            let b = Int(bucketOf[i])
            if b >= ib { res[start[b]] = e; start[b] += 1 }
        }
        res.withUnsafeMutableBufferPointer { r in
            var ptr = 0, ndone = 0
            var j = nbuckets - 1
            while j > ib {
                Libstdcxx.sort(r, ptr, ptr + histo[j], by: descending)
                ptr += histo[j]
                ndone += histo[j]
                j -= 1
            }
            Libstdcxx.partialSort(r, ptr, ptr + npartial - ndone, ptr + histo[ib], by: descending)
        }
    }

    /// `llama_token_data_array_partial_sort_inplace`: the first `npartial` entries of
    /// `t[0..<size]` become the largest, sorted; returns the new size (`npartial`).
    static func partialSortInplace(_ t: inout [LlamaToken], size: Int, npartial: Int, buffer: inout [LlamaToken], bucketOf: inout [Int32]) -> Int {
        if npartial <= 128 {
            t.withUnsafeMutableBufferPointer { Libstdcxx.partialSort($0, 0, npartial, size, by: descending) }
            return npartial
        }
        t.withUnsafeBufferPointer { cur in
            bucketPartialSort(UnsafeBufferPointer(rebasing: cur[0..<size]), npartial: npartial, into: &buffer, bucketOf: &bucketOf)
        }
        for i in 0..<npartial { t[i] = buffer[i] }
        return npartial
    }
}

/// The llama.cpp array of the workspace: the list loaded as `LlamaToken`s, and written
/// back after a stage in the order (and size) the stage left.
extension SamplerWorkspace {
    /// Makes the row llama.cpp's array and loads it into `llama` (logits as floats).
    func loadLlama() {
        makeLlamaArray()
        llama.removeAll(keepingCapacity: true)
        for (i, v) in vals.enumerated() { llama.append(LlamaToken(logit: Float(v), p: 0, pos: Int32(i))) }
    }

    /// `probs` as llama.cpp's `dist` leaves them in its array (`llamaDist` draws from the
    /// same numbers): over the list's values as float32 (an f64 row's kept logits rounded),
    /// `p = expf(logit - max)` with the difference taken in float, summed in double, then
    /// `p / sum` kept in double (llama.cpp stores it as a float: within half a float ulp
    /// of it, and the probabilities still sum to 1). `max` is llama.cpp's: the first
    /// entry's logit when the array is flagged sorted, even where a later stage (logit_bias)
    /// raised another entry above it, as `llamaDist` takes it (the differences then round
    /// otherwise: ~2e-6 relative on a token 30 below).
    func llamaDistProbabilities() {
        probs.removeAll(keepingCapacity: true)
        guard !vals.isEmpty else { return }
        // dist gives a lone entry p = 1 without computing it (a +inf logit included)
        if vals.count == 1 { probs.append(1); return }
        var maxL = Float(vals[0])
        if !llamaSorted { for v in vals.dropFirst() { maxL = Float.cxxMax(maxL, Float(v)) } }
        var sum = 0.0
        for v in vals {
            let p = expf(Float(v) - maxL)
            probs.append(Double(p))
            sum += Double(p)
        }
        let inv = 1 / sum
        for i in 0..<probs.count { probs[i] *= inv }
    }

    /// Writes the first `size` entries of `llama` back as the list. `changed` entries
    /// take their float logit (stages that compute new logits); the others keep the
    /// value they had in the row's dtype.
    func storeLlama(size: Int, changed: Bool = false) {
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: vals)
        let oldIds = ids
        ids.removeAll(keepingCapacity: true)
        vals.removeAll(keepingCapacity: true)
        for e in llama.prefix(size) {
            ids.append(oldIds[Int(e.pos)])
            vals.append(changed ? T(e.logit) : scratch[Int(e.pos)])
        }
        sorted = false
        holdsNegInf = true
        probs.removeAll(keepingCapacity: true)
    }

    /// `llama_sampler_softmax_impl(cur_p, do_sort)` on `llama[0..<size]`: sorts if asked
    /// and not sorted, then `p = expf(logit - max) / sum` in float, summed in array order.
    func llamaSoftmax(size: Int, sort doSort: Bool) {
        guard size > 0 else { return }
        if doSort && !llamaSorted {
            _ = LlamaCppSort.partialSortInplace(&llama, size: size, npartial: size, buffer: &llamaBuffer, bucketOf: &llamaBuckets)
            llamaSorted = true
        }
        var maxL = llama[0].logit
        if !llamaSorted { for i in 1..<size { maxL = Float.cxxMax(maxL, llama[i].logit) } }
        var sum: Float = 0
        for i in 0..<size {
            let p = expf(llama[i].logit - maxL)
            llama[i].p = p
            sum += p
        }
        for i in 0..<size { llama[i].p /= sum }
    }
}

extension Float {
    /// C++'s `std::max(a, b)`: `(a < b) ? b : a` (a NaN `b` never wins; Swift's
    /// `max` differs on NaN).
    @inline(__always) static func cxxMax(_ a: Float, _ b: Float) -> Float { a < b ? b : a }
}
