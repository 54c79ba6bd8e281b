import LuaKit
import AlignMath

/// tensor.load and tensor.save.
enum TensorFiles {
    static func install(_ m: ModuleBuilder) {
        m.function("load", doc: """
            tensor.load(path) -> tensor | {name = tensor, ...}
            Reads .npy as one tensor (f32, f64 and i64 kept; f16 and bf16 widened to f32; other
            integers as i64; booleans as bool); .safetensors and .npz give a table from name to
            tensor. Large files are memory-mapped, not copied (writing to the tensor never changes the
            file), and views of them (t[{{1, 1000}, {}}]) cost no copy.
            Example: logits = tensor.load("logits.npy")
            """) { a in
            let path = try a.path(1)
            switch try a.tensorMath({ try TensorIO.load(path: path) }) {
            case .single(let t):
                a.state.push(tensor: t)
            case .named(let named):
                a.state.newTable(recordCount: named.count)
                for (name, t) in named.sorted(by: { $0.key < $1.key }) {
                    a.state.push(tensor: t)
                    a.state.setField(name)
                }
            }
            return 1
        }
        m.function("save", doc: """
            tensor.save(path, t | {name = t, ...}, {compress = false})
            Writes one tensor (or Lua array) as .npy, or a table of named tensors as .safetensors or
            .npz (by the path's extension), little-endian in each tensor's dtype, replacing the file
            atomically. compress = true deflates an .npz (as numpy.savez_compressed).
            Example: tensor.save("out.safetensors", {logits = t, ids = ids})
            """) { a in
            let path = try a.path(1)
            let o = try a.options(3, allowed: ["compress"])
            let compress = try o.boolean("compress", default: false)
            // An empty table is an empty array for .npy (np.save(p, [])) and no entries for
            // .npz/.safetensors (np.savez(p) and safetensors' save_file({}) write such files).
            let lower = path.lowercased()
            let namedPath = lower.hasSuffix(".npz") || lower.hasSuffix(".safetensors")
            if a.tensorIfAny(2) == nil, a.type(2) == .table,
               !isArray(a.state, 2) || (namedPath && isEmpty(a.state, 2)) {
                var named: [String: Tensor] = [:]
                let s = a.state
                var problem: String? = nil
                s.forEachPair(of: 2) {
                    guard s.type(at: -2) == .string, let k = s.string(at: -2) else { problem = "names must be strings"; return false }
                    if let t = s.object(at: -1, Tensor.self) { named[k] = t; return true }
                    problem = "entry '\(k)' is a \(s.typeName(at: -1)), not a tensor"
                    return false
                }
                if let p = problem { throw a.error(2, p) }
                try a.tensorMath { try TensorIO.save(named, path: path, compress: compress) }
                return 0
            }
            let t = try a.tensor(2)
            if compress { throw a.error(3, "compress is for .npz files of named tensors") }
            try a.tensorMath { try TensorIO.save(t, path: path) }
            return 0
        }
    }

    /// True when the table at `i` is a Lua array (its first entry is set), not a record.
    private static func isArray(_ s: LuaState, _ i: Int32) -> Bool {
        defer { s.pop() }
        return s.rawGet(1, of: i) != .nil || s.rawLength(at: i) > 0 || isEmpty(s, i)
    }

    private static func isEmpty(_ s: LuaState, _ i: Int32) -> Bool {
        var any = false
        s.forEachPair(of: i) { any = true; return false }
        return !any
    }
}
