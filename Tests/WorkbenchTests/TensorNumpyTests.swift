import XCTest
import Foundation
import AlignMath
import LuaKit
import Workbench
import TestSupport

/// numpy's answers for the tensor operations a researcher writes in Lua: indexing (views,
/// writes, masks, index, gather), broadcasting, type promotion with weak scalars,
/// reductions over any axis, ordering with ties and NaN, shapes, matmul and files. The
/// cases and numpy's outputs are in Tests/AlignMathTests/Fixtures/tensor_ops.json, written
/// by generate_tensor_ops.py there (numpy 2.4.6; run by hand).
final class TensorNumpyTests: XCTestCase {
    static let fixtures = repositoryRoot + "/Tests/AlignMathTests/Fixtures"

    func testAgainstNumpy() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: TensorNumpyTests.fixtures + "/tensor_ops.json"))
        let root = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let cases = try XCTUnwrap(root["cases"] as? [[String: Any]])
        XCTAssertGreaterThan(cases.count, 1000)
        let tmp = NSTemporaryDirectory() + "moonlab-numpy-\(getpid())"
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let h = try LuaHarness()
        try h.run("pack = table.pack; FIXTURES = '\(TensorNumpyTests.fixtures)'; TMP = '\(tmp)'")
        var failures: [String] = []
        var checked = 0
        for c in cases {
            let name = c["name"] as? String ?? "?"
            do {
                if let problem = try run(c, h, tmp: tmp) { failures.append("\(name): \(problem)") } else { checked += 1 }
            } catch {
                failures.append("\(name): \(error)")
            }
        }
        XCTAssertEqual(checked, cases.count)
        if !failures.isEmpty {
            XCTFail("\(failures.count) of \(cases.count) cases differ from numpy:\n" + failures.prefix(40).joined(separator: "\n"))
        }
    }

    /// Runs one case; nil when moonlab agrees with numpy, else what differs.
    private func run(_ c: [String: Any], _ h: LuaHarness, tmp: String) throws -> String? {
        let lua = h.workbench.lua
        for (k, v) in (c["inputs"] as? [String: [String: Any]]) ?? [:] {
            lua.push(tensor: try tensor(v))
            lua.setGlobal(k)
        }
        if let setup = c["setup"] as? String {
            if let e = h.error(setup) { return "setup failed: \(e)" }
        }
        let expr = c["lua"] as? String ?? ""
        if c["error"] as? Bool == true {
            return h.error("return \(expr)") == nil ? "moonlab gave no error; numpy raises" : nil
        }
        if let e = h.error("__r = pack(\(expr))") { return "error: \(e)" }
        let expected = c["expect"] as? [[String: Any]] ?? []
        guard lua.getGlobal("__r") == .table else { lua.pop(); return "no result" }
        defer { lua.pop() }
        for (i, e) in expected.enumerated() {
            _ = lua.rawGet(i + 1, of: -1)
            defer { lua.pop() }
            if let problem = compare(lua, e) { return "result \(i + 1): \(problem)" }
        }
        if let file = c["npy_file"] as? String {
            try h.run("tensor.save(TMP .. '/same.npy', a)")
            let mine = try Data(contentsOf: URL(fileURLWithPath: tmp + "/same.npy"))
            let theirs = try Data(contentsOf: URL(fileURLWithPath: TensorNumpyTests.fixtures + "/" + file))
            if mine != theirs { return "tensor.save wrote \(mine.count) bytes that differ from np.save's \(theirs.count)" }
        }
        return nil
    }

    /// The value on top of the stack against an expectation.
    private func compare(_ lua: LuaState, _ e: [String: Any]) -> String? {
        if let want = e["value"] {
            let kind = e["kind"] as? String ?? "number"
            if let t = lua.object(at: -1, Tensor.self) {
                guard t.count == 1 else { return "a tensor of shape \(t.shape), numpy gives a \(kind)" }
                return same(t[flat: 0], number(want), dtype(e["dtype"]) ?? .f64) ? nil : "\(t[flat: 0]) vs numpy's \(want)"
            }
            switch kind {
            case "boolean":
                guard lua.type(at: -1) == .boolean else { return "\(lua.describe(at: -1)) where numpy gives a boolean \(want)" }
                return lua.boolean(at: -1) == (want as? Bool) ? nil : "\(lua.boolean(at: -1)) vs numpy's \(want)"
            case "integer":
                guard lua.isInteger(at: -1) else { return "\(lua.describe(at: -1)) where numpy gives the integer \(want)" }
                return Double(lua.integer(at: -1) ?? 0) == number(want) ? nil : "\(lua.describe(at: -1)) vs numpy's \(want)"
            default:
                guard lua.type(at: -1) == .number, let g = lua.number(at: -1) else { return "\(lua.describe(at: -1)) where numpy gives \(want)" }
                return same(g, number(want), dtype(e["dtype"]) ?? .f64) ? nil : "\(g) vs numpy's \(want)"
            }
        }
        guard let t = lua.object(at: -1, Tensor.self) else { return "\(lua.describe(at: -1)) where numpy gives an array" }
        let wantShape = e["shape"] as? [Int] ?? []
        let wantType = dtype(e["dtype"])
        if t.dtype != wantType { return "dtype \(t.dtype), numpy's \(e["dtype"] ?? "?")" }
        if t.shape != wantShape { return "shape \(t.shape), numpy's \(wantShape)" }
        let values = (e["values"] as? [Any]) ?? []
        if t.dtype == .i64 {
            let got = t.toInt64s()
            for (k, w) in values.enumerated() where got[k] != (w as? NSNumber)?.int64Value {
                return "element \(k + 1): \(got[k]) vs numpy's \(w)"
            }
            return nil
        }
        let got = t.toDoubles()
        for (k, w) in values.enumerated() where !same(got[k], number(w), t.dtype) {
            return "element \(k + 1): \(got[k]) vs numpy's \(w) (\(t.dtype))"
        }
        return nil
    }

    private func dtype(_ v: Any?) -> DType? { (v as? String).flatMap(DType.init(rawValue:)) }

    private func number(_ v: Any) -> Double {
        if let s = v as? String { return s == "nan" ? .nan : (s == "inf" ? .infinity : -.infinity) }
        return (v as? NSNumber)?.doubleValue ?? .nan
    }

    /// Equal up to the dtype's rounding (f32 sums are accumulated differently from numpy's
    /// pairwise float32 ones).
    private func same(_ g: Double, _ w: Double, _ d: DType) -> Bool {
        if g.isNaN || w.isNaN { return g.isNaN && w.isNaN }
        if g.isInfinite || w.isInfinite { return g == w }
        let (rtol, atol) = d == .f32 ? (2e-5, 1e-6) : (d == .f64 ? (1e-9, 1e-12) : (0.0, 0.0))
        return Swift.abs(g - w) <= atol + rtol * Swift.abs(w)
    }

    /// An input array of the fixture as a tensor.
    private func tensor(_ v: [String: Any]) throws -> Tensor {
        let shape = v["shape"] as? [Int] ?? []
        let values = v["values"] as? [Any] ?? []
        switch dtype(v["dtype"]) ?? .f64 {
        case .i64: return try Tensor(elements: values.map { ($0 as? NSNumber)?.int64Value ?? 0 }, shape: shape)
        case .bool: return try Tensor(elements: values.map { ($0 as? Bool) ?? false }, shape: shape)
        case .f32: return try Tensor(floats: values.map { Float(number($0)) }, shape: shape)
        case .f64: return try Tensor(values.map { number($0) }, shape: shape)
        }
    }
}
