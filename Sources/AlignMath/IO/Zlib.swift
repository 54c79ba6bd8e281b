import CZlib

/// zlib for the zip archives numpy writes (`.npz`): raw deflate streams in and out, and
/// the CRC-32 every zip entry carries.
enum Zlib {
    /// Inflates the raw deflate stream `src` into exactly `dst.count` bytes.
    static func inflate(_ src: UnsafeRawBufferPointer, into dst: UnsafeMutableRawBufferPointer, what: String) throws {
        var s = z_stream()
        guard inflateInit2_(&s, -15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw AlignMathError.invalidArgument("\(what): cannot start inflating")
        }
        defer { inflateEnd(&s) }
        let inBase = src.baseAddress.map { UnsafeMutablePointer(mutating: $0.assumingMemoryBound(to: Bytef.self)) }
        let outBase = dst.baseAddress?.assumingMemoryBound(to: Bytef.self)
        while true {
            // Hand zlib at most 4 GiB at a time (its counts are 32-bit); totals are 64-bit.
            let consumed = Int(s.total_in), produced = Int(s.total_out)
            if s.avail_in == 0 && consumed < src.count {
                s.next_in = inBase.map { $0 + consumed }
                s.avail_in = uInt(Swift.min(src.count - consumed, Int(UInt32.max)))
            }
            if s.avail_out == 0 && produced < dst.count {
                s.next_out = outBase.map { $0 + produced }
                s.avail_out = uInt(Swift.min(dst.count - produced, Int(UInt32.max)))
            }
            let r = CZlib.inflate(&s, Z_NO_FLUSH)
            if r == Z_STREAM_END { break }
            if r == Z_BUF_ERROR {
                if Int(s.total_out) >= dst.count {
                    throw AlignMathError.invalidArgument("\(what): deflate data holds more than the \(dst.count) bytes the archive says")
                }
                throw AlignMathError.invalidArgument("\(what): deflate data ends early")
            }
            guard r == Z_OK else {
                let m = s.msg.map { String(cString: $0) } ?? "error \(r)"
                throw AlignMathError.invalidArgument("\(what): corrupt deflate data (\(m))")
            }
        }
        guard Int(s.total_out) == dst.count else {
            throw AlignMathError.invalidArgument("\(what): deflate data gives \(s.total_out) bytes, the archive says \(dst.count)")
        }
    }

    /// CRC-32 of `count` bytes at `p`, continuing from `crc`.
    static func crc32(_ p: UnsafeRawPointer, _ count: Int, _ crc: UInt32 = 0) -> UInt32 {
        var c = uLong(crc), at = 0
        while at < count {
            let n = Swift.min(count - at, 1 << 30)
            c = CZlib.crc32(c, (p + at).assumingMemoryBound(to: Bytef.self), uInt(n))
            at += n
        }
        return UInt32(truncatingIfNeeded: c)
    }

    /// A raw deflate compressor fed in pieces; `body` receives the compressed bytes as
    /// they come.
    final class Deflater {
        private var s = z_stream()
        private var buffer = [UInt8](repeating: 0, count: 1 << 20)

        init(level: Int32 = 6) throws {
            guard deflateInit2_(&s, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
                throw AlignMathError.invalidArgument("cannot start deflate")
            }
        }

        deinit { deflateEnd(&s) }

        /// Compresses `count` bytes at `p` (`finish` for the last piece).
        func feed(_ p: UnsafeRawPointer?, _ count: Int, finish: Bool, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
            var at = 0
            repeat {
                let n = Swift.min(count - at, 1 << 30)
                s.next_in = p.map { UnsafeMutablePointer(mutating: ($0 + at).assumingMemoryBound(to: Bytef.self)) }
                s.avail_in = uInt(n)
                at += n
                let flush = finish && at == count ? Z_FINISH : Z_NO_FLUSH
                var r: Int32
                repeat {
                    r = try buffer.withUnsafeMutableBytes { out -> Int32 in
                        s.next_out = out.baseAddress?.assumingMemoryBound(to: Bytef.self)
                        s.avail_out = uInt(out.count)
                        let r = deflate(&s, flush)
                        let produced = out.count - Int(s.avail_out)
                        if produced > 0 { try body(UnsafeRawBufferPointer(rebasing: out[0..<produced])) }
                        return r
                    }
                    guard r != Z_STREAM_ERROR else { throw AlignMathError.invalidArgument("deflate failed") }
                } while s.avail_out == 0 || (flush == Z_FINISH && r != Z_STREAM_END)
            } while at < count
        }
    }
}
