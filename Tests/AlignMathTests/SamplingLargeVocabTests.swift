import XCTest
@testable import AlignMath

/// Long candidate lists (no top-k first): the integer-key sort, the lazy gather with
/// patched ids and top-p's 256-candidate shortcut, against a naive transcription of
/// HF's `TopPLogitsWarper`.
final class SamplingLargeVocabTests: XCTestCase {
    func row(_ v: Int, seed: UInt64, scale: Double, levels: Double = 0) -> [Float] {
        let g = RandomGenerator(seed: seed)
        return (0..<v).map { i in
            let z = scale * g.normal() + (i % 97 == 0 ? 6 : 0)
            return Float(levels > 0 ? (z * levels).rounded() / levels : z)
        }
    }

    /// HF: ascending sort (torch 2.15's CPU order of the whole row, ties included: the
    /// replica SamplingTorchTieTests checks against torch), cumsum <= 1 - p removed, last
    /// min_keep kept.
    func naiveTopP(_ s: [Float], _ p: Double, minKeep: Int, llama: Bool) -> [Int] {
        let finite = s.indices.filter { s[$0] > -.infinity }
        let mx = finite.map { Double(s[$0]) }.max() ?? 0
        let z = finite.reduce(0.0) { $0 + exp(Double(s[$1]) - mx) }
        func prob(_ i: Int) -> Double { exp(Double(s[i]) - mx) / z }
        if llama {
            let order = finite.sorted { s[$0] > s[$1] || (s[$0] == s[$1] && $0 < $1) }
            var cum = 0.0
            for (j, i) in order.enumerated() {
                cum += prob(i)
                if cum >= p && j + 1 >= minKeep { return order.prefix(j + 1).sorted() }
            }
            return order.sorted()
        }
        let order = SamplerWorkspace<Double>.torchSortOrder(s.map { Double($0) }, descending: false) ?? []
        let asc = order.map { Int($0) }.filter { s[$0] > -.infinity }
        var cum = 0.0
        var keep: [Int] = []
        for (j, i) in asc.enumerated() {
            cum += prob(i)
            if !(cum <= 1 - p) || j >= asc.count - minKeep { keep.append(i) }
        }
        return keep.sorted()
    }

    func testTopPOnLongLists() throws {
        let cases: [(UInt64, Double, Double)] = [(1, 4, 0), (2, 0.5, 0), (3, 3, 1), (4, 6, 0.25)]
        for (seed, scale, levels) in cases {
            let logits = row(3000, seed: seed, scale: scale, levels: levels)
            let hist = [5, 5, 97, 300, 2999, 1234]
            let ctx = SamplingContext(history: hist)
            let pre: [SamplerStage] = [try .penalties(repetition: 1.4, frequency: 0.3, presence: 0.2, lastN: -1),
                                       try .logitBias([7: -.infinity, 11: 3])]
            let patched = try SamplerChain(pre).apply(logits, context: ctx)
            XCTAssertEqual(patched[7], -.infinity)
            for p in [0.5, 0.9, 0.99] {
                // (llama.cpp's top-p is checked against llama.cpp itself: SamplingLlamaCppTests.)
                for (mk, llama) in [(1, false), (3, false), (300, false)] {
                    let chain = try SamplerChain(pre + [.topP(p, minKeep: mk, semantics: llama ? .llamaCpp : .transformers)])
                    let out = try chain.apply(logits, context: ctx)
                    let got = out.indices.filter { out[$0] > -.infinity }
                    XCTAssertEqual(got, naiveTopP(patched, p, minKeep: mk, llama: llama),
                                   "seed \(seed) p \(p) min_keep \(mk) llama \(llama)")
                    for i in got { XCTAssertEqual(out[i], patched[i]) }
                }
            }
        }
    }

    func testLongListSortAndProbs() throws {
        let logits = row(2000, seed: 9, scale: 1, levels: 2)
        // min_p with a large min_keep sorts the whole list canonically; the 500 restored are
        // torch.topk's (std::nth_element's pick among the tied ones at the 500th).
        let out = try SamplerChain([.minP(0.99, minKeep: 500)]).apply(logits)
        let kept = out.indices.filter { out[$0] > -.infinity }
        let top = try XCTUnwrap(SamplerWorkspace<Double>.torchTopK(logits.map { Double($0) }, 500))
        let thr = logits.max().map { Double($0) + log(0.99) } ?? 0
        let want = Set(top.map { Int($0) }).union(logits.indices.filter { Double(logits[$0]) >= thr })
        XCTAssertEqual(Set(kept), want)
        let p = try SamplerChain([]).probs(logits)
        XCTAssertEqual(p.reduce(0.0) { $0 + Double($1) }, 1, accuracy: 1e-5)
    }
}
