/// NumPy `.npz` archives (a zip of `.npy` files, from `np.savez` or
/// `np.savez_compressed`): stored entries are parsed in place in the memory-mapped file,
/// deflated ones are inflated by zlib. ZIP64 sizes are understood. `write` makes archives
/// numpy's `np.load` reads: entries stored (`np.savez`) or deflated (`np.savez_compressed`).
public enum Npz {
    /// Reads every array of the archive at `path`, by name (without the `.npy` suffix,
    /// as `np.load(path)[name]`).
    public static func read(path: String) throws -> [String: Tensor] {
        let f = try MappedFile(path: path)
        func bad(_ m: String) -> AlignMathError { .invalidArgument("\(path): not a valid .npz (zip) file: \(m)") }
        // End of central directory: the last "PK\5\6" within 64 KiB + 22 bytes of the end.
        guard f.size >= 22 else { throw bad("only \(f.size) bytes") }
        var eocd = -1
        var i = f.size - 22
        let lowest = Swift.max(0, f.size - 22 - 65_535)
        while i >= lowest {
            if try f.uint(i, 4, "end record") == 0x0605_4b50 { eocd = i; break }
            i -= 1
        }
        guard eocd >= 0 else { throw bad("no end-of-central-directory record") }
        var entries = Int(try f.uint(eocd + 10, 2, "entry count"))
        var cdOffset = Int(try f.uint(eocd + 16, 4, "central directory offset"))
        // ZIP64 end of central directory (locator just before the classic record).
        if (entries == 0xffff || cdOffset == 0xffff_ffff), eocd >= 20, try f.uint(eocd - 20, 4, "zip64 locator") == 0x0706_4b50 {
            let z = try f.int(eocd - 12, 8, "zip64 end record offset", atMost: f.size)
            guard try f.uint(z, 4, "zip64 end record") == 0x0606_4b50 else { throw bad("bad zip64 end record") }
            entries = try f.int(z + 32, 8, "zip64 entry count", atMost: f.size / 46)  // 46 bytes per directory entry at least
            cdOffset = try f.int(z + 48, 8, "zip64 central directory offset", atMost: f.size)
        }
        var out: [String: Tensor] = [:]
        var p = cdOffset
        for _ in 0..<entries {
            guard try f.uint(p, 4, "central directory entry") == 0x0201_4b50 else { throw bad("bad central directory entry at byte \(p)") }
            let method = Int(try f.uint(p + 10, 2, "method"))
            var csize = Int(try f.uint(p + 20, 4, "compressed size"))
            var usize = Int(try f.uint(p + 24, 4, "size"))
            let nameLen = Int(try f.uint(p + 28, 2, "name length"))
            let extraLen = Int(try f.uint(p + 30, 2, "extra length"))
            let commentLen = Int(try f.uint(p + 32, 2, "comment length"))
            var local = Int(try f.uint(p + 42, 4, "local header offset"))
            try f.check(p + 46, nameLen + extraLen, "entry name")
            let name = String(decoding: UnsafeRawBufferPointer(start: f.bytes(at: p + 46), count: nameLen), as: UTF8.self)
            // ZIP64 extra field: the 0xffffffff fields, in order usize, csize, offset (8 bytes
            // each, checked before they become Ints: offsets and csize lie inside the file, so
            // the sums below cannot overflow; usize is checked against csize below).
            var e = p + 46 + nameLen
            let eEnd = e + extraLen
            while e + 4 <= eEnd {
                let id = Int(try f.uint(e, 2, "extra id")), len = Int(try f.uint(e + 2, 2, "extra length"))
                if id == 1 {
                    var q = e + 4
                    if usize == 0xffff_ffff { usize = try f.int(q, 8, "zip64 size", atMost: Int.max); q += 8 }
                    if csize == 0xffff_ffff { csize = try f.int(q, 8, "zip64 compressed size", atMost: f.size); q += 8 }
                    if local == 0xffff_ffff { local = try f.int(q, 8, "zip64 offset", atMost: f.size); q += 8 }
                }
                e += 4 + len
            }
            p = eEnd + commentLen
            guard try f.uint(local, 4, "local header") == 0x0403_4b50 else { throw bad("bad local header for '\(name)'") }
            let dataStart = local + 30 + Int(try f.uint(local + 26, 2, "name length")) + Int(try f.uint(local + 28, 2, "extra length"))
            try f.check(dataStart, csize, "entry '\(name)'")
            let key = name.hasSuffix(".npy") ? String(name.dropLast(4)) : name
            let what = "\(path):\(name)"
            switch method {
            case 0:
                out[key] = try Npy.parse(f, at: dataStart, length: csize, what: what)
            case 8:
                // usize comes from the file: deflate expands at most 1032:1 (zlib's limit), so a larger
                // claim is a lie, refused before it is allocated (libFuzzer found a 113-byte entry
                // claiming 4 GiB; Fuzz/corpus/npz/size-lie.npz)
                guard usize <= csize * 1032 + 64 else {
                    throw bad("entry '\(name)' says it inflates to \(usize) bytes, more than deflate can make of its \(csize) bytes")
                }
                let buf = try TensorStorage.allocate(bytes: usize, zeroed: false)
                try Zlib.inflate(UnsafeRawBufferPointer(start: f.bytes(at: dataStart), count: csize),
                                 into: UnsafeMutableRawBufferPointer(start: buf.base, count: usize), what: what)
                out[key] = try Npy.parse(MappedFile(storage: buf, path: what), at: 0, length: usize, what: what)
            default:
                throw bad("entry '\(name)' uses compression method \(method); only stored (0) and deflate (8) are supported")
            }
        }
        return out
    }
}
