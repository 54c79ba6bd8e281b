import Foundation

/// Hugging Face `.safetensors` files (an 8-byte little-endian header length, a JSON
/// header naming each tensor's dtype, shape and byte range, then the data): how model
/// weights and logits are shipped. The file is memory-mapped; large f32/f64 tensors are
/// views of the mapping, others are widened copies (F16/BF16 to f32, integers to f64).
public enum Safetensors {
    /// Reads every tensor of the file at `path`, by name (`__metadata__` is skipped).
    public static func read(path: String) throws -> [String: Tensor] {
        let f = try MappedFile(path: path)
        func bad(_ m: String) -> AlignMathError { .invalidArgument("\(path): not a valid .safetensors file: \(m)") }
        guard f.size >= 8 else { throw bad("only \(f.size) bytes") }
        let n = try f.uint(0, 8, "header length")
        guard n <= UInt64(f.size - 8), n <= 100_000_000 else { throw bad("header length \(n) exceeds the file") }
        let headerBytes = Data(bytes: f.bytes(at: 8), count: Int(n))
        guard let header = (try? JSONSerialization.jsonObject(with: headerBytes)) as? [String: Any] else {
            throw bad("the header is not a JSON object")
        }
        let dataStart = 8 + Int(n)
        var out: [String: Tensor] = [:]
        for (name, value) in header where name != "__metadata__" {
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                  let shape = (entry["shape"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }),
                  let offsets = (entry["data_offsets"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }),
                  offsets.count == 2, shape.count == (entry["shape"] as? [Any])?.count else {
                throw bad("tensor '\(name)' lacks dtype, shape or data_offsets")
            }
            let type = try storedType(dtype, name: name, bad)
            let count = try Tensor.checkedCount(shape)
            // offsets come from the file: inside its data before they are added to dataStart
            guard offsets[0] >= 0, offsets[1] >= offsets[0], offsets[1] <= f.size - dataStart,
                  offsets[1] - offsets[0] == count * type.size else {
                throw bad("tensor '\(name)' (\(dtype) \(shape)) has data_offsets \(offsets), which do not hold \(count * type.size) bytes within the \(f.size - dataStart) bytes of data")
            }
            out[name] = try type.tensor(from: f, offset: dataStart + offsets[0], shape: shape, what: "tensor '\(name)'")
        }
        return out
    }

    static func storedType(_ s: String, name: String, _ bad: (String) -> AlignMathError) throws -> StoredType {
        switch s {
        case "F64": return StoredType(kind: .float, size: 8, bigEndian: false)
        case "F32": return StoredType(kind: .float, size: 4, bigEndian: false)
        case "F16": return StoredType(kind: .float, size: 2, bigEndian: false)
        case "BF16": return StoredType(kind: .bfloat, size: 2, bigEndian: false)
        case "I64": return StoredType(kind: .int, size: 8, bigEndian: false)
        case "I32": return StoredType(kind: .int, size: 4, bigEndian: false)
        case "I16": return StoredType(kind: .int, size: 2, bigEndian: false)
        case "I8": return StoredType(kind: .int, size: 1, bigEndian: false)
        case "U8": return StoredType(kind: .uint, size: 1, bigEndian: false)
        // as .npy's unsigned integers: i64 (U64 above 2^63 wraps, as numpy's astype(np.int64))
        case "U16": return StoredType(kind: .uint, size: 2, bigEndian: false)
        case "U32": return StoredType(kind: .uint, size: 4, bigEndian: false)
        case "U64": return StoredType(kind: .uint, size: 8, bigEndian: false)
        case "BOOL": return StoredType(kind: .bool, size: 1, bigEndian: false)
        default: throw bad("tensor '\(name)' has unsupported dtype \(s) (supported: F64, F32, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8, BOOL)")
        }
    }
}
