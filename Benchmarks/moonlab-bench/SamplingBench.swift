import AlignMath
import Foundation

/// Deterministic logits shared with Benchmarks/peers_sample.py: Box-Muller normals with
/// standard deviation 2.5 from two Weyl sequences, `u1 = (((i+1) * 0x9E3779B97F4A7C15
/// mod 2^64) >> 11 + 0.5) / 2^53`, `u2` likewise with 0xD1B54A32D192ED03, logit =
/// `2.5 * sqrt(-2 ln u1) * cos(2 pi u2)` (Double, then Float), and a history of 64 ids
/// `(i * 2654435761) % V`.
func samplingBenchLogits(_ v: Int) -> (logits: [Float], history: [Int]) {
    let logits = (0..<v).map { i -> Float in
        let k = UInt64(i + 1)
        let u1 = (Double((k &* 0x9E37_79B9_7F4A_7C15) >> 11) + 0.5) * 0x1.0p-53
        let u2 = (Double((k &* 0xD1B5_4A32_D192_ED03) >> 11) + 0.5) * 0x1.0p-53
        return Float(2.5 * (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    }
    let history = (0..<64).map { ($0 * 2_654_435_761) % v }
    return (logits, history)
}

/// Benchmarks of the Sampling kernels; prints one JSON line per case (see Benchmarks/run.sh).
/// The chain: penalties{repetition=1.1, frequency=0.1, presence=0.1, last_n=64} (64
/// history tokens), top_k(40), top_p(0.95), min_p(0.05), temperature(0.8), sample; on the
/// row as f64 (the same values) and as f32.
func samplingBenchmarks() {
    for v in [32_000, 128_256] {
        let (logits, history) = samplingBenchLogits(v)
        samplingBenchChain("chain_f64_\(v)", logits.map(Double.init), history)
        samplingBenchChain("chain_f32_\(v)", logits, history)
    }
}

/// Times one token of the bench chain on `logits`: the fastest of many short runs (on a
/// shared machine a short run is more likely to go unpreempted than a long one).
func samplingBenchChain<T: SamplingScalar>(_ name: String, _ logits: [T], _ history: [Int]) {
    do {
        let chain = try SamplerChain([
            .penalties(repetition: 1.1, frequency: 0.1, presence: 0.1, lastN: 64),
            .topK(40), .topP(0.95), .minP(0.05), .temperature(0.8),
        ])
        let rng = RandomGenerator(seed: 0)
        let ctx = SamplingContext(history: history)
        var sink = 0
        try logits.withUnsafeBufferPointer { row in
            for _ in 0..<200 { sink &+= try chain.sample(row, rng: rng, context: ctx) }
            let iters = logits.count < 100_000 ? 100 : 40
            var best = Double.infinity
            for _ in 0..<400 {
                let t0 = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<iters { sink &+= try chain.sample(row, rng: rng, context: ctx) }
                let us = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1000 / Double(iters)
                best = min(best, us)
            }
            // "us" as the brief specifies; "ms" too, the key Benchmarks/run.sh reads.
            print("{\"area\":\"sample\",\"case\":\"\(name)\",\"us\":\(String(format: "%.2f", best)),\"ms\":\(String(format: "%.5f", best / 1000))}")
        }
        if sink == -1 { print(sink) }
    } catch {
        print("{\"area\":\"sample\",\"case\":\"\(name)\",\"error\":\"\(error)\"}")
    }
}
