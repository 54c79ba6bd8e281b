/// A small raw-DEFLATE decoder (RFC 1951), after Mark Adler's `puff.c`, so compressed
/// `.npz` files (`np.savez_compressed`) load without linking zlib. Canonical Huffman
/// decoding one bit at a time: simple and safe rather than fast (tens of MB/s).
struct Inflate {
    private let src: UnsafePointer<UInt8>
    private let srcCount: Int
    private var pos = 0
    private var bitBuf: UInt32 = 0
    private var bitCount = 0
    private let out: UnsafeMutablePointer<UInt8>
    private let outCapacity: Int
    private var outPos = 0

    /// Errors name the entry being decoded.
    private let what: String

    private struct Huffman {
        var count = [Int](repeating: 0, count: 16)
        var symbol: [Int]
        init(_ lengths: ArraySlice<Int>) {
            symbol = [Int](repeating: 0, count: lengths.count)
            for l in lengths { count[l] += 1 }
            var offs = [Int](repeating: 0, count: 16)
            for len in 1..<15 { offs[len + 1] = offs[len] + count[len] }
            for (s, l) in lengths.enumerated() where l != 0 { symbol[offs[l]] = s; offs[l] += 1 }
        }
    }

    private static let lengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    private static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    private static let distBase = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
    private static let distExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]
    private static let fixed: (Huffman, Huffman) = {
        var l = [Int](repeating: 8, count: 288)
        for i in 144..<256 { l[i] = 9 }
        for i in 256..<280 { l[i] = 7 }
        return (Huffman(l[...]), Huffman([Int](repeating: 5, count: 30)[...]))
    }()

    /// Decodes the raw DEFLATE stream `src` into exactly `out.count` bytes.
    static func decode(_ src: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer, what: String) throws {
        guard let s = src.baseAddress, let o = out.baseAddress else {
            if out.count == 0 { return }
            throw AlignMathError.invalidArgument("\(what): empty compressed data")
        }
        var inf = Inflate(src: s.assumingMemoryBound(to: UInt8.self), srcCount: src.count,
                          out: o.assumingMemoryBound(to: UInt8.self), outCapacity: out.count, what: what)
        try inf.run()
        guard inf.outPos == out.count else {
            throw AlignMathError.invalidArgument("\(what): inflated to \(inf.outPos) bytes, expected \(out.count)")
        }
    }

    private init(src: UnsafePointer<UInt8>, srcCount: Int, out: UnsafeMutablePointer<UInt8>, outCapacity: Int, what: String) {
        self.src = src; self.srcCount = srcCount; self.out = out; self.outCapacity = outCapacity; self.what = what
    }

    private func corrupt(_ m: String) -> AlignMathError { .invalidArgument("\(what): corrupt deflate data (\(m))") }

    private mutating func bits(_ n: Int) throws -> Int {
        while bitCount < n {
            guard pos < srcCount else { throw corrupt("unexpected end of input") }
            bitBuf |= UInt32(src[pos]) << UInt32(bitCount)
            pos += 1; bitCount += 8
        }
        let v = Int(bitBuf & ((1 << UInt32(n)) - 1))
        bitBuf >>= UInt32(n); bitCount -= n
        return v
    }

    private mutating func run() throws {
        var last = 0
        repeat {
            last = try bits(1)
            switch try bits(2) {
            case 0: try stored()
            case 1: try codes(Inflate.fixed.0, Inflate.fixed.1)
            case 2: try dynamic()
            default: throw corrupt("invalid block type")
            }
        } while last == 0
    }

    private mutating func stored() throws {
        bitBuf = 0; bitCount = 0  // skip to a byte boundary
        guard pos + 4 <= srcCount else { throw corrupt("truncated stored block") }
        let len = Int(src[pos]) | Int(src[pos + 1]) << 8
        let nlen = Int(src[pos + 2]) | Int(src[pos + 3]) << 8
        guard len == (~nlen & 0xffff) else { throw corrupt("stored block length check") }
        pos += 4
        guard pos + len <= srcCount, outPos + len <= outCapacity else { throw corrupt("stored block overruns") }
        (out + outPos).update(from: src + pos, count: len)
        pos += len; outPos += len
    }

    private mutating func decode(_ h: Huffman) throws -> Int {
        var code = 0, first = 0, index = 0
        for len in 1...15 {
            code |= try bits(1)
            let count = h.count[len]
            if code - count < first { return h.symbol[index + (code - first)] }
            index += count; first += count
            first <<= 1; code <<= 1
        }
        throw corrupt("invalid Huffman code")
    }

    private mutating func codes(_ lencode: Huffman, _ distcode: Huffman) throws {
        while true {
            var sym = try decode(lencode)
            if sym < 256 {
                guard outPos < outCapacity else { throw corrupt("output overruns expected size") }
                out[outPos] = UInt8(sym); outPos += 1
            } else if sym == 256 {
                return
            } else {
                sym -= 257
                guard sym < 29 else { throw corrupt("invalid length symbol") }
                let len = Inflate.lengthBase[sym] + (try bits(Inflate.lengthExtra[sym]))
                let dsym = try decode(distcode)
                guard dsym < 30 else { throw corrupt("invalid distance symbol") }
                let dist = Inflate.distBase[dsym] + (try bits(Inflate.distExtra[dsym]))
                guard dist <= outPos else { throw corrupt("distance too far back") }
                guard outPos + len <= outCapacity else { throw corrupt("output overruns expected size") }
                for _ in 0..<len { out[outPos] = out[outPos - dist]; outPos += 1 }
            }
        }
    }

    private mutating func dynamic() throws {
        let nlen = try bits(5) + 257, ndist = try bits(5) + 1, ncode = try bits(4) + 4
        guard nlen <= 286, ndist <= 30 else { throw corrupt("bad code counts") }
        let order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
        var lengths = [Int](repeating: 0, count: 320)
        for i in 0..<ncode { lengths[order[i]] = try bits(3) }
        let lencode = Huffman(lengths[0..<19])
        var index = 0
        while index < nlen + ndist {
            var sym = try decode(lencode)
            if sym < 16 { lengths[index] = sym; index += 1; continue }
            var len = 0
            if sym == 16 {
                guard index > 0 else { throw corrupt("repeat with no previous length") }
                len = lengths[index - 1]
                sym = 3 + (try bits(2))
            } else if sym == 17 { sym = 3 + (try bits(3)) } else { sym = 11 + (try bits(7)) }
            guard index + sym <= nlen + ndist else { throw corrupt("too many lengths") }
            for _ in 0..<sym { lengths[index] = len; index += 1 }
        }
        guard lengths[256] != 0 else { throw corrupt("no end-of-block code") }
        try codes(Huffman(lengths[0..<nlen]), Huffman(lengths[nlen..<(nlen + ndist)]))
    }
}
