import Foundation

/// NumPy `.npy` files: the format researchers dump logits and rewards in.
/// Reads f32/f64/i64 as they are (memory-mapped when large), f16 and bf16 (ml_dtypes' `<V2`) widened to f32,
/// other integers as i64 and booleans as bool, either byte order, C or Fortran order (the
/// latter as a strided view); writes every dtype little-endian, C order, v1.0.
public enum Npy {
    /// Reads the `.npy` file at `path`.
    public static func read(path: String) throws -> Tensor {
        let f = try MappedFile(path: path)
        return try parse(f, at: 0, length: f.size, what: path)
    }

    /// Parses an array whose `.npy` bytes are `length` bytes at `start` of `file`
    /// (`what` names it in errors: the file, or `file.npz:entry`).
    static func parse(_ file: MappedFile, at start: Int, length: Int, what: String) throws -> Tensor {
        func bad(_ m: String) -> AlignMathError { .invalidArgument("\(what): not a valid .npy file: \(m)") }
        guard length >= 10 else { throw bad("only \(length) bytes") }
        let p = file.bytes(at: start).assumingMemoryBound(to: UInt8.self)
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // \x93NUMPY
        guard (0..<6).allSatisfy({ p[$0] == magic[$0] }) else { throw bad("missing the \\x93NUMPY magic") }
        let major = p[6]
        let headerLen: Int, headerStart: Int
        switch major {
        case 1: headerLen = Int(p[8]) | Int(p[9]) << 8; headerStart = 10
        case 2, 3:
            guard length >= 12 else { throw bad("truncated header") }
            headerLen = Int(try file.uint(start + 8, 4, "header length")); headerStart = 12
        default: throw bad("unsupported format version \(major).\(p[7])")
        }
        guard headerStart + headerLen <= length else { throw bad("header of \(headerLen) bytes runs past the end") }
        let header = String(decoding: UnsafeBufferPointer(start: p + headerStart, count: headerLen), as: UTF8.self)
        let (type, fortran, shape) = try parseHeader(header, bad)
        let dataStart = start + headerStart + headerLen
        let n = try Tensor.checkedCount(shape)
        guard n * type.size <= length - headerStart - headerLen else {
            throw bad("shape \(shape) needs \(n * type.size) bytes of data, the file has \(length - headerStart - headerLen)")
        }
        guard fortran && shape.count > 1 else {
            return try type.tensor(from: file, offset: dataStart, shape: shape, what: what)
        }
        // Fortran order (numpy saves `a.T` of a C array so): the bytes are the C-order array
        // of the reversed shape, so its reversed axes are the array, a strided view as numpy's.
        let stored = try type.tensor(from: file, offset: dataStart, shape: shape.reversed(), what: what)
        return try stored.permute(Array((0..<shape.count).reversed()))
    }

    /// The dict literal of the header: descr, fortran_order, shape.
    static func parseHeader(_ h: String, _ bad: (String) -> AlignMathError) throws -> (StoredType, Bool, [Int]) {
        func after(_ key: String) throws -> Substring {
            guard let r = h.range(of: "'\(key)'") ?? h.range(of: "\"\(key)\""),
                  let colon = h[r.upperBound...].firstIndex(of: ":") else { throw bad("header has no '\(key)': \(h)") }
            return h[h.index(after: colon)...].drop { $0 == " " }
        }
        let d = try after("descr")
        guard let q = d.first, q == "'" || q == "\"", let end = d.dropFirst().firstIndex(of: q) else {
            throw bad("descr is not a simple type string (structured arrays are not supported): \(h)")
        }
        let descr = String(d[d.index(after: d.startIndex)..<end])
        let type = try storedType(descr: descr, bad)
        let fortran = try after("fortran_order").hasPrefix("True")
        let s = try after("shape")
        guard s.first == "(", let close = s.firstIndex(of: ")") else { throw bad("cannot read shape: \(h)") }
        let dims = s[s.index(after: s.startIndex)..<close].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let shape = try dims.map { (x: String) -> Int in
            guard let v = Int(x.hasSuffix("L") ? String(x.dropLast()) : x), v >= 0 else { throw bad("bad dimension '\(x)' in shape") }
            return v
        }
        return (type, fortran, shape)
    }

