/// Whitespace tokens as Python's `str.split()` makes them, over UTF-8 bytes, turned into
/// dense integer ids: what distinct-n, rep-n, self-BLEU, exact match and token F1 count.
///
/// Python splits on every code point for which `str.isspace()` is true: U+0009–U+000D,
/// U+001C–U+001F (the information separators, which Swift's `Character.isWhitespace` does
/// not count), U+0020, U+0085, U+00A0, U+1680, U+2000–U+200A, U+2028, U+2029, U+202F,
/// U+205F and U+3000. Splitting works on code points, never on grapheme clusters (a space
/// followed by a combining mark still separates). Bytes that are not valid UTF-8 are kept
/// inside tokens, as they are never whitespace.
public enum PythonWhitespace {
    /// Bytes of the whitespace code point starting at `p[i]` (1, 2 or 3), or 0 when none.
    @inline(__always)
    public static func length(_ p: UnsafePointer<UInt8>, _ i: Int, _ n: Int) -> Int {
        let b = p[i]
        if b < 0x80 { return (b >= 9 && b <= 13) || (b >= 28 && b <= 32) ? 1 : 0 }
        if b == 0xC2, i + 1 < n { let c = p[i + 1]; return c == 0x85 || c == 0xA0 ? 2 : 0 }
        if b == 0xE1, i + 2 < n { return p[i + 1] == 0x9A && p[i + 2] == 0x80 ? 3 : 0 }
        if b == 0xE2, i + 2 < n {
            let c = p[i + 1], d = p[i + 2]
            if c == 0x80 { return d <= 0x8A || d == 0xA8 || d == 0xA9 || d == 0xAF ? 3 : 0 }
            return c == 0x81 && d == 0x9F ? 3 : 0
        }
        if b == 0xE3, i + 2 < n { return p[i + 1] == 0x80 && p[i + 2] == 0x80 ? 3 : 0 }
        return 0
    }

    /// Whether `u` is whitespace to Python's `str.split()`.
    public static func contains(_ u: Unicode.Scalar) -> Bool {
        switch u.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    /// Calls `body(start, end)` for each token of `text[0..<n]` (byte offsets), in order.
    @inline(__always)
    public static func forEachToken(_ p: UnsafePointer<UInt8>, _ n: Int, _ body: (Int, Int) -> Void) {
        var i = 0, start = -1
        while i < n {
            let w = length(p, i, n)
            if w > 0 {
                if start >= 0 { body(start, i); start = -1 }
                i += w
            } else {
                if start < 0 { start = i }
                i += 1
            }
        }
        if start >= 0 { body(start, n) }
    }

    /// The tokens of a Swift string, as `s.split()` gives them (by code points: a combining
    /// mark after a space starts the next token, as in Python).
    public static func split(_ s: String) -> [String] {
        var copy = s, out: [String] = []
        copy.withUTF8 { b in
            guard let p = b.baseAddress else { return }
            forEachToken(p, b.count) { out.append(String(decoding: UnsafeBufferPointer(start: p + $0, count: $1 - $0), as: UTF8.self)) }
        }
        return out
    }
}

/// A 64-bit hash of bytes (8 at a time, multiply-xorshift), for the interning tables.
@inline(__always)
func hashBytes(_ p: UnsafePointer<UInt8>, _ n: Int) -> UInt64 {
    var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(n)
    var i = 0
    let raw = UnsafeRawPointer(p)
    while i + 8 <= n {
        h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
        h ^= h >> 31
        i += 8
    }
    if i < n {
        var tail: UInt64 = 0
        for k in 0..<(n - i) { tail |= UInt64(p[i + k]) << (8 * UInt64(k)) }
        h = (h ^ tail) &* 0x94D0_49BB_1331_11EB
    }
    h ^= h >> 29
    h = h &* 0xBF58_476D_1CE4_E5B9
    return h ^ (h >> 32)
}

/// Maps byte strings to dense ids 0, 1, 2, ... in order of first appearance. Open addressing
/// with linear probing over a power-of-two table; the bytes of each distinct token are kept
/// in one arena, so looking a token up allocates nothing.
public struct TokenInterner {
    private var slots: [Int32]          // id + 1, 0 = empty
    private var hashes: [UInt64] = []   // per id
    private var starts: [Int] = []      // per id, into arena
    private var lengths: [Int32] = []   // per id
    private var arena: [UInt8] = []
    private var mask: Int

    public init(capacity: Int = 1024) {
        var c = 16
        while c < capacity * 2 { c <<= 1 }
        slots = [Int32](repeating: 0, count: c)
        mask = c - 1
    }

