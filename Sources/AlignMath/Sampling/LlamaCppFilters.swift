import Foundation

/// The llama.cpp-semantics stages: `src/llama-sampler.cpp` of llama.cpp (the version
/// vendored by llama-cpp-python 0.3.36, commit 0c1e570, October 2026), line by line, on
/// the workspace's list seen as llama.cpp's array (`LlamaToken`s). Like llama.cpp they
/// compute in float32: the logits are read as floats, sums run in array order, `expf`
/// and `logf` are glibc's (as llama.cpp's are on Linux), and they sort with libstdc++'s
/// algorithms, so kept sets, their order and the probabilities match llama.cpp's on
/// every row, tied logits and -inf entries included. A row given as f64 is read as the
/// floats llama.cpp would have held; logits the stages do not compute keep their f64
/// value. Where llama.cpp does something unexpected it is reproduced and noted here.
extension SamplerWorkspace {
    /// `llama_sampler_top_k_impl`: exactly `min(k, size)` entries, -inf ones included
    /// when fewer are finite; ties as libstdc++'s partial sort leaves them.
    func llamaTopK(_ k: Int) {
        guard k > 0 else { return }
        if llamaTopKFromRow(k) { return }
        loadLlama()
        let size = min(k, llama.count)
        if !llamaSorted {
            _ = LlamaCppSort.partialSortInplace(&llama, size: llama.count, npartial: size, buffer: &llamaBuffer, bucketOf: &llamaBuckets)
            llamaSorted = true
        }
        storeLlama(size: size)
    }

    /// `llama_sampler_top_p_apply`: probabilities in array order, then (unsorted lists
    /// over 1024) the top 256 by the bucket sort, widened to a full sort when they do
    /// not reach `p`; the running float sum keeps through the first entry where it is
    /// `>= p` (and `min_keep` kept). Surprise: after the widening the walk continues in
    /// the full sort's order, whose ties may differ from the 256-entry sort's.
    func llamaTopP(_ p: Float, minKeep: Int) {
        guard p < 1 else { return }
        loadLlama()
        let size = llama.count
        guard size > 0 else { storeLlama(size: 0); return }
        llamaSoftmax(size: size, sort: false)
        var k = size
        var usesBuffer = false
        if !llamaSorted && size > 1024 {
            k = min(256, size)
            llama.withUnsafeBufferPointer {
                LlamaCppSort.bucketPartialSort($0, npartial: k, into: &llamaBuffer, bucketOf: &llamaBuckets)
            }
            usesBuffer = true
        } else if !llamaSorted {
            _ = LlamaCppSort.partialSortInplace(&llama, size: size, npartial: k, buffer: &llamaBuffer, bucketOf: &llamaBuckets)
            llamaSorted = true
        }
        var cum: Float = 0
        var last = size
        for i in 0..<size {
            cum += usesBuffer ? llamaBuffer[i].p : llama[i].p
            if cum >= p && i + 1 >= minKeep {
                last = i + 1
                break
            }
            if !llamaSorted && i == k - 1 {
                k = size
                llama.withUnsafeBufferPointer {
                    LlamaCppSort.bucketPartialSort($0, npartial: k, into: &llamaBuffer, bucketOf: &llamaBuckets)
                }
            }
        }
        if !llamaSorted {
            for i in 0..<last { llama[i] = llamaBuffer[i] }
            llamaSorted = true
        }
        storeLlama(size: last)
    }

    /// `llama_sampler_min_p_apply`: on an unsorted array, keep `logit >= max + logf(p)` in
    /// array order (the array stays unsorted); if that leaves fewer than `min_keep` (or
    /// the array was sorted), sort and keep the first entry plus every later one until
    /// the first below the bound once `min_keep` are kept.
    func llamaMinP(_ p: Float, minKeep: Int) {
        guard p > 0 else { return }
        loadLlama()
        var size = llama.count
        guard size > 0 else { storeLlama(size: 0); return }
        var applied = false
        if !llamaSorted {
            var maxLogit = -Float.greatestFiniteMagnitude
            for e in llama[0..<size] { maxLogit = Float.cxxMax(maxLogit, e.logit) }
            let minLogit = maxLogit + logf(p)
            llamaBuffer.removeAll(keepingCapacity: true)
            for r in 0..<size where llama[r].logit >= minLogit { llamaBuffer.append(llama[r]) }
            if !llamaBuffer.isEmpty && llamaBuffer.count >= minKeep {
                for (i, e) in llamaBuffer.enumerated() { llama[i] = e }
                size = llamaBuffer.count
                applied = true
            }
        }
        if !applied {
            if !llamaSorted {
                _ = LlamaCppSort.partialSortInplace(&llama, size: size, npartial: size, buffer: &llamaBuffer, bucketOf: &llamaBuckets)
                llamaSorted = true
            }
            let minLogit = llama[0].logit + logf(p)
            var i = 1
            while i < size {
                if llama[i].logit < minLogit && i >= minKeep { break }
                i += 1
            }
            size = i
        }
        storeLlama(size: size)
    }

