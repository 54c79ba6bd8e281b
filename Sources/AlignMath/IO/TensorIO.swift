/// `tensor.load` / `tensor.save`: one entry point that picks the reader by extension.
public enum TensorIO {
    /// What a file holds: one array (`.npy`) or named arrays (`.npz`, `.safetensors`).
    public enum Contents {
        /// A `.npy` file's array.
        case single(Tensor)
        /// The arrays of an `.npz` or `.safetensors` file, by name.
        case named([String: Tensor])
    }

    /// Reads `path` by its extension (`.npy`, `.npz`, `.safetensors`, case-insensitive).
    public static func load(path: String) throws -> Contents {
        let lower = path.lowercased()
        if lower.hasSuffix(".npy") { return .single(try Npy.read(path: path)) }
        if lower.hasSuffix(".npz") { return .named(try Npz.read(path: path)) }
        if lower.hasSuffix(".safetensors") { return .named(try Safetensors.read(path: path)) }
        throw AlignMathError.invalidArgument("\(path): unknown file type (expected .npy, .npz or .safetensors)")
    }

    /// Writes `t` to `path` as `.npy` (one tensor; the extension must be `.npy`).
    public static func save(_ t: Tensor, path: String) throws {
        guard path.lowercased().hasSuffix(".npy") else {
            throw AlignMathError.invalidArgument("\(path): one tensor is saved as .npy (give a path ending in .npy, or a table of named tensors for .npz/.safetensors)")
        }
        try Npy.write(t, path: path)
    }

    /// Writes named tensors to `path` as `.safetensors` or `.npz` by its extension (`.npz`
    /// deflated with `compress`, as `np.savez_compressed`).
    public static func save(_ tensors: [String: Tensor], path: String, compress: Bool = false) throws {
        let lower = path.lowercased()
        if lower.hasSuffix(".npz") { return try Npz.write(tensors, path: path, compress: compress) }
        if lower.hasSuffix(".safetensors") {
            if compress { throw AlignMathError.invalidArgument("\(path): .safetensors files are not compressed (compress is for .npz)") }
            return try Safetensors.write(tensors, path: path)
        }
        throw AlignMathError.invalidArgument("\(path): named tensors are saved as .npz or .safetensors (give a path ending in one of those)")
    }
}
