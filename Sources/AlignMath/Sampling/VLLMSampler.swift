import Foundation

/// vLLM's v1 sampler on one row, op by op, as its PyTorch-native path computes it (the path
/// vLLM takes on CPU and whenever a request has its own seed; the FlashInfer / Triton
/// kernels it may use on GPU are meant to sample the same distribution). Sources, vLLM at
/// commit 3babc05a (2026): `vllm/v1/sample/sampler.py` (`Sampler.forward`: logits to
/// float32, logit bias, penalties, then `sample`: greedy when temperature < 1e-5 (after
/// `SamplingParams` raised every temperature in (0, 0.01) to 0.01: only 0 is greedy), else
/// temperature, min-p, top-k/top-p), `vllm/v1/sample/ops/topk_topp_sampler.py`
/// (`apply_top_k_top_p`, `apply_top_k_only`), `vllm/v1/sample/logits_processor/builtin.py`
/// (`MinPLogitsProcessor`, `LogitBiasLogitsProcessor`), `vllm/v1/sample/ops/penalties.py`
/// with `vllm/model_executor/layers/utils.py` (`apply_penalties`) and `vllm/_custom_ops.py`
/// (`apply_repetition_penalties_torch`). At vLLM commit 01fa3fe7 the top-k/top-p op is
/// `apply_top_k_top_p_pytorch` (Triton first when present), with the same masks.
///
/// The row is float32, as vLLM makes it, and so is the arithmetic: elementwise ops as
/// torch's, softmax as float32 `exp(x - max) / sum` (the sum of the floats rounded once), the cumulative sum accumulated in double
/// and stored as float32 (torch's CPU `cumsum` accumulates float in double), compared with
/// the float32 `1 - p`. torch's vectorised reductions sum in another order, so a top-p cut
/// falling within a float32 rounding of `1 - p` may still land on the other side.
/// `torch.sort` is taken as stable (ties in ascending order by id, what torch's CUDA sort
/// gives; moonlab's HF top-p follows torch's CPU order instead, as transformers users check on CPU).
public enum VLLMSampler {
    /// `logits[id] += bias` in float32 (`LogitBiasLogitsProcessor.apply`).
    public static func logitBias(_ x: inout [Float], _ bias: [Int: Double]) throws {
        for (id, b) in bias {
            guard id >= 0 && id < x.count else {
                throw AlignMathError.invalidArgument("logit_bias id \(id) is outside the vocabulary (0..<\(x.count))")
            }
            x[id] += Float(b)
        }
    }

    /// `apply_penalties`: repetition over the ids of the prompt or the output (positive
    /// logits times `1 / r`, the others times `r`, in float32), then `-= frequency * count`
    /// and `-= presence` over the output's ids only (OpenAI's definition). Ids outside the
    /// vocabulary are ignored (vLLM pads with `vocab_size`).
    public static func penalties(_ x: inout [Float], repetition: Double, frequency: Double, presence: Double,
                                 prompt: [Int], output: [Int]) {
        let v = x.count
        var outputCounts = [Int](repeating: 0, count: v)
        var seen = [Bool](repeating: false, count: v)
        for id in prompt where id >= 0 && id < v { seen[id] = true }
        for id in output where id >= 0 && id < v { seen[id] = true; outputCounts[id] += 1 }
        let r = Float(repetition), inverse = Float(1) / r
        let f = Float(frequency), p = Float(presence)
        for i in 0..<v {
            if seen[i] { x[i] *= x[i] > 0 ? inverse : r }
            x[i] -= f * Float(outputCounts[i])
            x[i] -= p * (outputCounts[i] > 0 ? 1 : 0)
        }
    }

    /// `greedy_sample`: `argmax` (the first maximal entry), all the probability on it.
    public static func greedy(_ x: inout [Float]) {
        var best = 0
        for i in 1..<max(x.count, 1) where x[i] > x[best] || (x[best].isNaN && !x[i].isNaN) { best = i }
        for i in 0..<x.count where i != best { x[i] = -.infinity }
    }

