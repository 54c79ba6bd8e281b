import Synchronization

/// spaCy's tokenizer cache (`Tokenizer._cache` in spacy/tokenizer.pyx: the tokens of each
/// whitespace-separated chunk, keyed by the chunk's text) over UTF-8 bytes, for
/// `SelfCheckNgram`: a chunk seen before is a hash lookup and a copy of its tokens; a new one
/// is tokenized by `SpacyTokenizer` (`chunkRanges`, which depends on the chunk's code points
/// only) and stored. Each cached token carries the id of its lower-cased text (Python's
/// `str.lower`, `PythonLower`) in `lower`, and the flags the sentencizer and the special-case
/// pass need, so none of them is computed again for a chunk seen before. The special-case
/// pass (`SpacySpecialMatcher`) runs over the whole text as in `SpacyTokenizer.ranges`, only
/// from tokens that start one of its patterns.
///
/// Not thread-safe: `withCache` lends one to a single caller at a time (a pool, so threads
/// that score at once each get their own). Its tables are dropped between calls once they
/// grow past a few MB.
final class SpacyTokenCache: @unchecked Sendable {
    /// One token: byte offsets into the tokenized text, the id of its lower-cased text in
    /// `lower`, the index of the special-case patterns that start with it (or -1), and flags.
    struct Piece: Equatable {
        var start: Int32
        var end: Int32
        var id: Int32
        var group: Int32
        var flags: UInt8
    }
    /// Every code point is whitespace (`SpacyClass.isSpace`).
    static let blank: UInt8 = 1
    /// One of the sentencizer's punctuation characters.
    static let ender: UInt8 = 2
    /// Every code point is Unicode punctuation (spaCy's `is_punct`).
    static let punct: UInt8 = 4

    private struct Entry {
        var hash: UInt64
        var start: Int32      // into arena
        var length: Int32
        var first: Int32      // into pieces
        var count: Int32
        var candidate: Bool   // a piece starts a special-case pattern
    }

    let tokenizer = SpacyTokenizer()
    /// Lower-cased token texts to ids; "<s>" and "<unk>" are `pad` and `unk`.
    private(set) var lower = TokenInterner(capacity: 1 << 13)
    private(set) var pad: Int32 = 0
    private(set) var unk: Int32 = 0
    private var slots: [Int32] = []   // entry + 1, 0 = empty
    private var mask = 0
    private var entries: [Entry] = []
    private var arena: [UInt8] = []
    private var pieces: [Piece] = []
    private var bytes: [UInt8] = []

    init() { reset() }

    private func reset() {
        lower = TokenInterner(capacity: 1 << 13)
        pad = Array("<s>".utf8).withUnsafeBufferPointer { lower.id($0) }
        unk = Array("<unk>".utf8).withUnsafeBufferPointer { lower.id($0) }
        slots = [Int32](repeating: 0, count: 1 << 14)
        mask = slots.count - 1
        entries = []
        arena = []
        pieces = []
    }

    private static let pool = Mutex<[SpacyTokenCache]>([])

    /// Runs `body` with a cache no other thread uses meanwhile.
    static func withCache<R>(_ body: (SpacyTokenCache) throws -> R) rethrows -> R {
        let cache = pool.withLock { $0.popLast() } ?? SpacyTokenCache()
        defer {
            if cache.arena.count > 4 << 20 || cache.entries.count > 1 << 18 || cache.lower.count > 1 << 19 { cache.reset() }
            pool.withLock { if $0.count < 8 { $0.append(cache) } }
        }
        return try body(cache)
    }

    /// The id of a token's lower-cased text given as a string (a caller's token).
    func id(lowering t: String) -> Int32 {
        bytes.removeAll(keepingCapacity: true)
        bytes.append(contentsOf: PythonLower.lower(t).utf8)
        return bytes.withUnsafeBufferPointer { lower.id($0) }
    }

    // MARK: tokenizing