    /// `llama_sampler_typical_apply`: sorted softmax, entropy and `|-logf(p) - H|` in
    /// float, entries reordered by that score (libstdc++ `std::sort`, not stable) and
    /// kept until the running sum is `> p` (and `min_keep` kept); the array is left in
    /// that order, unsorted. Surprise: an entry of probability 0 (a -inf logit, or one
    /// more than ~104 below the maximum) makes the entropy `0 * -inf = NaN`, every score
    /// NaN, and the kept set whatever `std::sort` leaves at the front.
    func llamaTypical(_ mass: Float, minKeep: Int) {
        guard mass < 1 else { return }
        loadLlama()
        let size = llama.count
        guard size > 0 else { storeLlama(size: 0); return }
        llamaSoftmax(size: size, sort: true)
        var entropy: Float = 0
        for e in llama[0..<size] { entropy += -e.p * logf(e.p) }
        var shifted = [Float](repeating: 0, count: size)
        for i in 0..<size { shifted[i] = abs(-logf(llama[i].p) - entropy) }
        var order = [Int](0..<size)
        order.withUnsafeMutableBufferPointer { o in
            shifted.withUnsafeBufferPointer { s in Libstdcxx.sort(o, 0, size, by: { s[$0] < s[$1] }) }
        }
        var cum: Float = 0
        var last = size
        for i in 0..<size {
            cum += llama[order[i]].p
            if cum > mass && (minKeep == 0 || i >= minKeep - 1) {
                last = i + 1
                break
            }
        }
        llamaBuffer.removeAll(keepingCapacity: true)
        for i in 0..<last { llamaBuffer.append(llama[order[i]]) }
        for i in 0..<last { llama[i] = llamaBuffer[i] }
        llamaSorted = false
        storeLlama(size: last)
    }

    /// `llama_sampler_top_n_sigma_apply`: max, mean and population std over the entries
    /// that are not -inf (the squares summed as double into a float), then every entry
    /// below `max - n * std` set to -inf and left in the array (llama.cpp does not
    /// shrink it: later stages still count those entries).
    func llamaTopNSigma(_ n: Float) {
        guard n > 0 else { return }
        loadLlama()
        let size = llama.count
        guard size > 1 else { storeLlama(size: size); return }
        var mx = llama[0].logit
        var sum: Float = 0
        var valid = 0
        for e in llama[0..<size] where e.logit != -.infinity {
            mx = Float.cxxMax(mx, e.logit)
            sum += e.logit
            valid += 1
        }
        let mean: Float = valid > 0 ? sum / Float(valid) : 0
        var acc: Float = 0
        for e in llama[0..<size] where e.logit != -.infinity {
            let d = Double(e.logit - mean)
            acc = Float(Double(acc) + d * d)
        }
        let std: Float = valid > 0 ? Float((Double(acc / Float(valid))).squareRoot()) : 0
        let bound = mx - n * std
        for i in 0..<size where llama[i].logit < bound { llama[i].logit = -.infinity }
        storeLlamaMasking(size: size)
    }

    /// `llama_sample_xtc_apply`: skipped for `probability <= 0`, `threshold > 0.5` or
    /// fewer than 2 entries; else one float draw (`chance`), and when `chance <=
    /// probability` the sorted entries at or above `threshold` but the last of them are
    /// removed if at least `min_keep` remain (-inf entries count, as in llama.cpp).
    func llamaXTC(probability: Float, threshold: Float, minKeep: Int, chance draw: () -> Float) {
        guard probability > 0, threshold <= 0.5 else { return }
        loadLlama()
        let size = llama.count
        guard size >= 2 else { storeLlama(size: size); return }
        let chance = draw()
        guard chance <= probability else { storeLlama(size: size); return }
        llamaSoftmax(size: size, sort: true)
        var posLast = 0
        for i in 0..<size {
            if llama[i].p >= threshold { posLast = i } else { break }
        }
        if size - posLast >= minKeep && posLast > 0 {
            llama.removeFirst(posLast)
            storeLlama(size: size - posLast)
        } else {
            storeLlama(size: size)
        }
    }