    /// Number of distinct tokens seen.
    public var count: Int { hashes.count }

    /// Forgets every token (keeping the memory).
    public mutating func removeAll() {
        if !hashes.isEmpty { slots.withUnsafeMutableBufferPointer { $0.update(repeating: 0) } }
        hashes.removeAll(keepingCapacity: true)
        starts.removeAll(keepingCapacity: true)
        lengths.removeAll(keepingCapacity: true)
        arena.removeAll(keepingCapacity: true)
    }

    /// The id of the token `p[0..<n]`, adding it if new.
    public mutating func id(_ p: UnsafePointer<UInt8>, _ n: Int) -> Int32 {
        let h = hashBytes(p, n)
        var s = Int(truncatingIfNeeded: h) & mask
        while true {
            let e = slots[s]
            if e == 0 { break }
            let id = Int(e - 1)
            if hashes[id] == h, Int(lengths[id]) == n,
               arena.withUnsafeBufferPointer({ a in memcmpBytes(a.baseAddress.map { $0 + starts[id] }, p, n) }) {
                return Int32(id)
            }
            s = (s + 1) & mask
        }
        let id = Int32(hashes.count)
        hashes.append(h)
        starts.append(arena.count)
        lengths.append(Int32(n))
        arena.append(contentsOf: UnsafeBufferPointer(start: p, count: n))
        slots[s] = id + 1
        if hashes.count * 2 > slots.count { grow() }
        return id
    }

    /// The id of the token in `bytes` (which may be empty).
    public mutating func id(_ bytes: UnsafeBufferPointer<UInt8>) -> Int32 {
        guard let p = bytes.baseAddress else {
            var empty: UInt8 = 0
            return withUnsafePointer(to: &empty) { id($0, 0) }
        }
        return id(p, bytes.count)
    }

    /// The bytes of token `id`.
    public func bytes(_ id: Int32) -> ArraySlice<UInt8> {
        arena[starts[Int(id)]..<(starts[Int(id)] + Int(lengths[Int(id)]))]
    }

    private mutating func grow() {
        let c = slots.count * 2
        slots = [Int32](repeating: 0, count: c)
        mask = c - 1
        for id in 0..<hashes.count {
            var s = Int(truncatingIfNeeded: hashes[id]) & mask
            while slots[s] != 0 { s = (s + 1) & mask }
            slots[s] = Int32(id + 1)
        }
    }
}

@inline(__always)
func memcmpBytes(_ a: UnsafePointer<UInt8>?, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
    guard let a else { return n == 0 }
    for i in 0..<n where a[i] != b[i] { return false }
    return true
}

/// A set of n-grams of token ids, each n-gram stored as its position in an id sequence
/// the caller keeps: inserting hashes the n ids and compares ids only on equal hashes.
/// Each distinct n-gram also gets a dense id (0, 1, 2, ... in order of first insertion).
public struct NgramSet {
    private var slots: [Int32] = []   // position + 1, 0 = empty
    private var hashes: [UInt64] = []
    private var dense: [Int32] = []
    private var mask = 0
    public private(set) var count = 0
    public let n: Int

    public init(n: Int, capacity: Int = 1024) {
        self.n = n
        var c = 16
        while c < capacity * 2 { c <<= 1 }
        slots = [Int32](repeating: 0, count: c)
        hashes = [UInt64](repeating: 0, count: c)
        dense = [Int32](repeating: 0, count: c)
        mask = c - 1
    }

    /// Forgets every n-gram (keeping the memory).
    public mutating func removeAll() {
        if count > 0 { slots.withUnsafeMutableBufferPointer { $0.update(repeating: 0) } }
        count = 0
    }

    /// The hash of the n ids at `ids[at...]`.
    @inline(__always)
    static func hash(_ ids: UnsafePointer<Int32>, _ at: Int, _ n: Int) -> UInt64 {
        var h: UInt64 = 0x2545_F491_4F6C_DD1D
        for k in 0..<n {
            h = (h ^ UInt64(UInt32(bitPattern: ids[at + k]))) &* 0x9E37_79B9_7F4A_7C15
            h ^= h >> 29
        }
        return h
    }

    /// Inserts the n-gram at `ids[at..<at+n]`; returns true if it was new.
    @discardableResult
    public mutating func insert(_ ids: UnsafePointer<Int32>, at: Int) -> Bool {
        let before = count
        _ = denseID(ids, at: at)
        return count > before
    }

