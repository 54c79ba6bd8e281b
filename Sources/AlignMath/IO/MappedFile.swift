#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole file mapped copy-on-write, as one `TensorStorage`: the readers build tensors
/// that either view it (large f32/f64 little-endian data: no copy, no read) or copy out of
/// it (small, converted or misaligned data), and it is unmapped when the last view goes.
struct MappedFile {
    /// The mapping (base = first byte of the file).
    let storage: TensorStorage
    /// File size in bytes.
    let size: Int
    /// The path, for error messages.
    let path: String

    /// Tensors at least this large (bytes) are views of the mapping; smaller ones are copied
    /// so that a small tensor does not keep a large file mapped.
    static let viewThreshold = 1 << 20

    /// Bytes already in memory (an inflated zip entry), read as if they were a file.
    init(storage: TensorStorage, path: String) {
        self.storage = storage
        self.size = storage.byteCount
        self.path = path
    }

    init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw AlignMathError.invalidArgument("\(path): cannot open (\(String(cString: strerror(errno))))")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw AlignMathError.invalidArgument("\(path): cannot stat (\(String(cString: strerror(errno))))")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw AlignMathError.invalidArgument("\(path): not a regular file") }
        size = Int(st.st_size)
        if size == 0 {
            storage = TensorStorage(zeroedBytes: 0)
            return
        }
        let p = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0)
        guard let base = p, base != MAP_FAILED else {
            throw AlignMathError.invalidArgument("\(path): cannot map \(size) bytes (\(String(cString: strerror(errno))))")
        }
        storage = TensorStorage(mapping: base, length: size, offset: 0)
    }

    /// Pointer to byte `offset` of the file.
    func bytes(at offset: Int) -> UnsafeMutableRawPointer { storage.base + offset }

    /// Throws unless `count` bytes at `offset` lie inside the file. (The message adds nothing
    /// up: offset and count may be any Int a damaged file gives.)
    func check(_ offset: Int, _ count: Int, _ what: String) throws {
        guard offset >= 0, count >= 0, offset <= size, count <= size - offset else {
            throw AlignMathError.invalidArgument("\(path): \(what) runs past the end of the file (needs \(count) bytes at byte \(offset), file has \(size))")
        }
    }

    /// A size, count or offset the file stores as a little-endian unsigned integer of `n`
    /// bytes at `offset`, refused when above `limit` (for an offset or a size inside the file,
    /// the file's size). So it converts to Int and sums of such values cannot overflow:
    /// `Int(_:)` of an 8-byte field of 2^64 - 16 trapped (issue 10).
    func int(_ offset: Int, _ n: Int, _ what: String, atMost limit: Int) throws -> Int {
        let v = try uint(offset, n, what)
        guard v <= UInt64(Swift.max(0, limit)) else {
            throw AlignMathError.invalidArgument("\(path): \(what) is \(v), more than the \(limit) allowed in this \(size)-byte file")
        }
        return Int(v)
    }

    /// Little-endian unsigned integer of `n` bytes at `offset` (bounds checked).
    func uint(_ offset: Int, _ n: Int, _ what: String) throws -> UInt64 {
        try check(offset, n, what)
        var v: UInt64 = 0
        let p = bytes(at: offset).assumingMemoryBound(to: UInt8.self)
        for i in 0..<n { v |= UInt64(p[i]) << (8 * i) }
        return v
    }
}