    /// A numpy descr such as `<f4`, `>i8`, `|b1`, `<f2`, or `bfloat16`. A 2-byte void (`<V2`,
    /// `|V2`) is bf16: np.save of an ml_dtypes bfloat16 array (what JAX and ml_dtypes users
    /// save; ml_dtypes 0.7.0, numpy 2.4.6) writes `'<V2'`, the dtype's name lost.
    static func storedType(descr: String, _ bad: (String) -> AlignMathError) throws -> StoredType {
        if ["bfloat16", "<bf16", "<V2", "|V2"].contains(descr) { return StoredType(kind: .bfloat, size: 2, bigEndian: false) }
        guard descr.count >= 3, let order = descr.first, let size = Int(descr.dropFirst(2)) else {
            throw bad("unsupported dtype '\(descr)'")
        }
        let code = descr[descr.index(after: descr.startIndex)]
        let big = order == ">" || (order == "!")
        let kind: StoredType.Kind
        switch (code, size) {
        case ("f", 2), ("f", 4), ("f", 8): kind = .float
        case ("i", 1), ("i", 2), ("i", 4), ("i", 8): kind = .int
        case ("u", 1), ("u", 2), ("u", 4), ("u", 8): kind = .uint
        case ("b", 1): kind = .bool
        default:
            throw bad("unsupported dtype '\(descr)' (supported: float16/32/64, bfloat16, integers, bool)")
        }
        return StoredType(kind: kind, size: size, bigEndian: big && size > 1)
    }

    /// The `.npy` header of `t` (format 1.0, C order, its dtype: `<f4`, `<f8`, `<i8`, `|b1`),
    /// padded so the data starts on a 64-byte boundary, as numpy writes it.
    static func header(_ t: Tensor) -> [UInt8] {
        let shape = t.shape.isEmpty ? "()" : (t.shape.count == 1 ? "(\(t.shape[0]),)" : "(" + t.shape.map(String.init).joined(separator: ", ") + ")")
        var header = "{'descr': '\(t.dtype.npyDescr)', 'fortran_order': False, 'shape': \(shape), }"
        let total = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - total % 64) % 64) + "\n"
        var out: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0]
        let hl = header.utf8.count
        out += [UInt8(hl & 0xff), UInt8(hl >> 8)]
        out += Array(header.utf8)
        return out
    }

    /// The `.npy` bytes of `t` (header and data in one array; `write` avoids the copy).
    public static func encode(_ t: Tensor) -> [UInt8] {
        let dense = t.contiguous()
        var out = header(dense)
        out += UnsafeRawBufferPointer(start: dense.storage.base + dense.offset * dense.dtype.size,
                                      count: dense.count * dense.dtype.size)
        return out
    }

    /// Writes `t` to `path` as `.npy` (atomically: a temporary file renamed into place).
    /// The data goes from the tensor's memory to the file with no intermediate copy.
    public static func write(_ t: Tensor, path: String) throws {
        try AtomicFile.write(path: path) { f in try append(t, to: f) }
    }

    /// Appends the `.npy` bytes of `t` to `f`.
    static func append(_ t: Tensor, to f: AtomicFile) throws {
        let dense = t.contiguous()
        try withExtendedLifetime(dense) {
            try f.write(header(dense), then: dense.storage.base + dense.offset * dense.dtype.size, dense.count * dense.dtype.size)
        }
    }

    /// Bytes `t` takes as a `.npy` file.
    static func fileSize(_ t: Tensor) -> Int { header(t).count + t.count * t.dtype.size }
}