    /// `llama_sampler_temp_impl`: divide every logit by `t` in float; for `t <= 0` keep
    /// the first maximal entry and set the others to -inf, leaving them in the array.
    func llamaTemperature(_ t: Float) {
        loadLlama()
        let size = llama.count
        guard size > 0 else { storeLlama(size: 0); return }
        llamaTempImpl(size: size, t)
    }

    /// The body of `llama_sampler_temp_impl` on the loaded array, stored back.
    private func llamaTempImpl(size: Int, _ t: Float) {
        if t <= 0 {
            var maxI = 0
            var maxL = llama[0].logit
            for i in 1..<size {
                if llama[i].logit > maxL {
                    llama[maxI].logit = -.infinity
                    maxI = i
                    maxL = llama[i].logit
                } else {
                    llama[i].logit = -.infinity
                }
            }
            storeLlamaMasking(size: size)
            return
        }
        for i in 0..<size { llama[i].logit /= t }
        storeLlama(size: size, changed: true)
    }

    /// `llama_sampler_temp_ext_apply` with `delta > 0`: sorted softmax (the array is left
    /// sorted), entropy over `-logf(1.0f / size)`, `dyn = min + (max - min) *
    /// powf(h, exponent)` in float, then `llama_sampler_temp_impl(dyn)`.
    func llamaDynamicTemperature(_ temp: Float, delta: Float, exponent: Float) {
        let minTemp = Float.cxxMax(0, temp - delta)
        let maxTemp = temp + delta
        loadLlama()
        let size = llama.count
        guard size > 1 else { storeLlama(size: size); return }
        let maxEntropy = -logf(1 / Float(size))
        llamaSoftmax(size: size, sort: true)
        var entropy: Float = 0
        for e in llama[0..<size] where e.p > 0 { entropy -= e.p * logf(e.p) }
        let normalized = entropy / maxEntropy
        let dyn = minTemp + (maxTemp - minTemp) * powf(normalized, exponent)
        llamaTempImpl(size: size, dyn)
    }

    /// `llama_sampler_greedy_apply`: the first entry with the largest logit in array
    /// order (chosen, not drawn) is all that is left.
    func llamaGreedy() {
        loadLlama()
        let size = llama.count
        guard size > 0 else { storeLlama(size: 0); return }
        var selected = 0
        for i in 1..<max(size, 1) where llama[i].logit > llama[selected].logit { selected = i }
        llama[0] = llama[selected]
        storeLlama(size: 1)
    }

    /// `llama_sampler_mirostat_apply`, the truncation: sorted softmax, the Zipf exponent
    /// `s_hat` from the first `m` probabilities (float sums of `t_i * b_i`), `k = powf(
    /// eps * powf(2, mu) / (1 - powf(V, -eps)), 1 / s_hat)` with `eps = s_hat - 1` and V
    /// the vocabulary size, then top-k of `max(int(k), 1)` (C++'s conversion: NaN or a
    /// value out of int's range gives 1).
    func llamaMirostatV1Truncate(mu: Float, m: Int, vocab: Int) {
        loadLlama()
        let size = llama.count
        guard size > 0 else { storeLlama(size: 0); return }
        llamaSoftmax(size: size, sort: true)
        var sumTiBi: Float = 0, sumTiSq: Float = 0
        var i = 0
        while i < m - 1 && i < size - 1 {
            let ti = logf(Float(i + 2) / Float(i + 1))
            let bi = logf(llama[i].p / llama[i + 1].p)
            sumTiBi += ti * bi
            sumTiSq += ti * ti
            i += 1
        }
        let sHat = sumTiBi / sumTiSq
        let epsHat = sHat - 1
        let k = powf((epsHat * powf(2, mu)) / (1 - powf(Float(vocab), -epsHat)), 1 / sHat)
        let kept = max(Int(LlamaCppSort.cInt(k)), 1)
        storeLlama(size: min(kept, size))
    }

    /// `llama_sampler_mirostat_v2_apply`, the truncation: sorted softmax, keep the entries
    /// before the first with `-log2f(p) > mu` (at least one).
    func llamaMirostatTruncate(mu: Float) {
        loadLlama()
        let size = llama.count
        guard size > 0 else { storeLlama(size: 0); return }
        llamaSoftmax(size: size, sort: true)
        var m = size
        for i in 0..<size where -log2f(llama[i].p) > mu { m = i; break }
        storeLlama(size: max(m, 1))
    }

    /// `storeLlama` for stages that only set some logits to -inf.
    func storeLlamaMasking(size: Int) {
        let masked = llama.prefix(size).map { $0.logit == -.infinity }
        storeLlama(size: size)
        for i in 0..<size where masked[i] { vals[i] = -.infinity }
    }
}