    @inline(__always)
    private static func asciiSpace(_ c: UInt8) -> Bool {
        c == 0x20 || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F)
    }

    /// The code point at `p[i]` (valid UTF-8) and its length in bytes.
    @inline(__always)
    static func scalar(_ p: UnsafePointer<UInt8>, _ i: Int) -> (UInt32, Int) {
        let c = UInt32(p[i])
        if c < 0x80 { return (c, 1) }
        if c < 0xE0 { return ((c & 0x1F) << 6 | UInt32(p[i + 1] & 0x3F), 2) }
        if c < 0xF0 { return ((c & 0x0F) << 12 | UInt32(p[i + 1] & 0x3F) << 6 | UInt32(p[i + 2] & 0x3F), 3) }
        return ((c & 0x07) << 18 | UInt32(p[i + 1] & 0x3F) << 12 | UInt32(p[i + 2] & 0x3F) << 6 | UInt32(p[i + 3] & 0x3F), 4)
    }

    @inline(__always)
    private static func isSpace(_ v: UInt32) -> Bool {
        v < 0x80 ? asciiSpace(UInt8(v)) : Unicode.Scalar(v).map(SpacyClass.isSpace) ?? false
    }

    /// Whether the text `p[0..<n]` has whitespace (or its start) just before byte `i`.
    static func spaceBefore(_ p: UnsafePointer<UInt8>, _ i: Int) -> Bool {
        guard i > 0 else { return true }
        var j = i - 1
        while j > 0 && p[j] & 0xC0 == 0x80 { j -= 1 }
        return isSpace(scalar(p, j).0)
    }

    /// Whether the text `p[0..<n]` has whitespace (or its end) at byte `i`.
    static func spaceAt(_ p: UnsafePointer<UInt8>, _ i: Int, _ n: Int) -> Bool {
        i >= n || isSpace(scalar(p, i).0)
    }

    /// The tokens of the UTF-8 text `p[0..<n]`, as `SpacyTokenizer.ranges` gives them (here as
    /// byte offsets), in `out` (emptied first).
    func tokenize(_ p: UnsafePointer<UInt8>, _ n: Int, into out: inout [Piece]) {
        out.removeAll(keepingCapacity: true)
        guard n > 0 else { return }
        var candidates = false
        var i = 0, start = 0
        var inSpace = SpacyTokenCache.isSpace(SpacyTokenCache.scalar(p, 0).0)
        while i < n {
            let c = p[i]
            let space: Bool, width: Int
            if c < 0x80 {
                space = SpacyTokenCache.asciiSpace(c)
                width = 1
            } else {
                let (v, w) = SpacyTokenCache.scalar(p, i)
                space = SpacyTokenCache.isSpace(v)
                width = w
            }
            if space != inSpace {
                if start < i, chunk(p, start, i, &out) { candidates = true }
                start = c == 0x20 ? i + 1 : i
                inSpace.toggle()
            }
            i += width
        }
        if start < n, chunk(p, start, n, &out) { candidates = true }
        if candidates { SpacyByteMatcher.apply(p, &out, self) }
    }

    /// Appends the tokens of the chunk `p[a..<b]`; returns whether one starts a special-case pattern.
    @inline(__always)
    private func chunk(_ p: UnsafePointer<UInt8>, _ a: Int, _ b: Int, _ out: inout [Piece]) -> Bool {
        let length = b - a
        let h = hashBytes(p + a, length)
        var s = Int(truncatingIfNeeded: h) & mask
        let found: Int? = slots.withUnsafeBufferPointer { sl in
            entries.withUnsafeBufferPointer { es in
                arena.withUnsafeBufferPointer { ar in
                    while true {
                        let e = Int(sl[s])
                        if e == 0 { return nil }
                        let entry = es[e - 1]
                        if entry.hash == h && Int(entry.length) == length,
                           memcmpBytes(ar.baseAddress.map { $0 + Int(entry.start) }, p + a, length) {
                            return e - 1
                        }
                        s = (s + 1) & mask
                    }
                }
            }
        }
        let k = found ?? fill(p, a, b, h, slot: s)
        let entry = entries[k]
        let offset = Int32(a)
        pieces.withUnsafeBufferPointer { ps in
            for j in Int(entry.first)..<Int(entry.first + entry.count) {
                var piece = ps[j]
                piece.start &+= offset
                piece.end &+= offset
                out.append(piece)
            }
        }
        return entry.candidate
    }

    /// Tokenizes a chunk never seen and stores it at `slot`; returns its entry.
    private func fill(_ p: UnsafePointer<UInt8>, _ a: Int, _ b: Int, _ h: UInt64, slot: Int) -> Int {
        let text = UnsafeBufferPointer(start: p + a, count: b - a)
        let scalars = Array(String(decoding: text, as: UTF8.self).unicodeScalars)
        var offsets = [Int](repeating: 0, count: scalars.count + 1)
        for (k, u) in scalars.enumerated() { offsets[k + 1] = offsets[k] + UTF8.width(u) }
        let first = pieces.count
        var candidate = false
        for (x0, y0) in tokenizer.chunkRanges(scalars) {
            let x = Swift.min(x0, scalars.count), y = Swift.min(y0, scalars.count)
            let piece = makePiece(scalars, x, y, start: offsets[x], end: offsets[y])
            if piece.group >= 0 { candidate = true }
            pieces.append(piece)
        }
        entries.append(Entry(hash: h, start: Int32(arena.count), length: Int32(b - a), first: Int32(first),
                             count: Int32(pieces.count - first), candidate: candidate))
        arena.append(contentsOf: text)
        slots[slot] = Int32(entries.count)
        if entries.count * 2 > slots.count { grow() }
        return entries.count - 1
    }

    private func grow() {
        slots = [Int32](repeating: 0, count: slots.count * 2)
        mask = slots.count - 1
        for (k, e) in entries.enumerated() {
            var s = Int(truncatingIfNeeded: e.hash) & mask
            while slots[s] != 0 { s = (s + 1) & mask }
            slots[s] = Int32(k + 1)
        }
    }

    /// The token `s[x..<y]` at bytes `start..<end`: its lower-cased id, flags and pattern group.
    func makePiece(_ s: [Unicode.Scalar], _ x: Int, _ y: Int, start: Int, end: Int) -> Piece {
        bytes.removeAll(keepingCapacity: true)
        var ascii = true
        for i in x..<y {
            let v = s[i].value
            if v >= 128 { ascii = false; break }
            bytes.append(UInt8(v >= 65 && v <= 90 ? v + 32 : v))
        }
        if !ascii {
            bytes.removeAll(keepingCapacity: true)
            bytes.append(contentsOf: PythonLower.lower(SpacyTokenizer.string(s, x, y)).utf8)
        }
        let id = bytes.withUnsafeBufferPointer { lower.id($0) }
        var flags: UInt8 = 0
        if s[x..<y].allSatisfy(SpacyClass.isSpace) { flags |= SpacyTokenCache.blank }
        if y - x == 1 && SpacySentencizer.enderScalars.contains(s[x]) { flags |= SpacyTokenCache.ender }
        if x < y && s[x..<y].allSatisfy({ $0.properties.generalCategory.isPunctuation }) { flags |= SpacyTokenCache.punct }
        let group = SpacyByteMatcher.table.index[SpacyExceptionIndex.hash(s, x, y)] ?? -1
        return Piece(start: Int32(start), end: Int32(end), id: id, group: group, flags: flags)
    }

    /// `SpacySentencizer.sentenceStarts` over tokens with their flags.
    static func sentenceStarts(_ toks: [Piece], into starts: inout [Int]) {
        starts.removeAll(keepingCapacity: true)
        guard !toks.isEmpty else { return }
        starts.append(0)
        var seenPeriod = false
        for i in toks.indices {
            let f = toks[i].flags
            let isEnder = f & ender != 0
            if seenPeriod && !isEnder && f & punct == 0 {
                starts.append(i)
                seenPeriod = false
            } else if isEnder {
                seenPeriod = true
            }
        }
    }
}

