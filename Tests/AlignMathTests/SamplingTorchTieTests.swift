import XCTest
@testable import AlignMath

/// Tied tokens at a cut, against transformers 5.25 on torch 2.15 on the CPU
/// (`Fixtures/torch_ties.json`, from `generate_torch_ties.py`): top_p, typical and min_p
/// on float32 and float64 rows of q / 4 logits (many ties), from (1, V) and (2, V)
/// batches. The kept ids must be transformers' exactly; nearly every case is one where a
/// stable (lowest id first) order keeps other ids, which moonlab did before it sorted
/// the tied tokens as torch's CPU sort does (alignmath_torchsort.h).
final class SamplingTorchTieTests: XCTestCase {
    func testTiesAtTheCutKeepWhatTransformersKeepsOnTheCPU() throws {
        let root = try XCTUnwrap(try Fixture.load("torch_ties.json") as? [String: Any])
        XCTAssertEqual(root["torch"] as? String, "2.15.0+cu132")
        XCTAssertEqual(root["transformers"] as? String, "5.25.0")
        let cases = try XCTUnwrap(root["cases"] as? [[String: Any]])
        XCTAssertGreaterThan(cases.count, 100)
        var seen = Set<String>()
        for c in cases {
            let name = c["name"] as? String ?? "?"
            let kind = c["kind"] as? String ?? ""
            let p = (c["p"] as? NSNumber)?.doubleValue ?? .nan
            let mk = c["min_keep"] as? Int ?? 1
            let bytes = try XCTUnwrap(Data(base64Encoded: c["q"] as? String ?? ""), name)
            let q = bytes.map { Double(Int8(bitPattern: $0)) / 4 }
            let stage: SamplerStage
            switch kind {
            case "top_p": stage = try .topP(p, minKeep: mk)
            case "typical": stage = try .typical(p, minKeep: mk)
            default: stage = try .minP(p, minKeep: mk)
            }
            let chain = try SamplerChain([stage])
            let want = c["ids"] as? [Int] ?? []
            let wantP = (c["probs"] as? [NSNumber] ?? []).map(\.doubleValue)
            if c["dtype"] as? String == "f32" {
                let row = q.map { Float($0) }
                let out = try chain.apply(row)
                let kept = out.indices.filter { out[$0] > -.infinity }
                XCTAssertEqual(kept, want, "\(name): kept ids")
                guard kept == want else { continue }
                let pr = try chain.probs(row)
                for (id, w) in zip(kept, wantP) { XCTAssertEqual(Double(pr[id]), w, accuracy: 2e-6 * max(w, 1e-3), "\(name): p[\(id)]") }
            } else {
                let out = try chain.apply(q)
                let kept = out.indices.filter { out[$0] > -.infinity }
                XCTAssertEqual(kept, want, "\(name): kept ids")
                guard kept == want else { continue }
                let pr = try chain.probs(q)
                for (id, w) in zip(kept, wantP) { XCTAssertEqual(pr[id], w, accuracy: 1e-12 * max(w, 1e-3), "\(name): p[\(id)]") }
            }
            if c["stable_differs"] as? Bool == true { seen.insert("\(kind)/\(c["dtype"] ?? "")/\(c["shape"] ?? "")") }
        }
        // every stage, dtype and batch shape has cases a stable order gets wrong
        XCTAssertEqual(seen.count, 12, "\(seen.sorted())")
    }

    /// The replica of torch's CPU sort: equal keys in libstdc++ std::sort's order, not by
    /// index (the 17 equal keys leave insertion-sort range; recorded from torch 2.15,
    /// `torch.sort(torch.zeros(17))[1]` and descending).
    func testTorchSortOrderOfEqualKeys() throws {
        let row = [Double](repeating: 0, count: 17)
        let torchOrder: [Int64] = [8, 16, 15, 14, 13, 12, 11, 10, 9, 0, 7, 6, 5, 4, 3, 2, 1]
        XCTAssertEqual(SamplerWorkspace<Double>.torchSortOrder(row, descending: false), torchOrder)
        XCTAssertEqual(SamplerWorkspace<Double>.torchSortOrder(row, descending: true), torchOrder)
    }
}