    /// The temperature vLLM runs for a requested `t`: `SamplingParams.__post_init__` raises
    /// every `0 < t < _MAX_TEMP` (1e-2) to 1e-2 ("may cause numerical errors nan or inf") before
    /// it tests `t < _SAMPLING_EPS` (1e-5) for greedy, so only `t = 0` is greedy and 5e-6 samples
    /// at 0.01 (vllm/sampling_params.py, the same at db573835 and 00388f65).
    public static func effectiveTemperature(_ t: Double) -> Double {
        t > 0 && t < 1e-2 ? 1e-2 : t
    }

    /// `apply_temperature`: `logits.div_(temp)` in float32.
    public static func temperature(_ x: inout [Float], _ t: Double) {
        let tf = Float(t)
        for i in 0..<x.count { x[i] /= tf }
    }

    /// `MinPLogitsProcessor.apply`: `probs < max(probs) * min_p` set to -inf.
    public static func minP(_ x: inout [Float], _ p: Double) {
        let probs = softmax32(x)
        let threshold = (probs.max() ?? 0) * Float(p)
        for i in 0..<x.count where probs[i] < threshold { x[i] = -.infinity }
    }

    /// `apply_top_k_top_p` (with `apply_top_k_only` when there is no p): top-k keeps every
    /// logit `>=` the k-th largest (ties kept); top-p sorts ascending, masks the entries whose
    /// cumulative probability is `<= 1 - p` (computed as float32 `1 - p`), never the last.
    /// `k` nil or `>= vocab` is no top-k (vLLM's `k = vocab_size` rows).
    public static func topKTopP(_ x: inout [Float], k: Int?, p: Double?) {
        let v = x.count
        let k = k.flatMap { $0 > 0 && $0 < v ? $0 : nil }
        guard k != nil || p != nil else { return }
        // Ascending stable order = ties by id ascending.
        let order = (0..<v).sorted { x[$0] < x[$1] || (x[$0] == x[$1] && $0 < $1) }
        var sorted = order.map { x[$0] }
        if let k {
            let kth = sorted[v - k]
            for j in 0..<v where sorted[j] < kth { sorted[j] = -.infinity }
        }
        if let p {
            let probs = softmax32(sorted)
            let limit = Float(1) - Float(p)
            var cum = 0.0
            for j in 0..<v {
                cum += Double(probs[j])
                if Float(cum) <= limit && j != v - 1 { sorted[j] = -.infinity }
            }
        }
        for (j, id) in order.enumerated() { x[id] = sorted[j] }
    }

    /// The float32 softmax torch computes: `exp(x - max)` in float, their sum, each divided
    /// by it (0 for -inf; an all -inf row gives zeros). torch sums the floats in vector
    /// lanes, within an ulp or so of the exact sum at 32,000 tokens; the sum here is the
    /// exact one rounded to float (a plain float loop drifts by ~1e-5 relative there, enough
    /// to move a top-p cut by a token: found by lab_diff.py against torch 2.15).
    public static func softmax32(_ x: [Float]) -> [Float] {
        var m = -Float.infinity
        for v in x where v > m { m = v }
        guard m > -.infinity else { return [Float](repeating: 0, count: x.count) }
        let e = x.map { expf($0 - m) }
        var s64 = 0.0
        for v in e { s64 += Double(v) }
        let s = Float(s64)
        return e.map { $0 / s }
    }

    /// The float32 row's softmax, in double (0 for -inf; an all -inf row gives zeros): the
    /// final distribution, computed more precisely than vLLM's float32 probabilities, over the
    /// tokens vLLM can draw: those whose float32 probability (`Sampler`'s
    /// `softmax(dtype=float32)`, which `random_sample` divides by its exponential noise) is
    /// not 0. A token ~104 nats below the top one underflows there and is never sampled.
    public static func softmax(_ x: [Float]) -> [Double] {
        var m = -Double.infinity
        for v in x where Double(v) > m { m = Double(v) }
        guard m > -.infinity else { return [Double](repeating: 0, count: x.count) }
        let drawable = softmax32(x)
        var out = x.indices.map { drawable[$0] > 0 ? exp(Double(x[$0]) - m) : 0 }
        let s = out.reduce(0, +)
        for i in out.indices { out[i] /= s }
        return out
    }
}
