import Foundation

/// Writers for named tensors: `.safetensors` (Hugging Face's layout) and `.npz` (numpy's
/// zip of `.npy` files, stored or deflated). Tensor bytes go from memory to the file with
/// no intermediate copy (a strided view is packed first).
extension Safetensors {
    /// Writes `tensors` to `path` (atomically). Names are sorted; the JSON header is padded
    /// with spaces to a multiple of 8 bytes, as the reference implementation does.
    public static func write(_ tensors: [String: Tensor], path: String) throws {
        let names = tensors.keys.sorted()
        let dense = names.map { tensors[$0].unsafelyUnwrapped.contiguous() }
        var entries: [String] = []
        var offset = 0
        for (name, t) in zip(names, dense) {
            let bytes = t.count * t.dtype.size
            entries.append("\(jsonString(name)):{\"dtype\":\"\(t.dtype.safetensorsName)\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + bytes)]}")
            offset += bytes
        }
        var header = Array(("{" + entries.joined(separator: ",") + "}").utf8)
        header += [UInt8](repeating: 0x20, count: (8 - header.count % 8) % 8)
        try AtomicFile.write(path: path) { f in
            var n = UInt64(header.count).littleEndian
            try withUnsafeBytes(of: &n) { try f.write($0.baseAddress.unsafelyUnwrapped, 8) }
            try f.write(header)
            for t in dense where t.count > 0 {
                try withExtendedLifetime(t) { try f.write(t.storage.base + t.offset * t.dtype.size, t.count * t.dtype.size) }
            }
        }
    }

    /// A JSON string literal.
    static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }
}

extension Npz {
    /// Writes `tensors` to `path` (atomically) as numpy's `savez` does (entries `name.npy`,
    /// stored), or `savez_compressed` with `compress` (deflated by zlib). ZIP64 records are
    /// added when a size or offset passes 4 GiB.
    public static func write(_ tensors: [String: Tensor], path: String, compress: Bool = false) throws {
        var central: [UInt8] = []
        var count = 0
        try AtomicFile.write(path: path) { f in
            for name in tensors.keys.sorted() {
                let t = tensors[name].unsafelyUnwrapped.contiguous()
                let header = Npy.header(t)
                let data = UnsafeRawPointer(t.storage.base + t.offset * t.dtype.size)
                let dataBytes = t.count * t.dtype.size
                let usize = header.count + dataBytes
                let fileName = Array((name + ".npy").utf8)
                let localAt = f.position
                // CRC first (one pass over memory), then the local header and the bytes.
                let crc = header.withUnsafeBytes { h in Zlib.crc32(data, dataBytes, Zlib.crc32(h.baseAddress.unsafelyUnwrapped, h.count)) }
                try f.write(localHeader(fileName, crc: crc, compressed: 0, size: usize, method: compress ? 8 : 0))
                let dataAt = f.position
                try withExtendedLifetime(t) {
                    if compress {
                        let z = try Zlib.Deflater()
                        try header.withUnsafeBytes { h in try z.feed(h.baseAddress, h.count, finish: false) { try f.write($0.baseAddress.unsafelyUnwrapped, $0.count) } }
                        try z.feed(data, dataBytes, finish: true) { try f.write($0.baseAddress.unsafelyUnwrapped, $0.count) }
                    } else {
                        try f.write(header, then: data, dataBytes)
                    }
                }
                let csize = f.position - dataAt
                if compress { try f.patch(at: localAt, localHeader(fileName, crc: crc, compressed: csize, size: usize, method: 8)) }
                central += centralEntry(fileName, crc: crc, compressed: compress ? csize : usize, size: usize,
                                        method: compress ? 8 : 0, localAt: localAt)
                count += 1
            }
            let cdAt = f.position
            try f.write(central)
            let cdSize = central.count
            let zip64 = count >= 0xffff || cdAt >= 0xffff_ffff || cdSize >= 0xffff_ffff
            if zip64 {
                let recordAt = f.position
                var r = le(0x0606_4b50, 4) + le(44, 8) + le(45, 2) + le(45, 2) + le(0, 4) + le(0, 4)
                r += le(count, 8) + le(count, 8) + le(cdSize, 8) + le(cdAt, 8)
                r += le(0x0706_4b50, 4) + le(0, 4) + le(recordAt, 8) + le(1, 4)
                try f.write(r)
            }
            var end = le(0x0605_4b50, 4) + le(0, 2) + le(0, 2)
            end += le(Swift.min(count, 0xffff), 2) + le(Swift.min(count, 0xffff), 2)
            end += le(Swift.min(cdSize, 0xffff_ffff), 4) + le(Swift.min(cdAt, 0xffff_ffff), 4) + le(0, 2)
            try f.write(end)
        }
    }

    /// Little-endian bytes of `v`.
    private static func le(_ v: Int, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }

    /// The ZIP64 extra field for sizes past 4 GiB (always written when `big`).
    private static func zip64Extra(size: Int, compressed: Int, localAt: Int?) -> [UInt8] {
        var body = le(size, 8) + le(compressed, 8)
        if let l = localAt { body += le(l, 8) }
        return le(1, 2) + le(body.count, 2) + body
    }

    /// The general-purpose flags: bit 11 (the name is UTF-8) for a name with a non-ASCII byte,
    /// as Python's zipfile sets it; without it numpy's np.load decodes the name as CP437 ("é"
    /// came back as "├⌐").
    private static func flags(_ name: [UInt8]) -> Int { name.contains { $0 >= 0x80 } ? 0x800 : 0 }

    private static func localHeader(_ name: [UInt8], crc: UInt32, compressed: Int, size: Int, method: Int) -> [UInt8] {
        // The extra field is always reserved for a large entry, so patching keeps the length.
        let big = size >= 0xffff_ffff
        let extra = big ? zip64Extra(size: size, compressed: compressed, localAt: nil) : []
        var h = le(0x0403_4b50, 4) + le(big ? 45 : 20, 2) + le(flags(name), 2) + le(method, 2) + le(0, 2) + le(0x21, 2)
        h += le(Int(crc), 4) + le(big ? 0xffff_ffff : compressed, 4) + le(big ? 0xffff_ffff : size, 4)
        h += le(name.count, 2) + le(extra.count, 2)
        return h + name + extra
    }

    private static func centralEntry(_ name: [UInt8], crc: UInt32, compressed: Int, size: Int, method: Int, localAt: Int) -> [UInt8] {
        let big = size >= 0xffff_ffff || compressed >= 0xffff_ffff || localAt >= 0xffff_ffff
        let extra = big ? zip64Extra(size: size, compressed: compressed, localAt: localAt) : []
        var h = le(0x0201_4b50, 4) + le(big ? 45 : 20, 2) + le(big ? 45 : 20, 2) + le(flags(name), 2) + le(method, 2)
        h += le(0, 2) + le(0x21, 2) + le(Int(crc), 4)
        h += le(big ? 0xffff_ffff : compressed, 4) + le(big ? 0xffff_ffff : size, 4)
        h += le(name.count, 2) + le(extra.count, 2) + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 4)
        h += le(big ? 0xffff_ffff : localAt, 4)
        return h + name + extra
    }
}