/// `SpacySpecialMatcher.apply` over UTF-8 tokens (`SpacyTokenCache.Piece`): the same
/// patterns, matches, order and replacements; token texts compared byte by byte (equal bytes
/// of valid UTF-8 are equal code points).
enum SpacyByteMatcher {
    /// The groups of `SpacySpecialMatcher.patterns` (each pattern its tokens' UTF-8 bytes) and
    /// the group of each first token's hash.
    static let table: (index: [UInt64: Int32], groups: [[[[UInt8]]]]) = {
        var index: [UInt64: Int32] = [:], groups: [[[[UInt8]]]] = []
        for (h, patterns) in SpacySpecialMatcher.patterns {
            index[h] = Int32(groups.count)
            groups.append(patterns.map { $0.map { piece in
                var v = String.UnicodeScalarView()
                v.append(contentsOf: piece)
                return Array(String(v).utf8)
            } })
        }
        return (index, groups)
    }()

    static func apply(_ p: UnsafePointer<UInt8>, _ out: inout [SpacyTokenCache.Piece], _ cache: SpacyTokenCache) {
        let groups = table.groups
        var matches: [(start: Int, end: Int)] = []
        for i in 0..<out.count where out[i].group >= 0 {
            for pattern in groups[Int(out[i].group)] where i + pattern.count <= out.count {
                var ok = true
                for (k, piece) in pattern.enumerated() {
                    let t = out[i + k]
                    if Int(t.end - t.start) != piece.count { ok = false; break }
                    for j in 0..<piece.count where p[Int(t.start) + j] != piece[j] { ok = false; break }
                    if !ok { break }
                }
                if ok { matches.append((i, i + pattern.count)) }
            }
        }
        if matches.isEmpty { return }
        matches.sort { ($0.end - $0.start, -$0.start) > ($1.end - $1.start, -$1.start) }
        var seen = Set<Int>(), kept: [(start: Int, end: Int)] = []
        for m in matches {
            if !seen.contains(m.start) && !seen.contains(m.end - 1) { kept.append(m) }
            for t in m.start..<m.end { seen.insert(t) }
        }
        kept.sort { $0.start < $1.start }
        var result: [SpacyTokenCache.Piece] = []
        result.reserveCapacity(out.count)
        var i = 0, k = 0
        while i < out.count {
            if k < kept.count && kept[k].start == i {
                let m = kept[k]
                k += 1
                let a = Int(out[m.start].start), b = Int(out[m.end - 1].end)
                let text = String(decoding: UnsafeBufferPointer(start: p + a, count: b - a), as: UTF8.self)
                if let pieces = SpacyEnglishExceptions.table[text] {
                    let s = Array(text.unicodeScalars)
                    var offsets = [Int](repeating: 0, count: s.count + 1)
                    for (j, u) in s.enumerated() { offsets[j + 1] = offsets[j] + UTF8.width(u) }
                    var q = 0
                    for piece in pieces {
                        let x = Swift.min(q, s.count), y = Swift.min(q + piece.unicodeScalars.count, s.count)
                        result.append(cache.makePiece(s, x, y, start: a + offsets[x], end: a + offsets[y]))
                        q += piece.unicodeScalars.count
                    }
                } else {
                    result.append(contentsOf: out[m.start..<m.end])
                }
                i = m.end
            } else {
                result.append(out[i])
                i += 1
            }
        }
        out = result
    }
}