    /// The dense id of the n-gram at `ids[at..<at+n]`, or nil when it was never inserted.
    public func find(_ ids: UnsafePointer<Int32>, at: Int) -> Int32? {
        let h = NgramSet.hash(ids, at, n)
        var s = Int(truncatingIfNeeded: h >> 7) & mask
        while true {
            let e = slots[s]
            if e == 0 { return nil }
            if hashes[s] == h {
                let other = Int(e - 1)
                var same = true
                for k in 0..<n where ids[other + k] != ids[at + k] { same = false; break }
                if same { return dense[s] }
            }
            s = (s + 1) & mask
        }
    }

    /// The dense id of the n-gram at `ids[at..<at+n]`, inserting it if new.
    public mutating func denseID(_ ids: UnsafePointer<Int32>, at: Int) -> Int32 {
        let h = NgramSet.hash(ids, at, n)
        var s = Int(truncatingIfNeeded: h >> 7) & mask
        while true {
            let e = slots[s]
            if e == 0 { break }
            if hashes[s] == h {
                let other = Int(e - 1)
                var same = true
                for k in 0..<n where ids[other + k] != ids[at + k] { same = false; break }
                if same { return dense[s] }
            }
            s = (s + 1) & mask
        }
        let id = Int32(count)
        slots[s] = Int32(at + 1)
        hashes[s] = h
        dense[s] = id
        count += 1
        if count * 2 > slots.count { grow() }
        return id
    }

    private mutating func grow() {
        let oldSlots = slots, oldHashes = hashes, oldDense = dense
        let c = slots.count * 2
        slots = [Int32](repeating: 0, count: c)
        hashes = [UInt64](repeating: 0, count: c)
        dense = [Int32](repeating: 0, count: c)
        mask = c - 1
        for (i, e) in oldSlots.enumerated() where e != 0 {
            var s = Int(truncatingIfNeeded: oldHashes[i] >> 7) & mask
            while slots[s] != 0 { s = (s + 1) & mask }
            slots[s] = e
            hashes[s] = oldHashes[i]
            dense[s] = oldDense[i]
        }
    }
}

/// Reusable buffers for tokenizing and counting text, so a function called once per row
/// (`detect.repetition` in a reward) allocates nothing after its first calls. Not thread-safe:
/// one per Lua state or thread.
public final class WordCounter {
    public var interner = TokenInterner()
    public var ids: [Int32] = []
    var grams = NgramSet(n: 1)

    public init() {}

    /// Appends the ids of the whitespace tokens of `text` to `ids`; returns how many.
    @discardableResult
    public func appendTokens(_ text: UnsafeRawBufferPointer) -> Int {
        guard let base = text.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return 0 }
        let before = ids.count
        PythonWhitespace.forEachToken(base, text.count) { a, b in ids.append(interner.id(base + a, b - a)) }
        return ids.count - before
    }

    /// An empty n-gram set of order `n` for the current `ids`.
    func resetGrams(_ n: Int) {
        if grams.n == n { grams.removeAll() } else { grams = NgramSet(n: n, capacity: Swift.max(64, ids.count)) }
    }
}

/// Python's `str.lower()`: every code point's full lower-case mapping (SpecialCasing's
/// unconditional ones, so U+0130 becomes "i̇"), and U+03A3 (Σ) as final sigma ς where
/// CPython's `handle_capital_sigma` puts it: after a cased letter (case-ignorable code points
/// skipped) and not before one. Swift's `lowercased()` maps Σ to σ everywhere, so
/// `"ΟΔΟΣ".lowercased()` is "οδοσ" where Python gives "οδος".
public enum PythonLower {
    public static func lower(_ s: String) -> String {
        if s.utf8.allSatisfy({ $0 < 0x80 }) { return s.lowercased() }
        let u = Array(s.unicodeScalars)
        var out = String.UnicodeScalarView()
        for (i, c) in u.enumerated() {
            if c.value == 0x3A3 {
                out.append(finalSigma(u, i) ? "\u{3C2}" : "\u{3C3}")
            } else if c.isASCII {
                out.append(c.value >= 65 && c.value <= 90 ? Unicode.Scalar(c.value + 32)! : c)
            } else {
                out.append(contentsOf: c.properties.lowercaseMapping.unicodeScalars)
            }
        }
        return String(out)
    }

    /// CPython's `handle_capital_sigma`: \p{cased}\p{case-ignorable}* Σ !(\p{case-ignorable}* \p{cased}).
    static func finalSigma(_ u: [Unicode.Scalar], _ i: Int) -> Bool {
        var j = i - 1
        while j >= 0 && u[j].properties.isCaseIgnorable { j -= 1 }
        guard j >= 0 && u[j].properties.isCased else { return false }
        j = i + 1
        while j < u.count && u[j].properties.isCaseIgnorable { j += 1 }
        return j == u.count || !u[j].properties.isCased
    }
}
